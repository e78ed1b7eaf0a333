// SPDX-License-Identifier: Apache-2.0
// Guest for the --pids test: forks children that wait on a pipe until fork fails, prints how
// many it made and the errno, lets them all exit, reaps them, and forks once more.
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
    int p[2];
    if (pipe(p)) return 1;
    int n = 0;
    for (;;) {
        pid_t pid = fork();
        if (pid < 0) {
            printf("fork failed after %d children: %s\n", n, strerrorname_np(errno));
            break;
        }
        if (pid == 0) {
            char c;
            close(p[1]);
            read(p[0], &c, 1);
            _exit(0);
        }
        if (++n > 1000) {
            printf("no limit after %d children\n", n);
            break;
        }
    }
    close(p[1]);
    while (wait(NULL) > 0) {
    }
    pid_t pid = fork();
    if (pid == 0) _exit(7);
    int st = 0;
    waitpid(pid, &st, 0);
    printf("fork after reaping: %s\n", pid > 0 && WEXITSTATUS(st) == 7 ? "works" : "fails");
    return 0;
}
