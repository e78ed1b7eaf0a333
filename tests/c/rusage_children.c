// SPDX-License-Identifier: Apache-2.0
// Differential test: the CPU time of reaped children. wait4's rusage and waitid's (raw syscall)
// carry the child's user time; getrusage(RUSAGE_CHILDREN) and times() count the children reaped,
// and their reaped children, and nothing before the wait; WNOWAIT does not count.
// variants: static
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/times.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double ms(struct timeval tv) { return tv.tv_sec * 1e3 + tv.tv_usec / 1e3; }

// Burns at least `n` ms of user CPU time.
static void burn(int n) {
    struct timespec a, b;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
    volatile unsigned long x = 0;
    do {
        for (int i = 0; i < 100000; i++) x += i;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
    } while ((b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6 < n);
}

static double children_ms(void) {
    struct rusage r;
    getrusage(RUSAGE_CHILDREN, &r);
    return ms(r.ru_utime) + ms(r.ru_stime);
}

int main(void) {
    printf("children before any: %d\n", children_ms() == 0);
    pid_t c = fork();
    if (c == 0) {
        burn(60);
        _exit(0);
    }
    // WNOWAIT leaves it, and counts nothing.
    siginfo_t si;
    waitid(P_PID, c, &si, WEXITED | WNOWAIT);
    printf("after WNOWAIT: %d\n", children_ms() == 0);
    struct rusage r;
    memset(&r, 0, sizeof r);
    printf("wait4: %d\n", wait4(c, NULL, 0, &r) == c);
    double child = ms(r.ru_utime) + ms(r.ru_stime);
    printf("child's time in rusage >= 50 ms: %d\n", child >= 50);
    printf("RUSAGE_CHILDREN counts it: %d\n", children_ms() >= child - 1);

    // A child that reaps a grandchild: both count once the child is reaped.
    double before = children_ms();
    c = fork();
    if (c == 0) {
        pid_t g = fork();
        if (g == 0) {
            burn(60);
            _exit(0);
        }
        waitpid(g, NULL, 0);
        _exit(0);
    }
    memset(&r, 0, sizeof r);
    memset(&si, 0, sizeof si);
    long ok = syscall(SYS_waitid, P_PID, c, &si, WEXITED, &r);
    printf("waitid: %ld, grandchild's time in the child's rusage: %d\n", ok,
           ms(r.ru_utime) + ms(r.ru_stime) >= 50);
    printf("RUSAGE_CHILDREN grew by it: %d\n", children_ms() - before >= 50);
    struct tms t;
    times(&t);
    long hz = sysconf(_SC_CLK_TCK);
    printf("times() cutime+cstime >= 100 ms: %d\n", (t.tms_cutime + t.tms_cstime) * 1000 / hz >= 100);
    return 0;
}
