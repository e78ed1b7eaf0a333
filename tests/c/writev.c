// SPDX-License-Identifier: Apache-2.0
// Differential test: writev(2) on stdout: gathering, iovcnt limits, EINVAL/EFAULT/EBADF, bad later iovec
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

static void show(const char *what, long r, int err)
{
	if (r == -1) {
		const char *n = strerrorname_np(err);
		printf("%s = -1 %s\n", what, n ? n : "E?");
	} else {
		printf("%s = %ld\n", what, r);
	}
}

static long raw_writev(int fd, const struct iovec *iov, long cnt, int *err)
{
	fflush(stdout);
	errno = 0;
	long r = syscall(SYS_writev, fd, iov, cnt);
	*err = errno;
	return r;
}

int main(void)
{
	int err;
	long r;
	char a[] = "gather ", b[] = "three ", c[] = "pieces\n";
	struct iovec iov[3] = {
		{ a, strlen(a) }, { b, strlen(b) }, { c, strlen(c) },
	};

	r = raw_writev(1, iov, 3, &err);
	show("writev(3 iovecs)", r, err);

	/* zero-length entries in the middle are skipped */
	struct iovec z[4] = { { a, strlen(a) }, { NULL, 0 }, { (void *)1, 0 }, { c, strlen(c) } };
	r = raw_writev(1, z, 4, &err);
	show("writev(with empty iovecs)", r, err);

	r = raw_writev(1, iov, 0, &err);
	show("writev(iovcnt 0)", r, err);
	r = raw_writev(1, NULL, 0, &err);
	show("writev(NULL, 0)", r, err);
	r = raw_writev(1, iov, -1, &err);
	show("writev(iovcnt -1)", r, err);
	r = raw_writev(1, iov, 1025, &err);
	show("writev(iovcnt 1025)", r, err);
	r = raw_writev(1, (void *)1, 1, &err);
	show("writev(iov (void*)1)", r, err);

	/* exactly IOV_MAX (1024) entries is allowed */
	static struct iovec many[1024];
	static char dots[1025];
	for (int i = 0; i < 1024; i++) {
		dots[i] = (i % 64 == 63) ? '\n' : '.';
		many[i].iov_base = &dots[i];
		many[i].iov_len = 1;
	}
	r = raw_writev(1, many, 1024, &err);
	show("writev(1024 one-byte iovecs)", r, err);

	/*
	 * Lengths summing past SSIZE_MAX: Linux clamps the total to MAX_RW_COUNT
	 * instead of failing with EINVAL, then access_ok() of the clamped second
	 * range (which would end above the user address space) fails: EFAULT.
	 */
	struct iovec huge[2] = { { a, strlen(a) }, { (void *)0x7fffff000000UL, (size_t)SSIZE_MAX } };
	r = raw_writev(1, huge, 2, &err);
	show("writev(lengths sum > SSIZE_MAX)", r, err);
	struct iovec neg[1] = { { a, (size_t)-1 } };
	r = raw_writev(1, neg, 1, &err);
	show("writev(iov_len = -1)", r, err);

	r = raw_writev(-1, iov, 3, &err);
	show("writev(fd -1)", r, err);
	r = raw_writev(77, iov, 3, &err);
	show("writev(fd 77 not open)", r, err);
	r = raw_writev(0, iov, 3, &err);
	show("writev(fd 0 read-only)", r, err);

	struct iovec bad0[2] = { { (void *)1, 4 }, { c, strlen(c) } };
	r = raw_writev(1, bad0, 2, &err);
	show("writev(first iovec unreadable)", r, err);

	/*
	 * Second iovec unreadable: a file keeps the first iovec, a pipe fails
	 * with EFAULT. Use stderr and print only whether the outcome is a Linux one.
	 */
	char *p = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		printf("mmap failed\n");
		return 1;
	}
	struct iovec bad1[2] = { { a, strlen(a) }, { p, 4 } };
	r = raw_writev(2, bad1, 2, &err);
	printf("writev(2, second iovec PROT_NONE) is EFAULT/%zu/%zu: %s\n", strlen(a), strlen(a) + 4,
	       (r == -1 && err == EFAULT) || r == (long)strlen(a) || r == (long)strlen(a) + 4 ? "yes"
											 : "no");
	munmap(p, 4096);

	/* libc wrapper agrees */
	fflush(stdout);
	r = writev(1, iov, 3);
	printf("libc writev = %ld\n", r);
	return 0;
}
