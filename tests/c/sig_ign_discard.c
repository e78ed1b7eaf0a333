// SPDX-License-Identifier: Apache-2.0
// Differential test: Setting SIG_IGN discards a pending (blocked) signal.
// variants: static
// Setting SIG_IGN discards a pending (blocked) signal.
#include <signal.h>
#include <stdio.h>
static volatile int handled;
static void h(int s) { handled = 1; }
int main(void) {
    sigset_t set, p;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, 0);
    raise(SIGUSR1);
    signal(SIGUSR1, SIG_IGN);
    sigpending(&p);
    printf("pending after SIG_IGN: %d\n", sigismember(&p, SIGUSR1));
    signal(SIGUSR1, h);
    sigprocmask(SIG_UNBLOCK, &set, 0);
    printf("handler ran: %d\n", handled);
    return 0;
}
