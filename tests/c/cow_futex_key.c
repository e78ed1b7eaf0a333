// SPDX-License-Identifier: Apache-2.0
// Differential test (copy-on-write fork): a shared (non-private) futex in private memory is keyed by address space and address: a thread waiting across its process's fork is woken by the write+wake after it.
// variants: static
#define _GNU_SOURCE
#include <stdio.h>
#include <pthread.h>
#include <unistd.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <linux/futex.h>
#include <sys/wait.h>
#include <signal.h>
static int word;
static volatile int woke;
static void *thr(void *a) {
    while (__atomic_load_n(&word, __ATOMIC_SEQ_CST) == 0)
        syscall(SYS_futex, &word, FUTEX_WAIT, 0, NULL, NULL, 0);
    woke = 1;
    return 0;
}
static void on_alarm(int s) { printf("timeout: waiter never woken\n"); fflush(stdout); _exit(1); }
int main(void) {
    signal(SIGALRM, on_alarm);
    alarm(5);
    pthread_t t;
    pthread_create(&t, 0, thr, 0);
    usleep(200000);
    pid_t pid = fork();
    if (pid == 0) { usleep(1000000); _exit(0); }
    __atomic_store_n(&word, 1, __ATOMIC_SEQ_CST);
    long n = syscall(SYS_futex, &word, FUTEX_WAKE, 1, NULL, NULL, 0);
    printf("woken %ld\n", n);
    fflush(stdout);
    pthread_join(t, 0);
    printf("joined woke=%d\n", woke);
    waitpid(pid, 0, 0);
    return 0;
}
