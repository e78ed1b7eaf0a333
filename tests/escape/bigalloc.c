// SPDX-License-Identifier: Apache-2.0
// Escape attempt: use up the host's memory: map 100 GiB and touch every page. Under
// --memory the Sentry kills the process (SIGKILL; as PID 1 the sandbox ends with 137).
#include "escape.h"
#include <sys/mman.h>

int main(void) {
    size_t size = 100UL << 30;
    char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
        must_fail(-1, "mmap 100 GiB");
        return finish();
    }
    printf("mapped 100 GiB, touching it\n");
    fflush(stdout);
    for (size_t off = 0; off < size; off += 4096) p[off] = 1;
    judge(0, "touched all of it", "touch 100 GiB");
    return finish();
}
