// SPDX-License-Identifier: Apache-2.0
// Differential test: extended attributes on tmpfs files, directories and symlinks: set/get/list/remove,
// XATTR_CREATE/XATTR_REPLACE, size queries, ERANGE/E2BIG/ENODATA/EEXIST/EOPNOTSUPP/EPERM/EFAULT
// variants: static
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
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

static int cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void list(const char *what, const char *path, int fd)
{
	char buf[1024];
	errno = 0;
	long n = fd >= 0 ? syscall(SYS_flistxattr, fd, buf, sizeof buf) : syscall(SYS_listxattr, path, buf, sizeof buf);
	int e = errno;
	if (n < 0) {
		printf("%s: %s\n", what, strerrorname_np(e));
		return;
	}
	char *names[32];
	int k = 0;
	for (long i = 0; i < n && k < 32; i += strlen(buf + i) + 1)
		names[k++] = buf + i;
	qsort(names, k, sizeof names[0], cmpstr);
	printf("%s (%ld bytes):", what, n);
	for (int i = 0; i < k; i++)
		printf(" %s", names[i]);
	printf("\n");
}

static void get(const char *what, const char *path, const char *name)
{
	char buf[128] = { 0 };
	errno = 0;
	long n = syscall(SYS_getxattr, path, name, buf, sizeof buf - 1);
	int e = errno;
	if (n < 0)
		printf("%s: -1 %s\n", what, strerrorname_np(e));
	else
		printf("%s: %ld \"%s\"\n", what, n, buf);
}

int main(void)
{
	/* /dev/shm is tmpfs both natively and in the sandbox. */
	char dir[] = "/dev/shm/rt-XXXXXX";
	if (!mkdtemp(dir) || chdir(dir) != 0) {
		perror("mkdtemp");
		return 1;
	}
	close(open("f", O_CREAT | O_WRONLY, 0644));
	char buf[256];

	list("list of a new file", "f", -1);
	RAW("setxattr user.x hello", SYS_setxattr, "f", "user.x", "hello", 5, 0);
	RAW("getxattr size 0 (query)", SYS_getxattr, "f", "user.x", NULL, 0);
	get("getxattr", "f", "user.x");
	RAW("getxattr buffer of 2", SYS_getxattr, "f", "user.x", buf, 2);
	RAW("getxattr user.missing", SYS_getxattr, "f", "user.missing", buf, sizeof buf);
	RAW("setxattr user.x CREATE (exists)", SYS_setxattr, "f", "user.x", "again", 5, XATTR_CREATE);
	RAW("setxattr user.y REPLACE (missing)", SYS_setxattr, "f", "user.y", "v", 1, XATTR_REPLACE);
	RAW("setxattr user.x REPLACE", SYS_setxattr, "f", "user.x", "replaced", 8, XATTR_REPLACE);
	get("getxattr", "f", "user.x");
	RAW("setxattr user.y CREATE", SYS_setxattr, "f", "user.y", "why", 3, XATTR_CREATE);
	RAW("setxattr flags 4", SYS_setxattr, "f", "user.z", "v", 1, 4);
	RAW("setxattr CREATE|REPLACE", SYS_setxattr, "f", "user.z", "v", 1, XATTR_CREATE | XATTR_REPLACE);
	RAW("setxattr user.empty, 0 bytes", SYS_setxattr, "f", "user.empty", "", 0, 0);
	get("getxattr user.empty", "f", "user.empty");
	RAW("listxattr size 0 (query)", SYS_listxattr, "f", NULL, 0);
	RAW("listxattr buffer of 3", SYS_listxattr, "f", buf, 3);
	list("list", "f", -1);

	RAW("setxattr foo.x (unknown namespace)", SYS_setxattr, "f", "foo.x", "v", 1, 0);
	RAW("getxattr foo.x", SYS_getxattr, "f", "foo.x", buf, sizeof buf);
	RAW("setxattr x (no namespace)", SYS_setxattr, "f", "x", "v", 1, 0);
	RAW("setxattr user. (empty suffix)", SYS_setxattr, "f", "user.", "v", 1, 0);
	RAW("setxattr empty name", SYS_setxattr, "f", "", "v", 1, 0);
	memset(buf, 'n', 255);
	memcpy(buf, "user.", 5);
	buf[255] = 0;
	RAW("setxattr 255-byte name", SYS_setxattr, "f", buf, "v", 1, 0);
	char longname[300];
	memset(longname, 'n', 299);
	memcpy(longname, "user.", 5);
	longname[299] = 0;
	RAW("setxattr 299-byte name", SYS_setxattr, "f", longname, "v", 1, 0);
	RAW("removexattr 255-byte name", SYS_removexattr, "f", buf);
	static char huge[65537];
	RAW("setxattr 65537-byte value", SYS_setxattr, "f", "user.big", huge, sizeof huge, 0);
	RAW("setxattr bad name pointer", SYS_setxattr, "f", (void *)1, "v", 1, 0);
	RAW("setxattr bad value pointer", SYS_setxattr, "f", "user.bad", (void *)1, 4, 0);
	RAW("getxattr bad value pointer", SYS_getxattr, "f", "user.x", (void *)1, 64);
	RAW("setxattr missing file", SYS_setxattr, "nope", "user.x", "v", 1, 0);
	RAW("getxattr missing file", SYS_getxattr, "nope", "user.x", buf, sizeof buf);

	RAW("setxattr trusted.t (as this user)", SYS_setxattr, "f", "trusted.t", "tt", 2, 0);
	RAW("removexattr user.y", SYS_removexattr, "f", "user.y");
	RAW("removexattr user.y again", SYS_removexattr, "f", "user.y");
	RAW("removexattr foo.y", SYS_removexattr, "f", "foo.y");
	RAW("removexattr user.empty", SYS_removexattr, "f", "user.empty");
	list("list", "f", -1);

	/* the f* variants */
	int fd = open("f", O_RDONLY);
	RAW("fsetxattr user.fd (O_RDONLY fd)", SYS_fsetxattr, fd, "user.fd", "viafd", 5, 0);
	RAW("fgetxattr user.fd", SYS_fgetxattr, fd, "user.fd", buf, sizeof buf);
	list("flistxattr", NULL, fd);
	RAW("fremovexattr user.fd", SYS_fremovexattr, fd, "user.fd");
	close(fd);
	int pfd = open("f", O_PATH);
	RAW("fgetxattr on O_PATH", SYS_fgetxattr, pfd, "user.x", buf, sizeof buf);
	RAW("fsetxattr on O_PATH", SYS_fsetxattr, pfd, "user.x", "v", 1, 0);
	close(pfd);
	RAW("fgetxattr fd -1", SYS_fgetxattr, -1, "user.x", buf, sizeof buf);

	/* a hard link shares the attributes; a rename keeps them */
	link("f", "hard");
	get("getxattr through a hard link", "hard", "user.x");
	rename("hard", "moved");
	get("getxattr after rename", "moved", "user.x");
	unlink("moved");

	/* directories and symlinks */
	mkdir("d", 0755);
	RAW("setxattr user.d on a directory", SYS_setxattr, "d", "user.d", "dir", 3, 0);
	get("getxattr on the directory", "d", "user.d");
	symlink("f", "l");
	get("getxattr through the symlink", "l", "user.x");
	RAW("lgetxattr user.x on the symlink", SYS_lgetxattr, "l", "user.x", buf, sizeof buf);
	RAW("lsetxattr user.s on the symlink", SYS_lsetxattr, "l", "user.s", "v", 1, 0);
	RAW("llistxattr on the symlink", SYS_llistxattr, "l", buf, sizeof buf);
	RAW("lsetxattr trusted.s on the symlink", SYS_lsetxattr, "l", "trusted.s", "v", 1, 0);

	/* other filesystems */
	RAW("setxattr user.x on /proc/self/status", SYS_setxattr, "/proc/self/status", "user.x", "v", 1, 0);
	RAW("getxattr user.x on /proc/self/status", SYS_getxattr, "/proc/self/status", "user.x", buf, sizeof buf);
	RAW("getxattr user.x on /dev/null", SYS_getxattr, "/dev/null", "user.x", buf, sizeof buf);

	unlink("f");
	unlink("l");
	rmdir("d");
	chdir("/");
	printf("cleanup: %s\n", rmdir(dir) == 0 ? "ok" : "failed");
	return 0;
}
