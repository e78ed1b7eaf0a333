// SPDX-License-Identifier: Apache-2.0
// Differential test: A process-directed timer signal (ITIMER_REAL's SIGALRM) goes to a thread that does not block
// variants: static
// A process-directed timer signal (ITIMER_REAL's SIGALRM) goes to a thread that does not block
// it; here only the second thread does not.
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>
static volatile int handled_by;
static void h(int s) { handled_by = syscall(SYS_gettid); }
static int wtid;
static void *w(void *a) {
    wtid = syscall(SYS_gettid);
    for (int i = 0; i < 20 && !handled_by; i++) usleep(100000);
    return 0;
}
int main(void) {
    signal(SIGALRM, h);
    pthread_t t;
    pthread_create(&t, 0, w, 0);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGALRM);
    pthread_sigmask(SIG_BLOCK, &set, 0);
    usleep(50000);
    struct itimerval it = {{0, 0}, {0, 100000}};
    setitimer(ITIMER_REAL, &it, 0);
    pthread_join(t, 0);
    printf("SIGALRM handled by the unblocking thread: %d\n", handled_by != 0 && handled_by == wtid);
    return 0;
}
