/* inotify: events for changes made inside the sandbox: create, open, modify, close, attrib,
 * moves (cookies paired), delete and delete-self (then IN_IGNORED), watches on a directory and on
 * a file, IN_ONESHOT, IN_MASK_ADD and IN_MASK_CREATE, rm_watch, coalescing of repeated events,
 * a short read buffer (EINVAL), EAGAIN, FIONREAD, poll, and the error paths. */
#define _GNU_SOURCE
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *en(int e) {
    switch (e) {
    case EINVAL: return "EINVAL"; case EBADF: return "EBADF"; case ENOENT: return "ENOENT";
    case ENOTDIR: return "ENOTDIR"; case EAGAIN: return "EAGAIN"; case EEXIST: return "EEXIST";
    case EFAULT: return "EFAULT"; default: return "other";
    }
}
#define TRY(what, call) do { errno = 0; long r_ = (long)(call); \
    if (r_ < 0) printf("%s = -1 %s\n", what, en(errno)); else printf("%s = %ld\n", what, r_); } while (0)

static const char *names[] = {"ACCESS", "MODIFY", "ATTRIB", "CLOSE_WRITE", "CLOSE_NOWRITE", "OPEN",
                              "MOVED_FROM", "MOVED_TO", "CREATE", "DELETE", "DELETE_SELF", "MOVE_SELF"};

static unsigned last_cookie;

/* Prints every queued event (wd as given by the test's labels). */
static void drain(int fd, const char *label, int wd1, int wd2) {
    char buf[4096] __attribute__((aligned(8)));
    printf("[%s]\n", label);
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0) { printf("  (then %s)\n", en(errno)); return; }
        for (char *p = buf; p < buf + n;) {
            struct inotify_event *e = (void *)p;
            printf("  %s", e->wd == wd1 ? "w1" : e->wd == wd2 ? "w2" : e->wd == -1 ? "-1" : "w?");
            for (int i = 0; i < 12; i++) if (e->mask & (1u << i)) printf(" %s", names[i]);
            if (e->mask & IN_ISDIR) printf(" ISDIR");
            if (e->mask & IN_IGNORED) printf(" IGNORED");
            if (e->mask & IN_Q_OVERFLOW) printf(" Q_OVERFLOW");
            if (e->len) printf(" \"%s\" (len %u)", e->name, e->len);
            if (e->cookie) { printf(" cookie %s", last_cookie == e->cookie ? "same" : "new"); last_cookie = e->cookie; }
            printf("\n");
            p += sizeof *e + e->len;
        }
    }
}

int main(void) {
    const char *d = "/tmp/inotify-test";
    mkdir(d, 0755);
    int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    printf("init1 %d cloexec %d\n", fd >= 0, (fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
    TRY("init1 bad flags", inotify_init1(0x4));
    int w1 = inotify_add_watch(fd, d, IN_ALL_EVENTS);
    printf("watch dir: %d\n", w1);
    TRY("same dir again", inotify_add_watch(fd, d, IN_CREATE | IN_DELETE));
    TRY("IN_MASK_CREATE on a watched dir", inotify_add_watch(fd, d, IN_CREATE | IN_MASK_CREATE));
    TRY("IN_MASK_ADD", inotify_add_watch(fd, d, IN_ALL_EVENTS | IN_MASK_ADD));
    TRY("empty mask", inotify_add_watch(fd, d, 0));
    TRY("missing path", inotify_add_watch(fd, "/tmp/inotify-test/nope", IN_ALL_EVENTS));
    TRY("IN_ONLYDIR on a file", inotify_add_watch(fd, "/etc/hostname", IN_ALL_EVENTS | IN_ONLYDIR));
    TRY("bad fd", inotify_add_watch(99, d, IN_ALL_EVENTS));
    TRY("not inotify", inotify_add_watch(0, d, IN_ALL_EVENTS));
    TRY("bad path pointer", inotify_add_watch(fd, (char *)8, IN_ALL_EVENTS));
    char b[64];
    TRY("read, nothing", read(fd, b, sizeof b));

    int f = open("/tmp/inotify-test/a", O_CREAT | O_WRONLY, 0644);
    write(f, "x", 1);
    write(f, "y", 1);
    close(f);
    drain(fd, "create, write twice, close", w1, -2);

    int w2 = inotify_add_watch(fd, "/tmp/inotify-test/a", IN_ALL_EVENTS);
    f = open("/tmp/inotify-test/a", O_RDONLY);
    read(f, b, sizeof b);
    close(f);
    chmod("/tmp/inotify-test/a", 0600);
    drain(fd, "open, read, close, chmod with a file watch", w1, w2);

    int n = -1;
    truncate("/tmp/inotify-test/a", 0);
    TRY("FIONREAD", ioctl(fd, FIONREAD, &n));
    printf("  %d bytes queued\n", n);
    struct pollfd pf = {fd, POLLIN, 0};
    TRY("poll", poll(&pf, 1, 0));
    printf("  revents %#x\n", pf.revents);
    TRY("read into 8 bytes", read(fd, b, 8));
    drain(fd, "truncate", w1, w2);

    rename("/tmp/inotify-test/a", "/tmp/inotify-test/b");
    drain(fd, "rename", w1, w2);
    link("/tmp/inotify-test/b", "/tmp/inotify-test/c");
    unlink("/tmp/inotify-test/c");
    drain(fd, "link, unlink the link", w1, w2);
    unlink("/tmp/inotify-test/b");
    drain(fd, "unlink the last link", w1, w2);

    mkdir("/tmp/inotify-test/sub", 0755);
    symlink("target", "/tmp/inotify-test/ln");
    mkfifo("/tmp/inotify-test/fifo", 0644);
    unlink("/tmp/inotify-test/ln");
    unlink("/tmp/inotify-test/fifo");
    drain(fd, "mkdir, symlink, mkfifo, unlink", w1, w2);
    int ws = inotify_add_watch(fd, "/tmp/inotify-test/sub", IN_ALL_EVENTS);
    DIR *dp = opendir("/tmp/inotify-test/sub");
    while (readdir(dp)) {}
    closedir(dp);
    drain(fd, "list a watched directory", w1, ws);
    int w3 = inotify_add_watch(fd, "/tmp/inotify-test/sub", IN_DELETE_SELF | IN_ONESHOT);
    printf("same watch again: %d\n", w3 == ws);
    rename("/tmp/inotify-test/sub", "/tmp/inotify-test/sub2");
    rmdir("/tmp/inotify-test/sub2");
    drain(fd, "rename and rmdir a watched directory", w1, w3);
    TRY("rm_watch of an ended watch", inotify_rm_watch(fd, w3));

    int o = inotify_add_watch(fd, "/tmp/inotify-test", IN_CREATE | IN_ONESHOT);
    printf("oneshot watch is the dir's: %d\n", o == w1);
    close(open("/tmp/inotify-test/one", O_CREAT | O_WRONLY, 0644));
    close(open("/tmp/inotify-test/two", O_CREAT | O_WRONLY, 0644));
    drain(fd, "oneshot", w1, w2);
    TRY("rm_watch after oneshot", inotify_rm_watch(fd, w1));
    int w4 = inotify_add_watch(fd, d, IN_DELETE);
    unlink("/tmp/inotify-test/one");
    TRY("rm_watch", inotify_rm_watch(fd, w4));
    unlink("/tmp/inotify-test/two");
    drain(fd, "rm_watch", w4, -2);
    TRY("rm_watch again", inotify_rm_watch(fd, w4));
    TRY("rm_watch bad fd", inotify_rm_watch(99, 1));
    rmdir(d);
    close(fd);
    return 0;
}
