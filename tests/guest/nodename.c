// SPDX-License-Identifier: Apache-2.0
// Prints the nodename and release uname reports.
#include <stdio.h>
#include <sys/utsname.h>

int main(void) {
    struct utsname u;
    if (uname(&u) != 0) return 1;
    printf("%s\n%s\n", u.nodename, u.release);
    return 0;
}
