// SPDX-License-Identifier: Apache-2.0
// Differential test: A process whose leader ended with exit(3) (SYS_exit, not exit_group) and whose last thread
// variants: static
// A process whose leader ended with exit(3) (SYS_exit, not exit_group) and whose last thread
// ends with SYS_exit(7) reports the leader's status (3).
#include <pthread.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
static void *th(void *a) {
    usleep(200000);
    syscall(SYS_exit, 7);
    return 0;
}
int main(void) {
    pid_t p = fork();
    if (p == 0) {
        pthread_t t;
        pthread_create(&t, 0, th, 0);
        syscall(SYS_exit, 3);
    }
    int st;
    waitpid(p, &st, 0);
    printf("exit status %d\n", WEXITSTATUS(st));
    return 0;
}
