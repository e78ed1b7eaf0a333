// SPDX-License-Identifier: Apache-2.0
// Differential test: lseek on tmpfs files and directories (SEEK_SET/CUR/END, holes, SEEK_DATA/SEEK_HOLE,
// ENXIO/EINVAL), on /dev/null, on a /proc file and on a host file
// variants: static static-pie
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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

int main(void)
{
	/* /dev/shm is tmpfs both natively and in the sandbox (the host's /tmp may be a disk fs). */
	char dir[] = "/dev/shm/rt-XXXXXX";
	if (!mkdtemp(dir) || chdir(dir) != 0) {
		perror("mkdtemp");
		return 1;
	}
	struct stat st;
	int fd = open("f", O_RDWR | O_CREAT | O_EXCL, 0644);
	write(fd, "hello world", 11);
	RAW("SEEK_SET 5", SYS_lseek, fd, 5L, SEEK_SET);
	RAW("SEEK_CUR +3", SYS_lseek, fd, 3L, SEEK_CUR);
	RAW("SEEK_CUR -10", SYS_lseek, fd, -10L, SEEK_CUR);
	RAW("SEEK_CUR 0 (unchanged after EINVAL)", SYS_lseek, fd, 0L, SEEK_CUR);
	RAW("SEEK_END 0", SYS_lseek, fd, 0L, SEEK_END);
	RAW("SEEK_END -2", SYS_lseek, fd, -2L, SEEK_END);
	RAW("SEEK_END -12", SYS_lseek, fd, -12L, SEEK_END);
	RAW("SEEK_SET -1", SYS_lseek, fd, -1L, SEEK_SET);
	RAW("whence 5", SYS_lseek, fd, 0L, 5);
	RAW("whence -1", SYS_lseek, fd, 0L, -1);
	RAW("SEEK_SET LLONG_MAX", SYS_lseek, fd, LLONG_MAX, SEEK_SET);
	RAW("SEEK_CUR +1 (overflow)", SYS_lseek, fd, 1L, SEEK_CUR);
	RAW("SEEK_END LLONG_MAX", SYS_lseek, fd, LLONG_MAX, SEEK_END);
	RAW("SEEK_SET 100", SYS_lseek, fd, 100L, SEEK_SET);
	fstat(fd, &st);
	printf("size unchanged by seeking: %ld\n", (long)st.st_size);
	RAW("write at 100", SYS_write, fd, "Z", 1);
	fstat(fd, &st);
	printf("size: %ld\n", (long)st.st_size);
	char buf[128];
	long r = pread(fd, buf, sizeof buf, 0);
	int zeros = 1;
	for (int i = 11; i < 100; i++)
		zeros &= buf[i] == 0;
	printf("pread %ld bytes, hole 11..100 zero: %s, last: %c\n", r, zeros ? "yes" : "no", buf[100]);

	/* SEEK_DATA/SEEK_HOLE on a small file: one data extent, the implicit hole at EOF */
	RAW("SEEK_DATA 0", SYS_lseek, fd, 0L, SEEK_DATA);
	RAW("SEEK_DATA 50", SYS_lseek, fd, 50L, SEEK_DATA);
	RAW("SEEK_HOLE 0", SYS_lseek, fd, 0L, SEEK_HOLE);
	RAW("SEEK_HOLE 100", SYS_lseek, fd, 100L, SEEK_HOLE);
	RAW("SEEK_DATA 101 (EOF)", SYS_lseek, fd, 101L, SEEK_DATA);
	RAW("SEEK_HOLE 101 (EOF)", SYS_lseek, fd, 101L, SEEK_HOLE);
	RAW("SEEK_DATA 5000", SYS_lseek, fd, 5000L, SEEK_DATA);
	RAW("SEEK_HOLE 5000", SYS_lseek, fd, 5000L, SEEK_HOLE);
	RAW("SEEK_DATA -1", SYS_lseek, fd, -1L, SEEK_DATA);
	close(fd);

	/* a page-sized hole in the middle */
	fd = open("g", O_RDWR | O_CREAT | O_EXCL, 0644);
	pwrite(fd, "a", 1, 0);
	pwrite(fd, "b", 1, 3 * 4096);
	RAW("g: SEEK_HOLE 0", SYS_lseek, fd, 0L, SEEK_HOLE);
	RAW("g: SEEK_DATA 1", SYS_lseek, fd, 1L, SEEK_DATA);
	RAW("g: SEEK_DATA 4096", SYS_lseek, fd, 4096L, SEEK_DATA);
	RAW("g: SEEK_HOLE 12288", SYS_lseek, fd, 12288L, SEEK_HOLE);
	RAW("g: SEEK_CUR 0 (position is the last result)", SYS_lseek, fd, 0L, SEEK_CUR);
	close(fd);

	/* an empty file */
	fd = open("e", O_RDWR | O_CREAT | O_EXCL, 0644);
	RAW("empty: SEEK_DATA 0", SYS_lseek, fd, 0L, SEEK_DATA);
	RAW("empty: SEEK_HOLE 0", SYS_lseek, fd, 0L, SEEK_HOLE);
	RAW("empty: SEEK_END 0", SYS_lseek, fd, 0L, SEEK_END);
	close(fd);

	/* a tmpfs directory */
	mkdir("d", 0755);
	int dfd = open("d", O_RDONLY | O_DIRECTORY);
	RAW("dir: SEEK_SET 0", SYS_lseek, dfd, 0L, SEEK_SET);
	RAW("dir: SEEK_CUR 0", SYS_lseek, dfd, 0L, SEEK_CUR);
	RAW("dir: SEEK_SET -1", SYS_lseek, dfd, -1L, SEEK_SET);
	RAW("dir: SEEK_END 0", SYS_lseek, dfd, 0L, SEEK_END);
	RAW("dir: SEEK_DATA 0", SYS_lseek, dfd, 0L, SEEK_DATA);
	close(dfd);

	/* character devices */
	int nul = open("/dev/null", O_RDWR);
	RAW("/dev/null SEEK_SET 100", SYS_lseek, nul, 100L, SEEK_SET);
	RAW("/dev/null SEEK_END 5", SYS_lseek, nul, 5L, SEEK_END);
	RAW("/dev/null SEEK_CUR -5", SYS_lseek, nul, -5L, SEEK_CUR);
	close(nul);
	int zero = open("/dev/zero", O_RDONLY);
	RAW("/dev/zero SEEK_SET 100", SYS_lseek, zero, 100L, SEEK_SET);
	close(zero);

	/* a seq_file in /proc */
	int ps = open("/proc/self/status", O_RDONLY);
	RAW("/proc/self/status SEEK_SET 0", SYS_lseek, ps, 0L, SEEK_SET);
	RAW("/proc/self/status SEEK_END 0", SYS_lseek, ps, 0L, SEEK_END);
	RAW("/proc/self/status SEEK_SET -1", SYS_lseek, ps, -1L, SEEK_SET);
	close(ps);

	/* a host file seen through the overlay */
	int hf = open("/etc/passwd", O_RDONLY);
	fstat(hf, &st);
	r = lseek(hf, 0, SEEK_END);
	printf("/etc/passwd SEEK_END equals st_size: %s\n", r == st.st_size ? "yes" : "no");
	r = lseek(hf, 0, SEEK_DATA);
	printf("/etc/passwd SEEK_DATA 0: %ld\n", r);
	r = lseek(hf, 0, SEEK_HOLE);
	printf("/etc/passwd SEEK_HOLE 0 equals st_size: %s\n", r == st.st_size ? "yes" : "no");
	close(hf);

	RAW("lseek fd -1", SYS_lseek, -1, 0L, SEEK_SET);
	RAW("lseek fd 999", SYS_lseek, 999, 0L, SEEK_SET);

	unlink("f");
	unlink("g");
	unlink("e");
	rmdir("d");
	chdir("/");
	printf("cleanup: %s\n", rmdir(dir) == 0 ? "ok" : "failed");
	return 0;
}
