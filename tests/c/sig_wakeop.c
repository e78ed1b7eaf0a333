// SPDX-License-Identifier: Apache-2.0
// Differential test: FUTEX_WAKE_OP's oparg is a sign-extended 12-bit value: ADD -1 decrements.
// variants: static
// FUTEX_WAKE_OP's oparg is a sign-extended 12-bit value: ADD -1 decrements.
#include <linux/futex.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>
static int w1, w2 = 5;
int main(void) {
    long r = syscall(SYS_futex, &w1, FUTEX_WAKE_OP_PRIVATE, 1, 1, &w2,
                     FUTEX_OP(FUTEX_OP_ADD, -1 & 0xfff, FUTEX_OP_CMP_EQ, 0));
    printf("ret %ld, w2 %d\n", r, w2);
    return 0;
}
