// SPDX-License-Identifier: Apache-2.0
// Differential test: fork's copy of the address space is private to each side, whoever writes
// first and however: writes by the parent or the child after fork, by the kernel into a buffer
// (read(2), clock_gettime), on several generations of forks, after mprotect changes, with
// MADV_DONTNEED on memory still shared, across a vfork after a fork; MAP_SHARED memory stays shared
// and a MAP_PRIVATE file mapping stays private.
// variants: static static-pie
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BIG (1 << 20)

static char global[3 * 4096] = "global";
static volatile int vfork_flag;

static unsigned sum(const unsigned char *p, size_t n) {
    unsigned s = 0;
    for (size_t i = 0; i < n; i++) s = s * 31 + p[i];
    return s;
}

static int wait_ok(pid_t pid) {
    int st;
    if (waitpid(pid, &st, 0) != pid) return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

// The child changes everything it can; the parent checks nothing of its own changed, then
// changes its copy while the child checks its own.
static void both_sides(unsigned char *heap) {
    int go[2], done[2];
    if (pipe(go) || pipe(done)) exit(90);
    unsigned before = sum(heap, BIG);
    pid_t pid = fork();
    if (pid == 0) {
        memset(heap + 4096, 'c', 3 * 4096);
        heap[BIG - 1] = 'z';
        strcpy(global, "child");
        if (write(done[1], "x", 1) != 1) _exit(91);
        char c;
        if (read(go[0], &c, 1) != 1) _exit(92);
        // The parent has written its copy meanwhile: ours must not have changed.
        int ok = heap[0] == 1 && heap[4096] == 'c' && heap[BIG - 1] == 'z' && !strcmp(global, "child");
        _exit(ok ? 0 : 93);
    }
    char c;
    if (read(done[0], &c, 1) != 1) exit(94);
    printf("parent unchanged by child: %d\n", sum(heap, BIG) == before && !strcmp(global, "global"));
    memset(heap, 'p', 8192);
    strcpy(global, "parent");
    if (write(go[1], "x", 1) != 1) exit(95);
    printf("child saw its own copy: %d\n", wait_ok(pid));
    printf("parent kept its writes: %d\n", heap[0] == 'p' && heap[8191] == 'p' && !strcmp(global, "parent"));
    close(go[0]), close(go[1]), close(done[0]), close(done[1]);
}

// The kernel writes into copy-on-write memory: read(2) into the heap, clock_gettime into a
// global, in the child; the parent's copy keeps its bytes.
static void kernel_writes(unsigned char *heap) {
    memset(heap, 'k', 4096);
    int p[2];
    if (pipe(p)) exit(96);
    pid_t pid = fork();
    if (pid == 0) {
        if (write(p[1], "from the pipe", 13) != 13) _exit(1);
        if (read(p[0], heap + 100, 13) != 13) _exit(2);
        struct timespec *ts = (struct timespec *)(global + 4096);
        memset(ts, 0, sizeof *ts);
        if (clock_gettime(CLOCK_MONOTONIC, (struct timespec *)(global + 8192))) _exit(3);
        _exit(memcmp(heap + 100, "from the pipe", 13) ? 4 : 0);
    }
    printf("child read into its copy: %d\n", wait_ok(pid));
    printf("parent copy after child read: %.4s %d\n", (char *)heap + 100, ((char *)global)[8192]);
    close(p[0]), close(p[1]);
}

// Three generations, each writing the same page: each sees only its own value.
static int generation(int *cell, int depth) {
    *cell = depth;
    if (depth == 3) return *cell == 3 ? 0 : 1;
    pid_t pid = fork();
    if (pid == 0) _exit(generation(cell, depth + 1));
    int st = wait_ok(pid);
    return st != 0 ? st : *cell == depth ? 0 : 10 + depth;
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    unsigned char *heap = mmap(NULL, BIG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (heap == MAP_FAILED) return 1;
    memset(heap, 1, BIG);
    both_sides(heap);
    kernel_writes(heap);

    int *cell = (int *)(heap + 5 * 4096);
    int st, gen = generation(cell, 0);
    printf("generations: %d, parent cell %d\n", gen, *cell);

    // Read-only at fork, made writable in the child only.
    memset(heap, 7, 4096);
    if (mprotect(heap, 4096, PROT_READ)) return 2;
    pid_t pid = fork();
    if (pid == 0) {
        if (mprotect(heap, 4096, PROT_READ | PROT_WRITE)) _exit(1);
        heap[0] = 8;
        _exit(heap[0] == 8 ? 0 : 2);
    }
    st = wait_ok(pid);
    printf("mprotect in child: %d, parent still %d\n", st, heap[0]);
    if (mprotect(heap, 4096, PROT_READ | PROT_WRITE)) return 3;
    heap[0] = 9;
    printf("parent writes after mprotect: %d\n", heap[0]);

    // MADV_DONTNEED in the child on memory the parent still shares: zero there only.
    memset(heap + 8 * 4096, 'd', 4 * 4096);
    pid = fork();
    if (pid == 0) {
        if (madvise(heap + 8 * 4096, 4 * 4096, MADV_DONTNEED)) _exit(1);
        _exit(heap[8 * 4096] == 0 && heap[12 * 4096 - 1] == 0 ? 0 : 2);
    }
    st = wait_ok(pid);
    printf("madvise in child: %d, parent still %c%c\n", st, heap[8 * 4096], heap[12 * 4096 - 1]);
    if (madvise(heap + 8 * 4096, 4096, MADV_DONTNEED)) return 4;
    printf("madvise in parent: %d %c\n", heap[8 * 4096], heap[9 * 4096]);

    // A forked child still shares pages when the parent vforks: the vfork child's write to a
    // global lands in the parent's copy, not the first child's.
    int p[2];
    if (pipe(p)) return 5;
    pid_t first = fork();
    if (first == 0) {
        char c;
        if (read(p[0], &c, 1) != 1) _exit(1);
        _exit(vfork_flag == 0 ? 0 : 2);
    }
    pid_t v = vfork();
    if (v == 0) {
        vfork_flag = 42;
        _exit(0);
    }
    st = wait_ok(v);
    printf("vfork child: %d, flag in parent %d\n", st, vfork_flag);
    if (write(p[1], "x", 1) != 1) return 6;
    printf("first child's flag: %d\n", wait_ok(first));

    // MAP_SHARED anonymous memory stays shared; a private file mapping stays private.
    int *shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    char path[] = "/tmp/fork_cow_XXXXXX";
    int fd = mkstemp(path);
    if (shared == MAP_FAILED || fd < 0 || write(fd, "file bytes", 10) != 10) return 7;
    char *fmap = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    if (fmap == MAP_FAILED) return 8;
    *shared = 1;
    fmap[0] = 'F';
    pid = fork();
    if (pid == 0) {
        *shared = 2;
        fmap[1] = 'I';
        _exit(fmap[0] == 'F' ? 0 : 1);
    }
    st = wait_ok(pid);
    printf("shared: %d after child %d; private file map %.4s\n", st, *shared, fmap);
    char back[11] = {0};
    if (pread(fd, back, 10, 0) != 10) return 9;
    printf("file unchanged: %s\n", back);
    unlink(path);

    // Many children of one parent, each writing the whole heap, none seeing another's.
    for (int i = 0; i < 4; i++) {
        pid = fork();
        if (pid == 0) {
            memset(heap, 'a' + i, BIG);
            _exit(sum(heap, BIG) == sum(heap, BIG) && heap[BIG / 2] == 'a' + i ? 0 : 1);
        }
        printf("child %d: %d\n", i, wait_ok(pid));
    }
    printf("parent heap: %d %d\n", heap[0], heap[BIG / 2]);

    // EFAULT still applies: a read into a read-only page after fork.
    if (mprotect(heap, 4096, PROT_READ)) return 10;
    pid = fork();
    if (pid == 0) {
        int q[2];
        if (pipe(q) || write(q[1], "abc", 3) != 3) _exit(1);
        errno = 0;
        ssize_t n = read(q[0], heap, 3);
        _exit(n == -1 && errno == EFAULT ? 0 : 2);
    }
    printf("read into read-only memory after fork: %d\n", wait_ok(pid));
    return 0;
}
