// SPDX-License-Identifier: Apache-2.0
// Differential test: UDP over the loopback (AF_INET): sendto/recvfrom with source addresses,
// message boundaries, MSG_PEEK, MSG_TRUNC (flag in and out), zero-length datagrams, FIONREAD,
// connected sockets (peer filter, ECONNREFUSED from a port nobody has, AF_UNSPEC disconnect),
// EMSGSIZE, EADDRINUSE and SO_REUSEADDR, poll states, a blocking receive across fork, errors.
// variants: static static-pie
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
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
    struct pollfd p = {fd, POLLIN | POLLOUT, 0};
    poll(&p, 1, 0);
    s[0] = 0;
    if (p.revents & POLLIN) strcat(s, "IN ");
    if (p.revents & POLLOUT) strcat(s, "OUT ");
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

static int port_of(int fd) {
    struct sockaddr_in a;
    socklen_t n = sizeof a;
    getsockname(fd, (void *)&a, &n);
    return ntohs(a.sin_port);
}

static int bound(void) {
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = lo(0);
    bind(s, (void *)&a, sizeof a);
    return s;
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    char buf[256];
    int v = -1;
    socklen_t vn = sizeof v;

    printf("-- a new socket\n");
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    getsockopt(u, SOL_SOCKET, SO_TYPE, &v, &vn);
    printf("SO_TYPE %d\n", v);
    getsockopt(u, SOL_SOCKET, SO_PROTOCOL, &v, &vn);
    printf("SO_PROTOCOL %d\n", v);
    printf("poll: %s\n", pollbits(u));
    TRY("send unconnected", send(u, "x", 1, 0));
    TRY("recv nonblocking", recv(u, buf, sizeof buf, MSG_DONTWAIT));
    TRY("listen", listen(u, 1));
    TRY("accept", accept(u, NULL, NULL));
    TRY("shutdown unconnected", shutdown(u, SHUT_RD));
    TRY("getpeername", getpeername(u, (void *)buf, &vn));
    TRY("socket udp/tcp proto", socket(AF_INET, SOCK_DGRAM, IPPROTO_TCP));
    close(u);

    printf("-- sendto and recvfrom\n");
    int a = bound(), b = bound();
    struct sockaddr_in to = lo(port_of(b));
    TRY("sendto short address", sendto(a, "x", 1, 0, (void *)&to, 4));
    TRY("sendto efault address", syscall(SYS_sendto, a, "x", 1, 0, (void *)1, sizeof to));
    TRY("sendto efault data", syscall(SYS_sendto, a, (void *)1, 1, 0, &to, sizeof to));
    TRY("sendto first", sendto(a, "first", 5, 0, (void *)&to, sizeof to));
    TRY("sendto second", sendto(a, "second!", 7, 0, (void *)&to, sizeof to));
    TRY("sendto empty", sendto(a, "", 0, 0, (void *)&to, sizeof to));
    printf("poll receiver: %s\n", pollbits(b));
    int avail = -1;
    ioctl(b, FIONREAD, &avail);
    printf("FIONREAD %d\n", avail);
    struct sockaddr_in from;
    socklen_t fl = sizeof from;
    memset(buf, 0, sizeof buf);
    TRY("recvfrom peek", recvfrom(b, buf, 3, MSG_PEEK, (void *)&from, &fl));
    printf("peeked %s, source is the sender: %s, len %d\n", buf,
           ntohs(from.sin_port) == port_of(a) && from.sin_addr.s_addr == htonl(INADDR_LOOPBACK)
               ? "yes"
               : "no",
           fl);
    memset(buf, 0, sizeof buf);
    TRY("recv whole", recv(b, buf, sizeof buf, 0));
    printf("got %s\n", buf);
    TRY("recv truncated with MSG_TRUNC", recv(b, buf, 3, MSG_TRUNC));
    TRY("recv empty datagram", recv(b, buf, sizeof buf, 0));
    TRY("recv nothing", recv(b, buf, sizeof buf, MSG_DONTWAIT));
    sendto(a, "0123456789", 10, 0, (void *)&to, sizeof to);
    struct iovec iov = {buf, 4};
    struct msghdr m = {.msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iov, .msg_iovlen = 1};
    TRY("recvmsg into 4", recvmsg(b, &m, 0));
    printf("msg_flags MSG_TRUNC %d namelen %d\n", !!(m.msg_flags & MSG_TRUNC), m.msg_namelen);
    char big[70000];
    memset(big, 'b', sizeof big);
    TRY("sendto 65507", sendto(a, big, 65507, 0, (void *)&to, sizeof to));
    TRY("sendto 65508", sendto(a, big, 65508, 0, (void *)&to, sizeof to));
    TRY("recv 65507", recv(b, big, sizeof big, 0));
    struct iovec two[2] = {{(void *)"ab", 2}, {(void *)"cd", 2}};
    struct msghdr sm = {.msg_name = &to, .msg_namelen = sizeof to, .msg_iov = two, .msg_iovlen = 2};
    TRY("sendmsg gathered", sendmsg(a, &sm, 0));
    memset(buf, 0, sizeof buf);
    TRY("recv gathered", recv(b, buf, sizeof buf, 0));
    printf("got %s\n", buf);

    printf("-- connected\n");
    int c = bound();
    struct sockaddr_in ta = lo(port_of(a));
    TRY("connect", connect(b, (void *)&ta, sizeof ta));
    printf("peer is a: %s\n", ({
               struct sockaddr_in p;
               socklen_t pl = sizeof p;
               getpeername(b, (void *)&p, &pl);
               ntohs(p.sin_port) == port_of(a) ? "yes" : "no";
           }));
    TRY("send connected", send(b, "to a", 4, 0));
    memset(buf, 0, sizeof buf);
    TRY("a receives", recv(a, buf, sizeof buf, 0));
    TRY("c sends to connected b", sendto(c, "stranger", 8, 0, (void *)&to, sizeof to));
    TRY("a sends to connected b", sendto(a, "friend", 6, 0, (void *)&to, sizeof to));
    memset(buf, 0, sizeof buf);
    TRY("b receives only from a", recv(b, buf, sizeof buf, 0));
    printf("got %s\n", buf);
    TRY("nothing else", recv(b, buf, sizeof buf, MSG_DONTWAIT));
    TRY("sendto another address on a connected socket", sendto(b, "x", 1, 0, (void *)&to, sizeof to));
    recv(b, buf, sizeof buf, MSG_DONTWAIT);
    struct sockaddr unspec = {.sa_family = AF_UNSPEC};
    TRY("disconnect", connect(b, &unspec, sizeof unspec));
    TRY("getpeername after disconnect", getpeername(b, (void *)buf, &vn));
    TRY("c sends to disconnected b", sendto(c, "hello", 5, 0, (void *)&to, sizeof to));
    // b was bound to port 0: Linux gives the chosen port up on disconnect, so nothing arrives.
    printf("b's port after disconnect: %d\n", port_of(b));
    TRY("b receives from c now", recv(b, buf, sizeof buf, MSG_DONTWAIT));
    struct sockaddr_in fixed = lo(port_of(c) == 40000 ? 40001 : 40000);
    int f1 = socket(AF_INET, SOCK_DGRAM, 0);
    if (bind(f1, (void *)&fixed, sizeof fixed) == 0) {
        connect(f1, (void *)&ta, sizeof ta);
        connect(f1, &unspec, sizeof unspec);
        printf("a port chosen by the caller stays: %s\n", port_of(f1) == ntohs(fixed.sin_port) ? "yes" : "no");
    } else {
        printf("a port chosen by the caller stays: yes\n");
    }
    close(f1);

    printf("-- port unreachable\n");
    int gone = bound();
    struct sockaddr_in nobody = lo(port_of(gone));
    close(gone);
    TRY("unconnected sendto nobody", sendto(c, "x", 1, 0, (void *)&nobody, sizeof nobody));
    TRY("unconnected sendto nobody again", sendto(c, "x", 1, 0, (void *)&nobody, sizeof nobody));
    TRY("connect to nobody", connect(c, (void *)&nobody, sizeof nobody));
    TRY("send", send(c, "x", 1, 0));
    usleep(10000);
    printf("poll: %s\n", pollbits(c));
    TRY("send again", send(c, "x", 1, 0));
    TRY("send third", send(c, "x", 1, 0));
    usleep(10000);
    TRY("recv", recv(c, buf, sizeof buf, MSG_DONTWAIT));
    TRY("recv again", recv(c, buf, sizeof buf, MSG_DONTWAIT));

    printf("-- bind conflicts\n");
    int d = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in ap = lo(port_of(a));
    TRY("bind a's port", bind(d, (void *)&ap, sizeof ap));
    int one = 1;
    int e1 = socket(AF_INET, SOCK_DGRAM, 0), e2 = socket(AF_INET, SOCK_DGRAM, 0);
    setsockopt(e1, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    setsockopt(e2, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in ea = lo(0);
    bind(e1, (void *)&ea, sizeof ea);
    ea.sin_port = htons(port_of(e1));
    TRY("bind shared port with SO_REUSEADDR", bind(e2, (void *)&ea, sizeof ea));

    printf("-- a blocking receive across fork\n");
    int r = bound();
    struct sockaddr_in ra = lo(port_of(r));
    if (fork() == 0) {
        usleep(20000);
        sendto(a, "late", 4, 0, (void *)&ra, sizeof ra);
        _exit(0);
    }
    memset(buf, 0, sizeof buf);
    TRY("blocking recv", recv(r, buf, sizeof buf, 0));
    printf("got %s\n", buf);
    int st;
    wait(&st);
    TRY("shutdown connected", shutdown(b, SHUT_RD));
    connect(r, (void *)&ap, sizeof ap);
    TRY("shutdown connected RD", shutdown(r, SHUT_RD));
    printf("poll after SHUT_RD: %s\n", pollbits(r));
    TRY("recv after SHUT_RD", recv(r, buf, sizeof buf, 0));
    return 0;
}
