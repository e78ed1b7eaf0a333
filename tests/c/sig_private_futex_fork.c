// SPDX-License-Identifier: Apache-2.0
// Differential test: A private futex is keyed by (mm, address): FUTEX_WAKE_PRIVATE in the parent does not wake a
// variants: static
// A private futex is keyed by (mm, address): FUTEX_WAKE_PRIVATE in the parent does not wake a
// forked child's FUTEX_WAIT_PRIVATE on the same MAP_SHARED word.
#include <errno.h>
#include <linux/futex.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
int main(void) {
    int *w = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    pid_t p = fork();
    if (p == 0) {
        struct timespec ts = {1, 0};
        long r = syscall(SYS_futex, w, FUTEX_WAIT_PRIVATE, 0, &ts, 0, 0);
        printf("child wait -> %ld (%s)\n", r, r ? strerror(errno) : "woken");
        fflush(stdout);
        _exit(0);
    }
    usleep(300000);
    long n = syscall(SYS_futex, w, FUTEX_WAKE_PRIVATE, 1, 0, 0, 0);
    waitpid(p, 0, 0);
    printf("parent wake_private -> %ld\n", n);
    return 0;
}
