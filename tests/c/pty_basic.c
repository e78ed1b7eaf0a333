// SPDX-License-Identifier: Apache-2.0
// Differential test: pseudo-terminals without job control: posix_openpt/grantpt/unlockpt/ptsname,
// TIOCGPTN, TIOCSPTLCK/TIOCGPTLCK (a locked slave cannot be opened), access modes of slave fds,
// isatty, ttyname, fstat/stat of the slave, TIOCGDEV, default termios, canonical mode (ICRNL,
// echo, VERASE, VWERASE, VKILL, VEOF, VLNEXT, one line per read), ECHO/ECHONL/ICRNL switches, a
// signal character flushing the input (not the echo the master has yet to read), raw mode with
// VMIN/VTIME, switching modes with pending input, output processing (ONLCR, OCRNL, ONOCR, XTABS,
// OLCUC, no OPOST), window sizes, FIONREAD/TIOCOUTQ, TCFLSH, closing the
// slave (master reads EIO) or the master (the slave hangs up), poll in those states, and error
// paths (EFAULT, ENOTTY, EBADF, EINVAL, ENXIO for /dev/tty without a controlling terminal).
// The body runs in a child that made a session of its own, so it has no controlling terminal.
// variants: static static-pie
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static void show(const char *what, long r, int err) {
    if (r == -1)
        printf("%s = -1 %s\n", what, strerrorname_np(err));
    else
        printf("%s = %ld\n", what, r);
}

// One side-effecting call, then its result (errno saved first).
#define TRY(what, call)              \
    do {                             \
        errno = 0;                   \
        long r_ = (long)(call);      \
        int e_ = errno;              \
        show(what, r_, e_);          \
    } while (0)

#define RAW(what, ...) TRY(what, syscall(__VA_ARGS__))

static void esc(const char *what, const char *b, long n) {
    printf("%s: %ld \"", what, n);
    for (long i = 0; i < n; i++) {
        unsigned char c = b[i];
        if (c == '\n')
            printf("\\n");
        else if (c == '\r')
            printf("\\r");
        else if (c == '\t')
            printf("\\t");
        else if (c == '\\' || c == '"')
            printf("\\%c", c);
        else if (c < 0x20 || c >= 0x7f)
            printf("\\x%02x", c);
        else
            putchar(c);
    }
    printf("\"\n");
}

static long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int avail(int fd) {
    int n = -1;
    if (ioctl(fd, FIONREAD, &n) < 0) return -1;
    return n;
}

// Waits (at most 2 s) until FIONREAD on fd reaches n: Linux moves bytes between the two sides
// asynchronously, so a count taken right after a write could be short.
static int wait_avail(int fd, int n) {
    long end = now_ms() + 2000;
    int a;
    while ((a = avail(fd)) >= 0 && a < n && now_ms() < end) usleep(1000);
    return a;
}

// Reads up to n bytes, waiting at most 2 s for them (several reads if they come in pieces).
static long readn(int fd, char *b, long n) {
    long got = 0, end = now_ms() + 2000;
    while (got < n) {
        long left = end - now_ms();
        if (left <= 0) break;
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, (int)left) != 1) break;
        long r = read(fd, b + got, n - got);
        if (r <= 0) break;
        got += r;
    }
    return got;
}

// What the master reads: exactly `n` bytes expected, then whatever else is already there.
static void master_gets(const char *what, int m, long n) {
    char b[512];
    long got = readn(m, b, n);
    esc(what, b, got);
    int left = avail(m);
    printf("  left for the master: %d\n", left);
    // Anything unexpected is dropped, so that one difference does not shift the rest.
    if (left > 0 && read(m, b, left < (int)sizeof b ? left : (int)sizeof b) < 0) exit(30);
}

// One read of the slave, printed.
static void slave_read(const char *what, int s, long max) {
    char b[512];
    errno = 0;
    long r = read(s, b, max);
    int e = errno;
    if (r < 0)
        show(what, r, e);
    else
        esc(what, b, r);
}

// Waits (at most 2 s) until process `pid` sleeps, as /proc/PID/stat shows; without that file,
// gives it 200 ms.
static int wait_sleeping(pid_t pid) {
    char path[64], buf[256];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    long end = now_ms() + 2000;
    while (now_ms() < end) {
        int fd = open(path, O_RDONLY);
        if (fd < 0) {
            usleep(200000);
            return 0;
        }
        long n = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (n <= 0) return 0;
        buf[n] = 0;
        char *p = strrchr(buf, ')');
        if (p && p[1] == ' ' && p[2] == 'S') {
            usleep(10000);
            return 1;
        }
        usleep(1000);
    }
    return 0;
}

static void put(int fd, const char *what, const char *data, long n) {
    TRY(what, write(fd, data, n));
}

static int set_tio(int s, const struct termios *t) {
    return tcsetattr(s, TCSANOW, t);
}

static void poll_both(const char *what, int m, int s) {
    struct pollfd p[2] = {{m, POLLIN | POLLOUT, 0}, {s, POLLIN | POLLOUT, 0}};
    errno = 0;
    int r = poll(p, 2, 0);
    int e = errno;
    if (r < 0)
        show(what, r, e);
    else
        printf("%s: master %#x slave %#x\n", what, p[0].revents, p[1].revents);
}

static int open_pair(int *m, char *name, size_t len) {
    *m = posix_openpt(O_RDWR | O_NOCTTY);
    if (*m < 0 || grantpt(*m) || unlockpt(*m)) return -1;
    if (ptsname_r(*m, name, len)) return -1;
    return open(name, O_RDWR | O_NOCTTY);
}

static void opening(void) {
    printf("--- opening\n");
    errno = 0;
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    int e = errno;
    printf("posix_openpt: ok %d %s\n", m >= 0, strerrorname_np(e));
    TRY("grantpt", grantpt(m));
    int lock = -1;
    TRY("TIOCGPTLCK before unlockpt", ioctl(m, TIOCGPTLCK, &lock));
    printf("  locked %d\n", lock);
    char name[64];
    TRY("ptsname_r", ptsname_r(m, name, sizeof name));
    printf("name starts with /dev/pts/: %d\n", strncmp(name, "/dev/pts/", 9) == 0);
    unsigned ptn = 12345;
    TRY("TIOCGPTN", ioctl(m, TIOCGPTN, &ptn));
    char want[64];
    snprintf(want, sizeof want, "/dev/pts/%u", ptn);
    printf("TIOCGPTN matches ptsname: %d\n", strcmp(want, name) == 0);
    TRY("open slave while locked", open(name, O_RDWR | O_NOCTTY));
    TRY("unlockpt", unlockpt(m));
    TRY("TIOCGPTLCK after unlockpt", ioctl(m, TIOCGPTLCK, &lock));
    printf("  locked %d\n", lock);
    int s = open(name, O_RDWR | O_NOCTTY);
    printf("open slave after unlockpt: ok %d\n", s >= 0);
    close(s);
    lock = 1;
    TRY("TIOCSPTLCK 1", ioctl(m, TIOCSPTLCK, &lock));
    TRY("open slave locked again", open(name, O_RDWR | O_NOCTTY));
    lock = 0;
    TRY("TIOCSPTLCK 0", ioctl(m, TIOCSPTLCK, &lock));
    s = open(name, O_RDWR | O_NOCTTY);
    printf("open slave unlocked again: ok %d\n", s >= 0);

    // Access modes.
    int ro = open(name, O_RDONLY | O_NOCTTY);
    int wo = open(name, O_WRONLY | O_NOCTTY | O_NONBLOCK);
    printf("open slave O_RDONLY: ok %d, O_WRONLY: ok %d\n", ro >= 0, wo >= 0);
    TRY("write to the O_RDONLY slave", write(ro, "x", 1));
    char c1;
    TRY("read from the O_WRONLY slave", read(wo, &c1, 1));
    close(ro);
    close(wo);
    fcntl(m, F_SETFL, O_NONBLOCK);
    TRY("nonblocking master read (nothing was written)", read(m, &c1, 1));
    fcntl(m, F_SETFL, 0);

    RAW("TIOCGPTN to a bad pointer", SYS_ioctl, m, TIOCGPTN, (void *)1);
    RAW("TIOCGPTN on the slave", SYS_ioctl, s, TIOCGPTN, &ptn);
    RAW("TIOCSPTLCK on the slave", SYS_ioctl, s, TIOCSPTLCK, &lock);
    RAW("TIOCGPTLCK on the slave", SYS_ioctl, s, TIOCGPTLCK, &lock);

    int p[2];
    if (pipe(p)) exit(20);
    errno = 0;
    int a = isatty(m);
    e = errno;
    printf("isatty(master) = %d\n", a);
    errno = 0;
    a = isatty(s);
    e = errno;
    printf("isatty(slave) = %d\n", a);
    errno = 0;
    a = isatty(p[0]);
    e = errno;
    printf("isatty(pipe) = %d %s\n", a, strerrorname_np(e));
    close(p[0]);
    close(p[1]);
    errno = 0;
    char *tn = ttyname(s);
    e = errno;
    printf("ttyname(slave) is ptsname: %d %s\n", tn && strcmp(tn, name) == 0, strerrorname_np(e));

    struct stat fs, ps;
    TRY("fstat slave", fstat(s, &fs));
    printf("  chr %d major %u minor is ptn %d\n", S_ISCHR(fs.st_mode), major(fs.st_rdev),
           minor(fs.st_rdev) == ptn);
    TRY("stat ptsname", stat(name, &ps));
    printf("  same ino %d same rdev %d chr %d\n", fs.st_ino == ps.st_ino, fs.st_rdev == ps.st_rdev,
           S_ISCHR(ps.st_mode));
    TRY("fstat master", fstat(m, &fs));
    printf("  chr %d major %u minor %u\n", S_ISCHR(fs.st_mode), major(fs.st_rdev), minor(fs.st_rdev));
    unsigned dev = 0;
    TRY("TIOCGDEV slave", ioctl(s, TIOCGDEV, &dev));
    printf("  major %u minor is ptn %d\n", major(dev), minor(dev) == ptn);
    dev = 0;
    TRY("TIOCGDEV master", ioctl(m, TIOCGDEV, &dev));
    printf("  major %u minor is ptn %d\n", major(dev), minor(dev) == ptn);
    int v = -1;
    TRY("TIOCGETD", ioctl(s, TIOCGETD, &v));
    printf("  line discipline %d\n", v);
    v = 0;
    TRY("TIOCSETD N_TTY", ioctl(s, TIOCSETD, &v));
    TRY("TIOCEXCL", ioctl(s, TIOCEXCL));
    TRY("TIOCGEXCL", ioctl(s, TIOCGEXCL, &v));
    printf("  exclusive %d\n", v);
    TRY("TIOCNXCL", ioctl(s, TIOCNXCL));
    TRY("TIOCGEXCL", ioctl(s, TIOCGEXCL, &v));
    printf("  exclusive %d\n", v);
    // (The open slave keeps the index: no other pty can take the name meanwhile.)
    close(m);
    printf("slave node gone with its master: %d\n", stat(name, &ps) < 0 && errno == ENOENT);
    close(s);
}

static void defaults(int m, int s) {
    printf("--- defaults\n");
    struct termios t, tm;
    memset(&t, 0, sizeof t);
    TRY("tcgetattr slave", tcgetattr(s, &t));
    printf("  iflag %#o oflag %#o lflag %#o cflag&CSIZE %#o cread %d\n", t.c_iflag, t.c_oflag,
           t.c_lflag, t.c_cflag & CSIZE, !!(t.c_cflag & CREAD));
    printf("  cc intr %d quit %d erase %d kill %d eof %d time %d min %d susp %d eol %d\n",
           t.c_cc[VINTR], t.c_cc[VQUIT], t.c_cc[VERASE], t.c_cc[VKILL], t.c_cc[VEOF], t.c_cc[VTIME],
           t.c_cc[VMIN], t.c_cc[VSUSP], t.c_cc[VEOL]);
    printf("  cc start %d stop %d reprint %d werase %d lnext %d eol2 %d\n", t.c_cc[VSTART],
           t.c_cc[VSTOP], t.c_cc[VREPRINT], t.c_cc[VWERASE], t.c_cc[VLNEXT], t.c_cc[VEOL2]);
    printf("  ospeed is B38400 %d ispeed is B38400 %d\n", cfgetospeed(&t) == B38400,
           cfgetispeed(&t) == B38400);
    memset(&tm, 0, sizeof tm);
    TRY("tcgetattr master", tcgetattr(m, &tm));
    printf("  master sees the slave's termios: %d\n",
           tm.c_iflag == t.c_iflag && tm.c_oflag == t.c_oflag && tm.c_lflag == t.c_lflag &&
               tm.c_cflag == t.c_cflag && memcmp(tm.c_cc, t.c_cc, NCCS) == 0);
    // A change through the master is seen through the slave.
    tm.c_cc[VERASE] = 8;
    TRY("tcsetattr master VERASE=^H", tcsetattr(m, TCSANOW, &tm));
    TRY("tcgetattr slave", tcgetattr(s, &t));
    printf("  slave VERASE %d\n", t.c_cc[VERASE]);
    tm.c_cc[VERASE] = 0x7f;
    TRY("tcsetattr master VERASE=DEL", tcsetattr(m, TCSANOW, &tm));

    struct winsize ws = {1, 2, 3, 4};
    TRY("TIOCGWINSZ slave", ioctl(s, TIOCGWINSZ, &ws));
    printf("  %d %d %d %d\n", ws.ws_row, ws.ws_col, ws.ws_xpixel, ws.ws_ypixel);
    ws = (struct winsize){24, 80, 640, 480};
    TRY("TIOCSWINSZ master", ioctl(m, TIOCSWINSZ, &ws));
    memset(&ws, 0, sizeof ws);
    TRY("TIOCGWINSZ slave", ioctl(s, TIOCGWINSZ, &ws));
    printf("  %d %d %d %d\n", ws.ws_row, ws.ws_col, ws.ws_xpixel, ws.ws_ypixel);
    ws = (struct winsize){50, 132, 0, 0};
    TRY("TIOCSWINSZ slave", ioctl(s, TIOCSWINSZ, &ws));
    memset(&ws, 0, sizeof ws);
    TRY("TIOCGWINSZ master", ioctl(m, TIOCGWINSZ, &ws));
    printf("  %d %d %d %d\n", ws.ws_row, ws.ws_col, ws.ws_xpixel, ws.ws_ypixel);

    int pg = -1;
    TRY("TIOCGPGRP master (no session)", ioctl(m, TIOCGPGRP, &pg));
    printf("  pgrp %d\n", pg);
    RAW("TIOCGPGRP slave (not the controlling tty)", SYS_ioctl, s, TIOCGPGRP, &pg);
    RAW("TIOCGSID master (no session)", SYS_ioctl, m, TIOCGSID, &pg);
    RAW("TIOCGSID slave (not the controlling tty)", SYS_ioctl, s, TIOCGSID, &pg);
    RAW("TIOCNOTTY slave (not the controlling tty)", SYS_ioctl, s, TIOCNOTTY);
    RAW("TIOCSPGRP slave (not the controlling tty)", SYS_ioctl, s, TIOCSPGRP, &pg);
    poll_both("poll, nothing pending", m, s);
}

static void canonical(int m, int s) {
    printf("--- canonical\n");
    put(m, "write ab\\r", "ab\r", 3);
    slave_read("slave reads", s, 100);
    master_gets("echo", m, 4);

    put(m, "write abc DEL DEL x \\n", "abc\x7f\x7fx\n", 7);
    slave_read("slave reads", s, 100);
    master_gets("echo", m, 12);

    put(m, "write hello world ^W ^W yo ^D", "hello world\x17\x17yo\x04", 16);
    slave_read("slave reads", s, 100);
    master_gets("echo", m, 46);

    put(m, "write gone ^U ^D", "gone\x15\x04", 6);
    slave_read("slave reads (end of file)", s, 100);
    master_gets("echo", m, 16);

    put(m, "write ^V ^C \\n", "\x16\x03\n", 3);
    slave_read("slave reads", s, 100);
    master_gets("echo", m, 6);

    put(m, "write a TAB DEL \\n", "a\t\x7f\n", 4);
    slave_read("slave reads", s, 100);
    master_gets("echo", m, 11);

    put(m, "write ab ^D cd \\n", "ab\x04" "cd\n", 6);
    slave_read("slave reads", s, 100);
    slave_read("slave reads", s, 100);
    master_gets("echo", m, 6);

    put(m, "write l1 \\n l2 \\n", "l1\nl2\n", 6);
    slave_read("slave reads one line", s, 100);
    slave_read("slave reads 1 byte", s, 1);
    slave_read("slave reads the rest of the line", s, 100);
    master_gets("echo", m, 8);

    // A partial line is not readable.
    put(m, "write partial", "partial", 7);
    master_gets("echo", m, 7);
    printf("slave FIONREAD with a partial line: %d\n", avail(s));
    poll_both("poll with a partial line", m, s);
    fcntl(s, F_SETFL, O_NONBLOCK);
    slave_read("nonblocking slave read", s, 100);
    fcntl(s, F_SETFL, 0);
    // A signal character flushes the input (not what the master has yet to read).
    put(m, "write ^C", "\x03", 1);
    master_gets("master reads", m, 2);
    put(m, "write \\n", "\n", 1);
    slave_read("slave reads after ^C", s, 100);
    master_gets("echo", m, 2);
    // Echo the master has not read yet stays.
    put(m, "write xyz", "xyz", 3);
    printf("master FIONREAD: %d\n", wait_avail(m, 3));
    put(m, "write ^\\", "\x1c", 1);
    master_gets("master reads", m, 5);
    put(m, "write \\n", "\n", 1);
    slave_read("slave reads after ^\\", s, 100);
    master_gets("echo", m, 2);

    put(m, "write abc \\n def", "abc\ndef", 7);
    printf("slave FIONREAD: %d\n", wait_avail(s, 4));
    printf("master FIONREAD: %d\n", wait_avail(m, 8));
    poll_both("poll with a line", m, s);
    slave_read("slave reads", s, 100);
    printf("slave FIONREAD: %d\n", avail(s));
    put(m, "write \\n", "\n", 1);
    slave_read("slave reads", s, 100);
    master_gets("echo", m, 10);

    struct termios t0, t;
    tcgetattr(s, &t0);
    t = t0;
    t.c_lflag &= ~ECHO;
    TRY("tcsetattr -echo", set_tio(s, &t));
    put(m, "write secret \\n", "secret\n", 7);
    slave_read("slave reads", s, 100);
    printf("master FIONREAD: %d\n", avail(m));
    t.c_lflag |= ECHONL;
    TRY("tcsetattr -echo echonl", set_tio(s, &t));
    put(m, "write x \\n", "x\n", 2);
    slave_read("slave reads", s, 100);
    master_gets("echo", m, 2);
    t = t0;
    t.c_iflag &= ~ICRNL;
    TRY("tcsetattr -icrnl", set_tio(s, &t));
    put(m, "write a \\r b \\n", "a\rb\n", 4);
    slave_read("slave reads", s, 100);
    master_gets("echo", m, 6);
    t.c_iflag |= IGNCR;
    TRY("tcsetattr igncr", set_tio(s, &t));
    put(m, "write a \\r b \\n", "a\rb\n", 4);
    slave_read("slave reads", s, 100);
    master_gets("echo", m, 4);
    t = t0;
    t.c_iflag |= INLCR;
    TRY("tcsetattr inlcr", set_tio(s, &t));
    put(m, "write a \\n b \\r", "a\nb\r", 4);
    slave_read("slave reads", s, 100);
    master_gets("echo", m, 6);
    t = t0;
    t.c_lflag &= ~ECHOCTL;
    TRY("tcsetattr -echoctl", set_tio(s, &t));
    put(m, "write ^A \\n", "\x01\n", 2);
    slave_read("slave reads", s, 100);
    master_gets("echo", m, 3);
    t = t0;
    t.c_cc[VEOL] = '!';
    TRY("tcsetattr VEOL=!", set_tio(s, &t));
    put(m, "write hi! there", "hi!there", 8);
    slave_read("slave reads", s, 100);
    master_gets("echo", m, 8);
    TRY("tcsetattr default", set_tio(s, &t0));
    put(m, "write \\n", "\n", 1);
    slave_read("slave reads", s, 100);
    master_gets("echo", m, 2);
}

static void raw(int m, int s) {
    printf("--- raw\n");
    struct termios t0, t;
    tcgetattr(s, &t0);
    t = t0;
    cfmakeraw(&t);
    t.c_cc[VMIN] = 0;
    t.c_cc[VTIME] = 0;
    TRY("tcsetattr raw VMIN=0 VTIME=0", set_tio(s, &t));
    tcgetattr(s, &t);
    printf("  iflag %#o oflag %#o lflag %#o cflag&CSIZE %#o\n", t.c_iflag, t.c_oflag, t.c_lflag,
           t.c_cflag & CSIZE);
    slave_read("slave read, nothing there", s, 100);
    put(m, "write ab", "ab", 2);
    printf("slave FIONREAD: %d\n", wait_avail(s, 2));
    printf("master FIONREAD (no echo): %d\n", avail(m));
    slave_read("slave reads", s, 100);
    t.c_cc[VTIME] = 1;
    TRY("tcsetattr VMIN=0 VTIME=1", set_tio(s, &t));
    long t1 = now_ms();
    slave_read("slave read, nothing there", s, 100);
    printf("  waited at least 50ms: %d\n", now_ms() - t1 >= 50);
    t.c_cc[VMIN] = 2;
    t.c_cc[VTIME] = 0;
    TRY("tcsetattr VMIN=2 VTIME=0", set_tio(s, &t));
    fcntl(s, F_SETFL, O_NONBLOCK);
    slave_read("nonblocking slave read, nothing there", s, 100);
    poll_both("poll, nothing there", m, s);
    put(m, "write x", "x", 1);
    wait_avail(s, 1);
    poll_both("poll, 1 byte of VMIN 2", m, s);
    slave_read("nonblocking slave read, 1 byte there", s, 100);
    fcntl(s, F_SETFL, 0);
    put(m, "write yz", "yz", 2);
    slave_read("slave reads (VMIN 2)", s, 100);
    put(m, "write ^C DEL \\r ^S ^Q ^Z", "\x03\x7f\r\x13\x11\x1a", 6);
    slave_read("slave reads", s, 100);
    printf("master FIONREAD: %d\n", avail(m));
    put(m, "write abc", "abc", 3);
    wait_avail(s, 3);
    slave_read("slave reads 2 (VMIN 2)", s, 2);
    t.c_cc[VMIN] = 5;
    t.c_cc[VTIME] = 1;
    TRY("tcsetattr VMIN=5 VTIME=1", set_tio(s, &t));
    t1 = now_ms();
    slave_read("slave reads (1 of VMIN 5, then the timer)", s, 100);
    printf("  waited at least 50ms: %d\n", now_ms() - t1 >= 50);

    // Raw bytes left unread become a line in canonical mode.
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    TRY("tcsetattr VMIN=1", set_tio(s, &t));
    put(m, "write raw", "raw", 3);
    wait_avail(s, 3);
    TRY("tcsetattr canonical", set_tio(s, &t0));
    printf("slave FIONREAD: %d\n", avail(s));
    slave_read("slave reads", s, 100);
    // A partial canonical line becomes readable in raw mode.
    put(m, "write part", "part", 4);
    master_gets("echo", m, 4);
    TRY("tcsetattr raw VMIN=1", set_tio(s, &t));
    printf("slave FIONREAD: %d\n", avail(s));
    slave_read("slave reads", s, 100);
    TRY("tcsetattr canonical", set_tio(s, &t0));
}

static void output(int m, int s) {
    printf("--- output\n");
    struct termios t0, t;
    tcgetattr(s, &t0);
    put(s, "slave writes x \\n y TAB z \\r \\n", "x\ny\tz\r\n", 7);
    master_gets("master reads", m, 9);
    t = t0;
    t.c_oflag |= OCRNL;
    TRY("tcsetattr ocrnl", set_tio(s, &t));
    put(s, "slave writes a \\r b", "a\rb", 3);
    master_gets("master reads", m, 3);
    t = t0;
    t.c_oflag |= ONOCR;
    TRY("tcsetattr onocr", set_tio(s, &t));
    put(s, "slave writes \\r a \\r \\n \\r", "\ra\r\n\r", 5);
    master_gets("master reads", m, 5);
    t = t0;
    t.c_oflag |= XTABS;
    TRY("tcsetattr xtabs", set_tio(s, &t));
    put(s, "slave writes ab TAB c TAB \\n", "ab\tc\t\n", 6);
    master_gets("master reads", m, 18);
    t = t0;
    t.c_oflag |= OLCUC;
    TRY("tcsetattr olcuc", set_tio(s, &t));
    put(s, "slave writes aBc", "aBc", 3);
    master_gets("master reads", m, 3);
    t = t0;
    t.c_oflag &= ~ONLCR;
    TRY("tcsetattr -onlcr", set_tio(s, &t));
    put(s, "slave writes a \\n", "a\n", 2);
    master_gets("master reads", m, 2);
    t = t0;
    t.c_oflag &= ~OPOST;
    t.c_oflag |= OLCUC;
    TRY("tcsetattr -opost olcuc", set_tio(s, &t));
    put(s, "slave writes a \\n TAB", "a\n\t", 3);
    master_gets("master reads", m, 3);
    TRY("tcsetattr default", set_tio(s, &t0));
    put(s, "slave writes hello", "hello", 5);
    printf("master FIONREAD: %d\n", wait_avail(m, 5));
    int q = -1;
    TRY("TIOCOUTQ slave", ioctl(s, TIOCOUTQ, &q));
    printf("  %d\n", q);
    TRY("TIOCOUTQ master", ioctl(m, TIOCOUTQ, &q));
    printf("  %d\n", q);
    master_gets("master reads", m, 5);
}

static void flushing(int m, int s) {
    printf("--- flush\n");
    put(m, "write flush me \\n", "flush me\n", 9);
    printf("slave FIONREAD: %d\n", wait_avail(s, 9));
    master_gets("echo", m, 10);
    TRY("tcflush slave TCIFLUSH", tcflush(s, TCIFLUSH));
    printf("slave FIONREAD: %d\n", avail(s));
    put(s, "slave writes out", "out", 3);
    printf("master FIONREAD: %d\n", wait_avail(m, 3));
    TRY("tcflush master TCIFLUSH", tcflush(m, TCIFLUSH));
    printf("master FIONREAD: %d\n", avail(m));
    put(s, "slave writes out2", "out2", 4);
    printf("master FIONREAD: %d\n", wait_avail(m, 4));
    TRY("tcflush slave TCOFLUSH", tcflush(s, TCOFLUSH));
    printf("master FIONREAD: %d\n", avail(m));
    master_gets("master reads", m, 4);
    put(m, "write in \\n", "in\n", 3);
    printf("slave FIONREAD: %d\n", wait_avail(s, 3));
    master_gets("echo", m, 4);
    TRY("tcflush master TCOFLUSH", tcflush(m, TCOFLUSH));
    printf("slave FIONREAD: %d\n", avail(s));
    TRY("tcflush slave TCIOFLUSH", tcflush(s, TCIOFLUSH));
    printf("slave FIONREAD: %d\n", avail(s));
    RAW("TCFLSH 7", SYS_ioctl, s, TCFLSH, 7);
    RAW("TCFLSH 3 on the master", SYS_ioctl, m, TCFLSH, 3);
    TRY("tcdrain slave", tcdrain(s));
    TRY("tcsendbreak slave", tcsendbreak(s, 0));
    TRY("tcflow slave TCOON", tcflow(s, TCOON));
    RAW("TCXONC 9", SYS_ioctl, s, TCXONC, 9);
    // TCSETSF discards pending input.
    put(m, "write gone \\n", "gone\n", 5);
    wait_avail(s, 5);
    master_gets("echo", m, 6);
    struct termios t;
    tcgetattr(s, &t);
    TRY("tcsetattr TCSAFLUSH", tcsetattr(s, TCSAFLUSH, &t));
    printf("slave FIONREAD: %d\n", avail(s));
}

static void errors(int m, int s) {
    printf("--- errors\n");
    struct termios t;
    struct winsize ws;
    int v;
    RAW("TCGETS to a bad pointer", SYS_ioctl, s, TCGETS, (void *)1);
    RAW("TCSETS from a bad pointer", SYS_ioctl, s, TCSETS, (void *)1);
    RAW("TIOCGWINSZ to a bad pointer", SYS_ioctl, m, TIOCGWINSZ, (void *)1);
    RAW("TIOCSWINSZ from a bad pointer", SYS_ioctl, s, TIOCSWINSZ, (void *)1);
    RAW("FIONREAD to a bad pointer", SYS_ioctl, s, FIONREAD, (void *)1);
    RAW("unknown ioctl on the slave", SYS_ioctl, s, 0x12345678, &v);
    RAW("unknown ioctl on the master", SYS_ioctl, m, 0x12345678, &v);
    int p[2];
    if (pipe(p)) exit(21);
    RAW("TCGETS on a pipe", SYS_ioctl, p[0], TCGETS, &t);
    RAW("TIOCGWINSZ on a pipe", SYS_ioctl, p[1], TIOCGWINSZ, &ws);
    close(p[0]);
    close(p[1]);
    char path[] = "/tmp/pty-XXXXXX";
    int f = mkstemp(path);
    if (f < 0) exit(22);
    unlink(path);
    RAW("TCGETS on a regular file", SYS_ioctl, f, TCGETS, &t);
    RAW("TIOCGPTN on a regular file", SYS_ioctl, f, TIOCGPTN, &v);
    close(f);
    int n = open("/dev/null", O_RDWR);
    RAW("TCGETS on /dev/null", SYS_ioctl, n, TCGETS, &t);
    close(n);
    RAW("TCGETS on a closed fd", SYS_ioctl, n, TCGETS, &t);
    RAW("TCGETS on fd -1", SYS_ioctl, -1, TCGETS, &t);
    TRY("open /dev/tty without a controlling terminal", open("/dev/tty", O_RDWR));
    TRY("open /dev/tty O_NOCTTY", open("/dev/tty", O_RDWR | O_NOCTTY));
    fcntl(m, F_SETFL, O_NONBLOCK);
    char b[4];
    TRY("nonblocking master read, nothing there", read(m, b, sizeof b));
    fcntl(m, F_SETFL, 0);
    TRY("slave read of 0 bytes", read(s, b, 0));
    TRY("master read of 0 bytes", read(m, b, 0));
}

static void slave_closed(void) {
    printf("--- the slave closes\n");
    char name[64];
    int m;
    int s = open_pair(&m, name, sizeof name);
    if (s < 0) exit(23);
    put(s, "slave writes bye", "bye", 3);
    wait_avail(m, 3);
    TRY("close slave", close(s));
    poll_both("poll (master only)", m, -1);
    master_gets("master reads", m, 3);
    char b[8];
    TRY("master read", read(m, b, sizeof b));
    TRY("master read again", read(m, b, sizeof b));
    poll_both("poll (master only)", m, -1);
    s = open(name, O_RDWR | O_NOCTTY);
    printf("reopen slave: ok %d\n", s >= 0);
    poll_both("poll", m, s);
    fcntl(m, F_SETFL, O_NONBLOCK);
    TRY("nonblocking master read", read(m, b, sizeof b));
    fcntl(m, F_SETFL, 0);
    // A second slave fd keeps it open.
    int s2 = dup(s);
    int s3 = open(name, O_RDWR | O_NOCTTY);
    close(s);
    close(s2);
    fcntl(m, F_SETFL, O_NONBLOCK);
    TRY("nonblocking master read, one slave still open", read(m, b, sizeof b));
    fcntl(m, F_SETFL, 0);
    close(s3);
    TRY("master read, all closed", read(m, b, sizeof b));
    close(m);
}

static void master_closed(void) {
    printf("--- the master closes\n");
    char name[64];
    int m;
    int s = open_pair(&m, name, sizeof name);
    if (s < 0) exit(24);
    put(s, "slave writes unread", "unread", 6);
    wait_avail(m, 6);
    TRY("close master", close(m));
    poll_both("poll (slave only)", -1, s);
    char b[16];
    TRY("slave read", read(s, b, sizeof b));
    TRY("slave write", write(s, "x", 1));
    struct termios t;
    RAW("TCGETS", SYS_ioctl, s, TCGETS, &t);
    int v;
    RAW("FIONREAD", SYS_ioctl, s, FIONREAD, &v);
    RAW("TIOCSPGRP", SYS_ioctl, s, TIOCSPGRP, &v);
    errno = 0;
    int a = isatty(s);
    int e = errno;
    printf("isatty = %d %s\n", a, strerrorname_np(e));
    struct stat st;
    TRY("fstat", fstat(s, &st));
    printf("  chr %d\n", S_ISCHR(st.st_mode));
    TRY("stat ptsname", stat(name, &st));
    TRY("open ptsname", open(name, O_RDWR | O_NOCTTY));
    TRY("close slave", close(s));

    // Input the slave had not read yet when the master closed.
    s = open_pair(&m, name, sizeof name);
    if (s < 0) exit(25);
    put(m, "write pending \\n", "pending\n", 8);
    printf("slave FIONREAD: %d\n", wait_avail(s, 8));
    TRY("close master", close(m));
    slave_read("slave read", s, 100);
    close(s);

    // A slave reader blocked when the master closes is woken with 0.
    s = open_pair(&m, name, sizeof name);
    if (s < 0) exit(26);
    int ready[2];
    if (pipe(ready)) exit(27);
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        close(m);
        if (write(ready[1], "r", 1) != 1) _exit(51);
        long r = read(s, b, sizeof b);
        _exit(r == 0 ? 0 : r < 0 ? 100 + errno : 50);
    }
    close(s);
    if (read(ready[0], b, 1) != 1) exit(28);
    // Wait until the reader sleeps in read().
    wait_sleeping(c);
    TRY("close master under a blocked reader", close(m));
    int st2;
    waitpid(c, &st2, 0);
    printf("  reader: %s %d\n", WIFEXITED(st2) ? "exited" : "killed",
           WIFEXITED(st2) ? WEXITSTATUS(st2) : WTERMSIG(st2));
}

static int body(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    opening();
    char name[64];
    int m;
    int s = open_pair(&m, name, sizeof name);
    if (s < 0) return 10;
    defaults(m, s);
    canonical(m, s);
    raw(m, s);
    output(m, s);
    flushing(m, s);
    errors(m, s);
    close(s);
    close(m);
    slave_closed();
    master_closed();
    return 0;
}

// Signal dispositions and the mask may be inherited: start from the defaults.
static void reset_signals(void) {
    static const int sigs[] = {SIGHUP, SIGINT, SIGQUIT, SIGTSTP, SIGTTIN, SIGTTOU,
                               SIGCONT, SIGWINCH, SIGCHLD, SIGUSR1, SIGALRM, SIGPIPE};
    for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++) signal(sigs[i], SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

int main(void) {
    for (int fd = 3; fd < 1024; fd++) close(fd);
    reset_signals();
    fflush(stdout);
    pid_t c = fork();
    if (c < 0) return 1;
    if (c == 0) {
        if (setsid() < 0) _exit(2);
        _exit(body());
    }
    int st;
    if (waitpid(c, &st, 0) != c) return 3;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
