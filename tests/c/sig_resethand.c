// SPDX-License-Identifier: Apache-2.0
// Differential test: Is the signal blocked inside an SA_RESETHAND handler?
// variants: static
// Is the signal blocked inside an SA_RESETHAND handler?
#include <signal.h>
#include <stdio.h>
static int blocked;
static void h(int s) {
    sigset_t cur;
    sigprocmask(SIG_BLOCK, 0, &cur);
    blocked = sigismember(&cur, SIGUSR1);
}
int main(void) {
    struct sigaction sa = {.sa_handler = h, .sa_flags = SA_RESETHAND};
    sigaction(SIGUSR1, &sa, 0);
    raise(SIGUSR1);
    printf("SIGUSR1 blocked in SA_RESETHAND handler: %d\n", blocked);
    return 0;
}
