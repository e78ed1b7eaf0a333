// SPDX-License-Identifier: Apache-2.0
// Differential test: read(2)/readv(2) when stdin is /dev/null: always EOF, buffer never touched
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
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
	char buf[64];
	memset(buf, 'Q', sizeof(buf));

	RAW("read(0, buf, 64)", SYS_read, 0, buf, sizeof(buf));
	printf("buffer untouched: %s\n", buf[0] == 'Q' && buf[63] == 'Q' ? "yes" : "no");
	RAW("read(0, buf, 0)", SYS_read, 0, buf, 0);
	RAW("read(0, (void*)1, 8)", SYS_read, 0, (void *)1, 8);

	char *none = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (none == MAP_FAILED) {
		printf("mmap failed\n");
		return 1;
	}
	RAW("read(0, PROT_NONE page, 8)", SYS_read, 0, none, 8);

	struct iovec iov[2] = { { buf, 8 }, { none, 8 } };
	RAW("readv(0, 2 iovecs, second PROT_NONE)", SYS_readv, 0, iov, 2);
	RAW("readv(0, iovcnt 0)", SYS_readv, 0, iov, 0);
	RAW("readv(0, iovcnt -1)", SYS_readv, 0, iov, -1);
	RAW("readv(0, iov (void*)1)", SYS_readv, 0, (void *)1, 2);

	RAW("read(1 write-only)", SYS_read, 1, buf, 1);
	RAW("read(-5)", SYS_read, -5, buf, 1);
	RAW("read(1000)", SYS_read, 1000, buf, 1);

	int d = dup(0);
	RAW("read(dup of 0)", SYS_read, d, buf, 4);
	close(d);
	RAW("read(closed dup)", SYS_read, d, buf, 4);

	/* stdio agrees */
	int c = getchar();
	printf("getchar() is EOF: %s, feof: %s\n", c == EOF ? "yes" : "no", feof(stdin) ? "yes" : "no");
	munmap(none, 4096);
	return 0;
}
