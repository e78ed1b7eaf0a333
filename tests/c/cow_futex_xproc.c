// SPDX-License-Identifier: Apache-2.0
// Differential test (copy-on-write fork): a forked child's wake of a non-private futex in its own copy of private memory does not reach its parent's waiting thread.
// variants: static
#define _GNU_SOURCE
#include <stdio.h>
#include <pthread.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/futex.h>
#include <sys/wait.h>
static int word;
static volatile int wakeups;
static void *thr(void *a) {
    for (;;) {
        syscall(SYS_futex, &word, FUTEX_WAIT, 0, NULL, NULL, 0);
        wakeups++;
    }
    return a;
}
int main(void) {
    pthread_t t;
    pthread_create(&t, 0, thr, 0);
    usleep(200000);
    pid_t pid = fork();
    if (pid == 0) {
        long n = syscall(SYS_futex, &word, FUTEX_WAKE, 1, NULL, NULL, 0);
        printf("child's FUTEX_WAKE on its own private copy woke %ld\n", n);
        _exit(0);
    }
    waitpid(pid, 0, 0);
    usleep(100000);
    printf("parent thread wakeups %d\n", wakeups);
    return 0;
}
