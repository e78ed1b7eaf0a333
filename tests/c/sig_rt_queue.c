// SPDX-License-Identifier: Apache-2.0
// Differential test: Real-time signals queue: three sigqueue()s of a blocked SIGRTMIN are three deliveries.
// variants: static
// Real-time signals queue: three sigqueue()s of a blocked SIGRTMIN are three deliveries.
#include <signal.h>
#include <stdio.h>
#include <unistd.h>
static int n, vals[8];
static void h(int s, siginfo_t *si, void *u) { vals[n++] = si->si_value.sival_int; }
int main(void) {
    struct sigaction sa = {.sa_sigaction = h, .sa_flags = SA_SIGINFO};
    sigaction(SIGRTMIN, &sa, 0);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGRTMIN);
    sigprocmask(SIG_BLOCK, &set, 0);
    for (int i = 1; i <= 3; i++) sigqueue(getpid(), SIGRTMIN, (union sigval){.sival_int = i});
    sigprocmask(SIG_UNBLOCK, &set, 0);
    printf("deliveries %d:", n);
    for (int i = 0; i < n; i++) printf(" %d", vals[i]);
    printf("\n");
    return 0;
}
