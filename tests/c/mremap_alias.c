// SPDX-License-Identifier: Apache-2.0
// Differential test: mremap(old_size = 0) makes a second view of MAP_SHARED memory; writes show through both
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PG 4096UL

int main(void)
{
	char *a = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (a == MAP_FAILED) {
		printf("mmap failed\n");
		return 1;
	}
	strcpy(a, "written through view A");
	strcpy(a + PG, "second page via A");

	char *b = mremap(a, 0, 2 * PG, MREMAP_MAYMOVE);
	printf("mremap(a, 0, 2 pages, MAYMOVE): %s\n", b == MAP_FAILED ? strerrorname_np(errno) : "ok");
	if (b == MAP_FAILED)
		return 1;
	printf("new view is a different address: %s\n", b != a ? "yes" : "no");
	printf("B sees: \"%s\" / \"%s\"\n", b, b + PG);

	strcpy(b + 100, "written through view B");
	printf("A sees B's write: \"%s\"\n", a + 100);
	a[PG + 200] = 'Z';
	printf("B sees A's byte on page 1: %c\n", b[PG + 200]);

	/* A view of only the second page */
	char *c = mremap(a + PG, 0, PG, MREMAP_MAYMOVE);
	printf("view C of page 1 only: %s\n", c == MAP_FAILED ? strerrorname_np(errno) : "ok");
	if (c != MAP_FAILED) {
		printf("C sees: \"%s\"\n", c);
		c[300] = 'Q';
		printf("A and B see C's byte: %c %c\n", a[PG + 300], b[PG + 300]);
	}

	/* Unmapping A leaves the data reachable through B */
	munmap(a, 2 * PG);
	printf("after munmap(A), B still sees: \"%s\"\n", b);
	long r = syscall(SYS_madvise, b, 2 * PG, MADV_DONTNEED);
	printf("madvise(B, DONTNEED) = %ld, data kept: \"%s\"\n", r, b + 100);

	/* old_size 0 on private memory is refused */
	char *p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	errno = 0;
	char *d = mremap(p, 0, PG, MREMAP_MAYMOVE);
	printf("mremap(private, 0, ...) = %s %s\n", d == MAP_FAILED ? "MAP_FAILED" : "ok",
	       d == MAP_FAILED ? strerrorname_np(errno) : "");
	/* old_size 0 without MAYMOVE */
	errno = 0;
	d = mremap(b, 0, PG, 0);
	printf("mremap(shared, 0, ..., no MAYMOVE) = %s %s\n", d == MAP_FAILED ? "MAP_FAILED" : "ok",
	       d == MAP_FAILED ? strerrorname_np(errno) : "");
	return 0;
}
