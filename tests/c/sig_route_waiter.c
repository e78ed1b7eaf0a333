// SPDX-License-Identifier: Apache-2.0
// Differential test: All threads block SIGUSR1; one waits for it in sigtimedwait. A process-directed SIGUSR1
// variants: static
// All threads block SIGUSR1; one waits for it in sigtimedwait. A process-directed SIGUSR1
// (kill from another thread) must reach that waiter (Linux unblocks the set while waiting).
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>
static sigset_t set;
static void *sleeper(void *arg) { sleep(3); return 0; }
static void *waiter(void *arg) {
    struct timespec ts = {2, 0};
    int r = sigtimedwait(&set, 0, &ts);
    printf("waiter: sigtimedwait -> %d\n", r);
    return 0;
}
static void *killer(void *arg) { usleep(200000); kill(getpid(), SIGUSR1); return 0; }
int main(void) {
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &set, 0);
    pthread_t a, b, c, d;
    pthread_create(&a, 0, sleeper, 0);
    pthread_create(&b, 0, sleeper, 0);
    pthread_create(&c, 0, waiter, 0);
    pthread_create(&d, 0, killer, 0);
    pthread_join(c, 0);
    return 0;
}
