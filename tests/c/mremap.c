// SPDX-License-Identifier: Apache-2.0
// Differential test: mremap grow in place / move / shrink / MREMAP_FIXED, contents preserved, EINVAL/ENOMEM/EFAULT
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PG 4096UL

static int mapped(void *p)
{
	return syscall(SYS_madvise, p, PG, MADV_NORMAL) == 0;
}

static const char *YN(int b)
{
	return b ? "yes" : "no";
}

static void fill(unsigned char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)((i >> 3) * 31 + seed);
}

static int check(const unsigned char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != (unsigned char)((i >> 3) * 31 + seed))
			return 0;
	return 1;
}

static int zero(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

static void *mr(const char *what, void *old, size_t os, size_t ns, long flags, void *na)
{
	errno = 0;
	void *r = (void *)syscall(SYS_mremap, old, os, ns, flags, na);
	if (r == MAP_FAILED)
		printf("%s: -1 %s\n", what, strerrorname_np(errno));
	else
		printf("%s: %s\n", what, r == old ? "same address" : r == na ? "at new_address" : "moved");
	return r;
}

int main(void)
{
	const long RW = PROT_READ | PROT_WRITE, PA = MAP_PRIVATE | MAP_ANONYMOUS;

	/* Reserve 16 pages, keep the first 2, free the rest so there is room to grow. */
	unsigned char *p = mmap(NULL, 16 * PG, RW, PA, -1, 0);
	if (p == MAP_FAILED)
		return 1;
	munmap(p + 2 * PG, 14 * PG);
	fill(p, 2 * PG, 1);

	mr("grow 2 -> 4 pages in place (no flags)", p, 2 * PG, 4 * PG, 0, NULL);
	printf("  contents kept: %s, new pages zero: %s\n", YN(check(p, 2 * PG, 1)), YN(zero(p + 2 * PG, 2 * PG)));
	fill(p, 4 * PG, 2);

	/* Block growth with a mapping right after. */
	void *wall = mmap(p + 4 * PG, PG, RW, PA | MAP_FIXED_NOREPLACE, -1, 0);
	printf("wall mapped after: %s\n", YN(wall == p + 4 * PG));
	mr("grow 4 -> 6 pages blocked, no MAYMOVE", p, 4 * PG, 6 * PG, 0, NULL);
	printf("  original still mapped and intact: %s\n", YN(check(p, 4 * PG, 2)));
	unsigned char *q = mr("grow 4 -> 6 pages with MREMAP_MAYMOVE", p, 4 * PG, 6 * PG, MREMAP_MAYMOVE, NULL);
	if (q == MAP_FAILED)
		return 1;
	printf("  contents moved: %s, tail zero: %s, old range unmapped: %s, wall intact: %s\n",
	       YN(check(q, 4 * PG, 2)), YN(zero(q + 4 * PG, 2 * PG)), YN(!mapped(p) && !mapped(p + 3 * PG)),
	       YN(mapped(wall)));
	munmap(wall, PG);

	/* Shrink in place */
	mr("shrink 6 -> 2 pages", q, 6 * PG, 2 * PG, 0, NULL);
	printf("  page 2 now unmapped: %s, data kept: %s\n", YN(!mapped(q + 2 * PG)), YN(check(q, 2 * PG, 2)));
	mr("same size", q, 2 * PG, 2 * PG, 0, NULL);
	mr("shrink with a size that is not page aligned (5000)", q, 2 * PG, 5000, 0, NULL);

	/* MREMAP_FIXED: move to a chosen address, replacing whatever is there. */
	unsigned char *dst = mmap(NULL, 4 * PG, RW, PA, -1, 0);
	memset(dst, 'Z', 4 * PG);
	unsigned char *f = mr("MREMAP_FIXED|MAYMOVE onto an existing mapping", q, 2 * PG, 3 * PG,
			      MREMAP_MAYMOVE | MREMAP_FIXED, dst);
	if (f == dst) {
		printf("  moved data present: %s, third page zero (old 'Z' gone): %s, page 3 of dst untouched: %s\n",
		       YN(check(dst, 2 * PG, 2)), YN(zero(dst + 2 * PG, PG)), YN(dst[3 * PG] == 'Z'));
		printf("  source unmapped: %s\n", YN(!mapped(q)));
	}

	/* Big move keeps every byte */
	size_t big = 4UL << 20;
	unsigned char *b = mmap(NULL, big, RW, PA, -1, 0);
	fill(b, big, 7);
	unsigned char *b2 = mr("move 4 MiB -> 8 MiB (MAYMOVE)", b, big, 2 * big, MREMAP_MAYMOVE, NULL);
	if (b2 != MAP_FAILED)
		printf("  all 4 MiB preserved: %s\n", YN(check(b2, big, 7)));

	/* Errors */
	mr("MREMAP_FIXED without MAYMOVE", dst, 2 * PG, 2 * PG, MREMAP_FIXED, b);
	mr("MREMAP_FIXED overlapping source", dst, 2 * PG, 2 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, dst + PG);
	mr("MREMAP_FIXED unaligned new_address", dst, 2 * PG, 2 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, b + 1);
	mr("unknown flag 0x80", dst, 2 * PG, 2 * PG, 0x80, NULL);
	mr("unaligned old address", dst + 1, PG, 2 * PG, MREMAP_MAYMOVE, NULL);
	mr("new_size 0", dst, 2 * PG, 0, MREMAP_MAYMOVE, NULL);
	mr("new_size wrapping", dst, 2 * PG, (size_t)-PG, MREMAP_MAYMOVE, NULL);
	mr("old range not mapped", q, PG, 2 * PG, MREMAP_MAYMOVE, NULL);
	mprotect(dst + PG, PG, PROT_READ);
	mr("old range spans two mappings", dst, 2 * PG, 4 * PG, MREMAP_MAYMOVE, NULL);
	mr("old size past the end of the mapping", dst + 3 * PG, 2 * PG, 4 * PG, MREMAP_MAYMOVE, NULL);
	printf("dst still intact after the errors: %s\n", YN(check(dst, PG, 2) && dst[3 * PG] == 'Z'));

	errno = 0;
	void *lr = mremap(dst, PG, 2 * PG, 0x80);
	printf("libc mremap(flags 0x80) = %s %s\n", lr == MAP_FAILED ? "MAP_FAILED" : "ok", strerrorname_np(errno));
	return 0;
}
