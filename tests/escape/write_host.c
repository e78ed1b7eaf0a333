// SPDX-License-Identifier: Apache-2.0
// Escape attempt: change host files. Usage: write_host MODE PATH...
// MODE "overlay": PATHs are on the root, whose writes the sandbox may keep in its memory
// (tests/escape.rs checks the host files did not change); MODE "ro": PATHs are on a read-only
// mount (`--overlay none` root or a `:ro` volume), where every change must fail.
#include "escape.h"
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/xattr.h>

static int ro;

static void attempt(long r, const char *what, const char *path) {
    if (ro)
        must_fail(r, "%s %s", what, path);
    else
        inside(r, "%s %s", what, path);
}

static void try_path(const char *path) {
    char other[4096], proc[64];
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    long w = fd < 0 ? -1 : write(fd, "ESCAPED\n", 8);
    if (fd >= 0) close(fd);
    attempt(fd < 0 ? -1 : w, "open(O_CREAT|O_TRUNC)+write", path);
    fd = open(path, O_WRONLY | O_APPEND);
    w = fd < 0 ? -1 : write(fd, "ESCAPED\n", 8);
    if (fd >= 0) close(fd);
    attempt(fd < 0 ? -1 : w, "open(O_APPEND)+write", path);
    // Reopening a read-only fd for writing through /proc/self/fd.
    int rfd = open(path, O_RDONLY);
    if (rfd >= 0) {
        snprintf(proc, sizeof proc, "/proc/self/fd/%d", rfd);
        fd = open(proc, O_WRONLY);
        w = fd < 0 ? -1 : write(fd, "ESCAPED\n", 8);
        if (fd >= 0) close(fd);
        attempt(fd < 0 ? -1 : w, "reopen a read-only fd for writing via /proc/self/fd:", path);
        attempt(ftruncate(rfd, 0), "ftruncate of a read-only fd of", path);
        close(rfd);
    } else {
        attempt(-1, "open(O_RDONLY) for the /proc/self/fd reopen:", path);
    }
    attempt(truncate(path, 1), "truncate", path);
    attempt(chmod(path, 04777), "chmod 4777", path);
    attempt(chown(path, 1234, 1234), "chown 1234:1234", path);
    attempt(utimes(path, NULL), "utimes", path);
    attempt(setxattr(path, "user.runrs-escape", "x", 1, 0), "setxattr", path);
    snprintf(other, sizeof other, "%s.runrs-escape-link", path);
    attempt(link(path, other), "link next to", path);
    snprintf(other, sizeof other, "%s.runrs-escape-dir", path);
    attempt(mkdir(other, 0755), "mkdir next to", path);
    snprintf(other, sizeof other, "%s.runrs-escape-symlink", path);
    attempt(symlink("/", other), "symlink next to", path);
    snprintf(other, sizeof other, "%s.runrs-escape-fifo", path);
    attempt(mknod(other, S_IFIFO | 0644, 0), "mkfifo next to", path);
    snprintf(other, sizeof other, "%s.runrs-escape-dev", path);
    attempt(mknod(other, S_IFCHR | 0666, makedev(1, 3)), "mknod c 1 3 next to", path);
    snprintf(other, sizeof other, "%s.runrs-escape-moved", path);
    attempt(rename(path, other), "rename", path);
    attempt(unlink(other), "unlink the renamed", path);
    attempt(unlink(path), "unlink", path);
}

int main(int argc, char **argv) {
    setup(argc >= 3 && (!strcmp(argv[1], "ro") || !strcmp(argv[1], "overlay")),
          "usage: write_host ro|overlay PATH...");
    ro = !strcmp(argv[1], "ro");
    for (int i = 2; i < argc; i++) try_path(argv[i]);
    return finish();
}
