// SPDX-License-Identifier: Apache-2.0
// Differential test: MREMAP_DONTUNMAP (Linux 5.7+): data moves, the old range stays mapped and reads as zero
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif
#define PG 4096UL

int main(void)
{
	char *p = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 1;
	strcpy(p, "page zero");
	strcpy(p + PG, "page one");

	errno = 0;
	char *q = (char *)syscall(SYS_mremap, p, 2 * PG, 2 * PG, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, NULL);
	printf("mremap(MAYMOVE|DONTUNMAP): %s\n", q == MAP_FAILED ? strerrorname_np(errno) : "ok");
	if (q == MAP_FAILED)
		return 0;
	printf("moved to a new address: %s\n", q != p ? "yes" : "no");
	printf("new range: \"%s\" / \"%s\"\n", q, q + PG);
	printf("old range still mapped: %s\n", syscall(SYS_madvise, p, 2 * PG, MADV_NORMAL) == 0 ? "yes" : "no");
	printf("old range reads zero: %s\n", p[0] == 0 && p[PG] == 0 ? "yes" : "no");
	p[0] = 'x';
	printf("old range writable, new range unaffected: %s\n", q[0] == 'p' ? "yes" : "no");

	errno = 0;
	long r = syscall(SYS_mremap, q, 2 * PG, 4 * PG, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, NULL);
	printf("DONTUNMAP with a size change: %s\n", r == -1 ? strerrorname_np(errno) : "ok");
	errno = 0;
	r = syscall(SYS_mremap, q, 2 * PG, 2 * PG, MREMAP_DONTUNMAP, NULL);
	printf("DONTUNMAP without MAYMOVE: %s\n", r == -1 ? strerrorname_np(errno) : "ok");

	/* DONTUNMAP together with MREMAP_FIXED */
	char *t = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	errno = 0;
	char *u = (char *)syscall(SYS_mremap, q, 2 * PG, 2 * PG, MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP, t);
	printf("DONTUNMAP|FIXED: %s, at target: %s, data: \"%s\"\n", u == MAP_FAILED ? strerrorname_np(errno) : "ok",
	       u == t ? "yes" : "no", u == t ? t + PG : "");
	printf("source still mapped and zero: %s\n", q[0] == 0 && q[PG] == 0 ? "yes" : "no");
	return 0;
}
