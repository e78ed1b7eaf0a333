// SPDX-License-Identifier: Apache-2.0
// Differential test: statx stx_mask for various requested masks (mask 0, single bits,
// STATX_BASIC_STATS, STATX_ALL) on a file, a directory, a symlink and a host file
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

static void mask(const char *path, int flags, unsigned req)
{
	struct statx x;
	memset(&x, 0, sizeof x);
	errno = 0;
	long r = syscall(SYS_statx, AT_FDCWD, path, flags, req, &x);
	if (r != 0) {
		show(path, r, errno);
		return;
	}
	// Only the basic-stats bits: btime, mount id and the rest depend on the filesystem.
	printf("statx(%s, mask 0x%x): stx_mask & BASIC_STATS = 0x%x\n", path, req, x.stx_mask & STATX_BASIC_STATS);
}

int main(void)
{
	static const unsigned reqs[] = {0,          STATX_TYPE, STATX_MODE,  STATX_SIZE,        STATX_MTIME,
					STATX_CTIME, STATX_ATIME, STATX_INO, STATX_BASIC_STATS, STATX_ALL};
	setup();
	close(open("f", O_CREAT | O_WRONLY, 0644));
	mkdir("d", 0755);
	symlink("f", "l");
	const char *paths[] = {"f", "d", "l"};
	for (unsigned p = 0; p < 3; p++)
		for (unsigned i = 0; i < sizeof reqs / sizeof reqs[0]; i++)
			mask(paths[p], p == 2 ? AT_SYMLINK_NOFOLLOW : 0, reqs[i]);
	finish();
	return 0;
}
