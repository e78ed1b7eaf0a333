// SPDX-License-Identifier: Apache-2.0
// Differential test: mkdir/mkdirat (modes under umask, EEXIST, ENOENT, ENOTDIR, trailing slash),
// rmdir (ENOTEMPTY, ENOTDIR, EINVAL for ".", "..", "/", the cwd), unlink/unlinkat (EISDIR,
// AT_REMOVEDIR, symlinks, open files)
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

static void mode(const char *path)
{
	struct stat st;
	errno = 0;
	if (lstat(path, &st) != 0) {
		int e = errno;
		printf("  %s: %s\n", path, strerrorname_np(e));
		return;
	}
	printf("  %s: %s %04o\n", path, S_ISDIR(st.st_mode) ? "dir" : S_ISLNK(st.st_mode) ? "lnk" : "other",
	       st.st_mode & 07777);
}

int main(void)
{
	char buf[PATH_MAX];
	long r;

	setup();
	close(open("f", O_CREAT | O_WRONLY, 0644));
	symlink("nowhere", "dangling");

	RAW("mkdir(d, 0777) umask 022", SYS_mkdir, "d", 0777);
	mode("d");
	umask(0);
	RAW("mkdir(s, 07777) umask 0", SYS_mkdir, "s", 07777);
	mode("s");
	chmod("s", 02777);
	RAW("mkdir(s/inherit, 0755) in a setgid dir", SYS_mkdir, "s/inherit", 0755);
	mode("s/inherit");
	umask(077);
	RAW("mkdir(u, 0777) umask 077", SYS_mkdir, "u", 0777);
	mode("u");
	umask(022);
	RAW("mkdir(d) again", SYS_mkdir, "d", 0755);
	RAW("mkdir(f)", SYS_mkdir, "f", 0755);
	RAW("mkdir(dangling)", SYS_mkdir, "dangling", 0755);
	RAW("lstat(nowhere) after", SYS_lstat, "nowhere", buf);
	RAW("mkdir(missing/b)", SYS_mkdir, "missing/b", 0755);
	RAW("mkdir(f/b)", SYS_mkdir, "f/b", 0755);
	RAW("mkdir(t/) trailing slash", SYS_mkdir, "t/", 0755);
	mode("t");
	RAW("mkdir(t2//)", SYS_mkdir, "t2//", 0755);
	RAW("mkdir(.)", SYS_mkdir, ".", 0755);
	RAW("mkdir(..)", SYS_mkdir, "..", 0755);
	RAW("mkdir(d/.)", SYS_mkdir, "d/.", 0755);
	RAW("mkdir(\"\")", SYS_mkdir, "", 0755);
	RAW("mkdir((char *)1)", SYS_mkdir, (char *)1, 0755);
	RAW("mkdir(/)", SYS_mkdir, "/", 0755);
	int dfd = open("d", O_RDONLY | O_DIRECTORY);
	RAW("mkdirat(dfd, in, 0700)", SYS_mkdirat, dfd, "in", 0700);
	mode("d/in");
	int ffd = open("f", O_RDONLY);
	RAW("mkdirat(file fd, x)", SYS_mkdirat, ffd, "x", 0700);
	RAW("mkdirat(99, x)", SYS_mkdirat, 99, "x", 0700);
	close(ffd);

	// rmdir
	RAW("rmdir(d) non-empty", SYS_rmdir, "d");
	RAW("rmdir(f)", SYS_rmdir, "f");
	RAW("rmdir(missing)", SYS_rmdir, "missing");
	RAW("rmdir(.)", SYS_rmdir, ".");
	RAW("rmdir(..)", SYS_rmdir, "..");
	RAW("rmdir(d/.)", SYS_rmdir, "d/.");
	RAW("rmdir(d/in/..)", SYS_rmdir, "d/in/..");
	RAW("rmdir(/)", SYS_rmdir, "/");
	RAW("rmdir(\"\")", SYS_rmdir, "");
	symlink("t", "lt");
	RAW("rmdir(lt) symlink to empty dir", SYS_rmdir, "lt");
	RAW("rmdir(lt/)", SYS_rmdir, "lt/");
	mode("t");
	RAW("rmdir(t/)", SYS_rmdir, "t/");
	RAW("rmdir(t2/.)", SYS_rmdir, "t2/.");
	RAW("rmdir(t2//)", SYS_rmdir, "t2//");
	RAW("rmdir(f/)", SYS_rmdir, "f/");
	mode("t2");

	// removing the cwd
	mkdir("e", 0755);
	chdir("e");
	RAW("rmdir(../e) while it is the cwd", SYS_rmdir, "../e");
	errno = 0;
	char *c = getcwd(buf, sizeof buf);
	show("getcwd in a removed dir", c ? 0 : -1, errno);
	int xfd;
	FD(xfd, "open(x, O_CREAT) in a removed cwd", SYS_open, "x", O_CREAT | O_WRONLY, 0644);
	if (xfd >= 0)
		close(xfd);
	RAW("mkdir(x) in a removed cwd", SYS_mkdir, "x", 0755);
	RAW("stat(.) in a removed cwd", SYS_stat, ".", buf);
	RAW("chdir(..) from a removed cwd", SYS_chdir, "..");
	c = getcwd(buf, sizeof buf);
	printf("back at top: %s\n", c && strcmp(buf, top) == 0 ? "yes" : "no");

	// unlink / unlinkat
	RAW("unlink(d)", SYS_unlink, "d");
	RAW("unlink(d/)", SYS_unlink, "d/");
	RAW("unlink(missing)", SYS_unlink, "missing");
	RAW("unlink(f/)", SYS_unlink, "f/");
	RAW("unlink(f/x)", SYS_unlink, "f/x");
	RAW("unlink(\"\")", SYS_unlink, "");
	RAW("unlink(.)", SYS_unlink, ".");
	RAW("unlink(/)", SYS_unlink, "/");
	RAW("unlink(lt/)", SYS_unlink, "lt/");
	RAW("unlink(lt) removes the symlink", SYS_unlink, "lt");
	mode("lt");
	mode("t2");
	RAW("unlink(dangling)", SYS_unlink, "dangling");
	mkdir("t2", 0755);
	RAW("unlinkat(AT_FDCWD, t2, AT_REMOVEDIR)", SYS_unlinkat, AT_FDCWD, "t2", AT_REMOVEDIR);
	RAW("unlinkat(AT_FDCWD, f, AT_REMOVEDIR)", SYS_unlinkat, AT_FDCWD, "f", AT_REMOVEDIR);
	RAW("unlinkat(AT_FDCWD, f, 0x1)", SYS_unlinkat, AT_FDCWD, "f", 0x1);
	RAW("unlinkat(AT_FDCWD, u, 0)", SYS_unlinkat, AT_FDCWD, "u", 0);
	RAW("unlinkat(dfd, in, AT_REMOVEDIR)", SYS_unlinkat, dfd, "in", AT_REMOVEDIR);
	close(open("d/g", O_CREAT | O_WRONLY, 0644));
	RAW("unlinkat(dfd, g, 0)", SYS_unlinkat, dfd, "g", 0);
	RAW("unlinkat(dfd, g, 0) again", SYS_unlinkat, dfd, "g", 0);
	RAW("unlinkat(dfd, ., AT_REMOVEDIR)", SYS_unlinkat, dfd, ".", AT_REMOVEDIR);
	RAW("unlinkat(dfd, .., AT_REMOVEDIR)", SYS_unlinkat, dfd, "..", AT_REMOVEDIR);
	RAW("unlinkat(99, x, 0)", SYS_unlinkat, 99, "x", 0);
	RAW("rmdir(d) now empty", SYS_rmdir, "d");
	RAW("mkdirat(dfd of removed d, x)", SYS_mkdirat, dfd, "x", 0755);
	close(dfd);

	// an unlinked file stays readable through its fd
	int fd = open("f", O_RDWR);
	write(fd, "kept", 4);
	RAW("unlink(f) while open", SYS_unlink, "f");
	memset(buf, 0, 8);
	r = pread(fd, buf, 8, 0);
	printf("pread after unlink = %ld \"%s\"\n", r, buf);
	RAW("write after unlink", SYS_write, fd, "!", 1);
	close(fd);
	RAW("stat(f)", SYS_stat, "f", buf);
	RAW("rmdir(s/inherit)", SYS_rmdir, "s/inherit");
	RAW("rmdir(s)", SYS_rmdir, "s");

	finish();
	return 0;
}
