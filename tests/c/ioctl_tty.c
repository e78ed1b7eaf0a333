// SPDX-License-Identifier: Apache-2.0
// Differential test: terminal ioctls on non-terminal stdio (/dev/null stdin, pipe stdout): ENOTTY, EBADF
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <termios.h>
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
	struct termios t;
	struct winsize ws;

	/* stdin is /dev/null, stdout a pipe or a file: neither is a terminal. stderr is not probed. */
	RAW("ioctl(0, TCGETS)", SYS_ioctl, 0, TCGETS, &t);
	RAW("ioctl(1, TCGETS)", SYS_ioctl, 1, TCGETS, &t);
	RAW("ioctl(0, TIOCGWINSZ)", SYS_ioctl, 0, TIOCGWINSZ, &ws);
	RAW("ioctl(1, TIOCGWINSZ)", SYS_ioctl, 1, TIOCGWINSZ, &ws);
	RAW("ioctl(0, TCGETS, (void*)1)", SYS_ioctl, 0, TCGETS, (void *)1);
	RAW("ioctl(1, TIOCGWINSZ, NULL)", SYS_ioctl, 1, TIOCGWINSZ, NULL);
	RAW("ioctl(0, TIOCGPGRP)", SYS_ioctl, 0, TIOCGPGRP, &ws);
	RAW("ioctl(0, 0x12345678)", SYS_ioctl, 0, 0x12345678, &t);
	RAW("ioctl(-1, TCGETS)", SYS_ioctl, -1, TCGETS, &t);
	RAW("ioctl(99, TCGETS)", SYS_ioctl, 99, TCGETS, &t);
	RAW("ioctl(99, 0x12345678)", SYS_ioctl, 99, 0x12345678, &t);

	int d = dup(1);
	RAW("ioctl(dup of 1, TCGETS)", SYS_ioctl, d, TCGETS, &t);
	close(d);
	RAW("ioctl(closed fd, TCGETS)", SYS_ioctl, d, TCGETS, &t);

	errno = 0;
	int a0 = isatty(0);
	int e0 = errno;
	errno = 0;
	int a1 = isatty(1);
	int e1 = errno;
	printf("isatty(0) = %d %s\n", a0, strerrorname_np(e0));
	printf("isatty(1) = %d %s\n", a1, strerrorname_np(e1));
	errno = 0;
	int a9 = isatty(99);
	printf("isatty(99) = %d %s\n", a9, strerrorname_np(errno));
	errno = 0;
	int tg = tcgetattr(0, &t);
	printf("tcgetattr(0) = %d %s\n", tg, strerrorname_np(errno));
	return 0;
}
