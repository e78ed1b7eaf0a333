// SPDX-License-Identifier: Apache-2.0
// Escape attempt: openat2 without RESOLVE flags (".." stops at the guest's root) and with
// RESOLVE_BENEATH / RESOLVE_IN_ROOT / RESOLVE_NO_MAGICLINKS / RESOLVE_NO_XDEV /
// RESOLVE_NO_SYMLINKS from a directory of a read-write volume. Usage: openat2 VOLUME
// Files created with RESOLVE_IN_ROOT stay in the volume (tests/escape.rs checks the host).
#include "escape.h"
#include <limits.h>
#include <linux/openat2.h>
#include <sys/syscall.h>

static int dfd;
static struct stat root;

static long o2(int dir, const char *path, long flags, unsigned long long resolve) {
    struct open_how how = {.flags = flags, .mode = flags & O_CREAT ? 0644 : 0, .resolve = resolve};
    return syscall(SYS_openat2, dir, path, &how, sizeof how);
}

// An openat2 that must fail.
static void refused(const char *path, long flags, unsigned long long resolve, const char *rname) {
    long fd = o2(dfd, path, flags, resolve);
    must_fail(fd, "openat2(VOLUME/jail, \"%s\", %s)", path, rname);
    if (fd >= 0) close(fd);
}

int main(int argc, char **argv) {
    char path[PATH_MAX];
    setup(argc == 2, "usage: openat2 VOLUME");
    setup(stat("/", &root) == 0, "stat /");
    snprintf(path, sizeof path, "%s/jail", argv[1]);
    setup(mkdir(path, 0755) == 0 || errno == EEXIST, "mkdir VOLUME/jail");
    dfd = open(path, O_RDONLY | O_DIRECTORY);
    setup(dfd >= 0, "open VOLUME/jail");
    setup(symlinkat("/", dfd, "rootlink") == 0, "symlink jail/rootlink -> /");
    setup(symlinkat("..", dfd, "uplink") == 0, "symlink jail/uplink -> ..");
    setup(symlinkat("/proc/self/root", dfd, "magiclink") == 0, "symlink jail/magiclink -> /proc/self/root");

    // Without RESOLVE flags ".." goes up, but never above the guest's root.
    long fd = o2(dfd, "../../../../../../../../../../../../..", O_RDONLY | O_DIRECTORY, 0);
    int r = same_fd(fd, &root);
    judge(r == 1, same_str(r), "openat2(VOLUME/jail, \"../../(x13)\", no RESOLVE flags) is the guest's /");
    if (fd >= 0) close(fd);
    fd = o2(AT_FDCWD, "/proc/self/root/../..", O_RDONLY | O_DIRECTORY, 0);
    r = same_fd(fd, &root);
    judge(r == 1, same_str(r), "openat2(\"/proc/self/root/../..\", no RESOLVE flags) is the guest's /");
    if (fd >= 0) close(fd);

    // RESOLVE_BENEATH: every way out is EXDEV.
    refused("..", O_RDONLY, RESOLVE_BENEATH, "RESOLVE_BENEATH");
    refused("../../etc/passwd", O_RDONLY, RESOLVE_BENEATH, "RESOLVE_BENEATH");
    refused("/etc/passwd", O_RDONLY, RESOLVE_BENEATH, "RESOLVE_BENEATH");
    refused("rootlink/etc/passwd", O_RDONLY, RESOLVE_BENEATH, "RESOLVE_BENEATH");
    refused("uplink/jail", O_RDONLY, RESOLVE_BENEATH, "RESOLVE_BENEATH");
    refused("magiclink/etc/passwd", O_RDONLY, RESOLVE_BENEATH, "RESOLVE_BENEATH");
    refused("../runrs-escape-beneath", O_WRONLY | O_CREAT, RESOLVE_BENEATH, "O_CREAT|RESOLVE_BENEATH");
    refused("uplink/runrs-escape-beneath", O_WRONLY | O_CREAT, RESOLVE_BENEATH, "O_CREAT|RESOLVE_BENEATH");
    int proc = open("/proc/self", O_RDONLY | O_DIRECTORY);
    setup(proc >= 0, "open /proc/self");
    fd = o2(proc, "root/etc/passwd", O_RDONLY, RESOLVE_BENEATH);
    must_fail(fd, "openat2(/proc/self, \"root/etc/passwd\", RESOLVE_BENEATH)");
    if (fd >= 0) close(fd);
    snprintf(path, sizeof path, "fd/%d/..", dfd);
    fd = o2(proc, path, O_RDONLY, RESOLVE_BENEATH);
    must_fail(fd, "openat2(/proc/self, \"fd/N/..\", RESOLVE_BENEATH)");
    if (fd >= 0) close(fd);

    // RESOLVE_IN_ROOT: "/" and ".." are the jail; /etc/passwd is not there.
    refused("/etc/passwd", O_RDONLY, RESOLVE_IN_ROOT, "RESOLVE_IN_ROOT");
    refused("../../../../etc/passwd", O_RDONLY, RESOLVE_IN_ROOT, "RESOLVE_IN_ROOT");
    refused("rootlink/etc/passwd", O_RDONLY, RESOLVE_IN_ROOT, "RESOLVE_IN_ROOT");
    refused("uplink/uplink/etc/passwd", O_RDONLY, RESOLVE_IN_ROOT, "RESOLVE_IN_ROOT");
    refused("magiclink/etc/passwd", O_RDONLY, RESOLVE_IN_ROOT, "RESOLVE_IN_ROOT");
    struct stat jail;
    setup(fstat(dfd, &jail) == 0, "fstat jail");
    fd = o2(dfd, "uplink/../rootlink", O_RDONLY | O_DIRECTORY, RESOLVE_IN_ROOT);
    r = same_fd(fd, &jail);
    judge(r == 1, r == 1 ? "the jail itself" : same_str(r),
          "openat2(VOLUME/jail, \"uplink/../rootlink\", RESOLVE_IN_ROOT) is the jail");
    if (fd >= 0) close(fd);
    // Creating through ".." and "/" lands in the jail (on the host: in the volume).
    fd = o2(dfd, "../../runrs-escape-in-root-1", O_WRONLY | O_CREAT, RESOLVE_IN_ROOT);
    inside(fd < 0 ? -1 : write(fd, "jail\n", 5), "openat2(O_CREAT, \"../../runrs-escape-in-root-1\", RESOLVE_IN_ROOT)");
    if (fd >= 0) close(fd);
    fd = o2(dfd, "rootlink/runrs-escape-in-root-2", O_WRONLY | O_CREAT, RESOLVE_IN_ROOT);
    inside(fd < 0 ? -1 : write(fd, "jail\n", 5), "openat2(O_CREAT, \"rootlink/runrs-escape-in-root-2\", RESOLVE_IN_ROOT)");
    if (fd >= 0) close(fd);
    judge(faccessat(dfd, "runrs-escape-in-root-1", F_OK, 0) == 0, "created in the jail",
          "the RESOLVE_IN_ROOT file is in the jail");

    // The other restrictions.
    fd = o2(AT_FDCWD, "/proc/self/root", O_RDONLY, RESOLVE_NO_MAGICLINKS);
    must_fail(fd, "openat2(\"/proc/self/root\", RESOLVE_NO_MAGICLINKS)");
    if (fd >= 0) close(fd);
    refused("magiclink", O_RDONLY, RESOLVE_NO_MAGICLINKS, "RESOLVE_NO_MAGICLINKS");
    refused("rootlink", O_RDONLY, RESOLVE_NO_SYMLINKS, "RESOLVE_NO_SYMLINKS");
    refused("uplink", O_RDONLY, RESOLVE_NO_SYMLINKS, "RESOLVE_NO_SYMLINKS");
    refused("../..", O_RDONLY, RESOLVE_NO_XDEV, "RESOLVE_NO_XDEV");
    fd = o2(AT_FDCWD, "/proc/self/status", O_RDONLY, RESOLVE_NO_XDEV);
    must_fail(fd, "openat2(\"/proc/self/status\", RESOLVE_NO_XDEV)");
    if (fd >= 0) close(fd);
    return finish();
}
