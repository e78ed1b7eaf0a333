// SPDX-License-Identifier: Apache-2.0
// Differential test: PR_SET_PDEATHSIG fires when the parent *thread* (the one that forked) exits.
// variants: static
// PR_SET_PDEATHSIG fires when the parent *thread* (the one that forked) exits.
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
static int pfd[2];
static pid_t child;
static volatile int got;
static void h(int s) { got = 1; }
static void *th(void *a) {
    child = fork();
    if (child == 0) {
        signal(SIGUSR1, h);
        prctl(PR_SET_PDEATHSIG, SIGUSR1);
        write(pfd[1], "x", 1);
        for (int i = 0; i < 20 && !got; i++) usleep(50000);
        printf("child: pdeathsig received: %d\n", got);
        fflush(stdout);
        _exit(0);
    }
    char c;
    read(pfd[0], &c, 1);
    return 0;
}
int main(void) {
    pipe(pfd);
    pthread_t t;
    pthread_create(&t, 0, th, 0);
    pthread_join(t, 0);
    waitpid(child, 0, 0);
    return 0;
}
