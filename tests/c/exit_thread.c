// SPDX-License-Identifier: Apache-2.0
// Differential test: SYS_exit (thread exit) of the only thread ends the process with that status (7)
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
	printf("calling SYS_exit(7) from the only thread\n");
	fflush(stdout);
	syscall(SYS_exit, 7);
	printf("not reached\n");
	return 1;
}
