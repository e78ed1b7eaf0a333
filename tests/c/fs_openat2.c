// SPDX-License-Identifier: Apache-2.0
// Differential test: openat2 in a private /tmp directory: struct open_how size/flag checks
// (EINVAL, E2BIG), RESOLVE_BENEATH (EXDEV), RESOLVE_IN_ROOT, RESOLVE_NO_SYMLINKS,
// RESOLVE_NO_MAGICLINKS, RESOLVE_NO_XDEV, RESOLVE_CACHED with O_CREAT
// variants: static
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdint.h>
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

static int o2(int dfd, const char *path, uint64_t flags, uint64_t mode, uint64_t resolve)
{
	struct open_how how = {.flags = flags, .mode = mode, .resolve = resolve};
	return syscall(SYS_openat2, dfd, path, &how, sizeof how);
}

#define O2(what, ...)                                    \
	do {                                             \
		errno = 0;                               \
		int fd_ = o2(__VA_ARGS__);               \
		showok(what, fd_, errno);                \
		if (fd_ >= 0)                            \
			close(fd_);                      \
	} while (0)

// Whether dfd/path (opened with openat2) is the same file as the plain path ref.
static void same(const char *what, int dfd, const char *path, uint64_t resolve, const char *ref)
{
	struct stat a, b;
	errno = 0;
	int fd = o2(dfd, path, O_RDONLY, 0, resolve);
	if (fd < 0) {
		showok(what, fd, errno);
		return;
	}
	fstat(fd, &a);
	close(fd);
	if (stat(ref, &b) != 0) {
		printf("%s: ref missing\n", what);
		return;
	}
	printf("%s = ok, is %s: %s\n", what, ref, a.st_ino == b.st_ino && a.st_dev == b.st_dev ? "yes" : "no");
}

int main(void)
{
	int fd;
	struct stat st;
	struct {
		struct open_how how;
		uint64_t tail[2];
	} big = {{.flags = O_RDONLY}, {0, 0}};

	setup();
	if (mkdir("root", 0755) || mkdir("root/sub", 0755))
		return 1;
	close(open("f", O_CREAT | O_WRONLY, 0644));
	close(open("root/f", O_CREAT | O_WRONLY, 0644));
	close(open("root/sub/g", O_CREAT | O_WRONLY, 0644));
	symlink("..", "root/sub/up");
	symlink("../f", "root/sub/upf");
	symlink("/f", "root/abs");
	symlink("sub/g", "root/rel");
	int dfd = open("root", O_RDONLY | O_DIRECTORY);

	// struct open_how checks
	FD(fd, "openat2(size 24)", SYS_openat2, dfd, "f", &big.how, 24);
	close(fd);
	FD(fd, "openat2(size 23)", SYS_openat2, dfd, "f", &big.how, 23);
	FD(fd, "openat2(size 0)", SYS_openat2, dfd, "f", &big.how, 0);
	FD(fd, "openat2(size 40, zero tail)", SYS_openat2, dfd, "f", &big, 40);
	close(fd);
	big.tail[1] = 1;
	FD(fd, "openat2(size 40, non-zero tail)", SYS_openat2, dfd, "f", &big, 40);
	big.tail[1] = 0;
	FD(fd, "openat2(size 4097)", SYS_openat2, dfd, "f", &big, 4097);
	FD(fd, "openat2(how (void *)1)", SYS_openat2, dfd, "f", (void *)1, 24);
	FD(fd, "openat2(path (char *)1)", SYS_openat2, dfd, (char *)1, &big.how, 24);
	O2("flags bit 40", dfd, "f", 1ULL << 40, 0, 0);
	O2("flags 0x40000000 (unknown open flag)", dfd, "f", 0x40000000, 0, 0);
	O2("mode 0644 without O_CREAT", dfd, "f", O_RDONLY, 0644, 0);
	O2("mode 010000 with O_CREAT", dfd, "new", O_CREAT | O_WRONLY, 010000, 0);
	O2("O_CREAT|O_DIRECTORY", dfd, "newdir", O_CREAT | O_DIRECTORY, 0644, 0);
	O2("O_PATH|O_RDWR", dfd, "f", O_PATH | O_RDWR, 0, 0);
	O2("resolve 0x100", dfd, "f", O_RDONLY, 0, 0x100);
	O2("RESOLVE_BENEATH|RESOLVE_IN_ROOT", dfd, "f", O_RDONLY, 0, RESOLVE_BENEATH | RESOLVE_IN_ROOT);
	O2("RESOLVE_CACHED with O_CREAT", dfd, "new", O_CREAT | O_WRONLY, 0644, RESOLVE_CACHED);
	O2("RESOLVE_CACHED with O_TRUNC", dfd, "f", O_TRUNC | O_WRONLY, 0, RESOLVE_CACHED);
	RAW("lstat(root/new)", SYS_lstat, "root/new", &st);
	RAW("lstat(root/newdir)", SYS_lstat, "root/newdir", &st);
	O2("O_CREAT mode 0640", dfd, "new", O_CREAT | O_WRONLY, 0640, 0);
	stat("root/new", &st);
	printf("root/new mode %04o\n", st.st_mode & 07777);
	fd = o2(dfd, "f", O_RDWR, 0, 0);
	printf("F_GETFL of openat2(O_RDWR): 0%lo\n", syscall(SYS_fcntl, fd, F_GETFL));
	close(fd);

	// RESOLVE_BENEATH
	same("BENEATH f", dfd, "f", RESOLVE_BENEATH, "root/f");
	same("BENEATH sub/../f", dfd, "sub/../f", RESOLVE_BENEATH, "root/f");
	same("BENEATH sub/up/f", dfd, "sub/up/f", RESOLVE_BENEATH, "root/f");
	same("BENEATH sub/upf", dfd, "sub/upf", RESOLVE_BENEATH, "root/f");
	same("BENEATH rel", dfd, "rel", RESOLVE_BENEATH, "root/sub/g");
	O2("BENEATH ../f", dfd, "../f", O_RDONLY, 0, RESOLVE_BENEATH);
	O2("BENEATH sub/../../f", dfd, "sub/../../f", O_RDONLY, 0, RESOLVE_BENEATH);
	O2("BENEATH ..", dfd, "..", O_RDONLY, 0, RESOLVE_BENEATH);
	O2("BENEATH /etc", dfd, "/etc", O_RDONLY, 0, RESOLVE_BENEATH);
	O2("BENEATH abs (-> /f)", dfd, "abs", O_RDONLY, 0, RESOLVE_BENEATH);
	O2("BENEATH sub/up/../f", dfd, "sub/up/../f", O_RDONLY, 0, RESOLVE_BENEATH);
	O2("BENEATH missing/../f", dfd, "missing/../f", O_RDONLY, 0, RESOLVE_BENEATH);
	O2("BENEATH O_CREAT sub/h", dfd, "sub/h", O_CREAT | O_WRONLY, 0644, RESOLVE_BENEATH);
	O2("BENEATH O_CREAT ../h", dfd, "../h", O_CREAT | O_WRONLY, 0644, RESOLVE_BENEATH);
	RAW("lstat(h) after", SYS_lstat, "h", &st);
	same("BENEATH with AT_FDCWD", AT_FDCWD, "root/sub/upf", RESOLVE_BENEATH, "root/f");
	O2("BENEATH with AT_FDCWD ../x", AT_FDCWD, "../x", O_RDONLY, 0, RESOLVE_BENEATH);

	// RESOLVE_IN_ROOT
	same("IN_ROOT /f", dfd, "/f", RESOLVE_IN_ROOT, "root/f");
	same("IN_ROOT ../../../f", dfd, "../../../f", RESOLVE_IN_ROOT, "root/f");
	same("IN_ROOT abs (-> /f)", dfd, "abs", RESOLVE_IN_ROOT, "root/f");
	same("IN_ROOT sub/up/up/up/f", dfd, "sub/up/up/up/f", RESOLVE_IN_ROOT, "root/f");
	same("IN_ROOT /sub/g", dfd, "/sub/g", RESOLVE_IN_ROOT, "root/sub/g");
	same("IN_ROOT /", dfd, "/", RESOLVE_IN_ROOT, "root");
	same("IN_ROOT ..", dfd, "..", RESOLVE_IN_ROOT, "root");
	O2("IN_ROOT /etc", dfd, "/etc", O_RDONLY, 0, RESOLVE_IN_ROOT);
	O2("IN_ROOT O_CREAT /made", dfd, "/made", O_CREAT | O_WRONLY, 0644, RESOLVE_IN_ROOT);
	RAW("lstat(root/made)", SYS_lstat, "root/made", &st);

	// RESOLVE_NO_SYMLINKS
	O2("NO_SYMLINKS rel", dfd, "rel", O_RDONLY, 0, RESOLVE_NO_SYMLINKS);
	O2("NO_SYMLINKS sub/up/f", dfd, "sub/up/f", O_RDONLY, 0, RESOLVE_NO_SYMLINKS);
	O2("NO_SYMLINKS rel O_PATH|O_NOFOLLOW", dfd, "rel", O_PATH | O_NOFOLLOW, 0, RESOLVE_NO_SYMLINKS);
	O2("NO_SYMLINKS sub/g", dfd, "sub/g", O_RDONLY, 0, RESOLVE_NO_SYMLINKS);
	O2("NO_SYMLINKS sub/../f", dfd, "sub/../f", O_RDONLY, 0, RESOLVE_NO_SYMLINKS);

	// RESOLVE_NO_MAGICLINKS
	O2("/proc/self/exe", AT_FDCWD, "/proc/self/exe", O_RDONLY, 0, 0);
	O2("NO_MAGICLINKS /proc/self/exe", AT_FDCWD, "/proc/self/exe", O_RDONLY, 0, RESOLVE_NO_MAGICLINKS);
	O2("NO_MAGICLINKS /proc/self/exe O_PATH|O_NOFOLLOW", AT_FDCWD, "/proc/self/exe", O_PATH | O_NOFOLLOW, 0,
	   RESOLVE_NO_MAGICLINKS);
	char p[64];
	snprintf(p, sizeof p, "/proc/self/fd/%d", dfd);
	O2("NO_MAGICLINKS /proc/self/fd/DFD", AT_FDCWD, p, O_RDONLY, 0, RESOLVE_NO_MAGICLINKS);
	O2("/proc/self/fd/DFD", AT_FDCWD, p, O_RDONLY, 0, 0);
	O2("NO_SYMLINKS /proc/self/exe", AT_FDCWD, "/proc/self/exe", O_RDONLY, 0, RESOLVE_NO_SYMLINKS);
	O2("NO_MAGICLINKS rel (ordinary symlink)", dfd, "rel", O_RDONLY, 0, RESOLVE_NO_MAGICLINKS);
	O2("BENEATH /proc/self/exe", AT_FDCWD, "/proc/self/exe", O_RDONLY, 0, RESOLVE_BENEATH);

	// RESOLVE_NO_XDEV
	int rfd = open("/", O_RDONLY | O_DIRECTORY);
	O2("NO_XDEV / -> proc", rfd, "proc", O_RDONLY, 0, RESOLVE_NO_XDEV);
	O2("NO_XDEV / -> proc/self", rfd, "proc/self", O_RDONLY, 0, RESOLVE_NO_XDEV);
	O2("NO_XDEV root -> sub/g", dfd, "sub/g", O_RDONLY, 0, RESOLVE_NO_XDEV);
	close(rfd);

	close(dfd);
	finish();
	return 0;
}
