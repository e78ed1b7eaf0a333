// SPDX-License-Identifier: Apache-2.0
// Differential test: madvise: MADV_DONTNEED zeroes private pages, accepted advice values, EINVAL/ENOMEM paths
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PG 4096UL

static void ma(const char *what, void *addr, size_t len, long advice)
{
	errno = 0;
	long r = syscall(SYS_madvise, addr, len, advice);
	if (r == -1)
		printf("%s: -1 %s\n", what, strerrorname_np(errno));
	else
		printf("%s: %ld\n", what, r);
}

static int page_is(const unsigned char *p, unsigned char v)
{
	for (size_t i = 0; i < PG; i++)
		if (p[i] != v)
			return 0;
	return 1;
}

static void layout(const char *label, unsigned char *p, int n)
{
	printf("  %s:", label);
	for (int i = 0; i < n; i++)
		printf(" %c", page_is(p + i * PG, 0) ? '0' : page_is(p + i * PG, 'a' + i) ? 'a' + i : '?');
	printf("\n");
}

static void refill(unsigned char *p, int n)
{
	for (int i = 0; i < n; i++)
		memset(p + i * PG, 'a' + i, PG);
}

int main(void)
{
	const long RW = PROT_READ | PROT_WRITE, PA = MAP_PRIVATE | MAP_ANONYMOUS;
	unsigned char *p = mmap(NULL, 6 * PG, RW, PA, -1, 0);
	if (p == MAP_FAILED)
		return 1;
	refill(p, 6);
	layout("filled", p, 6);

	ma("MADV_DONTNEED page 1", p + PG, PG, MADV_DONTNEED);
	layout("after", p, 6);
	ma("MADV_DONTNEED pages 3-4 with len PG+1 (rounded up)", p + 3 * PG, PG + 1, MADV_DONTNEED);
	layout("after", p, 6);
	ma("MADV_DONTNEED len 0", p, 0, MADV_DONTNEED);
	layout("after", p, 6);
	refill(p, 6);

	/* PROT_NONE pages can be dropped too; they read as zero once accessible again. */
	mprotect(p + 2 * PG, PG, PROT_NONE);
	ma("MADV_DONTNEED on a PROT_NONE page", p + 2 * PG, PG, MADV_DONTNEED);
	mprotect(p + 2 * PG, PG, RW);
	layout("after re-enabling", p, 6);
	refill(p, 6);

	/* Whole range spanning two mappings with different protections */
	mprotect(p + 5 * PG, PG, PROT_READ);
	ma("MADV_DONTNEED over RW + read-only mappings", p + 4 * PG, 2 * PG, MADV_DONTNEED);
	layout("after", p, 6);
	mprotect(p + 5 * PG, PG, RW);
	refill(p, 6);

	/* A hole in the range: ENOMEM, but mapped pages before it are still dropped. */
	munmap(p + 5 * PG, PG);
	ma("MADV_DONTNEED pages 3-5, page 5 unmapped", p + 3 * PG, 3 * PG, MADV_DONTNEED);
	layout("after", p, 5);
	refill(p, 5);

	/* MADV_FREE: contents become unspecified, but a later write sticks. */
	ma("MADV_FREE page 0", p, PG, MADV_FREE);
	p[0] = 'Q';
	printf("  write after MADV_FREE sticks: %s\n", p[0] == 'Q' ? "yes" : "no");

	/* Advice that only hints */
	const struct {
		long adv;
		const char *name;
	} hints[] = {
		{ MADV_NORMAL, "MADV_NORMAL" },	      { MADV_RANDOM, "MADV_RANDOM" },
		{ MADV_SEQUENTIAL, "MADV_SEQUENTIAL" }, { MADV_WILLNEED, "MADV_WILLNEED" },
		{ MADV_DONTFORK, "MADV_DONTFORK" },     { MADV_DOFORK, "MADV_DOFORK" },
		{ MADV_DONTDUMP, "MADV_DONTDUMP" },     { MADV_DODUMP, "MADV_DODUMP" },
		{ MADV_WIPEONFORK, "MADV_WIPEONFORK" }, { MADV_KEEPONFORK, "MADV_KEEPONFORK" },
		{ MADV_COLD, "MADV_COLD" },
	};
	refill(p + PG, 1);
	for (size_t i = 0; i < sizeof(hints) / sizeof(hints[0]); i++)
		ma(hints[i].name, p + PG, 2 * PG, hints[i].adv);
	printf("  data untouched by hints: %s\n", page_is(p + PG, 'a') ? "yes" : "no");

	/* Errors */
	ma("advice 9999", p, PG, 9999);
	ma("advice -1", p, PG, -1);
	ma("MADV_REMOVE on private anonymous memory", p, PG, MADV_REMOVE);
	ma("unaligned address", p + 1, PG, MADV_DONTNEED);
	ma("unmapped range", p + 5 * PG, PG, MADV_DONTNEED);
	ma("unmapped range, MADV_NORMAL", p + 5 * PG, PG, MADV_NORMAL);
	ma("len wrapping", p, (size_t)-PG, MADV_DONTNEED);
	ma("advice 9999 on unmapped range", p + 5 * PG, PG, 9999);

	unsigned char *s = mmap(NULL, PG, RW, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ma("MADV_WIPEONFORK on shared memory", s, PG, MADV_WIPEONFORK);
	munmap(s, PG);

	/* 64 MiB region touched sparsely, then dropped */
	size_t big = 64UL << 20;
	unsigned char *b = mmap(NULL, big, RW, PA, -1, 0);
	for (size_t off = 0; off < big; off += 1UL << 20)
		b[off] = 1;
	ma("MADV_DONTNEED 64 MiB", b, big, MADV_DONTNEED);
	int z = 1;
	for (size_t off = 0; off < big; off += 1UL << 20)
		z &= b[off] == 0;
	printf("  all touched bytes zero again: %s\n", z ? "yes" : "no");

	errno = 0;
	int lr = madvise(p, PG, 9999);
	printf("libc madvise(9999) = %d %s\n", lr, strerrorname_np(errno));
	return 0;
}
