// SPDX-License-Identifier: Apache-2.0
// Differential test: private mappings of one host file (the root's lower layer, which runrs reads once and maps copy-on-write): writes through one mapping, mprotect, fork, MADV_DONTNEED and read() never show in another; offsets and the zeroed tail past the file's end
// variants: static static-pie
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define PG 4096L

static const char *path = "/usr/lib/x86_64-linux-gnu/libc.so.6";
static char *file;
static long size;

static void *map(long len, int prot, long off)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0) {
		perror("open");
		exit(2);
	}
	void *p = mmap(NULL, len, prot, MAP_PRIVATE, fd, off);
	close(fd);
	if (p == MAP_FAILED) {
		printf("mmap off %ld: %s\n", off, strerrorname_np(errno));
		exit(3);
	}
	return p;
}

/* Whether `p` holds the file's bytes from `off` on (`len` bytes, zeroes past the end). */
static int same(const char *p, long off, long len)
{
	for (long i = 0; i < len; i++) {
		char want = off + i < size ? file[off + i] : 0;
		if (p[i] != want)
			return 0;
	}
	return 1;
}

int main(void)
{
	int fd = open(path, O_RDONLY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0) {
		perror(path);
		return 2;
	}
	size = st.st_size;
	file = malloc(size);
	for (long got = 0; got < size;) {
		long n = pread(fd, file + got, size - got, got);
		if (n <= 0) {
			perror("pread");
			return 2;
		}
		got += n;
	}
	close(fd);
	long len = (size + PG - 1) & ~(PG - 1);
	printf("file is larger than 64 KiB: %d\n", size > 65536);

	char *a = map(len, PROT_READ, 0);
	char *b = map(len, PROT_READ, 0);
	char *c = map(len, PROT_READ | PROT_WRITE, 0);
	printf("a, b, c show the file: %d %d %d\n", same(a, 0, len), same(b, 0, len), same(c, 0, len));
	printf("tail past the end is zero: %d\n", same(a + size, size, len - size));

	/* A write through one private mapping shows nowhere else. */
	c[0] ^= 0x55;
	c[len - 1] = 7;
	memset(c + 5 * PG, 0xaa, 3 * PG);
	printf("c changed: %d, a and b unchanged: %d %d\n", !same(c, 0, len), same(a, 0, len),
	       same(b, 0, len));
	char *d = map(len, PROT_READ, 0);
	printf("a later mapping shows the file: %d\n", same(d, 0, len));

	/* A read-only mapping made writable copies on its first write. */
	printf("mprotect a rw: %d\n", mprotect(a, 2 * PG, PROT_READ | PROT_WRITE));
	a[PG + 3] = 'x';
	printf("a changed at its page: %d, rest of a unchanged: %d, b and d unchanged: %d %d\n",
	       a[PG + 3] == 'x', same(a + 2 * PG, 2 * PG, len - 2 * PG), same(b, 0, len),
	       same(d, 0, len));

	/* A write to a read-only one is SIGSEGV. */
	pid_t pid = fork();
	if (pid == 0) {
		b[10] = 1;
		_exit(0);
	}
	int status;
	waitpid(pid, &status, 0);
	printf("write to a read-only mapping: signal %d\n", WIFSIGNALED(status) ? WTERMSIG(status) : 0);

	/* After fork: the child's writes are its own. */
	pid = fork();
	if (pid == 0) {
		c[2 * PG] = 9;
		a[PG + 4] = 'y';
		char *e = map(len, PROT_READ | PROT_WRITE, 0);
		e[100] ^= 1;
		_exit(same(d, 0, len) && !same(e, 0, len) && c[2 * PG] == 9 ? 0 : 1);
	}
	waitpid(pid, &status, 0);
	printf("child exit %d; parent's c and a kept theirs: %d %d\n", WEXITSTATUS(status),
	       c[2 * PG] == file[2 * PG], a[PG + 4] == file[PG + 4]);

	/* MADV_DONTNEED on a private file mapping brings the file's bytes back. */
	printf("madvise c DONTNEED: %d\n", madvise(c, len, MADV_DONTNEED));
	printf("c shows the file again: %d\n", same(c, 0, len));

	/* Offsets: a mapping from page 3, and one running past the file's end. */
	char *f = map(4 * PG, PROT_READ, 3 * PG);
	printf("offset 3 pages: %d\n", same(f, 3 * PG, 4 * PG));
	long last = (size - 1) & ~(PG - 1);
	char *g = map(PG, PROT_READ | PROT_WRITE, last);
	printf("last page, zero past the end: %d\n", same(g, last, PG));

	/* The file itself never changed. */
	char *h = map(len, PROT_READ, 0);
	printf("a fresh mapping still shows the file: %d\n", same(h, 0, len));
	munmap(a, len);
	munmap(c, len);
	printf("after unmapping a and c, b, d and h: %d %d %d\n", same(b, 0, len), same(d, 0, len),
	       same(h, 0, len));
	return 0;
}
