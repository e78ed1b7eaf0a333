// SPDX-License-Identifier: Apache-2.0
// Differential test: reading an empty pipe or Unix socket into memory it could not write (read-only, NULL) is EAGAIN or end of file, as on Linux, which copies nothing and so never looks at the buffer; an address outside user space is EFAULT at once; with data there, EFAULT and the data stays
// variants: static static-pie
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
static void show(const char *what, long r) { printf("%s = %ld %s\n", what, r, r < 0 ? strerrorname_np(errno) : ""); }
int main(void) {
	char *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int p[2];
	if (ro == MAP_FAILED || pipe2(p, O_NONBLOCK) != 0)
		return 2;
	show("read empty pipe into read-only", read(p[0], ro, 10));
	show("read empty pipe into NULL", syscall(SYS_read, p[0], NULL, 10));
	show("read empty pipe into kernel address", syscall(SYS_read, p[0], 0xffff800000000000UL, 10));
	show("read 0 bytes into NULL", syscall(SYS_read, p[0], NULL, 0));
	if (write(p[1], "x", 1) != 1)
		return 2;
	show("read data into read-only", read(p[0], ro, 10));
	show("read the data", read(p[0], (char[10]){0}, 10));
	close(p[1]);
	show("read at EOF into read-only", read(p[0], ro, 10));
	int s[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, s) != 0)
		return 2;
	show("recv empty socket into read-only", recv(s[1], ro, 10, MSG_DONTWAIT));
	if (send(s[0], "y", 1, 0) != 1)
		return 2;
	show("recv data into read-only", recv(s[1], ro, 10, MSG_DONTWAIT));
	return 0;
}
