// SPDX-License-Identifier: Apache-2.0
// Differential test: Unix datagram and seqpacket sockets. socketpair(SOCK_DGRAM/SOCK_SEQPACKET)
// keeps message boundaries, truncates a message that does not fit (MSG_TRUNC in msg_flags, the
// real length with the MSG_TRUNC flag), zero-length messages, MSG_PEEK, SCM_RIGHTS per message,
// SO_TYPE, nonblocking EAGAIN, EMSGSIZE; a closed datagram peer gives ECONNREFUSED and no end of
// file, a closed seqpacket peer end of file and EPIPE; seqpacket over a named socket with
// listen/accept, and EPROTOTYPE for a stream client.
// variants: static static-pie
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static void rx(const char *what, int s, size_t cap, int flags) {
    char buf[64] = {0};
    struct iovec iov = {buf, cap};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
    errno = 0;
    int n = recvmsg(s, &m, flags);
    int e = errno;
    printf("%s: %d \"%.*s\" trunc %d", what, n, n > 0 ? (int)(n < (int)cap ? n : (int)cap) : 0, buf,
           !!(m.msg_flags & MSG_TRUNC));
    if (n < 0) printf(" %s", strerror(e));
    printf("\n");
}

static void pair_tests(int type, const char *name) {
    int sv[2];
    printf("== %s\n", name);
    if (socketpair(AF_UNIX, type, 0, sv)) {
        printf("socketpair: %s\n", strerror(errno));
        return;
    }
    int t;
    socklen_t tl = sizeof t;
    getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &t, &tl);
    printf("SO_TYPE %d\n", t);
    send(sv[0], "first", 5, 0);
    send(sv[0], "second!", 7, 0);
    send(sv[0], "", 0, 0);
    send(sv[0], "a longer third message", 22, 0);
    struct pollfd p = {sv[1], POLLIN, 0};
    int pr = poll(&p, 1, 0);
    printf("poll: %d %#x\n", pr, p.revents);
    rx("one at a time", sv[1], 64, 0);
    rx("peek", sv[1], 3, MSG_PEEK);
    rx("then", sv[1], 64, 0);
    rx("zero-length", sv[1], 64, 0);
    rx("truncated", sv[1], 6, 0);
    send(sv[0], "0123456789", 10, 0);
    rx("MSG_TRUNC gives the length", sv[1], 4, MSG_TRUNC);
    rx("empty, nonblocking", sv[1], 64, MSG_DONTWAIT);

    // Files travel with their own message.
    int pp[2];
    if (pipe(pp)) exit(1);
    char ctl[CMSG_SPACE(sizeof(int))];
    memset(ctl, 0, sizeof ctl);
    struct iovec iov = {"f", 1};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl};
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &pp[1], sizeof(int));
    send(sv[0], "before", 6, 0);
    printf("sendmsg with a file: %zd\n", sendmsg(sv[0], &m, 0));
    char got[64], gctl[64];
    struct iovec giov = {got, sizeof got};
    struct msghdr gm = {.msg_iov = &giov, .msg_iovlen = 1, .msg_control = gctl, .msg_controllen = sizeof gctl};
    int n = recvmsg(sv[1], &gm, 0);
    printf("before: %d controllen %zu\n", n, (size_t)gm.msg_controllen);
    gm.msg_controllen = sizeof gctl;
    n = recvmsg(sv[1], &gm, 0);
    c = CMSG_FIRSTHDR(&gm);
    int fd = -1;
    if (c && c->cmsg_type == SCM_RIGHTS) memcpy(&fd, CMSG_DATA(c), sizeof fd);
    printf("with the file: %d got fd %d\n", n, fd >= 0);
    if (fd >= 0) {
        printf("write through it: %zd\n", write(fd, "z", 1));
        close(fd);
    }

    // Too big for the queue.
    static char big[300000];
    errno = 0;
    n = send(sv[0], big, sizeof big, 0);
    printf("huge: %d %s\n", n, strerror(errno));
    // Fill until EAGAIN: every accepted message is whole.
    int sent = 0;
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    while (send(sv[0], big, 1000, 0) == 1000) sent++;
    printf("filled: EAGAIN %d, some sent %d\n", errno == EAGAIN, sent > 10);
    int drained = 0;
    while (recv(sv[1], got, sizeof got, MSG_DONTWAIT) == sizeof got) drained++;
    printf("drained as many: %d\n", drained == sent);

    close(sv[1]);
    errno = 0;
    n = send(sv[0], "x", 1, MSG_NOSIGNAL);
    printf("send to a closed peer: %d %s\n", n, strerror(errno));
    rx("receive with the peer closed", sv[0], 64, MSG_DONTWAIT);
    close(sv[0]);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    signal(SIGPIPE, SIG_IGN);
    pair_tests(SOCK_DGRAM, "datagram");
    pair_tests(SOCK_SEQPACKET, "seqpacket");

    // Seqpacket over an abstract name.
    printf("== named seqpacket\n");
    int l = socket(AF_UNIX, SOCK_SEQPACKET, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path + 1, sizeof a.sun_path - 1, "packets-%d", getpid());
    socklen_t alen = offsetof(struct sockaddr_un, sun_path) + 1 + strlen(a.sun_path + 1);
    int b = bind(l, (struct sockaddr *)&a, alen);
    printf("bind %d", b);
    printf(" listen %d\n", listen(l, 4));
    int cl = socket(AF_UNIX, SOCK_SEQPACKET, 0);
    printf("connect %d\n", connect(cl, (struct sockaddr *)&a, alen));
    int sv = accept(l, NULL, NULL);
    send(cl, "hello", 5, 0);
    send(cl, "world", 5, 0);
    rx("server", sv, 64, 0);
    rx("server", sv, 3, 0);
    int s2 = socket(AF_UNIX, SOCK_STREAM, 0);
    errno = 0;
    int r = connect(s2, (struct sockaddr *)&a, alen);
    printf("stream client: %d %s\n", r, strerror(errno));
    // A socket file is found whatever its type; then the type is wrong.
    struct sockaddr_un pa = {.sun_family = AF_UNIX};
    snprintf(pa.sun_path, sizeof pa.sun_path, "/tmp/packets-%d", getpid());
    int pl = socket(AF_UNIX, SOCK_SEQPACKET, 0);
    if (bind(pl, (struct sockaddr *)&pa, sizeof pa) || listen(pl, 1)) return 1;
    int s3 = socket(AF_UNIX, SOCK_STREAM, 0);
    errno = 0;
    r = connect(s3, (struct sockaddr *)&pa, sizeof pa);
    printf("stream client of a path: %d %s\n", r, strerror(errno));
    unlink(pa.sun_path);
    close(cl);
    rx("after the client closed", sv, 64, 0);
    errno = 0;
    int n = send(sv, "x", 1, MSG_NOSIGNAL);
    printf("send after the client closed: %d %s\n", n, strerror(errno));
    return 0;
}
