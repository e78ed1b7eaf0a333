// SPDX-License-Identifier: Apache-2.0
// Differential test: getcpu(2): cpu within the affinity mask (never printed), NULL args, EFAULT
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
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
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof(set), &set) != 0) {
		printf("sched_getaffinity failed\n");
		return 1;
	}
	unsigned cpu = 99999, node = 99999;
	long r = syscall(SYS_getcpu, &cpu, &node, NULL);
	printf("getcpu(&cpu, &node, NULL) = %ld\n", r);
	printf("cpu in affinity mask: %s\n", cpu < CPU_SETSIZE && CPU_ISSET(cpu, &set) ? "yes" : "no");
	printf("node plausible (< 1024): %s\n", node < 1024 ? "yes" : "no");

	int ok = 1;
	for (int i = 0; i < 200; i++) {
		cpu = 99999;
		if (syscall(SYS_getcpu, &cpu, NULL, NULL) != 0 || cpu >= CPU_SETSIZE || !CPU_ISSET(cpu, &set))
			ok = 0;
		if (i % 20 == 0)
			sched_yield();
	}
	printf("200 calls, always in mask: %s\n", ok ? "yes" : "no");

	int lc = sched_getcpu();
	printf("libc sched_getcpu in mask: %s\n", lc >= 0 && lc < CPU_SETSIZE && CPU_ISSET(lc, &set) ? "yes" : "no");

	RAW("getcpu(NULL, NULL, NULL)", SYS_getcpu, NULL, NULL, NULL);
	RAW("getcpu(&cpu, NULL, NULL)", SYS_getcpu, &cpu, NULL, NULL);
	RAW("getcpu(NULL, &node, NULL)", SYS_getcpu, NULL, &node, NULL);
	RAW("getcpu(&cpu, &node, (void*)1) (cache ignored)", SYS_getcpu, &cpu, &node, (void *)1);
	RAW("getcpu((void*)1, &node, NULL)", SYS_getcpu, (void *)1, &node, NULL);
	RAW("getcpu(&cpu, (void*)1, NULL)", SYS_getcpu, &cpu, (void *)1, NULL);
	return 0;
}
