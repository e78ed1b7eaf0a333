// SPDX-License-Identifier: Apache-2.0
// Differential test: division by zero with SIGFPE blocked (handler installed) still kills with SIGFPE (status 136)
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void handler(int sig)
{
	/* Never runs: a blocked synchronous fault signal is forced to the default action. */
	(void)sig;
	_exit(5);
}

int main(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	if (sigaction(SIGFPE, &sa, NULL) != 0) {
		printf("sigaction failed\n");
		return 1;
	}
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGFPE);
	if (sigprocmask(SIG_BLOCK, &set, NULL) != 0) {
		printf("sigprocmask failed\n");
		return 1;
	}
	volatile int num = 1, den = 0;
	printf("SIGFPE blocked with a handler installed; dividing by zero\n");
	fflush(stdout);
	num = num / den;
	printf("not reached %d\n", num);
	return 0;
}
