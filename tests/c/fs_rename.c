// SPDX-License-Identifier: Apache-2.0
// Differential test: rename/renameat/renameat2: replacing files (inode kept, old name gone),
// directory rules (ENOTEMPTY, EISDIR, ENOTDIR, EINVAL into a subdir), same name, hard links of
// one inode, RENAME_NOREPLACE, RENAME_EXCHANGE, flag checks, cwd and open fds across a rename
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

static void put(const char *path, const char *text)
{
	int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	write(fd, text, strlen(text));
	close(fd);
}

static void get(const char *path)
{
	char b[64];
	struct stat st;
	if (lstat(path, &st) != 0) {
		int e = errno;
		printf("  %s: %s\n", path, strerrorname_np(e));
		return;
	}
	if (S_ISDIR(st.st_mode)) {
		printf("  %s: dir nlink %lu\n", path, (unsigned long)st.st_nlink);
		return;
	}
	if (S_ISLNK(st.st_mode)) {
		ssize_t n = readlink(path, b, sizeof b - 1);
		b[n < 0 ? 0 : n] = 0;
		printf("  %s: symlink -> %s\n", path, b);
		return;
	}
	int fd = open(path, O_RDONLY);
	ssize_t n = read(fd, b, sizeof b - 1);
	close(fd);
	b[n < 0 ? 0 : n] = 0;
	printf("  %s: \"%s\" nlink %lu\n", path, b, (unsigned long)st.st_nlink);
}

static ino_t ino(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0 ? st.st_ino : 0;
}

int main(void)
{
	char buf[PATH_MAX];

	setup();
	put("a", "AAA");
	put("b", "BBB");
	ino_t ia = ino("a");
	RAW("rename(a, b) over an existing file", SYS_rename, "a", "b");
	get("a");
	get("b");
	printf("b has a's inode: %s\n", ino("b") == ia ? "yes" : "no");
	RAW("rename(b, b) same name", SYS_rename, "b", "b");
	get("b");
	link("b", "b2");
	RAW("rename(b, b2) two links of one inode", SYS_rename, "b", "b2");
	get("b");
	get("b2");
	unlink("b2");
	RAW("rename(missing, x)", SYS_rename, "missing", "x");
	RAW("rename(b, missing/x)", SYS_rename, "b", "missing/x");
	RAW("rename(b, b/x)", SYS_rename, "b", "b/x");
	RAW("rename(b, c/) trailing slash on a file", SYS_rename, "b", "c/");
	RAW("rename(b/, c)", SYS_rename, "b/", "c");
	RAW("rename(\"\", c)", SYS_rename, "", "c");
	RAW("rename(b, \"\")", SYS_rename, "b", "");
	RAW("rename((char *)1, c)", SYS_rename, (char *)1, "c");
	RAW("rename(b, (char *)1)", SYS_rename, "b", (char *)1);

	// directories
	mkdir("d", 0755);
	mkdir("d/sub", 0755);
	put("d/sub/file", "in sub");
	mkdir("e", 0755);
	mkdir("full", 0755);
	put("full/x", "x");
	RAW("rename(d, full) over a non-empty dir", SYS_rename, "d", "full");
	RAW("rename(b, e) file over dir", SYS_rename, "b", "e");
	RAW("rename(e, b) dir over file", SYS_rename, "e", "b");
	RAW("rename(d, d/sub/x) into its own subdir", SYS_rename, "d", "d/sub/x");
	RAW("rename(d, d/x)", SYS_rename, "d", "d/x");
	RAW("rename(d/sub, d) onto its own parent", SYS_rename, "d/sub", "d");
	RAW("rename(d, d) same dir", SYS_rename, "d", "d");
	RAW("rename(., x)", SYS_rename, ".", "x");
	RAW("rename(b, .)", SYS_rename, "b", ".");
	RAW("rename(d/sub/.., x)", SYS_rename, "d/sub/..", "x");
	RAW("rename(/, x)", SYS_rename, "/", "x");
	ino_t isub = ino("d/sub");
	get("d");
	get("e");
	RAW("rename(d/sub, e/sub) between parents", SYS_rename, "d/sub", "e/sub");
	get("d");
	get("e");
	printf("moved dir keeps its inode: %s\n", ino("e/sub") == isub ? "yes" : "no");
	get("e/sub/file");
	RAW("rename(e/sub, d) over an empty dir", SYS_rename, "e/sub", "d");
	get("d/file");
	get("e");
	RAW("rename(d/, e2/) trailing slashes on dirs", SYS_rename, "d/", "e2/");
	get("e2/file");

	// open fds and the cwd follow the inode
	int fd = open("e2/file", O_RDONLY);
	chdir("e2");
	RAW("rename(../e2, ../e3) of the cwd", SYS_rename, "../e2", "../e3");
	getcwd(buf, sizeof buf);
	printf("getcwd after renaming the cwd ends with /e3: %s\n",
	       strlen(buf) >= 3 && strcmp(buf + strlen(buf) - 3, "/e3") == 0 ? "yes" : "no");
	chdir("..");
	memset(buf, 0, 16);
	pread(fd, buf, 15, 0);
	printf("fd opened before the rename still reads: \"%s\"\n", buf);
	close(fd);
	put("old", "old contents");
	put("new", "new contents");
	fd = open("old", O_RDONLY);
	RAW("rename(new, old) while old is open", SYS_rename, "new", "old");
	memset(buf, 0, 16);
	pread(fd, buf, 15, 0);
	printf("fd of the replaced file reads: \"%s\"\n", buf);
	close(fd);
	get("old");

	// symlinks
	symlink("old", "lnk");
	RAW("rename(lnk, lnk2) renames the link", SYS_rename, "lnk", "lnk2");
	get("lnk2");
	get("old");
	put("plain", "plain");
	RAW("rename(plain, lnk2) over a symlink", SYS_rename, "plain", "lnk2");
	get("lnk2");
	get("old");
	symlink("e3", "ldir");
	RAW("rename(b, ldir/) through a dir symlink", SYS_rename, "b", "ldir/");

	// renameat with dirfds
	int d1 = open("e3", O_RDONLY | O_DIRECTORY);
	RAW("renameat(d1, file, AT_FDCWD, top-file)", SYS_renameat, d1, "file", AT_FDCWD, "topfile");
	get("topfile");
	RAW("renameat(AT_FDCWD, topfile, d1, back)", SYS_renameat, AT_FDCWD, "topfile", d1, "back");
	get("e3/back");
	RAW("renameat(99, x, d1, y)", SYS_renameat, 99, "x", d1, "y");
	int ffd = open("old", O_RDONLY);
	RAW("renameat(file fd, x, d1, y)", SYS_renameat, ffd, "x", d1, "y");
	close(ffd);

	// renameat2
	put("p", "P");
	put("q", "Q");
	RAW("renameat2(p, q, RENAME_NOREPLACE)", SYS_renameat2, AT_FDCWD, "p", AT_FDCWD, "q", RENAME_NOREPLACE);
	get("p");
	get("q");
	RAW("renameat2(p, r, RENAME_NOREPLACE)", SYS_renameat2, AT_FDCWD, "p", AT_FDCWD, "r", RENAME_NOREPLACE);
	get("p");
	get("r");
	RAW("renameat2(r, r, RENAME_NOREPLACE)", SYS_renameat2, AT_FDCWD, "r", AT_FDCWD, "r", RENAME_NOREPLACE);
	ino_t iq = ino("q"), ir = ino("r");
	RAW("renameat2(q, r, RENAME_EXCHANGE)", SYS_renameat2, AT_FDCWD, "q", AT_FDCWD, "r", RENAME_EXCHANGE);
	get("q");
	get("r");
	printf("inodes swapped: %s\n", ino("q") == ir && ino("r") == iq ? "yes" : "no");
	RAW("renameat2(q, missing, RENAME_EXCHANGE)", SYS_renameat2, AT_FDCWD, "q", AT_FDCWD, "missing", RENAME_EXCHANGE);
	RAW("renameat2(q, e3, RENAME_EXCHANGE) file and dir", SYS_renameat2, AT_FDCWD, "q", AT_FDCWD, "e3", RENAME_EXCHANGE);
	get("q");
	get("e3");
	get("q/back");
	RAW("renameat2(q, q/x, RENAME_EXCHANGE)", SYS_renameat2, AT_FDCWD, "q", AT_FDCWD, "q/back", RENAME_EXCHANGE);
	RAW("renameat2(r, r, RENAME_EXCHANGE)", SYS_renameat2, AT_FDCWD, "r", AT_FDCWD, "r", RENAME_EXCHANGE);
	RAW("renameat2(NOREPLACE|EXCHANGE)", SYS_renameat2, AT_FDCWD, "q", AT_FDCWD, "r",
	    RENAME_NOREPLACE | RENAME_EXCHANGE);
	RAW("renameat2(flags 1<<5)", SYS_renameat2, AT_FDCWD, "q", AT_FDCWD, "r", 1 << 5);
	RAW("renameat2(flags 0)", SYS_renameat2, AT_FDCWD, "r", AT_FDCWD, "s", 0);
	get("s");

	close(d1);
	finish();
	return 0;
}
