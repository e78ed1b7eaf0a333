// SPDX-License-Identifier: Apache-2.0
// Differential test: static TLS (initialised, zeroed, over-aligned __thread data), errno, TCB self pointer, canaries
// variants: static static-pie
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static __thread int t_init = 42;
static __thread long t_zero;
static __thread char t_str[32] = "thread-local string";
static __thread _Alignas(256) unsigned char t_aligned[256] = { 1, 2, 3 };
__thread int t_extern_visible = -7;

static uint64_t fs_word(int off)
{
	uint64_t v;
	switch (off) {
	case 0:
		asm volatile("mov %%fs:0, %0" : "=r"(v));
		break;
	case 0x28:
		asm volatile("mov %%fs:0x28, %0" : "=r"(v));
		break;
	default:
		asm volatile("mov %%fs:0x30, %0" : "=r"(v));
		break;
	}
	return v;
}

static __attribute__((noinline)) int *addr_of_init(void)
{
	return &t_init;
}

int main(void)
{
	printf("t_init = %d, t_zero = %ld, t_str = \"%s\", t_aligned[0..3] = %d %d %d %d, t_extern_visible = %d\n",
	       t_init, t_zero, t_str, t_aligned[0], t_aligned[1], t_aligned[2], t_aligned[3], t_extern_visible);
	int zero_tail = 1;
	for (int i = 3; i < 256; i++)
		zero_tail &= t_aligned[i] == 0;
	printf("rest of t_aligned zero: %s\n", zero_tail ? "yes" : "no");
	printf("t_aligned is 256-byte aligned: %s\n", ((uintptr_t)t_aligned & 255) == 0 ? "yes" : "no");

	t_init += 1;
	t_zero = 123456789;
	strcpy(t_str, "changed");
	t_aligned[255] = 9;
	printf("after writes: %d %ld %s %d\n", *addr_of_init(), t_zero, t_str, t_aligned[255]);

	char *tp = __builtin_thread_pointer();
	printf("thread pointer == pthread_self(): %s\n", (uintptr_t)tp == (uintptr_t)pthread_self() ? "yes" : "no");
	printf("%%fs:0 == thread pointer: %s\n", fs_word(0) == (uint64_t)(uintptr_t)tp ? "yes" : "no");
	printf("TLS block sits just below the thread pointer: %s\n",
	       (char *)&t_init < tp && (char *)&t_init > tp - 65536 ? "yes" : "no");
	printf("stack protector canary (%%fs:0x28) non-zero: %s\n", fs_word(0x28) != 0 ? "yes" : "no");
	printf("canary low byte is zero (glibc): %s\n", (fs_word(0x28) & 0xff) == 0 ? "yes" : "no");
	printf("pointer guard (%%fs:0x30) non-zero: %s\n", fs_word(0x30) != 0 ? "yes" : "no");

	errno = 0;
	long r = syscall(SYS_close, 12345);
	printf("close(12345) = %ld, errno = %s\n", r, strerrorname_np(errno));
	printf("errno lives in TLS: %s\n", (char *)&errno < tp && (char *)&errno > tp - 65536 ? "yes" : "no");
	errno = 0;
	r = syscall(SYS_dup, -3);
	int e1 = errno;
	r = syscall(SYS_getpid);
	printf("errno survives a successful syscall: %s (%s)\n", errno == e1 ? "yes" : "no", strerrorname_np(errno));
	return 0;
}
