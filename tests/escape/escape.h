// SPDX-License-Identifier: Apache-2.0
// Shared helpers of the escape guests (tests/escape.rs runs them under `runrs do` only).
//
// Each guest makes a series of attempts to reach the host and prints one line per attempt:
//   "<attempt>: contained (<ERRNO or what was seen>)"  the sandbox stopped it or kept it inside,
//   "<attempt>: allowed inside the sandbox"             it succeeded, but on the sandbox's own
//                                                        copy of things (overlay, own namespace):
//                                                        tests/escape.rs checks the host side,
//   "ESCAPED: <attempt> ..."                             it reached something it must not.
// A guest exits 0 only if nothing escaped.
#ifndef ESCAPE_H
#define ESCAPE_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int escapes;

static const char *ename(int e) {
    const char *n = strerrorname_np(e);
    return n ? n : "E?";
}

static void vline(const char *fmt, va_list ap) {
    vprintf(fmt, ap);
    fflush(stdout);
}

// An attempt that must fail: r == -1 is contained, anything else escaped.
__attribute__((unused, format(printf, 2, 3))) static void must_fail(long r, const char *fmt, ...) {
    int e = errno;
    va_list ap;
    va_start(ap, fmt);
    if (r == -1) {
        vline(fmt, ap);
        printf(": contained (%s)\n", ename(e));
    } else {
        printf("ESCAPED: ");
        vline(fmt, ap);
        printf(" succeeded (%ld)\n", r);
        escapes++;
    }
    va_end(ap);
    fflush(stdout);
}

// An attempt the sandbox may allow because its effect stays inside (the memory overlay, the
// sandbox's own namespaces): the host side is checked by tests/escape.rs.
__attribute__((unused, format(printf, 2, 3))) static void inside(long r, const char *fmt, ...) {
    int e = errno;
    va_list ap;
    va_start(ap, fmt);
    vline(fmt, ap);
    if (r == -1)
        printf(": contained (%s)\n", ename(e));
    else
        printf(": allowed inside the sandbox\n");
    va_end(ap);
    fflush(stdout);
}

// A condition the guest can judge itself: ok is contained, else escaped. `seen` says what.
__attribute__((unused, format(printf, 3, 4))) static void judge(int ok, const char *seen,
                                                                 const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    if (ok) {
        vline(fmt, ap);
        printf(": contained (%s)\n", seen);
    } else {
        printf("ESCAPED: ");
        vline(fmt, ap);
        printf(" (%s)\n", seen);
        escapes++;
    }
    va_end(ap);
    fflush(stdout);
}

// A setup step the attempts rely on: if it fails the test means nothing, so that fails too.
__attribute__((unused, format(printf, 2, 3))) static void setup(int ok, const char *fmt, ...) {
    int e = errno;
    va_list ap;
    va_start(ap, fmt);
    if (!ok) {
        printf("SETUP FAILED: ");
        vline(fmt, ap);
        printf(" (%s)\n", ename(e));
        fflush(stdout);
        exit(2);
    }
    va_end(ap);
}

// st_dev and st_ino of `path` equal `ref`'s (-1: stat failed).
__attribute__((unused)) static int same_as(const char *path, const struct stat *ref) {
    struct stat st;
    if (stat(path, &st) != 0) return -1;
    return st.st_dev == ref->st_dev && st.st_ino == ref->st_ino;
}

__attribute__((unused)) static int same_fd(int fd, const struct stat *ref) {
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) return -1;
    return st.st_dev == ref->st_dev && st.st_ino == ref->st_ino;
}

__attribute__((unused)) static const char *same_str(int r) {
    return r < 0 ? ename(errno) : r ? "the sandbox's own" : "a different inode";
}

__attribute__((unused)) static int finish(void) {
    fflush(stdout);
    return escapes ? 1 : 0;
}

#endif
