// SPDX-License-Identifier: Apache-2.0
// Differential test: exec from a non-leader thread: the new image has the process's pid, the old threads are gone.
// variants: static
// exec from a non-leader thread: the new image has the process's pid, the old threads are gone.
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
static char pidbuf[32];
static void *th(void *a) {
    char *argv[] = {"/proc/self/exe", pidbuf, 0};
    execv("/proc/self/exe", argv);
    perror("execv");
    return 0;
}
int main(int argc, char **argv) {
    if (argc > 1) {
        printf("after exec: pid same %d, getppid ok %d\n", getpid() == atoi(argv[1]), getppid() != getpid());
        return 0;
    }
    snprintf(pidbuf, sizeof pidbuf, "%d", getpid());
    pthread_t t;
    pthread_create(&t, 0, th, 0);
    pause();
    return 1;
}
