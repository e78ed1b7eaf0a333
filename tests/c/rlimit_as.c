// SPDX-License-Identifier: Apache-2.0
// Differential test: RLIMIT_AS enforcement for mmap, mremap and brk (ENOMEM), lifted again afterwards
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MiB (1024UL * 1024)

static char outbuf[8192];

static void mm(const char *what, void *p)
{
	if (p == MAP_FAILED)
		printf("%s: failed %s\n", what, strerrorname_np(errno));
	else
		printf("%s: ok\n", what);
}

int main(void)
{
	/* stdio must not allocate once the limit is in place */
	setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));

	struct rlimit orig;
	getrlimit(RLIMIT_AS, &orig);
	if (orig.rlim_max != RLIM_INFINITY && orig.rlim_max < 2048 * MiB) {
		printf("hard RLIMIT_AS too low: skipped\n");
		return 0;
	}
	struct rlimit lim = { 512 * MiB, orig.rlim_max };
	long r = syscall(SYS_setrlimit, RLIMIT_AS, &lim);
	printf("setrlimit(AS, 512 MiB) = %ld\n", r);

	void *p = mmap(NULL, 1024 * MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	mm("mmap 1 GiB RW", p);
	p = mmap(NULL, 1024 * MiB, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	mm("mmap 1 GiB PROT_NONE NORESERVE", p);

	char *q = mmap(NULL, 64 * MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	mm("mmap 64 MiB", q);
	if (q == MAP_FAILED)
		return 1;
	q[0] = 1;
	q[64 * MiB - 1] = 2;
	void *g = mremap(q, 64 * MiB, 1024 * MiB, MREMAP_MAYMOVE);
	mm("mremap 64 MiB -> 1 GiB", g);
	g = mremap(q, 64 * MiB, 128 * MiB, MREMAP_MAYMOVE);
	mm("mremap 64 MiB -> 128 MiB", g);
	if (g != MAP_FAILED)
		q = g;
	printf("contents kept: %s\n", q[0] == 1 && q[64 * MiB - 1] == 2 ? "yes" : "no");

	unsigned long cur = (unsigned long)syscall(SYS_brk, 0);
	unsigned long want = cur + 1024 * MiB;
	unsigned long got = (unsigned long)syscall(SYS_brk, want);
	printf("brk +1 GiB refused (returns old break): %s\n", got == cur ? "yes" : "no");
	got = (unsigned long)syscall(SYS_brk, cur + 1 * MiB);
	printf("brk +1 MiB allowed: %s\n", got == cur + 1 * MiB ? "yes" : "no");
	syscall(SYS_brk, cur);

	/* Lift the limit again. */
	r = syscall(SYS_setrlimit, RLIMIT_AS, &orig);
	printf("restore RLIMIT_AS = %ld\n", r);
	p = mmap(NULL, 1024 * MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	mm("mmap 1 GiB after restore", p);
	if (p != MAP_FAILED)
		munmap(p, 1024 * MiB);
	munmap(q, 128 * MiB);
	return 0;
}
