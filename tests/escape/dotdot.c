// SPDX-License-Identifier: Apache-2.0
// Escape attempt: climb above the sandbox's root or out of a volume with "..": through "/..",
// /proc/self/root, /proc/1/cwd, /proc/self/fd/N of open directories, openat(dirfd, ".."),
// fchdir, and from the sandbox's own mounts (/proc, /dev, /tmp). Every result must be the
// guest's own "/" (or, for a volume, the guest's view of its parent), compared by st_dev/st_ino.
// Usage: dotdot VOLUME where VOLUME is a read-write volume mounted at its host path: files
// created through VOLUME/.. must land in the sandbox's root overlay, never in the host's
// parent directory (tests/escape.rs checks the host side). Also tries file handles
// (name_to_handle_at, and a forged open_by_handle_at as in the "Shocker" container escape).
#include "escape.h"
#include <libgen.h>
#include <limits.h>

static struct stat root;

static void is_root(const char *path) {
    int r = same_as(path, &root);
    judge(r == 1, same_str(r), "stat %s is the guest's /", path);
}

static void fd_is(int fd, const struct stat *ref, const char *what) {
    int r = same_fd(fd, ref);
    judge(r == 1, same_str(r), "%s", what);
}

int main(int argc, char **argv) {
    char path[PATH_MAX], parent[PATH_MAX];
    setup(argc == 2, "usage: dotdot VOLUME");
    const char *vol = argv[1];
    snprintf(parent, sizeof parent, "%s", vol);
    dirname(parent);
    struct stat vparent;
    setup(stat("/", &root) == 0, "stat /");
    setup(stat(parent, &vparent) == 0, "stat %s", parent);

    is_root("/..");
    is_root("/../../../../../../..");
    is_root("/proc/self/root/..");
    is_root("/proc/self/root/../../..");
    is_root("/proc/1/root/..");
    setup(chdir("/") == 0, "chdir /");
    is_root("/proc/1/cwd/..");
    is_root("/proc/self/cwd/../..");
    is_root("/proc/..");
    is_root("/proc/self/../..");
    is_root("/proc/self/fd/../../..");
    is_root("/dev/..");
    is_root("/dev/shm/../..");
    is_root("/tmp/..");
    is_root("/sys/..");

    // Directory fds: the guest's root, and the sandbox's own /proc and /tmp.
    const char *dirs[] = {"/", "/proc", "/tmp", "/dev"};
    for (unsigned i = 0; i < sizeof dirs / sizeof *dirs; i++) {
        int d = open(dirs[i], O_RDONLY | O_DIRECTORY);
        setup(d >= 0, "open %s", dirs[i]);
        char what[128];
        snprintf(path, sizeof path, "/proc/self/fd/%d/..", d);
        snprintf(what, sizeof what, "/proc/self/fd/N/.. of an open %s", dirs[i]);
        int r = same_as(path, &root);
        judge(r == 1, same_str(r), "%s", what);
        snprintf(path, sizeof path, "/proc/self/fd/%d/../../..", d);
        snprintf(what, sizeof what, "/proc/self/fd/N/../../.. of an open %s", dirs[i]);
        r = same_as(path, &root);
        judge(r == 1, same_str(r), "%s", what);
        int up = openat(d, "../../..", O_RDONLY | O_DIRECTORY);
        snprintf(what, sizeof what, "openat(fd of %s, \"../../..\")", dirs[i]);
        fd_is(up, &root, what);
        if (up >= 0) close(up);
        setup(fchdir(d) == 0, "fchdir %s", dirs[i]);
        for (int k = 0; k < 10; k++) chdir("..");
        snprintf(what, sizeof what, "fchdir(fd of %s) then chdir(\"..\") x10", dirs[i]);
        int r2 = same_as(".", &root);
        judge(r2 == 1, same_str(r2), "%s", what);
        char cwd[PATH_MAX] = "";
        judge(getcwd(cwd, sizeof cwd) && !strcmp(cwd, "/"), cwd, "getcwd after climbing from %s",
              dirs[i]);
        close(d);
    }

    // Out of the read-write volume: its ".." is the guest's view of the parent directory.
    snprintf(path, sizeof path, "%s/..", vol);
    int r = same_as(path, &vparent);
    judge(r == 1, same_str(r), "stat VOLUME/.. is the guest's parent of the volume");
    int v = open(vol, O_RDONLY | O_DIRECTORY);
    setup(v >= 0, "open %s", vol);
    int up = openat(v, "..", O_RDONLY | O_DIRECTORY);
    fd_is(up, &vparent, "openat(volume fd, \"..\") is the guest's parent of the volume");
    if (up >= 0) close(up);
    snprintf(path, sizeof path, "/proc/self/fd/%d/..", v);
    r = same_as(path, &vparent);
    judge(r == 1, same_str(r), "/proc/self/fd/N/.. of the volume is the guest's parent");
    // Creating files through "..": they go to the root's memory overlay, not to the host.
    snprintf(path, sizeof path, "%s/../runrs-escape-dotdot-1", vol);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
    inside(fd < 0 ? -1 : write(fd, "ESCAPED\n", 8), "create VOLUME/../runrs-escape-dotdot-1");
    if (fd >= 0) close(fd);
    fd = openat(v, "../runrs-escape-dotdot-2", O_WRONLY | O_CREAT | O_EXCL, 0644);
    inside(fd < 0 ? -1 : write(fd, "ESCAPED\n", 8),
           "create openat(volume fd, \"../runrs-escape-dotdot-2\")");
    if (fd >= 0) close(fd);
    snprintf(path, sizeof path, "/proc/self/fd/%d/../runrs-escape-dotdot-3", v);
    inside(mkdir(path, 0755), "mkdir /proc/self/fd/N/../runrs-escape-dotdot-3 of the volume");
    setup(fchdir(v) == 0, "fchdir volume");
    inside(symlink("/", "../runrs-escape-dotdot-4"),
           "symlink ../runrs-escape-dotdot-4 from inside the volume");
    setup(chdir("/") == 0, "chdir /");
    close(v);

    // File handles: a real one of "/", and a forged ext4-style handle of inode 2 ("Shocker").
    struct {
        struct file_handle h;
        unsigned char bytes[128];
    } fh;
    int mount_id;
    fh.h.handle_bytes = sizeof fh.bytes;
    r = name_to_handle_at(AT_FDCWD, "/", &fh.h, &mount_id, 0);
    if (r == 0) {
        int rootfd = open("/", O_RDONLY | O_DIRECTORY);
        int h = open_by_handle_at(rootfd, &fh.h, O_RDONLY | O_DIRECTORY);
        if (h >= 0) {
            fd_is(h, &root, "open_by_handle_at of \"/\"'s own handle");
            close(h);
        } else {
            must_fail(h, "open_by_handle_at of \"/\"'s own handle");
        }
        close(rootfd);
    } else {
        must_fail(r, "name_to_handle_at(\"/\")");
    }
    memset(&fh, 0, sizeof fh);
    fh.h.handle_bytes = 8;
    fh.h.handle_type = 1; // FILEID_INO32_GEN
    fh.bytes[0] = 2;      // inode 2: an ext4 root directory
    int base = open("/", O_RDONLY | O_DIRECTORY);
    int h = open_by_handle_at(base, &fh.h, O_RDONLY);
    must_fail(h, "open_by_handle_at with a forged handle of inode 2 (Shocker)");
    if (h >= 0) close(h);
    close(base);
    return finish();
}
