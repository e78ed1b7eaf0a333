// SPDX-License-Identifier: Apache-2.0
// Differential test: stat/lstat/fstat/newfstatat/statx on files of each type (regular, directory,
// symlink, FIFO, socket node): type bits, modes, sizes, nlink across link/unlink/mkdir,
// AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH, statx masks and flag checks
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
#include <sys/sysmacros.h>
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

static const char *type(mode_t m)
{
	switch (m & S_IFMT) {
	case S_IFREG:
		return "reg";
	case S_IFDIR:
		return "dir";
	case S_IFLNK:
		return "lnk";
	case S_IFIFO:
		return "fifo";
	case S_IFSOCK:
		return "sock";
	case S_IFCHR:
		return "chr";
	case S_IFBLK:
		return "blk";
	}
	return "?";
}

static void desc(const char *what, long r, int err, const struct stat *st)
{
	if (r != 0) {
		show(what, r, err);
		return;
	}
	printf("%s: %s mode %04o nlink %lu uid %u gid %u", what, type(st->st_mode), st->st_mode & 07777,
	       (unsigned long)st->st_nlink, st->st_uid, st->st_gid);
	if (!S_ISDIR(st->st_mode))
		printf(" size %lld", (long long)st->st_size);
	printf(" rdev %s\n", st->st_rdev == 0 ? "0" : "non-zero");
}

#define ST(what, ...)                                    \
	do {                                             \
		struct stat s_;                          \
		errno = 0;                               \
		long r_ = syscall(__VA_ARGS__, &s_);     \
		desc(what, r_, errno, &s_);              \
	} while (0)

#define STAT_AT(what, dfd, path, flags)                                        \
	do {                                                                   \
		struct stat s_;                                                \
		errno = 0;                                                     \
		long r_ = syscall(SYS_newfstatat, dfd, path, &s_, flags);      \
		desc(what, r_, errno, &s_);                                    \
	} while (0)

static void sx(const char *what, int dfd, const char *path, int flags, unsigned mask)
{
	struct statx x;
	memset(&x, 0xee, sizeof x);
	errno = 0;
	long r = syscall(SYS_statx, dfd, path, flags, mask, &x);
	if (r != 0) {
		show(what, r, errno);
		return;
	}
	printf("%s: mask & BASIC_STATS 0x%x, %s mode %04o nlink %u uid %u gid %u", what,
	       x.stx_mask & STATX_BASIC_STATS, type(x.stx_mode),
	       x.stx_mode & 07777, x.stx_nlink, x.stx_uid, x.stx_gid);
	if (!S_ISDIR(x.stx_mode))
		printf(" size %llu", (unsigned long long)x.stx_size);
	printf("\n");
}

int main(void)
{
	struct stat a, b;
	long r;

	setup();
	int fd = open("f", O_CREAT | O_RDWR, 0640);
	write(fd, "0123456789", 10);
	mkdir("d", 0751);
	symlink("f", "lf");
	symlink("a/much/longer/target/that/does/not/exist", "dangling");
	symlink("d", "ld");
	r = syscall(SYS_mknod, "fifo", S_IFIFO | 0666, 0);
	show("mknod(fifo, S_IFIFO|0666)", r, errno);
	r = syscall(SYS_mknod, "sock", S_IFSOCK | 0600, 0);
	show("mknod(sock, S_IFSOCK|0600)", r, errno);
	r = syscall(SYS_mknod, "reg", S_IFREG | 0600, 0);
	show("mknod(reg, S_IFREG|0600)", r, errno);
	r = syscall(SYS_mknod, "reg0", 0600, 0);
	show("mknod(reg0, 0600) (type 0 is regular)", r, errno);
	r = syscall(SYS_mknod, "bad", 0170000 | 0600, 0);
	show("mknod(bad, type 0170000)", r, errno);
	r = syscall(SYS_mknod, "f", S_IFIFO | 0600, 0);
	show("mknod(f) existing", r, errno);
	r = syscall(SYS_mknod, "dir", S_IFDIR | 0600, 0);
	show("mknod(dir, S_IFDIR)", r, errno);
	r = mkfifo("fifo2", 0600);
	show("mkfifo(fifo2, 0600)", r, errno);

	ST("stat(f)", SYS_stat, "f");
	ST("stat(d)", SYS_stat, "d");
	ST("stat(lf)", SYS_stat, "lf");
	ST("lstat(lf)", SYS_lstat, "lf");
	ST("stat(dangling)", SYS_stat, "dangling");
	ST("lstat(dangling)", SYS_lstat, "dangling");
	ST("stat(ld)", SYS_stat, "ld");
	ST("lstat(ld)", SYS_lstat, "ld");
	ST("lstat(ld/)", SYS_lstat, "ld/");
	ST("stat(fifo)", SYS_stat, "fifo");
	ST("stat(fifo2)", SYS_stat, "fifo2");
	ST("stat(sock)", SYS_stat, "sock");
	ST("stat(reg)", SYS_stat, "reg");
	ST("stat(reg0)", SYS_stat, "reg0");
	ST("fstat(f fd)", SYS_fstat, fd);
	ST("stat(/)", SYS_stat, "/");
	ST("stat(/dev/null)", SYS_stat, "/dev/null");
	stat("/dev/null", &a);
	printf("/dev/null rdev is 1:3: %s\n", major(a.st_rdev) == 1 && minor(a.st_rdev) == 3 ? "yes" : "no");
	ST("fstat(-1)", SYS_fstat, -1);
	ST("fstat(99)", SYS_fstat, 99);

	stat("f", &a);
	printf("st_blocks * 512 >= st_size for f: %s\n", a.st_blocks * 512 >= a.st_size ? "yes" : "no");
	fstat(fd, &b);
	printf("stat(f) and fstat(fd) same ino/dev: %s\n", a.st_ino == b.st_ino && a.st_dev == b.st_dev ? "yes" : "no");
	lstat("lf", &b);
	printf("lstat(lf) differs in ino from f: %s, same dev: %s\n", a.st_ino != b.st_ino ? "yes" : "no",
	       a.st_dev == b.st_dev ? "yes" : "no");

	// newfstatat flags
	STAT_AT("fstatat(lf, 0)", AT_FDCWD, "lf", 0);
	STAT_AT("fstatat(lf, AT_SYMLINK_NOFOLLOW)", AT_FDCWD, "lf", AT_SYMLINK_NOFOLLOW);
	STAT_AT("fstatat(fd, \"\", AT_EMPTY_PATH)", fd, "", AT_EMPTY_PATH);
	STAT_AT("fstatat(fd, \"\", 0)", fd, "", 0);
	STAT_AT("fstatat(AT_FDCWD, \"\", AT_EMPTY_PATH)", AT_FDCWD, "", AT_EMPTY_PATH);
	STAT_AT("fstatat(fd, x)", fd, "x", 0);
	STAT_AT("fstatat(99, f)", 99, "f", 0);
	STAT_AT("fstatat(99, \"\", AT_EMPTY_PATH)", 99, "", AT_EMPTY_PATH);
	STAT_AT("fstatat(f, flags 0x1)", AT_FDCWD, "f", 0x1);
	STAT_AT("fstatat(f, AT_NO_AUTOMOUNT)", AT_FDCWD, "f", AT_NO_AUTOMOUNT);
	int dfd = open("d", O_RDONLY | O_DIRECTORY);
	close(open("d/inner", O_CREAT | O_WRONLY, 0600));
	STAT_AT("fstatat(dfd, inner)", dfd, "inner", 0);
	STAT_AT("fstatat(dfd, ../f)", dfd, "../f", 0);
	STAT_AT("fstatat(dfd, \"\", AT_EMPTY_PATH)", dfd, "", AT_EMPTY_PATH);
	int lfd = open("lf", O_PATH | O_NOFOLLOW);
	STAT_AT("fstatat(O_PATH symlink fd, \"\", AT_EMPTY_PATH)", lfd, "", AT_EMPTY_PATH);
	close(lfd);

	// nlink
	ST("stat(d) before mkdir d/sub", SYS_stat, "d");
	mkdir("d/sub", 0755);
	ST("stat(d) after mkdir d/sub", SYS_stat, "d");
	rmdir("d/sub");
	ST("stat(d) after rmdir d/sub", SYS_stat, "d");
	link("f", "f2");
	ST("stat(f) after link", SYS_stat, "f");
	link("f", "d/f3");
	ST("stat(f2) after second link", SYS_stat, "f2");
	unlink("f2");
	unlink("d/f3");
	ST("stat(f) after unlinks", SYS_stat, "f");
	unlink("f");
	ST("fstat(fd) after unlinking the last name", SYS_fstat, fd);
	ST("stat(lf) after unlinking its target", SYS_stat, "lf");

	// statx
	fd = open("x", O_CREAT | O_RDWR, 0604);
	write(fd, "abc", 3);
	sx("statx(x)", AT_FDCWD, "x", 0, STATX_BASIC_STATS);
	sx("statx(x, STATX_ALL)", AT_FDCWD, "x", 0, STATX_ALL);
	sx("statx(d)", AT_FDCWD, "d", 0, STATX_BASIC_STATS);
	sx("statx(ld)", AT_FDCWD, "ld", 0, STATX_BASIC_STATS);
	sx("statx(ld, AT_SYMLINK_NOFOLLOW)", AT_FDCWD, "ld", AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS);
	sx("statx(dangling, AT_SYMLINK_NOFOLLOW)", AT_FDCWD, "dangling", AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS);
	sx("statx(dangling)", AT_FDCWD, "dangling", 0, STATX_BASIC_STATS);
	sx("statx(fifo)", AT_FDCWD, "fifo", 0, STATX_BASIC_STATS);
	sx("statx(fd, \"\", AT_EMPTY_PATH)", fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS);
	sx("statx(fd, NULL, AT_EMPTY_PATH)", fd, NULL, AT_EMPTY_PATH, STATX_BASIC_STATS);
	sx("statx(fd, \"\", 0)", fd, "", 0, STATX_BASIC_STATS);
	link("x", "x2");
	sx("statx(x) after link", AT_FDCWD, "x", 0, STATX_BASIC_STATS);
	unlink("x2");
	sx("statx(x) after unlink", AT_FDCWD, "x", 0, STATX_BASIC_STATS);
	sx("statx(x, mask STATX__RESERVED)", AT_FDCWD, "x", 0, STATX__RESERVED);
	sx("statx(x, flags 0x1)", AT_FDCWD, "x", 0x1, STATX_BASIC_STATS);
	sx("statx(x, FORCE_SYNC|DONT_SYNC)", AT_FDCWD, "x", AT_STATX_FORCE_SYNC | AT_STATX_DONT_SYNC,
	   STATX_BASIC_STATS);
	sx("statx(x, AT_STATX_DONT_SYNC)", AT_FDCWD, "x", AT_STATX_DONT_SYNC, STATX_BASIC_STATS);
	sx("statx(missing)", AT_FDCWD, "missing", 0, STATX_BASIC_STATS);
	sx("statx(x/)", AT_FDCWD, "x/", 0, STATX_BASIC_STATS);
	sx("statx(99, x)", 99, "x", 0, STATX_BASIC_STATS);
	errno = 0;
	r = syscall(SYS_statx, AT_FDCWD, "x", 0, STATX_BASIC_STATS, (void *)1);
	show("statx(x, buf (void *)1)", r, errno);
	{
		struct statx x;
		struct stat s;
		syscall(SYS_statx, AT_FDCWD, "x", 0, STATX_BASIC_STATS, &x);
		stat("x", &s);
		printf("statx ino/dev/size/blocks agree with stat: %s\n",
		       x.stx_ino == s.st_ino && makedev(x.stx_dev_major, x.stx_dev_minor) == s.st_dev &&
				       x.stx_size == (unsigned long long)s.st_size && x.stx_blocks == (unsigned long long)s.st_blocks
			       ? "yes"
			       : "no");
		printf("statx mtime agrees with stat: %s\n",
		       x.stx_mtime.tv_sec == s.st_mtim.tv_sec && x.stx_mtime.tv_nsec == (unsigned)s.st_mtim.tv_nsec ? "yes" : "no");
	}
	close(fd);
	close(dfd);
	finish();
	return 0;
}
