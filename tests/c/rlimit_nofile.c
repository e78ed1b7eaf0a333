// SPDX-License-Identifier: Apache-2.0
// Differential test: RLIMIT_NOFILE enforcement by dup/dup2/dup3/F_DUPFD (EMFILE/EBADF/EINVAL)
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
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

int main(void)
{
	/* Only 0, 1 and 2 may be open; anything else leaked by the launcher is closed. */
	for (int fd = 3; fd < 1024; fd++)
		close(fd);

	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_max < 10) {
		printf("hard NOFILE limit below 10: skipped\n");
		return 0;
	}
	struct rlimit ten = { 10, rl.rlim_max };
	RAW("setrlimit(NOFILE, soft 10)", SYS_setrlimit, RLIMIT_NOFILE, &ten);

	RAW("dup2(1, 9)", SYS_dup2, 1, 9);
	RAW("dup2(1, 10)", SYS_dup2, 1, 10);
	RAW("dup3(1, 10, 0)", SYS_dup3, 1, 10, 0);
	RAW("fcntl(1, F_DUPFD, 10)", SYS_fcntl, 1, F_DUPFD, 10);
	RAW("fcntl(1, F_DUPFD_CLOEXEC, 10)", SYS_fcntl, 1, F_DUPFD_CLOEXEC, 10);
	RAW("fcntl(1, F_DUPFD, 9) (9 is taken)", SYS_fcntl, 1, F_DUPFD, 9);
	RAW("fcntl(1, F_DUPFD, 5)", SYS_fcntl, 1, F_DUPFD, 5);

	/* Fill the remaining slots: 3, 4, 6, 7, 8. */
	for (;;) {
		errno = 0;
		long r = syscall(SYS_dup, 2);
		show("dup(2)", r, errno);
		if (r < 0)
			break;
	}
	RAW("fcntl(1, F_DUPFD, 0) when full", SYS_fcntl, 1, F_DUPFD, 0);
	RAW("dup2(1, 8) replacing an open fd when full", SYS_dup2, 1, 8);

	/* Lowering the limit below open fds is allowed; they stay usable. */
	struct rlimit three = { 3, rl.rlim_max };
	RAW("setrlimit(NOFILE, soft 3)", SYS_setrlimit, RLIMIT_NOFILE, &three);
	fflush(stdout);
	RAW("write(9, ...) above the limit", SYS_write, 9, "fd 9 still works\n", 17);
	RAW("dup2(9, 5) below old limit, above new", SYS_dup2, 9, 5);
	RAW("close(9)", SYS_close, 9);
	RAW("dup(1) with 0..8 open, limit 3", SYS_dup, 1);

	/* Raising the soft limit back (up to hard) needs no privilege. */
	struct rlimit back = { 64, rl.rlim_max < 64 ? rl.rlim_max : 64 };
	RAW("setrlimit(NOFILE, soft 64)", SYS_setrlimit, RLIMIT_NOFILE, &back);
	RAW("dup(1)", SYS_dup, 1);
	RAW("dup2(1, 63)", SYS_dup2, 1, 63);
	RAW("dup2(1, 64)", SYS_dup2, 1, 64);
	return 0;
}
