// SPDX-License-Identifier: Apache-2.0
// Escape attempt: signal, trace or read host processes. Usage: signals HOSTPID TESTPID
// HOSTPID is a host `sleep` tests/escape.rs started (and checks is still alive afterwards),
// TESTPID the test process itself. The guest is PID 1 of its own PID space: host pids do not
// exist there (ESRCH) and kill(-1, ...) reaches only the sandbox's own processes.
// kill(-1, SIGKILL) is only sent once kill(-1, 0) has shown that no other process is visible,
// so that a broken sandbox (or a native run as root) does not take the machine down.
#include "escape.h"
#include <sched.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>

static void host_pid(pid_t pid, const char *who) {
    int safe = kill(pid, 0) == -1 && errno == ESRCH;
    must_fail(safe ? -1 : 0, "kill(%s, 0)", who);
    errno = ESRCH;
    if (safe) must_fail(kill(pid, SIGKILL), "kill(%s, SIGKILL)", who);
    must_fail(kill(-pid, 0), "kill(-%s, 0) (its process group)", who);
    must_fail(syscall(SYS_tgkill, pid, pid, 0), "tgkill(%s, %s, 0)", who, who);
    siginfo_t si = {.si_code = SI_QUEUE};
    must_fail(syscall(SYS_rt_sigqueueinfo, pid, 0, &si), "rt_sigqueueinfo(%s, 0)", who);
    long fd = syscall(SYS_pidfd_open, pid, 0);
    must_fail(fd, "pidfd_open(%s)", who);
    if (fd >= 0) close(fd);
    must_fail(ptrace(PTRACE_ATTACH, pid, 0, 0), "ptrace(PTRACE_ATTACH, %s)", who);
    must_fail(ptrace(PTRACE_SEIZE, pid, 0, 0), "ptrace(PTRACE_SEIZE, %s)", who);
    char buf[16];
    struct iovec local = {buf, sizeof buf}, remote = {(void *)0x400000, sizeof buf};
    must_fail(process_vm_readv(pid, &local, 1, &remote, 1, 0), "process_vm_readv(%s)", who);
    must_fail(getpgid(pid), "getpgid(%s)", who);
    must_fail(getsid(pid), "getsid(%s)", who);
    errno = 0;
    long prio = getpriority(PRIO_PROCESS, pid);
    must_fail(prio == -1 && errno ? -1 : prio, "getpriority(%s)", who);
    struct rlimit rl;
    must_fail(prlimit(pid, RLIMIT_NOFILE, NULL, &rl), "prlimit(%s)", who);
    cpu_set_t set;
    must_fail(sched_getaffinity(pid, sizeof set, &set), "sched_getaffinity(%s)", who);
    must_fail(waitpid(pid, NULL, WNOHANG), "waitpid(%s)", who);
}

int main(int argc, char **argv) {
    setup(argc == 3, "usage: signals HOSTPID TESTPID");
    pid_t hostpid = atoi(argv[1]), testpid = atoi(argv[2]);
    judge(getpid() == 1, getpid() == 1 ? "1" : "not 1", "the guest's pid");
    judge(getppid() == 0, getppid() == 0 ? "0" : "not 0", "the guest's parent pid");

    // kill(-1): nobody else to signal.
    int alone = kill(-1, 0) == -1 && errno == ESRCH;
    must_fail(alone ? -1 : 0, "kill(-1, 0) with no other process in the sandbox");
    if (alone) {
        errno = ESRCH;
        must_fail(kill(-1, SIGKILL), "kill(-1, SIGKILL) with no other process in the sandbox");
        // With a child: kill(-1, SIGKILL) kills it (and not the caller), nothing else.
        pid_t child = fork();
        if (child == 0) {
            pause();
            _exit(0);
        }
        setup(child > 0, "fork");
        int r = kill(-1, SIGKILL);
        int st = 0;
        waitpid(child, &st, 0);
        judge(r == 0 && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
              r == 0 && WIFSIGNALED(st) ? "killed the sandbox's own child only" : "did not kill the child",
              "kill(-1, SIGKILL) with a child in the sandbox");
    }
    host_pid(hostpid, "HOSTPID");
    host_pid(testpid, "TESTPID");
    // No host pid at all is visible: every pid but our own is free.
    int seen = 0, first = 0;
    for (pid_t p = 2; p <= 32768; p++) {
        if (kill(p, 0) == 0 || errno != ESRCH) {
            if (!seen++) first = p;
        }
    }
    char what[64];
    snprintf(what, sizeof what, "%d, the first %d", seen, first);
    judge(seen == 0, seen ? what : "none", "processes found by kill(2..32768, 0)");
    return finish();
}
