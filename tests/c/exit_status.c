// SPDX-License-Identifier: Apache-2.0
// Differential test: exit status is truncated to 8 bits (exit_group(300) -> 44)
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
	printf("exit_group(300) should give status 300 & 0xff = 44\n");
	fflush(stdout);
	syscall(SYS_exit_group, 300);
	return 1;
}
