// SPDX-License-Identifier: Apache-2.0
// Differential test: set_tid_address returns the caller's tid and accepts any pointer
// variants: static static-pie
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

static int ctid_a, ctid_b;

int main(void)
{
	long tid = syscall(SYS_gettid);
	long r;

	r = syscall(SYS_set_tid_address, &ctid_a);
	printf("set_tid_address(&a) == gettid: %s\n", r == tid ? "yes" : "no");
	printf("variable untouched: %s\n", ctid_a == 0 ? "yes" : "no");
	r = syscall(SYS_set_tid_address, NULL);
	printf("set_tid_address(NULL) == gettid: %s\n", r == tid ? "yes" : "no");
	errno = 0;
	r = syscall(SYS_set_tid_address, (void *)1);
	printf("set_tid_address((void*)1) == gettid (not validated): %s errno=%d\n", r == tid ? "yes" : "no",
	       errno);
	r = syscall(SYS_set_tid_address, (void *)-4096L);
	printf("set_tid_address(kernel-half address) == gettid: %s\n", r == tid ? "yes" : "no");
	r = syscall(SYS_set_tid_address, &ctid_b);
	printf("set_tid_address(&b) == gettid: %s\n", r == tid ? "yes" : "no");
	printf("gettid == getpid: %s\n", tid == getpid() ? "yes" : "no");
	/* At exit_group the kernel only clears *ctid when the mm is shared; nothing to observe. */
	return 0;
}
