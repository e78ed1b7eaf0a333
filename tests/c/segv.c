// SPDX-License-Identifier: Apache-2.0
// Differential test: store to address 0 dies with SIGSEGV (status 139)
// variants: static static-pie
#include <stdio.h>

int main(void)
{
	printf("storing to NULL\n");
	fflush(stdout);
	*(volatile int *)0 = 1;
	printf("not reached\n");
	return 0;
}
