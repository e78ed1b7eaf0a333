// SPDX-License-Identifier: Apache-2.0
// Differential test: getrlimit/setrlimit/prlimit64: relations, values set here, EINVAL/EFAULT/ESRCH/EPERM
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
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

static const char *const names[RLIM_NLIMITS] = {
	"CPU", "FSIZE", "DATA", "STACK", "CORE", "RSS", "NPROC", "NOFILE",
	"MEMLOCK", "AS", "LOCKS", "SIGPENDING", "MSGQUEUE", "NICE", "RTPRIO", "RTTIME",
};

static void fmt(char *buf, size_t n, rlim_t v)
{
	if (v == RLIM_INFINITY)
		snprintf(buf, n, "unlimited");
	else
		snprintf(buf, n, "%llu", (unsigned long long)v);
}

int main(void)
{
	struct rlimit rl, rl2;
	long r;

	printf("RLIM_NLIMITS = %d\n", RLIM_NLIMITS);
	for (int i = 0; i < RLIM_NLIMITS; i++) {
		r = syscall(SYS_prlimit64, 0, i, NULL, &rl);
		long r2 = syscall(SYS_getrlimit, i, &rl2);
		printf("%-10s prlimit64=%ld getrlimit=%ld soft<=hard: %s agree: %s\n", names[i], r, r2,
		       rl.rlim_cur <= rl.rlim_max ? "yes" : "no",
		       rl.rlim_cur == rl2.rlim_cur && rl.rlim_max == rl2.rlim_max ? "yes" : "no");
	}

	/* Values we set ourselves (always lowering, which needs no privilege). */
	char a[32], b[32];
	getrlimit(RLIMIT_CORE, &rl);
	struct rlimit core = { 0, rl.rlim_max };
	RAW("setrlimit(CORE, soft 0)", SYS_setrlimit, RLIMIT_CORE, &core);
	getrlimit(RLIMIT_CORE, &rl2);
	fmt(a, sizeof(a), rl2.rlim_cur);
	printf("CORE soft now %s, hard unchanged: %s\n", a, rl2.rlim_max == rl.rlim_max ? "yes" : "no");

	getrlimit(RLIMIT_FSIZE, &rl);
	if (rl.rlim_max >= 1000000) {
		struct rlimit fs = { 123456, 1000000 };
		struct rlimit old;
		RAW("prlimit64(0, FSIZE, {123456,1000000}, &old)", SYS_prlimit64, 0, RLIMIT_FSIZE, &fs, &old);
		printf("old FSIZE equals getrlimit before: %s\n",
		       old.rlim_cur == rl.rlim_cur && old.rlim_max == rl.rlim_max ? "yes" : "no");
		getrlimit(RLIMIT_FSIZE, &rl2);
		fmt(a, sizeof(a), rl2.rlim_cur);
		fmt(b, sizeof(b), rl2.rlim_max);
		printf("FSIZE now %s/%s\n", a, b);
		struct rlimit up = { 1000000, 1000000 };
		RAW("raise FSIZE soft to hard", SYS_setrlimit, RLIMIT_FSIZE, &up);
		struct rlimit over = { 1000001, 1000000 };
		RAW("FSIZE soft > hard", SYS_setrlimit, RLIMIT_FSIZE, &over);
		RAW("prlimit64 FSIZE soft > hard", SYS_prlimit64, 0, RLIMIT_FSIZE, &over, NULL);
		struct rlimit lower = { 1000, 999 };
		RAW("FSIZE soft 1000 > hard 999", SYS_setrlimit, RLIMIT_FSIZE, &lower);
		getrlimit(RLIMIT_FSIZE, &rl2);
		fmt(a, sizeof(a), rl2.rlim_cur);
		fmt(b, sizeof(b), rl2.rlim_max);
		printf("FSIZE after failures %s/%s\n", a, b);
	} else {
		printf("FSIZE hard limit below 1000000: skipped\n");
	}

	/* Same-process pid forms. */
	RAW("prlimit64(getpid(), NOFILE, NULL, &rl)", SYS_prlimit64, getpid(), RLIMIT_NOFILE, NULL, &rl);
	RAW("prlimit64(gettid(), NOFILE, NULL, &rl)", SYS_prlimit64, syscall(SYS_gettid), RLIMIT_NOFILE, NULL, &rl);
	RAW("prlimit64(0x3fffffff, ...)", SYS_prlimit64, 0x3fffffff, RLIMIT_NOFILE, NULL, &rl);
	RAW("prlimit64(-1, ...)", SYS_prlimit64, -1, RLIMIT_NOFILE, NULL, &rl);
	RAW("prlimit64(0, NOFILE, NULL, NULL)", SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, NULL);

	/* Bad resources. */
	RAW("getrlimit(16)", SYS_getrlimit, RLIM_NLIMITS, &rl);
	RAW("getrlimit(999)", SYS_getrlimit, 999, &rl);
	RAW("getrlimit(-1)", SYS_getrlimit, -1, &rl);
	RAW("setrlimit(16)", SYS_setrlimit, RLIM_NLIMITS, &rl);
	RAW("prlimit64(0, 16, NULL, &rl)", SYS_prlimit64, 0, RLIM_NLIMITS, NULL, &rl);

	/* Bad pointers. */
	RAW("getrlimit(NOFILE, (void*)1)", SYS_getrlimit, RLIMIT_NOFILE, (void *)1);
	RAW("setrlimit(NOFILE, (void*)1)", SYS_setrlimit, RLIMIT_NOFILE, (void *)1);
	RAW("prlimit64(0, NOFILE, (void*)1, NULL)", SYS_prlimit64, 0, RLIMIT_NOFILE, (void *)1, NULL);
	RAW("prlimit64(0, NOFILE, NULL, (void*)1)", SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, (void *)1);

	/* NOFILE above fs.nr_open is EPERM even for root (checked before privileges). */
	struct rlimit huge = { 1UL << 40, 1UL << 40 };
	RAW("setrlimit(NOFILE, 2^40)", SYS_setrlimit, RLIMIT_NOFILE, &huge);

	/* The libc wrapper reports the same. */
	errno = 0;
	r = setrlimit(RLIMIT_FSIZE, &(struct rlimit){ 2, 1 });
	printf("libc setrlimit soft>hard = %ld %s\n", r, strerrorname_np(errno));
	return 0;
}
