/* Pipes in packet mode (O_DIRECT): each write is a packet (cut at PIPE_BUF), a read takes one
 * packet at most and drops what does not fit, a packet takes a slot whatever its size (16 in a
 * 64 KiB pipe), F_GETFL shows the flag, and F_SETFL turns it on and off. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void) {
    int p[2];
    printf("pipe2 O_DIRECT %d\n", pipe2(p, O_DIRECT | O_NONBLOCK));
    printf("O_DIRECT shown: read end %d write end %d\n", !!(fcntl(p[0], F_GETFL) & O_DIRECT),
           !!(fcntl(p[1], F_GETFL) & O_DIRECT));
    printf("write abc %zd\n", write(p[1], "abc", 3));
    printf("write defgh %zd\n", write(p[1], "defgh", 5));
    char b[16384];
    ssize_t n = read(p[0], b, sizeof b);
    printf("read %zd %.*s\n", n, (int)n, b);
    n = read(p[0], b, 2);
    printf("read 2 of a 5-byte packet: %zd %.*s\n", n, (int)n, b);
    errno = 0;
    n = read(p[0], b, sizeof b);
    printf("then: %zd %s\n", n, errno == EAGAIN ? "EAGAIN" : "?");
    static char big[10000];
    memset(big, 'x', sizeof big);
    printf("write 10000: %zd\n", write(p[1], big, sizeof big));
    for (int i = 0; i < 4; i++) {
        errno = 0;
        n = read(p[0], b, sizeof b);
        printf("  read %zd%s\n", n, errno == EAGAIN ? " EAGAIN" : "");
    }
    int k = 0;
    while (write(p[1], "s", 1) == 1 && k < 1000) k++;
    printf("one-byte packets before EAGAIN: %d (%s)\n", k, errno == EAGAIN ? "EAGAIN" : "?");
    int got = 0;
    while (read(p[0], b, sizeof b) == 1) got++;
    printf("read back: %d\n", got);
    printf("F_SETFL without O_DIRECT: %d\n", fcntl(p[1], F_SETFL, O_NONBLOCK));
    write(p[1], "12", 2);
    write(p[1], "34", 2);
    n = read(p[0], b, sizeof b);
    printf("stream again: %zd %.*s\n", n, (int)n, b);
    printf("F_SETFL O_DIRECT: %d\n", fcntl(p[1], F_SETFL, O_NONBLOCK | O_DIRECT));
    write(p[1], "56", 2);
    write(p[1], "78", 2);
    n = read(p[0], b, sizeof b);
    printf("packets again: %zd %.*s\n", n, (int)n, b);
    close(p[1]);
    n = read(p[0], b, sizeof b);
    printf("last packet: %zd %.*s\n", n, (int)n, b);
    n = read(p[0], b, sizeof b);
    printf("end: %zd\n", n);
    return 0;
}
