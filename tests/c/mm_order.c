// SPDX-License-Identifier: Apache-2.0
// Differential test: memory syscalls' check order and failure atomicity (a failed mremap leaves
// the mapping in place; EFAULT before the destination is touched; shrinking across mappings)
// variants: static static-pie
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PG 4096UL
#define RW (PROT_READ | PROT_WRITE)
#define PA (MAP_PRIVATE | MAP_ANONYMOUS)

static void show(const char *what, long r) {
    int e = errno;
    if (r < 0 && r > -4096) printf("%s = -1 %s\n", what, strerrorname_np(e));
    else printf("%s = ok\n", what);
}

int main(void) {
    char *p = mmap(NULL, 2 * PG, RW, PA, -1, 0);
    if (p == MAP_FAILED) return 1;
    munmap(p + PG, PG);
    mmap(p + PG, PG, RW, PA | MAP_FIXED, -1, 0);  // a separate mapping right after p: no growth in place
    p[0] = 7;
    long r = syscall(SYS_mremap, p, PG, 300UL << 30, MREMAP_MAYMOVE, 0);
    show("mremap to 300 GiB", r);
    printf("p still mapped with its data after the failure: %d\n", p[0]);

    char *b = mmap(NULL, PG, RW, PA, -1, 0);
    b[0] = 9;
    char *hole = mmap(NULL, PG, RW, PA, -1, 0);
    munmap(hole, PG);
    show("mremap(unmapped, FIXED to b)", syscall(SYS_mremap, hole, PG, PG, MREMAP_MAYMOVE | MREMAP_FIXED, b));
    printf("b untouched: %d\n", b[0]);

    char *a = mmap(NULL, 2 * PG, RW, PA, -1, 0);
    mprotect(a + PG, PG, PROT_READ);
    r = syscall(SYS_mremap, a, 2 * PG, PG, 0, 0);
    printf("shrink across two mappings returns the old address: %s\n", r == (long)a ? "yes" : "no");
    r = syscall(SYS_mremap, a, PG, PG, 0, 0);
    printf("same size returns the old address: %s\n", r == (long)a ? "yes" : "no");

    show("mprotect(a, 0, bad bits)", syscall(SYS_mprotect, a, 0, 0x100));
    show("mprotect(a+1, 0, READ)", syscall(SYS_mprotect, a + 1, 0, PROT_READ));
    struct rlimit old;
    show("prlimit64(pid 2, resource 100)", syscall(SYS_prlimit64, 2, 100, NULL, &old));
    show("prlimit64(self, resource 100)", syscall(SYS_prlimit64, 0, 100, NULL, &old));
    show("mmap(fd 99, offset 1)", syscall(SYS_mmap, 0, PG, PROT_READ, MAP_PRIVATE, 99, 1));
    show("mmap(fd 99, offset 0)", syscall(SYS_mmap, 0, PG, PROT_READ, MAP_PRIVATE, 99, 0));
    show("mmap(shared anon GROWSDOWN)", syscall(SYS_mmap, 0, PG, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_GROWSDOWN, -1, 0));
    show("mmap(private anon GROWSDOWN)", syscall(SYS_mmap, 0, PG, RW, PA | MAP_GROWSDOWN, -1, 0));
    return 0;
}
