// SPDX-License-Identifier: Apache-2.0
// Benchmark guest: streams and ping-pongs between a parent and a forked child.
//   net tcp-stream MiB     MiB through a loopback TCP connection in 64 KiB writes: MB/s
//   net pipe-stream MiB    the same through a pipe: MB/s
//   net tcp-pingpong N     N one-byte round trips over loopback TCP: us per round trip
//   net unix-pingpong N    the same over a Unix socketpair: us per round trip
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec t;
    syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

/// A connected loopback TCP pair.
static void tcp_pair(int fds[2]) {
    int l = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t n = sizeof a;
    if (bind(l, (void *)&a, sizeof a) || listen(l, 1) || getsockname(l, (void *)&a, &n)) {
        perror("listen");
        exit(1);
    }
    fds[0] = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(fds[0], (void *)&a, sizeof a)) {
        perror("connect");
        exit(1);
    }
    fds[1] = accept(l, NULL, NULL);
    int one = 1;
    setsockopt(fds[0], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(fds[1], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    close(l);
}

int main(int argc, char **argv) {
    if (argc < 3) return 2;
    const char *mode = argv[1];
    long n = atol(argv[2]);
    int fds[2];
    if (!strcmp(mode, "tcp-stream") || !strcmp(mode, "tcp-pingpong")) tcp_pair(fds);
    else if (!strcmp(mode, "pipe-stream")) { if (pipe(fds)) return 1; int t = fds[0]; fds[0] = fds[1]; fds[1] = t; }
    else if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds)) return 1;
    int stream = strstr(mode, "stream") != NULL;
    static char buf[64 << 10];
    double t0 = now();
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[1]);
        if (stream) {
            memset(buf, 'x', sizeof buf);
            for (long i = 0; i < n * 16; i++)
                for (size_t done = 0; done < sizeof buf;) {
                    ssize_t w = write(fds[0], buf + done, sizeof buf - done);
                    if (w <= 0) _exit(1);
                    done += w;
                }
        } else {
            for (long i = 0; i < n; i++)
                if (read(fds[0], buf, 1) != 1 || write(fds[0], buf, 1) != 1) _exit(1);
        }
        _exit(0);
    }
    close(fds[0]);
    long total = 0;
    if (stream) {
        ssize_t r;
        while ((r = read(fds[1], buf, sizeof buf)) > 0) total += r;
    } else {
        for (long i = 0; i < n; i++)
            if (write(fds[1], "p", 1) != 1 || read(fds[1], buf, 1) != 1) return 1;
    }
    int st;
    waitpid(pid, &st, 0);
    double t = now() - t0;
    if (st != 0 || (stream && total != n << 20)) {
        fprintf(stderr, "net %s: child status %d, %ld bytes\n", mode, st, total);
        return 1;
    }
    if (stream) printf("%.0f\n", n * 1.048576 / t);
    else printf("%.2f\n", t * 1e6 / n);
    return 0;
}
