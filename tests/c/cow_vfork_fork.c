// SPDX-License-Identifier: Apache-2.0
// Differential test (copy-on-write fork): a vfork child that forks: the grandchild gets a copy, the vfork child's writes land in its parent.
// variants: static
#define _GNU_SOURCE
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <sys/syscall.h>
static volatile int g;
static volatile int gc_pid;
int main(void) {
    int p[2];
    if (pipe(p)) return 1;
    pid_t v = vfork();
    if (v == 0) {
        pid_t c = syscall(SYS_fork);
        if (c == 0) {
            char b;
            read(p[0], &b, 1);            /* wait until the original parent wrote g */
            char msg[64];
            int n = snprintf(msg, sizeof msg, "grandchild sees g=%d\n", g);
            write(1, msg, n);
            _exit(0);
        }
        gc_pid = c;
        g = 5;                             /* vfork child's write: the parent sees it */
        _exit(0);
    }
    int st;
    waitpid(v, &st, 0);
    printf("vfork child status %s %d, parent sees g=%d\n", WIFEXITED(st) ? "exit" : "signal",
           WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st), g);
    fflush(stdout);
    g = 99;                                /* the grandchild must not see this */
    write(p[1], "x", 1);
    sleep(1);
    return 0;
}
