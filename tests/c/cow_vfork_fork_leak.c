// SPDX-License-Identifier: Apache-2.0
// Differential test (copy-on-write fork): after a vfork child forks and exits, the parent's later writes do not reach the grandchild.
// variants: static
#define _GNU_SOURCE
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <sys/syscall.h>
static volatile int g;
static int p[2];
static void grandchild(void) {
    char b;
    read(p[0], &b, 1);
    char msg[64];
    int n = snprintf(msg, sizeof msg, "grandchild sees g=%d (native: 0)\n", g);
    write(1, msg, n);
    _exit(0);
}
int main(void) {
    if (pipe(p)) return 1;
    pid_t v = vfork();
    if (v == 0) {
        long r;
        /* fork and _exit without touching memory in the vfork child */
        __asm__ volatile("mov $57, %%eax\n\tsyscall\n\t"
                         "test %%rax, %%rax\n\tjz 1f\n\t"
                         "mov $60, %%eax\n\txor %%edi, %%edi\n\tsyscall\n"
                         "1:" : "=a"(r) : : "rcx", "r11", "rdi", "memory");
        grandchild();
    }
    waitpid(v, 0, 0);
    g = 99;
    write(p[1], "x", 1);
    int st;
    while (wait(&st) > 0) ;
    sleep(1);
    return 0;
}
