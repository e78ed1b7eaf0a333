// SPDX-License-Identifier: Apache-2.0
// Differential test: In a handler run from sigsuspend, uc_mcontext.oldmask (like uc_sigmask) holds the mask to
// variants: static
// In a handler run from sigsuspend, uc_mcontext.oldmask (like uc_sigmask) holds the mask to
// restore (the pre-sigsuspend one), not sigsuspend's temporary mask.
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <ucontext.h>
static unsigned long oldmask, ucmask;
static void h(int s, siginfo_t *si, void *u) {
    ucontext_t *uc = u;
    oldmask = uc->uc_mcontext.gregs[REG_OLDMASK];
    ucmask = *(unsigned long *)&uc->uc_sigmask;
}
int main(void) {
    struct sigaction sa = {.sa_sigaction = h, .sa_flags = SA_SIGINFO};
    sigaction(SIGUSR1, &sa, 0);
    sigset_t set, empty;
    sigemptyset(&set);
    sigemptyset(&empty);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGUSR2);
    sigprocmask(SIG_BLOCK, &set, 0);
    raise(SIGUSR1);
    sigsuspend(&empty);
    printf("oldmask %#lx uc_sigmask %#lx\n", oldmask, ucmask);
    return 0;
}
