// SPDX-License-Identifier: Apache-2.0
// Differential test: MAP_SHARED|MAP_ANONYMOUS: zero fill, data survives MADV_DONTNEED, mprotect, partial munmap, mremap
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PG 4096UL

static int readable(const void *p)
{
	uint64_t old;
	long r = syscall(SYS_rt_sigprocmask, SIG_BLOCK, p, &old, 8);
	if (r == 0)
		syscall(SYS_rt_sigprocmask, SIG_SETMASK, &old, NULL, 8);
	return r == 0;
}

static int writable(void *p)
{
	int rd = readable(p);
	unsigned char save = rd ? *(volatile unsigned char *)p : 0;
	long r = syscall(SYS_getrandom, p, 1, GRND_NONBLOCK);
	if (r == 1)
		*(volatile unsigned char *)p = save;
	return r == 1;
}

static int mapped(void *p)
{
	return syscall(SYS_madvise, p, PG, MADV_NORMAL) == 0;
}

static const char *YN(int b)
{
	return b ? "yes" : "no";
}

static int check(const unsigned char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != (unsigned char)(i * 13 + seed))
			return 0;
	return 1;
}

static void fill(unsigned char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(i * 13 + seed);
}

int main(void)
{
	unsigned char *p = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		printf("mmap failed: %s\n", strerrorname_np(errno));
		return 1;
	}
	int zero = 1;
	for (size_t i = 0; i < 4 * PG; i++)
		if (p[i])
			zero = 0;
	printf("shared anonymous zero filled: %s\n", YN(zero));
	fill(p, 4 * PG, 1);
	printf("pattern reads back: %s\n", YN(check(p, 4 * PG, 1)));

	/* Shared anonymous memory is backed by shmem: MADV_DONTNEED drops the PTEs, not the data. */
	errno = 0;
	long r = syscall(SYS_madvise, p, 4 * PG, MADV_DONTNEED);
	printf("madvise(MADV_DONTNEED) = %ld\n", r);
	printf("data survives MADV_DONTNEED: %s\n", YN(check(p, 4 * PG, 1)));
	errno = 0;
	r = syscall(SYS_madvise, p, 4 * PG, MADV_FREE);
	printf("madvise(MADV_FREE) on shared = %ld %s\n", r, r ? strerrorname_np(errno) : "");
	r = syscall(SYS_madvise, p, 4 * PG, MADV_WILLNEED);
	printf("madvise(MADV_WILLNEED) = %ld\n", r);

	/* mprotect a shared page read-only */
	r = mprotect(p + PG, PG, PROT_READ);
	printf("mprotect(page 1, PROT_READ) = %ld\n", r);
	printf("page 1 readable: %s writable: %s; page 0 writable: %s\n", YN(readable(p + PG)), YN(writable(p + PG)),
	       YN(writable(p)));
	printf("page 1 content unchanged: %s\n", YN(check(p, 4 * PG, 1)));
	mprotect(p + PG, PG, PROT_READ | PROT_WRITE);

	/* Partial munmap: the other pages keep their data. */
	r = munmap(p + 2 * PG, PG);
	printf("munmap(page 2) = %ld, page 2 mapped: %s, page 3 mapped: %s\n", r, YN(mapped(p + 2 * PG)),
	       YN(mapped(p + 3 * PG)));
	printf("pages 0-1 intact: %s, page 3 intact: %s\n", YN(check(p, 2 * PG, 1)),
	       YN(p[3 * PG] == (unsigned char)(3 * PG * 13 + 1) && p[4 * PG - 1] == (unsigned char)((4 * PG - 1) * 13 + 1)));
	munmap(p + 3 * PG, PG);

	/*
	 * Grow back to 4 pages with MREMAP_MAYMOVE. The shmem object behind the
	 * mapping is still 4 pages long, so pages 2-3 show the object's old data
	 * again (they were only unmapped, not freed).
	 */
	unsigned char *q = mremap(p, 2 * PG, 4 * PG, MREMAP_MAYMOVE);
	printf("mremap grow 2 -> 4 pages: %s\n", q == MAP_FAILED ? strerrorname_np(errno) : "ok");
	if (q == MAP_FAILED)
		return 1;
	printf("all four pages show the original data: %s\n", YN(check(q, 4 * PG, 1)));
	fill(q, 4 * PG, 9);
	printf("whole mapping writable: %s\n", YN(check(q, 4 * PG, 9)));
	printf("munmap = %d\n", munmap(q, 4 * PG));
	return 0;
}
