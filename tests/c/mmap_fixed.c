// SPDX-License-Identifier: Apache-2.0
// Differential test: MAP_FIXED replaces/splits mappings, MAP_FIXED_NOREPLACE (EEXIST), EINVAL/ENOMEM on bad addresses
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

/* Prints "exact" when the mapping landed at addr, never the address itself. */
static void *fx(const char *what, void *addr, size_t len, long prot, long flags)
{
	errno = 0;
	void *p = (void *)syscall(SYS_mmap, addr, len, prot, flags, -1, 0);
	if (p == MAP_FAILED)
		printf("%s: -1 %s\n", what, strerrorname_np(errno));
	else
		printf("%s: %s\n", what, p == addr ? "exact" : "elsewhere");
	return p;
}

static int page_is(const unsigned char *p, unsigned char v)
{
	for (size_t i = 0; i < PG; i++)
		if (p[i] != v)
			return 0;
	return 1;
}

int main(void)
{
	const long RW = PROT_READ | PROT_WRITE, PA = MAP_PRIVATE | MAP_ANONYMOUS;

	unsigned char *r = mmap(NULL, 10 * PG, PROT_NONE, PA, -1, 0);
	if (r == MAP_FAILED)
		return 1;
	fx("MAP_FIXED 10 RW pages over PROT_NONE reservation", r, 10 * PG, RW, PA | MAP_FIXED);
	memset(r, 'A', 10 * PG);

	/* Replace one page in the middle: it comes back zeroed, neighbours untouched. */
	fx("MAP_FIXED page 2", r + 2 * PG, PG, RW, PA | MAP_FIXED);
	printf("page 2 zeroed: %s, pages 1 and 3 still 'A': %s\n", YN(page_is(r + 2 * PG, 0)),
	       YN(page_is(r + PG, 'A') && page_is(r + 3 * PG, 'A')));

	/* Replace with a different protection: splits the mapping. */
	fx("MAP_FIXED page 4 PROT_READ", r + 4 * PG, PG, PROT_READ, PA | MAP_FIXED);
	printf("page 4 readable: %s writable: %s zero: %s; page 5 writable: %s\n", YN(readable(r + 4 * PG)),
	       YN(writable(r + 4 * PG)), YN(page_is(r + 4 * PG, 0)), YN(writable(r + 5 * PG)));

	/* MAP_FIXED_NOREPLACE */
	fx("MAP_FIXED_NOREPLACE on an occupied page", r + 6 * PG, PG, RW, PA | MAP_FIXED_NOREPLACE);
	printf("page 6 untouched: %s\n", YN(page_is(r + 6 * PG, 'A')));
	munmap(r + 8 * PG, 2 * PG);
	fx("MAP_FIXED_NOREPLACE overlapping the end (pages 7-8)", r + 7 * PG, 2 * PG, RW, PA | MAP_FIXED_NOREPLACE);
	printf("page 8 still unmapped: %s\n", YN(!mapped(r + 8 * PG)));
	fx("MAP_FIXED_NOREPLACE on the free page 8", r + 8 * PG, PG, RW, PA | MAP_FIXED_NOREPLACE);
	printf("page 8 zero: %s\n", YN(page_is(r + 8 * PG, 0)));
	fx("MAP_FIXED|MAP_FIXED_NOREPLACE on occupied", r + 8 * PG, PG, RW, PA | MAP_FIXED | MAP_FIXED_NOREPLACE);
	fx("MAP_FIXED_NOREPLACE unaligned", r + 9 * PG + 1, PG, RW, PA | MAP_FIXED_NOREPLACE);
	fx("MAP_FIXED_NOREPLACE free page 9, unaligned length", r + 9 * PG, 100, RW, PA | MAP_FIXED_NOREPLACE);

	/* MAP_FIXED errors */
	fx("MAP_FIXED unaligned address", r + 1, PG, RW, PA | MAP_FIXED);
	fx("MAP_FIXED unaligned (2048)", r + 2048, PG, RW, PA | MAP_FIXED);
	fx("MAP_FIXED at 1<<57 (beyond any user address space)", (void *)(1UL << 57), PG, RW, PA | MAP_FIXED);
	fx("MAP_FIXED straddling the top of a 56-bit space", (void *)((1UL << 56) - PG), 2 * PG, RW, PA | MAP_FIXED);
	fx("MAP_FIXED in the kernel half", (void *)0xffff800000000000UL, PG, RW, PA | MAP_FIXED);
	fx("MAP_FIXED len 0", r, 0, RW, PA | MAP_FIXED);
	fx("MAP_FIXED len wrapping", r, (size_t)-PG, RW, PA | MAP_FIXED);
	printf("page 0 still 'A' after the failures: %s\n", YN(page_is(r, 'A')));

	/* MAP_FIXED over the whole range including the hole at 9 */
	fx("MAP_FIXED over pages 0-9 (spans several mappings)", r, 10 * PG, PROT_READ, PA | MAP_FIXED);
	int z = 1;
	for (int i = 0; i < 10; i++)
		z &= page_is(r + i * PG, 0) && readable(r + i * PG) && !writable(r + i * PG);
	printf("all ten pages zero and read-only: %s\n", YN(z));
	printf("munmap = %d\n", munmap(r, 10 * PG));
	return 0;
}
