// SPDX-License-Identifier: Apache-2.0
// Differential test: read/write/pread64/pwrite64/readv/writev/preadv/pwritev/preadv2/pwritev2 on a
// file in a private /tmp directory: offsets, EOF, holes, file position rules, EBADF/EISDIR/EFAULT/EINVAL
// variants: static static-pie
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
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

static void dump(const char *what, const char *b, long n)
{
	printf("%s: \"", what);
	for (long i = 0; i < n; i++) {
		if (b[i] >= 32 && b[i] < 127)
			putchar(b[i]);
		else
			printf("\\%d", (unsigned char)b[i]);
	}
	printf("\"\n");
}

static long pos(int fd)
{
	return lseek(fd, 0, SEEK_CUR);
}

int main(void)
{
	char dir[] = "/tmp/rt-XXXXXX";
	if (!mkdtemp(dir) || chdir(dir) != 0) {
		perror("mkdtemp");
		return 1;
	}
	char buf[64];
	long r;

	int fd = open("f", O_RDWR | O_CREAT | O_EXCL, 0644);
	printf("open f: %s\n", fd >= 0 ? "ok" : "failed");
	RAW("write hello world", SYS_write, fd, "hello world", 11);
	printf("pos after write: %ld\n", pos(fd));
	RAW("read at EOF", SYS_read, fd, buf, sizeof buf);
	RAW("read at EOF, unmapped buffer", SYS_read, fd, (void *)1, 10);
	RAW("read count 0 bad buffer", SYS_read, fd, (void *)1, 0);
	lseek(fd, 6, SEEK_SET);
	memset(buf, 0, sizeof buf);
	errno = 0;
	r = syscall(SYS_read, fd, buf, sizeof buf);
	show("read from 6 (short)", r, errno);
	dump("  got", buf, r > 0 ? r : 0);
	printf("pos: %ld\n", pos(fd));

	RAW("pread 5 at 0", SYS_pread64, fd, buf, 5, 0);
	dump("  got", buf, 5);
	printf("pos unchanged: %ld\n", pos(fd));
	RAW("pread at 11 (EOF)", SYS_pread64, fd, buf, 5, 11);
	RAW("pread at 1000 (past EOF)", SYS_pread64, fd, buf, 5, 1000);
	RAW("pread offset -1", SYS_pread64, fd, buf, 5, -1L);
	RAW("pwrite offset -1", SYS_pwrite64, fd, "x", 1, -1L);
	RAW("pwrite HELLO at 0", SYS_pwrite64, fd, "HELLO", 5, 0);
	printf("pos unchanged: %ld\n", pos(fd));
	RAW("pwrite END at 20 (hole)", SYS_pwrite64, fd, "END", 3, 20);
	struct stat st;
	fstat(fd, &st);
	printf("size: %ld\n", (long)st.st_size);
	errno = 0;
	r = syscall(SYS_pread64, fd, buf, sizeof buf, 0);
	show("pread all", r, errno);
	dump("  got", buf, r > 0 ? r : 0);

	/* bad buffer with data available */
	RAW("read bad buffer, data available", SYS_read, fd, (void *)1, 10);
	RAW("pread bad buffer", SYS_pread64, fd, (void *)1, 10, 0);
	RAW("write bad buffer", SYS_write, fd, (void *)1, 10);
	RAW("write count 0 bad buffer", SYS_write, fd, (void *)1, 0);

	/* vectored */
	char a[4], b[8], c[16];
	struct iovec iov[3] = { { a, sizeof a }, { b, sizeof b }, { c, sizeof c } };
	lseek(fd, 0, SEEK_SET);
	memset(a, 0, 4), memset(b, 0, 8), memset(c, 0, 16);
	RAW("readv 4+8+16 from 0", SYS_readv, fd, iov, 3);
	dump("  a", a, 4);
	dump("  b", b, 8);
	dump("  c", c, 11);
	printf("pos: %ld\n", pos(fd));
	RAW("readv at EOF", SYS_readv, fd, iov, 3);
	RAW("readv iovcnt -1", SYS_readv, fd, iov, -1);
	RAW("readv iovcnt 1025", SYS_readv, fd, iov, 1025);
	RAW("readv iovcnt 0", SYS_readv, fd, iov, 0);
	RAW("readv bad iov pointer", SYS_readv, fd, (void *)1, 1);

	struct iovec wv[3] = { { "ab", 2 }, { "", 0 }, { "cdef", 4 } };
	lseek(fd, 0, SEEK_SET);
	RAW("writev ab,,cdef at 0", SYS_writev, fd, wv, 3);
	printf("pos: %ld\n", pos(fd));
	RAW("pwritev XY at 8", SYS_pwritev, fd, wv, 1, 8L, 0L);
	printf("pos unchanged: %ld\n", pos(fd));
	struct iovec rv[2] = { { a, 3 }, { b, 5 } };
	memset(a, 0, 4), memset(b, 0, 8);
	RAW("preadv 3+5 at 4", SYS_preadv, fd, rv, 2, 4L, 0L);
	dump("  a", a, 3);
	dump("  b", b, 5);
	printf("pos unchanged: %ld\n", pos(fd));
	RAW("preadv offset -1", SYS_preadv, fd, rv, 2, -1L, -1L);

	/* preadv2/pwritev2 with offset -1 use and advance the file position */
	lseek(fd, 2, SEEK_SET);
	memset(a, 0, 4), memset(b, 0, 8);
	RAW("preadv2 offset -1 from pos 2", SYS_preadv2, fd, rv, 2, -1L, -1L, 0);
	dump("  a", a, 3);
	dump("  b", b, 5);
	printf("pos advanced: %ld\n", pos(fd));
	RAW("preadv2 offset 0", SYS_preadv2, fd, rv, 1, 0L, 0L, 0);
	dump("  a", a, 3);
	printf("pos unchanged: %ld\n", pos(fd));
	RAW("preadv2 offset -2", SYS_preadv2, fd, rv, 1, -2L, -1L, 0);
	RAW("preadv2 unknown flag", SYS_preadv2, fd, rv, 1, 0L, 0L, 0x40000000);
	struct iovec zv[1] = { { "ZZ", 2 } };
	RAW("pwritev2 offset -1", SYS_pwritev2, fd, zv, 1, -1L, -1L, 0);
	printf("pos advanced: %ld\n", pos(fd));
	RAW("pwritev2 offset 0", SYS_pwritev2, fd, zv, 1, 0L, 0L, 0);
	printf("pos unchanged: %ld\n", pos(fd));
	errno = 0;
	r = syscall(SYS_pread64, fd, buf, sizeof buf, 0);
	show("pread all", r, errno);
	dump("  got", buf, r > 0 ? r : 0);
	close(fd);

	/* access modes */
	int ro = open("f", O_RDONLY);
	int wo = open("f", O_WRONLY);
	RAW("write on O_RDONLY", SYS_write, ro, "x", 1);
	RAW("pwrite on O_RDONLY", SYS_pwrite64, ro, "x", 1, 0L);
	RAW("read on O_WRONLY", SYS_read, wo, buf, 1);
	RAW("pread on O_WRONLY", SYS_pread64, wo, buf, 1, 0L);
	struct iovec one = { buf, 1 };
	RAW("readv on O_WRONLY", SYS_readv, wo, &one, 1);
	RAW("writev on O_RDONLY", SYS_writev, ro, &one, 1);
	close(ro);
	close(wo);

	/* O_APPEND: write goes to the end, pwrite too (Linux quirk) */
	int ap = open("f", O_WRONLY | O_APPEND);
	lseek(ap, 0, SEEK_SET);
	RAW("write on O_APPEND after seek 0", SYS_write, ap, "+", 1);
	printf("pos: %ld\n", pos(ap));
	RAW("pwrite at 0 on O_APPEND", SYS_pwrite64, ap, "!", 1, 0L);
	fstat(ap, &st);
	printf("size: %ld\n", (long)st.st_size);
	close(ap);
	fd = open("f", O_RDONLY);
	errno = 0;
	r = syscall(SYS_read, fd, buf, sizeof buf);
	show("read all", r, errno);
	dump("  got", buf, r > 0 ? r : 0);
	close(fd);

	/* O_TRUNC */
	fd = open("f", O_RDWR | O_TRUNC);
	fstat(fd, &st);
	printf("size after O_TRUNC: %ld\n", (long)st.st_size);
	RAW("read empty file", SYS_read, fd, buf, 1);
	close(fd);

	/* directories */
	mkdir("d", 0755);
	int dfd = open("d", O_RDONLY | O_DIRECTORY);
	RAW("read on a directory", SYS_read, dfd, buf, 1);
	RAW("pread on a directory", SYS_pread64, dfd, buf, 1, 0L);
	RAW("readv on a directory", SYS_readv, dfd, &one, 1);
	RAW("write on a directory", SYS_write, dfd, "x", 1);
	close(dfd);
	RAW("open dir O_WRONLY", SYS_openat, AT_FDCWD, "d", O_WRONLY);
	RAW("open dir O_RDWR", SYS_openat, AT_FDCWD, "d", O_RDWR);
	RAW("open file O_DIRECTORY", SYS_openat, AT_FDCWD, "f", O_RDONLY | O_DIRECTORY);

	/* bad fds */
	RAW("read fd -1", SYS_read, -1, buf, 1);
	RAW("write fd 999", SYS_write, 999, buf, 1);
	RAW("pread fd 999", SYS_pread64, 999, buf, 1, 0L);

	/* O_PATH */
	int pfd = open("f", O_PATH);
	RAW("read on O_PATH", SYS_read, pfd, buf, 1);
	RAW("write on O_PATH", SYS_write, pfd, "x", 1);
	close(pfd);

	unlink("f");
	rmdir("d");
	chdir("/");
	printf("cleanup: %s\n", rmdir(dir) == 0 ? "ok" : "failed");
	return 0;
}
