// SPDX-License-Identifier: Apache-2.0
// Differential test: sched_yield and sched_getaffinity: sizes, pids, EINVAL/EFAULT/ESRCH
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
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
	RAW("sched_yield()", SYS_sched_yield);
	int ok = 1;
	for (int i = 0; i < 1000; i++)
		if (syscall(SYS_sched_yield) != 0)
			ok = 0;
	printf("1000 more sched_yield all 0: %s\n", ok ? "yes" : "no");

	cpu_set_t set;
	memset(&set, 0xff, sizeof(set));
	long r = syscall(SYS_sched_getaffinity, 0, sizeof(set), &set);
	/* The raw syscall returns the kernel's cpumask size, which depends on the host's CPU count. */
	printf("raw sched_getaffinity returns a positive multiple of 8 <= 128: %s\n",
	       r > 0 && r % 8 == 0 && r <= (long)sizeof(set) ? "yes" : "no");
	long ksize = r;
	int count = CPU_COUNT_S((size_t)ksize, &set);
	printf("CPUs in mask: %d\n", count);
	printf("at least one CPU: %s\n", count >= 1 ? "yes" : "no");

	cpu_set_t libc_set;
	int lr = sched_getaffinity(0, sizeof(libc_set), &libc_set);
	printf("libc sched_getaffinity = %d, CPU_COUNT agrees: %s\n", lr, CPU_COUNT(&libc_set) == count ? "yes" : "no");

	cpu_set_t s2;
	r = syscall(SYS_sched_getaffinity, getpid(), sizeof(s2), &s2);
	printf("sched_getaffinity(getpid()) same size and mask: %s\n",
	       r == ksize && CPU_EQUAL_S((size_t)ksize, &s2, &set) ? "yes" : "no");
	r = syscall(SYS_sched_getaffinity, syscall(SYS_gettid), sizeof(s2), &s2);
	printf("sched_getaffinity(gettid()) same size and mask: %s\n",
	       r == ksize && CPU_EQUAL_S((size_t)ksize, &s2, &set) ? "yes" : "no");

	/* A larger buffer still returns the kernel's size. */
	static unsigned char bigbuf[8192];
	r = syscall(SYS_sched_getaffinity, 0, sizeof(bigbuf), bigbuf);
	printf("8 KiB buffer returns the same size: %s\n", r == ksize ? "yes" : "no");

	RAW("len 0", SYS_sched_getaffinity, 0, 0, &set);
	RAW("len 4 (not a multiple of long)", SYS_sched_getaffinity, 0, 4, &set);
	RAW("len 7", SYS_sched_getaffinity, 0, 7, &set);
	RAW("len 9", SYS_sched_getaffinity, 0, 9, &set);
	RAW("mask (void*)1", SYS_sched_getaffinity, 0, sizeof(set), (void *)1);
	RAW("mask NULL", SYS_sched_getaffinity, 0, sizeof(set), NULL);
	RAW("pid 0x3fffffff", SYS_sched_getaffinity, 0x3fffffff, sizeof(set), &set);
	RAW("pid -1", SYS_sched_getaffinity, -1, sizeof(set), &set);
	RAW("pid 0x3fffffff, len 4", SYS_sched_getaffinity, 0x3fffffff, 4, &set);

	char *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	RAW("mask in read-only page", SYS_sched_getaffinity, 0, sizeof(set), ro);
	munmap(ro, 4096);
	return 0;
}
