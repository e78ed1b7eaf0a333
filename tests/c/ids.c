// SPDX-License-Identifier: Apache-2.0
// Differential test: process identity syscalls (uid/gid/groups values, pid relations, EFAULT/EINVAL)
// variants: static static-pie
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

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

int main(void)
{
	printf("uid=%ld euid=%ld gid=%ld egid=%ld\n", syscall(SYS_getuid), syscall(SYS_geteuid),
	       syscall(SYS_getgid), syscall(SYS_getegid));
	printf("libc agrees: %s\n",
	       getuid() == (uid_t)syscall(SYS_getuid) && geteuid() == (uid_t)syscall(SYS_geteuid) &&
			       getgid() == (gid_t)syscall(SYS_getgid) &&
			       getegid() == (gid_t)syscall(SYS_getegid)
		       ? "yes"
		       : "no");

	uid_t r, e, s;
	if (syscall(SYS_getresuid, &r, &e, &s) == 0)
		printf("getresuid: %u %u %u\n", r, e, s);
	gid_t gr, ge, gs;
	if (syscall(SYS_getresgid, &gr, &ge, &gs) == 0)
		printf("getresgid: %u %u %u\n", gr, ge, gs);
	printf("real/effective match getuid/geteuid: %s\n", r == getuid() && e == geteuid() ? "yes" : "no");
	RAW("getresuid(ruid (void*)1)", SYS_getresuid, (void *)1, &e, &s);
	RAW("getresuid(euid (void*)1)", SYS_getresuid, &r, (void *)1, &s);
	RAW("getresuid(suid (void*)1)", SYS_getresuid, &r, &e, (void *)1);
	RAW("getresgid(sgid (void*)1)", SYS_getresgid, &gr, &ge, (void *)1);

	long n = syscall(SYS_getgroups, 0, NULL);
	printf("getgroups(0, NULL) = %ld\n", n);
	gid_t groups[256];
	if (n >= 0 && n <= 256) {
		long m = syscall(SYS_getgroups, 256, groups);
		printf("getgroups(256) = %ld:", m);
		for (long i = 0; i < m; i++)
			printf(" %u", groups[i]);
		printf("\n");
	}
	RAW("getgroups(-1)", SYS_getgroups, -1, groups);
	RAW("getgroups(0, (void*)1)", SYS_getgroups, 0, (void *)1);
	if (n >= 1) {
		RAW("getgroups(n-1, buf)", SYS_getgroups, n - 1, groups);
		RAW("getgroups(n, (void*)1)", SYS_getgroups, n, (void *)1);
	} else {
		/* no supplementary groups: nothing is copied, even to a bad buffer */
		RAW("getgroups(1, (void*)1) with no groups", SYS_getgroups, 1, (void *)1);
	}

	long pid = syscall(SYS_getpid), tid = syscall(SYS_gettid), ppid = syscall(SYS_getppid);
	printf("getpid > 0: %s\n", pid > 0 ? "yes" : "no");
	printf("gettid == getpid: %s\n", tid == pid ? "yes" : "no");
	printf("getppid >= 0: %s\n", ppid >= 0 ? "yes" : "no");
	printf("getppid != getpid: %s\n", ppid != pid ? "yes" : "no");
	printf("libc getpid agrees: %s\n", getpid() == pid ? "yes" : "no");
	return 0;
}
