// SPDX-License-Identifier: Apache-2.0
// Differential test: flock and OFD locks belong to the open file description, so two open()s of one file
// conflict even within one process; POSIX record locks (F_SETLK) belong to the process and never do
// variants: static
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
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

static const char *ltype(int t)
{
	return t == F_RDLCK ? "F_RDLCK" : t == F_WRLCK ? "F_WRLCK" : t == F_UNLCK ? "F_UNLCK" : "?";
}

static void getlk(const char *what, int fd, int cmd, int type, long start, long len)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len };
	errno = 0;
	long r = syscall(SYS_fcntl, fd, cmd, &fl);
	int e = errno;
	if (r < 0)
		printf("%s = -1 %s\n", what, strerrorname_np(e));
	else
		printf("%s: %s start %ld len %ld pid %s\n", what, ltype(fl.l_type), (long)fl.l_start, (long)fl.l_len,
		       fl.l_pid == 0 ? "0" : fl.l_pid == -1 ? "-1" : fl.l_pid == getpid() ? "self" : "other");
}

static long setlk(int fd, int cmd, int type, long start, long len)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len };
	return syscall(SYS_fcntl, fd, cmd, &fl);
}

#define SETLK(what, fd, cmd, type, start, len)                   \
	do {                                                     \
		errno = 0;                                       \
		long r_ = setlk(fd, cmd, type, start, len);      \
		show(what, r_, errno);                           \
	} while (0)

int main(void)
{
	char dir[] = "/tmp/rt-XXXXXX";
	if (!mkdtemp(dir) || chdir(dir) != 0) {
		perror("mkdtemp");
		return 1;
	}
	int a = open("f", O_RDWR | O_CREAT | O_EXCL, 0644);
	int b = open("f", O_RDWR);
	int a2 = dup(a);
	int ro = open("f", O_RDONLY);

	/* flock */
	RAW("flock(a, LOCK_EX)", SYS_flock, a, LOCK_EX);
	RAW("flock(a, LOCK_EX) again", SYS_flock, a, LOCK_EX);
	RAW("flock(dup of a, LOCK_EX|LOCK_NB) same description", SYS_flock, a2, LOCK_EX | LOCK_NB);
	RAW("flock(b, LOCK_EX|LOCK_NB) other description", SYS_flock, b, LOCK_EX | LOCK_NB);
	RAW("flock(b, LOCK_SH|LOCK_NB)", SYS_flock, b, LOCK_SH | LOCK_NB);
	RAW("flock(a, LOCK_SH) converts", SYS_flock, a, LOCK_SH);
	RAW("flock(b, LOCK_SH|LOCK_NB) now", SYS_flock, b, LOCK_SH | LOCK_NB);
	RAW("flock(a, LOCK_EX|LOCK_NB) while b shares", SYS_flock, a, LOCK_EX | LOCK_NB);
	RAW("flock(b, LOCK_UN)", SYS_flock, b, LOCK_UN);
	RAW("flock(a, LOCK_EX|LOCK_NB)", SYS_flock, a, LOCK_EX | LOCK_NB);
	RAW("flock(ro, LOCK_EX|LOCK_NB) read-only fd", SYS_flock, ro, LOCK_EX | LOCK_NB);
	close(a);
	RAW("flock(b, LOCK_EX|LOCK_NB) after closing a (dup still open)", SYS_flock, b, LOCK_EX | LOCK_NB);
	close(a2);
	RAW("flock(b, LOCK_EX|LOCK_NB) after closing the dup too", SYS_flock, b, LOCK_EX | LOCK_NB);
	RAW("flock(b, LOCK_UN)", SYS_flock, b, LOCK_UN);
	RAW("flock(b, LOCK_UN) unlocked", SYS_flock, b, LOCK_UN);
	RAW("flock(b, 0)", SYS_flock, b, 0);
	RAW("flock(b, LOCK_SH|LOCK_EX)", SYS_flock, b, LOCK_SH | LOCK_EX);
	RAW("flock(b, 99)", SYS_flock, b, 99);
	RAW("flock(-1, LOCK_EX)", SYS_flock, -1, LOCK_EX);
	int pfd = open("f", O_PATH);
	RAW("flock(O_PATH, LOCK_EX)", SYS_flock, pfd, LOCK_EX);
	close(pfd);
	mkdir("d", 0755);
	int dfd = open("d", O_RDONLY | O_DIRECTORY);
	RAW("flock(directory, LOCK_EX)", SYS_flock, dfd, LOCK_EX);
	close(dfd);

	/* POSIX record locks: one owner, the process */
	a = open("f", O_RDWR);
	SETLK("F_SETLK(a, F_WRLCK, 0, 10)", a, F_SETLK, F_WRLCK, 0, 10);
	SETLK("F_SETLK(b, F_WRLCK, 0, 10) same process", b, F_SETLK, F_WRLCK, 0, 10);
	getlk("F_GETLK(b, F_WRLCK, 0, 10)", b, F_GETLK, F_WRLCK, 0, 10);
	SETLK("F_SETLK(ro, F_WRLCK) read-only fd", ro, F_SETLK, F_WRLCK, 0, 10);
	SETLK("F_SETLK(b, F_RDLCK, 0, 10)", b, F_SETLK, F_RDLCK, 0, 10);
	SETLK("F_SETLK type 7", a, F_SETLK, 7, 0, 10);
	SETLK("F_SETLK start -1", a, F_SETLK, F_WRLCK, -1, 10);
	SETLK("F_SETLK(a, F_UNLCK, 0, 0)", a, F_SETLK, F_UNLCK, 0, 0);

	/* OFD locks: owned by the description */
	SETLK("F_OFD_SETLK(a, F_WRLCK, 0, 10)", a, F_OFD_SETLK, F_WRLCK, 0, 10);
	SETLK("F_OFD_SETLK(b, F_WRLCK, 5, 10) overlaps", b, F_OFD_SETLK, F_WRLCK, 5, 10);
	SETLK("F_OFD_SETLK(b, F_RDLCK, 5, 10) overlaps", b, F_OFD_SETLK, F_RDLCK, 5, 10);
	SETLK("F_OFD_SETLK(b, F_WRLCK, 10, 10) adjacent", b, F_OFD_SETLK, F_WRLCK, 10, 10);
	getlk("F_OFD_GETLK(b, F_WRLCK, 0, 100)", b, F_OFD_GETLK, F_WRLCK, 0, 100);
	getlk("F_OFD_GETLK(a, F_WRLCK, 0, 5) own lock", a, F_OFD_GETLK, F_WRLCK, 0, 5);
	getlk("F_OFD_GETLK(a, F_WRLCK, 50, 5) free", a, F_OFD_GETLK, F_WRLCK, 50, 5);
	getlk("F_GETLK(a, F_WRLCK, 12, 5) sees the OFD lock of b", a, F_GETLK, F_WRLCK, 12, 5);
	SETLK("F_SETLK(a, F_WRLCK, 12, 2) conflicts with b's OFD lock", a, F_SETLK, F_WRLCK, 12, 2);
	SETLK("F_OFD_SETLK(a, F_UNLCK, 0, 10)", a, F_OFD_SETLK, F_UNLCK, 0, 10);
	SETLK("F_OFD_SETLK(b, F_WRLCK, 0, 10) now", b, F_OFD_SETLK, F_WRLCK, 0, 10);
	close(b);
	SETLK("F_OFD_SETLK(a, F_WRLCK, 0, 20) after closing b", a, F_OFD_SETLK, F_WRLCK, 0, 20);
	close(a);
	close(ro);

	unlink("f");
	rmdir("d");
	chdir("/");
	printf("cleanup: %s\n", rmdir(dir) == 0 ? "ok" : "failed");
	return 0;
}
