// SPDX-License-Identifier: Apache-2.0
// Differential test: chdir/fchdir/getcwd: relative and symlinked paths (getcwd shows the physical
// path), ".." at "/", ENOTDIR/ENOENT/EBADF, ERANGE for short buffers, a cwd deeper than 4096
// bytes (ENAMETOOLONG from getcwd while relative lookups keep working)
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

static char buf[16384];

// getcwd printed relative to the private directory.
static void cwd(const char *what)
{
	errno = 0;
	long r = syscall(SYS_getcwd, buf, sizeof buf);
	if (r < 0) {
		show(what, r, errno);
		return;
	}
	size_t n = strlen(top);
	if (strncmp(buf, top, n) == 0 && (buf[n] == 0 || buf[n] == '/'))
		printf("%s = TOP%s (length ok: %s)\n", what, buf + n, (size_t)r == strlen(buf) + 1 ? "yes" : "no");
	else
		printf("%s = %s (length ok: %s)\n", what, buf, (size_t)r == strlen(buf) + 1 ? "yes" : "no");
}

int main(void)
{
	setup();
	mkdir("d", 0755);
	mkdir("d/sub", 0755);
	mkdir("locked", 0);
	close(open("f", O_CREAT | O_WRONLY, 0644));
	symlink("d/sub", "lsub");

	cwd("getcwd at start");
	RAW("chdir(d)", SYS_chdir, "d");
	cwd("getcwd");
	RAW("chdir(sub/../sub/./)", SYS_chdir, "sub/../sub/./");
	cwd("getcwd");
	RAW("chdir(..)", SYS_chdir, "..");
	cwd("getcwd");
	RAW("chdir(.)", SYS_chdir, ".");
	cwd("getcwd");
	RAW("chdir(../lsub) symlink", SYS_chdir, "../lsub");
	cwd("getcwd");
	RAW("chdir(..) after the symlink", SYS_chdir, "..");
	cwd("getcwd");
	RAW("chdir(TOP)", SYS_chdir, top);
	RAW("chdir(locked) mode 0 as root", SYS_chdir, "locked");
	cwd("getcwd");
	chdir(top);
	RAW("chdir(f)", SYS_chdir, "f");
	RAW("chdir(f/)", SYS_chdir, "f/");
	RAW("chdir(missing)", SYS_chdir, "missing");
	RAW("chdir(\"\")", SYS_chdir, "");
	RAW("chdir((char *)1)", SYS_chdir, (char *)1);
	cwd("getcwd after failed chdirs");

	// fchdir
	int dfd = open("d/sub", O_RDONLY | O_DIRECTORY);
	int ffd = open("f", O_RDONLY);
	RAW("fchdir(file fd)", SYS_fchdir, ffd);
	RAW("fchdir(99)", SYS_fchdir, 99);
	RAW("fchdir(-1)", SYS_fchdir, -1);
	RAW("fchdir(d/sub fd)", SYS_fchdir, dfd);
	cwd("getcwd");
	close(dfd);
	close(ffd);

	// "/" and ".."
	RAW("chdir(/)", SYS_chdir, "/");
	cwd("getcwd");
	RAW("chdir(..) at /", SYS_chdir, "..");
	cwd("getcwd");
	RAW("chdir(/../../..)", SYS_chdir, "/../../..");
	cwd("getcwd");
	RAW("chdir(//)", SYS_chdir, "//");
	cwd("getcwd");
	RAW("chdir(/proc/self/cwd)", SYS_chdir, "/proc/self/cwd");
	cwd("getcwd");
	chdir(top);

	// short buffers
	RAW("getcwd(buf, 0)", SYS_getcwd, buf, 0);
	RAW("getcwd(buf, 1)", SYS_getcwd, buf, 1);
	long len = syscall(SYS_getcwd, buf, sizeof buf);
	errno = 0;
	long r = syscall(SYS_getcwd, buf, len - 1);
	show("getcwd(buf, exact length - 1)", r, errno);
	r = syscall(SYS_getcwd, buf, len);
	printf("getcwd(buf, exact length) returns the length: %s\n", r == len ? "yes" : "no");
	RAW("getcwd(NULL, 4096)", SYS_getcwd, NULL, 4096);
	RAW("getcwd((void *)1, 4096)", SYS_getcwd, (void *)1, 4096);
	chdir("/");
	RAW("getcwd(buf, 2) at /", SYS_getcwd, buf, 2);
	RAW("getcwd(buf, 1) at /", SYS_getcwd, buf, 1);
	chdir(top);

	// deeper than 4096 bytes
	char name[201];
	memset(name, 'n', 200);
	name[200] = 0;
	int depth = 0;
	for (; depth < 25; depth++) {
		if (mkdir(name, 0755) != 0 || chdir(name) != 0) {
			int e = errno;
			printf("descend failed at %d: %s\n", depth, strerrorname_np(e));
			break;
		}
	}
	printf("depth %d\n", depth);
	errno = 0;
	r = syscall(SYS_getcwd, buf, sizeof buf);
	show("getcwd at depth 25 (over 5000 bytes)", r < 0 ? -1 : 0, errno);
	int hfd;
	FD(hfd, "open(here, O_CREAT) deep", SYS_open, "here", O_CREAT | O_WRONLY, 0644);
	close(hfd);
	RAW("stat(here) deep", SYS_stat, "here", buf);
	RAW("unlink(here) deep", SYS_unlink, "here");
	for (; depth > 0; depth--) {
		if (chdir("..") != 0 || rmdir(name) != 0) {
			printf("ascend failed at %d\n", depth);
			break;
		}
	}
	cwd("getcwd after climbing back");

	finish();
	return 0;
}
