// SPDX-License-Identifier: Apache-2.0
// Differential test: INT64_MIN / -1 (idiv overflow) dies with SIGFPE (status 136)
#include <stdint.h>
#include <stdio.h>

int main(void)
{
	volatile int64_t num = INT64_MIN;
	volatile int64_t den = -1;

	printf("dividing INT64_MIN by -1\n");
	fflush(stdout);
	num = num / den;
	printf("not reached %lld\n", (long long)num);
	return 0;
}
