// SPDX-License-Identifier: Apache-2.0
// Differential test: clock_nanosleep relative and TIMER_ABSTIME on each clock, EINVAL/EOPNOTSUPP/EFAULT
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

static int64_t now(clockid_t c)
{
	struct timespec t;
	syscall(SYS_clock_gettime, c, &t);
	return ns(t);
}

static struct timespec ts(int64_t n)
{
	struct timespec t = { (time_t)(n / 1000000000LL), (long)(n % 1000000000LL) };
	return t;
}

int main(void)
{
	const struct {
		clockid_t id;
		const char *name;
	} sleepable[] = {
		{ CLOCK_REALTIME, "REALTIME" },
		{ CLOCK_MONOTONIC, "MONOTONIC" },
		{ CLOCK_BOOTTIME, "BOOTTIME" },
		{ CLOCK_TAI, "TAI" },
	};

	for (size_t i = 0; i < sizeof(sleepable) / sizeof(sleepable[0]); i++) {
		clockid_t c = sleepable[i].id;
		/* relative 15ms */
		struct timespec rel = ts(15000000), rem = { 9, 9 };
		int64_t t0 = now(c);
		long r = syscall(SYS_clock_nanosleep, c, 0, &rel, &rem);
		int64_t t1 = now(c);
		printf("%-9s relative 15ms = %ld, elapsed >= 15ms: %s, rem untouched: %s\n", sleepable[i].name, r,
		       t1 - t0 >= 15000000 ? "yes" : "no", rem.tv_sec == 9 ? "yes" : "no");

		/* absolute: 25ms from now */
		int64_t target = now(c) + 25000000;
		struct timespec abs = ts(target);
		r = syscall(SYS_clock_nanosleep, c, TIMER_ABSTIME, &abs, NULL);
		printf("%-9s absolute now+25ms = %ld, woke at or after target: %s\n", sleepable[i].name, r,
		       now(c) >= target ? "yes" : "no");

		/* absolute in the past returns at once */
		struct timespec past = ts(now(c) - 1000000000LL);
		if (past.tv_sec < 0)
			past = ts(0);
		t0 = now(CLOCK_MONOTONIC);
		r = syscall(SYS_clock_nanosleep, c, TIMER_ABSTIME, &past, NULL);
		printf("%-9s absolute in the past = %ld, returned within 1s: %s\n", sleepable[i].name, r,
		       now(CLOCK_MONOTONIC) - t0 < 1000000000LL ? "yes" : "no");
	}
	struct timespec zero = { 0, 0 };
	RAW("MONOTONIC absolute 0", SYS_clock_nanosleep, CLOCK_MONOTONIC, TIMER_ABSTIME, &zero, NULL);
	RAW("MONOTONIC relative 0", SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &zero, NULL);

	/* flags: only TIMER_ABSTIME (1) is looked at */
	struct timespec tiny = { 0, 1000 };
	RAW("MONOTONIC flags 2 (ignored, relative)", SYS_clock_nanosleep, CLOCK_MONOTONIC, 2, &tiny, NULL);
	RAW("MONOTONIC flags -1 (has TIMER_ABSTIME, past)", SYS_clock_nanosleep, CLOCK_MONOTONIC, -1, &tiny, NULL);

	/* clocks that cannot be slept on */
	RAW("MONOTONIC_RAW relative", SYS_clock_nanosleep, CLOCK_MONOTONIC_RAW, 0, &tiny, NULL);
	RAW("REALTIME_COARSE relative", SYS_clock_nanosleep, CLOCK_REALTIME_COARSE, 0, &tiny, NULL);
	RAW("MONOTONIC_COARSE relative", SYS_clock_nanosleep, CLOCK_MONOTONIC_COARSE, 0, &tiny, NULL);
	RAW("THREAD_CPUTIME_ID relative", SYS_clock_nanosleep, CLOCK_THREAD_CPUTIME_ID, 0, &tiny, NULL);
	RAW("clock 10", SYS_clock_nanosleep, 10, 0, &tiny, NULL);
	RAW("clock 12345", SYS_clock_nanosleep, 12345, 0, &tiny, NULL);
	RAW("clock -1", SYS_clock_nanosleep, -1, 0, &tiny, NULL);

	/* bad timespecs */
	struct timespec bad = { 0, 1000000000 };
	RAW("nsec = 1e9", SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &bad, NULL);
	RAW("nsec = 1e9 absolute", SYS_clock_nanosleep, CLOCK_MONOTONIC, TIMER_ABSTIME, &bad, NULL);
	bad = (struct timespec){ 0, -5 };
	RAW("nsec = -5", SYS_clock_nanosleep, CLOCK_REALTIME, 0, &bad, NULL);
	bad = (struct timespec){ -1, 0 };
	RAW("sec = -1 relative", SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &bad, NULL);
	RAW("sec = -1 absolute", SYS_clock_nanosleep, CLOCK_MONOTONIC, TIMER_ABSTIME, &bad, NULL);
	RAW("req (void*)1", SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, (void *)1, NULL);
	RAW("req NULL", SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, NULL, NULL);
	RAW("rem (void*)1, not interrupted", SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &tiny, (void *)1);
	RAW("bad clock and bad req", SYS_clock_nanosleep, 12345, 0, (void *)1, NULL);

	/* the libc wrapper returns the error number instead of setting errno */
	errno = 0;
	int lr = clock_nanosleep(12345, 0, &tiny, NULL);
	printf("libc clock_nanosleep(12345) returns %s, errno untouched: %s\n", strerrorname_np(lr),
	       errno == 0 ? "yes" : "no");
	lr = clock_nanosleep(CLOCK_MONOTONIC, 0, &tiny, NULL);
	printf("libc clock_nanosleep(MONOTONIC, 1us) returns %d\n", lr);
	return 0;
}
