// SPDX-License-Identifier: Apache-2.0
// Differential test: gettimeofday(2) and time(2): ranges, agreement with CLOCK_REALTIME, NULL args, EFAULT
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
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

static int64_t us(struct timeval tv)
{
	return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

int main(void)
{
	struct timeval tv = { -1, -1 };
	struct timezone tz = { 12345, 12345 };
	long r = syscall(SYS_gettimeofday, &tv, &tz);
	printf("gettimeofday(&tv, &tz) = %ld\n", r);
	printf("tv_usec in [0, 1e6): %s\n", tv.tv_usec >= 0 && tv.tv_usec < 1000000 ? "yes" : "no");
	printf("tv_sec after 2020: %s\n", tv.tv_sec > 1577836800 ? "yes" : "no");
	printf("tz was written: %s\n", tz.tz_minuteswest != 12345 && tz.tz_dsttime != 12345 ? "yes" : "no");

	struct timespec rt;
	syscall(SYS_clock_gettime, CLOCK_REALTIME, &rt);
	int64_t d = (int64_t)rt.tv_sec * 1000000 + rt.tv_nsec / 1000 - us(tv);
	printf("CLOCK_REALTIME read afterwards is within [0, 1s] later: %s\n", d >= 0 && d < 1000000 ? "yes" : "no");

	/* monotonic-ish over a short sleep (wall clock could be stepped, but not in a test run) */
	struct timeval a, b;
	syscall(SYS_gettimeofday, &a, NULL);
	struct timespec s = { 0, 20000000 };
	syscall(SYS_nanosleep, &s, NULL);
	syscall(SYS_gettimeofday, &b, NULL);
	printf("advanced at least 20ms across a 20ms sleep: %s\n", us(b) - us(a) >= 20000 ? "yes" : "no");
	struct timeval l;
	gettimeofday(&l, NULL);
	printf("libc gettimeofday not behind raw: %s\n", us(l) >= us(b) ? "yes" : "no");

	RAW("gettimeofday(NULL, NULL)", SYS_gettimeofday, NULL, NULL);
	RAW("gettimeofday(NULL, &tz)", SYS_gettimeofday, NULL, &tz);
	RAW("gettimeofday((void*)1, NULL)", SYS_gettimeofday, (void *)1, NULL);
	RAW("gettimeofday(&tv, (void*)1)", SYS_gettimeofday, &tv, (void *)1);

	/* time(2) */
	time_t stored = 0;
	long t1 = syscall(SYS_time, &stored);
	printf("time(&t) stores its return value: %s\n", t1 == stored ? "yes" : "no");
	long t0 = syscall(SYS_time, NULL);
	printf("time(NULL) within 1s of gettimeofday: %s\n",
	       t0 - b.tv_sec <= 1 && b.tv_sec - t0 <= 1 ? "yes" : "no");
	printf("libc time() within 1s of time(2): %s\n", time(NULL) - t0 <= 1 ? "yes" : "no");
	RAW("time((void*)1)", SYS_time, (void *)1);
	return 0;
}
