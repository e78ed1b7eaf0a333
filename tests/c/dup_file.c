// SPDX-License-Identifier: Apache-2.0
// Differential test: dup/dup2/dup3/F_DUPFD of a file share the offset and status flags (O_APPEND),
// FD_CLOEXEC is per descriptor, close_range with and without CLOSE_RANGE_CLOEXEC
// variants: static static-pie
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
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

static long pos(int fd)
{
	return lseek(fd, 0, SEEK_CUR);
}

static void fdstate(int lo, int hi)
{
	printf("  fds %d..%d:", lo, hi);
	for (int fd = lo; fd <= hi; fd++) {
		long r = syscall(SYS_fcntl, fd, F_GETFD);
		if (r < 0)
			printf(" -");
		else
			printf(" %s", r & FD_CLOEXEC ? "c" : "o");
	}
	printf("\n");
}

int main(void)
{
	for (int fd = 3; fd < 1024; fd++)
		close(fd);
	char dir[] = "/tmp/rt-XXXXXX";
	if (!mkdtemp(dir) || chdir(dir) != 0) {
		perror("mkdtemp");
		return 1;
	}

	int fd = open("f", O_RDWR | O_CREAT | O_EXCL, 0644);
	printf("open f = %d\n", fd);
	write(fd, "0123456789", 10);
	RAW("dup(fd)", SYS_dup, fd);
	RAW("dup2(fd, 10)", SYS_dup2, fd, 10);
	RAW("dup3(fd, 11, O_CLOEXEC)", SYS_dup3, fd, 11, O_CLOEXEC);
	RAW("F_DUPFD(fd, 20)", SYS_fcntl, fd, F_DUPFD, 20);
	RAW("F_DUPFD_CLOEXEC(fd, 20)", SYS_fcntl, fd, F_DUPFD_CLOEXEC, 20);
	fdstate(3, 4);
	fdstate(10, 11);
	fdstate(20, 21);

	/* one open file description: one offset */
	lseek(fd, 2, SEEK_SET);
	printf("after lseek(fd, 2): dup %ld, 10 %ld, 11 %ld, 20 %ld, 21 %ld\n", pos(4), pos(10), pos(11), pos(20), pos(21));
	char c[4] = { 0 };
	read(10, c, 3);
	printf("read 3 via 10: \"%s\", fd pos now %ld\n", c, pos(fd));
	write(20, "ab", 2);
	printf("write 2 via 20: fd pos now %ld\n", pos(fd));
	pread(21, c, 3, 0);
	printf("pread via 21 leaves the shared pos: %ld\n", pos(fd));

	/* status flags are shared */
	long fl = fcntl(fd, F_GETFL);
	RAW("F_SETFL(4, O_APPEND)", SYS_fcntl, 4, F_SETFL, fl | O_APPEND);
	printf("F_GETFL(fd) has O_APPEND: %s\n", fcntl(fd, F_GETFL) & O_APPEND ? "yes" : "no");
	printf("F_GETFL(21) has O_APPEND: %s\n", fcntl(21, F_GETFL) & O_APPEND ? "yes" : "no");
	lseek(fd, 0, SEEK_SET);
	write(11, "Z", 1);
	printf("write via 11 appended, pos %ld\n", pos(fd));
	RAW("F_SETFL(10, 0) clears it", SYS_fcntl, 10, F_SETFL, 0);
	printf("F_GETFL(fd) has O_APPEND: %s\n", fcntl(fd, F_GETFL) & O_APPEND ? "yes" : "no");

	/* but a second open() is a separate description */
	int other = open("f", O_RDONLY);
	printf("second open = %d, pos %ld while fd pos %ld\n", other, pos(other), pos(fd));
	fcntl(fd, F_SETFL, O_NONBLOCK);
	printf("second open sees O_NONBLOCK: %s\n", fcntl(other, F_GETFL) & O_NONBLOCK ? "yes" : "no");
	close(other);

	/* FD_CLOEXEC is per descriptor */
	RAW("F_SETFD(fd, FD_CLOEXEC)", SYS_fcntl, fd, F_SETFD, FD_CLOEXEC);
	fdstate(3, 4);
	RAW("F_SETFD(11, 0)", SYS_fcntl, 11, F_SETFD, 0);
	fdstate(10, 11);
	RAW("ioctl(10, FIOCLEX)", SYS_ioctl, 10, FIOCLEX);
	RAW("ioctl(3, FIONCLEX)", SYS_ioctl, 3, FIONCLEX);
	fdstate(3, 4);
	fdstate(10, 11);

	/* closing one leaves the description alive */
	close(fd);
	RAW("read via 4 after closing 3", SYS_pread64, 4, c, 3, 0L);

	/* close_range */
	for (int i = 30; i < 40; i++)
		dup2(4, i);
	RAW("close_range(32, 34, CLOEXEC)", SYS_close_range, 32, 34, CLOSE_RANGE_CLOEXEC);
	fdstate(30, 39);
	RAW("close_range(35, 36, 0)", SYS_close_range, 35, 36, 0);
	fdstate(30, 39);
	RAW("close_range(38, 37, 0) first > last", SYS_close_range, 38, 37, 0);
	RAW("close_range(30, 39, 0x80000000) bad flag", SYS_close_range, 30, 39, 0x80000000);
	fdstate(30, 39);
	RAW("close_range(500, 600, 0) nothing open", SYS_close_range, 500, 600, 0);
	RAW("close_range(37, ~0U, 0)", SYS_close_range, 37, ~0U, 0);
	fdstate(30, 39);
	RAW("close_range(3, ~0U, CLOEXEC)", SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
	fdstate(3, 4);
	fdstate(10, 11);
	fdstate(20, 21);
	RAW("close_range(3, ~0U, 0)", SYS_close_range, 3, ~0U, 0);
	fdstate(3, 4);
	fdstate(30, 39);
	RAW("open after close_range gets", SYS_openat, AT_FDCWD, "f", O_RDONLY);

	unlink("f");
	chdir("/");
	printf("cleanup: %s\n", rmdir(dir) == 0 ? "ok" : "failed");
	return 0;
}
