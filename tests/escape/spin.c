// SPDX-License-Identifier: Apache-2.0
// Escape attempt: use the host's CPU forever from four processes. --cpu-time counts them all
// and ends the sandbox (137).
#include "escape.h"

int main(void) {
    for (int i = 0; i < 3; i++)
        if (fork() == 0) break;
    volatile unsigned long n = 0;
    for (;;) n++;
}
