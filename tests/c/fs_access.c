// SPDX-License-Identifier: Apache-2.0
// Differential test: access/faccessat/faccessat2 as root on files with modes 0, 0644, 0755, 0100,
// 0010, 0001 and directories; EINVAL on bad modes/flags; AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH
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

static void mk(const char *name, mode_t mode)
{
	close(open(name, O_CREAT | O_WRONLY, 0600));
	chmod(name, mode);
}

static const char *mname(int m)
{
	static char b[16];
	if (m == F_OK)
		return "F_OK";
	b[0] = 0;
	if (m & R_OK)
		strcat(b, "R");
	if (m & W_OK)
		strcat(b, "W");
	if (m & X_OK)
		strcat(b, "X");
	return b;
}

static void all(const char *who, int dfd, const char *name, int flags)
{
	static const int modes[] = {F_OK, R_OK, W_OK, X_OK, R_OK | W_OK, R_OK | W_OK | X_OK};
	printf("%s %s:", who, name);
	for (unsigned i = 0; i < sizeof modes / sizeof modes[0]; i++) {
		errno = 0;
		long r = flags < 0 ? syscall(SYS_access, name, modes[i])
				   : syscall(SYS_faccessat2, dfd, name, modes[i], flags);
		int e = errno;
		printf(" %s=%s", mname(modes[i]), r == 0 ? "ok" : strerrorname_np(e));
	}
	printf("\n");
}

int main(void)
{
	static const char *files[] = {"m0", "m644", "m755", "m100", "m010", "m001", "d0", "d755"};
	setup();
	mk("m0", 0);
	mk("m644", 0644);
	mk("m755", 0755);
	mk("m100", 0100);
	mk("m010", 0010);
	mk("m001", 0001);
	mkdir("d0", 0);
	mkdir("d755", 0755);
	mk("d0/inner", 0644);
	symlink("m644", "l644");
	symlink("missing", "dangling");

	for (unsigned i = 0; i < 8; i++)
		all("access", AT_FDCWD, files[i], -1);
	all("access", AT_FDCWD, "d0/inner", -1);
	all("access", AT_FDCWD, "l644", -1);
	all("access", AT_FDCWD, "dangling", -1);
	all("access", AT_FDCWD, "missing", -1);
	all("access", AT_FDCWD, "m644/", -1);
	all("access", AT_FDCWD, "d755/", -1);
	all("faccessat2 AT_SYMLINK_NOFOLLOW", AT_FDCWD, "dangling", AT_SYMLINK_NOFOLLOW);
	all("faccessat2 AT_SYMLINK_NOFOLLOW", AT_FDCWD, "l644", AT_SYMLINK_NOFOLLOW);
	all("faccessat2 AT_EACCESS", AT_FDCWD, "m644", AT_EACCESS);
	int dfd = open("d0", O_RDONLY | O_DIRECTORY);
	all("faccessat2(dfd d0)", dfd, "inner", 0);
	int fd = open("m755", O_RDONLY);
	all("faccessat2(fd m755, AT_EMPTY_PATH)", fd, "", AT_EMPTY_PATH);
	all("faccessat2(fd m755, \"\", 0)", fd, "", 0);
	all("faccessat2(fd m755, x)", fd, "x", 0);

	RAW("access(m644, 8)", SYS_access, "m644", 8);
	RAW("access(m644, -1)", SYS_access, "m644", -1);
	RAW("access(missing, 8)", SYS_access, "missing", 8);
	RAW("access((char *)1, F_OK)", SYS_access, (char *)1, F_OK);
	RAW("faccessat(dfd, inner, R_OK)", SYS_faccessat, dfd, "inner", R_OK);
	RAW("faccessat(99, inner, R_OK)", SYS_faccessat, 99, "inner", R_OK);
	RAW("faccessat(AT_FDCWD, m644, 8)", SYS_faccessat, AT_FDCWD, "m644", 8);
	RAW("faccessat2(m644, F_OK, flags 0x1)", SYS_faccessat2, AT_FDCWD, "m644", F_OK, 0x1);
	RAW("faccessat2(m644, F_OK, AT_SYMLINK_FOLLOW)", SYS_faccessat2, AT_FDCWD, "m644", F_OK, AT_SYMLINK_FOLLOW);
	RAW("faccessat2(m644, 8, 0)", SYS_faccessat2, AT_FDCWD, "m644", 8, 0);
	close(fd);
	close(dfd);

	// host files seen through the overlay
	RAW("access(/etc, R_OK|X_OK)", SYS_access, "/etc", R_OK | X_OK);
	RAW("access(/, R_OK|X_OK)", SYS_access, "/", R_OK | X_OK);
	RAW("access(/proc/self/exe, X_OK)", SYS_access, "/proc/self/exe", X_OK);
	RAW("access(/dev/null, R_OK|W_OK)", SYS_access, "/dev/null", R_OK | W_OK);
	RAW("access(/dev/null, X_OK)", SYS_access, "/dev/null", X_OK);

	finish();
	return 0;
}
