// SPDX-License-Identifier: Apache-2.0
// Differential test (copy-on-write fork): a thread forks while another thread's vfork child runs: the vfork child's writes reach the parent, not the fork child.
// variants: static
#define _GNU_SOURCE
#include <stdio.h>
#include <pthread.h>
#include <unistd.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <sys/syscall.h>
#include <time.h>
static volatile int g;
static int go[2], res[2];
static void *forker(void *a) {
    char b;
    read(go[0], &b, 1);                 /* the vfork child is running now */
    pid_t c = fork();
    if (c == 0) {
        struct timespec ts = {0, 400000000};
        nanosleep(&ts, 0);              /* the vfork child writes g meanwhile */
        int v = g;
        write(res[1], &v, sizeof v);
        _exit(0);
    }
    waitpid(c, 0, 0);
    return 0;
}
int main(void) {
    if (pipe(go) || pipe(res)) return 1;
    pthread_t t;
    pthread_create(&t, 0, forker, 0);
    pid_t v = vfork();
    if (v == 0) {
        write(go[1], "x", 1);
        struct timespec ts = {0, 200000000};
        nanosleep(&ts, 0);              /* the other thread forks now */
        g = 5;
        _exit(0);
    }
    waitpid(v, 0, 0);
    pthread_join(t, 0);
    int seen;
    read(res[0], &seen, sizeof seen);
    printf("parent g=%d (native 5), fork child saw g=%d (native 0)\n", g, seen);
    return 0;
}
