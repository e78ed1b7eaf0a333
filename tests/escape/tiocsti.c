// SPDX-License-Identifier: Apache-2.0
// Escape attempt: push input into the inherited terminal (TIOCSTI), so that the shell that
// started the sandbox would read it as a command after the sandbox exits; also TIOCCONS
// (redirect the console), TIOCLINUX paste, TIOCSCTTY steal and TIOCSETD. tests/escape.rs
// runs this on a real pty (util-linux `script`) and checks the injected text never shows up.
// The injected bytes are taken from argv[1] so that this program never prints them itself.
#include "escape.h"
#include <poll.h>
#include <sys/ioctl.h>
#include <termios.h>

int main(int argc, char **argv) {
    setup(argc == 2, "usage: tiocsti TEXT");
    const char *text = argv[1];
    for (int fd = 0; fd < 3; fd++) {
        printf("fd %d is a terminal: %s\n", fd, isatty(fd) ? "yes" : "no");
        long r = 0;
        for (const char *c = text; *c && r == 0; c++) r = ioctl(fd, TIOCSTI, c);
        must_fail(r, "TIOCSTI on fd %d", fd);
    }
    must_fail(ioctl(1, TIOCCONS), "TIOCCONS on fd 1");
    char paste = 3; // TIOCL_PASTESEL
    must_fail(ioctl(0, TIOCLINUX, &paste), "TIOCLINUX paste on fd 0");
    int ldisc = 0; // N_TTY
    inside(ioctl(0, TIOCSETD, &ldisc), "TIOCSETD N_TTY on fd 0");
    inside(ioctl(0, TIOCSCTTY, 1), "TIOCSCTTY (steal) on fd 0");
    // Whatever was injected would now be waiting on stdin.
    struct pollfd p = {.fd = 0, .events = POLLIN};
    int ready = poll(&p, 1, 200);
    char buf[256] = "";
    long n = ready > 0 && (p.revents & POLLIN) ? read(0, buf, sizeof buf - 1) : 0;
    buf[n > 0 ? n : 0] = 0;
    judge(!strstr(buf, text), n > 0 ? "other input" : "no input", "stdin after the injections");
    return finish();
}
