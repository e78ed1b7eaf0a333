// SPDX-License-Identifier: Apache-2.0
// Differential test: path lookup errors of open/openat/stat: ENOENT, ENOTDIR (file used as a
// directory, trailing slash), EISDIR, ENAMETOOLONG (component > 255, path >= 4096), EFAULT
// (bad pointer, unterminated at a PROT_NONE page), ELOOP in the middle, empty path
// variants: static
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
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

static char big[8192];

int main(void)
{
	int fd;
	struct stat st;

	setup();
	if (mkdir("d", 0755) != 0)
		return 1;
	fd = open("f", O_CREAT | O_WRONLY, 0644);
	write(fd, "data", 4);
	close(fd);

	FD(fd, "open(missing)", SYS_open, "missing", O_RDONLY);
	FD(fd, "open(missing/x)", SYS_open, "missing/x", O_RDONLY);
	FD(fd, "open(missing/x, O_CREAT)", SYS_open, "missing/x", O_CREAT | O_WRONLY, 0644);
	FD(fd, "open(d/missing)", SYS_open, "d/missing", O_RDONLY);
	FD(fd, "open(f/x)", SYS_open, "f/x", O_RDONLY);
	FD(fd, "open(f/x, O_CREAT)", SYS_open, "f/x", O_CREAT | O_WRONLY, 0644);
	FD(fd, "open(f/)", SYS_open, "f/", O_RDONLY);
	FD(fd, "open(f/.)", SYS_open, "f/.", O_RDONLY);
	FD(fd, "open(f/..)", SYS_open, "f/..", O_RDONLY);
	FD(fd, "open(f/, O_CREAT)", SYS_open, "f/", O_CREAT | O_WRONLY, 0644);
	FD(fd, "open(missing/, O_CREAT)", SYS_open, "missing/", O_CREAT | O_WRONLY, 0644);
	RAW("lstat(missing) after", SYS_lstat, "missing", &st);
	FD(fd, "open(d/, O_CREAT)", SYS_open, "d/", O_CREAT | O_RDONLY, 0644);
	FD(fd, "open(d/., O_CREAT)", SYS_open, "d/.", O_CREAT | O_RDONLY, 0644);
	FD(fd, "open(., O_CREAT|O_EXCL)", SYS_open, ".", O_CREAT | O_EXCL | O_RDONLY, 0644);
	FD(fd, "open(d/)", SYS_open, "d/", O_RDONLY);
	close(fd);
	FD(fd, "open(d//.//)", SYS_open, "d//.//", O_RDONLY);
	close(fd);
	FD(fd, "open(d/../f)", SYS_open, "d/../f", O_RDONLY);
	close(fd);
	FD(fd, "open(\"\")", SYS_open, "", O_RDONLY);
	FD(fd, "open(\"\", O_CREAT)", SYS_open, "", O_CREAT | O_WRONLY, 0644);
	FD(fd, "open(NULL)", SYS_open, NULL, O_RDONLY);
	FD(fd, "open((char *)1)", SYS_open, (char *)1, O_RDONLY);
	FD(fd, "openat(AT_FDCWD, (char *)1)", SYS_openat, AT_FDCWD, (char *)1, O_RDONLY);
	RAW("stat((char *)1)", SYS_stat, (char *)1, &st);
	RAW("stat(f, (void *)1)", SYS_stat, "f", (void *)1);
	RAW("stat(\"\")", SYS_stat, "", &st);
	RAW("stat(f/x)", SYS_stat, "f/x", &st);
	RAW("stat(f/)", SYS_stat, "f/", &st);
	RAW("lstat(f/)", SYS_lstat, "f/", &st);

	// access mode 3 (O_WRONLY|O_RDWR)
	FD(fd, "open(f, 3)", SYS_open, "f", 3);
	if (fd >= 0) {
		char c;
		printf("F_GETFL & O_ACCMODE: %ld\n", syscall(SYS_fcntl, fd, F_GETFL) & O_ACCMODE);
		RAW("read(mode-3 fd)", SYS_read, fd, &c, 1);
		RAW("write(mode-3 fd)", SYS_write, fd, "x", 1);
		close(fd);
	}

	// name lengths
	memset(big, 'n', 255);
	big[255] = 0;
	FD(fd, "open(255-char name, O_CREAT)", SYS_open, big, O_CREAT | O_WRONLY, 0644);
	close(fd);
	RAW("stat(255-char name)", SYS_stat, big, &st);
	RAW("unlink(255-char name)", SYS_unlink, big);
	memset(big, 'n', 256);
	big[256] = 0;
	FD(fd, "open(256-char name, O_CREAT)", SYS_open, big, O_CREAT | O_WRONLY, 0644);
	FD(fd, "open(256-char name)", SYS_open, big, O_RDONLY);
	RAW("stat(256-char name)", SYS_stat, big, &st);
	RAW("mkdir(256-char name)", SYS_mkdir, big, 0755);
	memcpy(big + 256, "/x", 3);
	RAW("stat(256-char name/x)", SYS_stat, big, &st);
	memcpy(big, "missing/", 8);
	memset(big + 8, 'n', 256);
	big[264] = 0;
	RAW("stat(missing/256-char name)", SYS_stat, big, &st);
	memcpy(big, "f/", 2);
	RAW("stat(f/256-char name)", SYS_stat, big, &st);

	// path lengths: 4095 bytes plus NUL is the longest
	big[0] = 0;
	for (int i = 0; i < 2047; i++)
		strcat(big, "./");
	strcat(big, "f");
	printf("path length %zu\n", strlen(big));
	FD(fd, "open(4095-byte path)", SYS_open, big, O_RDONLY);
	close(fd);
	big[4094] = 0;
	strcat(big, "/f");
	printf("path length %zu\n", strlen(big));
	FD(fd, "open(4096-byte path)", SYS_open, big, O_RDONLY);
	RAW("stat(4096-byte path)", SYS_stat, big, &st);
	memset(big, '/', 8000);
	big[8000] = 0;
	FD(fd, "open(8000 slashes)", SYS_open, big, O_RDONLY);

	// a path that runs into a PROT_NONE page without a NUL
	char *pg = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	mprotect(pg + 4096, 4096, PROT_NONE);
	memcpy(pg + 4096 - 3, "d/f", 3);
	FD(fd, "open(unterminated at PROT_NONE)", SYS_open, pg + 4096 - 3, O_RDONLY);
	RAW("stat(unterminated at PROT_NONE)", SYS_stat, pg + 4096 - 3, &st);
	memcpy(pg + 4096 - 2, "f", 2);
	FD(fd, "open(f ending just before PROT_NONE)", SYS_open, pg + 4096 - 2, O_RDONLY);
	close(fd);

	// symlink loops inside a path
	symlink("loop", "loop");
	symlink("f", "lf");
	FD(fd, "open(loop)", SYS_open, "loop", O_RDONLY);
	FD(fd, "open(loop/x)", SYS_open, "loop/x", O_RDONLY);
	FD(fd, "open(loop, O_CREAT)", SYS_open, "loop", O_CREAT | O_WRONLY, 0644);
	FD(fd, "open(lf/x)", SYS_open, "lf/x", O_RDONLY);
	FD(fd, "open(lf/)", SYS_open, "lf/", O_RDONLY);
	RAW("lstat(lf/)", SYS_lstat, "lf/", &st);
	RAW("stat(loop)", SYS_stat, "loop", &st);
	RAW("lstat(loop)", SYS_lstat, "loop", &st);
	RAW("lstat(loop/)", SYS_lstat, "loop/", &st);

	finish();
	return 0;
}
