/* pidfd_getfd: a copy of a child's open file (sharing its offset), close-on-exec; EBADF for an
 * fd the child does not have or a non-pidfd, EINVAL for flags, ESRCH once the child is gone. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *en(int e) {
    switch (e) {
    case EBADF: return "EBADF"; case EINVAL: return "EINVAL"; case ESRCH: return "ESRCH";
    default: return "other";
    }
}
#define TRY(what, call) do { errno = 0; long r_ = (long)(call); \
    if (r_ < 0) printf("%s = -1 %s\n", what, en(errno)); else printf("%s = ok\n", what); } while (0)

int main(void) {
    int ready[2], go[2];
    pipe(ready);
    pipe(go);
    pid_t c = fork();
    if (c == 0) {
        int f = open("/tmp/pidfd-getfd-test", O_CREAT | O_TRUNC | O_RDWR, 0600);
        write(f, "shared offset", 13);
        dup2(f, 42);
        close(f);
        write(ready[1], "r", 1);
        char b;
        read(go[0], &b, 1);
        _exit(0);
    }
    char b;
    read(ready[0], &b, 1);
    int pfd = syscall(SYS_pidfd_open, c, 0);
    printf("pidfd_open %d\n", pfd >= 0);
    int fd = syscall(SYS_pidfd_getfd, pfd, 42, 0);
    printf("pidfd_getfd %d, cloexec %d\n", fd >= 0, (fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
    printf("offset shared with the child's: %ld\n", (long)lseek(fd, 0, SEEK_CUR));
    char buf[32] = {0};
    pread(fd, buf, sizeof buf - 1, 0);
    printf("contents: %s\n", buf);
    TRY("an fd the child does not have", syscall(SYS_pidfd_getfd, pfd, 77, 0));
    TRY("flags", syscall(SYS_pidfd_getfd, pfd, 42, 1));
    TRY("not a pidfd", syscall(SYS_pidfd_getfd, 0, 42, 0));
    TRY("bad pidfd", syscall(SYS_pidfd_getfd, 99, 42, 0));
    write(go[1], "g", 1);
    waitpid(c, NULL, 0);
    TRY("after the child is gone", syscall(SYS_pidfd_getfd, pfd, 42, 0));
    unlink("/tmp/pidfd-getfd-test");
    return 0;
}
