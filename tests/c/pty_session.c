// SPDX-License-Identifier: Apache-2.0
// Differential test: a pseudo-terminal as a controlling terminal: a session leader acquires it by
// opening the slave (TIOCGSID/tcgetsid, tcgetpgrp, /dev/tty), TIOCSCTTY and its EPERM cases,
// VINTR/VQUIT/VSUSP and TIOCSIG signal the foreground group (and not a background group),
// SIGWINCH on a new window size, job control (SIGTTIN for a background read, EIO when SIGTTIN
// is ignored or blocked or the group is orphaned, SIGTTOU for background writes with TOSTOP and
// for terminal changes, tcsetpgrp and its errors), and hangups: TIOCNOTTY by the leader, the
// master closing (SIGHUP and SIGCONT to the session leader), the session leader exiting (SIGHUP
// to the foreground group). Terminal signals carry si_code SI_KERNEL, except TIOCNOTTY's, which
// are SI_USER from the leader.
// Each session's leader is a child of the first process, which is a child subreaper so that it
// reaps the processes those sessions leave behind.
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
#include <sys/prctl.h>
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

// Reads up to n bytes, waiting at most 2 s for them.
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

// What the master reads (n bytes expected); anything more is reported and dropped.
static void master_gets(const char *what, int m, long n) {
    char b[256];
    long got = readn(m, b, n);
    esc(what, b, got);
    int left = avail(m);
    if (left > 0) {
        printf("  and %d more\n", left);
        if (read(m, b, left < (int)sizeof b ? left : (int)sizeof b) < 0) exit(30);
    }
}

// One read of the slave, printed.
static void slave_read(const char *what, int s) {
    char b[256];
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

static const char *sig_name(int sig) {
    const char *n = sigabbrev_np(sig);
    return n ? n : "?";
}

static pid_t last_si_pid;

// Waits at most 2 s for `sig` (blocked) and prints its si_code (its si_pid is kept).
static void expect_sig(const char *who, int sig) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    struct timespec ts = {2, 0};
    siginfo_t si;
    memset(&si, 0, sizeof si);
    int r = sigtimedwait(&set, &si, &ts);
    int e = errno;
    last_si_pid = si.si_pid;
    if (r < 0)
        printf("%s: no SIG%s (%s)\n", who, sig_name(sig), strerrorname_np(e));
    else
        printf("%s: SIG%s, si_code %d\n", who, sig_name(r), si.si_code);
}

static int pending(int sig) {
    sigset_t s;
    sigpending(&s);
    return sigismember(&s, sig);
}

static void block(int sig) {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, sig);
    sigprocmask(SIG_BLOCK, &s, NULL);
}

static void unblock(int sig) {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, sig);
    sigprocmask(SIG_UNBLOCK, &s, NULL);
}

static void status(const char *what, int st) {
    if (WIFSTOPPED(st))
        printf("%s: stopped by SIG%s\n", what, sig_name(WSTOPSIG(st)));
    else if (WIFEXITED(st))
        printf("%s: exited %d\n", what, WEXITSTATUS(st));
    else if (WIFSIGNALED(st))
        printf("%s: killed by SIG%s\n", what, sig_name(WTERMSIG(st)));
}

// Exit status of a child's call: 0 for success, 100 + errno for a failure.
static int rc(long r) {
    return r < 0 ? 100 + errno : 0;
}

static void sync_write(int fd) {
    if (write(fd, "s", 1) != 1) _exit(90);
}

static void sync_read(int fd) {
    char b;
    if (read(fd, &b, 1) != 1) _exit(91);
}

static int open_master(char *name, size_t len) {
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    if (m < 0 || grantpt(m) || unlockpt(m) || ptsname_r(m, name, len)) exit(20);
    return m;
}

// ---- the first session: acquiring the terminal, signals, job control ------------------------

static int S, M;
static char NAME[64];

static volatile sig_atomic_t got_int, int_code;

static void on_int(int sig, siginfo_t *si, void *uc) {
    (void)sig;
    (void)uc;
    got_int++;
    int_code = si->si_code;
}

// Runs fn in a child in a process group of its own (so in the background), and prints how it
// ended; a child stopped by job control is killed.
static void bg(const char *what, int (*fn)(void)) {
    int go[2];
    if (pipe(go)) exit(21);
    pid_t c = fork();
    if (c == 0) {
        close(go[1]);
        setpgid(0, 0);
        sync_read(go[0]);
        _exit(fn());
    }
    close(go[0]);
    setpgid(c, c);
    sync_write(go[1]);
    close(go[1]);
    int st;
    waitpid(c, &st, WUNTRACED);
    status(what, st);
    if (WIFSTOPPED(st)) {
        kill(c, SIGKILL);
        waitpid(c, &st, 0);
    }
}

static int bg_read(void) {
    char b[64];
    return rc(read(S, b, sizeof b));
}

static int bg_read_ign(void) {
    signal(SIGTTIN, SIG_IGN);
    return bg_read();
}

static int bg_read_blocked(void) {
    block(SIGTTIN);
    return bg_read();
}

static int bg_write(void) {
    return rc(write(S, "bg\n", 3));
}

static int bg_write_ign(void) {
    signal(SIGTTOU, SIG_IGN);
    return bg_write();
}

static int bg_write_blocked(void) {
    block(SIGTTOU);
    return bg_write();
}

static int bg_tcsetattr(void) {
    struct termios t;
    if (tcgetattr(S, &t)) return 99;
    return rc(tcsetattr(S, TCSANOW, &t));
}

static int bg_tcsetattr_ign(void) {
    signal(SIGTTOU, SIG_IGN);
    return bg_tcsetattr();
}

static int bg_tcsetpgrp(void) {
    return rc(tcsetpgrp(S, getpgrp()));
}

static int bg_tcflush(void) {
    return rc(tcflush(S, TCIFLUSH));
}

static int bg_tcgetattr(void) {
    struct termios t;
    return rc(tcgetattr(S, &t));
}

static int bg_tcgetpgrp(void) {
    pid_t p = tcgetpgrp(S);
    if (p < 0) return rc(p);
    return p == getsid(0) ? 0 : 1;
}

static int bg_winsize(void) {
    struct winsize ws = {30, 90, 0, 0};
    return rc(ioctl(S, TIOCSWINSZ, &ws));
}

static void acquire(void) {
    printf("--- acquiring\n");
    TRY("setsid is me", setsid() == getpid());
    errno = 0;
    int r = open("/dev/tty", O_RDWR);
    int e = errno;
    show("open /dev/tty before", r, e);
    S = open(NAME, O_RDWR);
    printf("open slave without O_NOCTTY: ok %d\n", S >= 0);
    printf("tcgetsid is me: %d\n", tcgetsid(S) == getpid());
    pid_t sid = -1;
    TRY("TIOCGSID", ioctl(S, TIOCGSID, &sid));
    printf("  is me: %d\n", sid == getpid());
    sid = -1;
    TRY("TIOCGSID on the master", ioctl(M, TIOCGSID, &sid));
    printf("  is me: %d\n", sid == getpid());
    printf("tcgetpgrp is my group: %d\n", tcgetpgrp(S) == getpgrp());
    printf("tcgetpgrp on the master is my group: %d\n", tcgetpgrp(M) == getpgrp());
    TRY("TIOCSCTTY again", ioctl(S, TIOCSCTTY, 0));

    int t = open("/dev/tty", O_RDWR);
    printf("open /dev/tty: ok %d\n", t >= 0);
    printf("isatty(/dev/tty) %d\n", isatty(t));
    struct stat st;
    TRY("fstat /dev/tty", fstat(t, &st));
    printf("  chr %d major %u minor %u\n", S_ISCHR(st.st_mode), major(st.st_rdev), minor(st.st_rdev));
    char path[64], link[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", t);
    long n = readlink(path, link, sizeof link - 1);
    if (n >= 0) link[n] = 0;
    printf("/proc/self/fd of /dev/tty is /dev/tty: %d\n", n >= 0 && strcmp(link, "/dev/tty") == 0);
    printf("tcgetsid(/dev/tty) is me: %d\n", tcgetsid(t) == getpid());
    unsigned ptn;
    RAW("TIOCGPTN on /dev/tty", SYS_ioctl, t, TIOCGPTN, &ptn);
    put(t, "write to /dev/tty", "via tty\n", 8);
    master_gets("master reads", M, 9);
    close(t);

    // EPERM: a process that is not a session leader.
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        errno = 0;
        long r2 = ioctl(S, TIOCSCTTY, 0);
        _exit(rc(r2));
    }
    int w;
    waitpid(c, &w, 0);
    status("TIOCSCTTY by a member of the session", w);

    // EPERM: a leader that has a controlling terminal already.
    char name2[64];
    int m2 = open_master(name2, sizeof name2);
    int s2 = open(name2, O_RDWR | O_NOCTTY);
    RAW("TIOCSCTTY of a second terminal", SYS_ioctl, s2, TIOCSCTTY, 0);
    int x = open(name2, O_RDWR);
    printf("open of the second slave without O_NOCTTY: ok %d\n", x >= 0);
    RAW("  it did not become ours: TIOCGSID", SYS_ioctl, m2, TIOCGSID, &sid);
    close(x);

    // Another session: this terminal is taken; the second one is free.
    c = fork();
    if (c == 0) {
        setsid();
        errno = 0;
        r = ioctl(S, TIOCSCTTY, 0);
        e = errno;
        show("other session: TIOCSCTTY of a taken terminal", r, e);
        int y = open(NAME, O_RDWR);
        printf("other session: open the taken slave: ok %d\n", y >= 0);
        errno = 0;
        r = open("/dev/tty", O_RDWR);
        e = errno;
        show("other session: open /dev/tty", r, e);
        errno = 0;
        r = ioctl(s2, TIOCSCTTY, 0);
        e = errno;
        show("other session: TIOCSCTTY of the free terminal", r, e);
        printf("other session: tcgetsid is me: %d\n", tcgetsid(s2) == getpid());
        int z = open("/dev/tty", O_RDWR);
        printf("other session: open /dev/tty: ok %d\n", z >= 0);
        _exit(0);
    }
    waitpid(c, &w, 0);
    status("other session", w);
    // Its leader exited: the second terminal has no session any more.
    RAW("TIOCGSID of the second terminal", SYS_ioctl, m2, TIOCGSID, &sid);
    pid_t pg = -1;
    TRY("TIOCGPGRP of the second terminal", ioctl(m2, TIOCGPGRP, &pg));
    printf("  %d\n", pg);
    close(s2);
    close(m2);

    pg = getpgrp();
    RAW("TIOCSPGRP on the master, to my group", SYS_ioctl, M, TIOCSPGRP, &pg);
    pg = -1;
    RAW("tcsetpgrp -1", SYS_ioctl, S, TIOCSPGRP, &pg);
    pg = 999999;
    RAW("tcsetpgrp 999999", SYS_ioctl, S, TIOCSPGRP, &pg);
    pg = getpgid(getppid());
    RAW("tcsetpgrp to a group of another session", SYS_ioctl, S, TIOCSPGRP, &pg);
    RAW("tcsetpgrp bad pointer", SYS_ioctl, S, TIOCSPGRP, (void *)1);
    RAW("tcgetpgrp bad pointer", SYS_ioctl, S, TIOCGPGRP, (void *)1);
    RAW("TIOCGSID bad pointer", SYS_ioctl, S, TIOCGSID, (void *)1);
}

static void signals(void) {
    printf("--- signals\n");
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_int;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGINT, &sa, NULL);
    block(SIGINT);
    block(SIGQUIT);
    block(SIGTSTP);
    block(SIGWINCH);
    block(SIGUSR1);

    // A member of the foreground group, and a background group.
    int fready[2], fgo[2], gready[2], ggo[2];
    if (pipe(fready) || pipe(fgo) || pipe(gready) || pipe(ggo)) exit(22);
    fflush(stdout);
    pid_t f = fork();
    if (f == 0) {
        sync_write(fready[1]);
        sync_read(fgo[0]);
        expect_sig("foreground member", SIGINT);
        _exit(0);
    }
    pid_t g = fork();
    if (g == 0) {
        setpgid(0, 0);
        sync_write(gready[1]);
        sync_read(ggo[0]);
        printf("background group: SIGINT pending %d\n", pending(SIGINT));
        _exit(0);
    }
    setpgid(g, g);
    sync_read(fready[0]);
    sync_read(gready[0]);

    // ^C: a handler runs.
    alarm(10);
    put(M, "write ^C", "\x03", 1);
    sigset_t wait;
    sigprocmask(SIG_SETMASK, NULL, &wait);
    sigdelset(&wait, SIGINT);
    while (!got_int) sigsuspend(&wait);
    alarm(0);
    printf("leader: SIGINT handled %d times, si_code %d\n", (int)got_int, (int)int_code);
    sync_write(fgo[1]);
    int st;
    waitpid(f, &st, 0);
    status("foreground member", st);
    master_gets("echo", M, 2);
    // Once a line typed after it is read, the ^C has been handled everywhere.
    put(M, "write \\n", "\n", 1);
    char b[64];
    TRY("slave reads", read(S, b, sizeof b));
    master_gets("echo", M, 2);
    sync_write(ggo[1]);
    waitpid(g, &st, 0);
    status("background group", st);

    put(M, "write ^\\", "\x1c", 1);
    expect_sig("leader", SIGQUIT);
    master_gets("echo", M, 2);
    put(M, "write ^Z", "\x1a", 1);
    expect_sig("leader", SIGTSTP);
    master_gets("echo", M, 2);
    // Typed input before the signal character is discarded, and so is the line after VLNEXT.
    put(M, "write abc ^C def \\n", "abc\x03" "def\n", 8);
    expect_sig("leader", SIGINT);
    slave_read("slave reads", S);
    master_gets("echo", M, 7);
    put(M, "write ^V ^C \\n", "\x16\x03\n", 3);
    slave_read("slave reads", S);
    printf("  no SIGINT: %d\n", !pending(SIGINT));
    master_gets("echo", M, 6);

    // Without ISIG the characters are data.
    struct termios t0, t;
    tcgetattr(S, &t0);
    t = t0;
    t.c_lflag &= ~ISIG;
    TRY("tcsetattr -isig", tcsetattr(S, TCSANOW, &t));
    put(M, "write ^C ^\\ ^Z \\n", "\x03\x1c\x1a\n", 4);
    slave_read("slave reads", S);
    printf("  no SIGINT %d SIGQUIT %d SIGTSTP %d\n", !pending(SIGINT), !pending(SIGQUIT),
           !pending(SIGTSTP));
    master_gets("echo", M, 8);
    // Other characters.
    t = t0;
    t.c_cc[VINTR] = 'q';
    t.c_cc[VSUSP] = 0;
    TRY("tcsetattr VINTR=q VSUSP=disabled", tcsetattr(S, TCSANOW, &t));
    put(M, "write ^Z q", "\x1aq", 2);
    expect_sig("leader", SIGINT);
    printf("  no SIGTSTP: %d\n", !pending(SIGTSTP));
    TRY("tcsetattr default", tcsetattr(S, TCSANOW, &t0));
    put(M, "write \\n", "\n", 1);
    slave_read("slave reads (q flushed the ^Z)", S);
    master_gets("echo", M, 3);

    TRY("TIOCSIG SIGQUIT", ioctl(M, TIOCSIG, SIGQUIT));
    expect_sig("leader", SIGQUIT);
    RAW("TIOCSIG SIGUSR1", SYS_ioctl, M, TIOCSIG, SIGUSR1);
    RAW("TIOCSIG 0", SYS_ioctl, M, TIOCSIG, 0);
    RAW("TIOCSIG on the slave", SYS_ioctl, S, TIOCSIG, SIGINT);
    printf("  no SIGUSR1 %d SIGINT %d\n", !pending(SIGUSR1), !pending(SIGINT));

    struct winsize ws = {25, 81, 0, 0};
    TRY("TIOCSWINSZ on the master", ioctl(M, TIOCSWINSZ, &ws));
    expect_sig("leader", SIGWINCH);
    TRY("TIOCSWINSZ, same size", ioctl(M, TIOCSWINSZ, &ws));
    printf("  no SIGWINCH: %d\n", !pending(SIGWINCH));
    ws.ws_row = 26;
    TRY("TIOCSWINSZ on the slave", ioctl(S, TIOCSWINSZ, &ws));
    expect_sig("leader", SIGWINCH);
}

static void job_control(void) {
    printf("--- job control\n");
    char b[64];
    // A background reader stops; made the foreground and continued, it reads.
    put(M, "write fg line \\n", "fg line\n", 8);
    master_gets("echo", M, 9);
    int go[2];
    if (pipe(go)) exit(23);
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        setpgid(0, 0);
        sync_read(go[0]);
        long n = read(S, b, sizeof b);
        _exit(n < 0 ? 100 + errno : n);
    }
    setpgid(c, c);
    sync_write(go[1]);
    int st;
    waitpid(c, &st, WUNTRACED);
    status("background reader", st);
    TRY("tcsetpgrp to its group", tcsetpgrp(S, c));
    printf("tcgetpgrp is its group: %d\n", tcgetpgrp(S) == c);
    kill(c, SIGCONT);
    waitpid(c, &st, 0);
    status("continued reader", st);
    // Now this process is in the background, and its group is orphaned (its parent is in
    // another session).
    printf("tcgetpgrp is still the gone group: %d\n", tcgetpgrp(S) == c);
    TRY("orphaned background read", read(S, b, sizeof b));
    struct termios t0;
    TRY("orphaned background tcgetattr", tcgetattr(S, &t0));
    TRY("orphaned background tcsetattr", tcsetattr(S, TCSANOW, &t0));
    TRY("orphaned background tcsetpgrp", tcsetpgrp(S, getpgrp()));
    put(S, "orphaned background write", "bgw\n", 4);
    master_gets("master reads", M, 5);
    block(SIGTTOU);
    TRY("tcsetpgrp back with SIGTTOU blocked", tcsetpgrp(S, getpgrp()));
    unblock(SIGTTOU);
    printf("tcgetpgrp is mine: %d\n", tcgetpgrp(S) == getpgrp());

    put(M, "write line \\n", "line\n", 5);
    master_gets("echo", M, 6);
    bg("background read", bg_read);
    bg("background read, SIGTTIN ignored", bg_read_ign);
    bg("background read, SIGTTIN blocked", bg_read_blocked);
    TRY("the line is still there", read(S, b, sizeof b));
    bg("background write", bg_write);
    master_gets("master reads", M, 4);
    bg("background tcsetattr", bg_tcsetattr);
    bg("background tcsetattr, SIGTTOU ignored", bg_tcsetattr_ign);
    bg("background tcsetpgrp", bg_tcsetpgrp);
    bg("background tcflush", bg_tcflush);
    bg("background tcgetattr", bg_tcgetattr);
    bg("background tcgetpgrp", bg_tcgetpgrp);
    bg("background TIOCSWINSZ", bg_winsize);
    expect_sig("leader (foreground)", SIGWINCH);
    struct termios t = t0;
    t.c_lflag |= TOSTOP;
    TRY("tcsetattr tostop", tcsetattr(S, TCSANOW, &t));
    bg("background write, TOSTOP", bg_write);
    bg("background write, TOSTOP, SIGTTOU ignored", bg_write_ign);
    master_gets("master reads", M, 4);
    bg("background write, TOSTOP, SIGTTOU blocked", bg_write_blocked);
    master_gets("master reads", M, 4);
    TRY("tcsetattr -tostop", tcsetattr(S, TCSANOW, &t0));

    // A group orphaned by its parent's exit: the background read fails.
    int res[2], ogo[2];
    if (pipe(res) || pipe(ogo)) exit(24);
    fflush(stdout);
    c = fork();
    if (c == 0) {
        close(res[0]);
        close(ogo[1]);
        setpgid(0, 0);
        pid_t gc = fork();
        if (gc == 0) {
            // Goes on once its parent has exited and been reaped.
            sync_read(ogo[0]);
            unsigned char r = bg_read();
            if (write(res[1], &r, 1) != 1) _exit(96);
            _exit(0);
        }
        _exit(0);
    }
    close(res[1]);
    close(ogo[0]);
    waitpid(c, &st, 0);
    sync_write(ogo[1]);
    close(ogo[1]);
    unsigned char r = 0;
    if (read(res[0], &r, 1) != 1) r = 255;
    close(res[0]);
    printf("background read in an orphaned group: %d\n", r);

    // tcsetpgrp to the pid of a process that leads no group: Linux takes a pid of the session.
    int cgo[2];
    if (pipe(cgo)) exit(25);
    c = fork();
    if (c == 0) {
        sync_read(cgo[0]);
        _exit(0);
    }
    errno = 0;
    long rr = tcsetpgrp(S, c);
    int e = errno;
    show("tcsetpgrp to a pid that is not a group", rr, e);
    block(SIGTTOU);
    tcsetpgrp(S, getpgrp());
    unblock(SIGTTOU);
    sync_write(cgo[1]);
    waitpid(c, &st, 0);
}

static int first_session(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    acquire();
    signals();
    job_control();
    close(S);
    close(M);
    return 0;
}

// ---- hangups ---------------------------------------------------------------------------------

// The leader gives the terminal up (TIOCNOTTY): its foreground group gets SIGHUP and SIGCONT.
static int notty_session(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    printf("--- TIOCNOTTY\n");
    setsid();
    block(SIGHUP);
    block(SIGCONT);
    S = open(NAME, O_RDWR);
    int ready[2], go[2];
    if (pipe(ready) || pipe(go)) exit(26);
    pid_t f = fork();
    if (f == 0) {
        sync_write(ready[1]);
        sync_read(go[0]);
        expect_sig("member", SIGHUP);
        printf("  si_pid is the leader: %d\n", last_si_pid == getppid());
        expect_sig("member", SIGCONT);
        errno = 0;
        int r = open("/dev/tty", O_RDWR);
        int e = errno;
        show("member: open /dev/tty", r, e);
        errno = 0;
        r = ioctl(S, TIOCNOTTY);
        e = errno;
        show("member: TIOCNOTTY", r, e);
        _exit(0);
    }
    // A member that gives the terminal up alone.
    pid_t f2 = fork();
    if (f2 == 0) {
        errno = 0;
        int r = ioctl(S, TIOCNOTTY);
        int e = errno;
        show("member 2: TIOCNOTTY", r, e);
        errno = 0;
        r = open("/dev/tty", O_RDWR);
        e = errno;
        show("member 2: open /dev/tty", r, e);
        _exit(0);
    }
    int st;
    waitpid(f2, &st, 0);
    printf("leader still has it: %d\n", tcgetsid(S) == getpid());
    printf("no SIGHUP yet: %d\n", !pending(SIGHUP));
    sync_read(ready[0]);
    TRY("TIOCNOTTY", ioctl(S, TIOCNOTTY));
    expect_sig("leader", SIGHUP);
    printf("  si_pid is the leader: %d\n", last_si_pid == getpid());
    expect_sig("leader", SIGCONT);
    sync_write(go[1]);
    waitpid(f, &st, 0);
    status("member", st);
    errno = 0;
    int r = open("/dev/tty", O_RDWR);
    int e = errno;
    show("leader: open /dev/tty", r, e);
    errno = 0;
    r = tcgetsid(S);
    e = errno;
    show("leader: tcgetsid", r, e);
    TRY("TIOCNOTTY again", ioctl(S, TIOCNOTTY));
    TRY("TIOCSCTTY takes it again", ioctl(S, TIOCSCTTY, 0));
    printf("leader: tcgetsid is me: %d\n", tcgetsid(S) == getpid());
    return 0;
}

// The master closes: the session leader gets SIGHUP and SIGCONT, the slave hangs up.
static int master_close_session(int rd, int wr) {
    setvbuf(stdout, NULL, _IONBF, 0);
    printf("--- the master closes\n");
    close(M);
    setsid();
    block(SIGHUP);
    block(SIGCONT);
    S = open(NAME, O_RDWR);
    int ready[2], go[2];
    if (pipe(ready) || pipe(go)) exit(27);
    pid_t f = fork();
    if (f == 0) {
        sync_write(ready[1]);
        sync_read(go[0]);
        printf("member: SIGHUP pending %d, SIGCONT pending %d\n", pending(SIGHUP), pending(SIGCONT));
        _exit(0);
    }
    sync_read(ready[0]);
    sync_write(wr);
    sync_read(rd);
    expect_sig("leader", SIGHUP);
    printf("  si_pid %d\n", (int)last_si_pid);
    expect_sig("leader", SIGCONT);
    sync_write(go[1]);
    int st;
    waitpid(f, &st, 0);
    status("member", st);
    errno = 0;
    int r = open("/dev/tty", O_RDWR);
    int e = errno;
    show("leader: open /dev/tty", r, e);
    char b[8];
    TRY("leader: read the slave", read(S, b, sizeof b));
    TRY("leader: write the slave", write(S, "x", 1));
    errno = 0;
    r = tcgetsid(S);
    e = errno;
    show("leader: tcgetsid", r, e);
    close(S);
    // A new terminal can be the controlling one.
    char name[64];
    int m = open_master(name, sizeof name);
    int s = open(name, O_RDWR);
    printf("leader: a new terminal is mine: %d\n", tcgetsid(s) == getpid());
    close(s);
    close(m);
    return 0;
}

// The session leader exits: its foreground group gets SIGHUP, a background group nothing.
static void leader_exit(void) {
    int fready[2], gready[2], fgo[2], ggo[2], pids[2];
    if (pipe(fready) || pipe(gready) || pipe(fgo) || pipe(ggo) || pipe(pids)) exit(28);
    fflush(stdout);
    pid_t l = fork();
    if (l == 0) {
        setsid();
        block(SIGHUP);
        block(SIGCONT);
        S = open(NAME, O_RDWR);
        pid_t f = fork();
        if (f == 0) {
            sync_write(fready[1]);
            sync_read(fgo[0]);
            expect_sig("foreground member", SIGHUP);
            printf("  si_pid %d\n", (int)last_si_pid);
            printf("foreground member: SIGCONT pending %d\n", pending(SIGCONT));
            errno = 0;
            int r = open("/dev/tty", O_RDWR);
            int e = errno;
            show("foreground member: open /dev/tty", r, e);
            errno = 0;
            r = tcgetpgrp(S);
            e = errno;
            show("foreground member: tcgetpgrp", r, e);
            // The terminal is free: a new session can take it.
            printf("foreground member: setsid ok %d\n", setsid() == getpid());
            errno = 0;
            r = ioctl(S, TIOCSCTTY, 0);
            e = errno;
            show("foreground member: TIOCSCTTY", r, e);
            _exit(0);
        }
        pid_t g = fork();
        if (g == 0) {
            setpgid(0, 0);
            sync_write(gready[1]);
            sync_read(ggo[0]);
            printf("background member: SIGHUP pending %d, SIGCONT pending %d\n", pending(SIGHUP),
                   pending(SIGCONT));
            _exit(0);
        }
        setpgid(g, g);
        sync_read(fready[0]);
        sync_read(gready[0]);
        pid_t fg[2] = {f, g};
        if (write(pids[1], fg, sizeof fg) != sizeof fg) _exit(92);
        _exit(0);
    }
    pid_t fg[2] = {0, 0};
    if (read(pids[0], fg, sizeof fg) != sizeof fg) exit(29);
    int st;
    waitpid(l, &st, 0);
    status("session leader", st);
    pid_t sid = 0;
    RAW("TIOCGSID on the master", SYS_ioctl, M, TIOCGSID, &sid);
    pid_t pg = -1;
    TRY("TIOCGPGRP on the master", ioctl(M, TIOCGPGRP, &pg));
    printf("  %d\n", pg);
    // The foreground member, then the background one (both now children of this subreaper).
    sync_write(fgo[1]);
    waitpid(fg[0], &st, 0);
    status("foreground member", st);
    sync_write(ggo[1]);
    waitpid(fg[1], &st, 0);
    status("background member", st);
    RAW("TIOCGSID on the master after the member's session ended", SYS_ioctl, M, TIOCGSID, &sid);
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
    setvbuf(stdout, NULL, _IONBF, 0);
    // Reaps what the sessions leave behind (natively; in the sandbox this is PID 1 anyway).
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    int st;

    M = open_master(NAME, sizeof NAME);
    pid_t c = fork();
    if (c == 0) _exit(first_session());
    waitpid(c, &st, 0);
    status("first session", st);
    while (waitpid(-1, &st, WNOHANG) > 0) {
    }
    close(M);

    M = open_master(NAME, sizeof NAME);
    c = fork();
    if (c == 0) _exit(notty_session());
    waitpid(c, &st, 0);
    status("TIOCNOTTY session", st);
    close(M);

    M = open_master(NAME, sizeof NAME);
    int p2c[2], c2p[2];
    if (pipe(p2c) || pipe(c2p)) return 10;
    c = fork();
    if (c == 0) _exit(master_close_session(p2c[0], c2p[1]));
    sync_read(c2p[0]);
    close(M);
    sync_write(p2c[1]);
    waitpid(c, &st, 0);
    status("hung-up session", st);

    printf("--- the session leader exits\n");
    M = open_master(NAME, sizeof NAME);
    leader_exit();
    close(M);
    while (waitpid(-1, &st, WNOHANG) > 0) {
    }
    return 0;
}
