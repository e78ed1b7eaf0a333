// SPDX-License-Identifier: Apache-2.0
// Differential test: glibc's SIGEV_THREAD timers: timer_create with SIGEV_THREAD_ID naming glibc's helper thread.
// variants: static
// glibc's SIGEV_THREAD timers: timer_create with SIGEV_THREAD_ID naming glibc's helper thread.
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
static volatile int fired;
static void cb(union sigval v) { fired = 1; }
int main(void) {
    struct sigevent ev = {0};
    ev.sigev_notify = SIGEV_THREAD;
    ev.sigev_notify_function = cb;
    timer_t id;
    if (timer_create(CLOCK_MONOTONIC, &ev, &id)) {
        printf("timer_create: %s\n", strerror(errno));
        return 0;
    }
    struct itimerspec its = {{0, 0}, {0, 50000000}};
    timer_settime(id, 0, &its, 0);
    for (int i = 0; i < 100 && !fired; i++) usleep(20000);
    printf("callback ran: %d\n", fired);
    return 0;
}
