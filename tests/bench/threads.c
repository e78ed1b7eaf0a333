// SPDX-License-Identifier: Apache-2.0
// Benchmark guest: `threads create N` times pthread_create+join; `threads pingpong N` bounces a
// futex between two threads N times. Prints microseconds per iteration.
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static _Atomic int turn;
static long rounds;

static void *nothing(void *arg) { return arg; }

static void wait_for(int want) {
    int v;
    while ((v = atomic_load(&turn)) != want)
        syscall(SYS_futex, &turn, FUTEX_WAIT_PRIVATE, v, NULL, NULL, 0);
}

static void pass_to(int who) {
    atomic_store(&turn, who);
    syscall(SYS_futex, &turn, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static void *pong(void *arg) {
    for (long i = 0; i < rounds; i++) {
        wait_for(1);
        pass_to(0);
    }
    return arg;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: threads create|pingpong N\n");
        return 2;
    }
    long n = atol(argv[2]);
    struct timespec a, b;
    pthread_t t;
    clock_gettime(CLOCK_MONOTONIC, &a);
    if (strcmp(argv[1], "create") == 0) {
        for (long i = 0; i < n; i++) {
            if (pthread_create(&t, NULL, nothing, NULL) != 0 || pthread_join(t, NULL) != 0) return 1;
        }
    } else {
        rounds = n;
        if (pthread_create(&t, NULL, pong, NULL) != 0) return 1;
        for (long i = 0; i < n; i++) {
            pass_to(1);
            wait_for(0);
        }
        pthread_join(t, NULL);
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    printf("%.1f\n", ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / n / 1e3);
    return 0;
}
