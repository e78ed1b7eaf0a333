// SPDX-License-Identifier: Apache-2.0
// Escape attempt: reach host devices: the host's memory, ports, disks and kernel log by their
// usual names, and by device nodes the guest makes itself (mknod in /tmp, with the host's
// device numbers). The sandbox's /dev is its own and the Sentry never opens a host device.
// Usage: devices VOLUME, a read-write volume where tests/escape.rs made a device node
// (hostzero, c 1 5) and a FIFO it reads from (hostfifo): the guest must not read the one nor
// reach the host's reader through the other.
#include "escape.h"
#include <sys/sysmacros.h>

static void try_open(const char *path) {
    int fd = open(path, O_RDONLY);
    char c;
    // Reading one byte tells a real device from an emulated empty file.
    must_fail(fd < 0 ? -1 : read(fd, &c, 1) == 1 ? 0 : -1, "open+read %s", path);
    if (fd >= 0) close(fd);
}

// Makes a device node and reads from it: either step may fail.
static void node(const char *path, mode_t type, int maj, int min) {
    char c;
    int fd = mknod(path, type | 0600, makedev(maj, min)) == 0 ? open(path, O_RDONLY) : -1;
    must_fail(fd < 0 ? -1 : read(fd, &c, 1) == 1 ? 0 : -1, "mknod+open+read %s %c %d %d", path,
              S_ISBLK(type) ? 'b' : 'c', maj, min);
    if (fd >= 0) close(fd);
}

int main(int argc, char **argv) {
    char path[4096];
    setup(argc == 2, "usage: devices VOLUME");
    const char *names[] = {"/dev/mem", "/dev/kmem", "/dev/port", "/dev/sda", "/dev/vda",
                           "/dev/nvme0n1", "/dev/kmsg", "/dev/tty0", "/dev/console", "/dev/fuse",
                           "/dev/kvm", "/sys/firmware/efi/efivars", "/proc/kcore", "/proc/kallsyms"};
    for (unsigned i = 0; i < sizeof names / sizeof *names; i++) try_open(names[i]);
    node("/tmp/runrs-escape-mem", S_IFCHR, 1, 1);
    node("/tmp/runrs-escape-port", S_IFCHR, 1, 4);
    node("/tmp/runrs-escape-kmsg", S_IFCHR, 1, 11);
    node("/tmp/runrs-escape-vda", S_IFBLK, 254, 0);
    node("/tmp/runrs-escape-sda", S_IFBLK, 8, 0);
    snprintf(path, sizeof path, "%s/hostzero", argv[1]);
    try_open(path);
    snprintf(path, sizeof path, "%s/hostfifo", argv[1]);
    int fd = open(path, O_WRONLY | O_NONBLOCK);
    must_fail(fd < 0 ? -1 : write(fd, "ESCAPED\n", 8), "open+write the host's FIFO in the volume");
    if (fd >= 0) close(fd);
    return finish();
}
