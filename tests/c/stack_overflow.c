// SPDX-License-Identifier: Apache-2.0
// Differential test: unbounded recursion past RLIMIT_STACK (lowered to 1 MiB) dies with SIGSEGV (status 139)
#include <stdio.h>
#include <sys/resource.h>

static volatile int never; /* stays 0; hides the unbounded recursion from the compiler */

__attribute__((noinline)) static int recurse(int n)
{
	volatile char pad[4096];
	if (never)
		return 0;
	pad[0] = (char)n;
	pad[4095] = (char)n;
	return recurse(n + 1) + pad[0] + pad[4095];
}

int main(void)
{
	struct rlimit rl;
	getrlimit(RLIMIT_STACK, &rl);
	rl.rlim_cur = 1 << 20;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < rl.rlim_cur)
		rl.rlim_cur = rl.rlim_max;
	printf("setrlimit(RLIMIT_STACK, 1 MiB) = %d\n", setrlimit(RLIMIT_STACK, &rl));
	printf("recursing without bound\n");
	fflush(stdout);
	return recurse(0);
}
