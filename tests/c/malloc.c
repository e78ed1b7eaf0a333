// SPDX-License-Identifier: Apache-2.0
// Differential test: glibc malloc end to end (brk arena, mmap'd chunks, realloc via mremap, calloc zeroing, free)
// variants: static static-pie
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t rng = 12345;

static uint32_t next(void)
{
	rng = rng * 1103515245u + 12345u;
	return rng >> 8;
}

static void fill(unsigned char *p, size_t n, uint32_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(seed + i * 7);
}

static int check(const unsigned char *p, size_t n, uint32_t seed)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != (unsigned char)(seed + i * 7))
			return 0;
	return 1;
}

int main(void)
{
	/* Many small allocations from the brk heap, freed in a scrambled order. */
	enum { N = 5000 };
	static unsigned char *ptr[N];
	static size_t len[N];
	for (int i = 0; i < N; i++) {
		len[i] = 1 + next() % 2000;
		ptr[i] = malloc(len[i]);
		if (!ptr[i]) {
			printf("malloc failed at %d\n", i);
			return 1;
		}
		fill(ptr[i], len[i], (uint32_t)i);
	}
	int ok = 1;
	for (int i = 0; i < N; i++)
		ok &= check(ptr[i], len[i], (uint32_t)i);
	printf("5000 small blocks hold their data: %s\n", ok ? "yes" : "no");
	for (int i = 0; i < N; i += 2)
		free(ptr[i]);
	for (int i = 0; i < N; i += 2) {
		len[i] = 1 + next() % 4000;
		ptr[i] = malloc(len[i]);
		fill(ptr[i], len[i], (uint32_t)i * 3);
	}
	ok = 1;
	for (int i = 0; i < N; i++)
		ok &= check(ptr[i], len[i], (uint32_t)(i % 2 ? i : i * 3));
	printf("after free/reuse, all blocks intact: %s\n", ok ? "yes" : "no");
	for (int i = N - 1; i >= 0; i--)
		free(ptr[i]);

	/* calloc must return zeroed memory, including recycled chunks. */
	unsigned char *d = malloc(100000);
	memset(d, 0xff, 100000);
	free(d);
	unsigned char *c = calloc(100000, 1);
	int z = 1;
	for (size_t i = 0; i < 100000; i++)
		z &= c[i] == 0;
	printf("calloc(100000) zeroed after a dirty free: %s\n", z ? "yes" : "no");
	free(c);

	/* Large blocks (above the mmap threshold) and realloc growth of them (mremap). */
	size_t big = 8 << 20;
	unsigned char *b = malloc(big);
	fill(b, big, 99);
	unsigned char *b2 = realloc(b, 64 << 20);
	printf("realloc 8 MiB -> 64 MiB keeps data: %s\n", b2 && check(b2, big, 99) ? "yes" : "no");
	memset(b2 + big, 0x33, (64 << 20) - big);
	b2 = realloc(b2, 1 << 20);
	printf("realloc down to 1 MiB keeps the prefix: %s\n", b2 && check(b2, 1 << 20, 99) ? "yes" : "no");
	free(b2);

	/* Heap growth well beyond the initial arena */
	size_t total = 0;
	unsigned char *chain[64];
	for (int i = 0; i < 64; i++) {
		chain[i] = malloc(100 << 10);
		fill(chain[i], 100 << 10, (uint32_t)i + 7);
		total += 100 << 10;
	}
	ok = 1;
	for (int i = 0; i < 64; i++)
		ok &= check(chain[i], 100 << 10, (uint32_t)i + 7);
	printf("64 x 100 KiB (%zu bytes) intact: %s\n", total, ok ? "yes" : "no");
	for (int i = 0; i < 64; i++)
		free(chain[i]);

	/* aligned allocations */
	void *a = NULL;
	int pr = posix_memalign(&a, 4096, 12345);
	printf("posix_memalign(4096) = %d, aligned: %s\n", pr, ((uintptr_t)a & 4095) == 0 ? "yes" : "no");
	free(a);
	void *m = memalign(1 << 16, 1 << 20);
	printf("memalign(64 KiB) aligned: %s\n", ((uintptr_t)m & 0xffff) == 0 ? "yes" : "no");
	free(m);
	printf("malloc_trim returns without crashing: %s\n", malloc_trim(0) >= 0 ? "yes" : "no");
	return 0;
}
