// SPDX-License-Identifier: Apache-2.0
// Differential test: int3 dies with SIGTRAP (status 133)
#include <stdio.h>

int main(void)
{
	printf("executing int3\n");
	fflush(stdout);
	asm volatile("int3");
	printf("not reached\n");
	return 0;
}
