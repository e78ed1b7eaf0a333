// SPDX-License-Identifier: Apache-2.0
// Differential test: rseq: glibc's registration, EBUSY/EINVAL/EPERM paths, unregister and re-register
// variants: static static-pie
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/rseq.h>
#include <sys/syscall.h>
#include <unistd.h>

#define RSEQ_FLAG_UNREGISTER_ 1

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

static cpu_set_t mask;

static int cpu_ok(uint32_t cpu)
{
	return cpu < CPU_SETSIZE && CPU_ISSET(cpu, &mask);
}

static struct rseq mine __attribute__((aligned(32)));
static char misaligned_store[128] __attribute__((aligned(32)));

int main(void)
{
	if (sched_getaffinity(0, sizeof(mask), &mask) != 0) {
		printf("sched_getaffinity failed\n");
		return 1;
	}

	printf("glibc __rseq_size = %u, __rseq_flags = %u\n", __rseq_size, __rseq_flags);
	printf("glibc registered rseq: %s\n", __rseq_size > 0 ? "yes" : "no");
	if (__rseq_size == 0)
		return 0;

	struct rseq *area = (struct rseq *)((char *)__builtin_thread_pointer() + __rseq_offset);
	uint32_t len = 32; /* what glibc registers (original struct rseq size) */
	printf("area aligned to 32: %s\n", ((uintptr_t)area & 31) == 0 ? "yes" : "no");
	printf("cpu_id valid and in affinity mask: %s\n", cpu_ok(area->cpu_id) ? "yes" : "no");
	printf("cpu_id_start valid: %s\n", cpu_ok(area->cpu_id_start) ? "yes" : "no");
	printf("rseq_cs is NULL: %s\n", area->rseq_cs == 0 ? "yes" : "no");

	/* Errors while glibc's area is registered. */
	RAW("register same area again", SYS_rseq, area, len, 0, RSEQ_SIG);
	RAW("register same area, wrong sig", SYS_rseq, area, len, 0, RSEQ_SIG + 1);
	RAW("register other area", SYS_rseq, &mine, len, 0, RSEQ_SIG);
	RAW("register same area, len 64", SYS_rseq, area, 64, 0, RSEQ_SIG);
	RAW("flags 2", SYS_rseq, area, len, 2, RSEQ_SIG);
	RAW("unregister other area", SYS_rseq, &mine, len, RSEQ_FLAG_UNREGISTER_, RSEQ_SIG);
	RAW("unregister wrong len", SYS_rseq, area, 64, RSEQ_FLAG_UNREGISTER_, RSEQ_SIG);
	RAW("unregister wrong sig", SYS_rseq, area, len, RSEQ_FLAG_UNREGISTER_, RSEQ_SIG ^ 1);
	printf("still registered (re-register says EBUSY): %s\n",
	       syscall(SYS_rseq, area, len, 0, RSEQ_SIG) == -1 && errno == EBUSY ? "yes" : "no");

	/* Unregister glibc's area; the kernel resets its cpu fields. */
	RAW("unregister glibc area", SYS_rseq, area, len, RSEQ_FLAG_UNREGISTER_, RSEQ_SIG);
	printf("after unregister: cpu_id = %d, cpu_id_start = %u\n", (int)area->cpu_id, area->cpu_id_start);
	RAW("unregister again", SYS_rseq, area, len, RSEQ_FLAG_UNREGISTER_, RSEQ_SIG);

	/* Registration argument checks while nothing is registered. */
	RAW("register misaligned area", SYS_rseq, misaligned_store + 4, len, 0, RSEQ_SIG);
	RAW("register len 31", SYS_rseq, &mine, 31, 0, RSEQ_SIG);
	RAW("register len 0", SYS_rseq, &mine, 0, 0, RSEQ_SIG);
	RAW("register flags 4", SYS_rseq, &mine, len, 4, RSEQ_SIG);

	/* Register our own area: the kernel fills in the cpu fields before we run again. */
	mine.cpu_id_start = 0;
	mine.cpu_id = (uint32_t)-1; /* RSEQ_CPU_ID_UNINITIALIZED */
	mine.rseq_cs = 0;
	mine.flags = 0;
	RAW("register own area", SYS_rseq, &mine, len, 0, RSEQ_SIG);
	printf("own cpu_id valid and in affinity mask: %s\n", cpu_ok(mine.cpu_id) ? "yes" : "no");
	sched_yield();
	printf("own cpu_id still valid after sched_yield: %s\n", cpu_ok(mine.cpu_id) ? "yes" : "no");
	RAW("register own area again", SYS_rseq, &mine, len, 0, RSEQ_SIG);
	RAW("unregister own area", SYS_rseq, &mine, len, RSEQ_FLAG_UNREGISTER_, RSEQ_SIG);
	printf("own after unregister: cpu_id = %d\n", (int)mine.cpu_id);

	/* Give glibc its area back. */
	RAW("re-register glibc area", SYS_rseq, area, len, 0, RSEQ_SIG);
	printf("glibc cpu_id valid again: %s\n", cpu_ok(area->cpu_id) ? "yes" : "no");
	return 0;
}
