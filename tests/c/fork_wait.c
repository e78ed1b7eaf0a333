// SPDX-License-Identifier: Apache-2.0
// Differential test: fork, vfork, posix_spawn, execve, exit statuses through wait4/waitpid/waitid
// (normal exit, killed by a signal, WNOHANG, ECHILD), getppid in the child, memory copied at fork.
// variants: static static-pie
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static void show_status(const char *what, int st) {
    if (WIFEXITED(st)) printf("%s: exited %d\n", what, WEXITSTATUS(st));
    else if (WIFSIGNALED(st)) printf("%s: killed by %s%s\n", what, sigabbrev_np(WTERMSIG(st)), WCOREDUMP(st) ? " (core)" : "");
    else printf("%s: status %#x\n", what, st);
}

int main(void) {
    int shared = 1;
    pid_t me = getpid();
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        shared = 2;  // only the child's copy
        _exit(getppid() == me ? 42 : 1);
    }
    int st;
    printf("waitpid returns the child: %s\n", waitpid(c, &st, 0) == c ? "yes" : "no");
    show_status("fork child", st);
    printf("parent's memory unchanged: %s\n", shared == 1 ? "yes" : "no");
    int r0 = waitpid(c, &st, 0);
    printf("waitpid again: %d %s\n", r0, strerrorname_np(errno));
    r0 = wait(&st);
    printf("wait with no children: %d %s\n", r0, strerrorname_np(errno));

    // A child killed by a signal (default action of SIGKILL; SIGABRT dumps core).
    c = fork();
    if (c == 0) { kill(getpid(), SIGKILL); _exit(0); }
    waitpid(c, &st, 0);
    show_status("killed child", st);
    fflush(stdout);
    c = fork();
    if (c == 0) { abort(); }
    waitpid(c, &st, 0);
    show_status("aborted child", st);

    // WNOHANG before the child has exited, then for real.
    int p[1];
    (void)p;
    fflush(stdout);
    c = fork();
    if (c == 0) { usleep(50000); _exit(3); }
    printf("WNOHANG while running: %d\n", waitpid(c, &st, WNOHANG));
    waitpid(c, &st, 0);
    show_status("later", st);

    // vfork: the child shares memory until it exits.
    volatile int v = 0;
    c = vfork();
    if (c == 0) { v = 5; _exit(9); }
    waitpid(c, &st, 0);
    show_status("vfork child", st);
    printf("vfork child's write seen: %s\n", v == 5 ? "yes" : "no");

    // exec through fork and posix_spawn.
    fflush(stdout);
    c = fork();
    if (c == 0) {
        char *argv[] = {"false", NULL};
        execve("/bin/false", argv, environ);
        _exit(127);
    }
    waitpid(c, &st, 0);
    show_status("fork+execve /bin/false", st);
    char *argv[] = {"true", NULL};
    pid_t sp;
    int r = posix_spawn(&sp, "/bin/true", NULL, NULL, argv, environ);
    printf("posix_spawn: %d\n", r);
    waitpid(sp, &st, 0);
    show_status("posix_spawn /bin/true", st);
    r = posix_spawn(&sp, "/nonexistent", NULL, NULL, argv, environ);
    printf("posix_spawn of a missing file: %s\n", strerrorname_np(r));
    if (r == 0) waitpid(sp, &st, 0);

    // waitid with P_PID and WEXITED.
    fflush(stdout);
    c = fork();
    if (c == 0) _exit(11);
    siginfo_t si;
    memset(&si, 0, sizeof si);
    r = waitid(P_PID, c, &si, WEXITED);
    printf("waitid: %d, pid matches %s, code CLD_EXITED %s, status %d\n", r, si.si_pid == c ? "yes" : "no",
           si.si_code == CLD_EXITED ? "yes" : "no", si.si_status);
    r = waitid(P_ALL, 0, &si, 0);
    printf("waitid bad options: %d %s\n", r, strerrorname_np(errno));
    r = execve("/nonexistent", argv, environ);
    printf("execve of a missing file: %d %s\n", r, strerrorname_np(errno));
    return 0;
}
