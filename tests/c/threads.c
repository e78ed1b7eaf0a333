// SPDX-License-Identifier: Apache-2.0
// Differential test: threads (pthread create/join/detach, mutexes and condition variables over
// futexes, thread ids, a thread's own signal mask, pthread_kill, a process-directed signal
// taken by the thread that does not block it, pthread_exit of the main thread, fork and exec from
// a thread) and raw futex calls (WAIT's EAGAIN and ETIMEDOUT, WAKE counts, CMP_REQUEUE, bitsets,
// EINVAL and EFAULT).
// variants: static static-pie
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long futex(uint32_t *uaddr, int op, uint32_t val, const struct timespec *ts, uint32_t *u2,
                  uint32_t val3) {
    return syscall(SYS_futex, uaddr, op, val, ts, u2, val3);
}

#define TRY(what, call)                                    \
    do {                                                   \
        errno = 0;                                         \
        long r_ = (long)(call);                            \
        printf("%s: %ld %s\n", what, r_, strerror(errno)); \
    } while (0)

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int counter, arrived;

static void *counting(void *arg) {
    for (int i = 0; i < 2000; i++) {
        pthread_mutex_lock(&mu);
        counter++;
        pthread_mutex_unlock(&mu);
        if (i % 500 == 0) sched_yield();
    }
    pthread_mutex_lock(&mu);
    arrived++;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    return arg;
}

static _Atomic int tid_differs;
static void *tid_check(void *arg) {
    (void)arg;
    tid_differs = syscall(SYS_gettid) != getpid();
    return NULL;
}

static _Atomic int usr1_in_main, usr1_in_thread;
static pthread_t main_thread;
static void on_usr1(int s) {
    (void)s;
    if (pthread_equal(pthread_self(), main_thread))
        usr1_in_main++;
    else
        usr1_in_thread++;
}

static _Atomic int go;
static void *takes_usr1(void *arg) {
    (void)arg;
    sigset_t none;
    sigemptyset(&none);
    pthread_sigmask(SIG_SETMASK, &none, NULL);
    go = 1;
    while (usr1_in_thread == 0) usleep(1000);
    return NULL;
}

static uint32_t fword;
static _Atomic int waiters_in;
static void *futex_waiter(void *arg) {
    (void)arg;
    waiters_in++;
    while (futex(&fword, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0) == -1 && errno == EINTR) {
    }
    return NULL;
}

static void *forker(void *arg) {
    (void)arg;
    pid_t c = fork();
    if (c == 0) {
        // Only the forking thread exists in the child.
        _exit(21);
    }
    int st;
    waitpid(c, &st, 0);
    return (void *)(long)WEXITSTATUS(st);
}

static void *faulting(void *arg) {
    (void)arg;
    return (void *)(long)*(volatile int *)8;
}

static void *last_words(void *arg) {
    (void)arg;
    usleep(20000);
    printf("thread outlives pthread_exit of main: counter=%d\n", counter);
    exit(3);
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc > 1 && strcmp(argv[1], "exec-child") == 0) {
        printf("exec'd from a thread: pid==tid %d\n", getpid() == syscall(SYS_gettid));
        return 0;
    }
    main_thread = pthread_self();

    // Mutex and condition variable between four threads.
    pthread_t t[4];
    for (long i = 0; i < 4; i++) pthread_create(&t[i], NULL, counting, (void *)i);
    pthread_mutex_lock(&mu);
    while (arrived < 4) pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    long sum = 0;
    for (int i = 0; i < 4; i++) {
        void *r;
        pthread_join(t[i], &r);
        sum += (long)r;
    }
    printf("counter=%d joined sum=%ld\n", counter, sum);

    pthread_create(&t[0], NULL, tid_check, NULL);
    pthread_join(t[0], NULL);
    printf("thread tid differs from pid: %d\n", tid_differs);

    // A detached thread.
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    printf("detached create: %d\n", pthread_create(&t[0], &at, tid_check, NULL));

    // pthread_kill to the main thread; a process-directed signal while main blocks it.
    signal(SIGUSR1, on_usr1);
    pthread_kill(pthread_self(), SIGUSR1);
    printf("pthread_kill self: main=%d thread=%d\n", usr1_in_main, usr1_in_thread);
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &usr1, NULL);
    pthread_create(&t[0], NULL, takes_usr1, NULL);
    while (!go) usleep(1000);
    kill(getpid(), SIGUSR1);
    pthread_join(t[0], NULL);
    printf("kill(getpid) taken by the unblocked thread: main=%d thread=%d\n", usr1_in_main,
           usr1_in_thread);
    pthread_sigmask(SIG_UNBLOCK, &usr1, NULL);

    // Raw futex calls.
    fword = 1;
    TRY("WAIT value differs", futex(&fword, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0));
    fword = 0;
    struct timespec short_ts = {0, 20000000};
    TRY("WAIT times out", futex(&fword, FUTEX_WAIT_PRIVATE, 0, &short_ts, NULL, 0));
    TRY("WAIT misaligned", futex((uint32_t *)((char *)&fword + 1), FUTEX_WAIT, 0, NULL, NULL, 0));
    TRY("WAIT unmapped", futex((uint32_t *)8, FUTEX_WAIT, 0, NULL, NULL, 0));
    TRY("WAIT_BITSET empty", futex(&fword, FUTEX_WAIT_BITSET, 0, NULL, NULL, 0));
    TRY("WAKE nobody", futex(&fword, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0));
    TRY("bad op", futex(&fword, 99, 0, NULL, NULL, 0));
    for (int i = 0; i < 3; i++) pthread_create(&t[i], NULL, futex_waiter, NULL);
    while (waiters_in < 3) usleep(1000);
    usleep(30000);  // let them reach FUTEX_WAIT
    uint32_t other = 0;
    TRY("CMP_REQUEUE wrong value", futex(&fword, FUTEX_CMP_REQUEUE_PRIVATE, 1,
                                         (const struct timespec *)1, &other, 5));
    TRY("CMP_REQUEUE wake 1 move 1", futex(&fword, FUTEX_CMP_REQUEUE_PRIVATE, 1,
                                           (const struct timespec *)1, &other, 0));
    TRY("WAKE rest on fword", futex(&fword, FUTEX_WAKE_PRIVATE, 10, NULL, NULL, 0));
    TRY("WAKE requeued on other", futex(&other, FUTEX_WAKE_PRIVATE, 10, NULL, NULL, 0));
    for (int i = 0; i < 3; i++) pthread_join(t[i], NULL);
    printf("futex waiters all joined\n");

    // fork from a thread.
    void *r;
    pthread_create(&t[0], NULL, forker, NULL);
    pthread_join(t[0], &r);
    printf("fork from a thread: child status %ld\n", (long)r);

    // exec from a thread (in a child, so this process goes on).
    pid_t c = fork();
    if (c == 0) {
        pthread_create(&t[0], NULL, counting, NULL);  // a sibling the exec must end
        pthread_t ex;
        pthread_create(&ex, NULL, faulting, NULL);
        pthread_join(ex, NULL);
        _exit(99);  // not reached: the fault ends the whole process
    }
    int st;
    waitpid(c, &st, 0);
    printf("a fault in a thread kills the process: signaled=%d sig=%d\n", WIFSIGNALED(st),
           WTERMSIG(st));

    c = fork();
    if (c == 0) {
        pthread_create(&t[0], NULL, counting, NULL);
        static char *args[] = {NULL, "exec-child", NULL};
        args[0] = argv[0];
        // exec from the main thread while another runs: that one ends.
        execv("/proc/self/exe", args);
        _exit(98);
    }
    waitpid(c, &st, 0);
    printf("exec with a sibling thread: exit %d\n", WEXITSTATUS(st));

    // The main thread ends; the process lives until the last thread calls exit.
    pthread_create(&t[0], NULL, last_words, NULL);
    pthread_exit(NULL);
}
