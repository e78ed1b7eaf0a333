// SPDX-License-Identifier: Apache-2.0
// Differential test: alarm, setitimer/getitimer (ITIMER_REAL, periodic, a busy loop interrupted,
// CPU time with ITIMER_PROF), POSIX timers (timer_create with SIGEV_SIGNAL/SIGEV_NONE, relative
// and absolute timer_settime, timer_gettime, overruns, timer_delete), and their errors.
// variants: static static-pie
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t alrm, prof, rt, rt_code, rt_value, rt_overrun_ok;

static void on_alrm(int s) {
    (void)s;
    alrm++;
}
static void on_prof(int s) {
    (void)s;
    prof++;
}
static void on_rt(int s, siginfo_t *si, void *uc) {
    (void)s;
    (void)uc;
    rt++;
    rt_code = si->si_code;
    rt_value = si->si_value.sival_int;
    rt_overrun_ok = si->si_overrun >= 0;
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    signal(SIGALRM, on_alrm);

    // alarm: the seconds left of the previous one.
    printf("alarm first: %u\n", alarm(10));
    printf("alarm again: %u\n", alarm(0));

    // A one-shot ITIMER_REAL wakes a pause.
    struct itimerval it = {{0, 0}, {0, 50000}};
    printf("setitimer: %d\n", setitimer(ITIMER_REAL, &it, NULL));
    struct itimerval cur;
    getitimer(ITIMER_REAL, &cur);
    printf("getitimer armed: %d\n", cur.it_value.tv_sec == 0 && cur.it_value.tv_usec > 0 &&
                                        cur.it_value.tv_usec <= 50000);
    pause();
    printf("after pause: alrm=%d\n", alrm);
    getitimer(ITIMER_REAL, &cur);
    printf("getitimer disarmed: %ld %ld\n", (long)cur.it_value.tv_sec,
           (long)cur.it_value.tv_usec);

    // Periodic: fires while the process computes without syscalls.
    alrm = 0;
    it = (struct itimerval){{0, 20000}, {0, 20000}};
    setitimer(ITIMER_REAL, &it, NULL);
    while (alrm < 3) {
    }
    struct itimerval old;
    it = (struct itimerval){{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &it, &old);
    printf("periodic: alrm>=3 %d, old interval %ld\n", alrm >= 3, (long)old.it_interval.tv_usec);

    // ITIMER_PROF counts CPU time.
    signal(SIGPROF, on_prof);
    it = (struct itimerval){{0, 0}, {0, 30000}};
    setitimer(ITIMER_PROF, &it, NULL);
    while (!prof) {
    }
    printf("prof: %d\n", prof);

    // POSIX timers.
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_rt;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGRTMIN + 1, &sa, NULL);
    struct sigevent sev;
    memset(&sev, 0, sizeof sev);
    sev.sigev_notify = SIGEV_SIGNAL;
    sev.sigev_signo = SIGRTMIN + 1;
    sev.sigev_value.sival_int = 77;
    timer_t tid;
    printf("timer_create: %d\n", timer_create(CLOCK_MONOTONIC, &sev, &tid));
    struct itimerspec its = {{0, 0}, {0, 30000000}};
    printf("timer_settime: %d\n", timer_settime(tid, 0, &its, NULL));
    struct itimerspec got;
    timer_gettime(tid, &got);
    printf("timer_gettime armed: %d\n", got.it_value.tv_sec == 0 && got.it_value.tv_nsec > 0);
    while (!rt) pause();
    printf("rt: n=%d code_timer=%d value=%d overrun_ok=%d\n", rt, rt_code == SI_TIMER, rt_value,
           rt_overrun_ok);

    // Absolute expiry in the past fires at once.
    rt = 0;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    its = (struct itimerspec){{0, 0}, now};
    timer_settime(tid, TIMER_ABSTIME, &its, NULL);
    while (!rt) pause();
    printf("abs: rt=%d\n", rt);

    // Overruns: the signal blocked while a fast periodic timer expires many times.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGRTMIN + 1);
    sigprocmask(SIG_BLOCK, &set, NULL);
    its = (struct itimerspec){{0, 1000000}, {0, 1000000}};
    timer_settime(tid, 0, &its, NULL);
    usleep(50000);
    // (Disarming first would drop the pending signal, as Linux does for a re-armed timer.)
    siginfo_t si;
    int s = sigwaitinfo(&set, &si);
    its = (struct itimerspec){{0, 0}, {0, 0}};
    timer_settime(tid, 0, &its, NULL);
    printf("overrun: sig_ok=%d overrun>10=%d getoverrun>10=%d\n", s == SIGRTMIN + 1,
           si.si_overrun > 10, timer_getoverrun(tid) > 10);
    sigprocmask(SIG_UNBLOCK, &set, NULL);

    // SIGEV_NONE: never signals; gettime still counts down.
    timer_t quiet;
    sev.sigev_notify = SIGEV_NONE;
    timer_create(CLOCK_REALTIME, &sev, &quiet);
    its = (struct itimerspec){{0, 0}, {5, 0}};
    timer_settime(quiet, 0, &its, NULL);
    timer_gettime(quiet, &got);
    printf("none: %d\n", got.it_value.tv_sec == 4 || got.it_value.tv_sec == 5);

    printf("delete: %d %d\n", timer_delete(tid), timer_delete(quiet));

    // Errors.
#define TRY(what, call)                                        \
    do {                                                       \
        errno = 0;                                             \
        long r_ = (long)(call);                                \
        printf("%s: %ld %s\n", what, r_, strerror(errno));     \
    } while (0)
    TRY("delete again", timer_delete(tid));
    TRY("settime bad id", syscall(SYS_timer_settime, 12345, 0, &its, NULL));
    TRY("create bad clock", syscall(SYS_timer_create, 99, NULL, &tid));
    sev.sigev_notify = SIGEV_SIGNAL;
    sev.sigev_signo = 0;
    TRY("create bad signo", syscall(SYS_timer_create, CLOCK_MONOTONIC, &sev, &tid));
    TRY("create bad ptr", syscall(SYS_timer_create, CLOCK_MONOTONIC, (void *)1, &tid));
    TRY("setitimer bad which", setitimer(7, &it, NULL));
    it = (struct itimerval){{0, 0}, {0, 2000000}};
    TRY("setitimer bad usec", setitimer(ITIMER_REAL, &it, NULL));
    TRY("getitimer bad ptr", syscall(SYS_getitimer, ITIMER_REAL, (void *)1));

    // An alarm with the default action ends the process (status 128+14).
    signal(SIGALRM, SIG_DFL);
    alarm(1);
    for (;;) pause();
}
