// SPDX-License-Identifier: Apache-2.0
// Maps argv[1] (a lower file of the root) read-only, empties it through argv[2] (the same host
// file through a read-write volume), then writes from the mapping to a pipe and touches it: the
// touch raises SIGBUS (caught here), and the program goes on.
#define _GNU_SOURCE
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

static sigjmp_buf env;
static volatile void *fault_addr;

static void on_bus(int sig, siginfo_t *si, void *ctx)
{
	(void)sig;
	(void)ctx;
	fault_addr = si->si_addr;
	siglongjmp(env, 1);
}

int main(int argc, char **argv)
{
	if (argc != 3)
		return 2;
	int fd = open(argv[1], O_RDONLY);
	char *m = mmap(NULL, 65536, PROT_READ, MAP_PRIVATE, fd, 0);
	if (m == MAP_FAILED) {
		perror("mmap");
		return 2;
	}
	printf("before: %d\n", m[100]);
	int t = open(argv[2], O_WRONLY | O_TRUNC);
	printf("emptied through the volume: %d\n", t >= 0);
	int p[2];
	pipe(p);
	/* Linux: EFAULT; runrs may copy zeroes (see docs/syscalls.md). Either way it returns. */
	long n = write(p[1], m, 8192);
	printf("write from the mapping returned: %d\n", n == 8192 || n == -1);
	struct sigaction sa = {.sa_sigaction = on_bus, .sa_flags = SA_SIGINFO};
	sigaction(SIGBUS, &sa, NULL);
	if (sigsetjmp(env, 1) == 0) {
		volatile char c = m[200];
		(void)c;
		printf("touched: no fault\n");
	} else {
		printf("touched: SIGBUS at the page: %d\n", fault_addr == m + 200);
	}
	return 0;
}
