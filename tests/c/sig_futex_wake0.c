// SPDX-License-Identifier: Apache-2.0
// Differential test: FUTEX_WAKE with nr_wake 0 (or negative) still wakes one waiter on Linux.
// variants: static
// FUTEX_WAKE with nr_wake 0 (or negative) still wakes one waiter on Linux.
#include <linux/futex.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>
static int w;
static void *th(void *a) {
    syscall(SYS_futex, &w, FUTEX_WAIT_PRIVATE, 0, 0, 0, 0);
    return 0;
}
int main(void) {
    pthread_t t[2];
    for (int i = 0; i < 2; i++) pthread_create(&t[i], 0, th, 0);
    usleep(200000);
    long a = syscall(SYS_futex, &w, FUTEX_WAKE_PRIVATE, 0, 0, 0, 0);
    usleep(100000);
    long b = syscall(SYS_futex, &w, FUTEX_WAKE_PRIVATE, -1, 0, 0, 0);
    printf("wake(0) -> %ld, wake(-1) -> %ld\n", a, b);
    syscall(SYS_futex, &w, FUTEX_WAKE_PRIVATE, 100, 0, 0, 0);
    for (int i = 0; i < 2; i++) pthread_join(t[i], 0);
    return 0;
}
