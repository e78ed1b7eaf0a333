// SPDX-License-Identifier: Apache-2.0
// Differential test: set_robust_list/get_robust_list: glibc's registration, round trip, EINVAL/ESRCH/EFAULT
// variants: static static-pie
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <stdio.h>
#include <string.h>
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
	struct robust_list_head *glibc_head = NULL;
	size_t len = 0;
	long r;

	r = syscall(SYS_get_robust_list, 0, &glibc_head, &len);
	printf("get_robust_list(0) = %ld, len = %zu\n", r, len);
	printf("glibc registered a head: %s\n", glibc_head ? "yes" : "no");
	char *tp = __builtin_thread_pointer();
	printf("head lies in the TCB (within 4 KiB above the thread pointer): %s\n",
	       (char *)glibc_head > tp && (char *)glibc_head < tp + 4096 ? "yes" : "no");
	if (glibc_head) {
		printf("glibc list empty (next == head): %s\n",
		       glibc_head->list.next == &glibc_head->list ? "yes" : "no");
		printf("glibc futex_offset = %ld\n", glibc_head->futex_offset);
		printf("glibc list_op_pending = %s\n", glibc_head->list_op_pending ? "set" : "NULL");
	}

	struct robust_list_head *h = NULL;
	len = 0;
	r = syscall(SYS_get_robust_list, getpid(), &h, &len);
	printf("get_robust_list(getpid()) = %ld, same head: %s, len = %zu\n", r, h == glibc_head ? "yes" : "no",
	       len);

	static struct robust_list_head mine;
	mine.list.next = &mine.list;
	mine.futex_offset = 8;
	mine.list_op_pending = NULL;
	RAW("set_robust_list(&mine, 24)", SYS_set_robust_list, &mine, sizeof(mine));
	h = NULL;
	syscall(SYS_get_robust_list, 0, &h, &len);
	printf("get returns &mine: %s\n", h == &mine ? "yes" : "no");

	RAW("set_robust_list(&mine, 23)", SYS_set_robust_list, &mine, sizeof(mine) - 1);
	RAW("set_robust_list(&mine, 25)", SYS_set_robust_list, &mine, sizeof(mine) + 1);
	RAW("set_robust_list(&mine, 0)", SYS_set_robust_list, &mine, 0);
	h = NULL;
	syscall(SYS_get_robust_list, 0, &h, &len);
	printf("failed sets left &mine: %s\n", h == &mine ? "yes" : "no");
	RAW("set_robust_list((void*)1, 24) (not validated)", SYS_set_robust_list, (void *)1, sizeof(mine));
	RAW("set_robust_list(NULL, 24)", SYS_set_robust_list, NULL, sizeof(mine));
	h = &mine;
	syscall(SYS_get_robust_list, 0, &h, &len);
	printf("get after set(NULL) is NULL: %s\n", h == NULL ? "yes" : "no");

	RAW("get_robust_list(0x3fffffff)", SYS_get_robust_list, 0x3fffffff, &h, &len);
	RAW("get_robust_list(-1)", SYS_get_robust_list, -1, &h, &len);
	RAW("get_robust_list(0, (void*)1, &len)", SYS_get_robust_list, 0, (void *)1, &len);
	RAW("get_robust_list(0, &h, (void*)1)", SYS_get_robust_list, 0, &h, (void *)1);

	RAW("restore glibc head", SYS_set_robust_list, glibc_head, sizeof(*glibc_head));
	h = NULL;
	syscall(SYS_get_robust_list, 0, &h, &len);
	printf("restored: %s\n", h == glibc_head ? "yes" : "no");
	return 0;
}
