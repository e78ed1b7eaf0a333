// SPDX-License-Identifier: Apache-2.0
// Differential test: fstat / newfstatat(fd, "", AT_EMPTY_PATH) on stdio fds, EBADF/EFAULT/ENOENT/EINVAL
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
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

static int same(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_mode == b->st_mode &&
	       a->st_nlink == b->st_nlink && a->st_uid == b->st_uid && a->st_gid == b->st_gid &&
	       a->st_rdev == b->st_rdev;
}

int main(void)
{
	struct stat s0, s0b, s1, s1b, sd;

	/* stdin is /dev/null */
	long r = syscall(SYS_fstat, 0, &s0);
	printf("fstat(0) = %ld\n", r);
	printf("fd 0 is a character device: %s\n", S_ISCHR(s0.st_mode) ? "yes" : "no");
	printf("fd 0 rdev = %u:%u\n", major(s0.st_rdev), minor(s0.st_rdev));
	printf("fd 0 permissions = %04o\n", (unsigned)(s0.st_mode & 07777));
	printf("fd 0 size = %lld\n", (long long)s0.st_size);
	printf("fd 0 owner uid = %u\n", (unsigned)s0.st_uid);
	r = syscall(SYS_newfstatat, 0, "", &s0b, AT_EMPTY_PATH);
	printf("newfstatat(0, \"\", AT_EMPTY_PATH) = %ld, agrees with fstat: %s\n", r, same(&s0, &s0b) ? "yes" : "no");

	/* stdout is a pipe under the harness, maybe a file elsewhere */
	r = syscall(SYS_fstat, 1, &s1);
	printf("fstat(1) = %ld\n", r);
	printf("fd 1 is a fifo or a regular file: %s\n", S_ISFIFO(s1.st_mode) || S_ISREG(s1.st_mode) ? "yes" : "no");
	r = syscall(SYS_newfstatat, 1, "", &s1b, AT_EMPTY_PATH);
	printf("newfstatat(1, \"\", AT_EMPTY_PATH) = %ld, agrees with fstat: %s\n", r, same(&s1, &s1b) ? "yes" : "no");
	r = syscall(SYS_newfstatat, 1, "", &s1b, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW);
	printf("newfstatat(1, \"\", AT_EMPTY_PATH|AT_SYMLINK_NOFOLLOW) = %ld, agrees: %s\n", r,
	       same(&s1, &s1b) ? "yes" : "no");
	int d = dup(1);
	syscall(SYS_fstat, d, &sd);
	printf("fstat(dup(1)) is the same file: %s\n", same(&s1, &sd) ? "yes" : "no");
	close(d);
	printf("fd 0 and fd 1 are different files: %s\n",
	       s0.st_ino != s1.st_ino || s0.st_dev != s1.st_dev ? "yes" : "no");

	struct stat l;
	printf("libc fstat(1) agrees: %s\n", fstat(1, &l) == 0 && same(&l, &s1) ? "yes" : "no");

	struct stat st;
	RAW("fstat(-1)", SYS_fstat, -1, &st);
	RAW("fstat(99)", SYS_fstat, 99, &st);
	RAW("fstat(d) after close", SYS_fstat, d, &st);
	RAW("fstat(1, (void*)1)", SYS_fstat, 1, (void *)1);
	RAW("fstat(1, NULL)", SYS_fstat, 1, NULL);
	RAW("fstat(99, NULL)", SYS_fstat, 99, NULL);
	RAW("newfstatat(1, \"\", 0) without AT_EMPTY_PATH", SYS_newfstatat, 1, "", &st, 0);
	RAW("newfstatat(1, \"\", 0x12340000)", SYS_newfstatat, 1, "", &st, 0x12340000);
	RAW("newfstatat(99, \"\", AT_EMPTY_PATH)", SYS_newfstatat, 99, "", &st, AT_EMPTY_PATH);
	RAW("newfstatat(-1, \"\", AT_EMPTY_PATH)", SYS_newfstatat, -1, "", &st, AT_EMPTY_PATH);
	RAW("newfstatat(1, (void*)1, AT_EMPTY_PATH)", SYS_newfstatat, 1, (void *)1, &st, AT_EMPTY_PATH);
	RAW("newfstatat(1, \"\", (void*)1, AT_EMPTY_PATH)", SYS_newfstatat, 1, "", (void *)1, AT_EMPTY_PATH);
	return 0;
}
