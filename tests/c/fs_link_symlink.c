// SPDX-License-Identifier: Apache-2.0
// Differential test: link/linkat (nlink, EEXIST, EPERM on a dir, symlinks followed or not,
// AT_EMPTY_PATH) and symlink/symlinkat (dangling, self-loop ELOOP, the 40-link limit for final
// and middle components, relative targets resolved from the link's directory, ".." after a
// symlinked directory)
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

static void put(const char *path, const char *text)
{
	int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	write(fd, text, strlen(text));
	close(fd);
}

static void get(const char *what, const char *path)
{
	char b[64];
	errno = 0;
	int fd = open(path, O_RDONLY);
	if (fd < 0) {
		show(what, fd, errno);
		return;
	}
	ssize_t n = read(fd, b, sizeof b - 1);
	close(fd);
	b[n < 0 ? 0 : n] = 0;
	printf("%s: \"%s\"\n", what, b);
}

static void kind(const char *path)
{
	struct stat st;
	if (lstat(path, &st) != 0) {
		int e = errno;
		printf("  %s: %s\n", path, strerrorname_np(e));
		return;
	}
	printf("  %s: %s nlink %lu\n", path,
	       S_ISREG(st.st_mode) ? "reg" : S_ISDIR(st.st_mode) ? "dir" : S_ISLNK(st.st_mode) ? "lnk" : "?",
	       (unsigned long)st.st_nlink);
}

static int same(const char *a, const char *b)
{
	struct stat x, y;
	return stat(a, &x) == 0 && stat(b, &y) == 0 && x.st_ino == y.st_ino && x.st_dev == y.st_dev;
}

int main(void)
{
	char name[32], target[32], path[PATH_MAX];
	struct stat st;

	setup();
	put("f", "file f");
	mkdir("d", 0755);
	mkdir("d/sub", 0755);
	put("d/sub/g", "file g");

	// link
	RAW("link(f, h)", SYS_link, "f", "h");
	kind("f");
	kind("h");
	printf("f and h same inode: %s\n", same("f", "h") ? "yes" : "no");
	RAW("link(f, d/h2)", SYS_link, "f", "d/h2");
	kind("f");
	RAW("link(f, h) existing", SYS_link, "f", "h");
	RAW("link(f, d) existing dir", SYS_link, "f", "d");
	RAW("link(d, d2) a directory", SYS_link, "d", "d2");
	RAW("link(missing, x)", SYS_link, "missing", "x");
	RAW("link(f, missing/x)", SYS_link, "f", "missing/x");
	RAW("link(f, f/x)", SYS_link, "f", "f/x");
	RAW("link(f, x/) trailing slash", SYS_link, "f", "x/");
	RAW("link(f/, x)", SYS_link, "f/", "x");
	RAW("link(\"\", x)", SYS_link, "", "x");
	symlink("f", "lf");
	symlink("missing", "dangling");
	RAW("link(lf, lf2) does not follow", SYS_link, "lf", "lf2");
	kind("lf2");
	kind("lf");
	RAW("linkat(lf, lf3, AT_SYMLINK_FOLLOW)", SYS_linkat, AT_FDCWD, "lf", AT_FDCWD, "lf3", AT_SYMLINK_FOLLOW);
	kind("lf3");
	RAW("link(dangling, dl)", SYS_link, "dangling", "dl");
	kind("dl");
	RAW("linkat(dangling, dl2, AT_SYMLINK_FOLLOW)", SYS_linkat, AT_FDCWD, "dangling", AT_FDCWD, "dl2",
	    AT_SYMLINK_FOLLOW);
	RAW("linkat(f, x, flags 0x1)", SYS_linkat, AT_FDCWD, "f", AT_FDCWD, "x", 0x1);
	int dfd = open("d", O_RDONLY | O_DIRECTORY);
	RAW("linkat(dfd, sub/g, AT_FDCWD, g2)", SYS_linkat, dfd, "sub/g", AT_FDCWD, "g2", 0);
	get("g2", "g2");
	int fd = open("f", O_RDONLY);
	RAW("linkat(fd, \"\", AT_FDCWD, viafd, AT_EMPTY_PATH)", SYS_linkat, fd, "", AT_FDCWD, "viafd", AT_EMPTY_PATH);
	kind("viafd");
	RAW("linkat(fd, \"\", AT_FDCWD, x, 0)", SYS_linkat, fd, "", AT_FDCWD, "x", 0);
	close(fd);
	put("tmp", "temporary");
	fd = open("tmp", O_RDONLY);
	unlink("tmp");
	RAW("linkat(fd of unlinked file, \"\", back, AT_EMPTY_PATH)", SYS_linkat, fd, "", AT_FDCWD, "back",
	    AT_EMPTY_PATH);
	close(fd);
	int ffd = open("f", O_RDONLY);
	RAW("linkat(file fd, x, AT_FDCWD, y)", SYS_linkat, ffd, "x", AT_FDCWD, "y", 0);
	close(ffd);
	unlink("h");
	unlink("d/h2");
	unlink("viafd");
	unlink("lf3");
	kind("f");

	// symlink
	RAW("symlink(missing2, s)", SYS_symlink, "missing2", "s");
	RAW("stat(s)", SYS_stat, "s", &st);
	RAW("lstat(s)", SYS_lstat, "s", &st);
	RAW("symlink(f, s) existing", SYS_symlink, "f", "s");
	RAW("symlink(f, d) existing dir", SYS_symlink, "f", "d");
	RAW("symlink(f, missing/s)", SYS_symlink, "f", "missing/s");
	RAW("symlink(f, s2/) trailing slash", SYS_symlink, "f", "s2/");
	RAW("symlink(f, \"\")", SYS_symlink, "f", "");
	RAW("symlinkat(f, dfd, s3)", SYS_symlinkat, "../f", dfd, "s3");
	get("d/s3 -> ../f", "d/s3");
	RAW("symlinkat(f, 99, s4)", SYS_symlinkat, "f", 99, "s4");
	RAW("symlink(a, a) self loop", SYS_symlink, "a", "a");
	RAW("stat(a)", SYS_stat, "a", &st);
	RAW("lstat(a)", SYS_lstat, "a", &st);
	RAW("open(a, O_CREAT)", SYS_open, "a", O_CREAT | O_WRONLY, 0644);
	RAW("chdir(a)", SYS_chdir, "a");
	symlink("y", "x");
	symlink("x", "y");
	RAW("stat(x) two-link loop", SYS_stat, "x", &st);
	RAW("stat(x/z)", SYS_stat, "x/z", &st);

	// chains: c0 -> f, cN -> c(N-1): opening cN follows N links
	symlink("f", "c1");
	for (int i = 2; i <= 42; i++) {
		snprintf(name, sizeof name, "c%d", i);
		snprintf(target, sizeof target, "c%d", i - 1);
		symlink(target, name);
	}
	for (int i = 38; i <= 42; i++) {
		snprintf(name, sizeof name, "c%d", i);
		errno = 0;
		long r = syscall(SYS_open, name, O_RDONLY);
		show(i == 38 ? "open(c38)" : i == 39 ? "open(c39)" : i == 40 ? "open(c40)" : i == 41 ? "open(c41)" : "open(c42)",
		     r < 0 ? -1 : 0, errno);
		if (r >= 0)
			close(r);
	}
	RAW("stat(c40)", SYS_stat, "c40", &st);
	RAW("stat(c41)", SYS_stat, "c41", &st);
	RAW("lstat(c41)", SYS_lstat, "c41", &st);
	// the same for directories in the middle of a path: eN/sub/g
	symlink("d", "e1");
	for (int i = 2; i <= 41; i++) {
		snprintf(name, sizeof name, "e%d", i);
		snprintf(target, sizeof target, "e%d", i - 1);
		symlink(target, name);
	}
	RAW("stat(e40/sub/g)", SYS_stat, "e40/sub/g", &st);
	RAW("stat(e41/sub/g)", SYS_stat, "e41/sub/g", &st);
	// links spread over components count together: e20/sub/ then a 21-link chain inside
	symlink("g", "d/sub/k1");
	for (int i = 2; i <= 21; i++) {
		snprintf(name, sizeof name, "d/sub/k%d", i);
		snprintf(target, sizeof target, "k%d", i - 1);
		symlink(target, name);
	}
	RAW("stat(e20/sub/k20) 40 links in all", SYS_stat, "e20/sub/k20", &st);
	RAW("stat(e20/sub/k21) 41 links in all", SYS_stat, "e20/sub/k21", &st);
	RAW("stat(e19/sub/k21) 40 links in all", SYS_stat, "e19/sub/k21", &st);

	// relative targets resolve from the link's own directory
	symlink("../../f", "d/sub/rel");
	get("d/sub/rel -> ../../f", "d/sub/rel");
	symlink("sub/g", "d/down");
	get("d/down -> sub/g", "d/down");
	symlink("d/sub", "lsub");
	get("lsub/../down (.. after a symlinked dir is physical)", "lsub/../down");
	printf("lsub/.. is d: %s\n", same("lsub/..", "d") ? "yes" : "no");
	printf("lsub/../.. is top: %s\n", same("lsub/../..", ".") ? "yes" : "no");
	snprintf(path, sizeof path, "%s/f", top);
	symlink(path, "d/abs");
	get("d/abs -> TOP/f", "d/abs");
	symlink("sub/", "d/slash");
	get("d/slash/g (target with trailing slash)", "d/slash/g");
	RAW("stat(d/slash)", SYS_stat, "d/slash", &st);
	symlink("f", "d/fslash");
	RAW("stat(lf/) symlink to a file with a slash", SYS_stat, "lf/", &st);
	symlink("f/", "lfs");
	RAW("stat(lfs) target f/", SYS_stat, "lfs", &st);
	symlink("..", "d/sub/up");
	get("d/sub/up/sub/g", "d/sub/up/sub/g");
	symlink(".", "dot");
	get("dot/dot/dot/f", "dot/dot/dot/f");

	close(dfd);
	finish();
	return 0;
}
