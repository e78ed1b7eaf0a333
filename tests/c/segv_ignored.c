// SPDX-License-Identifier: Apache-2.0
// Differential test: a fault with SIGSEGV ignored and blocked still kills with SIGSEGV (status 139)
#include <signal.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGSEGV, &sa, NULL) != 0) {
		printf("sigaction failed\n");
		return 1;
	}
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGSEGV);
	if (sigprocmask(SIG_BLOCK, &set, NULL) != 0) {
		printf("sigprocmask failed\n");
		return 1;
	}
	printf("SIGSEGV ignored and blocked; reading address 8\n");
	fflush(stdout);
	volatile int *volatile bad = (volatile int *)8;
	int v = *bad;
	printf("not reached %d\n", v);
	return 0;
}
