// SPDX-License-Identifier: Apache-2.0
// Differential test: a vfork child makes read-only copy-on-write memory writable with mprotect
// and writes it; the parent (whose memory it is) sees the write, and a forked child that shares
// the page copy-on-write keeps the old contents.
// variants: static
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
int main(void) {
    char *p = mmap(0, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return 1;
    memset(p, 'a', 3 * 4096);
    int fds[2];
    if (pipe(fds)) return 2;
    pid_t keeper = fork();
    if (keeper == 0) {
        // Holds the pages copy-on-write until the parent is done.
        char c;
        if (read(fds[0], &c, 1) != 1) _exit(3);
        printf("forked child sees %c%c%c\n", p[0], p[4096], p[2 * 4096]);
        fflush(stdout);
        _exit(0);
    }
    if (mprotect(p, 3 * 4096, PROT_READ)) return 4;
    pid_t v = vfork();
    if (v == 0) {
        if (mprotect(p + 4096, 4096, PROT_READ | PROT_WRITE)) _exit(5);
        p[4096] = 'b';
        _exit(0);
    }
    int st;
    if (waitpid(v, &st, 0) != v) return 6;
    printf("vfork child: exit %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
    printf("parent sees %c%c%c\n", p[0], p[4096], p[2 * 4096]);
    fflush(stdout);
    if (write(fds[1], "x", 1) != 1) return 7;
    if (waitpid(keeper, &st, 0) != keeper) return 8;
    return 0;
}
