// SPDX-License-Identifier: Apache-2.0
// Differential test: rt_sigaction install/query round trips (handler, flags, restorer, mask) and EINVAL/EFAULT
// variants: static static-pie
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The kernel's struct sigaction on x86_64 */
struct ksigaction {
	void *handler;
	unsigned long flags;
	void *restorer;
	uint64_t mask;
};

#define SA_RESTORER_ 0x04000000UL
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

static void handler1(int sig)
{
	(void)sig;
}

static void handler2(int sig, siginfo_t *si, void *uc)
{
	(void)sig, (void)si, (void)uc;
}

static void restorer1(void)
{
}

static const char *hname(void *h)
{
	if (h == (void *)SIG_DFL)
		return "SIG_DFL";
	if (h == (void *)SIG_IGN)
		return "SIG_IGN";
	if (h == (void *)handler1)
		return "handler1";
	if (h == (void *)handler2)
		return "handler2";
	return "other";
}

static void query(const char *label, int sig)
{
	struct ksigaction o;
	memset(&o, 0x5a, sizeof(o));
	errno = 0;
	long r = syscall(SYS_rt_sigaction, sig, NULL, &o, 8);
	if (r != 0) {
		show(label, r, errno);
		return;
	}
	printf("%s: handler=%s flags=%#lx restorer=%s mask=%#llx\n", label, hname(o.handler), o.flags,
	       o.restorer == NULL ? "NULL" : o.restorer == (void *)restorer1 ? "restorer1" : "other",
	       (unsigned long long)o.mask);
}

int main(void)
{
	struct ksigaction a, o;

	/* Full round trip; SIGKILL and SIGSTOP are silently dropped from sa_mask. */
	a = (struct ksigaction){ (void *)handler2, SA_SIGINFO | SA_RESTART | SA_RESTORER_, (void *)restorer1,
				 BIT(SIGUSR2) | BIT(SIGKILL) | BIT(SIGSTOP) | BIT(SIGTERM) };
	RAW("rt_sigaction(SIGUSR1, handler2)", SYS_rt_sigaction, SIGUSR1, &a, NULL, 8);
	query("SIGUSR1", SIGUSR1);

	/* Replace, getting the previous action back in the same call. */
	a = (struct ksigaction){ (void *)handler1, SA_RESTORER_ | SA_NODEFER | SA_RESETHAND | SA_ONSTACK,
				 (void *)restorer1, 0 };
	memset(&o, 0, sizeof(o));
	RAW("rt_sigaction(SIGUSR1, handler1, &old)", SYS_rt_sigaction, SIGUSR1, &a, &o, 8);
	printf("old: handler=%s flags=%#lx mask=%#llx\n", hname(o.handler), o.flags, (unsigned long long)o.mask);
	query("SIGUSR1", SIGUSR1);

	/* SIG_IGN / SIG_DFL and flags that only matter for SIGCHLD */
	a = (struct ksigaction){ SIG_IGN, SA_RESTORER_, (void *)restorer1, 0 };
	RAW("rt_sigaction(SIGUSR2, SIG_IGN)", SYS_rt_sigaction, SIGUSR2, &a, NULL, 8);
	query("SIGUSR2", SIGUSR2);
	a = (struct ksigaction){ SIG_DFL, SA_NOCLDSTOP | SA_NOCLDWAIT | SA_RESTORER_, (void *)restorer1, 0 };
	RAW("rt_sigaction(SIGCHLD, SIG_DFL, NOCLDSTOP|NOCLDWAIT)", SYS_rt_sigaction, SIGCHLD, &a, NULL, 8);
	query("SIGCHLD", SIGCHLD);

	/* Without SA_RESTORER the restorer field is stored as given. */
	a = (struct ksigaction){ (void *)handler1, 0, NULL, 0 };
	RAW("rt_sigaction(SIGHUP, handler1, no SA_RESTORER)", SYS_rt_sigaction, SIGHUP, &a, NULL, 8);
	query("SIGHUP", SIGHUP);

	/* Flag bits the kernel does not know are cleared (Linux >= 5.11, SA_UNSUPPORTED probing). */
	a = (struct ksigaction){ (void *)handler1, SA_RESTORER_ | 0x400 | 0x200, (void *)restorer1, 0 };
	RAW("rt_sigaction(SIGALRM, flags with 0x400|0x200)", SYS_rt_sigaction, SIGALRM, &a, NULL, 8);
	query("SIGALRM", SIGALRM);

	/* Real-time signals, including the two glibc keeps for itself. */
	a = (struct ksigaction){ (void *)handler1, SA_RESTORER_, (void *)restorer1, BIT(64) };
	RAW("rt_sigaction(32)", SYS_rt_sigaction, 32, &a, NULL, 8);
	RAW("rt_sigaction(33)", SYS_rt_sigaction, 33, &a, NULL, 8);
	RAW("rt_sigaction(64)", SYS_rt_sigaction, 64, &a, NULL, 8);
	query("signal 64", 64);

	/* Errors */
	a = (struct ksigaction){ (void *)handler1, SA_RESTORER_, (void *)restorer1, 0 };
	RAW("set SIGKILL", SYS_rt_sigaction, SIGKILL, &a, NULL, 8);
	RAW("set SIGSTOP", SYS_rt_sigaction, SIGSTOP, &a, NULL, 8);
	struct ksigaction ign = { SIG_IGN, SA_RESTORER_, (void *)restorer1, 0 };
	RAW("set SIGKILL to SIG_IGN", SYS_rt_sigaction, SIGKILL, &ign, NULL, 8);
	query("query SIGKILL (allowed)", SIGKILL);
	query("query SIGSTOP (allowed)", SIGSTOP);
	RAW("signal 0", SYS_rt_sigaction, 0, &a, NULL, 8);
	RAW("signal 0 query", SYS_rt_sigaction, 0, NULL, &o, 8);
	RAW("signal 65", SYS_rt_sigaction, 65, &a, NULL, 8);
	RAW("signal -1", SYS_rt_sigaction, -1, &a, NULL, 8);
	RAW("sigsetsize 4", SYS_rt_sigaction, SIGUSR1, &a, NULL, 4);
	RAW("sigsetsize 16", SYS_rt_sigaction, SIGUSR1, &a, NULL, 16);
	RAW("sigsetsize 0, query only", SYS_rt_sigaction, SIGUSR1, NULL, &o, 0);
	RAW("act (void*)1", SYS_rt_sigaction, SIGUSR1, (void *)1, NULL, 8);
	RAW("NULL act, NULL oldact", SYS_rt_sigaction, SIGUSR1, NULL, NULL, 8);
	RAW("query into (void*)1", SYS_rt_sigaction, SIGUSR1, NULL, (void *)1, 8);
	/* With a bad oldact the new action is still installed before the copy-out fails. */
	a = (struct ksigaction){ (void *)handler2, SA_SIGINFO | SA_RESTORER_, (void *)restorer1, BIT(SIGINT) };
	RAW("set SIGUSR1 with oldact (void*)1", SYS_rt_sigaction, SIGUSR1, &a, (void *)1, 8);
	query("SIGUSR1 after that", SIGUSR1);
	RAW("SIGKILL with bad act", SYS_rt_sigaction, SIGKILL, (void *)1, NULL, 8);
	RAW("signal 65 with bad act", SYS_rt_sigaction, 65, (void *)1, NULL, 8);

	/* libc wrappers */
	struct sigaction la, lo;
	memset(&la, 0, sizeof(la));
	la.sa_handler = handler1;
	errno = 0;
	int lr = sigaction(SIGKILL, &la, NULL);
	printf("libc sigaction(SIGKILL) = %d %s\n", lr, strerrorname_np(errno));
	errno = 0;
	lr = sigaction(32, &la, NULL);
	printf("libc sigaction(32) (glibc-internal signal) = %d %s\n", lr, strerrorname_np(errno));
	printf("libc sigaction(SIGTERM) = %d\n", sigaction(SIGTERM, &la, &lo));
	query("SIGTERM (glibc adds SA_RESTORER)", SIGTERM);
	sighandler_t prev = signal(SIGTERM, SIG_IGN);
	printf("signal(SIGTERM, SIG_IGN) returned handler1: %s\n", prev == handler1 ? "yes" : "no");
	query("SIGTERM", SIGTERM);
	return 0;
}
