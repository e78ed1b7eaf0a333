// SPDX-License-Identifier: Apache-2.0
// The raw cost of the stop a seccomp-notification platform would pay: a tracee (traced with
// PTRACE_SEIZE, as a stub is) loops on getppid, which its filter turns into a user
// notification; the supervisor, on the same core, waits with poll (as a Sentry that also
// waits for ptrace stops would), then answers with NOTIF_RECV + NOTIF_SEND, with the
// synchronous wake-up flag (Linux 6.6). Prints nanoseconds per round trip, or "-" where the
// host lacks any of it. usage: notif_probe N
#define _GNU_SOURCE
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP 1
#endif
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif

static void pin(int cpu) {
    cpu_set_t s;
    CPU_ZERO(&s);
    CPU_SET(cpu, &s);
    sched_setaffinity(0, sizeof s, &s);
}

// Passes fd over the socket (or receives one when fd < 0).
static int pass_fd(int sock, int fd) {
    char c = 0, cb[CMSG_SPACE(sizeof(int))];
    struct iovec io = {&c, 1};
    struct msghdr m = {0};
    m.msg_iov = &io;
    m.msg_iovlen = 1;
    m.msg_control = cb;
    m.msg_controllen = sizeof cb;
    if (fd >= 0) {
        struct cmsghdr *h = CMSG_FIRSTHDR(&m);
        h->cmsg_level = SOL_SOCKET;
        h->cmsg_type = SCM_RIGHTS;
        h->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(h), &fd, sizeof(int));
        return sendmsg(sock, &m, 0) == 1 ? 0 : -1;
    }
    if (recvmsg(sock, &m, 0) != 1 || !CMSG_FIRSTHDR(&m))
        return -1;
    memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&m)), sizeof(int));
    return fd;
}

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 20000;
    pin(sched_getcpu());
    int sp[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp) != 0)
        return 1;
    pid_t pid = fork();
    if (pid == 0) {
        struct sock_filter f[] = {
            BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
            BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        };
        struct sock_fprog p = {4, f};
        prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        int l = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &p);
        if (l < 0 || pass_fd(sp[1], l) != 0)
            _exit(1);
        close(l);
        char c;
        if (read(sp[1], &c, 1) != 1)
            _exit(1);
        for (long i = 0; i < n + 1; i++)
            syscall(SYS_getppid);
        syscall(SYS_exit_group, 0);
    }
    int l = pass_fd(sp[0], -1);
    int ok = l >= 0 && ptrace(PTRACE_SEIZE, pid, 0, PTRACE_O_EXITKILL) == 0 &&
             ioctl(l, SECCOMP_IOCTL_NOTIF_SET_FLAGS, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP, 0) == 0 &&
             write(sp[0], "x", 1) == 1;
    struct timespec a = {0}, b;
    for (long i = 0; ok && i < n + 1; i++) {
        struct pollfd pf = {l, POLLIN, 0};
        struct seccomp_notif req;
        memset(&req, 0, sizeof req);
        if (poll(&pf, 1, -1) != 1 || ioctl(l, SECCOMP_IOCTL_NOTIF_RECV, &req) != 0) {
            ok = 0;
            break;
        }
        if (i == 0)
            clock_gettime(CLOCK_MONOTONIC, &a);
        struct seccomp_notif_resp resp = {.id = req.id, .val = 1};
        if (ioctl(l, SECCOMP_IOCTL_NOTIF_SEND, &resp) != 0)
            ok = 0;
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    if (!ok) {
        printf("-\n");
        return 0;
    }
    printf("%.1f\n", ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / n);
    return 0;
}
