// SPDX-License-Identifier: Apache-2.0
// Escape attempt: a fork bomb (every process forks forever). Under --pids N fork fails with
// EAGAIN; the first process to see it says so once; --timeout then ends the sandbox (137).
// tests/escape.rs checks no guest process (host stub) is left behind.
#include "escape.h"
#include <stdatomic.h>
#include <sys/mman.h>

int main(void) {
    atomic_int *said = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    setup(said != MAP_FAILED, "mmap");
    printf("fork bomb started\n");
    fflush(stdout);
    for (;;) {
        if (fork() < 0 && errno == EAGAIN && atomic_exchange(said, 1) == 0) {
            printf("fork bomb: fork failed with EAGAIN\n");
            fflush(stdout);
        }
    }
}
