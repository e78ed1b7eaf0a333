// SPDX-License-Identifier: Apache-2.0
// Differential test: more pseudo-terminal I/O: /dev/ptmx opened directly, TIOCGPTPEER, /dev/pts
// listing, more line editing and echo (ECHOPRT, no ECHOE, no ECHOKE, VREPRINT, IUTF8 erase,
// ISTRIP, IUCLC, VEOL2, DEL with ECHOCTL), a canonical line past 4095 bytes, readv/writev,
// epoll, termios2 speeds, 1 MiB through each direction (checksummed), a full master in
// non-blocking mode, and a master kept open by a dup or a child.
// The body runs in a child that made a session of its own, so it has no controlling terminal.
// variants: static static-pie
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

// The kernel's struct termios2 (<asm/termbits.h> clashes with <termios.h>).
struct ktermios2 {
    unsigned c_iflag, c_oflag, c_cflag, c_lflag;
    unsigned char c_line, c_cc[19];
    unsigned c_ispeed, c_ospeed;
};
#define K_TCGETS2 _IOR('T', 0x2A, struct ktermios2)
#define K_TCSETS2 _IOW('T', 0x2B, struct ktermios2)
#define K_BOTHER 0010000

static void show(const char *what, long r, int err) {
    if (r == -1)
        printf("%s = -1 %s\n", what, strerrorname_np(err));
    else
        printf("%s = %ld\n", what, r);
}

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

static int wait_avail(int fd, int n) {
    long end = now_ms() + 2000;
    int a;
    while ((a = avail(fd)) >= 0 && a < n && now_ms() < end) usleep(1000);
    return a;
}

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

static void master_gets(const char *what, int m, long n) {
    char b[512];
    long got = readn(m, b, n);
    esc(what, b, got);
    int left = avail(m);
    if (left > 0) {
        printf("  and %d more\n", left);
        if (read(m, b, left < (int)sizeof b ? left : (int)sizeof b) < 0) exit(30);
    }
}

static void slave_read(const char *what, int s) {
    char b[512];
    errno = 0;
    long r = read(s, b, sizeof b);
    int e = errno;
    if (r < 0)
        show(what, r, e);
    else
        esc(what, b, r);
}

static void put(int fd, const char *what, const char *data, long n) {
    TRY(what, write(fd, data, n));
}

static int open_pair(int *m) {
    char name[64];
    *m = posix_openpt(O_RDWR | O_NOCTTY);
    if (*m < 0 || grantpt(*m) || unlockpt(*m) || ptsname_r(*m, name, sizeof name)) return -1;
    return open(name, O_RDWR | O_NOCTTY);
}

static void opening(void) {
    printf("--- opening\n");
    struct stat st;
    TRY("stat /dev/ptmx", stat("/dev/ptmx", &st));
    printf("  chr %d major %u minor %u\n", S_ISCHR(st.st_mode), major(st.st_rdev), minor(st.st_rdev));
    TRY("stat /dev/tty", stat("/dev/tty", &st));
    printf("  chr %d major %u minor %u\n", S_ISCHR(st.st_mode), major(st.st_rdev), minor(st.st_rdev));
    int m = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    printf("open /dev/ptmx: ok %d\n", m >= 0);
    int fl = fcntl(m, F_GETFL);
    printf("  O_NONBLOCK %d O_RDWR %d FD_CLOEXEC %d\n", !!(fl & O_NONBLOCK), (fl & O_ACCMODE) == O_RDWR,
           !!(fcntl(m, F_GETFD) & FD_CLOEXEC));
    unsigned ptn = 0;
    TRY("TIOCGPTN", ioctl(m, TIOCGPTN, &ptn));
    char name[64];
    snprintf(name, sizeof name, "/dev/pts/%u", ptn);
    int lock = 0;
    RAW("TIOCGPTPEER while locked", SYS_ioctl, m, TIOCGPTPEER, O_RDWR | O_NOCTTY);
    TRY("TIOCSPTLCK 0", ioctl(m, TIOCSPTLCK, &lock));
    DIR *d = opendir("/dev/pts");
    int listed = 0, ptmx = 0;
    struct dirent *e;
    char want[16];
    snprintf(want, sizeof want, "%u", ptn);
    while (d && (e = readdir(d))) {
        if (strcmp(e->d_name, want) == 0) listed = 1;
        if (strcmp(e->d_name, "ptmx") == 0) ptmx = 1;
    }
    if (d) closedir(d);
    printf("/dev/pts lists it %d and ptmx %d\n", listed, ptmx);

    int s = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
    printf("TIOCGPTPEER: ok %d\n", s >= 0);
    fl = fcntl(s, F_GETFL);
    printf("  O_NONBLOCK %d O_RDWR %d FD_CLOEXEC %d\n", !!(fl & O_NONBLOCK), (fl & O_ACCMODE) == O_RDWR,
           !!(fcntl(s, F_GETFD) & FD_CLOEXEC));
    char *tn = ttyname(s);
    printf("  ttyname is /dev/pts/N: %d\n", tn && strcmp(tn, name) == 0);
    struct stat a, b;
    fstat(s, &a);
    stat(name, &b);
    printf("  same node as /dev/pts/N: %d\n", a.st_ino == b.st_ino && a.st_rdev == b.st_rdev);
    int r = ioctl(m, TIOCGPTPEER, O_RDONLY | O_NOCTTY | O_NONBLOCK);
    fl = fcntl(r, F_GETFL);
    printf("TIOCGPTPEER O_RDONLY|O_NONBLOCK: ok %d, O_RDONLY %d O_NONBLOCK %d\n", r >= 0,
           (fl & O_ACCMODE) == O_RDONLY, !!(fl & O_NONBLOCK));
    TRY("write to the read-only slave", write(r, "x", 1));
    close(r);
    r = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_APPEND);
    printf("TIOCGPTPEER O_APPEND: ok %d, O_APPEND %d\n", r >= 0, r >= 0 && (fcntl(r, F_GETFL) & O_APPEND));
    close(r);
    RAW("TIOCGPTPEER on the slave", SYS_ioctl, s, TIOCGPTPEER, O_RDWR);
    char buf[8];
    TRY("nonblocking master read", read(m, buf, sizeof buf));
    close(s);
    close(m);
}

static void editing(int m, int s) {
    printf("--- editing\n");
    struct termios t0, t;
    tcgetattr(s, &t0);

    put(m, "write abc DEL ^R", "abc\x7f\x12", 5);
    master_gets("echo", m, 12);
    put(m, "write d \\n", "d\n", 2);
    slave_read("slave reads", s);
    master_gets("echo", m, 3);

    put(m, "write DEL on an empty line, then x DEL \\n", "\x7fx\x7f\n", 4);
    slave_read("slave reads", s);
    master_gets("echo", m, 6);

    put(m, "write ^A ^[ DEL \\n", "\x01\x1b\x7f\n", 4);
    slave_read("slave reads", s);
    master_gets("echo", m, 12);

    put(m, "write foo bar ^W ^W ^W \\n", "foo bar  \x17\x17\x17\n", 13);
    slave_read("slave reads", s);
    master_gets("echo", m, 38);

    put(m, "write a-b.c ^W \\n", "a-b.c\x17\n", 7);
    slave_read("slave reads", s);
    master_gets("echo", m, 10);

    put(m, "write ^O \\n", "\x0f\n", 2);
    slave_read("slave reads", s);
    master_gets("echo", m, 4);

    t = t0;
    t.c_lflag &= ~ECHOE;
    TRY("tcsetattr -echoe", tcsetattr(s, TCSANOW, &t));
    put(m, "write ab DEL ^U c \\n", "ab\x7f\x15" "c\n", 6);
    slave_read("slave reads", s);
    master_gets("echo", m, 11);

    t = t0;
    t.c_lflag &= ~ECHOKE;
    TRY("tcsetattr -echoke", tcsetattr(s, TCSANOW, &t));
    put(m, "write ab ^U c \\n", "ab\x15" "c\n", 5);
    slave_read("slave reads", s);
    master_gets("echo", m, 9);

    t = t0;
    t.c_lflag &= ~(ECHOE | ECHOKE);
    t.c_lflag |= ECHOPRT;
    TRY("tcsetattr echoprt", tcsetattr(s, TCSANOW, &t));
    put(m, "write abc DEL DEL d \\n", "abc\x7f\x7f" "d\n", 7);
    slave_read("slave reads", s);
    master_gets("echo", m, 10);

    t = t0;
    t.c_iflag |= IUTF8;
    TRY("tcsetattr iutf8", tcsetattr(s, TCSANOW, &t));
    put(m, "write a e-acute DEL \\n", "a\xc3\xa9\x7f\n", 5);
    slave_read("slave reads", s);
    master_gets("echo", m, 8);
    t.c_iflag &= ~IUTF8;
    TRY("tcsetattr -iutf8", tcsetattr(s, TCSANOW, &t));
    put(m, "write a e-acute DEL \\n", "a\xc3\xa9\x7f\n", 5);
    slave_read("slave reads", s);
    master_gets("echo", m, 8);

    t = t0;
    t.c_iflag |= ISTRIP;
    TRY("tcsetattr istrip", tcsetattr(s, TCSANOW, &t));
    put(m, "write \\xe9 \\xc1 \\n", "\xe9\xc1\n", 3);
    slave_read("slave reads", s);
    master_gets("echo", m, 4);

    t = t0;
    t.c_iflag |= IUCLC;
    TRY("tcsetattr iuclc", tcsetattr(s, TCSANOW, &t));
    put(m, "write AbC \\n", "AbC\n", 4);
    slave_read("slave reads", s);
    master_gets("echo", m, 5);

    t = t0;
    t.c_cc[VEOL2] = '%';
    TRY("tcsetattr VEOL2=%", tcsetattr(s, TCSANOW, &t));
    put(m, "write 50% \\n", "50%\n", 4);
    slave_read("slave reads", s);
    slave_read("slave reads", s);
    master_gets("echo", m, 5);

    t = t0;
    t.c_lflag &= ~IEXTEN;
    TRY("tcsetattr -iexten", tcsetattr(s, TCSANOW, &t));
    put(m, "write a ^W ^V ^R \\n", "a\x17\x16\x12\n", 5);
    slave_read("slave reads", s);
    master_gets("echo", m, 9);

    t = t0;
    t.c_cc[VERASE] = 'e';
    t.c_cc[VKILL] = 'k';
    TRY("tcsetattr VERASE=e VKILL=k", tcsetattr(s, TCSANOW, &t));
    put(m, "write xyze \\n", "xyze\n", 5);
    slave_read("slave reads", s);
    put(m, "write xyk \\n", "xyk\n", 4);
    slave_read("slave reads", s);
    master_gets("echo", m, 18);

    TRY("tcsetattr default", tcsetattr(s, TCSANOW, &t0));

    // A canonical line keeps 4095 bytes; the newline still ends it.
    static char big[5000];
    memset(big, 'x', sizeof big);
    put(m, "write 5000 x", big, sizeof big);
    put(m, "write \\n", "\n", 1);
    static char in[8192];
    long n = read(s, in, sizeof in);
    long xs = 0;
    for (long i = 0; i < n; i++) xs += in[i] == 'x';
    printf("slave reads %ld bytes, %ld x, ends with a newline %d\n", n, xs, n > 0 && in[n - 1] == '\n');
    // (5000 x, then \r\n.)
    n = readn(m, in, 5002);
    if (avail(m) > 0) n += read(m, in + n, sizeof in - n);
    xs = 0;
    for (long i = 0; i < n; i++) xs += in[i] == 'x';
    printf("the master reads %ld bytes of echo, %ld x\n", n, xs);

    // Same line in raw mode: all of it.
    t = t0;
    cfmakeraw(&t);
    TRY("tcsetattr raw", tcsetattr(s, TCSANOW, &t));
    put(m, "write 5000 x", big, sizeof big);
    n = readn(s, in, sizeof big);
    printf("slave reads %ld bytes\n", n);
    TRY("tcsetattr default", tcsetattr(s, TCSANOW, &t0));
}

static void vectors(int m, int s) {
    printf("--- readv, writev, epoll\n");
    struct iovec w[3] = {{"ab", 2}, {"", 0}, {"c\nde\n", 5}};
    TRY("writev master", writev(m, w, 3));
    char b1[2], b2[10];
    struct iovec r[2] = {{b1, 2}, {b2, 10}};
    errno = 0;
    long n = readv(s, r, 2);
    int e = errno;
    show("readv slave", n, e);
    esc("  first buffer", b1, n < 2 ? (n > 0 ? n : 0) : 2);
    esc("  second buffer", b2, n > 2 ? n - 2 : 0);
    n = readv(s, r, 2);
    printf("readv slave = %ld\n", n);
    master_gets("echo", m, 9);
    TRY("writev slave", writev(s, w, 3));
    master_gets("master reads", m, 9);
    struct iovec bad[2] = {{"ok", 2}, {(void *)1, 5}};
    TRY("writev master, second buffer bad", writev(m, bad, 2));
    put(m, "write \\n", "\n", 1);
    slave_read("slave reads", s);
    master_gets("echo", m, 2);
    RAW("write master from a bad pointer", SYS_write, m, (void *)1, 5);
    RAW("write slave from a bad pointer", SYS_write, s, (void *)1, 5);
    put(m, "write q \\n", "q\n", 2);
    wait_avail(s, 2);
    RAW("read slave into a bad pointer", SYS_read, s, (void *)1, 5);
    // Linux has taken the line anyway.
    put(m, "write r \\n", "r\n", 2);
    slave_read("slave reads", s);
    master_gets("echo", m, 6);
    // (So that a difference here does not spill over.)
    tcflush(s, TCIFLUSH);

    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN}, out[4];
    ev.data.u32 = 1;
    epoll_ctl(ep, EPOLL_CTL_ADD, m, &ev);
    ev.data.u32 = 2;
    epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev);
    TRY("epoll_wait, nothing", epoll_wait(ep, out, 4, 0));
    put(m, "write part", "part", 4);
    n = epoll_wait(ep, out, 4, 2000);
    printf("epoll_wait = %ld, first is the master %d\n", n, n >= 1 && out[0].data.u32 == 1);
    master_gets("echo", m, 4);
    TRY("epoll_wait, a partial line", epoll_wait(ep, out, 4, 100));
    TRY("epoll_ctl DEL master", epoll_ctl(ep, EPOLL_CTL_DEL, m, NULL));
    put(m, "write \\n", "\n", 1);
    n = epoll_wait(ep, out, 4, 2000);
    printf("epoll_wait = %ld, the slave %d\n", n, n == 1 && out[0].data.u32 == 2);
    slave_read("slave reads", s);
    master_gets("echo", m, 2);
    close(ep);
}

static void speeds(int m, int s) {
    printf("--- termios2\n");
    struct ktermios2 k;
    memset(&k, 0, sizeof k);
    TRY("TCGETS2", ioctl(s, K_TCGETS2, &k));
    printf("  CBAUD %#o ispeed %u ospeed %u\n", k.c_cflag & CBAUD, k.c_ispeed, k.c_ospeed);
    struct termios t0, t;
    tcgetattr(s, &t0);
    t = t0;
    cfsetspeed(&t, B9600);
    TRY("tcsetattr B9600", tcsetattr(s, TCSANOW, &t));
    tcgetattr(s, &t);
    printf("  cfgetospeed is B9600 %d\n", cfgetospeed(&t) == B9600);
    TRY("TCGETS2", ioctl(m, K_TCGETS2, &k));
    printf("  CBAUD %#o ispeed %u ospeed %u\n", k.c_cflag & CBAUD, k.c_ispeed, k.c_ospeed);
    k.c_cflag = (k.c_cflag & ~CBAUD) | K_BOTHER;
    k.c_ispeed = k.c_ospeed = 12345;
    TRY("TCSETS2 BOTHER 12345", ioctl(s, K_TCSETS2, &k));
    memset(&k, 0, sizeof k);
    TRY("TCGETS2", ioctl(s, K_TCGETS2, &k));
    printf("  CBAUD %#o ispeed %u ospeed %u\n", k.c_cflag & CBAUD, k.c_ispeed, k.c_ospeed);
    TRY("tcsetattr default (TCSADRAIN)", tcsetattr(s, TCSADRAIN, &t0));
    TRY("TCGETS2", ioctl(s, K_TCGETS2, &k));
    printf("  CBAUD %#o ispeed %u ospeed %u\n", k.c_cflag & CBAUD, k.c_ispeed, k.c_ospeed);
    RAW("TCGETS2 to a bad pointer", SYS_ioctl, s, K_TCGETS2, (void *)1);
}

static unsigned long sum(const unsigned char *b, long n, unsigned long h) {
    for (long i = 0; i < n; i++) h = h * 31 + b[i];
    return h;
}

// Sends 1 MiB from `from` to `to` through a child; returns the reader's count and checksum.
static void transfer(const char *what, int from, int to) {
    enum { TOTAL = 1 << 20 };
    static unsigned char data[TOTAL], got[65536];
    for (long i = 0; i < TOTAL; i++) data[i] = (unsigned char)(i * 7 + (i >> 9));
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        long off = 0;
        while (off < TOTAL) {
            long n = write(from, data + off, TOTAL - off > 3000 ? 3000 : TOTAL - off);
            if (n <= 0) _exit(1);
            off += n;
        }
        _exit(0);
    }
    long total = 0;
    unsigned long h = 0;
    while (total < TOTAL) {
        struct pollfd p = {to, POLLIN, 0};
        if (poll(&p, 1, 5000) != 1) break;
        long n = read(to, got, sizeof got);
        if (n <= 0) break;
        h = sum(got, n, h);
        total += n;
    }
    int st;
    waitpid(c, &st, 0);
    printf("%s: %ld bytes, checksum matches %d, writer exited %d\n", what, total,
           h == sum(data, TOTAL, 0), WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

static void bulk(int m, int s) {
    printf("--- bulk\n");
    struct termios t0, t;
    tcgetattr(s, &t0);
    t = t0;
    cfmakeraw(&t);
    TRY("tcsetattr raw", tcsetattr(s, TCSANOW, &t));
    transfer("master to slave", m, s);
    transfer("slave to master", s, m);

    // A non-blocking master fills up: EAGAIN, and the slave gets everything that was taken.
    fcntl(m, F_SETFL, O_NONBLOCK);
    static char chunk[4096];
    memset(chunk, 'f', sizeof chunk);
    long taken = 0, n;
    while ((n = write(m, chunk, sizeof chunk)) > 0) taken += n;
    int e = errno;
    printf("master write until full: %s, took at least 4096 %d\n", strerrorname_np(e), taken >= 4096);
    fcntl(m, F_SETFL, 0);
    fcntl(s, F_SETFL, O_NONBLOCK);
    long got = 0;
    long end = now_ms() + 3000;
    while (got < taken && now_ms() < end) {
        n = read(s, chunk, sizeof chunk);
        if (n > 0)
            got += n;
        else
            usleep(1000);
    }
    printf("slave got all that was taken: %d\n", got == taken);
    e = 0;
    n = read(s, chunk, sizeof chunk);
    e = errno;
    printf("then: %ld %s\n", n, strerrorname_np(e));
    fcntl(s, F_SETFL, 0);
    TRY("tcsetattr default", tcsetattr(s, TCSANOW, &t0));
}

static void keepalive(void) {
    printf("--- the master kept open\n");
    int m;
    int s = open_pair(&m);
    if (s < 0) exit(40);
    int d = dup(m);
    close(m);
    put(s, "slave writes with the master's dup open", "a", 1);
    master_gets("the dup reads", d, 1);
    fflush(stdout);
    int go[2];
    if (pipe(go)) exit(41);
    pid_t c = fork();
    if (c == 0) {
        char b;
        if (read(go[0], &b, 1) != 1) _exit(1);
        char x[8];
        long n = readn(d, x, 1);
        _exit(n == 1 && x[0] == 'b' ? 0 : 2);
    }
    close(d);
    put(s, "slave writes with only a child's copy of the master", "b", 1);
    if (write(go[1], "g", 1) != 1) exit(42);
    int st;
    waitpid(c, &st, 0);
    printf("child read it: exited %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    TRY("slave write after the last master went with the child", write(s, "c", 1));
    close(s);
}

static int body(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    opening();
    int m;
    int s = open_pair(&m);
    if (s < 0) return 10;
    editing(m, s);
    vectors(m, s);
    speeds(m, s);
    bulk(m, s);
    close(s);
    close(m);
    keepalive();
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
