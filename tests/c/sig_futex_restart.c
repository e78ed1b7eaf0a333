// SPDX-License-Identifier: Apache-2.0
// Differential test: FUTEX_WAIT with a timeout interrupted by a SA_RESTART handler returns EINTR
// variants: static
// FUTEX_WAIT with a timeout interrupted by a SA_RESTART handler returns EINTR
// (ERESTART_RESTARTBLOCK), it is not restarted.
#include <errno.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
static void h(int s) {}
static int w;
int main(void) {
    struct sigaction sa = {.sa_handler = h, .sa_flags = SA_RESTART};
    sigaction(SIGALRM, &sa, 0);
    struct itimerval it = {{0, 0}, {0, 100000}};
    setitimer(ITIMER_REAL, &it, 0);
    struct timespec ts = {2, 0};
    long r = syscall(SYS_futex, &w, FUTEX_WAIT_PRIVATE, 0, &ts, 0, 0);
    printf("futex -> %ld (%s)\n", r, r < 0 ? strerror(errno) : "-");
    return 0;
}
