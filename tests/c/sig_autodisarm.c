// SPDX-License-Identifier: Apache-2.0
// Differential test: SS_AUTODISARM: the alternate stack is disarmed while the handler runs and re-armed by
// variants: static
// SS_AUTODISARM: the alternate stack is disarmed while the handler runs and re-armed by
// rt_sigreturn (from uc_stack), so a second signal runs on it again.
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#ifndef SS_AUTODISARM
#define SS_AUTODISARM (1U << 31)
#endif
static char *alt;
static int on[2], n;
static void h(int s) {
    char c;
    on[n++] = (char *)&c >= alt && (char *)&c < alt + 65536;
}
int main(void) {
    alt = malloc(65536);
    stack_t ss = {.ss_sp = alt, .ss_size = 65536, .ss_flags = SS_AUTODISARM};
    if (sigaltstack(&ss, 0)) perror("sigaltstack");
    struct sigaction sa = {.sa_handler = h, .sa_flags = SA_ONSTACK};
    sigaction(SIGUSR1, &sa, 0);
    raise(SIGUSR1);
    raise(SIGUSR1);
    stack_t cur;
    sigaltstack(0, &cur);
    printf("on altstack: %d %d; after: flags %#x size %zu\n", on[0], on[1], cur.ss_flags, cur.ss_size);
    return 0;
}
