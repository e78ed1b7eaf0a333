// SPDX-License-Identifier: Apache-2.0
// Differential test: priority-inheritance mutexes (pthread PTHREAD_PRIO_INHERIT: FUTEX_LOCK_PI,
// UNLOCK_PI, TRYLOCK_PI under contention between threads, EDEADLK, EPERM) and robust mutexes
// (a thread that dies holding one: the next locker gets EOWNERDEAD, makes it consistent).
// variants: static static-pie
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static pthread_mutex_t pi;
static int counter;

static void *worker(void *arg) {
    (void)arg;
    for (int i = 0; i < 500; i++) {
        pthread_mutex_lock(&pi);
        int c = counter;
        if (i % 50 == 0) sched_yield();
        counter = c + 1;
        pthread_mutex_unlock(&pi);
    }
    return NULL;
}

static pthread_mutex_t robust;
static void *dies_holding(void *arg) {
    (void)arg;
    pthread_mutex_lock(&robust);
    return NULL;  // ends without unlocking
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    pthread_mutexattr_t at;
    pthread_mutexattr_init(&at);
    pthread_mutexattr_setprotocol(&at, PTHREAD_PRIO_INHERIT);
    pthread_mutex_init(&pi, &at);
    pthread_t th[4];
    for (int i = 0; i < 4; i++) pthread_create(&th[i], NULL, worker, NULL);
    for (int i = 0; i < 4; i++) pthread_join(th[i], NULL);
    printf("PI mutex counter: %d\n", counter);

    // Raw calls on a word of our own.
    uint32_t w = 0;
    long r = syscall(SYS_futex, &w, FUTEX_LOCK_PI, 0, NULL);
    printf("LOCK_PI free: %ld word_is_tid %d\n", r, w == (uint32_t)syscall(SYS_gettid));
    errno = 0;
    r = syscall(SYS_futex, &w, FUTEX_LOCK_PI, 0, NULL);
    printf("LOCK_PI again: %ld %s\n", r, strerror(errno));
    errno = 0;
    r = syscall(SYS_futex, &w, FUTEX_TRYLOCK_PI, 0, NULL);
    printf("TRYLOCK_PI own: %ld %s\n", r, strerror(errno));
    r = syscall(SYS_futex, &w, FUTEX_UNLOCK_PI, 0, NULL);
    printf("UNLOCK_PI: %ld word %u\n", r, w);
    errno = 0;
    r = syscall(SYS_futex, &w, FUTEX_UNLOCK_PI, 0, NULL);
    printf("UNLOCK_PI not owner: %ld %s\n", r, strerror(errno));
    errno = 0;
    r = syscall(SYS_futex, (uint32_t *)8, FUTEX_LOCK_PI, 0, NULL);
    printf("LOCK_PI bad address: %ld %s\n", r, strerror(errno));

    // Robust mutex.
    pthread_mutexattr_t rat;
    pthread_mutexattr_init(&rat);
    pthread_mutexattr_setrobust(&rat, PTHREAD_MUTEX_ROBUST);
    pthread_mutex_init(&robust, &rat);
    pthread_create(&th[0], NULL, dies_holding, NULL);
    pthread_join(th[0], NULL);
    int e = pthread_mutex_lock(&robust);
    printf("lock after the owner died: %s\n", e == EOWNERDEAD ? "EOWNERDEAD" : strerror(e));
    printf("consistent: %d\n", pthread_mutex_consistent(&robust));
    printf("unlock: %d\n", pthread_mutex_unlock(&robust));
    printf("lock again: %d\n", pthread_mutex_lock(&robust));
    pthread_mutex_unlock(&robust);
    return 0;
}
