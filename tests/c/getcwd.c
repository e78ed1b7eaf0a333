// SPDX-License-Identifier: Apache-2.0
// Differential test: getcwd(2): value (the caller's cwd), return length, ERANGE at each short size, EFAULT
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
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
	char buf[PATH_MAX + 1];
	memset(buf, 'X', sizeof(buf));
	long r = syscall(SYS_getcwd, buf, sizeof(buf));
	printf("getcwd(buf, %zu) = %ld\n", sizeof(buf), r);
	if (r <= 0)
		return 1;
	size_t len = strlen(buf);
	printf("cwd: %s\n", buf);
	printf("return value is strlen + 1: %s\n", (size_t)r == len + 1 ? "yes" : "no");
	printf("absolute: %s\n", buf[0] == '/' ? "yes" : "no");
	printf("byte after NUL untouched: %s\n", buf[len + 1] == 'X' ? "yes" : "no");

	char lb[PATH_MAX];
	printf("libc getcwd agrees: %s\n", getcwd(lb, sizeof(lb)) && strcmp(lb, buf) == 0 ? "yes" : "no");

	char small[PATH_MAX];
	errno = 0;
	r = syscall(SYS_getcwd, small, len + 1);
	printf("size strlen+1 = %ld (exact fit)\n", r);
	errno = 0;
	r = syscall(SYS_getcwd, small, len);
	show("size strlen", r, errno);
	RAW("size 1", SYS_getcwd, small, 1);
	RAW("size 0", SYS_getcwd, small, 0);
	RAW("NULL, size 0", SYS_getcwd, NULL, 0);
	RAW("(void*)1, size 4096", SYS_getcwd, (void *)1, 4096);
	RAW("NULL, size 4096", SYS_getcwd, NULL, 4096);
	RAW("(void*)1, size 1 (too small wins)", SYS_getcwd, (void *)1, 1);

	/* buffer ending in a PROT_NONE page: only as much as needed is written */
	char *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED || mprotect(p + 4096, 4096, PROT_NONE) != 0)
		return 1;
	errno = 0;
	r = syscall(SYS_getcwd, p + 4096 - (len + 1), 4096);
	printf("exact room before PROT_NONE, size 4096: rc is strlen+1: %s\n", r == (long)len + 1 ? "yes" : "no");
	RAW("one byte short of room before PROT_NONE", SYS_getcwd, p + 4096 - len, 4096);

	/* libc getcwd(NULL, 0) allocates */
	char *dyn = getcwd(NULL, 0);
	printf("libc getcwd(NULL, 0) agrees: %s\n", dyn && strcmp(dyn, buf) == 0 ? "yes" : "no");
	errno = 0;
	char *e = getcwd(small, 1);
	printf("libc getcwd(buf, 1) = %s %s\n", e ? "non-NULL" : "NULL", strerrorname_np(errno));
	return 0;
}
