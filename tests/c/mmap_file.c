// SPDX-License-Identifier: Apache-2.0
// Differential test: mmap of files: MAP_PRIVATE contents, copy-on-write, offsets, zero tail of the last
// page, access checks (EACCES/ENODEV/EBADF/EINVAL), /dev/zero, a host file, /proc/self/maps naming it
// variants: static static-pie
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PG 4096L

static void showp(const char *what, void *p)
{
	int e = errno;
	if (p == MAP_FAILED)
		printf("%s = -1 %s\n", what, strerrorname_np(e));
	else
		printf("%s = ok\n", what);
}

static void *mm(const char *what, size_t len, int prot, int flags, int fd, long off)
{
	errno = 0;
	void *p = (void *)syscall(SYS_mmap, NULL, len, prot, flags, fd, off);
	if ((long)p < 0 && (long)p > -4096)
		p = MAP_FAILED;
	showp(what, p);
	return p;
}

static int allzero(const char *p, long n)
{
	for (long i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

/* The /proc/self/maps line of the mapping that starts at p, without its newline. */
static int maps_line(void *p, char *line, size_t n)
{
	char want[64];
	snprintf(want, sizeof want, "%lx-", (unsigned long)p);
	FILE *m = fopen("/proc/self/maps", "r");
	int found = 0;
	while (m && fgets(line, n, m)) {
		if (strncmp(line, want, strlen(want)) == 0) {
			line[strcspn(line, "\n")] = 0;
			found = 1;
			break;
		}
	}
	if (m)
		fclose(m);
	return found;
}

int main(void)
{
	char dir[] = "/tmp/rt-XXXXXX";
	if (!mkdtemp(dir) || chdir(dir) != 0) {
		perror("mkdtemp");
		return 1;
	}
	static char data[2 * PG];
	for (long i = 0; i < (long)sizeof data; i++)
		data[i] = 'a' + i % 26 + (i / PG);
	int fd = open("f", O_RDWR | O_CREAT | O_EXCL, 0644);
	write(fd, data, PG + 1000); /* two pages, the second one partial */

	char *p = mm("mmap PRIVATE READ 2 pages", 2 * PG, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED)
		return 1;
	printf("contents match: %s\n", memcmp(p, data, PG + 1000) == 0 ? "yes" : "no");
	printf("tail of last page zero: %s\n", allzero(p + PG + 1000, PG - 1000) ? "yes" : "no");
	munmap(p, 2 * PG);

	p = mm("mmap PRIVATE READ|WRITE", 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	memcpy(p, "PRIVATE", 7);
	p[PG + 2000] = 'X';
	char buf[16] = { 0 };
	pread(fd, buf, 7, 0);
	printf("file after writing the private mapping: \"%s\"\n", buf);
	struct stat st;
	fstat(fd, &st);
	printf("size unchanged: %ld\n", (long)st.st_size);
	printf("mapping keeps its own bytes: %.7s %c\n", p, p[PG + 2000]);
	char *q = mm("second PRIVATE mapping", PG, PROT_READ, MAP_PRIVATE, fd, 0);
	printf("second mapping sees the file, not the first mapping's copy: %.7s\n", q);
	munmap(q, PG);
	munmap(p, 2 * PG);

	p = mm("mmap at offset 4096", PG, PROT_READ, MAP_PRIVATE, fd, PG);
	printf("matches file from 4096: %s\n", memcmp(p, data + PG, 1000) == 0 ? "yes" : "no");
	char line[512];
	printf("maps line shows offset 00001000: %s\n",
	       maps_line(p, line, sizeof line) && strstr(line, " r--p 00001000 ") ? "yes" : "no");
	munmap(p, PG);
	mm("mmap at offset 100", PG, PROT_READ, MAP_PRIVATE, fd, 100);
	mm("mmap at offset -4096", PG, PROT_READ, MAP_PRIVATE, fd, -PG);
	mm("mmap length 0", 0, PROT_READ, MAP_PRIVATE, fd, 0);
	mm("mmap neither SHARED nor PRIVATE", PG, PROT_READ, 0, fd, 0);
	p = mm("mmap past EOF (not touched)", PG, PROT_READ, MAP_PRIVATE, fd, 4 * PG);
	if (p != MAP_FAILED)
		munmap(p, PG);

	/* the mapping outlives the descriptor */
	p = mm("mmap then close", PG, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	printf("readable after close: %s\n", memcmp(p, data, PG) == 0 ? "yes" : "no");

	/* /proc/self/maps names the file */
	char cwd[256];
	getcwd(cwd, sizeof cwd);
	int found = maps_line(p, line, sizeof line);
	printf("maps line found: %s\n", found ? "yes" : "no");
	if (found) {
		char *path = strrchr(line, ' ');
		printf("maps line is shared: %s\n", strstr(line, " r--s 00000000 ") ? "yes" : "no");
		printf("maps line names the file: %s\n",
		       path && strncmp(path + 1, cwd, strlen(cwd)) == 0 && strcmp(path + 1 + strlen(cwd), "/f") == 0 ? "yes" : "no");
	}
	munmap(p, PG);

	/* access checks */
	int ro = open("f", O_RDONLY);
	p = mm("O_RDONLY: SHARED READ", PG, PROT_READ, MAP_SHARED, ro, 0);
	munmap(p, PG);
	mm("O_RDONLY: SHARED READ|WRITE", PG, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0);
	mm("O_RDONLY: SHARED WRITE", PG, PROT_WRITE, MAP_SHARED, ro, 0);
	p = mm("O_RDONLY: PRIVATE READ|WRITE", PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, ro, 0);
	munmap(p, PG);
	p = mm("O_RDONLY: SHARED READ", PG, PROT_READ, MAP_SHARED, ro, 0);
	errno = 0;
	long r = mprotect(p, PG, PROT_READ | PROT_WRITE);
	int e = errno;
	printf("mprotect WRITE on it = %ld %s\n", r, r ? strerrorname_np(e) : "");
	munmap(p, PG);
	close(ro);
	int wo = open("f", O_WRONLY);
	mm("O_WRONLY: SHARED WRITE", PG, PROT_WRITE, MAP_SHARED, wo, 0);
	mm("O_WRONLY: PRIVATE READ", PG, PROT_READ, MAP_PRIVATE, wo, 0);
	close(wo);
	int ap = open("f", O_RDWR | O_APPEND);
	mm("O_APPEND: SHARED WRITE", PG, PROT_READ | PROT_WRITE, MAP_SHARED, ap, 0);
	close(ap);
	int pa = open("f", O_PATH);
	mm("O_PATH", PG, PROT_READ, MAP_PRIVATE, pa, 0);
	close(pa);
	mkdir("d", 0755);
	int dfd = open("d", O_RDONLY | O_DIRECTORY);
	mm("directory", PG, PROT_READ, MAP_PRIVATE, dfd, 0);
	close(dfd);
	mm("fd -1 without MAP_ANONYMOUS", PG, PROT_READ, MAP_PRIVATE, -1, 0);
	mm("fd 999", PG, PROT_READ, MAP_PRIVATE, 999, 0);

	/* devices */
	int z = open("/dev/zero", O_RDWR);
	p = mm("/dev/zero PRIVATE", 3 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, z, 0);
	printf("zeroed: %s\n", allzero(p, 3 * PG) ? "yes" : "no");
	p[5] = 1;
	printf("writable: %s\n", p[5] == 1 ? "yes" : "no");
	munmap(p, 3 * PG);
	p = mm("/dev/zero SHARED", PG, PROT_READ | PROT_WRITE, MAP_SHARED, z, 0);
	printf("zeroed: %s\n", allzero(p, PG) ? "yes" : "no");
	munmap(p, PG);
	close(z);
	int nul = open("/dev/null", O_RDWR);
	mm("/dev/null", PG, PROT_READ, MAP_PRIVATE, nul, 0);
	close(nul);

	/* a host file seen through the overlay */
	int hf = open("/etc/passwd", O_RDONLY);
	fstat(hf, &st);
	char *rd = malloc(st.st_size);
	long got = read(hf, rd, st.st_size);
	p = mm("/etc/passwd PRIVATE", st.st_size, PROT_READ, MAP_PRIVATE, hf, 0);
	printf("/etc/passwd: read everything: %s, mapping equals read(): %s\n", got == st.st_size ? "yes" : "no",
	       memcmp(p, rd, st.st_size) == 0 ? "yes" : "no");
	long tail = (st.st_size + PG - 1) / PG * PG - st.st_size;
	printf("/etc/passwd tail of last page zero: %s\n", allzero(p + st.st_size, tail) ? "yes" : "no");
	munmap(p, st.st_size);
	mm("/etc/passwd SHARED WRITE (read-only open)", PG, PROT_READ | PROT_WRITE, MAP_SHARED, hf, 0);
	close(hf);

	unlink("f");
	rmdir("d");
	chdir("/");
	printf("cleanup: %s\n", rmdir(dir) == 0 ? "ok" : "failed");
	return 0;
}
