// SPDX-License-Identifier: Apache-2.0
// Differential test: host files seen through the root (read-only use only): reads match st_size,
// lseek/pread, fstat agrees with stat, /etc listing, the program's own binary vs /proc/self/exe,
// /proc/self/root paths, and a copy written to /tmp that reads back identical
// variants: static
#define _GNU_SOURCE
#include <dirent.h>
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

// Reads a whole file; returns its length or -1 (errno set). *out is malloc'd.
static long slurp(const char *path, char **out)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	size_t cap = 1 << 16, len = 0;
	char *b = malloc(cap);
	for (;;) {
		if (len == cap)
			b = realloc(b, cap *= 2);
		ssize_t n = read(fd, b + len, cap - len);
		if (n < 0) {
			int e = errno;
			close(fd);
			free(b);
			errno = e;
			return -1;
		}
		if (n == 0)
			break;
		len += n;
	}
	close(fd);
	*out = b;
	return len;
}

static void host_file(const char *path)
{
	struct stat st, fst;
	char *data = NULL;
	if (stat(path, &st) != 0) {
		int e = errno;
		printf("%s: stat %s\n", path, strerrorname_np(e));
		return;
	}
	long n = slurp(path, &data);
	if (n < 0) {
		int e = errno;
		printf("%s: read %s\n", path, strerrorname_np(e));
		return;
	}
	int fd = open(path, O_RDONLY);
	fstat(fd, &fst);
	long end = lseek(fd, 0, SEEK_END);
	char c = 0;
	long pr = n > 0 ? pread(fd, &c, 1, n - 1) : 0;
	close(fd);
	printf("%s: regular %s, bytes read == st_size %s, fstat == stat %s, SEEK_END == size %s, last byte via pread "
	       "%s\n",
	       path, S_ISREG(st.st_mode) ? "yes" : "no", n == st.st_size ? "yes" : "no",
	       st.st_ino == fst.st_ino && st.st_dev == fst.st_dev && st.st_size == fst.st_size ? "yes" : "no",
	       end == st.st_size ? "yes" : "no", n == 0 || (pr == 1 && c == data[n - 1]) ? "yes" : "no");
	free(data);
}

int main(int argc, char **argv)
{
	struct stat st, st2;
	char *a = NULL, *b = NULL;
	(void)argc;

	setup();
	host_file("/etc/passwd");
	host_file("/etc/hostname");
	host_file("/etc/os-release");
	host_file("/etc/group");
	// Debian makes it a symlink to ../usr/lib/os-release; either way it is the host's own
	if (lstat("/etc/os-release", &st) == 0)
		printf("/etc/os-release: lstat says %s\n", S_ISLNK(st.st_mode) ? "symlink" : S_ISREG(st.st_mode) ? "regular" : "other");

	// the directory listing of /etc
	DIR *d = opendir("/etc");
	int entries = 0, dot = 0, dotdot = 0, passwd = 0;
	struct dirent *e;
	while (d && (e = readdir(d))) {
		entries++;
		dot += strcmp(e->d_name, ".") == 0;
		dotdot += strcmp(e->d_name, "..") == 0;
		passwd += strcmp(e->d_name, "passwd") == 0 && e->d_type == DT_REG;
	}
	if (d)
		closedir(d);
	printf("/etc: listed, has . %d .. %d passwd (DT_REG) %d\n", dot, dotdot, passwd);
	// the count is the host's own, compared between the two runs
	printf("/etc: %d entries\n", entries);

	// relative opens under a host directory fd
	int efd = open("/etc", O_RDONLY | O_DIRECTORY);
	int pfd = openat(efd, "passwd", O_RDONLY);
	fstat(pfd, &st);
	stat("/etc/passwd", &st2);
	printf("openat(/etc fd, passwd) is /etc/passwd: %s\n", st.st_ino == st2.st_ino ? "yes" : "no");
	close(pfd);
	errno = 0;
	long r = syscall(SYS_openat, efd, "../etc/./passwd", O_RDONLY);
	showok("openat(/etc fd, ../etc/./passwd)", r, errno);
	close(r);
	close(efd);
	printf("/proc/self/root/etc/passwd is /etc/passwd: %s\n",
	       stat("/proc/self/root/etc/passwd", &st) == 0 && st.st_ino == st2.st_ino && st.st_dev == st2.st_dev ? "yes"
														    : "no");

	// the program's own binary
	long n1 = slurp(argv[0], &a);
	long n2 = slurp("/proc/self/exe", &b);
	stat(argv[0], &st);
	printf("binary: read == st_size %s, same bytes via /proc/self/exe %s\n", n1 == st.st_size ? "yes" : "no",
	       n1 > 0 && n1 == n2 && memcmp(a, b, n1) == 0 ? "yes" : "no");
	free(a);
	free(b);

	// a private copy in /tmp
	n1 = slurp("/etc/passwd", &a);
	int fd = open("passwd.copy", O_CREAT | O_WRONLY | O_EXCL, 0600);
	long w = write(fd, a, n1);
	write(fd, "extra:x:1:1::/:/bin/false\n", 26);
	close(fd);
	n2 = slurp("passwd.copy", &b);
	printf("copy: wrote all %s, length + 26 %s, prefix identical %s\n", w == n1 ? "yes" : "no",
	       n2 == n1 + 26 ? "yes" : "no", n2 >= n1 && memcmp(a, b, n1) == 0 ? "yes" : "no");
	free(b);
	fd = open("passwd.copy", O_RDWR);
	pwrite(fd, "ROOT", 4, 0);
	close(fd);
	n2 = slurp("passwd.copy", &b);
	printf("copy: first bytes rewritten %s\n", n2 > 4 && memcmp(b, "ROOT", 4) == 0 ? "yes" : "no");
	free(b);
	n2 = slurp("/etc/passwd", &b);
	printf("the host file unchanged %s\n", n2 == n1 && memcmp(a, b, n1) == 0 ? "yes" : "no");
	free(a);
	free(b);

	// read-only use of host paths: opening for reading never creates anything
	RAW("open(/etc/does-not-exist-rt, O_RDONLY)", SYS_open, "/etc/does-not-exist-rt", O_RDONLY);
	RAW("stat(/etc/passwd/)", SYS_stat, "/etc/passwd/", &st);
	RAW("open(/etc/passwd, O_DIRECTORY)", SYS_open, "/etc/passwd", O_RDONLY | O_DIRECTORY);
	RAW("readlink(/etc/passwd)", SYS_readlink, "/etc/passwd", (char[16]){0}, 16);

	finish();
	return 0;
}
