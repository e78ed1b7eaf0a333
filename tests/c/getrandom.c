// SPDX-License-Identifier: Apache-2.0
// Differential test: getrandom(2): flag combinations, sizes, EINVAL/EFAULT, partial copy into a short buffer
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef GRND_INSECURE
#define GRND_INSECURE 0x0004
#endif

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

static int all_zero(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

int main(void)
{
	unsigned char a[64], b[64];
	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));

	const struct {
		unsigned flags;
		const char *name;
	} ok[] = {
		{ 0, "0" },
		{ GRND_NONBLOCK, "GRND_NONBLOCK" },
		{ GRND_RANDOM, "GRND_RANDOM" },
		{ GRND_RANDOM | GRND_NONBLOCK, "GRND_RANDOM|GRND_NONBLOCK" },
		{ GRND_INSECURE, "GRND_INSECURE" },
		{ GRND_INSECURE | GRND_NONBLOCK, "GRND_INSECURE|GRND_NONBLOCK" },
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		memset(a, 0, sizeof(a));
		errno = 0;
		long r = syscall(SYS_getrandom, a, 32, ok[i].flags);
		printf("getrandom(32, %s) = %ld, not all zero: %s, rest untouched: %s\n", ok[i].name, r,
		       all_zero(a, 32) ? "no" : "yes", all_zero(a + 32, 32) ? "yes" : "no");
	}

	syscall(SYS_getrandom, a, sizeof(a), 0);
	syscall(SYS_getrandom, b, sizeof(b), 0);
	printf("two 64-byte draws differ: %s\n", memcmp(a, b, sizeof(a)) ? "yes" : "no");

	RAW("getrandom(buf, 0, 0)", SYS_getrandom, a, 0, 0);
	RAW("getrandom(NULL, 0, 0)", SYS_getrandom, NULL, 0, 0);
	RAW("getrandom((void*)1, 0, 0)", SYS_getrandom, (void *)1, 0, 0);
	RAW("getrandom(buf, 1, 0)", SYS_getrandom, a, 1, 0);

	/* 1 MiB in one call */
	size_t big = 1 << 20;
	unsigned char *m = mmap(NULL, big + 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED) {
		printf("mmap failed\n");
		return 1;
	}
	long r = syscall(SYS_getrandom, m, big, 0);
	printf("getrandom(1 MiB) = %ld, last 64 bytes not all zero: %s\n", r, all_zero(m + big - 64, 64) ? "no" : "yes");

	/* invalid flags */
	RAW("flags 0x100", SYS_getrandom, a, 16, 0x100);
	RAW("flags 0x8", SYS_getrandom, a, 16, 0x8);
	RAW("flags -1", SYS_getrandom, a, 16, -1);
	RAW("GRND_INSECURE|GRND_RANDOM", SYS_getrandom, a, 16, GRND_INSECURE | GRND_RANDOM);
	RAW("flags 0x100 with bad buffer", SYS_getrandom, (void *)1, 16, 0x100);

	/* bad buffers */
	RAW("getrandom((void*)1, 16, 0)", SYS_getrandom, (void *)1, 16, 0);
	RAW("getrandom(NULL, 16, 0)", SYS_getrandom, NULL, 16, 0);
	mprotect(m + big, 4096, PROT_READ);
	RAW("getrandom(read-only page, 16)", SYS_getrandom, m + big, 16, 0);
	mprotect(m + big, 4096, PROT_NONE);
	RAW("getrandom(PROT_NONE page, 16)", SYS_getrandom, m + big, 16, 0);

	/* Straddling into a PROT_NONE page: the bytes that fit are copied and counted. */
	memset(m + big - 8, 0, 8);
	RAW("getrandom(8 writable + 8 PROT_NONE)", SYS_getrandom, m + big - 8, 16, 0);
	RAW("getrandom(1 writable + 4095 PROT_NONE)", SYS_getrandom, m + big - 1, 4096, 0);

	/* libc wrapper */
	errno = 0;
	ssize_t lr = getrandom(a, 16, 0x100);
	printf("libc getrandom(flags 0x100) = %zd %s\n", lr, strerrorname_np(errno));
	lr = getrandom(a, 16, GRND_NONBLOCK);
	printf("libc getrandom(16, GRND_NONBLOCK) = %zd\n", lr);
	munmap(m, big + 4096);
	return 0;
}
