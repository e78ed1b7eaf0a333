// SPDX-License-Identifier: Apache-2.0
// Differential test: writable MAP_SHARED of a tmpfs file is coherent with read/write/pread/pwrite,
// with a second shared mapping, with untouched pages of a MAP_PRIVATE mapping, and across ftruncate
// variants: static static-pie
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define PG 4096L

int main(void)
{
	/* /dev/shm is tmpfs both natively and in the sandbox. */
	char dir[] = "/dev/shm/rt-XXXXXX";
	if (!mkdtemp(dir) || chdir(dir) != 0) {
		perror("mkdtemp");
		return 1;
	}
	int fd = open("f", O_RDWR | O_CREAT | O_EXCL, 0644);
	static char zeros[2 * PG];
	write(fd, zeros, sizeof zeros);

	char *a = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	char *b = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	char *pr = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (a == MAP_FAILED || b == MAP_FAILED || pr == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	pr[0] = 'p'; /* the private copy of page 0 is now its own */

	memcpy(a, "via mapping", 11);
	char buf[32] = { 0 };
	pread(fd, buf, 11, 0);
	printf("pread sees the mapping's store: \"%s\"\n", buf);
	memset(buf, 0, sizeof buf);
	lseek(fd, 0, SEEK_SET);
	read(fd, buf, 11);
	printf("read sees it too: \"%s\"\n", buf);
	printf("second shared mapping sees it: \"%.11s\"\n", b);
	printf("private mapping's copied page does not: %s\n", pr[1] == 0 ? "yes" : "no");

	pwrite(fd, "via pwrite", 10, PG + 100);
	printf("shared mapping sees pwrite: \"%.10s\"\n", a + PG + 100);
	printf("private mapping's untouched page sees pwrite: \"%.10s\"\n", pr + PG + 100);

	lseek(fd, 50, SEEK_SET);
	write(fd, "via write", 9);
	printf("shared mapping sees write: \"%.9s\"\n", a + 50);
	b[60] = '!';
	printf("mapping a sees store through b: %c\n", a[60]);

	printf("msync = %d\n", msync(a, 2 * PG, MS_SYNC));
	struct stat st;
	fstat(fd, &st);
	printf("size unchanged: %ld\n", (long)st.st_size);

	/* grow the file under a larger mapping */
	char *c = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	printf("ftruncate to 4 pages = %d\n", ftruncate(fd, 4 * PG));
	printf("new page reads zero: %s\n", c[3 * PG + 5] == 0 ? "yes" : "no");
	c[3 * PG + 5] = 'N';
	memset(buf, 0, sizeof buf);
	pread(fd, buf, 1, 3 * PG + 5);
	printf("store into the new page reaches the file: %c\n", buf[0]);

	/* shrink, then grow again: the dropped data is gone */
	ftruncate(fd, PG);
	ftruncate(fd, 4 * PG);
	printf("after shrink and grow, page 3 is zero again: %s\n", c[3 * PG + 5] == 0 ? "yes" : "no");
	printf("page 0 kept: \"%.11s\"\n", c);

	/* data survives unmapping and closing */
	munmap(a, 2 * PG);
	munmap(b, 2 * PG);
	munmap(c, 4 * PG);
	munmap(pr, 2 * PG);
	close(fd);
	fd = open("f", O_RDONLY);
	memset(buf, 0, sizeof buf);
	read(fd, buf, 11);
	printf("after unmap and reopen: \"%s\"\n", buf);
	close(fd);

	/* O_TRUNC then a fresh write is seen by an existing mapping */
	fd = open("f", O_RDWR);
	a = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	fd = open("f", O_RDWR | O_TRUNC);
	write(fd, "fresh", 5);
	printf("mapping after O_TRUNC and write: \"%.5s\" then zero: %s\n", a, a[5] == 0 ? "yes" : "no");
	munmap(a, PG);
	close(fd);

	unlink("f");
	chdir("/");
	printf("cleanup: %s\n", rmdir(dir) == 0 ? "ok" : "failed");
	return 0;
}
