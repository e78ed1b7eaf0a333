// SPDX-License-Identifier: Apache-2.0
// Differential test: signal delivery to handlers: siginfo fields, blocked signals kept pending,
// sigpending/sigsuspend/sigtimedwait, SA_RESETHAND, SA_NODEFER, nested handlers, the FP state
// kept across a handler, an alternate stack, a SIGSEGV handler that siglongjmps, SIGCHLD with
// the child's status, EINTR and SA_RESTART on a pipe read, sigqueue values, EINVAL/EFAULT.
// variants: static static-pie
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t hits, last_sig, last_code, last_pid_ok, nested;
static volatile int depth, max_depth;
static volatile long last_value;
static volatile int child_status, child_code;

static void on_info(int sig, siginfo_t *si, void *uc) {
    (void)uc;
    hits++;
    last_sig = sig;
    last_code = si->si_code;
    last_pid_ok = si->si_pid == getpid();
    last_value = si->si_value.sival_int;
}

static void on_plain(int sig) {
    hits++;
    last_sig = sig;
}

static volatile int calls;
static void on_nested(int sig) {
    depth++;
    if (depth > max_depth) max_depth = depth;
    // With SA_NODEFER this runs again at once, nested; without, after this one returns.
    if (calls++ == 0) raise(sig);
    depth--;
}

static void on_fp(int sig) {
    // Clobbers the FP/vector registers the interrupted code relies on.
    volatile double x = 1.0;
    for (int i = 0; i < 10; i++) x = x * 3.5 + sig;
    (void)x;
}

static sigjmp_buf jb;
static void on_segv(int sig, siginfo_t *si, void *uc) {
    (void)uc;
    last_sig = sig;
    last_code = si->si_code;
    last_value = (long)(si->si_addr == (void *)0x10);
    siglongjmp(jb, 1);
}

static char altstack[65536];
static volatile int on_alt;
static void on_altcheck(int sig) {
    char here;
    (void)sig;
    on_alt = &here >= altstack && &here < altstack + sizeof altstack;
    stack_t cur;
    sigaltstack(NULL, &cur);
    on_alt |= (cur.ss_flags & SS_ONSTACK) ? 2 : 0;
}

static void on_chld(int sig, siginfo_t *si, void *uc) {
    (void)sig;
    (void)uc;
    child_code = si->si_code;
    child_status = si->si_status;
}

static void install(int sig, void (*h)(int), int flags) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = h;
    sa.sa_flags = flags;
    sigemptyset(&sa.sa_mask);
    if (sigaction(sig, &sa, NULL)) perror("sigaction");
}

static void install_info(int sig, void (*h)(int, siginfo_t *, void *), int flags) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = h;
    sa.sa_flags = flags | SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    if (sigaction(sig, &sa, NULL)) perror("sigaction");
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);

    // kill to self: the handler runs before kill returns to the caller's code.
    install_info(SIGUSR1, on_info, 0);
    int r = kill(getpid(), SIGUSR1);
    printf("kill: r=%d hits=%d sig=%d code=%d pid_ok=%d\n", r, hits, last_sig, last_code,
           last_pid_ok);

    // tgkill: SI_TKILL.
    r = syscall(SYS_tgkill, getpid(), getpid(), SIGUSR1);
    printf("tgkill: r=%d hits=%d code=%d\n", r, hits, last_code);

    // sigqueue: SI_QUEUE with the value.
    union sigval v = {.sival_int = 1234};
    r = sigqueue(getpid(), SIGUSR1, v);
    printf("sigqueue: r=%d hits=%d code=%d value=%ld\n", r, hits, last_code, last_value);

    // Blocked: pending until unblocked, then delivered once (standard signals do not queue).
    sigset_t set, old, pend;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, &old);
    hits = 0;
    raise(SIGUSR1);
    raise(SIGUSR1);
    sigpending(&pend);
    printf("blocked: hits=%d pending=%d\n", hits, sigismember(&pend, SIGUSR1));
    sigprocmask(SIG_SETMASK, &old, NULL);
    sigpending(&pend);
    printf("unblocked: hits=%d pending=%d\n", hits, sigismember(&pend, SIGUSR1));

    // sigtimedwait takes a blocked pending signal without running the handler.
    sigprocmask(SIG_BLOCK, &set, NULL);
    raise(SIGUSR1);
    siginfo_t si;
    hits = 0;
    r = sigtimedwait(&set, &si, &(struct timespec){0, 0});
    printf("sigtimedwait: r=%d signo=%d hits=%d\n", r, si.si_signo, hits);
    errno = 0;
    r = sigtimedwait(&set, &si, &(struct timespec){0, 1000000});
    printf("sigtimedwait none: r=%d errno=%s\n", r, strerror(errno));
    errno = 0;
    r = sigtimedwait(&set, &si, &(struct timespec){0, 2000000000});
    printf("sigtimedwait bad timeout: r=%d errno=%s\n", r, strerror(errno));
    sigprocmask(SIG_SETMASK, &old, NULL);

    // sigsuspend: waits with the signal unblocked; the old mask comes back.
    sigprocmask(SIG_BLOCK, &set, NULL);
    hits = 0;
    pid_t p = fork();
    if (p == 0) {
        kill(getppid(), SIGUSR1);
        _exit(0);
    }
    sigset_t waitmask;
    sigemptyset(&waitmask);
    r = sigsuspend(&waitmask);
    int e = errno;
    sigset_t now;
    sigprocmask(SIG_SETMASK, NULL, &now);
    printf("sigsuspend: r=%d errno=%s hits=%d still_blocked=%d\n", r, strerror(e), hits,
           sigismember(&now, SIGUSR1));
    waitpid(p, NULL, 0);
    sigprocmask(SIG_SETMASK, &old, NULL);

    // SA_RESETHAND: the handler runs once, then the default is back.
    install(SIGUSR2, on_plain, SA_RESETHAND);
    hits = 0;
    raise(SIGUSR2);
    struct sigaction cur;
    sigaction(SIGUSR2, NULL, &cur);
    printf("resethand: hits=%d default_now=%d\n", hits, cur.sa_handler == SIG_DFL);

    // SA_NODEFER: the handler can be interrupted by its own signal.
    install(SIGUSR2, on_nested, SA_NODEFER);
    raise(SIGUSR2);
    printf("nodefer: max_depth=%d\n", max_depth);
    max_depth = 0;
    calls = 0;
    install(SIGUSR2, on_nested, 0);
    raise(SIGUSR2);
    printf("defer: max_depth=%d calls=%d\n", max_depth, calls);

    // The FP state is the same after a handler.
    install(SIGALRM, on_fp, 0);
    volatile double a = 1.0 / 3.0;
    double before = a * 7.0;
    raise(SIGALRM);
    double after = a * 7.0;
    printf("fp kept: %d\n", before == after);

    // An alternate stack.
    stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0};
    r = sigaltstack(&ss, NULL);
    install(SIGWINCH, on_altcheck, SA_ONSTACK);
    raise(SIGWINCH);
    printf("altstack: r=%d on_alt=%d\n", r, on_alt);
    ss.ss_flags = SS_DISABLE;
    sigaltstack(&ss, NULL);

    // A fault handled: siginfo has the address, siglongjmp leaves the handler.
    install_info(SIGSEGV, on_segv, 0);
    if (sigsetjmp(jb, 1) == 0) {
        *(volatile int *)0x10 = 1;
        printf("no fault?\n");
    }
    printf("segv: sig=%d code=%d addr_ok=%ld\n", last_sig, last_code, last_value);
    sigprocmask(SIG_SETMASK, NULL, &now);
    printf("segv mask restored by siglongjmp: %d\n", !sigismember(&now, SIGSEGV));

    // SIGCHLD with the child's status.
    install_info(SIGCHLD, on_chld, 0);
    p = fork();
    if (p == 0) _exit(7);
    while (child_code == 0) pause();
    int st;
    waitpid(p, &st, 0);
    printf("sigchld: code=%d status=%d wait=%d\n", child_code, child_status, WEXITSTATUS(st));
    child_code = 0;
    p = fork();
    if (p == 0) {
        raise(SIGTERM);
        _exit(1);
    }
    while (child_code == 0) pause();
    waitpid(p, &st, 0);
    printf("sigchld killed: code=%d status=%d\n", child_code, child_status);
    install(SIGCHLD, SIG_DFL, 0);

    // A pipe read interrupted: EINTR without SA_RESTART, resumed with it.
    for (int restart = 0; restart < 2; restart++) {
        int fds[2];
        if (pipe(fds)) return 1;
        install(SIGUSR1, on_plain, restart ? SA_RESTART : 0);
        hits = 0;
        p = fork();
        if (p == 0) {
            close(fds[0]);
            usleep(50000);
            kill(getppid(), SIGUSR1);
            usleep(50000);
            if (write(fds[1], "x", 1) != 1) _exit(2);
            _exit(0);
        }
        close(fds[1]);
        char c = 0;
        errno = 0;
        ssize_t n = read(fds[0], &c, 1);
        printf("read restart=%d: n=%zd errno=%s hits=%d\n", restart, n, strerror(errno), hits);
        waitpid(p, NULL, 0);
        close(fds[0]);
    }

    // nanosleep interrupted: EINTR with the time left.
    install(SIGUSR1, on_plain, SA_RESTART);
    p = fork();
    if (p == 0) {
        usleep(50000);
        kill(getppid(), SIGUSR1);
        _exit(0);
    }
    struct timespec rem = {0, 0};
    errno = 0;
    r = nanosleep(&(struct timespec){5, 0}, &rem);
    printf("nanosleep: r=%d errno=%s rem_ok=%d\n", r, strerror(errno),
           rem.tv_sec >= 3 && rem.tv_sec < 5);
    waitpid(p, NULL, 0);

    // Errors.
    errno = 0;
    r = sigaction(SIGKILL, &(struct sigaction){.sa_handler = on_plain}, NULL);
    printf("sigaction SIGKILL: r=%d errno=%s\n", r, strerror(errno));
    errno = 0;
    r = syscall(SYS_rt_sigpending, (void *)1, 8);
    printf("sigpending bad ptr: r=%d errno=%s\n", r, strerror(errno));
    errno = 0;
    r = syscall(SYS_rt_sigsuspend, (void *)1, 8);
    printf("sigsuspend bad ptr: r=%d errno=%s\n", r, strerror(errno));
    errno = 0;
    r = syscall(SYS_rt_sigqueueinfo, getpid(), SIGUSR1, &(siginfo_t){.si_code = 0});
    printf("sigqueueinfo kernel code: r=%d errno=%s\n", r, strerror(errno));
    errno = 0;
    r = kill(getpid(), 65);
    printf("kill 65: r=%d errno=%s\n", r, strerror(errno));

    // Default action of a handled-then-reset signal ends the process: status 128+SIGUSR2.
    install(SIGUSR2, SIG_DFL, 0);
    raise(SIGUSR2);
    printf("not reached\n");
    return 0;
}
