// SPDX-License-Identifier: Apache-2.0
// Terminal queries on stdio, meant to run on a real pty: isatty, TCGETS flags, TIOCGWINSZ.
#include <stdio.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

int main(void) {
    struct termios t;
    struct winsize w;
    for (int fd = 0; fd < 3; fd++) printf("isatty(%d) = %d\n", fd, isatty(fd));
    if (tcgetattr(0, &t) == 0)
        printf("TCGETS: ICANON %d ECHO %d ISIG %d ICRNL %d OPOST %d VINTR %d\n", !!(t.c_lflag & ICANON),
               !!(t.c_lflag & ECHO), !!(t.c_lflag & ISIG), !!(t.c_iflag & ICRNL), !!(t.c_oflag & OPOST),
               t.c_cc[VINTR]);
    else
        printf("TCGETS failed\n");
    if (ioctl(1, TIOCGWINSZ, &w) == 0)
        printf("TIOCGWINSZ: %d rows %d cols\n", w.ws_row, w.ws_col);
    else
        printf("TIOCGWINSZ failed\n");
    return 0;
}
