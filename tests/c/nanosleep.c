// SPDX-License-Identifier: Apache-2.0
// Differential test: nanosleep(2): sleeps at least the request, zero sleep, EINVAL on bad timespec, EFAULT
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
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

static int64_t mono(void)
{
	struct timespec t;
	syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void sleep_check(long sec, long nsec)
{
	struct timespec req = { sec, nsec }, rem = { 77, 77 };
	int64_t t0 = mono();
	long r = syscall(SYS_nanosleep, &req, &rem);
	int64_t dt = mono() - t0;
	int64_t want = (int64_t)sec * 1000000000LL + nsec;
	printf("nanosleep(%ld.%09ld) = %ld, slept at least that: %s, under 2s extra: %s, rem untouched: %s\n", sec,
	       nsec, r, dt >= want ? "yes" : "no", dt < want + 2000000000LL ? "yes" : "no",
	       rem.tv_sec == 77 && rem.tv_nsec == 77 ? "yes" : "no");
}

int main(void)
{
	sleep_check(0, 0);
	sleep_check(0, 1);
	sleep_check(0, 10000000);
	sleep_check(0, 999999999 / 20);
	sleep_check(1, 0);

	struct timespec bad;
	bad = (struct timespec){ 0, 1000000000 };
	RAW("nanosleep(nsec = 1e9)", SYS_nanosleep, &bad, NULL);
	bad = (struct timespec){ 0, -1 };
	RAW("nanosleep(nsec = -1)", SYS_nanosleep, &bad, NULL);
	bad = (struct timespec){ -1, 0 };
	RAW("nanosleep(sec = -1)", SYS_nanosleep, &bad, NULL);
	bad = (struct timespec){ -1, 1000000000 };
	RAW("nanosleep(sec = -1, nsec = 1e9)", SYS_nanosleep, &bad, NULL);
	RAW("nanosleep(NULL, NULL)", SYS_nanosleep, NULL, NULL);
	RAW("nanosleep((void*)1, NULL)", SYS_nanosleep, (void *)1, NULL);

	char *none = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	RAW("nanosleep(req in PROT_NONE)", SYS_nanosleep, none, NULL);
	struct timespec ok = { 0, 1000 };
	/* rem is only written when the sleep is interrupted */
	RAW("nanosleep(ok, rem (void*)1)", SYS_nanosleep, &ok, (void *)1);
	RAW("nanosleep(ok, rem in PROT_NONE)", SYS_nanosleep, &ok, none);
	RAW("nanosleep(ok, rem == req)", SYS_nanosleep, &ok, &ok);
	printf("req unchanged when rem == req: %s\n", ok.tv_sec == 0 && ok.tv_nsec == 1000 ? "yes" : "no");

	/* libc wrapper */
	errno = 0;
	int lr = nanosleep(&bad, NULL);
	printf("libc nanosleep(bad) = %d %s\n", lr, strerrorname_np(errno));
	munmap(none, 4096);
	return 0;
}
