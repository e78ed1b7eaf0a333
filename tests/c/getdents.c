// SPDX-License-Identifier: Apache-2.0
// Differential test: getdents64 and opendir/readdir on a directory with known entries (names, d_type,
// "." and "..", rewinding, entries added or removed after open, EINVAL/ENOTDIR/EFAULT/EBADF)
// variants: static static-pie
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

struct linux_dirent64 {
	unsigned long d_ino;
	long d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

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

static const char *tname(int t)
{
	switch (t) {
	case DT_REG: return "DT_REG";
	case DT_DIR: return "DT_DIR";
	case DT_LNK: return "DT_LNK";
	case DT_FIFO: return "DT_FIFO";
	case DT_CHR: return "DT_CHR";
	case DT_SOCK: return "DT_SOCK";
	case DT_UNKNOWN: return "DT_UNKNOWN";
	}
	return "?";
}

struct ent {
	char name[256];
	int type;
};

static int cmp(const void *a, const void *b)
{
	return strcmp(((const struct ent *)a)->name, ((const struct ent *)b)->name);
}

static int reclen_ok = 1;

/* Reads the whole directory with a given buffer size; returns the number of entries. */
static int list(int fd, struct ent *out, int max, size_t bufsz, int *calls)
{
	char buf[4096] __attribute__((aligned(8)));
	int n = 0;
	*calls = 0;
	for (;;) {
		long r = syscall(SYS_getdents64, fd, buf, bufsz);
		if (r < 0) {
			int e = errno;
			printf("  getdents64 failed: %s\n", strerrorname_np(e));
			return -1;
		}
		if (r == 0)
			break;
		(*calls)++;
		for (long off = 0; off < r;) {
			struct linux_dirent64 *d = (void *)(buf + off);
			size_t need = (offsetof(struct linux_dirent64, d_name) + strlen(d->d_name) + 1 + 7) & ~7UL;
			if (d->d_reclen != need)
				reclen_ok = 0;
			if (n < max) {
				snprintf(out[n].name, sizeof out[n].name, "%s", d->d_name);
				out[n].type = d->d_type;
			}
			n++;
			off += d->d_reclen;
		}
	}
	return n;
}

static void print(struct ent *e, int n)
{
	qsort(e, n, sizeof *e, cmp);
	for (int i = 0; i < n; i++)
		printf("  %s %s\n", e[i].name, tname(e[i].type));
}

int main(void)
{
	char dir[] = "/tmp/rt-XXXXXX";
	if (!mkdtemp(dir) || chdir(dir) != 0) {
		perror("mkdtemp");
		return 1;
	}
	mkdir("d", 0755);
	close(open("d/alpha", O_CREAT | O_WRONLY, 0644));
	close(open("d/beta", O_CREAT | O_WRONLY, 0644));
	mkdir("d/sub", 0755);
	symlink("alpha", "d/link");
	printf("mkfifo: %s\n", mkfifo("d/fifo", 0644) == 0 ? "ok" : "failed");

	struct ent e[64];
	int calls;
	int fd = open("d", O_RDONLY | O_DIRECTORY);
	int n = list(fd, e, 64, 4096, &calls);
	printf("entries: %d\n", n);
	print(e, n);
	printf("reclen is the 8-aligned record size: %s\n", reclen_ok ? "yes" : "no");
	char buf[4096] __attribute__((aligned(8)));
	RAW("getdents64 at end", SYS_getdents64, fd, buf, sizeof buf);

	/* one entry per call with a small buffer */
	lseek(fd, 0, SEEK_SET);
	n = list(fd, e, 64, 32, &calls);
	printf("32-byte buffer: %d entries in %d calls\n", n, calls);
	lseek(fd, 0, SEEK_SET);
	RAW("buffer of 8 bytes", SYS_getdents64, fd, buf, 8);
	RAW("buffer of 0 bytes", SYS_getdents64, fd, buf, 0);
	RAW("bad buffer", SYS_getdents64, fd, (void *)1, 4096);
	RAW("fd -1", SYS_getdents64, -1, buf, sizeof buf);
	RAW("fd 999", SYS_getdents64, 999, buf, sizeof buf);
	int ffd = open("d/alpha", O_RDONLY);
	RAW("regular file", SYS_getdents64, ffd, buf, sizeof buf);
	close(ffd);
	int pfd = open("d", O_PATH);
	RAW("O_PATH directory", SYS_getdents64, pfd, buf, sizeof buf);
	close(pfd);

	/* changes after open are seen after rewinding */
	lseek(fd, 0, SEEK_SET);
	n = list(fd, e, 64, 4096, &calls);
	printf("before changes: %d\n", n);
	close(open("d/gamma", O_CREAT | O_WRONLY, 0644));
	unlink("d/beta");
	RAW("getdents64 at end after changes", SYS_getdents64, fd, buf, sizeof buf);
	lseek(fd, 0, SEEK_SET);
	n = list(fd, e, 64, 4096, &calls);
	printf("after rewind: %d\n", n);
	print(e, n);
	close(fd);

	/* libc */
	DIR *dp = opendir("d");
	printf("opendir: %s\n", dp ? "ok" : "failed");
	n = 0;
	struct dirent *de;
	while ((de = readdir(dp)) && n < 64) {
		snprintf(e[n].name, sizeof e[n].name, "%s", de->d_name);
		e[n++].type = de->d_type;
	}
	printf("readdir: %d\n", n);
	print(e, n);
	close(open("d/delta", O_CREAT | O_WRONLY, 0644));
	rewinddir(dp);
	n = 0;
	while ((de = readdir(dp)))
		n++;
	printf("readdir after rewinddir and a new file: %d\n", n);
	printf("dirfd valid: %s\n", fcntl(dirfd(dp), F_GETFD) >= 0 ? "yes" : "no");
	closedir(dp);
	errno = 0;
	dp = opendir("d/alpha");
	int err = errno;
	printf("opendir(file): %s %s\n", dp ? "ok" : "NULL", strerrorname_np(err));
	errno = 0;
	dp = opendir("d/nope");
	err = errno;
	printf("opendir(missing): %s %s\n", dp ? "ok" : "NULL", strerrorname_np(err));

	/* an empty directory has only . and .. */
	fd = open("d/sub", O_RDONLY | O_DIRECTORY);
	n = list(fd, e, 64, 4096, &calls);
	printf("empty dir entries: %d\n", n);
	print(e, n);
	close(fd);

	/* removed directory: getdents on it gives nothing */
	fd = open("d/sub", O_RDONLY | O_DIRECTORY);
	rmdir("d/sub");
	RAW("getdents64 of a removed directory", SYS_getdents64, fd, buf, sizeof buf);
	close(fd);

	/* a host directory through the overlay: getdents64 and readdir agree */
	fd = open("/etc", O_RDONLY | O_DIRECTORY);
	int n1 = list(fd, e, 0, 4096, &calls);
	close(fd);
	dp = opendir("/etc");
	int n2 = 0;
	while (readdir(dp))
		n2++;
	closedir(dp);
	printf("/etc: getdents64 and readdir agree: %s, more than 2: %s\n", n1 == n2 ? "yes" : "no", n1 > 2 ? "yes" : "no");

	unlink("d/alpha");
	unlink("d/gamma");
	unlink("d/delta");
	unlink("d/link");
	unlink("d/fifo");
	rmdir("d");
	chdir("/");
	printf("cleanup: %s\n", rmdir(dir) == 0 ? "ok" : "failed");
	return 0;
}
