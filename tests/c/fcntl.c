// SPDX-License-Identifier: Apache-2.0
// Differential test: fcntl F_GETFD/F_SETFD/F_GETFL/F_SETFL/F_DUPFD/F_DUPFD_CLOEXEC on stdio, EBADF/EINVAL
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

static const char *acc(long fl)
{
	switch (fl & O_ACCMODE) {
	case O_RDONLY:
		return "O_RDONLY";
	case O_WRONLY:
		return "O_WRONLY";
	case O_RDWR:
		return "O_RDWR";
	}
	return "?";
}

int main(void)
{
	for (int fd = 3; fd < 1024; fd++)
		close(fd);

	/* Descriptors that survive execve never have FD_CLOEXEC. */
	RAW("F_GETFD(0)", SYS_fcntl, 0, F_GETFD);
	RAW("F_GETFD(1)", SYS_fcntl, 1, F_GETFD);
	RAW("F_GETFD(2)", SYS_fcntl, 2, F_GETFD);

	RAW("F_SETFD(1, FD_CLOEXEC)", SYS_fcntl, 1, F_SETFD, FD_CLOEXEC);
	RAW("F_GETFD(1)", SYS_fcntl, 1, F_GETFD);
	RAW("F_SETFD(1, 0xff) (only FD_CLOEXEC kept)", SYS_fcntl, 1, F_SETFD, 0xff);
	RAW("F_GETFD(1)", SYS_fcntl, 1, F_GETFD);
	RAW("F_SETFD(1, 0)", SYS_fcntl, 1, F_SETFD, 0);
	RAW("F_GETFD(1)", SYS_fcntl, 1, F_GETFD);

	long fl0 = syscall(SYS_fcntl, 0, F_GETFL);
	long fl1 = syscall(SYS_fcntl, 1, F_GETFL);
	printf("F_GETFL(0): %s, O_NONBLOCK: %s\n", acc(fl0), fl0 & O_NONBLOCK ? "yes" : "no");
	printf("F_GETFL(1): %s, O_NONBLOCK: %s\n", acc(fl1), fl1 & O_NONBLOCK ? "yes" : "no");

	/* O_NONBLOCK on stdin (/dev/null), shared with a dup (same open file description). */
	long d0 = syscall(SYS_fcntl, 0, F_DUPFD, 0);
	printf("F_DUPFD(0, 0) = %ld\n", d0);
	RAW("F_SETFL(0, O_NONBLOCK)", SYS_fcntl, 0, F_SETFL, fl0 | O_NONBLOCK);
	long f = syscall(SYS_fcntl, 0, F_GETFL);
	printf("F_GETFL(0) now has O_NONBLOCK: %s, access mode still %s\n", f & O_NONBLOCK ? "yes" : "no", acc(f));
	f = syscall(SYS_fcntl, d0, F_GETFL);
	printf("dup of 0 sees O_NONBLOCK too: %s\n", f & O_NONBLOCK ? "yes" : "no");
	printf("but FD_CLOEXEC is per descriptor: F_SETFD(0,1) -> dup F_GETFD = ");
	syscall(SYS_fcntl, 0, F_SETFD, FD_CLOEXEC);
	printf("%ld\n", syscall(SYS_fcntl, d0, F_GETFD));
	syscall(SYS_fcntl, 0, F_SETFD, 0);
	/* access mode and creation flags are ignored by F_SETFL */
	RAW("F_SETFL(0, O_RDWR|O_CREAT|O_TRUNC)", SYS_fcntl, 0, F_SETFL, O_RDWR | O_CREAT | O_TRUNC);
	f = syscall(SYS_fcntl, 0, F_GETFL);
	printf("after: %s, O_NONBLOCK cleared: %s\n", acc(f), f & O_NONBLOCK ? "no" : "yes");
	RAW("F_SETFL(0, original)", SYS_fcntl, 0, F_SETFL, fl0);
	printf("F_GETFL(0) restored: %s\n", syscall(SYS_fcntl, 0, F_GETFL) == fl0 ? "yes" : "no");
	close((int)d0);

	/* F_DUPFD / F_DUPFD_CLOEXEC pick the lowest free fd >= arg. */
	RAW("F_DUPFD(1, 10)", SYS_fcntl, 1, F_DUPFD, 10);
	RAW("F_DUPFD(1, 10) again", SYS_fcntl, 1, F_DUPFD, 10);
	RAW("F_DUPFD(1, 0)", SYS_fcntl, 1, F_DUPFD, 0);
	RAW("F_DUPFD_CLOEXEC(1, 20)", SYS_fcntl, 1, F_DUPFD_CLOEXEC, 20);
	RAW("F_GETFD(20)", SYS_fcntl, 20, F_GETFD);
	RAW("F_GETFD(10)", SYS_fcntl, 10, F_GETFD);
	printf("F_GETFL(20) access mode: %s\n", acc(syscall(SYS_fcntl, 20, F_GETFL)));
	fflush(stdout);
	RAW("write(10)", SYS_write, 10, "through F_DUPFD copy\n", 21);
	RAW("F_DUPFD(1, -1)", SYS_fcntl, 1, F_DUPFD, -1);
	RAW("F_DUPFD(1, INT_MAX)", SYS_fcntl, 1, F_DUPFD, INT_MAX);
	RAW("F_DUPFD_CLOEXEC(1, INT_MAX)", SYS_fcntl, 1, F_DUPFD_CLOEXEC, INT_MAX);

	/* EBADF / EINVAL */
	RAW("F_GETFD(-1)", SYS_fcntl, -1, F_GETFD);
	RAW("F_GETFD(500)", SYS_fcntl, 500, F_GETFD);
	RAW("F_SETFD(500)", SYS_fcntl, 500, F_SETFD, FD_CLOEXEC);
	RAW("F_GETFL(500)", SYS_fcntl, 500, F_GETFL);
	RAW("F_SETFL(500)", SYS_fcntl, 500, F_SETFL, 0);
	RAW("F_DUPFD(500, 0)", SYS_fcntl, 500, F_DUPFD, 0);
	RAW("cmd 9999 on fd 1", SYS_fcntl, 1, 9999, 0);
	RAW("cmd -1 on fd 1", SYS_fcntl, 1, -1, 0);
	RAW("cmd 9999 on fd 500", SYS_fcntl, 500, 9999, 0);
	close(10);
	RAW("F_GETFD(10) after close", SYS_fcntl, 10, F_GETFD);

	/* libc wrapper */
	errno = 0;
	int lr = fcntl(1, F_DUPFD, -5);
	printf("libc fcntl(F_DUPFD, -5) = %d %s\n", lr, strerrorname_np(errno));
	return 0;
}
