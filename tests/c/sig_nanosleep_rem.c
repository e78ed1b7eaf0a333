// SPDX-License-Identifier: Apache-2.0
// Differential test: nanosleep interrupted by a handled SIGALRM (SA_RESTART) returns EINTR with the
// time left in rem.
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
    long left_ms = rem.tv_sec * 1000 + rem.tv_nsec / 1000000;
    printf("nanosleep -> %d (%s) rem between 1 s and 1.8 s: %d\n", r, r ? strerror(errno) : "-",
           left_ms > 1000 && left_ms <= 1800);
    return 0;
}
