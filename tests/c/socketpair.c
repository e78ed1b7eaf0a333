// SPDX-License-Identifier: Apache-2.0
// Differential test: socketpair(AF_UNIX, SOCK_STREAM): data both ways, send/recv flags (MSG_PEEK,
// MSG_DONTWAIT, MSG_NOSIGNAL), sendmsg/recvmsg with iovecs, shutdown, poll states, FIONREAD,
// socket options (SO_PEERCRED), names, fstat, blocking across fork, SIGPIPE, and the errors.
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
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define TRY(what, call)                                    \
    do {                                                   \
        errno = 0;                                         \
        long r_ = (long)(call);                            \
        printf("%s: %ld %s\n", what, r_, strerror(errno)); \
    } while (0)

static const char *pollbits(short re) {
    static char s[64];
    re &= POLLIN | POLLOUT | POLLHUP | POLLERR;
    s[0] = 0;
    if (re & POLLIN) strcat(s, "IN ");
    if (re & POLLOUT) strcat(s, "OUT ");
    if (re & POLLHUP) strcat(s, "HUP ");
    if (re & POLLERR) strcat(s, "ERR ");
    if (!s[0]) strcpy(s, "none ");
    s[strlen(s) - 1] = 0;
    return s;
}

static void show_poll(const char *what, int a, int b) {
    struct pollfd pf[2] = {{a, POLLIN | POLLOUT, 0}, {b, POLLIN | POLLOUT, 0}};
    errno = 0;
    int n = poll(pf, 2, 0);
    int e = errno;
    printf("poll %s: %d %s | a: %s |", what, n, strerror(e), pollbits(pf[0].revents));
    printf(" b: %s\n", pollbits(pf[1].revents));
}

static int fionread(int fd) {
    int n = -1;
    if (ioctl(fd, FIONREAD, &n) < 0) return -1000 - errno;
    return n;
}

static void show_status(const char *what, int st) {
    if (WIFEXITED(st)) printf("%s: exited %d\n", what, WEXITSTATUS(st));
    else if (WIFSIGNALED(st)) printf("%s: killed by %s\n", what, sigabbrev_np(WTERMSIG(st)));
    else printf("%s: status %#x\n", what, st);
}

int main(void) {
    for (int fd = 3; fd < 1024; fd++) close(fd);
    signal(SIGPIPE, SIG_DFL);
    char buf[256];
    int sv[2];

    // Creation and flags.
    TRY("socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    printf("distinct fds: %s\n", sv[0] != sv[1] && sv[0] > 2 && sv[1] > 2 ? "yes" : "no");
    printf("plain: nonblock %d cloexec %d\n", !!(fcntl(sv[0], F_GETFL) & O_NONBLOCK),
           !!(fcntl(sv[0], F_GETFD) & FD_CLOEXEC));
    printf("F_GETFL accmode is O_RDWR: %s\n",
           (fcntl(sv[0], F_GETFL) & O_ACCMODE) == O_RDWR ? "yes" : "no");
    int nb[2];
    TRY("socketpair NONBLOCK|CLOEXEC",
        socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, nb));
    printf("flagged: nonblock %d/%d cloexec %d/%d\n", !!(fcntl(nb[0], F_GETFL) & O_NONBLOCK),
           !!(fcntl(nb[1], F_GETFL) & O_NONBLOCK), !!(fcntl(nb[0], F_GETFD) & FD_CLOEXEC),
           !!(fcntl(nb[1], F_GETFD) & FD_CLOEXEC));
    TRY("nonblocking read of empty", read(nb[0], buf, sizeof buf));
    TRY("nonblocking recv of empty", recv(nb[1], buf, sizeof buf, 0));
    TRY("write nb[1]", write(nb[1], "xyz", 3));
    memset(buf, 0, sizeof buf);
    TRY("read nb[0]", read(nb[0], buf, sizeof buf));
    printf("got \"%s\"\n", buf);
    close(nb[0]);
    close(nb[1]);

    // fstat and names.
    struct stat st;
    TRY("fstat", fstat(sv[0], &st));
    printf("S_ISSOCK: %s, S_ISFIFO: %s, perms %o\n", S_ISSOCK(st.st_mode) ? "yes" : "no",
           S_ISFIFO(st.st_mode) ? "yes" : "no", st.st_mode & 07777);
    struct sockaddr_un sun;
    socklen_t slen = sizeof sun;
    memset(&sun, 0xaa, sizeof sun);
    TRY("getsockname", getsockname(sv[0], (struct sockaddr *)&sun, &slen));
    printf("getsockname len %u family %s\n", (unsigned)slen,
           sun.sun_family == AF_UNIX ? "AF_UNIX" : "other");
    slen = sizeof sun;
    memset(&sun, 0xaa, sizeof sun);
    TRY("getpeername", getpeername(sv[1], (struct sockaddr *)&sun, &slen));
    printf("getpeername len %u family %s\n", (unsigned)slen,
           sun.sun_family == AF_UNIX ? "AF_UNIX" : "other");

    // Socket options.
    int v = -1;
    socklen_t ol = sizeof v;
    TRY("SO_TYPE", getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &v, &ol));
    printf("SO_TYPE %s, optlen %u\n", v == SOCK_STREAM ? "SOCK_STREAM" : "other", (unsigned)ol);
    v = -1;
    ol = sizeof v;
    TRY("SO_DOMAIN", getsockopt(sv[0], SOL_SOCKET, SO_DOMAIN, &v, &ol));
    printf("SO_DOMAIN %s, optlen %u\n", v == AF_UNIX ? "AF_UNIX" : "other", (unsigned)ol);
    v = -1;
    ol = sizeof v;
    TRY("SO_PROTOCOL", getsockopt(sv[0], SOL_SOCKET, SO_PROTOCOL, &v, &ol));
    printf("SO_PROTOCOL %d\n", v);
    v = -1;
    ol = sizeof v;
    TRY("SO_ERROR", getsockopt(sv[0], SOL_SOCKET, SO_ERROR, &v, &ol));
    printf("SO_ERROR %d\n", v);
    v = -1;
    ol = sizeof v;
    TRY("SO_ACCEPTCONN", getsockopt(sv[0], SOL_SOCKET, SO_ACCEPTCONN, &v, &ol));
    printf("SO_ACCEPTCONN %d\n", v);
    struct ucred cred;
    memset(&cred, 0xff, sizeof cred);
    ol = sizeof cred;
    TRY("SO_PEERCRED", getsockopt(sv[1], SOL_SOCKET, SO_PEERCRED, &cred, &ol));
    printf("SO_PEERCRED optlen %u, pid is mine %s, uid is euid %s, gid is egid %s\n",
           (unsigned)ol, cred.pid == getpid() ? "yes" : "no", cred.uid == geteuid() ? "yes" : "no",
           cred.gid == getegid() ? "yes" : "no");
    v = -1;
    ol = sizeof v;
    TRY("unknown SOL_SOCKET option", getsockopt(sv[0], SOL_SOCKET, 12345, &v, &ol));

    // Data both ways, poll and FIONREAD.
    show_poll("idle", sv[0], sv[1]);
    printf("FIONREAD idle: %d\n", fionread(sv[1]));
    TRY("write a->b", write(sv[0], "hello", 5));
    show_poll("a->b pending", sv[0], sv[1]);
    printf("FIONREAD b: %d, a: %d\n", fionread(sv[1]), fionread(sv[0]));
    TRY("write b->a", write(sv[1], "world!", 6));
    show_poll("both pending", sv[0], sv[1]);
    memset(buf, 0, sizeof buf);
    TRY("read b", read(sv[1], buf, sizeof buf));
    printf("b got \"%s\"\n", buf);
    memset(buf, 0, sizeof buf);
    TRY("read a 3", read(sv[0], buf, 3));
    printf("a got \"%s\", FIONREAD a %d\n", buf, fionread(sv[0]));
    memset(buf, 0, sizeof buf);
    TRY("read a rest", read(sv[0], buf, sizeof buf));
    printf("a got \"%s\"\n", buf);

    // send/recv flags.
    TRY("send", send(sv[0], "peekaboo", 8, 0));
    memset(buf, 0, sizeof buf);
    TRY("recv MSG_PEEK 4", recv(sv[1], buf, 4, MSG_PEEK));
    printf("peeked \"%s\", FIONREAD still %d\n", buf, fionread(sv[1]));
    memset(buf, 0, sizeof buf);
    TRY("recv MSG_PEEK all", recv(sv[1], buf, sizeof buf, MSG_PEEK));
    printf("peeked \"%s\"\n", buf);
    memset(buf, 0, sizeof buf);
    TRY("recv", recv(sv[1], buf, sizeof buf, 0));
    printf("received \"%s\"\n", buf);
    TRY("recv MSG_DONTWAIT on empty", recv(sv[1], buf, sizeof buf, MSG_DONTWAIT));
    TRY("recv MSG_DONTWAIT|MSG_PEEK on empty", recv(sv[1], buf, sizeof buf, MSG_DONTWAIT | MSG_PEEK));
    TRY("sendto", sendto(sv[1], "to-a", 4, 0, NULL, 0));
    memset(buf, 0, sizeof buf);
    TRY("recvfrom", recvfrom(sv[0], buf, sizeof buf, 0, NULL, NULL));
    printf("recvfrom got \"%s\"\n", buf);

    // sendmsg/recvmsg with several iovecs.
    char p1[] = "abc", p2[] = "defg", p3[] = "hi";
    struct iovec wv[3] = {{p1, 3}, {p2, 4}, {p3, 2}};
    struct msghdr m;
    memset(&m, 0, sizeof m);
    m.msg_iov = wv;
    m.msg_iovlen = 3;
    TRY("sendmsg 3 iovecs", sendmsg(sv[0], &m, 0));
    char r1[2], r2[4], r3[10];
    memset(r1, 0, sizeof r1);
    memset(r2, 0, sizeof r2);
    memset(r3, 0, sizeof r3);
    struct iovec rv[3] = {{r1, 2}, {r2, 4}, {r3, 10}};
    struct sockaddr_un from;
    memset(&m, 0, sizeof m);
    m.msg_name = &from;
    m.msg_namelen = sizeof from;
    m.msg_iov = rv;
    m.msg_iovlen = 3;
    m.msg_flags = 0x7fff;
    TRY("recvmsg 3 iovecs", recvmsg(sv[1], &m, 0));
    printf("iov: \"%.2s\" \"%.4s\" \"%.10s\", msg_flags %#x, namelen %u, controllen %zu\n", r1, r2,
           r3, m.msg_flags, (unsigned)m.msg_namelen, (size_t)m.msg_controllen);
    // A receive smaller than the data leaves the rest for later (no MSG_TRUNC on a stream).
    TRY("send 10", send(sv[1], "0123456789", 10, 0));
    char s1[3], s2[3];
    struct iovec sv2[2] = {{s1, 3}, {s2, 3}};
    memset(&m, 0, sizeof m);
    m.msg_iov = sv2;
    m.msg_iovlen = 2;
    TRY("recvmsg 6 of 10", recvmsg(sv[0], &m, 0));
    printf("got \"%.3s%.3s\", msg_flags %#x, FIONREAD %d\n", s1, s2, m.msg_flags, fionread(sv[0]));
    memset(buf, 0, sizeof buf);
    TRY("read rest", read(sv[0], buf, sizeof buf));
    printf("rest \"%s\"\n", buf);
    // writev/readv work too.
    TRY("writev", writev(sv[1], wv, 3));
    memset(r1, 0, sizeof r1);
    memset(r2, 0, sizeof r2);
    memset(r3, 0, sizeof r3);
    TRY("readv", readv(sv[0], rv, 3));
    printf("readv: \"%.2s\" \"%.4s\" \"%.10s\"\n", r1, r2, r3);

    // shutdown(SHUT_WR) on a: b sees EOF, b->a still works.
    TRY("write before shutdown", write(sv[0], "last", 4));
    TRY("shutdown a SHUT_WR", shutdown(sv[0], SHUT_WR));
    show_poll("a SHUT_WR", sv[0], sv[1]);
    memset(buf, 0, sizeof buf);
    TRY("b reads queued data", read(sv[1], buf, sizeof buf));
    printf("b got \"%s\"\n", buf);
    TRY("b reads EOF", read(sv[1], buf, sizeof buf));
    TRY("b reads EOF again", recv(sv[1], buf, sizeof buf, MSG_DONTWAIT));
    TRY("a send after SHUT_WR", send(sv[0], "x", 1, MSG_NOSIGNAL));
    TRY("b->a still works", write(sv[1], "back", 4));
    memset(buf, 0, sizeof buf);
    TRY("a reads", read(sv[0], buf, sizeof buf));
    printf("a got \"%s\"\n", buf);
    TRY("shutdown a SHUT_WR again", shutdown(sv[0], SHUT_WR));
    TRY("shutdown b SHUT_WR", shutdown(sv[1], SHUT_WR));
    show_poll("both SHUT_WR", sv[0], sv[1]);
    TRY("a reads EOF", read(sv[0], buf, sizeof buf));
    close(sv[0]);
    close(sv[1]);

    // shutdown(SHUT_RD) on a: queued data stays readable, then EOF; b can no longer send.
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    TRY("b writes", write(sv[1], "queued", 6));
    TRY("shutdown a SHUT_RD", shutdown(sv[0], SHUT_RD));
    show_poll("a SHUT_RD", sv[0], sv[1]);
    memset(buf, 0, sizeof buf);
    TRY("a reads queued", read(sv[0], buf, sizeof buf));
    printf("a got \"%s\"\n", buf);
    TRY("a reads EOF", read(sv[0], buf, sizeof buf));
    TRY("b send after a SHUT_RD", send(sv[1], "x", 1, MSG_NOSIGNAL));
    TRY("a->b still works", write(sv[0], "fwd", 3));
    memset(buf, 0, sizeof buf);
    TRY("b reads", read(sv[1], buf, sizeof buf));
    printf("b got \"%s\"\n", buf);
    TRY("shutdown a SHUT_RDWR", shutdown(sv[0], SHUT_RDWR));
    show_poll("a SHUT_RDWR", sv[0], sv[1]);
    TRY("b reads EOF", read(sv[1], buf, sizeof buf));
    close(sv[0]);
    close(sv[1]);

    // The peer closes: data still readable, then EOF; writes fail with EPIPE.
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    TRY("write then close", write(sv[1], "bye", 3));
    close(sv[1]);
    show_poll("peer closed (a only)", sv[0], -1);
    memset(buf, 0, sizeof buf);
    TRY("read after peer close", read(sv[0], buf, sizeof buf));
    printf("got \"%s\"\n", buf);
    TRY("read EOF", read(sv[0], buf, sizeof buf));
    TRY("send MSG_NOSIGNAL to closed peer", send(sv[0], "x", 1, MSG_NOSIGNAL));
    v = -1;
    ol = sizeof v;
    TRY("SO_ERROR after EPIPE", getsockopt(sv[0], SOL_SOCKET, SO_ERROR, &v, &ol));
    printf("SO_ERROR %d\n", v);
    slen = sizeof sun;
    TRY("getpeername after peer close", getpeername(sv[0], (struct sockaddr *)&sun, &slen));
    signal(SIGPIPE, SIG_IGN);
    TRY("write with SIGPIPE ignored", write(sv[0], "x", 1));
    signal(SIGPIPE, SIG_DFL);
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        write(sv[0], "x", 1);
        _exit(0);
    }
    int status;
    waitpid(c, &status, 0);
    show_status("child writing to a closed peer", status);
    fflush(stdout);
    c = fork();
    if (c == 0) {
        long r = send(sv[0], "x", 1, MSG_NOSIGNAL);
        _exit(r < 0 && errno == EPIPE ? 5 : 6);
    }
    waitpid(c, &status, 0);
    show_status("child sending MSG_NOSIGNAL", status);
    close(sv[0]);

    // A blocking read woken by a forked child's write; SO_PEERCRED seen from the child.
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    fflush(stdout);
    c = fork();
    if (c == 0) {
        close(sv[0]);
        struct ucred cc;
        socklen_t cl = sizeof cc;
        getsockopt(sv[1], SOL_SOCKET, SO_PEERCRED, &cc, &cl);
        int creator_is_parent = cc.pid == getppid();
        usleep(50000);
        char msg[32];
        int len = snprintf(msg, sizeof msg, "from child %d", creator_is_parent);
        write(sv[1], msg, len);
        // Wait for the reply, then exit.
        char rb[16];
        long k = read(sv[1], rb, sizeof rb);
        _exit(k == 4 && memcmp(rb, "pong", 4) == 0 ? 7 : 8);
    }
    close(sv[1]);
    memset(buf, 0, sizeof buf);
    TRY("blocking read woken by child", read(sv[0], buf, sizeof buf));
    printf("parent got \"%s\"\n", buf);
    TRY("reply", write(sv[0], "pong", 4));
    waitpid(c, &status, 0);
    show_status("child", status);
    TRY("read after child exit", read(sv[0], buf, sizeof buf));
    close(sv[0]);

    // A larger transfer through a child (blocking writes on a full socket).
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    fflush(stdout);
    c = fork();
    if (c == 0) {
        close(sv[0]);
        static char chunk[65536];
        unsigned sum = 0;
        for (int i = 0; i < 16; i++) {
            for (size_t j = 0; j < sizeof chunk; j++) chunk[j] = (char)(i * 13 + j * 7);
            for (size_t j = 0; j < sizeof chunk; j++) sum += (unsigned char)chunk[j];
            size_t off = 0;
            while (off < sizeof chunk) {
                long w = send(sv[1], chunk + off, sizeof chunk - off, 0);
                if (w <= 0) _exit(1);
                off += w;
            }
        }
        _exit(sum % 251);
    }
    close(sv[1]);
    unsigned sum = 0;
    long got = 0, k;
    static char in[40000];
    while ((k = recv(sv[0], in, sizeof in, 0)) > 0) {
        got += k;
        for (long j = 0; j < k; j++) sum += (unsigned char)in[j];
    }
    waitpid(c, &status, 0);
    printf("transfer: %ld bytes, last recv %ld, checksums agree: %s\n", got, k,
           WIFEXITED(status) && WEXITSTATUS(status) == (int)(sum % 251) ? "yes" : "no");
    close(sv[0]);

    // Errors.
    int p[2];
    pipe(p);
    v = -1;
    ol = sizeof v;
    TRY("getsockopt on a pipe", syscall(SYS_getsockopt, p[0], SOL_SOCKET, SO_TYPE, &v, &ol));
    TRY("shutdown on a pipe", syscall(SYS_shutdown, p[0], SHUT_RDWR));
    TRY("sendto on a pipe", syscall(SYS_sendto, p[1], "x", 1, 0, NULL, 0));
    TRY("recvfrom on a pipe", syscall(SYS_recvfrom, p[0], buf, 1, MSG_DONTWAIT, NULL, NULL));
    slen = sizeof sun;
    TRY("getsockname on a pipe", syscall(SYS_getsockname, p[0], &sun, &slen));
    close(p[0]);
    close(p[1]);
    TRY("getsockopt fd -1", syscall(SYS_getsockopt, -1, SOL_SOCKET, SO_TYPE, &v, &ol));
    TRY("getsockopt fd 999", syscall(SYS_getsockopt, 999, SOL_SOCKET, SO_TYPE, &v, &ol));
    TRY("shutdown fd 999", syscall(SYS_shutdown, 999, SHUT_RDWR));
    TRY("sendto fd 999", syscall(SYS_sendto, 999, "x", 1, 0, NULL, 0));
    TRY("recvfrom fd -1", syscall(SYS_recvfrom, -1, buf, 1, 0, NULL, NULL));
    TRY("socketpair bad sv", syscall(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, (int *)8));
    TRY("socketpair AF_INET", syscall(SYS_socketpair, AF_INET, SOCK_STREAM, 0, sv));
    TRY("socketpair family 12345", syscall(SYS_socketpair, 12345, SOCK_STREAM, 0, sv));
    TRY("socketpair type flag 0x10", syscall(SYS_socketpair, AF_UNIX, SOCK_STREAM | 0x10, 0, sv));
    TRY("socketpair type flag 1<<30",
        syscall(SYS_socketpair, AF_UNIX, SOCK_STREAM | (1 << 30), 0, sv));
    TRY("socketpair type 15", syscall(SYS_socketpair, AF_UNIX, 15, 0, sv));
    TRY("socketpair protocol 1 (PF_UNIX)", syscall(SYS_socketpair, AF_UNIX, SOCK_STREAM, 1, sv));
    close(sv[0]);
    close(sv[1]);
    TRY("socketpair protocol 2", syscall(SYS_socketpair, AF_UNIX, SOCK_STREAM, 2, sv));
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    TRY("shutdown how 3", syscall(SYS_shutdown, sv[0], 3));
    TRY("shutdown how -1", syscall(SYS_shutdown, sv[0], -1));
    ol = sizeof v;
    TRY("getsockopt bad optval", syscall(SYS_getsockopt, sv[0], SOL_SOCKET, SO_TYPE, (void *)1, &ol));
    TRY("getsockopt bad optlen", syscall(SYS_getsockopt, sv[0], SOL_SOCKET, SO_TYPE, &v, (void *)1));
    TRY("send bad buffer", syscall(SYS_sendto, sv[0], (void *)1, 4, MSG_DONTWAIT, NULL, 0));
    TRY("nothing was sent", fionread(sv[1]));
    close(sv[0]);
    close(sv[1]);
    return 0;
}
