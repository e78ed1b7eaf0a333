// SPDX-License-Identifier: Apache-2.0
// Differential test: utimensat/utimes/utime: explicit times read back from st_atim/st_mtim,
// UTIME_OMIT, UTIME_NOW and NULL times, AT_SYMLINK_NOFOLLOW on a symlink, the fd form
// (path NULL), AT_EMPTY_PATH, EINVAL for bad nanoseconds and flags, ctime moving forward
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
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <utime.h>

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

static void times_of(const char *path)
{
	struct stat st;
	if (lstat(path, &st) != 0) {
		int e = errno;
		printf("  %s: %s\n", path, strerrorname_np(e));
		return;
	}
	printf("  %s: atime %lld.%09ld mtime %lld.%09ld\n", path, (long long)st.st_atim.tv_sec, st.st_atim.tv_nsec,
	       (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
}

// Whether the times are "now": within 60 s of the wall clock.
static void recent(const char *path)
{
	struct stat st;
	struct timespec now;
	lstat(path, &st);
	clock_gettime(CLOCK_REALTIME, &now);
	long long da = now.tv_sec - st.st_atim.tv_sec, dm = now.tv_sec - st.st_mtim.tv_sec;
	printf("  %s: atime now: %s, mtime now: %s\n", path, da >= -1 && da < 60 ? "yes" : "no",
	       dm >= -1 && dm < 60 ? "yes" : "no");
}

static void set(struct timespec ts[2], long long as, long an, long long ms, long mn)
{
	ts[0].tv_sec = as;
	ts[0].tv_nsec = an;
	ts[1].tv_sec = ms;
	ts[1].tv_nsec = mn;
}

int main(void)
{
	struct timespec ts[2];
	struct stat before, after;

	setup();
	close(open("f", O_CREAT | O_WRONLY, 0644));
	mkdir("d", 0755);
	symlink("f", "lf");
	symlink("missing", "dangling");

	set(ts, 1000000000, 123456789, 1100000000, 987654321);
	RAW("utimensat(f, explicit)", SYS_utimensat, AT_FDCWD, "f", ts, 0);
	times_of("f");
	set(ts, 0, UTIME_OMIT, 1200000000, 5);
	RAW("utimensat(f, atime OMIT, mtime explicit)", SYS_utimensat, AT_FDCWD, "f", ts, 0);
	times_of("f");
	set(ts, 1300000000, 0, 0, UTIME_OMIT);
	RAW("utimensat(f, atime explicit, mtime OMIT)", SYS_utimensat, AT_FDCWD, "f", ts, 0);
	times_of("f");
	lstat("f", &before);
	set(ts, 0, UTIME_OMIT, 0, UTIME_OMIT);
	RAW("utimensat(f, both OMIT)", SYS_utimensat, AT_FDCWD, "f", ts, 0);
	times_of("f");
	lstat("f", &after);
	set(ts, 0, UTIME_OMIT, 0, UTIME_NOW);
	RAW("utimensat(f, atime OMIT, mtime NOW)", SYS_utimensat, AT_FDCWD, "f", ts, 0);
	lstat("f", &after);
	printf("  f: atime kept: %s\n", after.st_atim.tv_sec == 1300000000 && after.st_atim.tv_nsec == 0 ? "yes" : "no");
	recent("f");
	printf("  ctime not earlier than before: %s\n",
	       after.st_ctim.tv_sec > before.st_ctim.tv_sec ||
			       (after.st_ctim.tv_sec == before.st_ctim.tv_sec && after.st_ctim.tv_nsec >= before.st_ctim.tv_nsec)
		       ? "yes"
		       : "no");
	set(ts, 5, 0, 6, 0);
	syscall(SYS_utimensat, AT_FDCWD, "f", ts, 0);
	RAW("utimensat(f, NULL)", SYS_utimensat, AT_FDCWD, "f", NULL, 0);
	recent("f");
	set(ts, -1, 0, -86400, 500);
	RAW("utimensat(f, before 1970)", SYS_utimensat, AT_FDCWD, "f", ts, 0);
	times_of("f");
	set(ts, 0, 0, 0, 0);
	RAW("utimensat(f, zero)", SYS_utimensat, AT_FDCWD, "f", ts, 0);
	times_of("f");

	// symlinks
	set(ts, 1000000001, 1, 1000000002, 2);
	RAW("utimensat(lf, explicit) follows", SYS_utimensat, AT_FDCWD, "lf", ts, 0);
	times_of("f");
	set(ts, 1400000000, 100, 1500000000, 200);
	RAW("utimensat(lf, AT_SYMLINK_NOFOLLOW)", SYS_utimensat, AT_FDCWD, "lf", ts, AT_SYMLINK_NOFOLLOW);
	times_of("lf");
	times_of("f");
	RAW("utimensat(dangling, AT_SYMLINK_NOFOLLOW)", SYS_utimensat, AT_FDCWD, "dangling", ts, AT_SYMLINK_NOFOLLOW);
	times_of("dangling");
	RAW("utimensat(dangling, 0)", SYS_utimensat, AT_FDCWD, "dangling", ts, 0);

	// the fd forms
	int fd = open("f", O_RDONLY);
	set(ts, 1600000000, 1, 1600000001, 2);
	RAW("utimensat(fd, NULL path, explicit)", SYS_utimensat, fd, NULL, ts, 0);
	times_of("f");
	set(ts, 1600000003, 3, 1600000004, 4);
	RAW("utimensat(fd, \"\", AT_EMPTY_PATH)", SYS_utimensat, fd, "", ts, AT_EMPTY_PATH);
	times_of("f");
	RAW("utimensat(fd, \"\", 0)", SYS_utimensat, fd, "", ts, 0);
	RAW("utimensat(AT_FDCWD, NULL path)", SYS_utimensat, AT_FDCWD, NULL, ts, 0);
	RAW("utimensat(99, NULL path)", SYS_utimensat, 99, NULL, ts, 0);
	RAW("utimensat(fd, NULL path, AT_SYMLINK_NOFOLLOW)", SYS_utimensat, fd, NULL, ts, AT_SYMLINK_NOFOLLOW);
	int dfd = open("d", O_RDONLY | O_DIRECTORY);
	close(open("d/g", O_CREAT | O_WRONLY, 0644));
	set(ts, 1700000000, 7, 1700000000, 8);
	RAW("utimensat(dfd, g)", SYS_utimensat, dfd, "g", ts, 0);
	times_of("d/g");
	RAW("utimensat(fd of a file, g)", SYS_utimensat, fd, "g", ts, 0);
	RAW("utimensat(d, explicit)", SYS_utimensat, AT_FDCWD, "d", ts, 0);
	times_of("d");

	// errors
	set(ts, 1, 1000000000, 1, 0);
	RAW("utimensat(f, atime nsec 1e9)", SYS_utimensat, AT_FDCWD, "f", ts, 0);
	times_of("f");
	set(ts, 1, 0, 1, -1);
	RAW("utimensat(f, mtime nsec -1)", SYS_utimensat, AT_FDCWD, "f", ts, 0);
	times_of("f");
	set(ts, 1, 0, 1, 0);
	RAW("utimensat(f, flags 0x1)", SYS_utimensat, AT_FDCWD, "f", ts, 0x1);
	times_of("f");
	RAW("utimensat(f, times (void *)1)", SYS_utimensat, AT_FDCWD, "f", (void *)1, 0);
	RAW("utimensat(missing)", SYS_utimensat, AT_FDCWD, "missing", ts, 0);
	RAW("utimensat(f/)", SYS_utimensat, AT_FDCWD, "f/", ts, 0);
	set(ts, 99, UTIME_OMIT, 99, UTIME_OMIT);
	RAW("utimensat(f, OMIT with a non-zero tv_sec)", SYS_utimensat, AT_FDCWD, "f", ts, 0);
	times_of("f");

	// utimes and utime
	struct timeval tv[2] = {{1800000000, 123456}, {1800000001, 654321}};
	RAW("utimes(f, explicit)", SYS_utimes, "f", tv);
	times_of("f");
	tv[0].tv_usec = 1000000;
	RAW("utimes(f, usec 1000000)", SYS_utimes, "f", tv);
	RAW("utimes(f, NULL)", SYS_utimes, "f", NULL);
	recent("f");
	struct utimbuf ub = {1900000000, 1900000001};
	RAW("utime(f, explicit)", SYS_utime, "f", &ub);
	times_of("f");
	RAW("utime(f, NULL)", SYS_utime, "f", NULL);
	recent("f");
	RAW("utime(missing)", SYS_utime, "missing", &ub);
	tv[0].tv_usec = 5;
	RAW("futimesat(dfd, g, explicit)", SYS_futimesat, dfd, "g", tv);
	times_of("d/g");

	close(fd);
	close(dfd);
	finish();
	return 0;
}
