// SPDX-License-Identifier: Apache-2.0
// Differential test: ancillary data on Unix stream sockets. SCM_RIGHTS passes open files (one or
// several, to another process, over a named socket), a receive stops at the end of the bytes that
// carried files, MSG_CTRUNC when the control buffer is short (the files that do not fit are
// closed), MSG_CMSG_CLOEXEC, MSG_PEEK gives copies, read() drops the files; SCM_CREDENTIALS
// checked when sent and received with SO_PASSCRED; errors EBADF and EINVAL.
// variants: static static-pie
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static int send_fds(int s, const char *data, const int *fds, int n) {
    char buf[CMSG_SPACE(sizeof(int) * 8)];
    memset(buf, 0, sizeof buf);
    struct iovec iov = {(void *)data, strlen(data)};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
    if (n > 0) {
        m.msg_control = buf;
        m.msg_controllen = CMSG_SPACE(sizeof(int) * n);
        struct cmsghdr *c = CMSG_FIRSTHDR(&m);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * n);
        memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
    }
    return sendmsg(s, &m, 0);
}

// Receives up to `cap` bytes with `space` bytes of control buffer; prints what came.
static int recv_fds(const char *what, int s, size_t cap, size_t space, int flags, int *out) {
    char data[256] = {0};
    char ctl[512];
    memset(ctl, 0, sizeof ctl);
    struct iovec iov = {data, cap};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = space ? ctl : NULL,
                       .msg_controllen = space};
    errno = 0;
    int n = recvmsg(s, &m, flags);
    int nfd = 0;
    printf("%s: %d %.*s ctrunc %d", what, n, n > 0 ? n : 0, data, !!(m.msg_flags & MSG_CTRUNC));
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
        if (c->cmsg_type == SCM_RIGHTS) {
            int k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            memcpy(out + nfd, CMSG_DATA(c), k * sizeof(int));
            printf(" rights %d", k);
            nfd += k;
        } else if (c->cmsg_type == SCM_CREDENTIALS) {
            struct ucred u;
            memcpy(&u, CMSG_DATA(c), sizeof u);
            printf(" creds pid_ok %d uid %u gid %u", u.pid == getpid(), u.uid, u.gid);
        }
    }
    if (n < 0) printf(" %s", strerror(errno));
    printf("\n");
    return nfd;
}

static int same_file(int a, int b) {
    struct stat x, y;
    return fstat(a, &x) == 0 && fstat(b, &y) == 0 && x.st_ino == y.st_ino && x.st_dev == y.st_dev;
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    int sv[2], p[2], got[16];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) || pipe(p)) return 1;

    // One file: the received fd is the same pipe.
    printf("send: %d\n", send_fds(sv[0], "one", &p[0], 1));
    int n = recv_fds("recv", sv[1], 100, 64, 0, got);
    if (n == 1) {
        printf("same pipe: %d, new fd: %d\n", same_file(got[0], p[0]), got[0] != p[0]);
        if (write(p[1], "via", 3) != 3) return 2;
        char b[4] = {0};
        printf("read through it: %zd %s\n", read(got[0], b, 3), b);
        printf("cloexec: %d\n", fcntl(got[0], F_GETFD));
        close(got[0]);
    }

    // Three files, room for two: MSG_CTRUNC; with MSG_CMSG_CLOEXEC.
    int three[3] = {p[0], p[1], sv[0]};
    send_fds(sv[0], "three", three, 3);
    n = recv_fds("short control", sv[1], 100, CMSG_LEN(2 * sizeof(int)), MSG_CMSG_CLOEXEC, got);
    for (int i = 0; i < n; i++) {
        printf("  fd %d cloexec %d same %d\n", i, fcntl(got[i], F_GETFD), same_file(got[i], three[i]));
        close(got[i]);
    }

    // No control buffer: the files are dropped, MSG_CTRUNC.
    send_fds(sv[0], "dropped", &p[0], 1);
    recv_fds("no control", sv[1], 100, 0, 0, got);

    // A receive takes plain bytes before the files and stops at the end of their bytes.
    send(sv[0], "aaa", 3, 0);
    send_fds(sv[0], "bbb", &p[1], 1);
    send(sv[0], "ccc", 3, 0);
    n = recv_fds("boundary", sv[1], 100, 64, 0, got);
    if (n == 1) close(got[0]);
    recv_fds("after", sv[1], 100, 64, 0, got);

    // A partial receive of the bytes takes the files with the first part.
    send_fds(sv[0], "xyz", &p[1], 1);
    n = recv_fds("first byte", sv[1], 1, 64, 0, got);
    if (n == 1) close(got[0]);
    recv_fds("rest", sv[1], 100, 64, 0, got);

    // MSG_PEEK gives copies; the receive then gets its own.
    send_fds(sv[0], "peek", &p[0], 1);
    n = recv_fds("peek", sv[1], 100, 64, MSG_PEEK, got);
    int peeked = n == 1 ? got[0] : -1;
    n = recv_fds("then recv", sv[1], 100, 64, 0, got);
    if (n == 1 && peeked >= 0) {
        printf("both the pipe: %d %d\n", same_file(peeked, p[0]), same_file(got[0], p[0]));
        close(peeked), close(got[0]);
    }

    // read() takes the bytes and drops the files.
    send_fds(sv[0], "rd", &p[0], 1);
    char b[8] = {0};
    printf("read: %zd %s\n", read(sv[1], b, sizeof b), b);

    // Errors: a closed fd, a short header, an unknown type.
    int bad = 999;
    errno = 0;
    int r = send_fds(sv[0], "x", &bad, 1);
    printf("bad fd: %d %s\n", r, strerror(errno));
    char ctl[CMSG_SPACE(sizeof(int))];
    memset(ctl, 0, sizeof ctl);
    struct iovec iov = {"x", 1};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl};
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = 8;
    errno = 0;
    r = sendmsg(sv[0], &m, 0);
    printf("short cmsg_len: %d %s\n", r, strerror(errno));
    c->cmsg_len = CMSG_LEN(sizeof(int));
    c->cmsg_type = 77;
    errno = 0;
    r = sendmsg(sv[0], &m, 0);
    printf("unknown type: %d %s\n", r, strerror(errno));
    c->cmsg_level = 99;  // another level: ignored
    printf("other level: %zd\n", sendmsg(sv[0], &m, 0));
    recv_fds("other level recv", sv[1], 100, 64, 0, got);

    // SCM_CREDENTIALS: sent with our own ids, received with SO_PASSCRED.
    int one = 1;
    printf("SO_PASSCRED: %d\n", setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &one, sizeof one));
    char cbuf[CMSG_SPACE(sizeof(struct ucred))];
    memset(cbuf, 0, sizeof cbuf);
    struct msghdr cm = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
    c = CMSG_FIRSTHDR(&cm);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_CREDENTIALS;
    c->cmsg_len = CMSG_LEN(sizeof(struct ucred));
    struct ucred me = {getpid(), getuid(), getgid()};
    memcpy(CMSG_DATA(c), &me, sizeof me);
    printf("send creds: %zd\n", sendmsg(sv[0], &cm, 0));
    recv_fds("recv creds", sv[1], 100, 64, 0, got);
    send(sv[0], "plain", 5, 0);
    recv_fds("creds without asking", sv[1], 100, 64, 0, got);
    one = 0;
    setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &one, sizeof one);

    // To another process over a named socket: a file opened by the parent, read by the child.
    char path[] = "scm_rights_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0 || write(fd, "file contents", 13) != 13 || lseek(fd, 0, SEEK_SET) != 0) return 3;
    unlink(path);
    int l = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path + 1, sizeof a.sun_path - 1, "scm-rights-%d", getpid());
    socklen_t alen = offsetof(struct sockaddr_un, sun_path) + 1 + strlen(a.sun_path + 1);
    if (bind(l, (struct sockaddr *)&a, alen) || listen(l, 1)) return 4;
    pid_t pid = fork();
    if (pid == 0) {
        int s = socket(AF_UNIX, SOCK_STREAM, 0);
        if (connect(s, (struct sockaddr *)&a, alen)) _exit(1);
        int k = recv_fds("child", s, 100, 64, 0, got);
        char buf[32] = {0};
        if (k != 1 || read(got[0], buf, sizeof buf) != 13) _exit(2);
        printf("child read: %s\n", buf);
        _exit(0);
    }
    int conn = accept(l, NULL, NULL);
    send_fds(conn, "file", &fd, 1);
    int st;
    waitpid(pid, &st, 0);
    printf("child status %d, parent offset now %ld\n", WEXITSTATUS(st), (long)lseek(fd, 0, SEEK_CUR));
    return 0;
}
