// SPDX-License-Identifier: Apache-2.0
// Differential test: /dev/null, /dev/zero, /dev/full, /dev/random, /dev/urandom (reads, writes, errors,
// stat with device numbers), the /dev/fd, /dev/stdin, /dev/stdout, /dev/stderr symlinks, /dev/shm
// variants: static static-pie
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
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

#define RAW(what, ...)                                   \
	do {                                             \
		errno = 0;                               \
		long r_ = syscall(__VA_ARGS__);          \
		show(what, r_, errno);                   \
	} while (0)

static int allzero(const char *p, long n)
{
	for (long i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

static void devstat(const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		int e = errno;
		printf("stat %s: %s\n", path, strerrorname_np(e));
		return;
	}
	printf("stat %s: chr %s, %u:%u, mode %04o, size %ld\n", path, S_ISCHR(st.st_mode) ? "yes" : "no",
	       major(st.st_rdev), minor(st.st_rdev), st.st_mode & 07777, (long)st.st_size);
}

static void link_of(const char *path)
{
	char buf[256];
	errno = 0;
	long n = readlink(path, buf, sizeof buf - 1);
	int e = errno;
	if (n < 0) {
		printf("readlink %s: %s\n", path, strerrorname_np(e));
		return;
	}
	buf[n] = 0;
	printf("readlink %s: %s\n", path, buf);
}

int main(void)
{
	char buf[4096];
	long r;

	int nul = open("/dev/null", O_RDWR);
	printf("open /dev/null: %s\n", nul >= 0 ? "ok" : "failed");
	RAW("read /dev/null", SYS_read, nul, buf, sizeof buf);
	RAW("read /dev/null, bad buffer", SYS_read, nul, (void *)1, 10);
	RAW("write /dev/null", SYS_write, nul, buf, 1234);
	RAW("write /dev/null, bad buffer", SYS_write, nul, (void *)1, 10);
	RAW("pread /dev/null", SYS_pread64, nul, buf, 10, 100L);
	RAW("pwrite /dev/null", SYS_pwrite64, nul, buf, 10, 100L);
	struct iovec iov[2] = { { buf, 10 }, { buf + 10, 20 } };
	RAW("writev /dev/null", SYS_writev, nul, iov, 2);
	RAW("readv /dev/null", SYS_readv, nul, iov, 2);
	close(nul);

	int z = open("/dev/zero", O_RDWR);
	memset(buf, 'x', sizeof buf);
	RAW("read /dev/zero 4096", SYS_read, z, buf, 4096L);
	printf("zeros: %s\n", allzero(buf, sizeof buf) ? "yes" : "no");
	memset(buf, 'x', sizeof buf);
	RAW("pread /dev/zero 100 at 7", SYS_pread64, z, buf, 100L, 7L);
	printf("zeros: %s, byte 100 untouched: %s\n", allzero(buf, 100) ? "yes" : "no", buf[100] == 'x' ? "yes" : "no");
	RAW("read /dev/zero, bad buffer", SYS_read, z, (void *)1, 10);
	RAW("write /dev/zero", SYS_write, z, buf, 77);
	close(z);

	int full = open("/dev/full", O_RDWR);
	RAW("write /dev/full", SYS_write, full, "x", 1);
	RAW("write /dev/full, 0 bytes", SYS_write, full, "x", 0);
	memset(buf, 'x', sizeof buf);
	RAW("read /dev/full 64", SYS_read, full, buf, 64);
	printf("zeros: %s\n", allzero(buf, 64) ? "yes" : "no");
	close(full);

	int ur = open("/dev/urandom", O_RDONLY);
	memset(buf, 0, sizeof buf);
	RAW("read /dev/urandom 4096", SYS_read, ur, buf, 4096L);
	printf("not all zero: %s\n", allzero(buf, sizeof buf) ? "no" : "yes");
	RAW("read /dev/urandom 0", SYS_read, ur, buf, 0L);
	close(ur);
	int rnd = open("/dev/random", O_RDONLY);
	RAW("read /dev/random 32", SYS_read, rnd, buf, 32L);
	close(rnd);

	devstat("/dev/null");
	devstat("/dev/zero");
	devstat("/dev/full");
	devstat("/dev/random");
	devstat("/dev/urandom");
	devstat("/dev/tty");
	nul = open("/dev/null", O_RDONLY);
	struct stat a, b;
	fstat(nul, &a);
	stat("/dev/null", &b);
	printf("fstat of an open /dev/null matches stat: %s\n",
	       a.st_rdev == b.st_rdev && a.st_ino == b.st_ino && a.st_dev == b.st_dev ? "yes" : "no");
	close(nul);
	RAW("open /dev/null O_DIRECTORY", SYS_openat, AT_FDCWD, "/dev/null", O_RDONLY | O_DIRECTORY);
	RAW("open /dev/nonexistent", SYS_openat, AT_FDCWD, "/dev/nonexistent", O_RDONLY);

	link_of("/dev/fd");
	link_of("/dev/stdin");
	link_of("/dev/stdout");
	link_of("/dev/stderr");
	struct stat ls;
	lstat("/dev/fd", &ls);
	printf("/dev/fd is a symlink: %s\n", S_ISLNK(ls.st_mode) ? "yes" : "no");
	stat("/dev/fd", &ls);
	printf("/dev/fd resolves to a directory: %s\n", S_ISDIR(ls.st_mode) ? "yes" : "no");

	/* /dev/fd/N reopens the file */
	char dir[] = "/tmp/rt-XXXXXX";
	if (!mkdtemp(dir) || chdir(dir) != 0) {
		perror("mkdtemp");
		return 1;
	}
	int fd = open("f", O_RDWR | O_CREAT | O_EXCL, 0644);
	write(fd, "hello", 5);
	char path[64], want[300], got[300];
	snprintf(path, sizeof path, "/dev/fd/%d", fd);
	snprintf(want, sizeof want, "%s/f", dir);
	r = readlink(path, got, sizeof got - 1);
	got[r > 0 ? r : 0] = 0;
	printf("readlink /dev/fd/N is the file's path: %s\n", strcmp(got, want) == 0 ? "yes" : "no");
	int fd2 = open(path, O_RDONLY);
	memset(buf, 0, 8);
	r = read(fd2, buf, 8);
	printf("open /dev/fd/N reads from the start: %ld \"%s\"\n", r, buf);
	printf("and is a new descriptor with its own offset: %s\n", fd2 != fd && lseek(fd, 0, SEEK_CUR) == 5 && lseek(fd2, 0, SEEK_CUR) == 5 ? "yes" : "no");
	close(fd2);
	close(fd);
	unlink("f");
	chdir("/");
	printf("cleanup: %s\n", rmdir(dir) == 0 ? "ok" : "failed");

	struct stat sh;
	stat("/dev/shm", &sh);
	printf("/dev/shm: dir %s, mode %04o\n", S_ISDIR(sh.st_mode) ? "yes" : "no", sh.st_mode & 07777);
	return 0;
}
