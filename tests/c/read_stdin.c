// SPDX-License-Identifier: Apache-2.0
// Differential test: read(2)/readv(2) of piped stdin: EFAULT leaves data unread, chunked reads, EOF
// stdin: hello sandbox, this is line one
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
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

int main(void)
{
	char buf[256];
	char all[1024];
	size_t total = 0;

	RAW("read(0, buf, 0)", SYS_read, 0, buf, 0);
	/* Blocks until the first data arrives, then faults: nothing is consumed. */
	RAW("read(0, (void*)1, 16)", SYS_read, 0, (void *)1, 16);
	RAW("read(1 write-only)", SYS_read, 1, buf, 1);
	RAW("read(-1)", SYS_read, -1, buf, 1);
	RAW("read(500)", SYS_read, 500, buf, 1);

	/* Alternate read (5 bytes) and readv (3+4 bytes) until EOF. */
	int use_readv = 0;
	for (;;) {
		long r;
		if (use_readv) {
			char a[3], b[4];
			struct iovec iov[2] = { { a, sizeof(a) }, { b, sizeof(b) } };
			r = syscall(SYS_readv, 0, iov, 2);
			if (r > 0) {
				size_t na = r < 3 ? (size_t)r : 3;
				memcpy(all + total, a, na);
				memcpy(all + total + na, b, (size_t)r - na);
			}
		} else {
			r = syscall(SYS_read, 0, all + total, 5);
		}
		if (r < 0) {
			printf("read loop error %s\n", strerrorname_np(errno));
			return 1;
		}
		if (r == 0)
			break;
		total += (size_t)r;
		use_readv = !use_readv;
		if (total + 16 > sizeof(all))
			break;
	}
	printf("total bytes read: %zu\n", total);
	printf("content: [%.*s]\n", (int)total, all);
	printf("ends with newline: %s\n", total > 0 && all[total - 1] == '\n' ? "yes" : "no");

	RAW("read at EOF", SYS_read, 0, buf, sizeof(buf));
	RAW("read at EOF into (void*)1", SYS_read, 0, (void *)1, 8);
	struct iovec one = { buf, 8 };
	RAW("readv at EOF", SYS_readv, 0, &one, 1);
	RAW("readv(iovcnt -1)", SYS_readv, 0, &one, -1);
	RAW("readv(iovcnt 1025)", SYS_readv, 0, &one, 1025);
	RAW("readv(iov (void*)1)", SYS_readv, 0, (void *)1, 1);
	RAW("readv(iovcnt 0)", SYS_readv, 0, &one, 0);
	RAW("readv(1 write-only)", SYS_readv, 1, &one, 1);
	return 0;
}
