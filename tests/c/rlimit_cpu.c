/* RLIMIT_CPU: past the soft limit SIGXCPU (with a handler: caught, and the soft limit moves on a
 * second), past the hard limit SIGKILL; without a handler SIGXCPU ends the process (core). */
#include <signal.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t xcpu;
static void on_xcpu(int s) { (void)s; xcpu++; }

static double cpu(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void report(const char *what, int st) {
    if (WIFSIGNALED(st))
        printf("%s: killed by signal %d\n", what, WTERMSIG(st));
    else
        printf("%s: exited %d\n", what, WEXITSTATUS(st));
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    pid_t c = fork();
    if (c == 0) {
        signal(SIGXCPU, on_xcpu);
        struct rlimit r = {1, 2};
        setrlimit(RLIMIT_CPU, &r);
        while (!xcpu) {}
        getrlimit(RLIMIT_CPU, &r);
        // (Not the CPU time itself: Linux compares tick-sampled time, which under load runs
        // ahead of the precise clock.)
        printf("SIGXCPU after %s; soft limit now %ld, hard %ld\n", cpu() > 0.2 ? "a good part of a second of CPU" : "?", (long)r.rlim_cur, (long)r.rlim_max);
        for (;;) {}
    }
    int st;
    waitpid(c, &st, 0);
    report("with a handler, at the hard limit", st);
    c = fork();
    if (c == 0) {
        struct rlimit r = {1, RLIM_INFINITY};
        setrlimit(RLIMIT_CPU, &r);
        for (;;) {}
    }
    waitpid(c, &st, 0);
    report("without a handler", st);
    return 0;
}
