// SPDX-License-Identifier: Apache-2.0
// Differential test: POSIX timer overruns while its signal is blocked, in si_overrun and
// timer_getoverrun.
// variants: static
#include <signal.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>
int main(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGRTMIN);
    sigprocmask(SIG_BLOCK, &set, 0);
    struct sigevent ev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGRTMIN};
    timer_t id;
    timer_create(CLOCK_MONOTONIC, &ev, &id);
    struct itimerspec its = {{0, 10000000}, {0, 10000000}};
    timer_settime(id, 0, &its, 0);
    usleep(205000);
    siginfo_t si;
    sigwaitinfo(&set, &si);
    // Two more periods pass before asking: timer_getoverrun is the count of the signal
    // taken, not of the expiries since (a new signal is queued meanwhile).
    usleep(25000);
    int g = timer_getoverrun(id);
    // At least 20 periods passed (more on a loaded machine).
    printf("si_overrun >= 15: %d, getoverrun==si_overrun: %d\n", si.si_overrun >= 15, g == si.si_overrun);
    usleep(35000);
    sigwaitinfo(&set, &si);
    printf("second: si_overrun >= 1: %d\n", si.si_overrun >= 1);
    return 0;
}
