// SPDX-License-Identifier: Apache-2.0
// Escape attempt: reach host sockets. Usage: sockets STREAM_PATH DGRAM_PATH ABSTRACT TCP UDP
// STREAM_PATH / DGRAM_PATH are pathname Unix sockets a host process listens on (in a host
// directory the guest sees read-only, or in a read-write volume), ABSTRACT the name of a host
// abstract Unix socket (without the leading NUL), TCP / UDP ports the host listens on at
// 127.0.0.1. The sandbox has its own Unix namespace and loopback: connects are refused
// (ECONNREFUSED), and tests/escape.rs checks its listeners saw nothing.
#include "escape.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>

static socklen_t unix_addr(struct sockaddr_un *a, const char *path, int abstract) {
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    size_t n = strlen(path);
    if (n > sizeof a->sun_path - 2) n = sizeof a->sun_path - 2;
    memcpy(a->sun_path + !!abstract, path, n);
    return offsetof(struct sockaddr_un, sun_path) + n + !!abstract + !abstract;
}

static void connect_unix(int type, const char *tname, const char *path, int abstract) {
    struct sockaddr_un a;
    socklen_t len = unix_addr(&a, path, abstract);
    int s = socket(AF_UNIX, type, 0);
    int r = s < 0 ? -1 : connect(s, (struct sockaddr *)&a, len);
    must_fail(r, "connect %s to the host's %s Unix socket", tname, abstract ? "abstract" : "pathname");
    // Say who we are, so that a host listener that got a connection can tell.
    if (r == 0) send(s, "ESCAPED\n", 8, MSG_NOSIGNAL);
    if (s >= 0) close(s);
}

static void sendto_unix(const char *path, int abstract) {
    struct sockaddr_un a;
    socklen_t len = unix_addr(&a, path, abstract);
    int s = socket(AF_UNIX, SOCK_DGRAM, 0);
    long r = s < 0 ? -1 : sendto(s, "ESCAPED\n", 8, 0, (struct sockaddr *)&a, len);
    must_fail(r, "sendto the host's %s datagram Unix socket", abstract ? "abstract" : "pathname");
    if (s >= 0) close(s);
}

static void connect_inet(int family, const char *addr, int port) {
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t len;
    if (family == AF_INET) {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        a->sin_port = htons(port);
        inet_pton(AF_INET, addr, &a->sin_addr);
        len = sizeof *a;
    } else {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons(port);
        inet_pton(AF_INET6, addr, &a->sin6_addr);
        len = sizeof *a;
    }
    int s = socket(family, SOCK_STREAM, 0);
    setup(s >= 0, "socket(AF_INET*)");
    int r = connect(s, (struct sockaddr *)&ss, len);
    must_fail(r, "connect to the host's TCP port at %s", addr);
    if (r == 0) send(s, "ESCAPED\n", 8, MSG_NOSIGNAL);
    close(s);
}

int main(int argc, char **argv) {
    setup(argc == 6, "usage: sockets STREAM_PATH DGRAM_PATH ABSTRACT TCP UDP");
    const char *spath = argv[1], *dpath = argv[2], *abs = argv[3];
    int tcp = atoi(argv[4]), udp = atoi(argv[5]);
    struct stat st;
    // The socket files are visible (the root is the host's), as files only.
    setup(stat(spath, &st) == 0, "stat %s", spath);
    judge(S_ISSOCK(st.st_mode), "a socket file", "the host's socket shows as");
    int fd = open(spath, O_RDWR);
    must_fail(fd, "open() the host's Unix socket file");
    if (fd >= 0) close(fd);
    connect_unix(SOCK_STREAM, "SOCK_STREAM", spath, 0);
    connect_unix(SOCK_SEQPACKET, "SOCK_SEQPACKET", spath, 0);
    sendto_unix(dpath, 0);
    connect_unix(SOCK_DGRAM, "SOCK_DGRAM", dpath, 0);
    connect_unix(SOCK_STREAM, "SOCK_STREAM", abs, 1);
    sendto_unix(abs, 1);
    // Binding the host's abstract name is the sandbox's own business.
    struct sockaddr_un a;
    socklen_t len = unix_addr(&a, abs, 1);
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    inside(bind(s, (struct sockaddr *)&a, len), "bind the host's abstract name");
    close(s);
    connect_inet(AF_INET, "127.0.0.1", tcp);
    connect_inet(AF_INET6, "::ffff:127.0.0.1", tcp);
    connect_inet(AF_INET6, "::1", tcp);
    connect_inet(AF_INET, "127.0.0.2", tcp);
    connect_inet(AF_INET, "0.0.0.0", tcp);
    // UDP: the send itself succeeds (as under Linux with nobody listening); the host checks
    // that nothing arrived.
    struct sockaddr_in u = {.sin_family = AF_INET, .sin_port = htons(udp)};
    inet_pton(AF_INET, "127.0.0.1", &u.sin_addr);
    s = socket(AF_INET, SOCK_DGRAM, 0);
    inside(sendto(s, "ESCAPED\n", 8, 0, (struct sockaddr *)&u, sizeof u),
           "sendto the host's UDP port at 127.0.0.1");
    close(s);
    return finish();
}
