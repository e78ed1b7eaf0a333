// SPDX-License-Identifier: Apache-2.0
// Differential test: statfs/fstatfs on tmpfs (/dev/shm, /dev), proc, sysfs and devpts: f_type, f_bsize,
// f_namelen, agreement between statfs and fstatfs, O_PATH descriptors, ENOENT/ENOTDIR/EFAULT/EBADF
// variants: static
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

static void show(const char *what, long r, int err)
{
	if (r == -1) {
		const char *n = strerrorname_np(err);
		printf("%s = -1 %s\n", what, n ? n : "E?");
	} else {
		printf("%s = %ld\n", what, r);
	}
}

#define RAW(what, ...)                                   \
	do {                                             \
		errno = 0;                               \
		long r_ = syscall(__VA_ARGS__);          \
		show(what, r_, errno);                   \
	} while (0)

static const char *magic(long t)
{
	switch (t) {
	case 0x01021994: return "TMPFS_MAGIC";
	case 0x9fa0: return "PROC_SUPER_MAGIC";
	case 0x62656572: return "SYSFS_MAGIC";
	case 0x1cd1: return "DEVPTS_SUPER_MAGIC";
	case 0xef53: return "EXT4_SUPER_MAGIC";
	case 0x794c7630: return "OVERLAYFS_SUPER_MAGIC";
	}
	return "other";
}

static void fs(const char *path)
{
	struct statfs s;
	errno = 0;
	if (statfs(path, &s) != 0) {
		int e = errno;
		printf("statfs %s: %s\n", path, strerrorname_np(e));
		return;
	}
	printf("statfs %s: %s bsize %ld namelen %ld frsize %ld\n", path, magic(s.f_type), (long)s.f_bsize,
	       (long)s.f_namelen, (long)s.f_frsize);
	int fd = open(path, O_RDONLY);
	struct statfs f;
	fstatfs(fd, &f);
	close(fd);
	printf("  fstatfs agrees: %s\n", f.f_type == s.f_type && f.f_bsize == s.f_bsize && f.f_namelen == s.f_namelen ? "yes" : "no");
}

int main(void)
{
	fs("/dev/shm");
	fs("/proc");
	fs("/proc/self/status");
	fs("/proc/sys/kernel");
	fs("/sys");
	fs("/dev/pts");

	struct statfs s;
	statfs("/proc", &s);
	printf("/proc: f_blocks %ld f_bfree %ld f_bavail %ld\n", (long)s.f_blocks, (long)s.f_bfree, (long)s.f_bavail);
	statfs("/dev/shm", &s);
	printf("/dev/shm: bfree <= blocks: %s, bavail <= bfree: %s, ffree <= files: %s\n", s.f_bfree <= s.f_blocks ? "yes" : "no",
	       s.f_bavail <= s.f_bfree ? "yes" : "no", s.f_ffree <= s.f_files ? "yes" : "no");

	/* a file in a private /tmp directory: same filesystem as its directory */
	char dir[] = "/tmp/rt-XXXXXX";
	if (!mkdtemp(dir) || chdir(dir) != 0) {
		perror("mkdtemp");
		return 1;
	}
	int fd = open("f", O_RDWR | O_CREAT | O_EXCL, 0644);
	struct statfs a, b, c;
	statfs("/tmp", &a);
	statfs(dir, &b);
	fstatfs(fd, &c);
	printf("/tmp, its subdirectory and a file agree: %s\n",
	       a.f_type == b.f_type && b.f_type == c.f_type && a.f_bsize == c.f_bsize ? "yes" : "no");
	struct statvfs v;
	statvfs(dir, &v);
	printf("statvfs agrees with statfs: %s\n", v.f_bsize == (unsigned long)b.f_bsize && v.f_namemax == (unsigned long)b.f_namelen ? "yes" : "no");
	int pfd = open("f", O_PATH);
	RAW("fstatfs on O_PATH", SYS_fstatfs, pfd, &c);
	close(pfd);
	RAW("statfs missing", SYS_statfs, "nope", &s);
	RAW("statfs through a file", SYS_statfs, "f/x", &s);
	RAW("statfs bad buffer", SYS_statfs, ".", (void *)1);
	RAW("statfs bad path", SYS_statfs, (void *)1, &s);
	RAW("statfs empty path", SYS_statfs, "", &s);
	RAW("fstatfs fd -1", SYS_fstatfs, -1, &s);
	RAW("fstatfs fd 999", SYS_fstatfs, 999, &s);
	RAW("fstatfs bad buffer", SYS_fstatfs, fd, (void *)1);
	close(fd);

	int nul = open("/dev/null", O_RDONLY);
	fstatfs(nul, &s);
	printf("fstatfs /dev/null: %s\n", magic(s.f_type));
	close(nul);

	unlink("f");
	chdir("/");
	printf("cleanup: %s\n", rmdir(dir) == 0 ? "ok" : "failed");
	return 0;
}
