// SPDX-License-Identifier: Apache-2.0
// Differential test: timerfd (relative, absolute, periodic expirations counted, gettime,
// disarm, nonblocking EAGAIN, a blocking read, poll), signalfd (blocked signals read as
// signalfd_siginfo, mask update through the same fd, EAGAIN), pidfd_open (readable when the child
// exits, waitid P_PIDFD, pidfd_send_signal, ESRCH after exit) and their errors.
// variants: static static-pie
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TRY(what, call)                                    \
    do {                                                   \
        errno = 0;                                         \
        long r_ = (long)(call);                            \
        printf("%s: %ld %s\n", what, r_, strerror(errno)); \
    } while (0)

static int pidfd_open(pid_t pid, unsigned flags) { return syscall(SYS_pidfd_open, pid, flags); }

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    uint64_t n = 0;

    int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    printf("timerfd_create ok: %d\n", tfd >= 0);
    TRY("read unarmed", read(tfd, &n, 8));
    struct itimerspec its = {{0, 0}, {0, 20000000}};
    TRY("settime", timerfd_settime(tfd, 0, &its, NULL));
    struct itimerspec cur;
    timerfd_gettime(tfd, &cur);
    printf("armed: %d\n", cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec > 0);
    struct pollfd p = {.fd = tfd, .events = POLLIN};
    int pr = poll(&p, 1, 2000);
    printf("poll waits for it: %d revents %x\n", pr, p.revents);
    TRY("read one expiration", read(tfd, &n, 8));
    printf("  count %llu\n", (unsigned long long)n);
    // Periodic: several expirations counted while nobody reads.
    its = (struct itimerspec){{0, 5000000}, {0, 5000000}};
    timerfd_settime(tfd, 0, &its, NULL);
    usleep(60000);
    read(tfd, &n, 8);
    printf("periodic count >= 5: %d\n", n >= 5);
    its = (struct itimerspec){{0, 0}, {0, 0}};
    struct itimerspec old;
    timerfd_settime(tfd, 0, &its, &old);
    printf("old interval 5ms: %d\n", old.it_interval.tv_nsec == 5000000);
    // Absolute time in the past: fires at once; a blocking read on a blocking timerfd.
    int bfd = timerfd_create(CLOCK_REALTIME, 0);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    its = (struct itimerspec){{0, 0}, now};
    timerfd_settime(bfd, TFD_TIMER_ABSTIME, &its, NULL);
    TRY("blocking read, absolute past", read(bfd, &n, 8));
    TRY("short read", read(bfd, &n, 4));
    TRY("write", write(bfd, &n, 8));
    TRY("bad clock", timerfd_create(99, 0));
    TRY("bad flags", timerfd_create(CLOCK_MONOTONIC, 0x1234));
    TRY("settime on a non-timerfd", timerfd_settime(1, 0, &its, NULL));
    its.it_value.tv_nsec = 1000000000;
    TRY("bad itimerspec", timerfd_settime(bfd, 0, &its, NULL));

    // signalfd.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGUSR2);
    sigprocmask(SIG_BLOCK, &set, NULL);
    int sfd = signalfd(-1, &set, SFD_NONBLOCK);
    printf("signalfd ok: %d\n", sfd >= 0);
    struct signalfd_siginfo si;
    TRY("read empty", read(sfd, &si, sizeof si));
    kill(getpid(), SIGUSR2);
    kill(getpid(), SIGUSR1);
    p = (struct pollfd){.fd = sfd, .events = POLLIN};
    pr = poll(&p, 1, 0);
    printf("poll: %d %x\n", pr, p.revents);
    struct signalfd_siginfo two[2];
    ssize_t got = read(sfd, two, sizeof two);
    printf("read both: %zd signos %u %u code_user %d pid_ok %d\n", got, two[0].ssi_signo,
           two[1].ssi_signo, two[0].ssi_code == SI_USER, (pid_t)two[0].ssi_pid == getpid());
    sigdelset(&set, SIGUSR1);
    printf("update mask: %d\n", signalfd(sfd, &set, 0) == sfd);
    kill(getpid(), SIGUSR1);
    TRY("USR1 no longer read", read(sfd, &si, sizeof si));
    sigset_t pend;
    sigpending(&pend);
    printf("USR1 still pending: %d\n", sigismember(&pend, SIGUSR1));
    TRY("short buffer", read(sfd, &si, 16));
    TRY("signalfd on a non-signalfd", signalfd(tfd, &set, 0));
    TRY("bad sigsetsize", syscall(SYS_signalfd4, -1, &set, 4, 0));

    // pidfd.
    pid_t c = fork();
    if (c == 0) {
        usleep(20000);
        _exit(4);
    }
    int pfd = pidfd_open(c, 0);
    printf("pidfd_open ok: %d\n", pfd >= 0);
    p = (struct pollfd){.fd = pfd, .events = POLLIN};
    printf("not yet: %d\n", poll(&p, 1, 0));
    pr = poll(&p, 1, 2000);
    printf("readable at exit: %d %x\n", pr, p.revents);
    siginfo_t wi;
    memset(&wi, 0, sizeof wi);
    TRY("waitid P_PIDFD", waitid(P_PIDFD, pfd, &wi, WEXITED));
    printf("  status %d pid_ok %d\n", wi.si_status, wi.si_pid == c);
    TRY("send to reaped", syscall(SYS_pidfd_send_signal, pfd, SIGTERM, NULL, 0));
    c = fork();
    if (c == 0) {
        pause();
        _exit(0);
    }
    int pfd2 = pidfd_open(c, 0);
    TRY("pidfd_send_signal", syscall(SYS_pidfd_send_signal, pfd2, SIGTERM, NULL, 0));
    int st;
    waitpid(c, &st, 0);
    printf("killed by %d\n", WIFSIGNALED(st) ? WTERMSIG(st) : -1);
    TRY("pidfd_open no such process", pidfd_open(999999, 0));
    TRY("pidfd_open bad flags", pidfd_open(getpid(), 7));
    TRY("send on a non-pidfd", syscall(SYS_pidfd_send_signal, tfd, SIGTERM, NULL, 0));
    return 0;
}
