// SPDX-License-Identifier: Apache-2.0
// Differential test: RFC 3542 ancillary data on UDP over ::1: IPV6_HOPLIMIT and IPV6_TCLASS
// sent with sendmsg and received (IPV6_RECVHOPLIMIT, IPV6_RECVTCLASS) in the order Linux gives
// them, into control buffers too small for both (MSG_CTRUNC and the cut lengths), and EINVAL
// for an out-of-range hop limit.
// variants: static
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void send_with(int fd, struct sockaddr_in6 *to, int hop, int tclass) {
    char ctl[CMSG_SPACE(sizeof(int)) * 2];
    memset(ctl, 0, sizeof ctl);
    struct iovec iov = {(void *)"ping", 4};
    struct msghdr m = {.msg_name = to, .msg_namelen = sizeof *to, .msg_iov = &iov, .msg_iovlen = 1};
    size_t len = 0;
    struct cmsghdr *c = (struct cmsghdr *)ctl;
    if (hop != -2) {
        c->cmsg_level = IPPROTO_IPV6;
        c->cmsg_type = IPV6_HOPLIMIT;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &hop, sizeof hop);
        len += CMSG_SPACE(sizeof(int));
        c = (struct cmsghdr *)(ctl + len);
    }
    if (tclass != -2) {
        c->cmsg_level = IPPROTO_IPV6;
        c->cmsg_type = IPV6_TCLASS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &tclass, sizeof tclass);
        len += CMSG_SPACE(sizeof(int));
    }
    m.msg_control = len ? ctl : NULL;
    m.msg_controllen = len;
    errno = 0;
    long r = sendmsg(fd, &m, 0);
    int e = errno;
    printf("sendmsg hop %d tclass %d: %ld %s\n", hop, tclass, r, r < 0 ? strerrorname_np(e) : "ok");
}

static void recv_into(int fd, size_t space) {
    char buf[16], ctl[256];
    memset(ctl, 0xaa, sizeof ctl);
    struct iovec iov = {buf, sizeof buf};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = space ? ctl : NULL,
                       .msg_controllen = space};
    long r = recvmsg(fd, &m, 0);
    printf("recvmsg into %zu: %ld, controllen %zu, MSG_CTRUNC %d\n", space, r,
           (size_t)m.msg_controllen, !!(m.msg_flags & MSG_CTRUNC));
    size_t at = 0;
    while (at + sizeof(struct cmsghdr) <= m.msg_controllen) {
        struct cmsghdr *c = (struct cmsghdr *)(ctl + at);
        int v = -1;
        if (c->cmsg_len >= CMSG_LEN(sizeof(int))) memcpy(&v, CMSG_DATA(c), sizeof v);
        printf("  cmsg len %zu level %d type %d value %d\n", (size_t)c->cmsg_len, c->cmsg_level,
               c->cmsg_type, v);
        at += CMSG_SPACE(c->cmsg_len - CMSG_LEN(0));
    }
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    int r = socket(AF_INET6, SOCK_DGRAM, 0), s = socket(AF_INET6, SOCK_DGRAM, 0);
    struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    bind(r, (void *)&a, sizeof a);
    socklen_t n = sizeof a;
    getsockname(r, (void *)&a, &n);
    int one = 1, v = -1;
    socklen_t vn = sizeof v;
    getsockopt(r, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &v, &vn);
    printf("IPV6_RECVHOPLIMIT default %d\n", v);
    setsockopt(r, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &one, sizeof one);
    setsockopt(r, IPPROTO_IPV6, IPV6_RECVTCLASS, &one, sizeof one);
    send_with(s, &a, 2, 0x20);
    recv_into(r, 256);
    send_with(s, &a, -1, -1);
    recv_into(r, 256);
    int hops = 7;
    setsockopt(s, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &hops, sizeof hops);
    send_with(s, &a, -2, -2);
    recv_into(r, CMSG_SPACE(sizeof(int)));
    send_with(s, &a, 3, -2);
    recv_into(r, CMSG_SPACE(sizeof(int)) + CMSG_LEN(0));
    send_with(s, &a, 3, -2);
    recv_into(r, CMSG_LEN(0) + 1);
    send_with(s, &a, 3, -2);
    recv_into(r, 4);
    send_with(s, &a, 3, -2);
    recv_into(r, 0);
    send_with(s, &a, 256, -2);
    send_with(s, &a, -2, -3);
    return 0;
}
