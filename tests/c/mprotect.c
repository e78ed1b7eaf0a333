// SPDX-License-Identifier: Apache-2.0
// Differential test: mprotect: effects seen via kernel accessors, rounding, partial application, EINVAL/ENOMEM
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
#define PROT_SEM_ 0x8

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

static void mp(const char *what, void *addr, size_t len, long prot)
{
	errno = 0;
	long r = syscall(SYS_mprotect, addr, len, prot);
	if (r == -1)
		printf("%s: -1 %s\n", what, strerrorname_np(errno));
	else
		printf("%s: %ld\n", what, r);
}

/* One letter per page: w = read+write, r = read only, - = no access */
static void layout(const char *label, unsigned char *p, int n)
{
	printf("  %s:", label);
	for (int i = 0; i < n; i++)
		printf(" %c", writable(p + i * PG) ? 'w' : readable(p + i * PG) ? 'r' : '-');
	printf("\n");
}

int main(void)
{
	unsigned char *p = mmap(NULL, 6 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 1;
	for (int i = 0; i < 6; i++)
		memset(p + i * PG, '0' + i, PG);
	layout("start", p, 6);

	mp("page 1 PROT_READ", p + PG, PG, PROT_READ);
	mp("page 2 PROT_NONE", p + 2 * PG, PG, PROT_NONE);
	mp("page 3 PROT_WRITE (implies read on x86)", p + 3 * PG, PG, PROT_WRITE);
	mp("page 4 PROT_READ|PROT_EXEC", p + 4 * PG, PG, PROT_READ | PROT_EXEC);
	layout("after", p, 6);

	mp("pages 0-5 back to RW", p, 6 * PG, PROT_READ | PROT_WRITE);
	layout("after", p, 6);
	int ok = 1;
	for (int i = 0; i < 6; i++)
		ok &= p[i * PG] == '0' + i && p[i * PG + PG - 1] == '0' + i;
	printf("  data preserved through protection changes: %s\n", ok ? "yes" : "no");

	mp("len 100 (rounded up to page 0)", p, 100, PROT_READ);
	mp("len 0 (no-op)", p + PG, 0, PROT_NONE);
	layout("after", p, 6);
	mp("PROT_SEM accepted", p, PG, PROT_READ | PROT_WRITE | PROT_SEM_);
	layout("after", p, 6);

	/* Errors */
	mp("unaligned address", p + 1, PG, PROT_READ);
	mp("unknown prot bit 0x10", p, PG, PROT_READ | 0x10);
	mp("unknown prot bit 0x1000", p, PG, PROT_READ | 0x1000);
	mp("PROT_GROWSDOWN on a normal mapping", p, PG, PROT_READ | PROT_GROWSDOWN);
	mp("PROT_GROWSDOWN|PROT_GROWSUP", p, PG, PROT_READ | PROT_GROWSDOWN | PROT_GROWSUP);
	mp("at 1<<57", (void *)(1UL << 57), PG, PROT_READ);
	mp("len wrapping", p, (size_t)-PG, PROT_READ);
	layout("unchanged by the errors", p, 6);

	/* Holes: ENOMEM, but pages before the hole are already changed. */
	munmap(p + 3 * PG, PG);
	mp("pages 1-4 across a hole at 3, PROT_READ", p + PG, 4 * PG, PROT_READ);
	printf("  page 1: %c, page 2: %c, page 4: %c\n", writable(p + PG) ? 'w' : 'r',
	       writable(p + 2 * PG) ? 'w' : 'r', writable(p + 4 * PG) ? 'w' : 'r');
	mp("starting in the hole (pages 3-4), PROT_NONE", p + 3 * PG, 2 * PG, PROT_NONE);
	printf("  page 4 untouched: %s\n", writable(p + 4 * PG) ? "yes" : "no");
	mp("entirely unmapped page 3", p + 3 * PG, PG, PROT_READ);

	errno = 0;
	int lr = mprotect(p + 1, PG, PROT_READ);
	printf("libc mprotect(unaligned) = %d %s\n", lr, strerrorname_np(errno));
	munmap(p, 6 * PG);
	return 0;
}
