// SPDX-License-Identifier: Apache-2.0
// Prints "ready" and sleeps for argv[1] seconds.
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv) {
    printf("ready\n");
    fflush(stdout);
    struct timespec ts = {argc > 1 ? atoi(argv[1]) : 30, 0};
    nanosleep(&ts, 0);
    return 0;
}
