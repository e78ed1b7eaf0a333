// SPDX-License-Identifier: Apache-2.0
// Differential test: ppoll with a zero timeout whose mask unblocks a pending signal: Linux checks for signals
// variants: static
// ppoll with a zero timeout whose mask unblocks a pending signal: Linux checks for signals
// before the timeout, so it returns EINTR and runs the handler.
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
static volatile int handled;
static void h(int s) { handled = 1; }
int main(void) {
    signal(SIGUSR1, h);
    sigset_t set, empty;
    sigemptyset(&set);
    sigemptyset(&empty);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, 0);
    raise(SIGUSR1);
    struct timespec ts = {0, 0};
    int r = ppoll(0, 0, &ts, &empty);
    printf("ppoll -> %d (%s), handler ran: %d\n", r, r < 0 ? strerror(errno) : "-", handled);
    return 0;
}
