// SPDX-License-Identifier: Apache-2.0
// Differential test: growing a file far beyond the memory it uses (sparse 4 GiB and 64 GiB
// truncates in /tmp): the size is set, holes read as zeros, and no data is allocated for them
// variants: static
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static char top[32];

static void show(const char *what, long r, int err)
{
	if (r == -1) {
		const char *n = strerrorname_np(err);
		printf("%s = -1 %s\n", what, n ? n : "E?");
	} else {
		printf("%s = %ld\n", what, r);
	}
}

// A call whose success value is not printed (fds): "ok" or "-1 ERRNO".
__attribute__((unused)) static void showok(const char *what, long r, int err)
{
	if (r == -1)
		show(what, r, err);
	else
		printf("%s = ok\n", what);
}

#define RAW(what, ...)                                   \
	do {                                             \
		errno = 0;                               \
		long r_ = syscall(__VA_ARGS__);          \
		show(what, r_, errno);                   \
	} while (0)

#define FD(var, what, ...)                               \
	do {                                             \
		errno = 0;                               \
		var = syscall(__VA_ARGS__);              \
		showok(what, var, errno);                \
	} while (0)

static void setup(void)
{
	for (int fd = 3; fd < 1024; fd++)
		close(fd);
	umask(022);
	strcpy(top, "/tmp/rt-XXXXXX");
	if (!mkdtemp(top) || chdir(top) != 0) {
		perror("setup");
		exit(1);
	}
}

static int rm_one(const char *p, const struct stat *sb, int type, struct FTW *f)
{
	(void)sb;
	(void)type;
	(void)f;
	return remove(p);
}

static void finish(void)
{
	struct stat st;
	int ok = chdir("/") == 0 && nftw(top, rm_one, 16, FTW_DEPTH | FTW_PHYS) == 0;
	ok = ok && lstat(top, &st) == -1 && errno == ENOENT;
	printf("cleanup: %s\n", ok ? "ok" : "FAILED");
}

static void grow(const char *what, long size)
{
	struct stat st;
	int fd = open("f", O_CREAT | O_RDWR | O_TRUNC, 0644);
	errno = 0;
	long r = syscall(SYS_ftruncate, fd, size);
	show(what, r, errno);
	fstat(fd, &st);
	printf("  size is the length: %s\n", st.st_size == size ? "yes" : "no");
	printf("  fewer blocks than 1 MiB: %s\n", st.st_blocks * 512 < (1 << 20) ? "yes" : "no");
	char b[2] = {1, 1};
	errno = 0;
	r = syscall(SYS_pread64, fd, b, 2, size - 1);
	show("  pread(2 bytes at size - 1)", r, errno);
	printf("  zero: %s\n", b[0] == 0 ? "yes" : "no");
	close(fd);
	unlink("f");
}

int main(void)
{
	setup();
	grow("ftruncate(4 GiB - 1)", (1L << 32) - 1);
	grow("ftruncate(64 GiB)", 1L << 36);
	int fd = open("g", O_CREAT | O_RDWR, 0644);
	long r = syscall(SYS_pwrite64, fd, "end", 3, 1L << 33);
	show("pwrite(3 bytes at 8 GiB)", r, errno);
	struct stat st;
	fstat(fd, &st);
	printf("  size 8 GiB + 3: %s\n", st.st_size == (1L << 33) + 3 ? "yes" : "no");
	close(fd);
	finish();
	return 0;
}
