// SPDX-License-Identifier: Apache-2.0
// Differential test: fsync/fdatasync/syncfs/sync on files, directories and devices; fallocate modes 0 and
// FALLOC_FL_KEEP_SIZE (size, zero fill, st_blocks) and its errors
// variants: static
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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

static void size(int fd)
{
	struct stat st;
	fstat(fd, &st);
	printf("  size %ld\n", (long)st.st_size);
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
	write(fd, "data", 4);
	RAW("fsync", SYS_fsync, fd);
	RAW("fdatasync", SYS_fdatasync, fd);
	RAW("syncfs", SYS_syncfs, fd);
	sync();
	printf("sync returned\n");
	int ro = open("f", O_RDONLY);
	RAW("fsync O_RDONLY", SYS_fsync, ro);
	mkdir("d", 0755);
	int dfd = open("d", O_RDONLY | O_DIRECTORY);
	RAW("fsync directory", SYS_fsync, dfd);
	RAW("fdatasync directory", SYS_fdatasync, dfd);
	RAW("syncfs directory", SYS_syncfs, dfd);
	int nul = open("/dev/null", O_RDWR);
	RAW("fsync /dev/null", SYS_fsync, nul);
	RAW("syncfs /dev/null", SYS_syncfs, nul);
	int pr = open("/proc/self/status", O_RDONLY);
	RAW("fsync /proc/self/status", SYS_fsync, pr);
	close(pr);
	int pfd = open("f", O_PATH);
	RAW("fsync O_PATH", SYS_fsync, pfd);
	RAW("syncfs O_PATH", SYS_syncfs, pfd);
	RAW("fsync fd -1", SYS_fsync, -1);
	RAW("fdatasync fd 999", SYS_fdatasync, 999);
	RAW("syncfs fd -1", SYS_syncfs, -1);
	int hf = open("/etc/passwd", O_RDONLY);
	RAW("fsync a host file (read-only)", SYS_fsync, hf);
	close(hf);

	/* fallocate */
	RAW("fallocate 0, 0..8192", SYS_fallocate, fd, 0, 0L, 8192L);
	size(fd);
	struct stat st;
	fstat(fd, &st);
	printf("  st_blocks covers 8192 bytes: %s\n", st.st_blocks * 512 >= 8192 ? "yes" : "no");
	char buf[8192];
	memset(buf, 'x', sizeof buf);
	long r = pread(fd, buf, sizeof buf, 0);
	int z = 1;
	for (int i = 4; i < 8192; i++)
		z &= buf[i] == 0;
	printf("  pread %ld, data kept: %s, rest zero: %s\n", r, memcmp(buf, "data", 4) == 0 ? "yes" : "no", z ? "yes" : "no");
	RAW("fallocate 0 inside the file", SYS_fallocate, fd, 0, 100L, 100L);
	size(fd);
	RAW("fallocate 0, 10000+5", SYS_fallocate, fd, 0, 10000L, 5L);
	size(fd);
	RAW("fallocate KEEP_SIZE, 20000+4096", SYS_fallocate, fd, FALLOC_FL_KEEP_SIZE, 20000L, 4096L);
	size(fd);
	RAW("pread past EOF after KEEP_SIZE", SYS_pread64, fd, buf, 10L, 20000L);
	RAW("fallocate len 0", SYS_fallocate, fd, 0, 0L, 0L);
	RAW("fallocate len -1", SYS_fallocate, fd, 0, 0L, -1L);
	RAW("fallocate offset -1", SYS_fallocate, fd, 0, -1L, 10L);
	RAW("fallocate offset+len overflows", SYS_fallocate, fd, 0, LONG_MAX - 10, 100L);
	RAW("fallocate unknown mode 0x1000", SYS_fallocate, fd, 0x1000, 0L, 10L);
	RAW("fallocate PUNCH_HOLE without KEEP_SIZE", SYS_fallocate, fd, FALLOC_FL_PUNCH_HOLE, 0L, 10L);
	RAW("fallocate O_RDONLY", SYS_fallocate, ro, 0, 0L, 10L);
	RAW("fallocate directory", SYS_fallocate, dfd, 0, 0L, 10L);
	RAW("fallocate /dev/null", SYS_fallocate, nul, 0, 0L, 10L);
	RAW("fallocate O_PATH", SYS_fallocate, pfd, 0, 0L, 10L);
	RAW("fallocate fd -1", SYS_fallocate, -1, 0, 0L, 10L);
	int ap = open("f", O_WRONLY | O_APPEND);
	RAW("fallocate O_APPEND, 0..30000", SYS_fallocate, ap, 0, 0L, 30000L);
	size(ap);
	close(ap);
	close(pfd);
	close(nul);
	close(dfd);
	close(ro);
	close(fd);

	unlink("f");
	rmdir("d");
	chdir("/");
	printf("cleanup: %s\n", rmdir(dir) == 0 ? "ok" : "failed");
	return 0;
}
