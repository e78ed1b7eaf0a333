// SPDX-License-Identifier: Apache-2.0
// Differential test: exit_group(42) after buffered output; exit status must be 42
// variants: static static-pie
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
	printf("about to exit_group(42)\n");
	fflush(stdout);
	syscall(SYS_exit_group, 42);
	printf("not reached\n");
	return 1;
}
