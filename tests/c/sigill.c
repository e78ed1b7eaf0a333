// SPDX-License-Identifier: Apache-2.0
// Differential test: __builtin_trap (ud2) dies with SIGILL (status 132)
#include <stdio.h>

int main(void)
{
	printf("executing ud2\n");
	fflush(stdout);
	__builtin_trap();
}
