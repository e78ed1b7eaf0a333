// SPDX-License-Identifier: Apache-2.0
// Differential test: clock_gettime for every usual clock id (relations only), EINVAL/EFAULT paths
// variants: static static-pie
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
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

static int64_t ns(struct timespec t)
{
	return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static struct timespec raw_now(clockid_t c)
{
	struct timespec t = { -1, -1 };
	syscall(SYS_clock_gettime, c, &t);
	return t;
}

static const struct {
	clockid_t id;
	const char *name;
} clocks[] = {
	{ CLOCK_REALTIME, "REALTIME" },
	{ CLOCK_MONOTONIC, "MONOTONIC" },
	{ CLOCK_PROCESS_CPUTIME_ID, "PROCESS_CPUTIME_ID" },
	{ CLOCK_THREAD_CPUTIME_ID, "THREAD_CPUTIME_ID" },
	{ CLOCK_MONOTONIC_RAW, "MONOTONIC_RAW" },
	{ CLOCK_REALTIME_COARSE, "REALTIME_COARSE" },
	{ CLOCK_MONOTONIC_COARSE, "MONOTONIC_COARSE" },
	{ CLOCK_BOOTTIME, "BOOTTIME" },
	{ CLOCK_TAI, "TAI" },
};

int main(void)
{
	for (size_t i = 0; i < sizeof(clocks) / sizeof(clocks[0]); i++) {
		struct timespec t = { -1, -1 }, l = { -1, -1 };
		errno = 0;
		long r = syscall(SYS_clock_gettime, clocks[i].id, &t);
		int e = errno;
		int lr = clock_gettime(clocks[i].id, &l);
		printf("%-18s raw=%ld%s%s libc=%d nsec in range: %s non-negative: %s\n", clocks[i].name, r,
		       r ? " " : "", r ? strerrorname_np(e) : "", lr,
		       t.tv_nsec >= 0 && t.tv_nsec < 1000000000 ? "yes" : "no", t.tv_sec >= 0 ? "yes" : "no");
	}

	/* Monotonic clocks never go backwards, across raw syscalls and libc (vDSO) reads. */
	const clockid_t mono[] = { CLOCK_MONOTONIC, CLOCK_MONOTONIC_RAW, CLOCK_BOOTTIME, CLOCK_MONOTONIC_COARSE,
				   CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID };
	for (size_t i = 0; i < sizeof(mono) / sizeof(mono[0]); i++) {
		int ok = 1;
		struct timespec prev = raw_now(mono[i]), cur;
		for (int k = 0; k < 2000; k++) {
			if (k & 1)
				cur = raw_now(mono[i]);
			else
				clock_gettime(mono[i], &cur);
			if (ns(cur) < ns(prev))
				ok = 0;
			prev = cur;
		}
		printf("clock %d non-decreasing over 2000 reads: %s\n", (int)mono[i], ok ? "yes" : "no");
	}

	/* Relations between clocks. */
	struct timespec m = raw_now(CLOCK_MONOTONIC), b = raw_now(CLOCK_BOOTTIME);
	printf("BOOTTIME >= MONOTONIC: %s\n", ns(b) >= ns(m) ? "yes" : "no");
	struct timespec mc1 = raw_now(CLOCK_MONOTONIC), mc2 = raw_now(CLOCK_MONOTONIC_COARSE);
	printf("MONOTONIC_COARSE within 100ms behind MONOTONIC: %s\n",
	       ns(mc2) <= ns(raw_now(CLOCK_MONOTONIC)) && ns(mc1) - ns(mc2) < 100000000 ? "yes" : "no");
	struct timespec rt = raw_now(CLOCK_REALTIME), rc = raw_now(CLOCK_REALTIME_COARSE);
	printf("REALTIME_COARSE within 100ms of REALTIME: %s\n",
	       ns(rt) - ns(rc) < 100000000 && ns(rc) - ns(rt) < 100000000 ? "yes" : "no");
	struct timespec tai = raw_now(CLOCK_TAI);
	int64_t off = ns(tai) - ns(raw_now(CLOCK_REALTIME));
	printf("TAI - REALTIME within [-1s, 100s]: %s\n", off > -1000000000LL && off < 100000000000LL ? "yes" : "no");
	printf("REALTIME after 2020: %s\n", rt.tv_sec > 1577836800 ? "yes" : "no");
	time_t tnow = time(NULL);
	printf("time() within 1s of REALTIME: %s\n", tnow - rt.tv_sec <= 1 && rt.tv_sec - tnow <= 1 ? "yes" : "no");

	/* CPU clocks advance when we spin. */
	struct timespec p0 = raw_now(CLOCK_PROCESS_CPUTIME_ID), t0 = raw_now(CLOCK_THREAD_CPUTIME_ID);
	volatile unsigned long sink = 0;
	struct timespec start = raw_now(CLOCK_MONOTONIC);
	while (ns(raw_now(CLOCK_MONOTONIC)) - ns(start) < 20000000)
		for (int k = 0; k < 10000; k++)
			sink += (unsigned long)k;
	struct timespec p1 = raw_now(CLOCK_PROCESS_CPUTIME_ID), t1 = raw_now(CLOCK_THREAD_CPUTIME_ID);
	printf("PROCESS_CPUTIME advanced while spinning 20ms: %s\n", ns(p1) > ns(p0) ? "yes" : "no");
	printf("THREAD_CPUTIME advanced while spinning 20ms: %s\n", ns(t1) > ns(t0) ? "yes" : "no");
	printf("thread cpu time <= process cpu time: %s\n",
	       ns(raw_now(CLOCK_THREAD_CPUTIME_ID)) <= ns(raw_now(CLOCK_PROCESS_CPUTIME_ID)) ? "yes" : "no");

	/* Error paths. */
	struct timespec t;
	RAW("clock_gettime(10)", SYS_clock_gettime, 10, &t);
	RAW("clock_gettime(12)", SYS_clock_gettime, 12, &t);
	RAW("clock_gettime(16)", SYS_clock_gettime, 16, &t);
	RAW("clock_gettime(12345)", SYS_clock_gettime, 12345, &t);
	RAW("clock_gettime(-1)", SYS_clock_gettime, -1, &t);
	RAW("clock_gettime(MONOTONIC, (void*)1)", SYS_clock_gettime, CLOCK_MONOTONIC, (void *)1);
	RAW("clock_gettime(REALTIME, NULL)", SYS_clock_gettime, CLOCK_REALTIME, NULL);
	RAW("clock_gettime(PROCESS_CPUTIME_ID, (void*)1)", SYS_clock_gettime, CLOCK_PROCESS_CPUTIME_ID, (void *)1);
	RAW("clock_gettime(12345, (void*)1)", SYS_clock_gettime, 12345, (void *)1);
	errno = 0;
	int lr = clock_gettime(12345, &t);
	printf("libc clock_gettime(12345) = %d %s\n", lr, strerrorname_np(errno));
	return 0;
}
