// SPDX-License-Identifier: Apache-2.0
// Escape attempt: change the host through mount, umount, chroot, pivot_root, unshare, setns,
// hostname, the clock, I/O ports, kernel modules, swap, and the classic /proc and /sys knobs
// (core_pattern, uevent_helper, sysrq-trigger). Usage: mounts ROVOL where ROVOL is a :ro volume
// holding ro-file. Whatever the sandbox allows must stay inside it: a remounted :ro volume still
// refuses writes, a chroot break-out ends at the guest's own root, and tests/escape.rs checks
// the host's mounts and hostname did not change.
#include "escape.h"
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <sys/io.h>
#include <sys/mount.h>
#include <sys/swap.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

// Runs `what` in a child (so that namespace changes do not affect the later attempts).
static void in_child(int flag, const char *name) {
    int p[2];
    setup(pipe(p) == 0, "pipe");
    pid_t pid = fork();
    setup(pid >= 0, "fork");
    if (pid == 0) {
        int r = unshare(flag);
        int e = errno;
        write(p[1], &r, sizeof r);
        write(p[1], &e, sizeof e);
        _exit(0);
    }
    int r = -1, e = 0;
    read(p[0], &r, sizeof r);
    read(p[0], &e, sizeof e);
    waitpid(pid, NULL, 0);
    close(p[0]);
    close(p[1]);
    errno = e;
    inside(r, "unshare(%s)", name);
}

// Opens a host kernel knob for writing; never writes to it.
static void knob(const char *path) {
    int fd = open(path, O_WRONLY);
    inside(fd, "open %s for writing (nothing written)", path);
    if (fd >= 0) close(fd);
}

int main(int argc, char **argv) {
    char path[PATH_MAX];
    setup(argc == 2, "usage: mounts ROVOL");
    const char *ro = argv[1];
    struct stat root;
    setup(stat("/", &root) == 0, "stat /");
    setup(mkdir("/tmp/m", 0755) == 0 && mkdir("/tmp/m2", 0755) == 0 && mkdir("/tmp/m3", 0755) == 0,
          "mkdir /tmp/m*");

    inside(mount("tmpfs", "/tmp/m", "tmpfs", 0, "size=1m"), "mount tmpfs");
    inside(mount("/", "/tmp/m2", NULL, MS_BIND | MS_REC, NULL), "bind-mount / on /tmp/m2");
    inside(mount("proc", "/tmp/m3", "proc", 0, NULL), "mount proc");
    must_fail(mount("/dev/sda", "/tmp/m3", "ext4", MS_RDONLY, NULL), "mount /dev/sda (ext4)");
    must_fail(mount("/dev/vda", "/tmp/m3", "ext4", MS_RDONLY, NULL), "mount /dev/vda (ext4)");
    // Make the :ro volume writable: it must still refuse writes.
    inside(mount(NULL, ro, NULL, MS_REMOUNT | MS_BIND, NULL), "remount the :ro volume read-write");
    int bound = mount(ro, "/tmp/m3", NULL, MS_BIND, NULL);
    inside(bound, "bind-mount the :ro volume elsewhere");
    inside(mount(NULL, "/tmp/m3", NULL, MS_REMOUNT | MS_BIND, NULL), "remount that bind read-write");
    snprintf(path, sizeof path, "%s/runrs-escape-remount", ro);
    int fd = open(path, O_WRONLY | O_CREAT, 0644);
    must_fail(fd, "create a file in the remounted :ro volume");
    if (fd >= 0) close(fd);
    snprintf(path, sizeof path, "%s/ro-file", ro);
    fd = open(path, O_WRONLY | O_APPEND);
    must_fail(fd, "open ro-file of the remounted :ro volume for writing");
    if (fd >= 0) close(fd);
    if (bound == 0) {
        fd = open("/tmp/m3/runrs-escape-remount", O_WRONLY | O_CREAT, 0644);
        must_fail(fd, "create a file through the bind of the :ro volume");
        if (fd >= 0) close(fd);
    } else {
        judge(1, "no bind", "create a file through the bind of the :ro volume");
    }
    inside(umount2("/proc", MNT_DETACH), "umount /proc");
    inside(umount2(ro, MNT_DETACH), "umount the :ro volume");
    inside(umount2("/", MNT_DETACH), "umount /");

    // chroot, and the classic break-out: it can only end at the guest's own root.
    int rootfd = open("/", O_RDONLY | O_DIRECTORY);
    setup(rootfd >= 0, "open /");
    inside(chroot("/tmp"), "chroot /tmp");
    setup(fchdir(rootfd) == 0, "fchdir");
    for (int i = 0; i < 20; i++) chdir("..");
    inside(chroot("."), "chroot . after climbing out of the chroot");
    int r = same_as("/", &root);
    judge(r == 1, same_str(r), "the root after the chroot break-out is the guest's /");
    r = same_as("/..", &root);
    judge(r == 1, same_str(r), "its .. is itself");
    setup(chdir("/") == 0, "chdir /");
    inside(syscall(SYS_pivot_root, "/tmp/m", "/tmp/m"), "pivot_root");

    in_child(CLONE_NEWNS, "CLONE_NEWNS");
    in_child(CLONE_NEWUSER, "CLONE_NEWUSER");
    in_child(CLONE_NEWNET, "CLONE_NEWNET");
    in_child(CLONE_NEWPID, "CLONE_NEWPID");
    in_child(CLONE_NEWUTS, "CLONE_NEWUTS");
    in_child(CLONE_NEWIPC, "CLONE_NEWIPC");
    in_child(CLONE_NEWCGROUP, "CLONE_NEWCGROUP");
    in_child(0x80, "CLONE_NEWTIME");
    fd = open("/proc/1/ns/mnt", O_RDONLY);
    inside(fd < 0 ? -1 : setns(fd, 0), "setns(/proc/1/ns/mnt)");
    if (fd >= 0) close(fd);
    long pfd = syscall(SYS_pidfd_open, 1, 0);
    inside(pfd < 0 ? -1 : setns(pfd, CLONE_NEWNS | CLONE_NEWNET), "setns(pidfd of 1)");
    if (pfd >= 0) close(pfd);

    // Host-wide state.
    inside(sethostname("runrs-escaped", 13), "sethostname");
    knob("/proc/sys/kernel/hostname");
    knob("/proc/sys/kernel/core_pattern");
    knob("/proc/sys/kernel/modprobe");
    knob("/proc/sysrq-trigger");
    knob("/sys/kernel/uevent_helper");
    knob("/sys/fs/cgroup/cgroup.procs");
    knob("/dev/kmsg");
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    // Setting the clock to what it is: harmless even if it reached the host.
    must_fail(clock_settime(CLOCK_REALTIME, &now), "clock_settime(CLOCK_REALTIME) to now");
    must_fail(ioperm(0x80, 1, 1), "ioperm(0x80)");
    must_fail(iopl(3), "iopl(3)");
    must_fail(syscall(SYS_finit_module, 0, "", 0), "finit_module");
    must_fail(syscall(SYS_delete_module, "runrs_no_such_module", O_NONBLOCK), "delete_module");
    must_fail(swapoff("/runrs-no-such-swap"), "swapoff");
    inside(syscall(SYS_open_tree, AT_FDCWD, "/", 1 /* OPEN_TREE_CLONE */), "open_tree(OPEN_TREE_CLONE)");
    inside(syscall(SYS_fsopen, "tmpfs", 0), "fsopen(tmpfs)");
    return finish();
}
