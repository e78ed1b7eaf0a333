// SPDX-License-Identifier: Apache-2.0
// Differential test: large anonymous mappings (1 GiB untouched/sparse, 64 GiB PROT_NONE reservation), many small mappings
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PG 4096UL
#define GiB (1UL << 30)
#define MiB (1UL << 20)

int main(void)
{
	/* 1 GiB, never touched */
	unsigned char *p = mmap(NULL, GiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	printf("mmap 1 GiB RW: %s\n", p == MAP_FAILED ? strerrorname_np(errno) : "ok");
	if (p == MAP_FAILED)
		return 1;
	printf("munmap 1 GiB untouched = %d\n", munmap(p, GiB));

	/* 1 GiB, touched every 16 MiB */
	p = mmap(NULL, GiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	printf("mmap 1 GiB again: %s\n", p == MAP_FAILED ? strerrorname_np(errno) : "ok");
	if (p == MAP_FAILED)
		return 1;
	int zero = 1, ok = 1;
	for (size_t off = 0; off < GiB; off += 16 * MiB) {
		zero &= p[off] == 0 && p[off + 16 * MiB - 1] == 0;
		p[off] = (unsigned char)(off >> 24);
		p[off + 16 * MiB - 1] = 0x5a;
	}
	for (size_t off = 0; off < GiB; off += 16 * MiB)
		ok &= p[off] == (unsigned char)(off >> 24) && p[off + 16 * MiB - 1] == 0x5a;
	printf("sparse touches: zero before: %s, values stick: %s\n", zero ? "yes" : "no", ok ? "yes" : "no");
	printf("munmap = %d\n", munmap(p, GiB));

	/* Reserve 64 GiB of address space, commit 8 MiB in the middle with mprotect */
	size_t res = 64 * GiB;
	unsigned char *r = mmap(NULL, res, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	printf("reserve 64 GiB PROT_NONE: %s\n", r == MAP_FAILED ? strerrorname_np(errno) : "ok");
	if (r != MAP_FAILED) {
		unsigned char *mid = r + 32 * GiB;
		printf("mprotect 8 MiB in the middle RW = %d\n", mprotect(mid, 8 * MiB, PROT_READ | PROT_WRITE));
		memset(mid, 0x11, 8 * MiB);
		printf("committed part usable: %s\n", mid[0] == 0x11 && mid[8 * MiB - 1] == 0x11 ? "yes" : "no");
		/* and the end of the reservation */
		printf("mprotect last page RW = %d\n", mprotect(r + res - PG, PG, PROT_READ | PROT_WRITE));
		r[res - 1] = 7;
		printf("last byte: %d\n", r[res - 1]);
		printf("munmap 64 GiB = %d\n", munmap(r, res));
	}

	/* Many small mappings with alternating protections (no merging), then unmap them all */
	static unsigned char *many[2000];
	int made = 0;
	for (int i = 0; i < 2000; i++) {
		many[i] = mmap(NULL, PG, (i & 1) ? PROT_READ : PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (many[i] == MAP_FAILED)
			break;
		made++;
	}
	printf("2000 one-page mappings created: %d\n", made);
	int wr = 1;
	for (int i = 0; i < made; i += 2) {
		many[i][0] = (unsigned char)i;
		wr &= many[i][0] == (unsigned char)i;
	}
	printf("writable ones hold their values: %s\n", wr ? "yes" : "no");
	int un = 0;
	for (int i = 0; i < made; i++)
		un += munmap(many[i], PG) == 0;
	printf("unmapped: %d\n", un);
	return 0;
}
