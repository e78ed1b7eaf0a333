// SPDX-License-Identifier: Apache-2.0
// Differential test: pid/tid-encoded CPU clock ids (clock_getcpuclockid, pthread_getcpuclockid) and their errors
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* Linux encoding of CPU clocks: ((~pid) << 3) | (perthread ? 4 : 0) | which */
#define CPUCLOCK_PROF 0
#define CPUCLOCK_VIRT 1
#define CPUCLOCK_SCHED 2
#define MAKE_PROCESS_CPUCLOCK(pid, clock) ((int)((unsigned)~(pid) << 3) | (clock))
#define MAKE_THREAD_CPUCLOCK(tid, clock) (MAKE_PROCESS_CPUCLOCK(tid, clock) | 4)

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

static int64_t raw_ns(clockid_t c)
{
	struct timespec t = { 0, 0 };
	if (syscall(SYS_clock_gettime, c, &t) != 0)
		return -1;
	return ns(t);
}

int main(void)
{
	clockid_t pc = -1, tc = -1;
	int r = clock_getcpuclockid(0, &pc);
	printf("clock_getcpuclockid(0) = %d, id = %d\n", r, (int)pc);
	r = clock_getcpuclockid(getpid(), &pc);
	printf("clock_getcpuclockid(getpid()) = %d, same as pid-0 encoding of own pid: %s\n", r,
	       pc == MAKE_PROCESS_CPUCLOCK(getpid(), CPUCLOCK_SCHED) ? "yes" : "no");
	r = pthread_getcpuclockid(pthread_self(), &tc);
	printf("pthread_getcpuclockid(self) = %d, encodes own tid: %s\n", r,
	       tc == MAKE_THREAD_CPUCLOCK((int)syscall(SYS_gettid), CPUCLOCK_SCHED) ? "yes" : "no");

	/* Spin a little so every CPU clock is non-zero. */
	volatile unsigned long sink = 0;
	int64_t start = raw_ns(CLOCK_MONOTONIC);
	while (raw_ns(CLOCK_MONOTONIC) - start < 30000000)
		for (int k = 0; k < 10000; k++)
			sink += (unsigned long)k;

	const struct {
		clockid_t id;
		const char *name;
	} ids[] = {
		{ MAKE_PROCESS_CPUCLOCK(0, CPUCLOCK_SCHED), "process SCHED (pid 0)" },
		{ MAKE_PROCESS_CPUCLOCK(0, CPUCLOCK_PROF), "process PROF (pid 0)" },
		{ MAKE_PROCESS_CPUCLOCK(0, CPUCLOCK_VIRT), "process VIRT (pid 0)" },
		{ MAKE_THREAD_CPUCLOCK(0, CPUCLOCK_SCHED), "thread SCHED (tid 0)" },
		{ MAKE_THREAD_CPUCLOCK(0, CPUCLOCK_PROF), "thread PROF (tid 0)" },
		{ MAKE_THREAD_CPUCLOCK(0, CPUCLOCK_VIRT), "thread VIRT (tid 0)" },
		{ pc, "process SCHED (own pid)" },
		{ tc, "thread SCHED (own tid)" },
	};
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		struct timespec t = { -1, -1 };
		errno = 0;
		long rc = syscall(SYS_clock_gettime, ids[i].id, &t);
		printf("%-24s gettime rc=%ld%s%s nsec in range: %s\n", ids[i].name, rc, rc ? " " : "",
		       rc ? strerrorname_np(errno) : "", t.tv_nsec >= 0 && t.tv_nsec < 1000000000 ? "yes" : "no");
	}

	int64_t a = raw_ns(CLOCK_PROCESS_CPUTIME_ID);
	int64_t b = raw_ns(pc);
	int64_t c = raw_ns(MAKE_PROCESS_CPUCLOCK(0, CPUCLOCK_SCHED));
	printf("PROCESS_CPUTIME_ID <= own-pid clock <= pid-0 clock: %s\n", a <= b && b <= c ? "yes" : "no");
	a = raw_ns(CLOCK_THREAD_CPUTIME_ID);
	b = raw_ns(tc);
	printf("THREAD_CPUTIME_ID <= own-tid clock: %s\n", a <= b ? "yes" : "no");
	printf("spun 30ms: process clock >= 1ms: %s\n", c >= 1000000 ? "yes" : "no");

	struct timespec res = { -1, -1 };
	RAW("clock_getres(process SCHED pid 0)", SYS_clock_getres, MAKE_PROCESS_CPUCLOCK(0, CPUCLOCK_SCHED), &res);
	printf("  res = %ld.%09ld\n", (long)res.tv_sec, res.tv_nsec);
	RAW("clock_getres(thread SCHED own tid)", SYS_clock_getres, tc, &res);
	printf("  res = %ld.%09ld\n", (long)res.tv_sec, res.tv_nsec);

	/* Invalid encodings and absent pids (0x7fffff is above PID_MAX_LIMIT). */
	struct timespec t;
	RAW("gettime(which=3, pid 0)", SYS_clock_gettime, MAKE_PROCESS_CPUCLOCK(0, 3), &t);
	RAW("gettime(thread which=3, tid 0)", SYS_clock_gettime, MAKE_THREAD_CPUCLOCK(0, 3), &t);
	RAW("gettime(process SCHED pid 0x7fffff)", SYS_clock_gettime,
	    MAKE_PROCESS_CPUCLOCK(0x7fffff, CPUCLOCK_SCHED), &t);
	RAW("gettime(thread SCHED tid 0x7fffff)", SYS_clock_gettime,
	    MAKE_THREAD_CPUCLOCK(0x7fffff, CPUCLOCK_SCHED), &t);
	RAW("getres(process SCHED pid 0x7fffff)", SYS_clock_getres,
	    MAKE_PROCESS_CPUCLOCK(0x7fffff, CPUCLOCK_SCHED), &t);
	RAW("gettime(process SCHED pid 0, (void*)1)", SYS_clock_gettime, MAKE_PROCESS_CPUCLOCK(0, CPUCLOCK_SCHED),
	    (void *)1);
	r = clock_getcpuclockid(0x7fffff, &pc);
	printf("clock_getcpuclockid(0x7fffff) = %s\n", r ? strerrorname_np(r) : "0");

	/* clock_nanosleep: absolute process-CPU-time in the past returns at once; thread clocks refuse. */
	struct timespec zero = { 0, 0 };
	RAW("clock_nanosleep(PROCESS_CPUTIME_ID, ABSTIME, 0)", SYS_clock_nanosleep, CLOCK_PROCESS_CPUTIME_ID,
	    TIMER_ABSTIME, &zero, NULL);
	RAW("clock_nanosleep(process SCHED pid 0, ABSTIME, 0)", SYS_clock_nanosleep,
	    MAKE_PROCESS_CPUCLOCK(0, CPUCLOCK_SCHED), TIMER_ABSTIME, &zero, NULL);
	RAW("clock_nanosleep(THREAD_CPUTIME_ID, ABSTIME, 0)", SYS_clock_nanosleep, CLOCK_THREAD_CPUTIME_ID,
	    TIMER_ABSTIME, &zero, NULL);
	RAW("clock_nanosleep(thread SCHED tid 0, ABSTIME, 0)", SYS_clock_nanosleep,
	    MAKE_THREAD_CPUCLOCK(0, CPUCLOCK_SCHED), TIMER_ABSTIME, &zero, NULL);
	return 0;
}
