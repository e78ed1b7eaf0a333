// SPDX-License-Identifier: Apache-2.0
// Differential test: integer division by zero dies with SIGFPE (status 136)
#include <stdio.h>

int main(void)
{
	volatile int num = 7;
	volatile int den = 0;

	printf("dividing by zero\n");
	fflush(stdout);
	num = num / den;
	printf("not reached %d\n", num);
	return 0;
}
