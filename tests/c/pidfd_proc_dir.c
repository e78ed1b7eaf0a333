// SPDX-License-Identifier: Apache-2.0
// Differential test: pidfd_send_signal takes an open /proc/PID directory as well as a pidfd (as
// Linux allows); another directory or a plain file is EBADF, a bad fd EBADF.
// variants: static
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static volatile sig_atomic_t got;
static void on_usr1(int s) { got = s; }

static void try_send(const char *what, int fd, int sig) {
    errno = 0;
    long r = syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0);
    int e = errno;
    printf("%s: %ld %s\n", what, r, r ? strerror(e) : "");
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    signal(SIGUSR1, on_usr1);
    char path[64];
    snprintf(path, sizeof path, "/proc/%d", getpid());
    int me = open(path, O_DIRECTORY | O_RDONLY);
    try_send("own /proc/PID", me, SIGUSR1);
    printf("handler ran: %d\n", got == SIGUSR1);

    int root = open("/", O_DIRECTORY | O_RDONLY);
    try_send("another directory", root, SIGUSR1);
    int file = open("/proc/self/status", O_RDONLY);
    try_send("a file", file, SIGUSR1);
    try_send("a bad fd", 999, SIGUSR1);
    return 0;
}
