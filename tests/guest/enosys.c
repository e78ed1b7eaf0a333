// SPDX-License-Identifier: Apache-2.0
// Calls a syscall runrs does not implement (acct) three times and prints what it got back.
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void) {
    for (int i = 0; i < 3; i++) {
        long r = syscall(SYS_acct, 0);
        printf("acct: %ld %s\n", r, r < 0 ? strerrorname_np(errno) : "ok");
    }
    return 0;
}
