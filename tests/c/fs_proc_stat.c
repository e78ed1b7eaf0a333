// SPDX-License-Identifier: Apache-2.0
// Differential test: stat/lstat of /proc/self and its links and directories (types, modes, nlink,
// owners), and of /proc/self/fd/N links to a /tmp file, a directory and /dev/null
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

static void st(const char *label, const char *path, int follow)
{
	struct stat s;
	errno = 0;
	long r = follow ? stat(path, &s) : lstat(path, &s);
	if (r != 0) {
		show(label, r, errno);
		return;
	}
	const char *t = S_ISREG(s.st_mode) ? "reg" : S_ISDIR(s.st_mode) ? "dir" : S_ISLNK(s.st_mode) ? "lnk"
		      : S_ISCHR(s.st_mode) ? "chr" : "other";
	printf("%s %s: %s mode %04o uid %u gid %u", follow ? "stat" : "lstat", label, t, s.st_mode & 07777, s.st_uid,
	       s.st_gid);
	if (S_ISDIR(s.st_mode) && strncmp(path, "/proc", 5) == 0)
		printf(" nlink %lu", (unsigned long)s.st_nlink);
	if (S_ISREG(s.st_mode))
		printf(" size %lld", (long long)s.st_size);
	printf("\n");
}

int main(void)
{
	char p[64];
	setup();
	int fd = open("f", O_CREAT | O_RDWR, 0640);
	write(fd, "12345", 5);
	mkdir("d", 0710);
	int dfd = open("d", O_RDONLY | O_DIRECTORY);
	int nfd = open("/dev/null", O_RDONLY);

	st("/proc/self", "/proc/self", 0);
	st("/proc/self", "/proc/self", 1);
	st("/proc/self/exe", "/proc/self/exe", 0);
	st("/proc/self/exe", "/proc/self/exe", 1);
	st("/proc/self/cwd", "/proc/self/cwd", 0);
	st("/proc/self/cwd", "/proc/self/cwd", 1);
	st("/proc/self/root", "/proc/self/root", 0);
	st("/proc/self/fd", "/proc/self/fd", 1);
	snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
	st("/proc/self/fd/FILE", p, 0);
	st("/proc/self/fd/FILE", p, 1);
	snprintf(p, sizeof p, "/proc/self/fd/%d", dfd);
	st("/proc/self/fd/DIR", p, 0);
	st("/proc/self/fd/DIR", p, 1);
	snprintf(p, sizeof p, "/proc/self/fd/%d", nfd);
	st("/proc/self/fd/NULL", p, 1);
	unlink("f");
	snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
	st("/proc/self/fd/FILE after unlink", p, 1);
	snprintf(p, sizeof p, "/proc/self/fd/%d/x", fd);
	st("/proc/self/fd/FILE/x", p, 1);
	st("/proc/self/fd/999", "/proc/self/fd/999", 0);

	close(fd);
	close(dfd);
	close(nfd);
	finish();
	return 0;
}
