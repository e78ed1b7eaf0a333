// SPDX-License-Identifier: Apache-2.0
// Benchmark guest: writes MiB mebibytes to DIR/runrs-bench-file in 1 MiB chunks, reads them back,
// removes the file; prints write and read throughput in MB/s.
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec t;
    syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : "/tmp";
    long mib = argc > 2 ? atol(argv[2]) : 64;
    char path[4096];
    snprintf(path, sizeof path, "%s/runrs-bench-file-%d", dir, getpid());
    static char buf[1 << 20];
    memset(buf, 'x', sizeof buf);
    int fd = open(path, O_CREAT | O_TRUNC | O_RDWR, 0600);
    if (fd < 0) { perror(path); return 1; }
    double t0 = now();
    for (long i = 0; i < mib; i++)
        if (write(fd, buf, sizeof buf) != sizeof buf) { perror("write"); return 1; }
    double t1 = now();
    lseek(fd, 0, SEEK_SET);
    for (long i = 0; i < mib; i++)
        if (read(fd, buf, sizeof buf) != sizeof buf) { perror("read"); return 1; }
    double t2 = now();
    close(fd);
    unlink(path);
    printf("%.0f %.0f\n", mib * 1.048576 / (t1 - t0), mib * 1.048576 / (t2 - t1));
    return 0;
}
