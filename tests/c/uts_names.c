// SPDX-License-Identifier: Apache-2.0
// Differential test: sethostname and setdomainname (natively in a UTS namespace of the test's
// own, so the host's names never change): uname, gethostname, /proc/sys/kernel/{hostname,
// domainname} follow; EINVAL for a bad length, EFAULT for a bad name.
// variants: static
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#define TRY(what, call)                                                 \
    do {                                                                \
        errno = 0;                                                      \
        long r_ = (long)(call);                                         \
        int e_ = errno;                                                 \
        printf("%s: %ld %s\n", what, r_, r_ < 0 ? strerrorname_np(e_) : "ok"); \
    } while (0)

static void show_file(const char *path) {
    char buf[128] = {0};
    int fd = open(path, O_RDONLY);
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
    if (fd >= 0) close(fd);
    printf("%s: %s", path, n > 0 ? buf : "(unreadable)\n");
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    // Natively (as root) the names below change only in a namespace of our own; in the
    // sandbox unshare is not there, and the names are the sandbox's own anyway.
    (void)unshare(CLONE_NEWUTS);
    TRY("sethostname", sethostname("box-7", 5));
    TRY("setdomainname", setdomainname("example.test", 12));
    struct utsname u;
    uname(&u);
    printf("uname: %s %s\n", u.nodename, u.domainname);
    char h[65] = {0};
    gethostname(h, sizeof h);
    printf("gethostname: %s\n", h);
    show_file("/proc/sys/kernel/hostname");
    show_file("/proc/sys/kernel/domainname");
    char long_name[80];
    memset(long_name, 'x', sizeof long_name);
    TRY("sethostname 65 bytes", sethostname(long_name, 65));
    TRY("sethostname 64 bytes", sethostname(long_name, 64));
    TRY("sethostname negative length", syscall(SYS_sethostname, "a", -1));
    TRY("sethostname bad pointer", syscall(SYS_sethostname, (void *)1, 3));
    TRY("setdomainname bad pointer", syscall(SYS_setdomainname, (void *)1, 3));
    uname(&u);
    printf("nodename length %zu\n", strlen(u.nodename));
    TRY("sethostname empty", sethostname("", 0));
    uname(&u);
    printf("empty nodename: [%s]\n", u.nodename);
    return 0;
}
