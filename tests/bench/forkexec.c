// SPDX-License-Identifier: Apache-2.0
// Benchmark guest: fork (+ execve of PROG, or _exit) + wait, N times, after the parent has
// written TOUCH_MIB of heap (what a copy-on-write fork saves). Prints microseconds per iteration.
//   forkexec N TOUCH_MIB PROG|-
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: forkexec N TOUCH_MIB PROG|-\n");
        return 2;
    }
    long n = atol(argv[1]);
    size_t touch = (size_t)atol(argv[2]) << 20;
    const char *prog = argv[3];
    char *heap = touch ? malloc(touch) : NULL;
    if (touch && !heap) return 1;
    if (heap) memset(heap, 1, touch);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (long i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid < 0) return perror("fork"), 1;
        if (pid == 0) {
            if (strcmp(prog, "-") != 0) {
                execl(prog, prog, (char *)NULL);
                _exit(127);
            }
            _exit(heap ? heap[i % touch] == 1 ? 0 : 3 : 0);
        }
        int st;
        if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            fprintf(stderr, "child failed: %#x\n", st);
            return 1;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    printf("%.1f\n", ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / n / 1e3);
    return 0;
}
