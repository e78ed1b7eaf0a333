// SPDX-License-Identifier: Apache-2.0
// Differential test (copy-on-write fork): a thread blocked on a held robust (process-shared) mutex is woken when another thread forks and then unlocks it.
// variants: static
#define _GNU_SOURCE
#include <stdio.h>
#include <pthread.h>
#include <unistd.h>
#include <signal.h>
#include <sys/wait.h>
static pthread_mutex_t m;
static void *thr(void *a) {
    pthread_mutex_lock(&m);            /* blocks: main holds it */
    pthread_mutex_unlock(&m);
    return 0;
}
static void on_alarm(int s) { printf("timeout: robust mutex waiter never woken\n"); fflush(stdout); _exit(1); }
int main(void) {
    signal(SIGALRM, on_alarm);
    alarm(5);
    pthread_mutexattr_t at;
    pthread_mutexattr_init(&at);
    pthread_mutexattr_setrobust(&at, PTHREAD_MUTEX_ROBUST);
    pthread_mutex_init(&m, &at);
    pthread_mutex_lock(&m);
    pthread_t t;
    pthread_create(&t, 0, thr, 0);
    usleep(200000);                    /* thr waits in the kernel */
    pid_t pid = fork();
    if (pid == 0) { usleep(1000000); _exit(0); }
    pthread_mutex_unlock(&m);
    pthread_join(t, 0);
    printf("ok\n");
    waitpid(pid, 0, 0);
    return 0;
}
