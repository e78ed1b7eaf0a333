// SPDX-License-Identifier: Apache-2.0
// Differential test: a parent sleeping to absolute deadlines while its child computes without
// syscalls (the child is preempted for the parent's wake-ups), then SIGKILL ends the child.
// variants: static
#include <signal.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>
int main(void) {
    pid_t c = fork();
    if (c == 0) { for (;;) {} }
    struct timespec now;
    for (int i = 0; i < 50; i++) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        now.tv_nsec += 2000000; if (now.tv_nsec >= 1000000000) { now.tv_sec++; now.tv_nsec -= 1000000000; }
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &now, NULL);
        int st; waitpid(c, &st, WNOHANG);
    }
    printf("parent done\n"); fflush(stdout);
    kill(c, SIGKILL);
    int st; waitpid(c, &st, 0);
    printf("child killed %d\n", WTERMSIG(st));
    return 0;
}
