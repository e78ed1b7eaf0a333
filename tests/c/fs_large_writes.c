// SPDX-License-Identifier: Apache-2.0
// Differential test: large and small writes into a /tmp file (dense, sparse, across chunk
// boundaries, from a mapped host file, next to a page written through a shared mapping): the
// contents, the SEEK_DATA/SEEK_HOLE map (page exact) after writes, truncation and punching
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define KIB 1024L
#define MIB (1024L * 1024L)

static char top[32];
static unsigned char buf[3 * MIB];

static void fill(long len, unsigned seed)
{
	for (long i = 0; i < len; i++)
		buf[i] = (unsigned char)(seed * 131 + i * 7 + (i >> 12));
}

static void put(int fd, long off, long len, unsigned seed)
{
	fill(len, seed);
	long r = pwrite(fd, buf, len, off);
	printf("pwrite(%ld KiB at %ld KiB) = %s\n", len / KIB, off / KIB,
	       r == len ? "all" : strerror(errno));
}

// The data/hole map from 0 to the end, as SEEK_DATA/SEEK_HOLE give it.
static void holes(int fd, const char *when)
{
	struct stat st;
	fstat(fd, &st);
	printf("map %s (size %ld KiB):", when, (long)st.st_size / KIB);
	off_t at = 0;
	while (at < st.st_size) {
		off_t d = lseek(fd, at, SEEK_DATA);
		if (d < 0)
			break;
		off_t h = lseek(fd, d, SEEK_HOLE);
		printf(" [%ld,%ld)", (long)d / KIB, (long)h / KIB);
		at = h;
	}
	printf("\n");
}

static void sum(int fd, const char *when)
{
	uint64_t h = 1469598103934665603ULL;
	long total = 0, n;
	while ((n = pread(fd, buf, 64 * KIB, total)) > 0) {
		for (long i = 0; i < n; i++)
			h = (h ^ buf[i]) * 1099511628211ULL;
		total += n;
	}
	printf("sum %s: %ld bytes, %016llx\n", when, total, (unsigned long long)h);
}

int main(void)
{
	strcpy(top, "/tmp/lw-XXXXXX");
	if (!mkdtemp(top) || chdir(top) != 0) {
		perror("setup");
		return 1;
	}
	int fd = open("f", O_CREAT | O_RDWR | O_TRUNC, 0644);
	put(fd, 0, 100 * KIB, 1);            // from a chunk's start
	put(fd, 700 * KIB, 200 * KIB, 2);    // in the middle, holes on both sides
	put(fd, 3 * MIB + 12 * KIB, 4 * KIB, 3); // small
	put(fd, 5 * MIB, MIB, 4);            // a whole chunk
	put(fd, 7 * MIB - 4 * KIB, MIB + 8 * KIB, 5); // across two chunk boundaries
	put(fd, 9 * MIB + 100, 80 * KIB, 6); // not page aligned
	holes(fd, "after writes");
	sum(fd, "after writes");

	// A page written through a shared mapping, in a hole; then a large write ending right
	// before it and one starting right after it: the mapped byte stays.
	unsigned char *m = mmap(NULL, MIB, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	m[400 * KIB + 10] = 0x5a;
	put(fd, 304 * KIB, 96 * KIB, 7);
	put(fd, 404 * KIB, 96 * KIB, 8);
	unsigned char b = 0;
	pread(fd, &b, 1, 400 * KIB + 10);
	printf("mapped byte: mapping %#x, read %#x\n", m[400 * KIB + 10], b);
	printf("written bytes seen in the mapping: %s\n",
	       m[304 * KIB] == (unsigned char)(7 * 131) ? "yes" : "no");
	munmap(m, MIB);
	holes(fd, "after mapped write");

	// From a mapped host file (the sandbox's page cache of a lower file).
	int src = open("/etc/passwd", O_RDONLY);
	struct stat sst;
	fstat(src, &sst);
	long len = sst.st_size < 64 * KIB ? sst.st_size : 64 * KIB;
	void *p = mmap(NULL, len, PROT_READ, MAP_PRIVATE, src, 0);
	long r = pwrite(fd, p, len, 10 * MIB);
	printf("pwrite(from a mapped host file) = %s\n", r == len ? "all" : strerror(errno));
	long r2 = pwrite(fd, p, len < 100 ? len : 100, 10 * MIB + 200 * KIB);
	printf("pwrite(100 bytes from it) = %s\n", r2 >= 0 ? "ok" : strerror(errno));
	munmap(p, len);
	close(src);
	holes(fd, "after host-file writes");
	sum(fd, "after host-file writes");

	if (ftruncate(fd, 750 * KIB) != 0 || ftruncate(fd, 2 * MIB) != 0)
		perror("ftruncate");
	holes(fd, "after truncate");
	sum(fd, "after truncate");
	if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 64 * KIB, 64 * KIB) != 0)
		perror("fallocate");
	put(fd, 1200 * KIB, 128 * KIB, 9);
	holes(fd, "after punch");
	sum(fd, "after punch");

	// Appends of 64 KiB after a small start, as a copy writes.
	int g = open("g", O_CREAT | O_RDWR | O_TRUNC, 0644);
	fill(MIB, 10);
	long w = write(g, buf, 100);
	for (int i = 0; i < 40; i++)
		w += write(g, buf + 100 + i * 64 * KIB, 64 * KIB);
	printf("appended %ld bytes\n", w);
	holes(g, "of the appended file");
	sum(g, "of the appended file");
	close(g);
	close(fd);
	unlink("f");
	unlink("g");
	chdir("/");
	printf("cleanup: %s\n", rmdir(top) == 0 ? "ok" : strerror(errno));
	return 0;
}
