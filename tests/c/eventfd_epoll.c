// SPDX-License-Identifier: Apache-2.0
// Differential test: eventfd (counter, EFD_SEMAPHORE, EFD_NONBLOCK, overflow, bad sizes, poll) and
// epoll (create1/ctl/wait/pwait: ADD/MOD/DEL errors, level and edge triggering, EPOLLONESHOT,
// data round trip, wake-up by a forked child, close removes an entry, nesting, and the errors).
// variants: static static-pie
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define TRY(what, call)                                    \
    do {                                                   \
        errno = 0;                                         \
        long r_ = (long)(call);                            \
        printf("%s: %ld %s\n", what, r_, strerror(errno)); \
    } while (0)

static const char *evbits(uint32_t ev) {
    static char s[64];
    s[0] = 0;
    if (ev & EPOLLIN) strcat(s, "IN ");
    if (ev & EPOLLOUT) strcat(s, "OUT ");
    if (ev & EPOLLHUP) strcat(s, "HUP ");
    if (ev & EPOLLERR) strcat(s, "ERR ");
    if (!s[0]) strcpy(s, "none ");
    s[strlen(s) - 1] = 0;
    return s;
}

static const char *pollbits(short re) {
    return evbits((uint32_t)(re & (POLLIN | POLLOUT | POLLHUP | POLLERR)));
}

static int cmp_ev(const void *a, const void *b) {
    uint64_t x = ((const struct epoll_event *)a)->data.u64;
    uint64_t y = ((const struct epoll_event *)b)->data.u64;
    return x < y ? -1 : x > y;
}

// epoll_wait with timeout 0 (or the given one), events printed sorted by data.u64.
static void wait_show(const char *what, int ep, int maxev, int timeout) {
    struct epoll_event ev[8];
    memset(ev, 0, sizeof ev);
    errno = 0;
    int n = epoll_wait(ep, ev, maxev, timeout);
    int e = errno;
    printf("%s: %d %s", what, n, strerror(e));
    if (n > 0) qsort(ev, n, sizeof ev[0], cmp_ev);
    for (int i = 0; i < n; i++)
        printf(" [%#llx %s]", (unsigned long long)ev[i].data.u64, evbits(ev[i].events));
    printf("\n");
}

static void poll_show(const char *what, int fd) {
    struct pollfd pf = {fd, POLLIN | POLLOUT, 0};
    errno = 0;
    int n = poll(&pf, 1, 0);
    int e = errno;
    printf("poll %s: %d %s %s\n", what, n, strerror(e), pollbits(pf.revents));
}

static int ctl(int ep, int op, int fd, uint32_t events, uint64_t data) {
    struct epoll_event e;
    memset(&e, 0, sizeof e);
    e.events = events;
    e.data.u64 = data;
    return epoll_ctl(ep, op, fd, &e);
}

static void show_status(const char *what, int st) {
    if (WIFEXITED(st)) printf("%s: exited %d\n", what, WEXITSTATUS(st));
    else if (WIFSIGNALED(st)) printf("%s: killed by %s\n", what, sigabbrev_np(WTERMSIG(st)));
    else printf("%s: status %#x\n", what, st);
}

int main(void) {
    for (int fd = 3; fd < 1024; fd++) close(fd);
    uint64_t u;
    char small[4];

    // ---- eventfd ----
    int e = eventfd(0, 0);
    printf("eventfd: %s\n", e >= 0 ? "ok" : strerror(errno));
    printf("flags: nonblock %d cloexec %d accmode O_RDWR %d\n", !!(fcntl(e, F_GETFL) & O_NONBLOCK),
           !!(fcntl(e, F_GETFD) & FD_CLOEXEC), (fcntl(e, F_GETFL) & O_ACCMODE) == O_RDWR);
    poll_show("empty eventfd", e);
    u = 3;
    TRY("write 3", write(e, &u, 8));
    u = 4;
    TRY("write 4", write(e, &u, 8));
    poll_show("eventfd with 7", e);
    u = 0;
    TRY("read", read(e, &u, 8));
    printf("counter %llu\n", (unsigned long long)u);
    poll_show("eventfd after read", e);
    u = 0;
    TRY("write 0", write(e, &u, 8));
    poll_show("after writing 0", e);
    u = 0xffffffffffffffffULL;
    TRY("write 0xffffffffffffffff", write(e, &u, 8));
    TRY("read 4-byte buffer", read(e, small, 4));
    TRY("write 4-byte buffer", write(e, small, 4));
    u = 9;
    write(e, &u, 8);
    uint64_t big[2] = {0, 0};
    TRY("read 16-byte buffer", read(e, big, 16));
    printf("counter %llu\n", (unsigned long long)big[0]);
    u = 2;
    TRY("write 2", write(e, &u, 8));
    poll_show("counter 2", e);
    // The counter is taken before the copy fails: Linux loses it.
    TRY("read bad pointer", syscall(SYS_read, e, (void *)1, 8));
    poll_show("after the failed read", e);
    TRY("write bad pointer", syscall(SYS_write, e, (void *)1, 8));
    poll_show("after the failed write", e);
    u = 5;
    write(e, &u, 8);
    u = 0;
    TRY("read", read(e, &u, 8));
    printf("counter %llu\n", (unsigned long long)u);
    close(e);

    e = eventfd(5, EFD_NONBLOCK | EFD_CLOEXEC);
    printf("flags: nonblock %d cloexec %d\n", !!(fcntl(e, F_GETFL) & O_NONBLOCK),
           !!(fcntl(e, F_GETFD) & FD_CLOEXEC));
    u = 0;
    TRY("read initial", read(e, &u, 8));
    printf("counter %llu\n", (unsigned long long)u);
    TRY("read empty nonblocking", read(e, &u, 8));
    u = 0xfffffffffffffffeULL;
    TRY("write max", write(e, &u, 8));
    poll_show("eventfd at max", e);
    u = 1;
    TRY("write 1 more (would overflow)", write(e, &u, 8));
    u = 0;
    TRY("read", read(e, &u, 8));
    printf("counter is max: %s\n", u == 0xfffffffffffffffeULL ? "yes" : "no");
    close(e);

    e = eventfd(3, EFD_SEMAPHORE | EFD_NONBLOCK);
    for (int i = 0; i < 4; i++) {
        u = 0;
        errno = 0;
        long r = read(e, &u, 8);
        int er = errno;
        printf("semaphore read %d: %ld %s value %llu\n", i, r, strerror(er), (unsigned long long)u);
    }
    u = 2;
    write(e, &u, 8);
    poll_show("semaphore with 2", e);
    close(e);

    TRY("eventfd2 bad flags 2", syscall(SYS_eventfd2, 0, 2));
    TRY("eventfd2 bad flags 0x80000000", syscall(SYS_eventfd2, 0, 0x80000000));

    // A blocking read woken by a forked child's write.
    e = eventfd(0, 0);
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        usleep(30000);
        uint64_t v = 42;
        _exit(write(e, &v, 8) == 8 ? 0 : 1);
    }
    u = 0;
    TRY("blocking read woken by child", read(e, &u, 8));
    printf("counter %llu\n", (unsigned long long)u);
    int status;
    waitpid(c, &status, 0);
    show_status("child", status);
    close(e);

    // ---- epoll ----
    int ep = epoll_create1(0);
    printf("epoll_create1: %s, cloexec %d\n", ep >= 0 ? "ok" : strerror(errno),
           !!(fcntl(ep, F_GETFD) & FD_CLOEXEC));
    int ep2 = epoll_create1(EPOLL_CLOEXEC);
    printf("epoll_create1(EPOLL_CLOEXEC): cloexec %d\n", !!(fcntl(ep2, F_GETFD) & FD_CLOEXEC));
    close(ep2);
    int ep3 = epoll_create(1);
    printf("epoll_create(1): %s\n", ep3 >= 0 ? "ok" : strerror(errno));
    close(ep3);
    TRY("epoll_create(0)", syscall(SYS_epoll_create, 0));
    TRY("epoll_create1 bad flags", syscall(SYS_epoll_create1, 1));
    poll_show("empty epoll fd", ep);
    wait_show("wait empty set, timeout 0", ep, 8, 0);

    e = eventfd(0, EFD_NONBLOCK);
    const uint64_t D = 0x1122334455667788ULL;
    TRY("ADD eventfd", ctl(ep, EPOLL_CTL_ADD, e, EPOLLIN, D));
    TRY("ADD again", ctl(ep, EPOLL_CTL_ADD, e, EPOLLIN, D));
    wait_show("nothing ready", ep, 8, 0);
    u = 1;
    write(e, &u, 8);
    wait_show("level 1", ep, 8, 0);
    wait_show("level 2 (still reported)", ep, 8, 0);
    {
        struct epoll_event ev;
        sigset_t ss;
        sigemptyset(&ss);
        sigaddset(&ss, SIGUSR1);
        memset(&ev, 0, sizeof ev);
        errno = 0;
        int n = epoll_pwait(ep, &ev, 1, 0, &ss);
        int er = errno;
        printf("epoll_pwait: %d %s data %s events %s\n", n, strerror(er),
               ev.data.u64 == D ? "round trip" : "wrong", evbits(ev.events));
        memset(&ev, 0, sizeof ev);
        errno = 0;
        n = epoll_pwait(ep, &ev, 1, 0, NULL);
        er = errno;
        printf("epoll_pwait NULL mask: %d %s\n", n, strerror(er));
        TRY("epoll_pwait sigsetsize 4", syscall(SYS_epoll_pwait, ep, &ev, 1, 0, &ss, 4));
    }
    read(e, &u, 8);
    wait_show("after draining", ep, 8, 0);
    TRY("MOD IN|OUT", ctl(ep, EPOLL_CTL_MOD, e, EPOLLIN | EPOLLOUT, 0x77));
    wait_show("writable eventfd", ep, 8, 0);
    TRY("MOD OUT", ctl(ep, EPOLL_CTL_MOD, e, EPOLLOUT, 0x78));
    write(e, &u, 8);
    wait_show("only OUT asked", ep, 8, 0);
    read(e, &u, 8);
    TRY("DEL", ctl(ep, EPOLL_CTL_DEL, e, 0, 0));
    TRY("DEL again", ctl(ep, EPOLL_CTL_DEL, e, 0, 0));
    TRY("MOD unknown", ctl(ep, EPOLL_CTL_MOD, e, EPOLLIN, 0));
    write(e, &u, 8);
    wait_show("after DEL", ep, 8, 0);
    ctl(ep, EPOLL_CTL_ADD, e, EPOLLIN, 0);
    TRY("DEL with a NULL event", epoll_ctl(ep, EPOLL_CTL_DEL, e, NULL));
    read(e, &u, 8);

    // Two ready files; maxevents 1 gives one of them.
    int p[2];
    pipe(p);
    TRY("ADD eventfd (1)", ctl(ep, EPOLL_CTL_ADD, e, EPOLLIN, 1));
    TRY("ADD pipe read end (2)", ctl(ep, EPOLL_CTL_ADD, p[0], EPOLLIN, 2));
    write(e, &u, 8);
    TRY("write pipe", write(p[1], "ab", 2));
    wait_show("two ready", ep, 8, 0);
    {
        struct epoll_event ev[2];
        int n = epoll_wait(ep, ev, 1, 0);
        printf("maxevents 1: %d\n", n);
    }
    read(e, &u, 8);
    char buf[64];
    read(p[0], buf, sizeof buf);
    wait_show("both drained", ep, 8, 0);
    ctl(ep, EPOLL_CTL_DEL, e, 0, 0);
    ctl(ep, EPOLL_CTL_DEL, p[0], 0, 0);

    // Edge-triggered.
    TRY("ADD pipe EPOLLET", ctl(ep, EPOLL_CTL_ADD, p[0], EPOLLIN | EPOLLET, 0xe7));
    wait_show("ET nothing yet", ep, 8, 0);
    write(p[1], "x", 1);
    wait_show("ET after write", ep, 8, 0);
    wait_show("ET again (not re-reported)", ep, 8, 0);
    read(p[0], buf, sizeof buf);
    wait_show("ET drained", ep, 8, 0);
    write(p[1], "y", 1);
    wait_show("ET after a new write", ep, 8, 0);
    wait_show("ET again", ep, 8, 0);
    read(p[0], buf, sizeof buf);
    ctl(ep, EPOLL_CTL_DEL, p[0], 0, 0);
    TRY("ADD eventfd EPOLLET", ctl(ep, EPOLL_CTL_ADD, e, EPOLLIN | EPOLLET, 0xe8));
    u = 1;
    write(e, &u, 8);
    wait_show("ET eventfd", ep, 8, 0);
    wait_show("ET eventfd again", ep, 8, 0);
    read(e, &u, 8);
    write(e, &u, 8);
    wait_show("ET eventfd after read and write", ep, 8, 0);
    read(e, &u, 8);
    ctl(ep, EPOLL_CTL_DEL, e, 0, 0);

    // One-shot, re-armed with MOD.
    TRY("ADD EPOLLONESHOT", ctl(ep, EPOLL_CTL_ADD, e, EPOLLIN | EPOLLONESHOT, 0x05));
    write(e, &u, 8);
    wait_show("oneshot first", ep, 8, 0);
    wait_show("oneshot disarmed", ep, 8, 0);
    TRY("ADD while disarmed", ctl(ep, EPOLL_CTL_ADD, e, EPOLLIN, 0x05));
    TRY("MOD re-arm", ctl(ep, EPOLL_CTL_MOD, e, EPOLLIN | EPOLLONESHOT, 0x06));
    wait_show("oneshot re-armed", ep, 8, 0);
    wait_show("oneshot disarmed again", ep, 8, 0);
    read(e, &u, 8);
    TRY("DEL disarmed", ctl(ep, EPOLL_CTL_DEL, e, 0, 0));

    // data.u64 round trip with all bits.
    TRY("ADD data ~0", ctl(ep, EPOLL_CTL_ADD, e, EPOLLOUT, 0xffffffffffffffffULL));
    wait_show("data ~0", ep, 8, 0);
    ctl(ep, EPOLL_CTL_DEL, e, 0, 0);

    // A pipe's read end made ready by a forked child; then HUP when the child's end closes.
    close(p[0]);
    close(p[1]);
    pipe(p);
    int go[2];
    pipe(go);
    TRY("ADD pipe", ctl(ep, EPOLL_CTL_ADD, p[0], EPOLLIN, 0xc0));
    fflush(stdout);
    c = fork();
    if (c == 0) {
        close(p[0]);
        close(go[1]);
        usleep(50000);
        write(p[1], "hi", 2);
        // Keep the write end open until the parent has looked.
        read(go[0], buf, 1);
        _exit(0);
    }
    close(p[1]);
    close(go[0]);
    wait_show("blocking wait for the child (2000 ms)", ep, 8, 2000);
    close(go[1]);
    waitpid(c, &status, 0);
    show_status("child", status);
    TRY("read", read(p[0], buf, sizeof buf));
    wait_show("writer gone", ep, 8, 0);

    // Closing the only fd of a file removes its entry.
    close(p[0]);
    wait_show("after close", ep, 8, 0);
    TRY("DEL closed fd", ctl(ep, EPOLL_CTL_DEL, p[0], 0, 0));
    // A dup keeps the file (and its entry) alive.
    pipe(p);
    int d = dup(p[0]);
    TRY("ADD pipe", ctl(ep, EPOLL_CTL_ADD, p[0], EPOLLIN, 0xd0));
    write(p[1], "z", 1);
    close(p[0]);
    wait_show("original closed, dup open", ep, 8, 0);
    close(d);
    wait_show("dup closed too", ep, 8, 0);
    close(p[1]);

    // Nested epoll.
    int inner = epoll_create1(0);
    TRY("ADD eventfd to inner", ctl(inner, EPOLL_CTL_ADD, e, EPOLLIN, 0x11));
    TRY("ADD inner to outer", ctl(ep, EPOLL_CTL_ADD, inner, EPOLLIN, 0x22));
    wait_show("outer, inner idle", ep, 8, 0);
    poll_show("inner idle", inner);
    u = 1;
    write(e, &u, 8);
    poll_show("inner with a ready eventfd", inner);
    wait_show("outer", ep, 8, 0);
    wait_show("inner", inner, 8, 0);
    read(e, &u, 8);
    wait_show("outer after drain", ep, 8, 0);
    ctl(ep, EPOLL_CTL_DEL, inner, 0, 0);
    close(inner);

    // Errors.
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    TRY("wait timeout 0", epoll_wait(ep, &ev, 1, 0));
    TRY("wait maxevents 0", syscall(SYS_epoll_wait, ep, &ev, 0, 0));
    TRY("wait maxevents -1", syscall(SYS_epoll_wait, ep, &ev, -1, 0));
    TRY("wait on an eventfd", syscall(SYS_epoll_wait, e, &ev, 1, 0));
    TRY("wait on fd 999", syscall(SYS_epoll_wait, 999, &ev, 1, 0));
    TRY("ADD itself", ctl(ep, EPOLL_CTL_ADD, ep, EPOLLIN, 0));
    int reg = open("/etc/hostname", O_RDONLY);
    printf("open /etc/hostname: %s\n", reg >= 0 ? "ok" : "failed");
    TRY("ADD a regular file", ctl(ep, EPOLL_CTL_ADD, reg, EPOLLIN, 0));
    close(reg);
    TRY("ADD fd 999", ctl(ep, EPOLL_CTL_ADD, 999, EPOLLIN, 0));
    TRY("ctl on an eventfd", ctl(e, EPOLL_CTL_ADD, ep, EPOLLIN, 0));
    TRY("ctl on fd 999", ctl(999, EPOLL_CTL_ADD, e, EPOLLIN, 0));
    TRY("ctl bad op", ctl(ep, 99, e, EPOLLIN, 0));
    TRY("ctl bad event pointer", syscall(SYS_epoll_ctl, ep, EPOLL_CTL_ADD, e, (void *)1));
    TRY("ADD EPOLLEXCLUSIVE with ONESHOT",
        ctl(ep, EPOLL_CTL_ADD, e, EPOLLIN | EPOLLEXCLUSIVE | EPOLLONESHOT, 0));
    epoll_ctl(ep, EPOLL_CTL_DEL, e, NULL);
    u = 1;
    write(e, &u, 8);
    ctl(ep, EPOLL_CTL_ADD, e, EPOLLIN, 0x99);
    TRY("wait bad events pointer", syscall(SYS_epoll_wait, ep, (void *)1, 1, 0));
    wait_show("still level-ready", ep, 8, 0);
    close(e);
    close(ep);
    return 0;
}
