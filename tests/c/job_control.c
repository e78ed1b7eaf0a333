// SPDX-License-Identifier: Apache-2.0
// Differential test: job control: SIGSTOP/SIGTSTP stop a child, SIGCONT continues it, and the
// parent sees both (waitpid WUNTRACED/WCONTINUED, waitid WSTOPPED/WCONTINUED/WNOWAIT, SIGCHLD
// with CLD_STOPPED/CLD_CONTINUED, none with SA_NOCLDSTOP); SIGKILL ends a stopped child; a stop
// raised by the child itself; a stopped child's pending handled signal waits for SIGCONT;
// SIGTSTP to a process in an orphaned process group is discarded (SIGSTOP is not).
// The body runs in a process group of its own inside a session of its own, so that its children's
// group is never orphaned, whatever process group the test was started in.
// variants: static static-pie
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t chld_codes[8], nchld;

static void on_chld(int s, siginfo_t *si, void *uc) {
    (void)s;
    (void)uc;
    if (nchld < 8) chld_codes[nchld++] = si->si_code;
}

static void show(const char *what, int st) {
    if (WIFSTOPPED(st))
        printf("%s: stopped by %d\n", what, WSTOPSIG(st));
    else if (WIFCONTINUED(st))
        printf("%s: continued\n", what);
    else if (WIFEXITED(st))
        printf("%s: exited %d\n", what, WEXITSTATUS(st));
    else if (WIFSIGNALED(st))
        printf("%s: killed by %d\n", what, WTERMSIG(st));
}

static pid_t spawn_waiter(int fd) {
    pid_t c = fork();
    if (c == 0) {
        char b;
        // Waits for the parent's go, then exits with what it read.
        ssize_t n = read(fd, &b, 1);
        _exit(n == 1 ? b - '0' : 99);
    }
    return c;
}

// A child in a session of its own (so an orphaned process group): SIGTSTP is discarded, and the
// child's blocking read goes on to get the parent's byte; SIGSTOP still stops it.
static void orphaned(void) {
    int ready[2], go[2];
    if (pipe(ready) || pipe(go)) exit(80);
    pid_t c = fork();
    if (c == 0) {
        if (setsid() < 0) _exit(81);
        if (write(ready[1], "r", 1) != 1) _exit(82);
        char b;
        _exit(read(go[0], &b, 1) == 1 ? 7 : 83);
    }
    char b;
    if (read(ready[0], &b, 1) != 1) exit(84);
    kill(c, SIGTSTP);
    if (write(go[1], "g", 1) != 1) exit(85);
    int st;
    waitpid(c, &st, WUNTRACED);
    show("SIGTSTP in an orphaned group", st);

    c = fork();
    if (c == 0) {
        if (setsid() < 0) _exit(81);
        if (write(ready[1], "r", 1) != 1) _exit(82);
        _exit(read(go[0], &b, 1) == 1 ? 7 : 83);
    }
    if (read(ready[0], &b, 1) != 1) exit(84);
    kill(c, SIGSTOP);
    waitpid(c, &st, WUNTRACED);
    show("SIGSTOP in an orphaned group", st);
    kill(c, SIGCONT);
    if (write(go[1], "g", 1) != 1) exit(85);
    waitpid(c, &st, 0);
    show("after SIGCONT", st);
    close(ready[0]), close(ready[1]), close(go[0]), close(go[1]);
}

static int body(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_chld;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigaction(SIGCHLD, &sa, NULL);

    int p[2];
    if (pipe(p)) return 1;
    pid_t c = spawn_waiter(p[0]);
    int st;
    kill(c, SIGSTOP);
    printf("waitpid WUNTRACED: %d\n", waitpid(c, &st, WUNTRACED) == c);
    show("after SIGSTOP", st);
    printf("no second report: %d\n", waitpid(c, &st, WUNTRACED | WNOHANG));
    kill(c, SIGCONT);
    printf("waitpid WCONTINUED: %d\n", waitpid(c, &st, WCONTINUED) == c);
    show("after SIGCONT", st);
    // SIGTSTP's default action stops too; waitid sees it, WNOWAIT leaves it for the next wait.
    kill(c, SIGTSTP);
    siginfo_t si;
    memset(&si, 0, sizeof si);
    printf("waitid WSTOPPED|WNOWAIT: %d\n", waitid(P_PID, c, &si, WSTOPPED | WNOWAIT));
    printf("  code %d status %d pid_ok %d\n", si.si_code, si.si_status, si.si_pid == c);
    memset(&si, 0, sizeof si);
    int r = waitid(P_PID, c, &si, WSTOPPED);
    printf("waitid WSTOPPED: %d code %d\n", r, si.si_code);
    kill(c, SIGCONT);
    memset(&si, 0, sizeof si);
    r = waitid(P_PID, c, &si, WCONTINUED);
    printf("waitid WCONTINUED: %d code %d status %d\n", r, si.si_code, si.si_status);
    if (write(p[1], "7", 1) != 1) return 1;
    waitpid(c, &st, 0);
    show("finally", st);
    // (Which SIGCHLDs arrive separately depends on timing: standard signals do not queue.)
    printf("a SIGCHLD for the first stop: %d\n", nchld > 0 && chld_codes[0] == CLD_STOPPED);

    // SA_NOCLDSTOP: only the exit is signalled.
    nchld = 0;
    sa.sa_flags |= SA_NOCLDSTOP;
    sigaction(SIGCHLD, &sa, NULL);
    c = spawn_waiter(p[0]);
    kill(c, SIGSTOP);
    waitpid(c, &st, WUNTRACED);
    kill(c, SIGCONT);
    waitpid(c, &st, WCONTINUED);
    if (write(p[1], "3", 1) != 1) return 1;
    waitpid(c, &st, 0);
    show("nocldstop child", st);
    printf("SIGCHLD codes with SA_NOCLDSTOP:");
    for (int i = 0; i < nchld; i++) printf(" %d", chld_codes[i]);
    printf("\n");

    // SIGKILL ends a stopped child.
    c = spawn_waiter(p[0]);
    kill(c, SIGSTOP);
    waitpid(c, &st, WUNTRACED);
    kill(c, SIGKILL);
    waitpid(c, &st, 0);
    show("killed while stopped", st);

    // The child stops itself; a SIGTERM sent while it is stopped waits for SIGCONT, then ends it.
    c = fork();
    if (c == 0) {
        raise(SIGSTOP);
        _exit(5);
    }
    waitpid(c, &st, WUNTRACED);
    show("raise(SIGSTOP)", st);
    kill(c, SIGTERM);
    printf("still stopped: %d\n", waitpid(c, &st, WNOHANG));
    kill(c, SIGCONT);
    waitpid(c, &st, 0);
    show("SIGTERM after SIGCONT", st);

    // Errors.
    errno = 0;
    r = waitid(P_PID, c, &si, WSTOPPED);
    printf("waitid on a reaped child: %d %s\n", r, strerror(errno));

    sa.sa_handler = SIG_DFL;
    sa.sa_flags = 0;
    sigaction(SIGCHLD, &sa, NULL);
    orphaned();
    return 0;
}

// Runs `body` in process B: A is a session leader, B a process group of its own in A's session.
int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    pid_t a = fork();
    if (a == 0) {
        if (setsid() < 0) _exit(70);
        pid_t b = fork();
        if (b == 0) {
            if (setpgid(0, 0)) _exit(71);
            _exit(body());
        }
        int st;
        if (waitpid(b, &st, 0) != b) _exit(72);
        _exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
    }
    int st;
    if (waitpid(a, &st, 0) != a) return 73;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
