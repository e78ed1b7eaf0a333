// SPDX-License-Identifier: Apache-2.0
// Differential test: truncate/ftruncate: growing fills with zeros (also over data cut off
// before), shrinking, the file offset is unchanged, EINVAL for negative lengths and fds not open
// for writing, EISDIR/EINVAL for non-regular files, symlinks followed, a sparse 1 GiB file
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

static void dump(const char *path)
{
	unsigned char b[64];
	struct stat st;
	if (stat(path, &st) != 0) {
		int e = errno;
		printf("  %s: %s\n", path, strerrorname_np(e));
		return;
	}
	int fd = open(path, O_RDONLY);
	ssize_t n = read(fd, b, sizeof b);
	close(fd);
	printf("  %s: size %lld read %zd:", path, (long long)st.st_size, n);
	for (ssize_t i = 0; i < n; i++)
		printf(b[i] >= 32 && b[i] < 127 ? "%c" : "\\%o", b[i]);
	printf("\n");
}

int main(void)
{
	setup();
	int fd = open("f", O_CREAT | O_RDWR, 0644);
	write(fd, "abcdef", 6);
	close(fd);
	mkdir("d", 0755);
	symlink("f", "lf");
	mkfifo("fifo", 0644);

	RAW("truncate(f, 10) grow", SYS_truncate, "f", 10);
	dump("f");
	RAW("truncate(f, 2) shrink", SYS_truncate, "f", 2);
	dump("f");
	RAW("truncate(f, 6) grow again", SYS_truncate, "f", 6);
	dump("f");
	RAW("truncate(f, 6) same size", SYS_truncate, "f", 6);
	dump("f");
	RAW("truncate(lf, 3) through a symlink", SYS_truncate, "lf", 3);
	dump("f");
	RAW("truncate(f, 0)", SYS_truncate, "f", 0);
	dump("f");
	RAW("truncate(f, -1)", SYS_truncate, "f", -1L);
	RAW("truncate(f, LONG_MIN)", SYS_truncate, "f", LONG_MIN);
	RAW("truncate(d, 0)", SYS_truncate, "d", 0);
	RAW("truncate(missing, 0)", SYS_truncate, "missing", 0);
	RAW("truncate(f/, 0)", SYS_truncate, "f/", 0);
	RAW("truncate(\"\", 0)", SYS_truncate, "", 0);
	RAW("truncate((char *)1, 0)", SYS_truncate, (char *)1, 0);
	RAW("truncate(fifo, 0)", SYS_truncate, "fifo", 0);
	RAW("truncate(/dev/null, 0)", SYS_truncate, "/dev/null", 0);
	chmod("f", 0444);
	RAW("truncate(f mode 0444, 4) as root", SYS_truncate, "f", 4);
	dump("f");
	chmod("f", 0644);

	// ftruncate
	fd = open("f", O_RDWR);
	write(fd, "0123456789", 10);
	RAW("lseek(fd, 0, SEEK_CUR) before", SYS_lseek, fd, 0, SEEK_CUR);
	RAW("ftruncate(fd, 4)", SYS_ftruncate, fd, 4);
	RAW("lseek(fd, 0, SEEK_CUR) after", SYS_lseek, fd, 0, SEEK_CUR);
	dump("f");
	RAW("write(fd, X) at offset 10", SYS_write, fd, "X", 1);
	dump("f");
	RAW("ftruncate(fd, -1)", SYS_ftruncate, fd, -1L);
	close(fd);
	fd = open("f", O_RDONLY);
	RAW("ftruncate(O_RDONLY fd, 0)", SYS_ftruncate, fd, 0);
	close(fd);
	fd = open("f", O_WRONLY | O_APPEND);
	RAW("ftruncate(O_APPEND fd, 3)", SYS_ftruncate, fd, 3);
	write(fd, "Z", 1);
	close(fd);
	dump("f");
	fd = open("f", O_PATH);
	RAW("ftruncate(O_PATH fd, 0)", SYS_ftruncate, fd, 0);
	close(fd);
	fd = open("d", O_RDONLY | O_DIRECTORY);
	RAW("ftruncate(dir fd, 0)", SYS_ftruncate, fd, 0);
	close(fd);
	RAW("ftruncate(99, 0)", SYS_ftruncate, 99, 0);
	fd = open("/dev/null", O_WRONLY);
	RAW("ftruncate(/dev/null fd, 0)", SYS_ftruncate, fd, 0);
	close(fd);

	// a sparse 1 GiB file
	fd = open("big", O_CREAT | O_RDWR, 0644);
	RAW("ftruncate(big, 1 GiB)", SYS_ftruncate, fd, 1L << 30);
	struct stat st;
	fstat(fd, &st);
	printf("  size %lld\n", (long long)st.st_size);
	char b[4] = {1, 1, 1, 1};
	RAW("pread(big, 4, 512 MiB)", SYS_pread64, fd, b, 4, 1L << 29);
	printf("  zeros: %s\n", b[0] == 0 && b[1] == 0 && b[2] == 0 && b[3] == 0 ? "yes" : "no");
	RAW("pread(big, 4, 1 GiB - 2)", SYS_pread64, fd, b, 4, (1L << 30) - 2);
	RAW("pread(big, 4, 1 GiB)", SYS_pread64, fd, b, 4, 1L << 30);
	RAW("pwrite(big, 1 byte, 768 MiB)", SYS_pwrite64, fd, "Q", 1, 3L << 28);
	RAW("ftruncate(big, 1 MiB)", SYS_ftruncate, fd, 1L << 20);
	RAW("ftruncate(big, 1 GiB)", SYS_ftruncate, fd, 1L << 30);
	b[0] = 1;
	RAW("pread(big, 1, 768 MiB)", SYS_pread64, fd, b, 1, 3L << 28);
	printf("  byte written before the shrink is now zero: %s\n", b[0] == 0 ? "yes" : "no");
	close(fd);

	finish();
	return 0;
}
