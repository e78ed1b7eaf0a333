// SPDX-License-Identifier: Apache-2.0
// Differential test: rt_sigprocmask block/unblock/setmask, KILL/STOP never blocked, EINVAL/EFAULT ordering
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define BIT(s) (1ULL << ((s) - 1))

static void show(const char *what, long r, int err)
{
	if (r == -1) {
		const char *n = strerrorname_np(err);
		printf("%s = -1 %s\n", what, n ? n : "E?");
	} else {
		printf("%s = %ld\n", what, r);
	}
}

#define RAW(what, ...)                                   \
	do {                                             \
		errno = 0;                               \
		long r_ = syscall(__VA_ARGS__);          \
		show(what, r_, errno);                   \
	} while (0)

static uint64_t cur(void)
{
	uint64_t m = 0xdeadbeef;
	syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &m, 8);
	return m;
}

static void mask(const char *label)
{
	printf("  %s: mask = %#llx\n", label, (unsigned long long)cur());
}

int main(void)
{
	uint64_t set, old;

	/* Start from an empty mask whatever was inherited. */
	set = 0;
	RAW("SIG_SETMASK empty", SYS_rt_sigprocmask, SIG_SETMASK, &set, NULL, 8);
	mask("start");

	set = BIT(SIGUSR1) | BIT(SIGUSR2);
	old = 0xdeadbeef;
	RAW("SIG_BLOCK USR1|USR2", SYS_rt_sigprocmask, SIG_BLOCK, &set, &old, 8);
	printf("  old = %#llx\n", (unsigned long long)old);
	mask("after block");

	set = BIT(SIGKILL) | BIT(SIGSTOP) | BIT(SIGINT);
	RAW("SIG_BLOCK KILL|STOP|INT", SYS_rt_sigprocmask, SIG_BLOCK, &set, NULL, 8);
	mask("KILL/STOP ignored, INT added");

	set = BIT(SIGUSR1) | BIT(SIGHUP);
	RAW("SIG_UNBLOCK USR1|HUP (HUP not blocked)", SYS_rt_sigprocmask, SIG_UNBLOCK, &set, &old, 8);
	printf("  old = %#llx\n", (unsigned long long)old);
	mask("after unblock");

	set = ~0ULL;
	RAW("SIG_SETMASK all", SYS_rt_sigprocmask, SIG_SETMASK, &set, NULL, 8);
	mask("all but KILL/STOP");

	set = BIT(34) | BIT(64);
	RAW("SIG_SETMASK {34, 64}", SYS_rt_sigprocmask, SIG_SETMASK, &set, &old, 8);
	printf("  old = %#llx\n", (unsigned long long)old);
	mask("rt signals");

	/* Errors */
	set = BIT(SIGUSR2);
	RAW("how 3", SYS_rt_sigprocmask, 3, &set, NULL, 8);
	RAW("how -1", SYS_rt_sigprocmask, -1, &set, NULL, 8);
	RAW("how 99 with NULL set (how unchecked)", SYS_rt_sigprocmask, 99, NULL, &old, 8);
	RAW("sigsetsize 4", SYS_rt_sigprocmask, SIG_BLOCK, &set, NULL, 4);
	RAW("sigsetsize 16", SYS_rt_sigprocmask, SIG_BLOCK, &set, NULL, 16);
	RAW("sigsetsize 0, query only", SYS_rt_sigprocmask, SIG_BLOCK, NULL, &old, 0);
	RAW("set (void*)1", SYS_rt_sigprocmask, SIG_BLOCK, (void *)1, NULL, 8);
	RAW("how 3 and set (void*)1", SYS_rt_sigprocmask, 3, (void *)1, NULL, 8);
	RAW("oldset (void*)1, query only", SYS_rt_sigprocmask, SIG_BLOCK, NULL, (void *)1, 8);
	mask("unchanged by failures");
	set = BIT(SIGUSR2);
	RAW("SIG_BLOCK USR2 with oldset (void*)1", SYS_rt_sigprocmask, SIG_BLOCK, &set, (void *)1, 8);
	mask("USR2 blocked anyway");
	RAW("NULL, NULL", SYS_rt_sigprocmask, SIG_BLOCK, NULL, NULL, 8);

	/* glibc strips its internal signals (32, 33) from masks it is given. */
	sigset_t full;
	sigfillset(&full);
	printf("libc sigprocmask(SIG_SETMASK, full) = %d\n", sigprocmask(SIG_SETMASK, &full, NULL));
	mask("after libc full block");
	sigset_t q;
	sigprocmask(SIG_BLOCK, NULL, &q);
	printf("libc view: SIGUSR1 member %d, SIGKILL member %d, 32 member %d\n", sigismember(&q, SIGUSR1),
	       sigismember(&q, SIGKILL), sigismember(&q, 32));
	errno = 0;
	int lr = sigprocmask(7, &full, NULL);
	printf("libc sigprocmask(how 7) = %d %s\n", lr, strerrorname_np(errno));

	set = 0;
	RAW("SIG_SETMASK empty", SYS_rt_sigprocmask, SIG_SETMASK, &set, NULL, 8);
	mask("end");
	return 0;
}
