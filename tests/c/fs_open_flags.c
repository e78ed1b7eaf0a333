// SPDX-License-Identifier: Apache-2.0
// Differential test: open/openat/creat flags in a private /tmp directory: O_CREAT|O_EXCL (also on a
// dangling symlink), O_TRUNC, O_APPEND (and pwrite), O_DIRECTORY, O_NOFOLLOW, O_PATH, O_CLOEXEC,
// F_GETFL values, umask on O_CREAT
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

static void content(const char *what, const char *path)
{
	char buf[64];
	int fd = open(path, O_RDONLY);
	if (fd < 0) {
		int e = errno;
		printf("%s: open -1 %s\n", what, strerrorname_np(e));
		return;
	}
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n < 0)
		n = 0;
	buf[n] = 0;
	printf("%s: \"%s\" (%zd bytes)\n", what, buf, n);
}

static long getfl(int fd)
{
	return syscall(SYS_fcntl, fd, F_GETFL);
}

int main(void)
{
	int fd, fd2;
	struct stat st;
	char buf[PATH_MAX];

	setup();
	if (mkdir("d", 0755) != 0)
		return 1;

	// O_CREAT | O_EXCL
	FD(fd, "open(f, O_CREAT|O_EXCL|O_WRONLY, 0644)", SYS_open, "f", O_CREAT | O_EXCL | O_WRONLY, 0644);
	RAW("write(f, hello)", SYS_write, fd, "hello", 5);
	close(fd);
	FD(fd, "open(f, O_CREAT|O_EXCL) again", SYS_open, "f", O_CREAT | O_EXCL | O_WRONLY, 0644);
	FD(fd, "open(d, O_CREAT|O_EXCL)", SYS_open, "d", O_CREAT | O_EXCL | O_RDONLY, 0644);
	FD(fd, "open(f, O_EXCL without O_CREAT)", SYS_open, "f", O_EXCL | O_RDONLY);
	close(fd);
	symlink("target", "dangling");
	FD(fd, "open(dangling, O_CREAT|O_EXCL)", SYS_open, "dangling", O_CREAT | O_EXCL | O_WRONLY, 0644);
	RAW("lstat(target) after O_EXCL on dangling", SYS_lstat, "target", &st);
	FD(fd, "open(dangling, O_CREAT) creates the target", SYS_open, "dangling", O_CREAT | O_WRONLY, 0600);
	close(fd);
	errno = 0;
	long r = lstat("target", &st);
	show("lstat(target) after O_CREAT through dangling", r, errno);
	printf("target is a regular file with mode 0600: %s\n",
	       r == 0 && S_ISREG(st.st_mode) && (st.st_mode & 07777) == 0600 ? "yes" : "no");
	symlink("nodir/target", "dangling2");
	FD(fd, "open(dangling2 -> nodir/target, O_CREAT)", SYS_open, "dangling2", O_CREAT | O_WRONLY, 0600);
	FD(fd, "open(dangling, O_CREAT|O_NOFOLLOW)", SYS_open, "dangling", O_CREAT | O_NOFOLLOW | O_WRONLY, 0600);

	// umask applies to O_CREAT
	umask(027);
	FD(fd, "open(m, O_CREAT, 0777) with umask 027", SYS_open, "m", O_CREAT | O_WRONLY, 0777);
	close(fd);
	stat("m", &st);
	printf("mode of m: %04o\n", st.st_mode & 07777);
	umask(022);

	// O_TRUNC
	content("f before O_TRUNC", "f");
	FD(fd, "open(f, O_WRONLY|O_TRUNC)", SYS_open, "f", O_WRONLY | O_TRUNC);
	fstat(fd, &st);
	printf("size after O_TRUNC: %lld\n", (long long)st.st_size);
	write(fd, "abc", 3);
	close(fd);
	FD(fd, "open(f, O_RDONLY|O_TRUNC)", SYS_open, "f", O_RDONLY | O_TRUNC);
	fstat(fd, &st);
	printf("size after O_RDONLY|O_TRUNC: %lld\n", (long long)st.st_size);
	RAW("write on O_RDONLY fd", SYS_write, fd, "x", 1);
	close(fd);
	FD(fd, "open(d, O_RDONLY|O_TRUNC)", SYS_open, "d", O_RDONLY | O_TRUNC);

	// O_APPEND
	fd = open("a", O_CREAT | O_WRONLY, 0644);
	write(fd, "abc", 3);
	close(fd);
	FD(fd, "open(a, O_WRONLY|O_APPEND)", SYS_open, "a", O_WRONLY | O_APPEND);
	RAW("lseek(a, 0, SEEK_CUR) before write", SYS_lseek, fd, 0, SEEK_CUR);
	RAW("write(a, XY)", SYS_write, fd, "XY", 2);
	RAW("lseek(a, 0, SEEK_CUR) after write", SYS_lseek, fd, 0, SEEK_CUR);
	RAW("lseek(a, 0, SEEK_SET)", SYS_lseek, fd, 0, SEEK_SET);
	RAW("write(a, Q) after seek to 0", SYS_write, fd, "Q", 1);
	RAW("pwrite(a, Z, 1, offset 0)", SYS_pwrite64, fd, "Z", 1, 0);
	RAW("lseek(a, 0, SEEK_CUR) after pwrite", SYS_lseek, fd, 0, SEEK_CUR);
	close(fd);
	content("a after appends", "a");
	FD(fd, "open(a, O_RDWR|O_APPEND)", SYS_open, "a", O_RDWR | O_APPEND);
	memset(buf, 0, sizeof buf);
	RAW("read(a) at 0 with O_APPEND", SYS_read, fd, buf, 3);
	printf("read: \"%s\"\n", buf);
	RAW("write(a, !)", SYS_write, fd, "!", 1);
	close(fd);
	content("a after O_RDWR append", "a");

	// F_GETFL (octal; the kernel adds O_LARGEFILE on 64-bit)
	fd = syscall(SYS_open, "f", O_RDONLY);
	printf("F_GETFL O_RDONLY: 0%lo\n", getfl(fd));
	close(fd);
	fd = syscall(SYS_open, "f", O_WRONLY);
	printf("F_GETFL O_WRONLY: 0%lo\n", getfl(fd));
	close(fd);
	fd = syscall(SYS_open, "f", O_RDWR | O_APPEND);
	printf("F_GETFL O_RDWR|O_APPEND: 0%lo\n", getfl(fd));
	close(fd);
	fd = syscall(SYS_openat, AT_FDCWD, "f", O_RDWR | O_NONBLOCK | O_CREAT | O_TRUNC, 0644);
	printf("F_GETFL openat O_RDWR|O_NONBLOCK|O_CREAT|O_TRUNC: 0%lo\n", getfl(fd));
	close(fd);
	fd = syscall(SYS_open, "d", O_RDONLY | O_DIRECTORY);
	printf("F_GETFL O_RDONLY|O_DIRECTORY: 0%lo\n", getfl(fd));
	close(fd);

	// O_CLOEXEC
	fd = syscall(SYS_open, "f", O_RDONLY | O_CLOEXEC);
	printf("F_GETFD with O_CLOEXEC: %ld\n", syscall(SYS_fcntl, fd, F_GETFD));
	close(fd);
	fd = syscall(SYS_open, "f", O_RDONLY);
	printf("F_GETFD without O_CLOEXEC: %ld\n", syscall(SYS_fcntl, fd, F_GETFD));
	close(fd);

	// O_DIRECTORY, directories
	FD(fd, "open(f, O_DIRECTORY)", SYS_open, "f", O_RDONLY | O_DIRECTORY);
	FD(fd, "open(d, O_DIRECTORY)", SYS_open, "d", O_RDONLY | O_DIRECTORY);
	RAW("read(dir fd)", SYS_read, fd, buf, 10);
	close(fd);
	FD(fd, "open(d, O_WRONLY)", SYS_open, "d", O_WRONLY);
	FD(fd, "open(d, O_RDWR)", SYS_open, "d", O_RDWR);
	FD(fd, "open(d, O_CREAT|O_RDONLY)", SYS_open, "d", O_CREAT | O_RDONLY, 0644);
	FD(fd, "open(new, O_CREAT|O_DIRECTORY)", SYS_open, "new", O_CREAT | O_DIRECTORY | O_RDONLY, 0755);
	RAW("lstat(new)", SYS_lstat, "new", &st);

	// O_NOFOLLOW
	symlink("f", "lf");
	symlink("d", "ld");
	FD(fd, "open(lf, O_NOFOLLOW)", SYS_open, "lf", O_RDONLY | O_NOFOLLOW);
	FD(fd, "open(ld, O_NOFOLLOW|O_DIRECTORY)", SYS_open, "ld", O_RDONLY | O_NOFOLLOW | O_DIRECTORY);
	FD(fd, "open(ld/, O_NOFOLLOW)", SYS_open, "ld/", O_RDONLY | O_NOFOLLOW);
	close(fd);
	FD(fd, "open(lf, O_RDONLY) follows", SYS_open, "lf", O_RDONLY);
	fstat(fd, &st);
	printf("  is regular: %s\n", S_ISREG(st.st_mode) ? "yes" : "no");
	close(fd);
	FD(fd, "open(ld, O_DIRECTORY) follows", SYS_open, "ld", O_RDONLY | O_DIRECTORY);
	close(fd);

	// O_PATH
	fd = open("f", O_WRONLY | O_TRUNC);
	write(fd, "xyz", 3);
	close(fd);
	FD(fd, "open(f, O_PATH)", SYS_open, "f", O_PATH);
	RAW("read(O_PATH fd)", SYS_read, fd, buf, 1);
	RAW("write(O_PATH fd)", SYS_write, fd, "x", 1);
	RAW("fstat(O_PATH fd)", SYS_fstat, fd, &st);
	printf("  is regular, size %lld\n", S_ISREG(st.st_mode) ? (long long)st.st_size : -1LL);
	printf("F_GETFL O_PATH: 0%lo\n", getfl(fd));
	RAW("fchmod(O_PATH fd)", SYS_fchmod, fd, 0600);
	RAW("fchdir(O_PATH file fd)", SYS_fchdir, fd);
	FD(fd2, "openat(O_PATH file fd, x)", SYS_openat, fd, "x", O_RDONLY);
	close(fd);
	FD(fd, "open(lf, O_PATH|O_NOFOLLOW)", SYS_open, "lf", O_PATH | O_NOFOLLOW);
	RAW("fstat(O_PATH symlink fd)", SYS_fstat, fd, &st);
	printf("  is symlink, size %lld\n", S_ISLNK(st.st_mode) ? (long long)st.st_size : -1LL);
	close(fd);
	FD(fd, "open(f, O_PATH|O_RDWR|O_TRUNC)", SYS_open, "f", O_PATH | O_RDWR | O_TRUNC);
	printf("F_GETFL O_PATH|O_RDWR|O_TRUNC: 0%lo\n", getfl(fd));
	close(fd);
	stat("f", &st);
	printf("size of f after O_PATH|O_TRUNC: %lld\n", (long long)st.st_size);
	if (mkdir("d/sub", 0755) != 0)
		return 1;
	FD(fd, "open(d, O_PATH|O_DIRECTORY)", SYS_open, "d", O_PATH | O_DIRECTORY);
	RAW("getdents64(O_PATH dir fd)", SYS_getdents64, fd, buf, sizeof buf);
	FD(fd2, "openat(O_PATH dir fd, sub)", SYS_openat, fd, "sub", O_RDONLY | O_DIRECTORY);
	close(fd2);
	RAW("fchdir(O_PATH dir fd)", SYS_fchdir, fd);
	close(fd);
	if (getcwd(buf, sizeof buf))
		printf("cwd after fchdir ends with /d: %s\n",
		       strlen(buf) > strlen(top) && strcmp(buf + strlen(top), "/d") == 0 ? "yes" : "no");
	chdir("..");

	// openat with dirfds
	fd = open("d", O_RDONLY | O_DIRECTORY);
	FD(fd2, "openat(dirfd d, g, O_CREAT)", SYS_openat, fd, "g", O_CREAT | O_WRONLY, 0644);
	close(fd2);
	RAW("stat(d/g)", SYS_stat, "d/g", &st);
	close(fd);
	fd = open("f", O_RDONLY);
	FD(fd2, "openat(file fd, g)", SYS_openat, fd, "g", O_RDONLY);
	snprintf(buf, sizeof buf, "%s/f", top);
	FD(fd2, "openat(file fd, absolute path)", SYS_openat, fd, buf, O_RDONLY);
	close(fd2);
	close(fd);
	FD(fd2, "openat(99, g)", SYS_openat, 99, "g", O_RDONLY);
	FD(fd2, "openat(99, absolute path)", SYS_openat, 99, buf, O_RDONLY);
	close(fd2);
	FD(fd2, "openat(-1, g)", SYS_openat, -1, "g", O_RDONLY);

	// creat
	FD(fd, "creat(c, 0640)", SYS_creat, "c", 0640);
	printf("F_GETFL creat: 0%lo\n", getfl(fd));
	write(fd, "12345", 5);
	close(fd);
	FD(fd, "creat(c) again truncates", SYS_creat, "c", 0600);
	close(fd);
	stat("c", &st);
	printf("c: size %lld mode %04o\n", (long long)st.st_size, st.st_mode & 07777);
	FD(fd, "creat(d)", SYS_creat, "d", 0644);

	finish();
	return 0;
}
