// SPDX-License-Identifier: Apache-2.0
// Differential test: #include <errno.h>
// variants: static
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
static void h(int s) {}
int main(void) {
    struct sigaction sa = {.sa_handler = h, .sa_flags = SA_RESTART};
    sigaction(SIGALRM, &sa, 0);
    struct itimerval it = {{0, 0}, {0, 300000}};
    setitimer(ITIMER_REAL, &it, 0);
    struct timespec ts = {2, 0}, rem = {0, 0};
    int r = nanosleep(&ts, &rem);
    printf("nanosleep -> %d (%s) rem %ld.%01ld\n", r, r ? strerror(errno) : "-", rem.tv_sec, rem.tv_nsec / 100000000);
    return 0;
}
