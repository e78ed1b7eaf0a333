// SPDX-License-Identifier: Apache-2.0
// Benchmark guest: N x (open PATH, fstat, close) of one path; prints nanoseconds per iteration.
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
    const char *path = argc > 1 ? argv[1] : "/etc/passwd";
    long n = argc > 2 ? atol(argv[2]) : 5000;
    struct timespec a, b;
    struct stat st;
    int fd = open(path, O_RDONLY);  // warm the caches (the Sentry's dentry tree, the host's)
    if (fd < 0) return 1;
    close(fd);
    syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &a);
    for (long i = 0; i < n; i++) {
        fd = open(path, O_RDONLY);
        fstat(fd, &st);
        close(fd);
    }
    syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &b);
    printf("%.1f\n", ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / n);
    return 0;
}
