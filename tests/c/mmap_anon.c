// SPDX-License-Identifier: Apache-2.0
// Differential test: anonymous mmap: zero fill, protections, length rounding, hints, MAP_32BIT, EINVAL/ENOMEM/...
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

/* Probes that ask the kernel instead of touching memory (no signal needed). */
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

static void *raw_mmap(void *addr, size_t len, long prot, long flags, long fd, long off, int *err)
{
	errno = 0;
	long r = syscall(SYS_mmap, addr, len, prot, flags, fd, off);
	*err = errno;
	return (void *)r;
}

static void try(const char *what, void *addr, size_t len, long prot, long flags, long fd, long off)
{
	int err;
	void *p = raw_mmap(addr, len, prot, flags, fd, off, &err);
	if (p == MAP_FAILED) {
		printf("%s: -1 %s\n", what, strerrorname_np(err));
	} else {
		printf("%s: ok\n", what);
		munmap(p, len);
	}
}

static int all_zero(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

int main(void)
{
	int err;
	const long RW = PROT_READ | PROT_WRITE, PA = MAP_PRIVATE | MAP_ANONYMOUS;

	unsigned char *p = raw_mmap(NULL, 10 * PG, RW, PA, -1, 0, &err);
	printf("mmap 10 pages RW: %s\n", p == MAP_FAILED ? strerrorname_np(err) : "ok");
	if (p == MAP_FAILED)
		return 1;
	printf("page aligned: %s\n", YN(((uintptr_t)p & (PG - 1)) == 0));
	printf("zero filled: %s\n", YN(all_zero(p, 10 * PG)));
	for (size_t i = 0; i < 10 * PG; i++)
		p[i] = (unsigned char)(i * 7 + 3);
	int ok = 1;
	for (size_t i = 0; i < 10 * PG; i++)
		if (p[i] != (unsigned char)(i * 7 + 3))
			ok = 0;
	printf("pattern reads back: %s\n", YN(ok));
	printf("munmap = %d\n", munmap(p, 10 * PG));
	printf("unmapped afterwards: %s\n", YN(!mapped(p)));

	/* Protections, seen through the kernel's own user-memory accessors. */
	const struct {
		long prot;
		const char *name;
	} prots[] = {
		{ PROT_NONE, "PROT_NONE" },
		{ PROT_READ, "PROT_READ" },
		{ PROT_WRITE, "PROT_WRITE" },
		{ PROT_READ | PROT_WRITE, "PROT_READ|PROT_WRITE" },
		{ PROT_READ | PROT_EXEC, "PROT_READ|PROT_EXEC" },
	};
	for (size_t i = 0; i < sizeof(prots) / sizeof(prots[0]); i++) {
		void *q = raw_mmap(NULL, PG, prots[i].prot, PA, -1, 0, &err);
		printf("%-22s mapped: %s readable: %s writable: %s\n", prots[i].name, YN(q != MAP_FAILED && mapped(q)),
		       YN(q != MAP_FAILED && readable(q)), YN(q != MAP_FAILED && writable(q)));
		if (q != MAP_FAILED)
			munmap(q, PG);
	}

	/* Length rounding: 5000 bytes cover two pages. Reserve 3 PROT_NONE pages around it. */
	unsigned char *res = raw_mmap(NULL, 3 * PG, PROT_NONE, PA, -1, 0, &err);
	unsigned char *r5 = raw_mmap(res, 5000, RW, PA | MAP_FIXED, -1, 0, &err);
	printf("MAP_FIXED 5000 bytes into reservation: %s\n", YN(r5 == res));
	printf("second page usable: %s, third page still PROT_NONE: %s\n", YN(writable(res + PG)),
	       YN(mapped(res + 2 * PG) && !readable(res + 2 * PG)));
	munmap(res, 3 * PG);

	/* Hints: honoured when free, rounded down when unaligned (x86), ignored when taken. */
	unsigned char *h = raw_mmap(NULL, 4 * PG, RW, PA, -1, 0, &err);
	munmap(h, 4 * PG);
	unsigned char *g = raw_mmap(h + PG, PG, RW, PA, -1, 0, &err);
	printf("free hint honoured: %s\n", YN(g == h + PG));
	unsigned char *g2 = raw_mmap(h + 2 * PG + 123, PG, RW, PA, -1, 0, &err);
	printf("unaligned free hint rounded down to its page: %s\n", YN(g2 == h + 2 * PG));
	unsigned char *g3 = raw_mmap(h + PG, PG, RW, PA, -1, 0, &err);
	printf("occupied hint: mapping placed elsewhere: %s, old mapping intact: %s\n",
	       YN(g3 != MAP_FAILED && g3 != h + PG), YN(writable(h + PG)));
	munmap(g, PG);
	munmap(g2, PG);
	munmap(g3, PG);
	unsigned char *gk = raw_mmap((void *)0xffff800000000000UL, PG, RW, PA, -1, 0, &err);
	printf("hint in the kernel half ignored: %s\n", YN(gk != MAP_FAILED && (uintptr_t)gk < 0x800000000000UL));
	munmap(gk, PG);

	unsigned char *m32 = raw_mmap(NULL, PG, RW, PA | MAP_32BIT, -1, 0, &err);
	printf("MAP_32BIT below 2 GiB: %s\n", YN(m32 != MAP_FAILED && (uintptr_t)m32 + PG <= 0x80000000UL));
	munmap(m32, PG);

	/* Accepted flags and arguments that anonymous mappings ignore. */
	try("MAP_POPULATE", NULL, 4 * PG, RW, PA | MAP_POPULATE, -1, 0);
	try("MAP_NORESERVE", NULL, 4 * PG, RW, PA | MAP_NORESERVE, -1, 0);
	try("MAP_STACK", NULL, 4 * PG, RW, PA | MAP_STACK, -1, 0);
	try("anonymous with fd 5", NULL, PG, RW, PA, 5, 0);
	try("anonymous with offset 4096", NULL, PG, RW, PA, -1, 4096);
	try("unknown flag 0x08000000 with MAP_PRIVATE", NULL, PG, RW, PA | 0x08000000, -1, 0);
	try("unknown prot bit 0x10 (mmap ignores it)", NULL, PG, RW | 0x10, PA, -1, 0);
	try("MAP_SHARED anonymous", NULL, PG, RW, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	/* Errors */
	try("len 0", NULL, 0, RW, PA, -1, 0);
	try("neither SHARED nor PRIVATE", NULL, PG, RW, MAP_ANONYMOUS, -1, 0);
	try("map type 0xf", NULL, PG, RW, 0xf | MAP_ANONYMOUS, -1, 0);
	try("MAP_SHARED_VALIDATE anonymous", NULL, PG, RW, MAP_SHARED_VALIDATE | MAP_ANONYMOUS, -1, 0);
	try("offset 1", NULL, PG, RW, PA, -1, 1);
	try("len 1<<62", NULL, 1UL << 62, RW, PA, -1, 0);
	try("len -4096", NULL, (size_t)-4096, RW, PA, -1, 0);
	try("len -1", NULL, (size_t)-1, RW, PA, -1, 0);

	/* File mappings of stdio descriptors */
	try("file mapping of fd 99 (closed)", NULL, PG, PROT_READ, MAP_PRIVATE, 99, 0);
	try("file mapping of fd -1", NULL, PG, PROT_READ, MAP_PRIVATE, -1, 0);
	try("file mapping of fd 0 (/dev/null)", NULL, PG, PROT_READ, MAP_PRIVATE, 0, 0);
	try("file mapping of fd 1 (write-only)", NULL, PG, PROT_READ, MAP_PRIVATE, 1, 0);

	/* libc wrapper */
	errno = 0;
	void *lp = mmap(NULL, 0, RW, PA, -1, 0);
	printf("libc mmap(len 0) = %s %s\n", lp == MAP_FAILED ? "MAP_FAILED" : "ok", strerrorname_np(errno));
	return 0;
}
