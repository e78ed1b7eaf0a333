// SPDX-License-Identifier: Apache-2.0
// Differential test: fallocate FALLOC_FL_PUNCH_HOLE|KEEP_SIZE and FALLOC_FL_ZERO_RANGE on a tmpfs file:
// the range reads back as zeros, the size is kept, SEEK_HOLE finds the punched page
// variants: static
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

static void check(int fd, const char *what, long lo, long hi)
{
	static char buf[4 * 4096];
	long n = pread(fd, buf, sizeof buf, 0);
	int zero = 1, kept = 1;
	for (long i = 0; i < n; i++) {
		if (i >= lo && i < hi)
			zero &= buf[i] == 0;
		else
			kept &= buf[i] == 'x';
	}
	struct stat st;
	fstat(fd, &st);
	printf("  %s: size %ld, %ld..%ld zero: %s, the rest kept: %s\n", what, (long)st.st_size, lo, hi, zero ? "yes" : "no",
	       kept ? "yes" : "no");
}

int main(void)
{
	/* /dev/shm is tmpfs both natively and in the sandbox. */
	char dir[] = "/dev/shm/rt-XXXXXX";
	if (!mkdtemp(dir) || chdir(dir) != 0) {
		perror("mkdtemp");
		return 1;
	}
	int fd = open("f", O_RDWR | O_CREAT | O_EXCL, 0644);
	static char x[4 * 4096];
	memset(x, 'x', sizeof x);
	write(fd, x, sizeof x);

	RAW("PUNCH_HOLE|KEEP_SIZE 100..300", SYS_fallocate, fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 100L, 200L);
	check(fd, "after punching 100..300", 100, 300);
	pwrite(fd, x, sizeof x, 0);
	RAW("PUNCH_HOLE|KEEP_SIZE page 1", SYS_fallocate, fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 4096L, 4096L);
	check(fd, "after punching page 1", 4096, 8192);
	RAW("SEEK_HOLE 0", SYS_lseek, fd, 0L, SEEK_HOLE);
	RAW("SEEK_DATA 4096", SYS_lseek, fd, 4096L, SEEK_DATA);
	pwrite(fd, x, sizeof x, 0);
	RAW("PUNCH_HOLE|KEEP_SIZE past EOF", SYS_fallocate, fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 12000L, 10000L);
	check(fd, "after punching 12000..EOF", 12000, 16384);
	pwrite(fd, x, sizeof x, 0);
	RAW("ZERO_RANGE 10..20", SYS_fallocate, fd, FALLOC_FL_ZERO_RANGE, 10L, 10L);
	check(fd, "after zeroing 10..20", 10, 20);
	RAW("COLLAPSE_RANGE (tmpfs does not have it)", SYS_fallocate, fd, FALLOC_FL_COLLAPSE_RANGE, 0L, 4096L);
	RAW("INSERT_RANGE (tmpfs does not have it)", SYS_fallocate, fd, FALLOC_FL_INSERT_RANGE, 0L, 4096L);
	close(fd);

	unlink("f");
	chdir("/");
	printf("cleanup: %s\n", rmdir(dir) == 0 ? "ok" : "failed");
	return 0;
}
