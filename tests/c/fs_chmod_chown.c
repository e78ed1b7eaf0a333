// SPDX-License-Identifier: Apache-2.0
// Differential test: chmod/fchmod/fchmodat and chown/lchown/fchown/fchownat as root: modes with
// high bits, symlinks followed or not, -1 leaving ids unchanged, setuid/setgid cleared by chown,
// AT_EMPTY_PATH, error paths
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

static void attr(const char *path)
{
	struct stat st;
	if (lstat(path, &st) != 0) {
		int e = errno;
		printf("  %s: %s\n", path, strerrorname_np(e));
		return;
	}
	printf("  %s: %s mode %04o uid %u gid %u\n", path,
	       S_ISREG(st.st_mode) ? "reg" : S_ISDIR(st.st_mode) ? "dir" : S_ISLNK(st.st_mode) ? "lnk" : "?",
	       st.st_mode & 07777, st.st_uid, st.st_gid);
}

int main(void)
{
	setup();
	close(open("f", O_CREAT | O_WRONLY, 0644));
	mkdir("d", 0755);
	symlink("f", "lf");
	symlink("missing", "dangling");

	// chmod
	RAW("chmod(f, 0600)", SYS_chmod, "f", 0600);
	attr("f");
	RAW("chmod(f, 07777)", SYS_chmod, "f", 07777);
	attr("f");
	RAW("chmod(f, 0170644) type bits ignored", SYS_chmod, "f", 0170644);
	attr("f");
	RAW("chmod(f, 0)", SYS_chmod, "f", 0);
	attr("f");
	RAW("chmod(lf, 0640) follows", SYS_chmod, "lf", 0640);
	attr("f");
	attr("lf");
	RAW("chmod(dangling, 0600)", SYS_chmod, "dangling", 0600);
	RAW("chmod(missing, 0600)", SYS_chmod, "missing", 0600);
	RAW("chmod(f/, 0600)", SYS_chmod, "f/", 0600);
	RAW("chmod(\"\", 0600)", SYS_chmod, "", 0600);
	RAW("chmod((char *)1, 0600)", SYS_chmod, (char *)1, 0600);
	RAW("chmod(d, 01777)", SYS_chmod, "d", 01777);
	attr("d");
	RAW("chmod(d/, 0700)", SYS_chmod, "d/", 0700);
	attr("d");
	int fd = open("f", O_RDONLY);
	RAW("fchmod(O_RDONLY fd, 0444)", SYS_fchmod, fd, 0444);
	attr("f");
	RAW("fchmod(99, 0444)", SYS_fchmod, 99, 0444);
	int dfd = open("d", O_RDONLY | O_DIRECTORY);
	close(open("d/g", O_CREAT | O_WRONLY, 0644));
	RAW("fchmodat(dfd, g, 0604)", SYS_fchmodat, dfd, "g", 0604);
	attr("d/g");
	RAW("fchmodat(AT_FDCWD, lf, 0644)", SYS_fchmodat, AT_FDCWD, "lf", 0644);
	attr("f");
	RAW("fchmodat(99, g, 0644)", SYS_fchmodat, 99, "g", 0644);
	RAW("fchmodat(file fd, g, 0644)", SYS_fchmodat, fd, "g", 0644);
	char pfd[32];
	snprintf(pfd, sizeof pfd, "/proc/self/fd/%d", fd);
	RAW("chmod(/proc/self/fd/FD of f, 0664)", SYS_chmod, pfd, 0664);
	attr("f");

	// chown
	RAW("chown(f, 1234, 1234)", SYS_chown, "f", 1234, 1234);
	attr("f");
	RAW("chown(f, -1, -1)", SYS_chown, "f", -1, -1);
	attr("f");
	RAW("chown(f, -1, 5678)", SYS_chown, "f", -1, 5678);
	attr("f");
	RAW("chown(f, 4321, -1)", SYS_chown, "f", 4321, -1);
	attr("f");
	RAW("chown(lf, 0, 0) follows", SYS_chown, "lf", 0, 0);
	attr("f");
	attr("lf");
	RAW("lchown(lf, 1234, 1234)", SYS_lchown, "lf", 1234, 1234);
	attr("f");
	attr("lf");
	RAW("lchown(dangling, 99, 99)", SYS_lchown, "dangling", 99, 99);
	attr("dangling");
	RAW("chown(dangling, 99, 99)", SYS_chown, "dangling", 99, 99);
	RAW("fchown(fd, 1234, 0)", SYS_fchown, fd, 1234, 0);
	attr("f");
	RAW("fchown(99, 0, 0)", SYS_fchown, 99, 0, 0);
	RAW("fchownat(AT_FDCWD, lf, 7, 7, AT_SYMLINK_NOFOLLOW)", SYS_fchownat, AT_FDCWD, "lf", 7, 7, AT_SYMLINK_NOFOLLOW);
	attr("f");
	attr("lf");
	RAW("fchownat(AT_FDCWD, lf, 8, 8, 0)", SYS_fchownat, AT_FDCWD, "lf", 8, 8, 0);
	attr("f");
	RAW("fchownat(fd, \"\", 9, 9, AT_EMPTY_PATH)", SYS_fchownat, fd, "", 9, 9, AT_EMPTY_PATH);
	attr("f");
	RAW("fchownat(fd, \"\", 9, 9, 0)", SYS_fchownat, fd, "", 9, 9, 0);
	RAW("fchownat(dfd, g, 10, 10, 0)", SYS_fchownat, dfd, "g", 10, 10, 0);
	attr("d/g");
	RAW("fchownat(f, flags 0x1)", SYS_fchownat, AT_FDCWD, "f", 0, 0, 0x1);
	RAW("chown(missing, 0, 0)", SYS_chown, "missing", 0, 0);
	RAW("chown(d, 1234, 1234)", SYS_chown, "d", 1234, 1234);
	attr("d");

	// setuid/setgid bits and chown
	chown("f", 0, 0);
	RAW("chmod(f, 06755)", SYS_chmod, "f", 06755);
	attr("f");
	RAW("chown(f, 1234, -1) on a setuid file", SYS_chown, "f", 1234, -1);
	attr("f");
	chmod("f", 06755);
	RAW("chown(f, -1, -1) on a setuid file", SYS_chown, "f", -1, -1);
	attr("f");
	chmod("f", 02745);
	RAW("chown(f, 0, 0) setgid without group exec", SYS_chown, "f", 0, 0);
	attr("f");
	chmod("d", 06755);
	RAW("chown(d, 0, 0) on a setuid dir", SYS_chown, "d", 0, 0);
	attr("d");
	chmod("d", 0755);

	close(fd);
	close(dfd);
	finish();
	return 0;
}
