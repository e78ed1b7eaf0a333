// SPDX-License-Identifier: Apache-2.0
// Differential test: access vs faccessat2(AT_EACCESS) with real uid 0 and effective uid 1234
// (setresuid): access checks with the real ids, AT_EACCESS with the effective ones
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
	setup();
	chmod(".", 0755);
	mk("m0", 0);
	mk("m600", 0600);
	mk("m644", 0644);
	mk("m606", 0606);
	mk("m755", 0755);
	mk("m001", 0001);
	mkdir("d700", 0700);
	mk("d700/inner", 0644);
	mkdir("d711", 0711);
	mk("d711/inner", 0644);
	mk("mine", 0600);
	chown("mine", 1234, 1234);

	RAW("setresuid(-1, 1234, -1)", SYS_setresuid, -1, 1234, -1);
	printf("getuid %u geteuid %u\n", getuid(), geteuid());
	static const char *files[] = {"m0", "m600", "m644", "m606", "m755", "m001", "d700", "d700/inner",
				      "d711", "d711/inner", "mine"};
	for (unsigned i = 0; i < sizeof files / sizeof files[0]; i++) {
		all("access", AT_FDCWD, files[i], -1);
		all("faccessat2 AT_EACCESS", AT_FDCWD, files[i], AT_EACCESS);
	}
	RAW("setresuid(-1, 0, -1)", SYS_setresuid, -1, 0, -1);
	printf("getuid %u geteuid %u\n", getuid(), geteuid());
	all("faccessat2 AT_EACCESS", AT_FDCWD, "d700/inner", AT_EACCESS);

	finish();
	return 0;
}
