// SPDX-License-Identifier: Apache-2.0
// Differential test: Threads share cwd and umask (CLONE_FS) and resource limits (per process).
// variants: static
// Threads share cwd and umask (CLONE_FS) and resource limits (per process).
#include <pthread.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
static void *th(void *a) {
    chdir("/");
    umask(077);
    struct rlimit rl = {100, 100};
    setrlimit(RLIMIT_NOFILE, &rl);
    return 0;
}
int main(void) {
    chdir("/tmp");
    umask(022);
    pthread_t t;
    pthread_create(&t, 0, th, 0);
    pthread_join(t, 0);
    char buf[256];
    getcwd(buf, sizeof buf);
    mode_t m = umask(0);
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    printf("cwd %s umask %03o nofile %llu\n", buf, m, (unsigned long long)rl.rlim_cur);
    return 0;
}
