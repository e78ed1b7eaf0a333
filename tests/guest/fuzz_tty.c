// SPDX-License-Identifier: Apache-2.0
// A hostile guest for the Sentry's terminals: makes ptys and throws random terminal ioctls
// (known requests and random ones), random termios settings, random reads and writes (bad
// pointers, huge lengths, both sides, non-blocking) and closes at them, for a given number of
// seconds. Under runrs the Sentry must neither panic nor hang and the guest must reach exit(0).
//
// usage: fuzz_tty SECONDS SEED
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static uint64_t state;
static uint64_t rnd(void) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
}

// Reads land at most 64 KiB (a terminal's buffer) past an offset below 64 KiB: inside.
static char buf[1 << 18];

static uint64_t ptr(void) {
    switch (rnd() % 6) {
    case 0: return 0;
    case 1: return 1;
    case 2: return 0xffff800000000000ull;
    case 3: return (uint64_t)buf + rnd() % (1 << 16);
    default: return (uint64_t)buf;
    }
}

static const unsigned long reqs[] = {
    TCGETS, TCSETS, TCSETSW, TCSETSF, TCSBRK, TCXONC, TCFLSH, TIOCEXCL, TIOCNXCL, TIOCSCTTY,
    TIOCGPGRP, TIOCSPGRP, TIOCOUTQ, TIOCSTI, TIOCGWINSZ, TIOCSWINSZ, FIONREAD, TIOCNOTTY,
    TIOCSETD, TIOCGETD, TCSBRKP, TIOCGSID, 0x802c542a, 0x402c542b, 0x402c542c, 0x402c542d, TIOCGPTN,
    TIOCSPTLCK, TIOCGDEV, TIOCSIG, TIOCGPKT, TIOCGPTLCK, TIOCGEXCL, TIOCGPTPEER, TIOCPKT,
    FIONBIO, FIOCLEX, FIONCLEX, TIOCMGET, 0x5401 + 0x40,
};

int main(int argc, char **argv) {
    int secs = argc > 1 ? atoi(argv[1]) : 2;
    state = argc > 2 ? strtoull(argv[2], 0, 10) * 2654435761u + 1 : 1;
    signal(SIGTTOU, SIG_IGN);
    signal(SIGTTIN, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    signal(SIGINT, SIG_IGN);
    signal(SIGQUIT, SIG_IGN);
    signal(SIGTSTP, SIG_IGN);
    signal(SIGWINCH, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    time_t end = time(0) + secs;
    int fds[16];
    int n = 0;
    while (time(0) < end) {
        if (n < 16 && rnd() % 4 == 0) {
            int m = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_NONBLOCK);
            if (m >= 0) {
                fds[n++] = m;
                int zero = 0, ptn = 0;
                ioctl(m, TIOCSPTLCK, &zero);
                if (ioctl(m, TIOCGPTN, &ptn) == 0 && n < 16) {
                    char p[32];
                    snprintf(p, sizeof p, "/dev/pts/%d", ptn);
                    int s = open(p, (rnd() % 2 ? O_RDWR : O_RDONLY) | O_NONBLOCK | (rnd() % 2 ? O_NOCTTY : 0));
                    if (s >= 0) fds[n++] = s;
                }
            }
        }
        if (n == 0) continue;
        int fd = fds[rnd() % n];
        switch (rnd() % 8) {
        case 0: case 1: {
            unsigned long req = rnd() % 8 ? reqs[rnd() % (sizeof reqs / sizeof reqs[0])] : rnd();
            // Blocking requests (a drain on a terminal nobody reads) are left out.
            if (req == TCSBRK || req == TCSBRKP || req == TCSETSW || req == 0x402c542c) break;
            syscall(SYS_ioctl, fd, req, rnd() % 3 ? ptr() : rnd());
            break;
        }
        case 2: {
            struct termios t;
            for (size_t i = 0; i < sizeof t; i++) ((unsigned char *)&t)[i] = rnd();
            if (rnd() % 2) { tcgetattr(fd, &t); t.c_lflag ^= rnd(); t.c_iflag ^= rnd() % 0x4000; t.c_cc[rnd() % NCCS] = rnd(); }
            tcsetattr(fd, rnd() % 2 ? TCSANOW : TCSAFLUSH, &t);
            break;
        }
        case 3: case 4: {
            fcntl(fd, F_SETFL, O_NONBLOCK);
            size_t len = rnd() % 3 ? rnd() % 9000 : rnd();
            for (size_t i = 0; i < 64; i++) buf[i] = rnd();
            syscall(SYS_write, fd, ptr(), len);
            break;
        }
        case 5: case 6:
            fcntl(fd, F_SETFL, O_NONBLOCK);
            syscall(SYS_read, fd, ptr(), rnd() % 3 ? rnd() % 9000 : rnd());
            break;
        default:
            if (rnd() % 4 == 0) {
                int i = rnd() % n;
                close(fds[i]);
                fds[i] = fds[--n];
            }
        }
    }
    return 0;
}
