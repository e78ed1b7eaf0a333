// SPDX-License-Identifier: Apache-2.0
// Differential test: I/O with memory that maps a host file of the root's lower layer (runrs maps the host file itself into the guest): write() of it to a pipe, a file and a socket shows the file's bytes; read() into it is EFAULT while read-only, and once writable copies the page without changing the file; pread of the file after all of it still shows the file; fork children see the same
// variants: static static-pie
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#define PG 4096L

static const char *path = "/usr/lib/x86_64-linux-gnu/libc.so.6";
static char *file;
static long size;

static void read_file(void)
{
	int fd = open(path, O_RDONLY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0) {
		perror(path);
		exit(2);
	}
	size = st.st_size;
	file = malloc(size);
	for (long got = 0; got < size;) {
		long n = pread(fd, file + got, size - got, got);
		if (n <= 0) {
			perror("pread");
			exit(2);
		}
		got += n;
	}
	close(fd);
}

/* Reads everything from fd into buf (at most len bytes); returns how many. */
static long drain(int fd, char *buf, long len)
{
	long got = 0;
	while (got < len) {
		long n = read(fd, buf + got, len - got);
		if (n <= 0)
			break;
		got += n;
	}
	return got;
}

int main(void)
{
	read_file();
	long len = (size + PG - 1) & ~(PG - 1);
	int fd = open(path, O_RDONLY);
	char *m = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
	if (m == MAP_FAILED) {
		perror("mmap");
		return 2;
	}
	char *buf = malloc(len);

	/* write() from the mapping into a pipe, through a child reading it. */
	int p[2];
	pipe(p);
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		long n = write(p[1], m + 3 * PG + 17, 200000);
		_exit(n == 200000 ? 0 : 1);
	}
	close(p[1]);
	long got = drain(p[0], buf, 200000);
	int status;
	waitpid(pid, &status, 0);
	printf("pipe: %ld bytes, child status %d, same as the file: %d\n", got, WEXITSTATUS(status),
	       got == 200000 && memcmp(buf, file + 3 * PG + 17, got) == 0);
	close(p[0]);

	/* writev() from the mapping into a file in /tmp, then pread back. */
	int t = open("/tmp/mmap_host_io", O_RDWR | O_CREAT | O_TRUNC, 0600);
	struct iovec iov[2] = {{m, 5000}, {m + size - 3000, 3000}};
	long w = writev(t, iov, 2);
	long r = pread(t, buf, 8000, 0);
	printf("file: wrote %ld, read %ld, same: %d %d\n", w, r, memcmp(buf, file, 5000) == 0,
	       memcmp(buf + 5000, file + size - 3000, 3000) == 0);
	/* The zeroed tail past the file's end goes out as zeroes. */
	long tail = len - size;
	w = pwrite(t, m + size, tail, 0);
	r = pread(t, buf, tail, 0);
	int zeroes = 1;
	for (long i = 0; i < r; i++)
		zeroes &= buf[i] == 0;
	printf("tail: wrote %d, zeroes: %d\n", w == tail, r == tail && zeroes);
	close(t);
	unlink("/tmp/mmap_host_io");

	/* send() from the mapping over a socket pair. */
	int s[2];
	socketpair(AF_UNIX, SOCK_STREAM, 0, s);
	long sent = send(s[0], m + 100, 4000, 0);
	long rcvd = recv(s[1], buf, 4000, MSG_WAITALL);
	printf("socket: %ld %ld, same: %d\n", sent, rcvd, rcvd == 4000 && memcmp(buf, file + 100, 4000) == 0);

	/* read() into the read-only mapping: EFAULT, and nothing changes. */
	long n = pread(fd, m + PG, 100, 0);
	printf("read into read-only mapping: %ld %s, unchanged: %d\n", n, n < 0 ? strerrorname_np(errno) : "",
	       memcmp(m, file, len < size ? len : size) == 0);

	/* Made writable, read() into it copies the page: the mapping changes, the file not. */
	printf("mprotect rw: %d\n", mprotect(m, 4 * PG, PROT_READ | PROT_WRITE));
	send(s[0], "written by read", 15, 0);
	n = recv(s[1], m + 2 * PG + 5, 15, 0);
	printf("recv into it: %ld, shows: %.15s\n", n, m + 2 * PG + 5);
	printf("rest of the page is the file's: %d %d\n", memcmp(m + 2 * PG, file + 2 * PG, 5) == 0,
	       memcmp(m + 2 * PG + 20, file + 2 * PG + 20, PG - 20) == 0);
	n = pread(fd, buf, len, 0);
	printf("the file is unchanged: %d\n", n == size && memcmp(buf, file, size) == 0);
	char *again = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
	printf("a new mapping shows the file: %d\n", memcmp(again, file, size) == 0);

	/* A fork child sees the parent's copy where it wrote, the file elsewhere. */
	pid = fork();
	if (pid == 0) {
		int ok = memcmp(m + 2 * PG + 5, "written by read", 15) == 0 &&
			 memcmp(m + 5 * PG, file + 5 * PG, PG) == 0 && memcmp(again, file, size) == 0;
		_exit(ok ? 0 : 1);
	}
	waitpid(pid, &status, 0);
	printf("child sees the same: %d\n", WIFEXITED(status) && WEXITSTATUS(status) == 0);
	return 0;
}
