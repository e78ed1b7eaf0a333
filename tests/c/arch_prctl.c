// SPDX-License-Identifier: Apache-2.0
// Differential test: arch_prctl FS/GS base get/set (segment loads see the new base), EINVAL/EFAULT/EPERM
// variants: static static-pie
#define _GNU_SOURCE
#include <asm/prctl.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* A syscall that touches neither errno nor %fs, safe while FS points elsewhere. */
static long raw2(long nr, long a, long b)
{
	long ret;
	asm volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b) : "rcx", "r11", "memory");
	return ret;
}

static const char *ename(long r)
{
	if (r >= 0)
		return "ok";
	const char *n = strerrorname_np((int)-r);
	return n ? n : "E?";
}

static uint64_t read_fs0(void)
{
	uint64_t v;
	asm volatile("mov %%fs:0, %0" : "=r"(v));
	return v;
}

static uint64_t read_gs0(void)
{
	uint64_t v;
	asm volatile("mov %%gs:0, %0" : "=r"(v));
	return v;
}

static uint64_t read_gs8(void)
{
	uint64_t v;
	asm volatile("mov %%gs:8, %0" : "=r"(v));
	return v;
}

int main(void)
{
	unsigned long fs = 0, gs = 1;
	long r;

	r = raw2(SYS_arch_prctl, ARCH_GET_FS, (long)&fs);
	printf("ARCH_GET_FS: %s\n", ename(r));
	printf("fs base == pthread_self(): %s\n", fs == (unsigned long)pthread_self() ? "yes" : "no");
	printf("%%fs:0 == fs base (TCB self pointer): %s\n", read_fs0() == fs ? "yes" : "no");

	r = raw2(SYS_arch_prctl, ARCH_GET_GS, (long)&gs);
	printf("ARCH_GET_GS: %s, initial gs base is 0: %s\n", ename(r), gs == 0 ? "yes" : "no");

	/* GS: point it at a buffer and load through it. */
	static uint64_t gsbuf[2] = { 0x1122334455667788ULL, 0x0102030405060708ULL };
	r = raw2(SYS_arch_prctl, ARCH_SET_GS, (long)gsbuf);
	printf("ARCH_SET_GS(buffer): %s\n", ename(r));
	uint64_t g0 = read_gs0(), g8 = read_gs8();
	printf("%%gs:0 = %#llx, %%gs:8 = %#llx\n", (unsigned long long)g0, (unsigned long long)g8);
	gs = 0;
	raw2(SYS_arch_prctl, ARCH_GET_GS, (long)&gs);
	printf("ARCH_GET_GS returns what was set: %s\n", gs == (unsigned long)gsbuf ? "yes" : "no");
	r = raw2(SYS_arch_prctl, ARCH_SET_GS, 0);
	printf("ARCH_SET_GS(0): %s\n", ename(r));
	raw2(SYS_arch_prctl, ARCH_GET_GS, (long)&gs);
	printf("gs base back to 0: %s\n", gs == 0 ? "yes" : "no");

	/* FS: switch to a fake TCB, load through it, switch back (no libc in between). */
	static uint64_t fake[8] = { 0xfeedfacecafebeefULL, 0, 0, 0, 0, 0, 0, 0 };
	unsigned long seen_fs = 0;
	long r1 = raw2(SYS_arch_prctl, ARCH_SET_FS, (long)fake);
	uint64_t f0 = read_fs0();
	long r2 = raw2(SYS_arch_prctl, ARCH_GET_FS, (long)&seen_fs);
	long r3 = raw2(SYS_arch_prctl, ARCH_SET_FS, (long)fs);
	printf("ARCH_SET_FS(fake): %s, get: %s, restore: %s\n", ename(r1), ename(r2), ename(r3));
	printf("%%fs:0 through fake TCB = %#llx\n", (unsigned long long)f0);
	printf("ARCH_GET_FS saw fake: %s\n", seen_fs == (unsigned long)fake ? "yes" : "no");
	printf("%%fs:0 restored: %s\n", read_fs0() == fs ? "yes" : "no");
	errno = 0;
	r = syscall(SYS_getuid);
	printf("errno (TLS) usable after restore: %s\n", errno == 0 ? "yes" : "no");

	/* FS base set to an unmapped but canonical address is accepted (not dereferenced). */
	r1 = raw2(SYS_arch_prctl, ARCH_SET_FS, 0x1000);
	r2 = raw2(SYS_arch_prctl, ARCH_SET_FS, (long)fs);
	printf("ARCH_SET_FS(0x1000): %s, restore: %s\n", ename(r1), ename(r2));

	/* Error paths. */
	printf("ARCH_SET_FS(1<<57, non-canonical): %s\n", ename(raw2(SYS_arch_prctl, ARCH_SET_FS, 1L << 57)));
	printf("ARCH_SET_FS(-4096): %s\n", ename(raw2(SYS_arch_prctl, ARCH_SET_FS, -4096L)));
	printf("ARCH_SET_GS(0xffff800000000000): %s\n",
	       ename(raw2(SYS_arch_prctl, ARCH_SET_GS, (long)0xffff800000000000UL)));
	printf("ARCH_GET_FS((void*)1): %s\n", ename(raw2(SYS_arch_prctl, ARCH_GET_FS, 1)));
	printf("ARCH_GET_GS(NULL): %s\n", ename(raw2(SYS_arch_prctl, ARCH_GET_GS, 0)));
	printf("code 0x1234: %s\n", ename(raw2(SYS_arch_prctl, 0x1234, 0)));
	printf("code 0: %s\n", ename(raw2(SYS_arch_prctl, 0, 0)));
	printf("fs base unchanged by failures: %s\n", read_fs0() == fs ? "yes" : "no");

	/* libc wrapper path for an error, to check errno. */
	errno = 0;
	r = syscall(SYS_arch_prctl, 0x1234, 0);
	printf("syscall(arch_prctl, 0x1234) = %ld %s\n", r, strerrorname_np(errno));
	return 0;
}
