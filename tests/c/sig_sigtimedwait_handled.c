// SPDX-License-Identifier: Apache-2.0
// Differential test: sigtimedwait takes a signal of its set even when unblocked and handled (Linux unblocks the
// variants: static
// sigtimedwait takes a signal of its set even when unblocked and handled (Linux unblocks the
// set while waiting and dequeues instead of running the handler).
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
static volatile int handled;
static void h(int s) { handled = 1; }
int main(void) {
    signal(SIGALRM, h);
    struct itimerval it = {{0, 0}, {0, 100000}};
    setitimer(ITIMER_REAL, &it, 0);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGALRM);
    struct timespec ts = {3, 0};
    int r = sigtimedwait(&set, 0, &ts);
    printf("sigtimedwait -> %d (%s), handler ran: %d\n", r, r < 0 ? strerror(errno) : "-", handled);
    return 0;
}
