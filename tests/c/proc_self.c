// SPDX-License-Identifier: Apache-2.0
// Differential test: /proc/self: fd and cwd/exe/root links, the fd directory, fdinfo, stat, status,
// comm, cmdline, environ, maps ([heap], [stack]), compared with what the process knows about itself
// variants: static static-pie
// args: alpha beta gamma
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

extern char **environ;

static long slurp(const char *path, char *buf, long n)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	long got = 0, r;
	while (got < n - 1 && (r = read(fd, buf + got, n - 1 - got)) > 0)
		got += r;
	close(fd);
	buf[got] = 0;
	return got;
}

static const char *link_of(const char *path, char *buf, long n)
{
	long r = readlink(path, buf, n - 1);
	if (r < 0) {
		int e = errno;
		snprintf(buf, n, "<%s>", strerrorname_np(e));
	} else {
		buf[r] = 0;
	}
	return buf;
}

static const char *yes(int c)
{
	return c ? "yes" : "no";
}

static int cmpint(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

static char *field(char *text, const char *name)
{
	static char line[256];
	size_t l = strlen(name);
	for (char *p = text; p && *p;) {
		char *nl = strchr(p, '\n');
		if (strncmp(p, name, l) == 0 && p[l] == ':') {
			size_t n = nl ? (size_t)(nl - p) : strlen(p);
			snprintf(line, sizeof line, "%.*s", (int)n, p);
			return line;
		}
		p = nl ? nl + 1 : NULL;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	static char big[1 << 16];
	char a[512], b[512];
	long n;

	/* the initial environment, before anything changes it */
	long elen = 0;
	for (char **e = environ; *e; e++) {
		size_t l = strlen(*e) + 1;
		if (elen + l < sizeof big)
			memcpy(big + elen, *e, l);
		elen += l;
	}
	static char env0[1 << 16];
	memcpy(env0, big, elen < (long)sizeof env0 ? elen : (long)sizeof env0);
	n = slurp("/proc/self/environ", big, sizeof big);
	printf("environ equals the initial environment: %s\n", yes(n == elen && memcmp(big, env0, n) == 0));
	if (getenv("PATH")) {
		int found = 0;
		for (long i = 0; i < n; i += strlen(big + i) + 1)
			found |= strncmp(big + i, "PATH=", 5) == 0;
		printf("environ has PATH=: %s\n", yes(found));
	}
	setenv("RT_LATER", "1", 1);
	n = slurp("/proc/self/environ", big, sizeof big);
	printf("setenv does not change it: %s\n", yes(n == elen));

	long clen = 0;
	static char args[4096];
	for (int i = 0; i < argc; i++) {
		size_t l = strlen(argv[i]) + 1;
		memcpy(args + clen, argv[i], l);
		clen += l;
	}
	n = slurp("/proc/self/cmdline", big, sizeof big);
	printf("cmdline equals argv joined with NULs: %s (argc %d)\n", yes(n == clen && memcmp(big, args, n) == 0), argc);

	char *rp = realpath(argv[0], NULL);
	for (int fd = 3; fd < 1024; fd++)
		close(fd);
	char dir[] = "/tmp/rt-XXXXXX";
	if (!mkdtemp(dir) || chdir(dir) != 0) {
		perror("mkdtemp");
		return 1;
	}
	int fd = open("file", O_RDWR | O_CREAT | O_EXCL, 0644);
	int nul = open("/dev/null", O_WRONLY | O_APPEND);
	printf("fds: %d %d\n", fd, nul);
	snprintf(a, sizeof a, "%s/file", dir);
	snprintf(b, sizeof b, "/proc/self/fd/%d", fd);
	char l[512];
	printf("readlink fd of the file is its absolute path: %s\n", yes(strcmp(link_of(b, l, sizeof l), a) == 0));
	snprintf(b, sizeof b, "/proc/self/fd/%d", nul);
	printf("readlink fd of /dev/null: %s\n", link_of(b, l, sizeof l));
	printf("readlink /proc/self/fd/999: %s\n", link_of("/proc/self/fd/999", l, sizeof l));
	struct stat st;
	lstat(b, &st);
	printf("/proc/self/fd/N (O_WRONLY) is a symlink: %s, mode %04o\n", yes(S_ISLNK(st.st_mode)), st.st_mode & 07777);
	snprintf(b, sizeof b, "/proc/self/fd/%d", fd);
	lstat(b, &st);
	printf("/proc/self/fd/N (O_RDWR) mode %04o\n", st.st_mode & 07777);
	printf("readlink cwd equals getcwd and the directory: %s\n",
	       yes(getcwd(a, sizeof a) && strcmp(link_of("/proc/self/cwd", l, sizeof l), a) == 0 && strcmp(a, dir) == 0));
	printf("readlink root: %s\n", link_of("/proc/self/root", l, sizeof l));
	printf("readlink exe is realpath(argv[0]): %s\n", yes(rp && strcmp(link_of("/proc/self/exe", l, sizeof l), rp) == 0));
	free(rp);
	snprintf(a, sizeof a, "%d", getpid());
	printf("readlink /proc/self is the pid: %s\n", yes(strcmp(link_of("/proc/self", l, sizeof l), a) == 0));
	snprintf(a, sizeof a, "%d/task/%ld", getpid(), syscall(SYS_gettid));
	printf("readlink /proc/thread-self is pid/task/tid: %s\n", yes(strcmp(link_of("/proc/thread-self", l, sizeof l), a) == 0));

	/* reopening through /proc/self/fd gives a new description */
	write(fd, "0123456789", 10);
	snprintf(b, sizeof b, "/proc/self/fd/%d", fd);
	int re = open(b, O_RDONLY);
	char c[4] = { 0 };
	read(re, c, 3);
	printf("reopen via /proc/self/fd reads from 0: \"%s\", original pos still %ld\n", c, (long)lseek(fd, 0, SEEK_CUR));
	close(re);

	/* fdinfo */
	lseek(fd, 4, SEEK_SET);
	snprintf(b, sizeof b, "/proc/self/fdinfo/%d", fd);
	slurp(b, big, sizeof big);
	char *f = field(big, "pos");
	printf("fdinfo %s\n", f ? f : "(no pos)");
	f = field(big, "flags");
	printf("fdinfo %s\n", f ? f : "(no flags)");
	snprintf(b, sizeof b, "/proc/self/fdinfo/%d", nul);
	fcntl(nul, F_SETFD, FD_CLOEXEC);
	slurp(b, big, sizeof big);
	f = field(big, "flags");
	printf("fdinfo of /dev/null (cloexec, append) %s\n", f ? f : "(no flags)");

	/* the fd directory */
	DIR *dp = opendir("/proc/self/fd");
	int fds[64], nf = 0, others = 0;
	struct dirent *de;
	while ((de = readdir(dp))) {
		if (de->d_name[0] >= '0' && de->d_name[0] <= '9') {
			if (nf < 64)
				fds[nf++] = atoi(de->d_name);
			if (de->d_type != DT_LNK)
				others++;
		}
	}
	int dfd = dirfd(dp);
	closedir(dp);
	qsort(fds, nf, sizeof fds[0], cmpint);
	printf("/proc/self/fd lists:");
	for (int i = 0; i < nf; i++)
		printf(" %s", fds[i] == dfd ? "dirfd" : fds[i] == fd ? "file" : fds[i] == nul ? "null" : fds[i] < 3 ? "stdio" : "?");
	printf("\nall entries DT_LNK: %s\n", yes(others == 0));
	struct stat ds;
	stat("/proc/self/fd", &ds);
	printf("/proc/self/fd mode %04o\n", ds.st_mode & 07777);

	/* stat */
	slurp("/proc/self/stat", big, sizeof big);
	printf("stat first field is the pid: %s\n", yes(atoi(big) == getpid()));
	char *open_ = strchr(big, '('), *close_ = strrchr(big, ')');
	const char *base = strrchr(argv[0], '/');
	base = base ? base + 1 : argv[0];
	char comm[16];
	snprintf(comm, sizeof comm, "%s", base);
	printf("stat comm is (basename truncated to 15): %s\n",
	       yes(open_ && close_ && close_ - open_ - 1 == (long)strlen(comm) && strncmp(open_ + 1, comm, strlen(comm)) == 0));
	printf("stat state: %c\n", close_ ? close_[2] : '?');
	int fields = 0;
	for (char *p = close_; p && *p; p++)
		fields += *p == ' ';
	printf("stat has 52 fields: %s\n", yes(fields + 2 == 52));

	/* status */
	slurp("/proc/self/status", big, sizeof big);
	f = field(big, "Name");
	snprintf(a, sizeof a, "Name:\t%s", comm);
	printf("status Name is the basename truncated to 15: %s\n", yes(f && strcmp(f, a) == 0));
	f = field(big, "State");
	printf("status %s\n", f ? f : "(no State)");
	f = field(big, "Pid");
	snprintf(a, sizeof a, "Pid:\t%d", getpid());
	printf("status Pid matches: %s\n", yes(f && strcmp(f, a) == 0));
	f = field(big, "Uid");
	snprintf(a, sizeof a, "Uid:\t%d\t%d\t%d\t%d", getuid(), geteuid(), getuid(), getuid());
	printf("status Uid matches: %s\n", yes(f && strcmp(f, a) == 0));
	f = field(big, "Threads");
	printf("status %s\n", f ? f : "(no Threads)");
	printf("status has VmRSS: %s, SigBlk: %s, Cpus_allowed_list: %s\n", yes(field(big, "VmRSS") != NULL),
	       yes(field(big, "SigBlk") != NULL), yes(field(big, "Cpus_allowed_list") != NULL));

	/* comm */
	slurp("/proc/self/comm", big, sizeof big);
	snprintf(a, sizeof a, "%s\n", comm);
	printf("comm matches: %s\n", yes(strcmp(big, a) == 0));
	int cf = open("/proc/self/comm", O_WRONLY);
	errno = 0;
	n = write(cf, "renamed-by-test-long", 20);
	int e = errno;
	printf("write comm = %ld %s\n", n, n < 0 ? strerrorname_np(e) : "");
	close(cf);
	slurp("/proc/self/comm", big, sizeof big);
	printf("comm now: %s", big);
	slurp("/proc/self/status", big, sizeof big);
	f = field(big, "Name");
	printf("status %s\n", f ? f : "(no Name)");

	/* maps */
	char *volatile m = malloc(64);
	m[0] = 1;
	slurp("/proc/self/maps", big, sizeof big);
	printf("maps has [stack]: %s, [heap]: %s, [vdso]: %s\n", yes(strstr(big, "[stack]\n") != NULL),
	       yes(strstr(big, "[heap]\n") != NULL), yes(strstr(big, "[vdso]\n") != NULL));
	unsigned long lo, hi, sp = (unsigned long)&lo;
	int in_stack = 0, in_heap = 0;
	for (char *p = big; p && *p;) {
		char *nl = strchr(p, '\n');
		if (sscanf(p, "%lx-%lx", &lo, &hi) == 2) {
			if (nl && nl - p > 7 && strncmp(nl - 7, "[stack]", 7) == 0 && lo <= sp && sp < hi)
				in_stack = 1;
			if (nl && nl - p > 6 && strncmp(nl - 6, "[heap]", 6) == 0 && lo <= (unsigned long)m && (unsigned long)m < hi)
				in_heap = 1;
		}
		p = nl ? nl + 1 : NULL;
	}
	printf("a local is in [stack]: %s, malloc(64) is in [heap]: %s\n", yes(in_stack), yes(in_heap));
	free(m);

	/* files of /proc/self are owned by the process's user */
	stat("/proc/self/status", &st);
	printf("status owned by euid: %s, mode %04o, size %ld\n", yes(st.st_uid == geteuid()), st.st_mode & 07777, (long)st.st_size);
	errno = 0;
	n = open("/proc/self/nonexistent", O_RDONLY);
	e = errno;
	printf("open /proc/self/nonexistent: %s\n", n < 0 ? strerrorname_np(e) : "ok");

	close(fd);
	close(nul);
	unlink("file");
	chdir("/");
	printf("cleanup: %s\n", rmdir(dir) == 0 ? "ok" : "failed");
	return 0;
}
