// SPDX-License-Identifier: Apache-2.0
// The raw platform cost: a tracee loops on getppid under PTRACE_SYSEMU; the tracer answers each
// stop with waitpid + GETREGS + SETREGS + resume, as a minimal Sentry would. Prints nanoseconds
// per round trip. usage: ptrace_probe N same|cross|any
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void pin(int cpu) {
    cpu_set_t s;
    CPU_ZERO(&s);
    CPU_SET(cpu, &s);
    sched_setaffinity(0, sizeof s, &s);
}

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 20000;
    const char *mode = argc > 2 ? argv[2] : "same";
    int cpu = sched_getcpu();
    if (!strcmp(mode, "same") || !strcmp(mode, "cross")) pin(cpu);
    pid_t pid = fork();
    if (pid == 0) {
        if (!strcmp(mode, "cross")) pin((cpu + 1) % 2);
        ptrace(PTRACE_TRACEME, 0, 0, 0);
        raise(SIGSTOP);
        for (long i = 0; i < n + 1; i++) syscall(SYS_getppid);
        syscall(SYS_exit_group, 0);
    }
    int st;
    waitpid(pid, &st, 0);
    ptrace(PTRACE_SETOPTIONS, pid, 0, PTRACE_O_EXITKILL | PTRACE_O_TRACESYSGOOD);
    struct timespec a, b;
    struct user_regs_struct r;
    ptrace(PTRACE_SYSEMU, pid, 0, 0);
    waitpid(pid, &st, 0);
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (long i = 0; i < n; i++) {
        ptrace(PTRACE_GETREGS, pid, 0, &r);
        r.rax = 1;
        ptrace(PTRACE_SETREGS, pid, 0, &r);
        ptrace(PTRACE_SYSEMU, pid, 0, 0);
        waitpid(pid, &st, 0);
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    printf("%.1f\n", ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / n);
    return 0;
}
