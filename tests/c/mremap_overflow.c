// SPDX-License-Identifier: Apache-2.0
// Differential test: mremap and friends with lengths and addresses near 2^64 (no wrap-around)
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PG 4096UL

static void show(const char *what, long r) {
    int e = errno;
    if (r < 0 && r > -4096) printf("%s = -1 %s\n", what, strerrorname_np(e));
    else printf("%s = ok\n", what);
}

int main(void) {
    char *p = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char *q = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED || q == MAP_FAILED) return 1;
    unsigned long huge = -(16 * PG);
    show("mremap(p, huge old_len, 1 page, 0)", syscall(SYS_mremap, p, huge, PG, 0, 0));
    show("mremap(p, huge old_len, 2 pages, MAYMOVE)", syscall(SYS_mremap, p, huge, 2 * PG, MREMAP_MAYMOVE, 0));
    show("mremap(p, huge old_len, 1 page, FIXED to q)",
         syscall(SYS_mremap, p, huge, PG, MREMAP_MAYMOVE | MREMAP_FIXED, q));
    show("mremap(top page, 2 pages, 1 page, FIXED to q)",
         syscall(SYS_mremap, -PG, 2 * PG, PG, MREMAP_MAYMOVE | MREMAP_FIXED, q));
    show("mremap(top page, 1 page, 2 pages, MAYMOVE)", syscall(SYS_mremap, -PG, PG, 2 * PG, MREMAP_MAYMOVE, 0));
    show("munmap(p, huge)", syscall(SYS_munmap, p, huge));
    show("mprotect(p, huge, READ)", syscall(SYS_mprotect, p, huge, PROT_READ));
    show("madvise(p, huge, DONTNEED)", syscall(SYS_madvise, p, huge, MADV_DONTNEED));
    show("mmap(top page, 2 pages, FIXED)",
         syscall(SYS_mmap, -PG, 2 * PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
    show("mmap(hint top page, 2 pages)", syscall(SYS_mmap, -PG, 2 * PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == (long)-PG ? -1 : 0);
    p[0] = 1;
    printf("p still usable: %d\n", p[0]);
    return 0;
}
