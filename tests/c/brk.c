// SPDX-License-Identifier: Apache-2.0
// Differential test: brk: exact unaligned breaks, zeroed growth, shrink semantics, refusals (returns old break)
// variants: static static-pie
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
#define ALIGN_UP(x) (((x) + PG - 1) & ~(PG - 1))

static int readable(uintptr_t p)
{
	uint64_t old;
	long r = syscall(SYS_rt_sigprocmask, SIG_BLOCK, (void *)p, &old, 8);
	if (r == 0)
		syscall(SYS_rt_sigprocmask, SIG_SETMASK, &old, NULL, 8);
	return r == 0;
}

static uintptr_t brk_(uintptr_t v)
{
	return (uintptr_t)syscall(SYS_brk, v);
}

static const char *YN(int b)
{
	return b ? "yes" : "no";
}

static char outbuf[16384];

int main(void)
{
	/* No malloc from here on: stdio gets a static buffer. */
	setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));

	uintptr_t cur = brk_(0);
	printf("brk(0) returns the same value twice: %s\n", YN(brk_(0) == cur));
	/*
	 * Where the break starts relative to the binary is not checked: for
	 * static-pie with full ASLR Linux puts it at ELF_ET_DYN_BASE, below the
	 * executable.
	 */
	printf("brk(current) = current: %s\n", YN(brk_(cur) == cur));

	uintptr_t want = cur + 10000;
	uintptr_t got = brk_(want);
	printf("brk(cur + 10000) returns exactly that (not page aligned): %s\n", YN(got == want));
	unsigned char *b = (unsigned char *)cur;
	int zero = 1;
	for (size_t i = 0; i < 10000; i++)
		if (b[i])
			zero = 0;
	printf("new memory zeroed: %s\n", YN(zero));
	memset(b, 0xAA, 10000);
	printf("new memory writable: %s\n", YN(b[0] == 0xAA && b[9999] == 0xAA));
	printf("rest of the last page is mapped too: %s\n", YN(readable(ALIGN_UP(want) - 8)));
	printf("page after the break is unmapped: %s\n", YN(!readable(ALIGN_UP(want))));
	printf("brk(0) now reports cur + 10000: %s\n", YN(brk_(0) == want));

	/* Shrink: only whole pages above the new break go away. */
	uintptr_t small = cur + 100;
	got = brk_(small);
	printf("brk(cur + 100) returns exactly that: %s\n", YN(got == small));
	printf("page holding the new break still mapped: %s\n", YN(readable(ALIGN_UP(small) - 8)));
	printf("next page unmapped: %s\n", YN(!readable(ALIGN_UP(small))));

	got = brk_(want);
	printf("grow back to cur + 10000: %s\n", YN(got == want));
	printf("old bytes kept in the page holding cur + 100: %s\n", YN(*(unsigned char *)(ALIGN_UP(small) - 1) == 0xAA));
	printf("bytes in the pages that were released are zero: %s\n", YN(*(unsigned char *)ALIGN_UP(small) == 0));

	/* Large growth: 64 MiB, touched at both ends. */
	got = brk_(cur + (64UL << 20));
	printf("brk(cur + 64 MiB): %s\n", YN(got == cur + (64UL << 20)));
	if (got == cur + (64UL << 20)) {
		unsigned char *e = (unsigned char *)(cur + (64UL << 20) - 1);
		printf("last byte zero then writable: %s\n", YN(*e == 0 && (*e = 5, *e == 5)));
	}
	brk_(want);

	/* Refusals return the current break unchanged. */
	printf("brk(1) refused: %s\n", YN(brk_(1) == want));
	printf("brk(cur + 2^46) refused: %s\n", YN(brk_(cur + (1UL << 46)) == want));
	printf("brk(1<<57) refused: %s\n", YN(brk_(1UL << 57) == want));
	printf("brk(-4096) refused: %s\n", YN(brk_((uintptr_t)-4096) == want));

	/* A mapping in the way: growth must leave a one-page gap below it. */
	uintptr_t wall = ALIGN_UP(want) + 32 * PG;
	void *m = mmap((void *)wall, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	printf("mapping placed 32 pages above the break: %s\n", YN(m == (void *)wall));
	if (m == (void *)wall) {
		printf("brk past the mapping refused: %s\n", YN(brk_(wall + 2 * PG) == want));
		printf("brk up to the mapping start refused: %s\n", YN(brk_(wall) == want));
		printf("brk up to one page below the mapping refused (needs a gap): %s\n", YN(brk_(wall - PG + 1) == want));
		printf("brk ending one page below the mapping allowed: %s\n", YN(brk_(wall - PG) == wall - PG));
		munmap(m, PG);
	}

	got = brk_(cur);
	printf("back to the original break: %s\n", YN(got == cur));
	printf("sbrk(0) from libc agrees: %s\n", YN((uintptr_t)sbrk(0) == cur));
	return 0;
}
