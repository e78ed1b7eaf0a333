// SPDX-License-Identifier: Apache-2.0
// Differential test: int3 with SIGTRAP set to SIG_IGN still kills with SIGTRAP (status 133)
#include <signal.h>
#include <stdio.h>

int main(void)
{
	if (signal(SIGTRAP, SIG_IGN) == SIG_ERR) {
		printf("signal failed\n");
		return 1;
	}
	printf("SIGTRAP ignored; executing int3\n");
	fflush(stdout);
	asm volatile("int3");
	printf("not reached\n");
	return 0;
}
