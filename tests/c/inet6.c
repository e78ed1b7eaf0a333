// SPDX-License-Identifier: Apache-2.0
// Differential test: AF_INET6 sockets on the loopback: ::1, dual-stack listeners on :: (v4-mapped
// peers) and IPV6_V6ONLY, the bind conflicts between 0.0.0.0 and ::, UDP over ::1, address
// lengths and family errors.
// variants: static
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define TRY(what, call)                                                 \
    do {                                                                \
        errno = 0;                                                      \
        long r_ = (long)(call);                                         \
        int e_ = errno;                                                 \
        printf("%s: %ld %s\n", what, r_, r_ < 0 ? strerrorname_np(e_) : "ok"); \
    } while (0)

static void show(const char *what, struct sockaddr_in6 *a, socklen_t n) {
    char ip[64];
    inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof ip);
    printf("%s: family %d %s port %s len %d\n", what, a->sin6_family, ip,
           a->sin6_port ? "set" : "0", n);
}

static void name(const char *what, int fd, int peer) {
    struct sockaddr_in6 a;
    socklen_t n = sizeof a;
    memset(&a, 0, sizeof a);
    int r = peer ? getpeername(fd, (void *)&a, &n) : getsockname(fd, (void *)&a, &n);
    if (r < 0) {
        printf("%s: %s\n", what, strerrorname_np(errno));
        return;
    }
    show(what, &a, n);
}

static int port6(int fd) {
    struct sockaddr_in6 a;
    socklen_t n = sizeof a;
    getsockname(fd, (void *)&a, &n);
    return ntohs(a.sin6_port);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    char buf[64];
    int one = 1, zero = 0;

    printf("-- ::1\n");
    int l = socket(AF_INET6, SOCK_STREAM, 0);
    name("unbound", l, 0);
    struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    TRY("bind short", bind(l, (void *)&a, 16));
    struct sockaddr_in v4 = {.sin_family = AF_INET};
    TRY("bind v4 address", bind(l, (void *)&v4, sizeof v4));
    TRY("bind ::1", bind(l, (void *)&a, sizeof a));
    TRY("listen", listen(l, 4));
    int v = -1;
    socklen_t vn = sizeof v;
    getsockopt(l, IPPROTO_IPV6, IPV6_V6ONLY, &v, &vn);
    printf("IPV6_V6ONLY %d\n", v);
    TRY("IPV6_V6ONLY after bind", setsockopt(l, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one));
    a.sin6_port = htons(port6(l));
    int c = socket(AF_INET6, SOCK_STREAM, 0);
    TRY("connect ::1", connect(c, (void *)&a, sizeof a));
    int s = accept(l, NULL, NULL);
    name("client", c, 0);
    name("client peer", c, 1);
    name("server peer", s, 1);
    write(c, "six", 3);
    memset(buf, 0, sizeof buf);
    read(s, buf, sizeof buf);
    printf("got %s\n", buf);
    close(s);
    close(c);
    int c4 = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in to4 = {.sin_family = AF_INET, .sin_port = a.sin6_port};
    to4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    TRY("v4 connect to a ::1 listener", connect(c4, (void *)&to4, sizeof to4));
    close(c4);
    close(l);

    printf("-- dual stack\n");
    l = socket(AF_INET6, SOCK_STREAM, 0);
    setsockopt(l, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
    struct sockaddr_in6 any = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_ANY_INIT};
    TRY("bind ::", bind(l, (void *)&any, sizeof any));
    listen(l, 4);
    int port = port6(l);
    to4.sin_port = htons(port);
    c4 = socket(AF_INET, SOCK_STREAM, 0);
    TRY("v4 connect to ::", connect(c4, (void *)&to4, sizeof to4));
    struct sockaddr_in6 pa;
    socklen_t pn = sizeof pa;
    s = accept(l, (void *)&pa, &pn);
    show("accepted v4 peer", &pa, pn);
    name("server side name", s, 0);
    close(s);
    close(c4);
    c = socket(AF_INET6, SOCK_STREAM, 0);
    struct sockaddr_in6 mapped = {.sin6_family = AF_INET6, .sin6_port = htons(port)};
    inet_pton(AF_INET6, "::ffff:127.0.0.1", &mapped.sin6_addr);
    TRY("v6 socket connect to a v4-mapped address", connect(c, (void *)&mapped, sizeof mapped));
    name("its name", c, 0);
    close(accept(l, NULL, NULL));
    close(c);
    int b4 = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in same4 = {.sin_family = AF_INET, .sin_port = htons(port)};
    TRY("bind 0.0.0.0 on a dual-stack port", bind(b4, (void *)&same4, sizeof same4));
    close(b4);
    close(l);

    printf("-- v6 only\n");
    l = socket(AF_INET6, SOCK_STREAM, 0);
    setsockopt(l, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    TRY("bind :: v6only", bind(l, (void *)&any, sizeof any));
    listen(l, 4);
    port = port6(l);
    to4.sin_port = htons(port);
    c4 = socket(AF_INET, SOCK_STREAM, 0);
    TRY("v4 connect to v6-only ::", connect(c4, (void *)&to4, sizeof to4));
    close(c4);
    b4 = socket(AF_INET, SOCK_STREAM, 0);
    same4.sin_port = htons(port);
    TRY("bind 0.0.0.0 beside a v6-only ::", bind(b4, (void *)&same4, sizeof same4));
    close(b4);
    close(l);

    printf("-- udp\n");
    int u1 = socket(AF_INET6, SOCK_DGRAM, 0), u2 = socket(AF_INET6, SOCK_DGRAM, 0);
    struct sockaddr_in6 ua = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    bind(u1, (void *)&ua, sizeof ua);
    ua.sin6_port = htons(port6(u1));
    TRY("sendto ::1", sendto(u2, "udp6", 4, 0, (void *)&ua, sizeof ua));
    struct sockaddr_in6 from;
    socklen_t fl = sizeof from;
    memset(buf, 0, sizeof buf);
    TRY("recvfrom", recvfrom(u1, buf, sizeof buf, 0, (void *)&from, &fl));
    show("source", &from, fl);
    printf("got %s\n", buf);
    int u4 = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in6 uany = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_ANY_INIT};
    int u3 = socket(AF_INET6, SOCK_DGRAM, 0);
    bind(u3, (void *)&uany, sizeof uany);
    to4.sin_port = htons(port6(u3));
    TRY("v4 datagram to a :: socket", sendto(u4, "four", 4, 0, (void *)&to4, sizeof to4));
    fl = sizeof from;
    TRY("recvfrom", recvfrom(u3, buf, sizeof buf, 0, (void *)&from, &fl));
    show("v4-mapped source", &from, fl);
    return 0;
}
