#include <stdio.h>
#include <stdlib.h>
#include <fcntl.h>
#include <unistd.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <poll.h>
/* FIFOs: mkfifo, the open rules (a reader waits for a writer and a writer for a reader, unless
 * O_NONBLOCK or O_RDWR), data through them, end of file, fstat and /proc/self/fd naming the node. */
int main(void) {
    const char *p = "/tmp/fifo-test";
    unlink(p);
    printf("mkfifo %d\n", mkfifo(p, 0644));
    struct stat st;
    printf("stat %d\n", stat(p, &st));
    printf("fifo %d mode %o\n", S_ISFIFO(st.st_mode), st.st_mode & 0777);
    int w = open(p, O_WRONLY | O_NONBLOCK);
    printf("nonblock writer without reader: %d %s\n", w, w < 0 ? strerror(errno) : "");
    int r = open(p, O_RDONLY | O_NONBLOCK);
    printf("nonblock reader: %d\n", r >= 0);
    char buf[64];
    printf("read no writer: %zd\n", read(r, buf, sizeof buf));
    w = open(p, O_WRONLY | O_NONBLOCK);
    printf("nonblock writer with reader: %d\n", w >= 0);
    struct stat fs1, fs2;
    fstat(w, &fs1); stat(p, &fs2);
    printf("fstat same inode %d\n", fs1.st_ino == fs2.st_ino && fs1.st_dev == fs2.st_dev && S_ISFIFO(fs1.st_mode));
    printf("write %zd\n", write(w, "hello", 5));
    printf("read %zd\n", read(r, buf, sizeof buf));
    errno = 0;
    ssize_t e = read(r, buf, sizeof buf);
    printf("read empty with writer: %zd %s\n", e, strerror(errno));
    close(w); close(r);
    pid_t c = fork();
    if (c == 0) {
        int fd = open(p, O_WRONLY);   /* blocks until the parent opens for reading */
        write(fd, "from child", 10);
        close(fd);
        _exit(0);
    }
    int fd = open(p, O_RDONLY);        /* blocks until the child opens for writing */
    ssize_t n = read(fd, buf, sizeof buf);
    printf("blocking pair read %zd %.*s\n", n, (int)n, buf);
    printf("eof after writer closed %zd\n", read(fd, buf, sizeof buf));
    int st2; waitpid(c, &st2, 0);
    printf("child %d\n", WEXITSTATUS(st2));
    close(fd);
    int rw = open(p, O_RDWR);
    printf("rdwr %d\n", rw >= 0);
    printf("write %zd\n", write(rw, "xy", 2));
    printf("read %zd\n", read(rw, buf, 2));
    struct pollfd pf = { rw, POLLIN | POLLOUT, 0 };
    int pn = poll(&pf, 1, 0);
    printf("poll %d revents %x\n", pn, pf.revents);
    close(rw);
    char lnk[64] = {0};
    int r2 = open(p, O_RDONLY | O_NONBLOCK);
    char pathbuf[64]; snprintf(pathbuf, sizeof pathbuf, "/proc/self/fd/%d", r2);
    printf("readlink %zd %s\n", readlink(pathbuf, lnk, sizeof lnk - 1), lnk);
    printf("unlink %d\n", unlink(p));
    return 0;
}
