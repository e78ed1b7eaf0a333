// SPDX-License-Identifier: Apache-2.0
// Differential test: clock_getres for the usual clocks (1ns high-res, coarse in [1ms,10ms]), EINVAL/EFAULT
#define _GNU_SOURCE
#include <errno.h>
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

int main(void)
{
	const struct {
		clockid_t id;
		const char *name;
	} hres[] = {
		{ CLOCK_REALTIME, "REALTIME" },	    { CLOCK_MONOTONIC, "MONOTONIC" },
		{ CLOCK_PROCESS_CPUTIME_ID, "PROCESS_CPUTIME_ID" },
		{ CLOCK_THREAD_CPUTIME_ID, "THREAD_CPUTIME_ID" },
		{ CLOCK_MONOTONIC_RAW, "MONOTONIC_RAW" }, { CLOCK_BOOTTIME, "BOOTTIME" },
		{ CLOCK_TAI, "TAI" },
	};
	for (size_t i = 0; i < sizeof(hres) / sizeof(hres[0]); i++) {
		struct timespec r = { -1, -1 }, l = { -1, -1 };
		long rc = syscall(SYS_clock_getres, hres[i].id, &r);
		clock_getres(hres[i].id, &l);
		printf("%-18s rc=%ld res=%ld.%09ld libc agrees: %s\n", hres[i].name, rc, (long)r.tv_sec, r.tv_nsec,
		       r.tv_sec == l.tv_sec && r.tv_nsec == l.tv_nsec ? "yes" : "no");
	}

	/* Coarse clocks tick at 1/HZ; HZ is a kernel config choice (100..1000). */
	const clockid_t coarse[] = { CLOCK_REALTIME_COARSE, CLOCK_MONOTONIC_COARSE };
	struct timespec c[2];
	for (int i = 0; i < 2; i++) {
		c[i].tv_sec = -1;
		long rc = syscall(SYS_clock_getres, coarse[i], &c[i]);
		printf("clock %d (coarse) rc=%ld res in [1ms, 10ms]: %s\n", (int)coarse[i], rc,
		       c[i].tv_sec == 0 && c[i].tv_nsec >= 1000000 && c[i].tv_nsec <= 10000000 ? "yes" : "no");
	}
	printf("both coarse clocks have the same resolution: %s\n",
	       c[0].tv_sec == c[1].tv_sec && c[0].tv_nsec == c[1].tv_nsec ? "yes" : "no");

	struct timespec t;
	RAW("clock_getres(MONOTONIC, NULL)", SYS_clock_getres, CLOCK_MONOTONIC, NULL);
	RAW("clock_getres(MONOTONIC, (void*)1)", SYS_clock_getres, CLOCK_MONOTONIC, (void *)1);
	RAW("clock_getres(10)", SYS_clock_getres, 10, &t);
	RAW("clock_getres(12345)", SYS_clock_getres, 12345, &t);
	RAW("clock_getres(12345, NULL)", SYS_clock_getres, 12345, NULL);
	RAW("clock_getres(-1)", SYS_clock_getres, -1, &t);
	RAW("clock_getres(16)", SYS_clock_getres, 16, &t);
	errno = 0;
	int lr = clock_getres(12345, &t);
	printf("libc clock_getres(12345) = %d %s\n", lr, strerrorname_np(errno));
	return 0;
}
