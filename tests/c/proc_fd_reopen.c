// SPDX-License-Identifier: Apache-2.0
// Differential test: opening /proc/self/fd/N (what /dev/stdin and bash's <(...) do) of a pipe
// gives a new open file description of the pipe, with the access mode asked; of a socket or an
// eventfd, ENXIO; stat and access follow the link; a path past it is ENOTDIR.
// variants: static
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
static char path[64];
static const char *fdpath(int fd, const char *rest) {
    snprintf(path, sizeof path, "/proc/self/fd/%d%s", fd, rest);
    return path;
}
static void show(const char *what, int r) {
    printf("%s: %s\n", what, r < 0 ? strerror(errno) : "ok");
}
int main(void) {
    int p[2];
    if (pipe2(p, O_NONBLOCK)) return 1;
    // The reopened read end: its own description (blocking), the same pipe.
    int r2 = open(fdpath(p[0], ""), O_RDONLY);
    show("reopen read end", r2);
    printf("flags: original nonblock %d, reopened nonblock %d\n",
           !!(fcntl(p[0], F_GETFL) & O_NONBLOCK), !!(fcntl(r2, F_GETFL) & O_NONBLOCK));
    if (write(p[1], "hello", 5) != 5) return 2;
    char buf[16] = {0};
    printf("read through the reopened end: %zd '%s'\n", read(r2, buf, sizeof buf - 1), buf);
    // The write end, reopened, writes into the same pipe.
    int w2 = open(fdpath(p[1], ""), O_WRONLY | O_CLOEXEC);
    show("reopen write end", w2);
    printf("cloexec: %d\n", !!(fcntl(w2, F_GETFD) & FD_CLOEXEC));
    if (write(w2, "abc", 3) != 3) return 3;
    memset(buf, 0, sizeof buf);
    printf("read: %zd '%s'\n", read(p[0], buf, sizeof buf - 1), buf);
    // The read end's link opened for writing gives a writer of the same pipe.
    int w3 = open(fdpath(p[0], ""), O_WRONLY);
    show("read end's link opened O_WRONLY", w3);
    if (w3 >= 0 && write(w3, "xy", 2) == 2) {
        memset(buf, 0, sizeof buf);
        printf("read: %zd '%s'\n", read(p[0], buf, sizeof buf - 1), buf);
    }
    struct stat st;
    show("stat", stat(fdpath(p[0], ""), &st));
    printf("fifo: %d\n", S_ISFIFO(st.st_mode));
    show("lstat", lstat(fdpath(p[0], ""), &st));
    printf("link: %d\n", S_ISLNK(st.st_mode));
    show("access R_OK|W_OK", access(fdpath(p[0], ""), R_OK | W_OK));
    show("open a path past it", open(fdpath(p[0], "/x"), O_RDONLY));
    // With every writer gone, a reopened read end reads EOF at once (no wait for a writer).
    close(p[1]);
    close(w2);
    if (w3 >= 0) close(w3);
    int r3 = open(fdpath(p[0], ""), O_RDONLY);
    show("reopen with no writer", r3);
    printf("read: %zd\n", read(r3, buf, sizeof buf));
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv)) return 4;
    show("open a socket's link", open(fdpath(sv[0], ""), O_RDWR));
    show("stat a socket's link", stat(fdpath(sv[0], ""), &st));
    printf("socket: %d\n", S_ISSOCK(st.st_mode));
    int e = eventfd(0, 0);
    show("open an eventfd's link", open(fdpath(e, ""), O_RDWR));
    show("open a closed fd's link", open(fdpath(100, ""), O_RDONLY));
    return 0;
}
