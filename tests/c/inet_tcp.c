// SPDX-License-Identifier: Apache-2.0
// Differential test: TCP over the loopback (AF_INET): bind/listen/connect/accept4, names, data
// both ways, MSG_PEEK, FIONREAD, shutdown, reset on close with unread data, non-blocking connect
// (EINPROGRESS, SO_ERROR, ECONNREFUSED, ECONNABORTED), EADDRINUSE and SO_REUSEADDR, socket
// options, SO_RCVTIMEO, poll states, a large transfer across fork, and the error paths.
// variants: static static-pie
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TRY(what, call)                                                 \
    do {                                                                \
        errno = 0;                                                      \
        long r_ = (long)(call);                                         \
        int e_ = errno;                                                 \
        printf("%s: %ld %s\n", what, r_, r_ < 0 ? strerrorname_np(e_) : "ok"); \
    } while (0)

static const char *pollbits(int fd) {
    static char s[64];
    struct pollfd p = {fd, POLLIN | POLLOUT | POLLRDHUP, 0};
    poll(&p, 1, 0);
    s[0] = 0;
    if (p.revents & POLLIN) strcat(s, "IN ");
    if (p.revents & POLLOUT) strcat(s, "OUT ");
    if (p.revents & POLLRDHUP) strcat(s, "RDHUP ");
    if (p.revents & POLLHUP) strcat(s, "HUP ");
    if (p.revents & POLLERR) strcat(s, "ERR ");
    if (!s[0]) strcpy(s, "none ");
    s[strlen(s) - 1] = 0;
    return s;
}

static struct sockaddr_in lo(int port) {
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

static void show_name(const char *what, int fd, int peer) {
    struct sockaddr_in a;
    socklen_t n = sizeof a;
    memset(&a, 0xff, sizeof a);
    errno = 0;
    int r = peer ? getpeername(fd, (void *)&a, &n) : getsockname(fd, (void *)&a, &n);
    int e = errno;
    if (r < 0) {
        printf("%s: %s\n", what, strerrorname_np(e));
        return;
    }
    char ip[32];
    inet_ntop(AF_INET, &a.sin_addr, ip, sizeof ip);
    printf("%s: family %d %s port %s len %d\n", what, a.sin_family, ip,
           a.sin_port ? "set" : "0", n);
}

static int port_of(int fd) {
    struct sockaddr_in a;
    socklen_t n = sizeof a;
    getsockname(fd, (void *)&a, &n);
    return ntohs(a.sin_port);
}

static int intopt(int fd, int level, int name) {
    int v = -1;
    socklen_t n = sizeof v;
    if (getsockopt(fd, level, name, &v, &n) < 0) return -errno;
    return v;
}

/// A port nothing listens on (bound once, then closed).
static int free_port(void) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = lo(0);
    bind(s, (void *)&a, sizeof a);
    int p = port_of(s);
    close(s);
    return p;
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    signal(SIGPIPE, SIG_IGN);
    char buf[256];

    printf("-- a new socket\n");
    TRY("socket tcp/udp proto", socket(AF_INET, SOCK_STREAM, IPPROTO_UDP));
    TRY("socket bad flags", socket(AF_INET, SOCK_STREAM | 0x1000, 0));
    int s = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    printf("SO_TYPE %d SO_DOMAIN %d SO_PROTOCOL %d SO_ACCEPTCONN %d SO_ERROR %d\n",
           intopt(s, SOL_SOCKET, SO_TYPE), intopt(s, SOL_SOCKET, SO_DOMAIN),
           intopt(s, SOL_SOCKET, SO_PROTOCOL), intopt(s, SOL_SOCKET, SO_ACCEPTCONN),
           intopt(s, SOL_SOCKET, SO_ERROR));
    show_name("unbound name", s, 0);
    show_name("unbound peer", s, 1);
    printf("poll unconnected: %s\n", pollbits(s));
    TRY("send unconnected", send(s, "x", 1, 0));
    TRY("recv unconnected", recv(s, buf, 1, MSG_DONTWAIT));
    // (On a socket of its own: Linux records the shutdown even though it fails, and a listener's
    // connections would inherit it.)
    int u = socket(AF_INET, SOCK_STREAM, 0);
    TRY("shutdown unconnected", shutdown(u, SHUT_RDWR));
    close(u);
    TRY("accept unlistened", accept(s, NULL, NULL));

    printf("-- bind\n");
    struct sockaddr_in a = lo(0);
    TRY("bind short", bind(s, (void *)&a, 8));
    struct sockaddr_in6 a6 = {.sin6_family = AF_INET6};
    TRY("bind v6 addr", bind(s, (void *)&a6, sizeof a6));
    struct sockaddr_in far = lo(0);
    far.sin_addr.s_addr = htonl(0xc0000201); // 192.0.2.1, TEST-NET-1
    TRY("bind foreign", bind(s, (void *)&far, sizeof far));
    TRY("bind efault", syscall(SYS_bind, s, (void *)1, sizeof a));
    TRY("bind ebadf", bind(99, (void *)&a, sizeof a));
    TRY("bind enotsock", bind(1, (void *)&a, sizeof a));
    TRY("bind", bind(s, (void *)&a, sizeof a));
    TRY("bind again", bind(s, (void *)&a, sizeof a));
    show_name("bound name", s, 0);
    int port = port_of(s);
    printf("ephemeral port in range: %s\n", port >= 32768 && port <= 60999 ? "yes" : "no");
    TRY("listen", listen(s, 4));
    printf("SO_ACCEPTCONN %d\n", intopt(s, SOL_SOCKET, SO_ACCEPTCONN));
    printf("poll idle listener: %s\n", pollbits(s));
    TRY("accept4 bad flags", accept4(s, NULL, NULL, 0x10));
    int nb = fcntl(s, F_GETFL);
    fcntl(s, F_SETFL, nb | O_NONBLOCK);
    TRY("accept empty nonblocking", accept(s, NULL, NULL));
    fcntl(s, F_SETFL, nb);

    int t = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in same = lo(port);
    TRY("bind same port", bind(t, (void *)&same, sizeof same));
    int one = 1;
    setsockopt(t, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    TRY("bind same port, both reuseaddr, listening", bind(t, (void *)&same, sizeof same));
    struct sockaddr_in other = same;
    other.sin_addr.s_addr = htonl(0x7f000002);
    TRY("bind same port, other loopback address", bind(t, (void *)&other, sizeof other));
    close(t);

    printf("-- connect and accept\n");
    int c = socket(AF_INET, SOCK_STREAM, 0);
    TRY("connect short", connect(c, (void *)&same, 4));
    TRY("connect efault", syscall(SYS_connect, c, (void *)1, sizeof same));
    TRY("connect", connect(c, (void *)&same, sizeof same));
    TRY("connect again", connect(c, (void *)&same, sizeof same));
    printf("poll listener with a connection: %s\n", pollbits(s));
    struct sockaddr_in pa;
    socklen_t pn = sizeof pa;
    int v = accept4(s, (void *)&pa, &pn, SOCK_NONBLOCK | SOCK_CLOEXEC);
    printf("accept4: %s, nonblock %d cloexec %d, addrlen %d\n", v >= 0 ? "ok" : "failed",
           !!(fcntl(v, F_GETFL) & O_NONBLOCK), !!(fcntl(v, F_GETFD) & FD_CLOEXEC), pn);
    printf("accepted peer port is the client's: %s\n",
           ntohs(pa.sin_port) == port_of(c) ? "yes" : "no");
    printf("server side local port is the listener's: %s\n",
           port_of(v) == port ? "yes" : "no");
    show_name("client name", c, 0);
    show_name("client peer", c, 1);
    show_name("server peer", v, 1);
    printf("poll connected, idle: %s\n", pollbits(c));
    TRY("send", send(c, "hello world", 11, 0));
    printf("poll server with data: %s\n", pollbits(v));
    int avail = -1;
    ioctl(v, FIONREAD, &avail);
    printf("FIONREAD %d\n", avail);
    memset(buf, 0, sizeof buf);
    TRY("recv peek", recv(v, buf, 5, MSG_PEEK));
    printf("peeked %s\n", buf);
    TRY("recv", recv(v, buf, sizeof buf, 0));
    printf("got %.11s\n", buf);
    TRY("recv empty nonblocking", recv(v, buf, sizeof buf, 0));
    TRY("recv dontwait", recv(c, buf, sizeof buf, MSG_DONTWAIT));
    TRY("recv oob", recv(v, buf, sizeof buf, MSG_OOB));
    TRY("recvfrom efault", syscall(SYS_recvfrom, v, (void *)1, 10, MSG_DONTWAIT, NULL, NULL));
    TRY("write", write(v, "reply", 5));
    struct sockaddr_in from;
    socklen_t fromlen = sizeof from;
    memset(buf, 0, sizeof buf);
    TRY("recvfrom", recvfrom(c, buf, sizeof buf, 0, (void *)&from, &fromlen));
    printf("recvfrom addrlen %d data %s\n", fromlen, buf);
    TRY("shutdown bad how", shutdown(c, 7));
    TRY("shutdown wr", shutdown(c, SHUT_WR));
    printf("poll server after peer SHUT_WR: %s\n", pollbits(v));
    TRY("recv eof", recv(v, buf, sizeof buf, 0));
    TRY("send after shut wr", send(c, "x", 1, 0));
    TRY("server write after peer SHUT_WR", write(v, "more", 4));
    TRY("client read", read(c, buf, sizeof buf));
    close(v);
    usleep(10000);
    printf("poll client after server close: %s\n", pollbits(c));
    TRY("client read eof", read(c, buf, sizeof buf));
    close(c);

    printf("-- reset: closed with unread data\n");
    c = socket(AF_INET, SOCK_STREAM, 0);
    connect(c, (void *)&same, sizeof same);
    v = accept(s, NULL, NULL);
    send(c, "unread", 6, 0);
    usleep(10000);
    close(v);
    usleep(10000);
    printf("poll after reset: %s\n", pollbits(c));
    TRY("recv after reset", recv(c, buf, sizeof buf, 0));
    TRY("recv again", recv(c, buf, sizeof buf, 0));
    TRY("send after reset", send(c, "x", 1, 0));
    close(c);

    printf("-- the peer closed: sends go out until its reset comes back\n");
    c = socket(AF_INET, SOCK_STREAM, 0);
    connect(c, (void *)&same, sizeof same);
    v = accept(s, NULL, NULL);
    close(c);
    usleep(10000);
    printf("poll after peer close: %s\n", pollbits(v));
    TRY("recv eof", recv(v, buf, sizeof buf, 0));
    TRY("send nothing", send(v, "", 0, 0));
    TRY("send", send(v, "a", 1, 0));
    usleep(10000);
    printf("poll after the reset: %s\n", pollbits(v));
    TRY("send again", send(v, "b", 1, 0));
    TRY("send third", send(v, "c", 1, 0));
    TRY("recv", recv(v, buf, sizeof buf, 0));
    close(v);

    printf("-- non-blocking connect\n");
    c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    TRY("connect", connect(c, (void *)&same, sizeof same));
    struct pollfd p = {c, POLLOUT, 0};
    poll(&p, 1, 1000);
    printf("writable: %s, SO_ERROR %d\n", p.revents & POLLOUT ? "yes" : "no",
           intopt(c, SOL_SOCKET, SO_ERROR));
    TRY("connect again", connect(c, (void *)&same, sizeof same));
    TRY("connect third", connect(c, (void *)&same, sizeof same));
    v = accept(s, NULL, NULL);
    close(v);
    close(c);
    int dead = free_port();
    struct sockaddr_in nobody = lo(dead);
    c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    TRY("connect nobody nonblocking", connect(c, (void *)&nobody, sizeof nobody));
    p.revents = 0;
    poll(&p, 1, 1000);
    printf("poll refused: %s\n", pollbits(c));
    printf("SO_ERROR %s\n", strerrorname_np(intopt(c, SOL_SOCKET, SO_ERROR)));
    printf("SO_ERROR again %d\n", intopt(c, SOL_SOCKET, SO_ERROR));
    TRY("connect after refusal", connect(c, (void *)&nobody, sizeof nobody));
    close(c);
    c = socket(AF_INET, SOCK_STREAM, 0);
    TRY("connect nobody", connect(c, (void *)&nobody, sizeof nobody));
    close(c);
    c = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in any = same;
    any.sin_addr.s_addr = htonl(INADDR_ANY);
    TRY("connect 0.0.0.0", connect(c, (void *)&any, sizeof any));
    show_name("peer of a connection to 0.0.0.0", c, 1);
    close(accept(s, NULL, NULL));
    close(c);

    printf("-- options\n");
    c = socket(AF_INET, SOCK_STREAM, 0);
    int five = 5;
    setsockopt(c, SOL_SOCKET, SO_REUSEADDR, &five, sizeof five);
    printf("SO_REUSEADDR %d\n", intopt(c, SOL_SOCKET, SO_REUSEADDR));
    printf("TCP_NODELAY %d\n", intopt(c, IPPROTO_TCP, TCP_NODELAY));
    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &five, sizeof five);
    printf("TCP_NODELAY set %d\n", intopt(c, IPPROTO_TCP, TCP_NODELAY));
    printf("SO_KEEPALIVE %d\n", intopt(c, SOL_SOCKET, SO_KEEPALIVE));
    setsockopt(c, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
    printf("SO_KEEPALIVE set %d\n", intopt(c, SOL_SOCKET, SO_KEEPALIVE));
    printf("IP_TTL %d\n", intopt(c, IPPROTO_IP, IP_TTL));
    int sz = 4096;
    setsockopt(c, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
    printf("SO_SNDBUF after 4096: %d\n", intopt(c, SOL_SOCKET, SO_SNDBUF));
    struct linger lg = {1, 3};
    TRY("SO_LINGER", setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof lg));
    memset(&lg, 0, sizeof lg);
    socklen_t lgn = sizeof lg;
    getsockopt(c, SOL_SOCKET, SO_LINGER, &lg, &lgn);
    printf("linger %d %d len %d\n", lg.l_onoff, lg.l_linger, lgn);
    TRY("setsockopt short", setsockopt(c, SOL_SOCKET, SO_REUSEADDR, &one, 2));
    TRY("setsockopt efault", setsockopt(c, SOL_SOCKET, SO_REUSEADDR, (void *)1, 4));
    TRY("getsockopt efault", syscall(SYS_getsockopt, c, SOL_SOCKET, SO_TYPE, (void *)1, (void *)1));
    TRY("IPV6_V6ONLY on v4", setsockopt(c, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one));

    printf("-- SO_RCVTIMEO\n");
    connect(c, (void *)&same, sizeof same);
    v = accept(s, NULL, NULL);
    struct timeval tv = {0, 50000};
    TRY("SO_RCVTIMEO", setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
    struct timeval got;
    socklen_t gotn = sizeof got;
    getsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &got, &gotn);
    printf("read back %ld.%06ld\n", (long)got.tv_sec, (long)got.tv_usec);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    TRY("recv times out", recv(c, buf, sizeof buf, 0));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    printf("waited at least 50ms: %s\n", ms >= 49 ? "yes" : "no");
    tv.tv_usec = 2000000;
    TRY("SO_RCVTIMEO bad usec", setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));

    printf("-- a large transfer across fork\n");
    if (fork() == 0) {
        static char big[1 << 20];
        for (int i = 0; i < (int)sizeof big; i++) big[i] = (char)i;
        size_t done = 0;
        while (done < sizeof big) {
            ssize_t n = write(v, big + done, sizeof big - done);
            if (n <= 0) _exit(1);
            done += n;
        }
        _exit(0);
    }
    close(v);
    long total = 0, sum = 0;
    for (;;) {
        ssize_t n = read(c, buf, sizeof buf);
        if (n < 0 && errno == EAGAIN) continue; // SO_RCVTIMEO is still set
        if (n <= 0) break;
        for (ssize_t i = 0; i < n; i++) sum += (unsigned char)buf[i];
        total += n;
    }
    int st;
    wait(&st);
    printf("received %ld bytes, sum %ld, writer status %d\n", total, sum, st);
    close(c);

    printf("-- listen without bind\n");
    int l2 = socket(AF_INET, SOCK_STREAM, 0);
    TRY("listen", listen(l2, 1));
    show_name("autobound", l2, 0);
    TRY("bind after listen", bind(l2, (void *)&a, sizeof a));
    close(l2);
    close(s);
    return 0;
}
