// SPDX-License-Identifier: Apache-2.0
// Differential test: privileged instruction (hlt) in user mode raises #GP -> SIGSEGV (status 139)
#include <stdio.h>

int main(void)
{
	printf("executing hlt\n");
	fflush(stdout);
	asm volatile("hlt");
	printf("not reached\n");
	return 0;
}
