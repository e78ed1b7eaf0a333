// SPDX-License-Identifier: Apache-2.0
// Differential test: the main thread stack grows on demand (6 MiB of 64 KiB frames), data intact on unwind
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#define FRAME (64 * 1024)

__attribute__((noinline)) static uint64_t dive(int depth)
{
	volatile unsigned char buf[FRAME];
	for (size_t i = 0; i < FRAME; i += 512)
		buf[i] = (unsigned char)(depth + i / 512);
	uint64_t below = depth > 0 ? dive(depth - 1) : 0;
	uint64_t sum = 0;
	for (size_t i = 0; i < FRAME; i += 512)
		sum += buf[i] == (unsigned char)(depth + i / 512);
	return below + sum;
}

int main(void)
{
	/* 6 MiB needs RLIMIT_STACK >= ~7 MiB; raise the soft limit (never above hard) if the caller set it lower. */
	struct rlimit rl;
	getrlimit(RLIMIT_STACK, &rl);
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (32UL << 20)) {
		rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > (32UL << 20) ? (32UL << 20) : rl.rlim_max;
		setrlimit(RLIMIT_STACK, &rl);
	}
	getrlimit(RLIMIT_STACK, &rl);
	printf("stack soft limit at least 8 MiB: %s\n", rl.rlim_cur >= (8UL << 20) ? "yes" : "no");

	uint64_t got = dive(95);
	printf("96 frames of 64 KiB: %llu of %d sampled bytes intact\n", (unsigned long long)got, 96 * (FRAME / 512));

	/* A second, deeper pass reuses the already grown stack */
	got = dive(95);
	printf("second pass: %llu\n", (unsigned long long)got);

	/* One big array in a single frame */
	volatile unsigned char big[3 << 20];
	big[0] = 1;
	big[sizeof(big) - 1] = 2;
	memset((void *)big, 3, 4096);
	printf("3 MiB local array ends: %d %d\n", big[sizeof(big) - 1], big[0]);
	return 0;
}
