// SPDX-License-Identifier: Apache-2.0
// Differential test: readlink/readlinkat: truncation without NUL, bufsiz 0/negative (EINVAL),
// non-symlinks (EINVAL), empty path on an O_PATH symlink fd, EFAULT; /proc/self/exe, /proc/self/cwd,
// /proc/self/fd/N (also after unlink), /proc/self/root
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

static char buf[8192];

// readlinkat into a buffer pre-filled with 'X', printing the bytes returned and the next one.
static void rl(const char *what, int dfd, const char *path, long size)
{
	memset(buf, 'X', sizeof buf);
	errno = 0;
	long r = syscall(SYS_readlinkat, dfd, path, buf, size);
	if (r < 0) {
		show(what, r, errno);
		return;
	}
	printf("%s = %ld \"%.*s\" next byte '%c'\n", what, r, (int)r, buf, buf[r]);
}

static int ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && strcmp(s + a - b, suffix) == 0;
}

// readlink of a /proc path compared with an expected string.
static void rlcmp(const char *what, const char *path, const char *want)
{
	char got[PATH_MAX];
	errno = 0;
	long r = readlink(path, got, sizeof got - 1);
	if (r < 0) {
		show(what, r, errno);
		return;
	}
	got[r] = 0;
	printf("%s: length matches %s, equal %s", what, (size_t)r == strlen(want) ? "yes" : "no",
	       strcmp(got, want) == 0 ? "yes" : "no");
	size_t n = strlen(top);
	if (strncmp(got, top, n) == 0)
		printf(" (TOP%s)", got + n);
	printf("\n");
}

int main(int argc, char **argv)
{
	char want[PATH_MAX], cwd[PATH_MAX];
	(void)argc;

	setup();
	mkdir("d", 0755);
	close(open("f", O_CREAT | O_WRONLY, 0644));
	symlink("0123456789abcdefghij", "l20");
	symlink("d", "ld");
	symlink("f", "lf");
	symlink("l20", "ll");

	rl("readlink(l20, 64)", AT_FDCWD, "l20", 64);
	rl("readlink(l20, 20)", AT_FDCWD, "l20", 20);
	rl("readlink(l20, 5)", AT_FDCWD, "l20", 5);
	rl("readlink(l20, 1)", AT_FDCWD, "l20", 1);
	rl("readlink(l20, 0)", AT_FDCWD, "l20", 0);
	rl("readlink(l20, -1)", AT_FDCWD, "l20", -1);
	rl("readlink(ll, 64) (not followed)", AT_FDCWD, "ll", 64);
	rl("readlink(f, 64)", AT_FDCWD, "f", 64);
	rl("readlink(d, 64)", AT_FDCWD, "d", 64);
	rl("readlink(ld/, 64)", AT_FDCWD, "ld/", 64);
	rl("readlink(lf/, 64)", AT_FDCWD, "lf/", 64);
	rl("readlink(missing, 64)", AT_FDCWD, "missing", 64);
	rl("readlink(\"\", 64)", AT_FDCWD, "", 64);
	rl("readlink(f/x, 64)", AT_FDCWD, "f/x", 64);
	rl("readlink(ld/../l20, 64)", AT_FDCWD, "ld/../l20", 64);
	errno = 0;
	long r = syscall(SYS_readlink, "l20", (void *)1, 64);
	show("readlink(l20, buf (void *)1)", r, errno);
	errno = 0;
	r = syscall(SYS_readlink, (char *)1, buf, 64);
	show("readlink((char *)1)", r, errno);
	errno = 0;
	r = syscall(SYS_readlink, "l20", buf, 64);
	show("readlink syscall(l20, 64)", r, errno);

	int dfd = open("d", O_RDONLY | O_DIRECTORY);
	symlink("../f", "d/up");
	rl("readlinkat(dfd, up)", dfd, "up", 64);
	rl("readlinkat(dfd, \"\")", dfd, "", 64);
	rl("readlinkat(99, up)", 99, "up", 64);
	int lfd = open("l20", O_PATH | O_NOFOLLOW);
	rl("readlinkat(O_PATH symlink fd, \"\")", lfd, "", 64);
	rl("readlinkat(O_PATH symlink fd, \"\", 3)", lfd, "", 3);
	rl("readlinkat(O_PATH symlink fd, x)", lfd, "x", 64);
	close(lfd);
	int ffd = open("f", O_RDONLY);
	rl("readlinkat(file fd, \"\")", ffd, "", 64);
	close(ffd);

	// a 4095-byte target
	memset(want, 't', 4095);
	want[4095] = 0;
	errno = 0;
	r = symlink(want, "long");
	show("symlink(4095-byte target)", r, errno);
	memset(buf, 0, sizeof buf);
	printf("readlink(long, 5000) = %zd\n", readlink("long", buf, 5000));
	printf("  equals the target: %s\n", memcmp(buf, want, 4096) == 0 ? "yes" : "no");
	want[4095] = 't';
	want[4096] = 0;
	errno = 0;
	r = symlink(want, "toolong");
	show("symlink(4096-byte target)", r, errno);
	errno = 0;
	r = symlink("", "empty");
	show("symlink(\"\")", r, errno);

	// /proc/self
	memset(buf, 0, sizeof buf);
	r = readlink("/proc/self/exe", buf, sizeof buf - 1);
	const char *base = strrchr(argv[0], '/') ? strrchr(argv[0], '/') : argv[0];
	printf("/proc/self/exe absolute: %s, ends with the program name: %s\n", buf[0] == '/' ? "yes" : "no",
	       r > 0 && ends_with(buf, base) ? "yes" : "no");
	struct stat a, b;
	printf("/proc/self/exe is the same file as argv[0]: %s\n",
	       stat("/proc/self/exe", &a) == 0 && stat(argv[0], &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev
		       ? "yes"
		       : "no");
	rl("readlink(/proc/self/exe, 1)", AT_FDCWD, "/proc/self/exe", 1);
	getcwd(cwd, sizeof cwd);
	rlcmp("/proc/self/cwd vs getcwd", "/proc/self/cwd", cwd);
	chdir("d");
	getcwd(cwd, sizeof cwd);
	rlcmp("/proc/self/cwd vs getcwd in d", "/proc/self/cwd", cwd);
	chdir("..");
	snprintf(want, sizeof want, "%s/d", top);
	printf("getcwd in d is top/d: %s\n", strcmp(cwd, want) == 0 ? "yes" : "no");
	rlcmp("/proc/self/root", "/proc/self/root", "/");
	snprintf(buf, sizeof buf, "/proc/self/fd/%d", dfd);
	rlcmp("/proc/self/fd/DFD", buf, want);
	int fd = open("gone", O_CREAT | O_RDWR, 0644);
	snprintf(want, sizeof want, "%s/gone", top);
	snprintf(buf, sizeof buf, "/proc/self/fd/%d", fd);
	rlcmp("/proc/self/fd/FD", buf, want);
	unlink("gone");
	strcat(want, " (deleted)");
	rlcmp("/proc/self/fd/FD after unlink", buf, want);
	close(fd);
	fd = open("f", O_RDONLY);
	rename("f", "d/moved");
	snprintf(want, sizeof want, "%s/d/moved", top);
	snprintf(buf, sizeof buf, "/proc/self/fd/%d", fd);
	rlcmp("/proc/self/fd/FD after rename", buf, want);
	close(fd);
	rlcmp("/proc/self/fd/0", "/proc/self/fd/0", "/dev/null");
	memset(buf, 0, sizeof buf);
	r = readlink("/proc/self", buf, sizeof buf - 1);
	printf("readlink(/proc/self) all digits: %s\n", r > 0 && strspn(buf, "0123456789") == (size_t)r ? "yes" : "no");
	rl("readlink(/proc/self/fd/99)", AT_FDCWD, "/proc/self/fd/99", 64);

	close(dfd);
	finish();
	return 0;
}
