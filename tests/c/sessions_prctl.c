// SPDX-License-Identifier: Apache-2.0
// Differential test: process groups and sessions (setpgid, getpgid, getpgrp, setsid, getsid and
// their EPERM/ESRCH/EACCES/EINVAL cases), and prctl (names, parent-death signal, dumpable,
// no_new_privs, child subreaper with an orphan reparented to it, bad options).
// variants: static static-pie
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define TRY(what, call)                                    \
    do {                                                   \
        errno = 0;                                         \
        long r_ = (long)(call);                            \
        printf("%s: %ld %s\n", what, r_, strerror(errno)); \
    } while (0)

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    // Start from a known place: a session of our own (the test runner's may vary).
    pid_t me = getpid();
    if (getpgrp() == me) {
        // Already a group leader: run the rest in a child, which is not.
        pid_t c = fork();
        if (c > 0) {
            int st;
            waitpid(c, &st, 0);
            return WIFEXITED(st) ? WEXITSTATUS(st) : 100;
        }
        me = getpid();
    }
    printf("setsid ok: %d\n", setsid() == me);
    printf("sid=me %d pgid=me %d\n", getsid(0) == me, getpgid(0) == me);
    TRY("setsid again (group leader)", setsid());
    TRY("getpgid bad pid", getpgid(999999));
    TRY("getsid bad pid", getsid(999999));
    TRY("setpgid negative", setpgid(0, -1));
    TRY("setpgid self (session leader)", setpgid(0, 0));

    int p2c[2];
    if (pipe(p2c)) return 1;
    pid_t c = fork();
    if (c == 0) {
        char b;
        if (read(p2c[0], &b, 1) != 1) _exit(3);
        // The parent made us a group leader of our own.
        printf("child pgid is self: %d\n", getpgrp() == getpid());
        execl("/bin/true", "true", (char *)NULL);
        _exit(4);
    }
    TRY("setpgid child", setpgid(c, c));
    printf("getpgid child = child: %d\n", getpgid(c) == c);
    TRY("setpgid child to missing group", setpgid(c, 999999));
    TRY("setpgid child back to mine", setpgid(c, me));
    TRY("setpgid child again", setpgid(c, c));
    TRY("setpgid not a child", setpgid(1, 1));
    if (write(p2c[1], "x", 1) != 1) return 1;
    int st;
    waitpid(c, &st, 0);

    // prctl names.
    char name[32] = {0};
    TRY("PR_SET_NAME", prctl(PR_SET_NAME, "a-very-long-thread-name", 0, 0, 0));
    prctl(PR_GET_NAME, name, 0, 0, 0);
    printf("name: %s\n", name);
    FILE *f = fopen("/proc/self/comm", "r");
    if (f && fgets(name, sizeof name, f)) printf("comm: %s", name);
    if (f) fclose(f);

    int sig = -1;
    TRY("PR_SET_PDEATHSIG", prctl(PR_SET_PDEATHSIG, SIGUSR1, 0, 0, 0));
    prctl(PR_GET_PDEATHSIG, &sig, 0, 0, 0);
    printf("pdeathsig: %d\n", sig);
    TRY("PR_SET_PDEATHSIG bad", prctl(PR_SET_PDEATHSIG, 99, 0, 0, 0));
    TRY("PR_GET_PDEATHSIG bad ptr", prctl(PR_GET_PDEATHSIG, (void *)1, 0, 0, 0));
    prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
    TRY("PR_GET_DUMPABLE", prctl(PR_GET_DUMPABLE, 0, 0, 0, 0));
    TRY("PR_SET_DUMPABLE 0", prctl(PR_SET_DUMPABLE, 0, 0, 0, 0));
    TRY("PR_GET_DUMPABLE", prctl(PR_GET_DUMPABLE, 0, 0, 0, 0));
    TRY("PR_SET_DUMPABLE 2", prctl(PR_SET_DUMPABLE, 2, 0, 0, 0));
    prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
    TRY("PR_GET_NO_NEW_PRIVS", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
    TRY("PR_SET_NO_NEW_PRIVS bad", prctl(PR_SET_NO_NEW_PRIVS, 2, 0, 0, 0));
    TRY("PR_SET_NO_NEW_PRIVS", prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
    TRY("PR_GET_NO_NEW_PRIVS", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
    TRY("PR_GET_TIMERSLACK", prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0));
    TRY("bad option", prctl(0x7fff0000, 0, 0, 0, 0));

    // A subreaper gets its orphaned grandchild.
    TRY("PR_SET_CHILD_SUBREAPER", prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0));
    int v = -1;
    prctl(PR_GET_CHILD_SUBREAPER, &v, 0, 0, 0);
    printf("subreaper: %d\n", v);
    int gc_pipe[2];
    if (pipe(gc_pipe)) return 1;
    c = fork();
    if (c == 0) {
        pid_t g = fork();
        if (g == 0) {
            char b;
            close(gc_pipe[1]);
            if (read(gc_pipe[0], &b, 1) != 1) _exit(5);
            printf("grandchild's parent is the subreaper: %d\n", getppid() == me);
            _exit(9);
        }
        _exit(0);
    }
    waitpid(c, &st, 0);
    if (write(gc_pipe[1], "x", 1) != 1) return 1;
    pid_t got = wait(&st);
    printf("reaped grandchild: %d status %d\n", got > 0 && got != c, WEXITSTATUS(st));
    return 0;
}
