// SPDX-License-Identifier: Apache-2.0
// Differential test: sigaltstack accepts any size >= MINSIGSTKSZ (2048) unless AMX makes the check strict.
// variants: static
// sigaltstack accepts any size >= MINSIGSTKSZ (2048) unless AMX makes the check strict.
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(void) {
    stack_t ss = {.ss_sp = malloc(2048), .ss_size = 2048};
    int r = sigaltstack(&ss, 0);
    printf("sigaltstack(2048) -> %d (%s)\n", r, r ? strerror(errno) : "-");
    return 0;
}
