// SPDX-License-Identifier: Apache-2.0
// Differential test: munmap: holes in mappings, rounding of length, unmapped ranges, EINVAL cases
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

static void um(const char *what, void *addr, size_t len)
{
	errno = 0;
	long r = syscall(SYS_munmap, addr, len);
	if (r == -1)
		printf("%s: -1 %s\n", what, strerrorname_np(errno));
	else
		printf("%s: %ld\n", what, r);
}

static void layout(const char *label, unsigned char *p, int n)
{
	printf("%s:", label);
	for (int i = 0; i < n; i++)
		printf(" %c", mapped(p + i * PG) ? 'M' : '.');
	printf("\n");
}

int main(void)
{
	unsigned char *p = mmap(NULL, 8 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 1;
	for (int i = 0; i < 8; i++)
		memset(p + i * PG, 'a' + i, PG);
	layout("start", p, 8);

	um("munmap pages 1-2", p + PG, 2 * PG);
	layout("after", p, 8);
	printf("page 0 and page 3 data intact: %s\n", YN(p[PG - 1] == 'a' && p[3 * PG] == 'd'));

	um("munmap page 4 with len 100 (rounded up)", p + 4 * PG, 100);
	layout("after", p, 8);

	um("munmap already-unmapped pages 1-2", p + PG, 2 * PG);
	um("munmap pages 0-5 (mixed mapped/unmapped)", p, 6 * PG);
	layout("after", p, 8);
	printf("pages 6-7 intact: %s\n", YN(p[6 * PG] == 'g' && p[8 * PG - 1] == 'h'));

	/* Splitting mappings with different protections */
	mprotect(p + 7 * PG, PG, PROT_READ);
	um("munmap page 6 (RW) leaving page 7 (R)", p + 6 * PG, PG);
	layout("after", p, 8);
	printf("page 7 data intact: %s\n", YN(p[7 * PG + 5] == 'h'));

	/* Errors */
	um("munmap unaligned address", p + 7 * PG + 1, PG);
	um("munmap len 0", p + 7 * PG, 0);
	um("munmap len -4096 (wraps)", p + 7 * PG, (size_t)-PG);
	um("munmap at 1<<57", (void *)(1UL << 57), PG);
	um("munmap in the kernel half", (void *)0xffff800000000000UL, PG);
	layout("page 7 still there", p, 8);
	um("munmap page 7", p + 7 * PG, PG);
	layout("end", p, 8);

	/* the freed range can be mapped again exactly */
	void *q = mmap(p, 8 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	printf("range reusable with MAP_FIXED_NOREPLACE: %s, zeroed: %s\n", YN(q == p),
	       YN(q == p && p[0] == 0 && p[7 * PG] == 0));
	errno = 0;
	int lr = munmap(p + 1, PG);
	printf("libc munmap(unaligned) = %d %s\n", lr, strerrorname_np(errno));
	munmap(p, 8 * PG);
	return 0;
}
