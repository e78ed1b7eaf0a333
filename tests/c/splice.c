/* splice, tee and vmsplice: file to pipe and pipe to file (with and without offsets), pipe to
 * pipe, tee leaving the source unread, vmsplice both ways, end of file, EAGAIN, and the error
 * paths (EINVAL for no pipe or a pipe to itself, ESPIPE for an offset on a pipe, EBADF). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

static const char *en(int e) {
    switch (e) {
    case EINVAL: return "EINVAL"; case EBADF: return "EBADF"; case ESPIPE: return "ESPIPE";
    case EAGAIN: return "EAGAIN"; case EPIPE: return "EPIPE"; case EFAULT: return "EFAULT";
    case EISDIR: return "EISDIR"; default: return "other";
    }
}
#define TRY(what, call) do { errno = 0; long r_ = (long)(call); \
    if (r_ < 0) printf("%s = -1 %s\n", what, en(errno)); else printf("%s = %ld\n", what, r_); } while (0)

static void show(const char *what, int fd) {
    char b[128];
    ssize_t n = read(fd, b, sizeof b);
    printf("  %s: %zd \"%.*s\"\n", what, n, n > 0 ? (int)n : 0, b);
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    const char *path = "/tmp/splice-test";
    int f = open(path, O_CREAT | O_TRUNC | O_RDWR, 0644);
    write(f, "0123456789abcdef", 16);
    lseek(f, 0, SEEK_SET);
    int p[2], q[2];
    pipe(p);
    pipe(q);
    TRY("file -> pipe, 4 at the position", splice(f, NULL, p[1], NULL, 4, 0));
    printf("  file position %ld\n", (long)lseek(f, 0, SEEK_CUR));
    loff_t off = 10;
    TRY("file -> pipe, 3 at offset 10", splice(f, &off, p[1], NULL, 3, 0));
    printf("  offset now %ld, position %ld\n", (long)off, (long)lseek(f, 0, SEEK_CUR));
    TRY("tee p -> q, 100", tee(p[0], q[1], 100, 0));
    show("q", q[0]);
    TRY("pipe -> pipe, 5", splice(p[0], NULL, q[1], NULL, 5, 0));
    show("q", q[0]);
    show("p (the rest)", p[0]);
    write(p[1], "XYZ", 3);
    off = 2;
    TRY("pipe -> file at offset 2", splice(p[0], NULL, f, &off, 100, 0));
    printf("  offset now %ld\n", (long)off);
    write(p[1], "!!", 2);
    lseek(f, 16, SEEK_SET);
    TRY("pipe -> file at the position", splice(p[0], NULL, f, NULL, 2, 0));
    char all[32] = {0};
    pread(f, all, sizeof all - 1, 0);
    printf("  file: %s\n", all);
    TRY("file -> pipe at the end", splice(f, NULL, p[1], NULL, 10, 0));

    // vmsplice both ways.
    char msg[] = "vmsplice!";
    struct iovec v[2] = {{msg, 3}, {msg + 3, 6}};
    TRY("vmsplice to the write end", vmsplice(p[1], v, 2, 0));
    char back[16] = {0};
    struct iovec r = {back, sizeof back};
    TRY("vmsplice from the read end", vmsplice(p[0], &r, 1, 0));
    printf("  got %s\n", back);

    // Nothing to move.
    fcntl(p[0], F_SETFL, O_NONBLOCK);
    TRY("empty pipe, SPLICE_F_NONBLOCK", splice(p[0], NULL, q[1], NULL, 10, SPLICE_F_NONBLOCK));
    TRY("tee from an empty pipe", tee(p[0], q[1], 10, SPLICE_F_NONBLOCK));
    TRY("length 0", splice(f, NULL, p[1], NULL, 0, 0));
    close(p[1]);
    TRY("empty pipe without writers", splice(p[0], NULL, q[1], NULL, 10, 0));

    // Errors.
    TRY("no pipe", splice(f, NULL, f, NULL, 10, 0));
    TRY("pipe to itself", splice(q[0], NULL, q[1], NULL, 10, 0));
    TRY("tee to itself", tee(q[0], q[1], 10, 0));
    TRY("tee from a file", tee(f, q[1], 10, 0));
    off = 0;
    TRY("offset on the pipe", splice(q[0], &off, f, NULL, 10, 0));
    TRY("bad flags", splice(f, NULL, q[1], NULL, 10, 0x100));
    TRY("bad fd", splice(99, NULL, q[1], NULL, 10, 0));
    TRY("read end as output", splice(f, NULL, q[0], NULL, 10, 0));
    int ro = open(path, O_RDONLY);
    write(q[1], "z", 1);
    TRY("to a read-only file", splice(q[0], NULL, ro, NULL, 10, 0));
    int d = open("/tmp", O_RDONLY);
    TRY("from a directory", splice(d, NULL, q[1], NULL, 10, 0));
    TRY("vmsplice on a file", vmsplice(f, v, 1, 0));
    int w[2];
    pipe(w);
    close(w[0]);
    TRY("file -> pipe without readers", splice(f, &off, w[1], NULL, 4, 0));
    TRY("vmsplice bad iovec", vmsplice(q[1], (void *)8, 1, 0));
    unlink(path);
    return 0;
}
