// SPDX-License-Identifier: Apache-2.0
// Differential test: dup/dup2/dup3/close on stdio: lowest-free allocation, replacing, CLOEXEC, EBADF/EINVAL
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
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

#define RAW(what, ...)                                   \
	do {                                             \
		errno = 0;                               \
		long r_ = syscall(__VA_ARGS__);          \
		show(what, r_, errno);                   \
	} while (0)

static void say(int fd, const char *s)
{
	fflush(stdout);
	errno = 0;
	long r = syscall(SYS_write, fd, s, strlen(s));
	show("  write", r, errno);
}

int main(void)
{
	for (int fd = 3; fd < 1024; fd++)
		close(fd);

	RAW("dup(1)", SYS_dup, 1);
	RAW("dup(1)", SYS_dup, 1);
	RAW("dup(2)", SYS_dup, 2);
	RAW("close(3)", SYS_close, 3);
	RAW("dup(1) reuses lowest", SYS_dup, 1);
	say(3, "hello via fd 3\n");
	say(4, "hello via fd 4\n");
	RAW("F_GETFD(3) (dup clears CLOEXEC)", SYS_fcntl, 3, F_GETFD);

	RAW("dup2(1, 1) same fd", SYS_dup2, 1, 1);
	RAW("dup2(1, 40)", SYS_dup2, 1, 40);
	say(40, "hello via fd 40\n");
	RAW("dup2(0, 40) replaces open fd", SYS_dup2, 0, 40);
	printf("fd 40 now read-only: %s\n", (syscall(SYS_fcntl, 40, F_GETFL) & O_ACCMODE) == O_RDONLY ? "yes" : "no");
	say(40, "x");
	RAW("dup2(-1, 6)", SYS_dup2, -1, 6);
	RAW("dup2(99, 6)", SYS_dup2, 99, 6);
	RAW("dup2(99, 99) invalid oldfd == newfd", SYS_dup2, 99, 99);
	RAW("dup2(1, -1)", SYS_dup2, 1, -1);
	RAW("dup2(1, INT_MAX)", SYS_dup2, 1, INT_MAX);
	RAW("F_GETFD(6) was not created", SYS_fcntl, 6, F_GETFD);

	RAW("dup3(1, 1, 0)", SYS_dup3, 1, 1, 0);
	RAW("dup3(1, 1, O_CLOEXEC)", SYS_dup3, 1, 1, O_CLOEXEC);
	RAW("dup3(1, 41, O_CLOEXEC)", SYS_dup3, 1, 41, O_CLOEXEC);
	RAW("F_GETFD(41)", SYS_fcntl, 41, F_GETFD);
	RAW("dup3(1, 42, 0)", SYS_dup3, 1, 42, 0);
	RAW("F_GETFD(42)", SYS_fcntl, 42, F_GETFD);
	RAW("dup3(1, 43, O_NONBLOCK)", SYS_dup3, 1, 43, O_NONBLOCK);
	RAW("dup3(1, 43, 1)", SYS_dup3, 1, 43, 1);
	RAW("dup3(99, 43, 0)", SYS_dup3, 99, 43, 0);
	RAW("dup3(1, -2, 0)", SYS_dup3, 1, -2, 0);

	/* dup2 onto a CLOEXEC fd gives a fresh descriptor without CLOEXEC */
	RAW("dup2(2, 41) over the CLOEXEC fd", SYS_dup2, 2, 41);
	RAW("F_GETFD(41)", SYS_fcntl, 41, F_GETFD);

	RAW("dup(-1)", SYS_dup, -1);
	RAW("dup(1000)", SYS_dup, 1000);
	RAW("dup(INT_MAX)", SYS_dup, INT_MAX);

	/* Close stdin, and dup puts stdout there. */
	RAW("dup2(0, 60) save stdin", SYS_dup2, 0, 60);
	RAW("close(0)", SYS_close, 0);
	RAW("close(0) again", SYS_close, 0);
	RAW("dup(1) takes fd 0", SYS_dup, 1);
	say(0, "hello via fd 0\n");
	RAW("dup2(60, 0) restore stdin", SYS_dup2, 60, 0);
	say(0, "x");
	char c;
	RAW("read(0) is EOF again", SYS_read, 0, &c, 1);

	RAW("close(-1)", SYS_close, -1);
	RAW("close(1000)", SYS_close, 1000);
	RAW("close(INT_MAX)", SYS_close, INT_MAX);
	RAW("close(60)", SYS_close, 60);
	RAW("close(60) again", SYS_close, 60);

	/* closing a dup of stdout leaves stdout working */
	RAW("close(4)", SYS_close, 4);
	say(1, "stdout still fine\n");
	return 0;
}
