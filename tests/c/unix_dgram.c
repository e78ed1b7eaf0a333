/* Unix datagram sockets made by socket(2): bound to paths, abstract and automatic names,
 * sendto/recvfrom with the sender's address, connect(2) and its rules (a socket connected to
 * another refuses third parties: EPERM), a closed peer (ECONNREFUSED), queue limits (EAGAIN),
 * MSG_PEEK/MSG_TRUNC, SCM_RIGHTS and SCM_CREDENTIALS, shutdown, poll, and the error paths. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static const char *en(int e) {
    switch (e) {
    case EPERM: return "EPERM"; case ENOENT: return "ENOENT"; case EAGAIN: return "EAGAIN";
    case EINVAL: return "EINVAL"; case ENOTCONN: return "ENOTCONN"; case ECONNREFUSED: return "ECONNREFUSED";
    case EPROTOTYPE: return "EPROTOTYPE"; case EMSGSIZE: return "EMSGSIZE"; case EADDRINUSE: return "EADDRINUSE";
    case EOPNOTSUPP: return "EOPNOTSUPP"; case EPIPE: return "EPIPE"; case EFAULT: return "EFAULT";
    case EBADF: return "EBADF"; case EISCONN: return "EISCONN"; case ENOTSOCK: return "ENOTSOCK";
    default: return "other";
    }
}
#define TRY(what, call) do { errno = 0; long r_ = (long)(call); \
    if (r_ < 0) printf("%s = -1 %s\n", what, en(errno)); else printf("%s = %ld\n", what, r_); } while (0)

static socklen_t path_addr(struct sockaddr_un *a, const char *p) {
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    strcpy(a->sun_path, p);
    return offsetof(struct sockaddr_un, sun_path) + strlen(p) + 1;
}

static socklen_t abstract_addr(struct sockaddr_un *a, const char *p) {
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    memcpy(a->sun_path + 1, p, strlen(p));
    return offsetof(struct sockaddr_un, sun_path) + 1 + strlen(p);
}

static void show_from(const char *what, struct sockaddr_un *from, socklen_t len) {
    if (len <= offsetof(struct sockaddr_un, sun_path))
        printf("  %s: address length %u (unnamed)\n", what, (unsigned)len);
    else if (from->sun_path[0] == 0)
        printf("  %s: abstract, length %u\n", what, (unsigned)len);
    else
        printf("  %s: path %s, length %u\n", what, from->sun_path, (unsigned)len);
}

int main(void) {
    char buf[256];
    struct sockaddr_un a, b, from;
    socklen_t fl;
    unlink("/tmp/dg-a");
    unlink("/tmp/dg-b");
    unlink("/tmp/dg-s");

    int sa = socket(AF_UNIX, SOCK_DGRAM, 0);
    int sb = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    int sc = socket(AF_UNIX, SOCK_DGRAM, 0);
    printf("sockets %d\n", sa >= 0 && sb >= 0 && sc >= 0);
    socklen_t la = path_addr(&a, "/tmp/dg-a");
    TRY("bind a to a path", bind(sa, (struct sockaddr *)&a, la));
    TRY("bind a again", bind(sa, (struct sockaddr *)&a, la));
    socklen_t lb = abstract_addr(&b, "runrs-dgram-test-b");
    TRY("bind b to an abstract name", bind(sb, (struct sockaddr *)&b, lb));
    TRY("bind c to b's name", bind(sc, (struct sockaddr *)&b, lb));
    int type = 0; socklen_t tl = sizeof type;
    TRY("getsockopt SO_TYPE", getsockopt(sa, SOL_SOCKET, SO_TYPE, &type, &tl));
    printf("  type %d\n", type);

    // An unbound sender: no source address.
    TRY("c sendto a", sendto(sc, "hello", 5, 0, (struct sockaddr *)&a, la));
    fl = sizeof from;
    TRY("a recvfrom", recvfrom(sa, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl));
    show_from("from", &from, fl);
    // A bound sender.
    TRY("b sendto a", sendto(sb, "from-b", 6, 0, (struct sockaddr *)&a, la));
    fl = sizeof from;
    TRY("a recvfrom", recvfrom(sa, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl));
    show_from("from", &from, fl);
    printf("  data %.6s\n", buf);
    TRY("a sendto b (abstract)", sendto(sa, "to-b", 4, 0, (struct sockaddr *)&b, lb));
    fl = sizeof from;
    TRY("b recvfrom", recvfrom(sb, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl));
    show_from("from", &from, fl);
    TRY("b recv, nothing (nonblocking)", recv(sb, buf, sizeof buf, 0));

    // Message boundaries, MSG_PEEK, MSG_TRUNC, FIONREAD.
    TRY("c sendto a 10", sendto(sc, "0123456789", 10, 0, (struct sockaddr *)&a, la));
    TRY("c sendto a 3", sendto(sc, "abc", 3, 0, (struct sockaddr *)&a, la));
    int n = -1;
    TRY("FIONREAD", ioctl(sa, FIONREAD, &n));
    printf("  next datagram %d bytes\n", n);
    TRY("a peek 4", recv(sa, buf, 4, MSG_PEEK));
    TRY("a recv 4 (cut)", recv(sa, buf, 4, 0));
    printf("  got %.4s\n", buf);
    TRY("a recv MSG_TRUNC", recv(sa, buf, 1, MSG_TRUNC));
    // Zero-length datagrams are datagrams.
    TRY("c sendto a 0 bytes", sendto(sc, "", 0, 0, (struct sockaddr *)&a, la));
    TRY("a recv (empty datagram)", recv(sa, buf, sizeof buf, 0));

    // Errors of sendto.
    struct sockaddr_un missing;
    socklen_t lm = path_addr(&missing, "/tmp/dg-missing");
    TRY("sendto a missing path", sendto(sc, "x", 1, 0, (struct sockaddr *)&missing, lm));
    socklen_t lma = abstract_addr(&missing, "runrs-dgram-nobody");
    TRY("sendto an unbound abstract name", sendto(sc, "x", 1, 0, (struct sockaddr *)&missing, lma));
    TRY("send without an address", send(sc, "x", 1, 0));
    int st = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un s;
    socklen_t ls = path_addr(&s, "/tmp/dg-s");
    bind(st, (struct sockaddr *)&s, ls);
    listen(st, 1);
    TRY("sendto a stream socket's path", sendto(sc, "x", 1, 0, (struct sockaddr *)&s, ls));
    static char big[300000];
    TRY("sendto too big", sendto(sc, big, sizeof big, 0, (struct sockaddr *)&a, la));
    TRY("sendto a bad buffer", sendto(sc, (void *)8, 4, 0, (struct sockaddr *)&a, la));
    TRY("sendto a bad address", sendto(sc, "x", 1, 0, (void *)8, la));
    TRY("listen", listen(sa, 1));
    TRY("accept", accept(sa, NULL, NULL));
    TRY("getpeername unconnected", getpeername(sa, (struct sockaddr *)&from, &fl));

    // connect: the default destination; a connected receiver refuses others.
    TRY("c connect a", connect(sc, (struct sockaddr *)&a, la));
    TRY("c send", send(sc, "conn", 4, 0));
    TRY("a recv", recv(sa, buf, sizeof buf, 0));
    fl = sizeof from;
    TRY("c getpeername", getpeername(sc, (struct sockaddr *)&from, &fl));
    show_from("peer", &from, fl);
    TRY("a connect b", connect(sa, (struct sockaddr *)&b, lb));
    TRY("c send to a (connected to b)", send(sc, "x", 1, 0));
    TRY("b sendto a", sendto(sb, "ok", 2, 0, (struct sockaddr *)&a, la));
    TRY("a recv", recv(sa, buf, sizeof buf, 0));
    struct sockaddr unspec = { .sa_family = AF_UNSPEC };
    TRY("a connect AF_UNSPEC", connect(sa, &unspec, sizeof unspec));
    TRY("c send to a (unconnected again)", send(sc, "y", 1, 0));
    TRY("a recv", recv(sa, buf, sizeof buf, 0));

    // Credentials and files.
    int on = 1;
    TRY("SO_PASSCRED", setsockopt(sa, SOL_SOCKET, SO_PASSCRED, &on, sizeof on));
    int p[2];
    pipe(p);
    union { char c[CMSG_SPACE(sizeof(int))]; struct cmsghdr h; } cu;
    struct iovec io = { "f", 1 };
    struct msghdr m = { .msg_iov = &io, .msg_iovlen = 1, .msg_control = cu.c, .msg_controllen = sizeof cu.c };
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET; c->cmsg_type = SCM_RIGHTS; c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &p[1], sizeof(int));
    TRY("c sendmsg SCM_RIGHTS", sendmsg(sc, &m, 0));
    char rc[256];
    struct msghdr r = { .msg_iov = &(struct iovec){ buf, sizeof buf }, .msg_iovlen = 1, .msg_control = rc, .msg_controllen = sizeof rc };
    TRY("a recvmsg", recvmsg(sa, &r, 0));
    int got_cred = 0, got_fd = -1;
    for (struct cmsghdr *h = CMSG_FIRSTHDR(&r); h; h = CMSG_NXTHDR(&r, h)) {
        if (h->cmsg_type == SCM_CREDENTIALS) {
            struct ucred u; memcpy(&u, CMSG_DATA(h), sizeof u);
            got_cred = u.pid == getpid() && u.uid == geteuid();
        }
        if (h->cmsg_type == SCM_RIGHTS) memcpy(&got_fd, CMSG_DATA(h), sizeof got_fd);
    }
    printf("  credentials %d, a file %d, flags %d\n", got_cred, got_fd >= 0, r.msg_flags);
    TRY("write through the passed pipe", write(got_fd, "z", 1));
    TRY("read it", read(p[0], buf, 1));

    // Queue limits: a non-blocking sender gets EAGAIN once the receiver's queue is full.
    int q = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    TRY("q connect b", connect(q, (struct sockaddr *)&b, lb));
    int sent = 0;
    while (send(q, "m", 1, 0) == 1 && sent < 100000) sent++;
    printf("filled the queue: %d, then %s\n", sent > 0 && sent < 100000, en(errno));
    struct pollfd pf = { q, POLLOUT, 0 };
    TRY("poll a full peer", poll(&pf, 1, 0));
    printf("  revents %#x\n", pf.revents);
    TRY("b recv one", recv(sb, buf, sizeof buf, 0));
    TRY("q send again", send(q, "m", 1, 0));
    struct pollfd pb = { sb, POLLIN | POLLOUT, 0 };
    TRY("poll b", poll(&pb, 1, 0));
    printf("  revents %#x\n", pb.revents);

    // A closed peer.
    close(sb);
    TRY("q send to a closed peer", send(q, "m", 1, 0));
    TRY("q send again", send(q, "m", 1, 0));
    TRY("sendto the closed socket's name", sendto(sa, "x", 1, 0, (struct sockaddr *)&b, lb));

    // shutdown.
    TRY("shutdown a SHUT_RD", shutdown(sa, SHUT_RD));
    TRY("a recv after SHUT_RD", recv(sa, buf, sizeof buf, MSG_DONTWAIT));
    TRY("c send to a (shut down)", sendto(sc, "x", 1, 0, (struct sockaddr *)&a, la));
    TRY("shutdown c SHUT_WR", shutdown(sc, SHUT_WR));
    TRY("c send after SHUT_WR", send(sc, "x", 1, MSG_NOSIGNAL));

    // Autobind and getsockname.
    int d = socket(AF_UNIX, SOCK_DGRAM, 0);
    struct sockaddr_un fam = { .sun_family = AF_UNIX };
    TRY("autobind", bind(d, (struct sockaddr *)&fam, sizeof(sa_family_t)));
    fl = sizeof from;
    TRY("getsockname", getsockname(d, (struct sockaddr *)&from, &fl));
    printf("  autobound: abstract %d, length %u\n", from.sun_path[0] == 0, (unsigned)fl);
    fl = sizeof from;
    TRY("getsockname a", getsockname(sa, (struct sockaddr *)&from, &fl));
    show_from("name", &from, fl);
    unlink("/tmp/dg-a");
    unlink("/tmp/dg-s");
    return 0;
}
