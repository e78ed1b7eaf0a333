// SPDX-License-Identifier: Apache-2.0
// Differential test: Two pending signals unblocked at once: Linux sets up both frames before returning to user
// variants: static
// Two pending signals unblocked at once: Linux sets up both frames before returning to user
// space, so the higher-numbered one's handler (set up last, on top) runs first.
#include <signal.h>
#include <unistd.h>
static void h(int s) { write(1, s == SIGUSR1 ? "USR1\n" : "USR2\n", 5); }
int main(void) {
    signal(SIGUSR1, h);
    signal(SIGUSR2, h);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGUSR2);
    sigprocmask(SIG_BLOCK, &set, 0);
    raise(SIGUSR1);
    raise(SIGUSR2);
    sigprocmask(SIG_UNBLOCK, &set, 0);
    write(1, "done\n", 5);
    return 0;
}
