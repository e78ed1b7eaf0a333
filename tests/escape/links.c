// SPDX-License-Identifier: Apache-2.0
// Escape attempt: symlinks and hardlinks in a read-write volume that point out of it.
// Usage: links VOLUME OUTSIDE where VOLUME is a read-write volume and OUTSIDE a host
// directory outside it (seen through the read-only root) holding target.txt. Symlinks the
// guest makes in the volume are resolved in the guest's view, so writes through them land in
// the root's memory overlay; hardlinks and renames across the mounts fail with EXDEV.
// tests/escape.rs checks that nothing outside the volume changed on the host and that no
// hardlink to an outside file appeared in the volume.
#include "escape.h"
#include <limits.h>
#include <sys/sysmacros.h>

static char vol[1024], out[1024];

static const char *in_vol(const char *name) {
    static char b[4][2048];
    static int i;
    i = (i + 1) % 4;
    snprintf(b[i], sizeof b[i], "%s/%s", vol, name);
    return b[i];
}

static const char *in_out(const char *name) {
    static char b[4][2048];
    static int i;
    i = (i + 1) % 4;
    snprintf(b[i], sizeof b[i], "%s/%s", out, name);
    return b[i];
}

// Opens `path` for writing and writes a line: allowed only inside (the host side checks).
static void write_through(const char *path, int flags, const char *what) {
    int fd = open(path, O_WRONLY | flags, 0644);
    long r = fd < 0 ? -1 : write(fd, "ESCAPED\n", 8);
    if (fd >= 0) close(fd);
    inside(r, "%s", what);
}

int main(int argc, char **argv) {
    char path[4096];
    setup(argc == 3, "usage: links VOLUME OUTSIDE");
    snprintf(vol, sizeof vol, "%s", argv[1]);
    snprintf(out, sizeof out, "%s", argv[2]);
    struct stat st;
    setup(stat(in_out("target.txt"), &st) == 0, "stat OUTSIDE/target.txt");

    // Symlinks to "/" and to files outside the volume.
    setup(symlink("/", in_vol("rootlink")) == 0, "symlink / in the volume");
    snprintf(path, sizeof path, "%s/rootlink%s/created-via-rootlink", vol, out);
    write_through(path, O_CREAT | O_EXCL, "create OUTSIDE/created-via-rootlink through VOLUME/rootlink -> /");
    snprintf(path, sizeof path, "%s/rootlink/etc/runrs-escape-via-rootlink", vol);
    write_through(path, O_CREAT | O_EXCL, "create /etc/runrs-escape-via-rootlink through VOLUME/rootlink -> /");
    setup(symlink(in_out("target.txt"), in_vol("targetlink")) == 0, "symlink to OUTSIDE/target.txt");
    write_through(in_vol("targetlink"), O_TRUNC, "open(O_TRUNC)+write through VOLUME/targetlink -> OUTSIDE/target.txt");
    setup(symlink("/etc/passwd", in_vol("passwdlink")) == 0, "symlink to /etc/passwd");
    int fd = open(in_vol("passwdlink"), O_WRONLY | O_APPEND);
    inside(fd, "open(O_WRONLY|O_APPEND) through VOLUME/passwdlink -> /etc/passwd (nothing written)");
    if (fd >= 0) close(fd);
    // A relative symlink out of the volume, and one the test made on the host.
    setup(symlink("../outside", in_vol("uplink")) == 0, "symlink ../outside");
    write_through(in_vol("uplink/created-via-uplink"), O_CREAT | O_EXCL, "create through VOLUME/uplink -> ../outside");
    write_through(in_vol("hostlink/created-via-hostlink"), O_CREAT | O_EXCL, "create through the host-made VOLUME/hostlink -> OUTSIDE");
    // Directory symlink followed by mkdir/rename/unlink of what is behind it.
    snprintf(path, sizeof path, "%s/rootlink%s/target.txt", vol, out);
    inside(unlink(path), "unlink OUTSIDE/target.txt through VOLUME/rootlink");
    snprintf(path, sizeof path, "%s/rootlink%s/mkdir-via-rootlink", vol, out);
    inside(mkdir(path, 0755), "mkdir OUTSIDE/mkdir-via-rootlink through VOLUME/rootlink");

    // Hardlinks to files outside the volume: EXDEV (different mounts).
    must_fail(link(in_out("hardlink-source"), in_vol("hardlink")), "link OUTSIDE/hardlink-source into the volume");
    must_fail(link("/etc/passwd", in_vol("hardlink-passwd")), "link /etc/passwd into the volume");
    setup(symlink(in_out("hardlink-source"), in_vol("sourcelink")) == 0, "symlink to OUTSIDE/hardlink-source");
    must_fail(linkat(AT_FDCWD, in_vol("sourcelink"), AT_FDCWD, in_vol("hardlink-follow"), AT_SYMLINK_FOLLOW),
              "linkat(AT_SYMLINK_FOLLOW) of VOLUME/sourcelink -> OUTSIDE/hardlink-source into the volume");
    fd = open(in_out("hardlink-source"), O_RDONLY);
    setup(fd >= 0, "open OUTSIDE/hardlink-source");
    must_fail(linkat(fd, "", AT_FDCWD, in_vol("hardlink-emptypath"), AT_EMPTY_PATH),
              "linkat(AT_EMPTY_PATH) of an fd of OUTSIDE/hardlink-source into the volume");
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    must_fail(linkat(AT_FDCWD, path, AT_FDCWD, in_vol("hardlink-procfd"), AT_SYMLINK_FOLLOW),
              "linkat(/proc/self/fd/N, AT_SYMLINK_FOLLOW) of OUTSIDE/hardlink-source into the volume");
    close(fd);
    // Hardlink out of the volume, into the root.
    fd = open(in_vol("inside.txt"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    setup(fd >= 0 && write(fd, "volume\n", 7) == 7, "create VOLUME/inside.txt");
    close(fd);
    must_fail(link(in_vol("inside.txt"), in_out("hardlink-out")), "link VOLUME/inside.txt to OUTSIDE");
    // Renames across the mounts.
    must_fail(rename(in_out("hardlink-source"), in_vol("renamed-in")), "rename OUTSIDE/hardlink-source into the volume");
    must_fail(rename(in_vol("inside.txt"), in_out("renamed-out")), "rename VOLUME/inside.txt to OUTSIDE");
    // A device node in the volume would be a real one on the host.
    must_fail(mknod(in_vol("devnull"), S_IFCHR | 0666, makedev(1, 3)), "mknod c 1 3 in the volume");
    must_fail(mknod(in_vol("sda"), S_IFBLK | 0600, makedev(8, 0)), "mknod b 8 0 in the volume");
    return finish();
}
