// SPDX-License-Identifier: Apache-2.0
// Differential test: pipes between processes: data through fork, end of file when the last
// writer closes, EPIPE and SIGPIPE, O_NONBLOCK, PIPE_BUF atomicity, pipe sizes, FIONREAD, poll,
// fstat, a 4 MiB transfer with a checksum.
// variants: static static-pie
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void r(const char *what, long v) {
    if (v < 0) printf("%s = -1 %s\n", what, strerrorname_np(errno));
    else printf("%s = %ld\n", what, v);
}

int main(void) {
    int p[2];
    r("pipe2(bad flags)", pipe2(p, 0x4));
    r("pipe2(O_CLOEXEC)", pipe2(p, O_CLOEXEC));
    printf("FD_CLOEXEC set: %s\n", fcntl(p[0], F_GETFD) & FD_CLOEXEC ? "yes" : "no");
    printf("F_GETFL read end %#o, write end %#o\n", fcntl(p[0], F_GETFL), fcntl(p[1], F_GETFL));
    struct stat st;
    fstat(p[0], &st);
    printf("fstat: fifo %s, mode %o\n", S_ISFIFO(st.st_mode) ? "yes" : "no", st.st_mode & 0777);
    r("F_GETPIPE_SZ", fcntl(p[0], F_GETPIPE_SZ));
    r("F_SETPIPE_SZ 5000", fcntl(p[0], F_SETPIPE_SZ, 5000));
    r("write 10", write(p[1], "0123456789", 10));
    int n = 0;
    ioctl(p[0], FIONREAD, &n);
    printf("FIONREAD %d\n", n);
    struct pollfd pf[2] = {{p[0], POLLIN, 0}, {p[1], POLLOUT, 0}};
    r("poll", poll(pf, 2, 0));
    printf("revents read %#x write %#x\n", pf[0].revents, pf[1].revents);
    char buf[128];
    r("read 4", read(p[0], buf, 4));
    r("read 100 gets the rest", read(p[0], buf, 100));
    r("read on the write end", read(p[1], buf, 1));
    r("write on the read end", write(p[0], "x", 1));
    r("lseek on a pipe", lseek(p[0], 0, SEEK_SET));
    r("pread on a pipe", pread(p[0], buf, 1, 0));

    // Non-blocking: empty read is EAGAIN, a full pipe write is EAGAIN or partial.
    fcntl(p[0], F_SETFL, O_NONBLOCK);
    r("nonblocking read of an empty pipe", read(p[0], buf, 1));
    fcntl(p[1], F_SETFL, O_NONBLOCK);
    static char big[1 << 16];
    memset(big, 'b', sizeof big);
    long total = 0, w;
    while ((w = write(p[1], big, 3000)) > 0) total += w;
    printf("filled a %d-byte pipe with %ld bytes, then %s\n", fcntl(p[1], F_GETPIPE_SZ), total, strerrorname_np(errno));
    r("PIPE_BUF write into a full pipe", write(p[1], big, 100));
    close(p[0]);
    close(p[1]);

    // EOF after the writer closes; data through fork.
    pipe(p);
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        close(p[0]);
        for (int i = 0; i < 3; i++) dprintf(p[1], "line %d\n", i);
        _exit(0);
    }
    close(p[1]);
    long got = 0, k;
    while ((k = read(p[0], buf, sizeof buf)) > 0) got += k;
    printf("read %ld bytes until EOF (last read %ld)\n", got, k);
    int status;
    waitpid(c, &status, 0);
    close(p[0]);

    // A 4 MiB transfer.
    pipe(p);
    fflush(stdout);
    c = fork();
    if (c == 0) {
        close(p[0]);
        static char chunk[100000];
        unsigned sum = 0;
        for (int i = 0; i < 42; i++) {
            for (size_t j = 0; j < sizeof chunk; j++) chunk[j] = (char)(i * 7 + j);
            for (size_t j = 0; j < sizeof chunk; j++) sum += (unsigned char)chunk[j];
            if (write(p[1], chunk, sizeof chunk) != sizeof chunk) _exit(1);
        }
        _exit(sum % 251);
    }
    close(p[1]);
    unsigned sum = 0;
    got = 0;
    static char in[65536];
    while ((k = read(p[0], in, sizeof in)) > 0) {
        got += k;
        for (long j = 0; j < k; j++) sum += (unsigned char)in[j];
    }
    waitpid(c, &status, 0);
    printf("transfer: %ld bytes, checksums agree: %s\n", got, WEXITSTATUS(status) == (int)(sum % 251) ? "yes" : "no");
    close(p[0]);

    // EPIPE: with SIGPIPE ignored, then a child killed by it.
    pipe(p);
    close(p[0]);
    signal(SIGPIPE, SIG_IGN);
    r("write with no reader, SIGPIPE ignored", write(p[1], "x", 1));
    signal(SIGPIPE, SIG_DFL);
    fflush(stdout);
    c = fork();
    if (c == 0) {
        write(p[1], "x", 1);
        _exit(0);
    }
    waitpid(c, &status, 0);
    printf("writer with no reader: %s\n", WIFSIGNALED(status) ? sigabbrev_np(WTERMSIG(status)) : "not killed");
    close(p[1]);
    return 0;
}
