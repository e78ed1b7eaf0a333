// SPDX-License-Identifier: Apache-2.0
// Escape attempt: read the Sentry's or the Gofer's memory through the sandbox's /proc.
// Usage: procmem TESTPID. /proc/1/mem is the guest's own memory; /proc/N for any other pid
// (the host's pids near TESTPID, where the Sentry and the Gofer are, and small pids) does not
// exist (ENOENT); /proc lists only the guest's processes; the guest's maps and fds show
// nothing of the Sentry; the stub's code page above the guest's address space is unreadable.
// (A sandbox without /proc/PID/mem files, ENOENT, is contained too.)
#include "escape.h"
#include <dirent.h>
#include <limits.h>

static volatile unsigned long secret = 0x52756e52734d656dUL;

int main(int argc, char **argv) {
    char path[PATH_MAX], buf[4096];
    setup(argc == 2, "usage: procmem TESTPID");
    int testpid = atoi(argv[1]);

    // /proc/1/mem and /proc/self/mem are this process's memory.
    const char *mems[] = {"/proc/1/mem", "/proc/self/mem"};
    for (int i = 0; i < 2; i++) {
        int fd = open(mems[i], O_RDWR);
        if (fd < 0) {
            // No mem file at all is contained too.
            must_fail(fd, "open %s", mems[i]);
            continue;
        }
        unsigned long v = 0;
        long r = pread(fd, &v, sizeof v, (off_t)(unsigned long)&secret);
        judge(r == sizeof v && v == secret, r == sizeof v && v == secret ? "its own memory" : "something else",
              "read %s at a guest address", mems[i]);
        // The stub's code page (above the guest's address space) and the kernel half.
        r = pread(fd, buf, 16, (off_t)0x7ff000000000UL);
        must_fail(r, "read %s at the stub's code page 0x7ff000000000", mems[i]);
        r = pread(fd, buf, 16, (off_t)0xffffffff81000000UL);
        must_fail(r, "read %s at a kernel address", mems[i]);
        close(fd);
    }

    // /proc lists only the sandbox's own processes.
    DIR *d = opendir("/proc");
    setup(d != NULL, "opendir /proc");
    struct dirent *e;
    int others = 0;
    while ((e = readdir(d)))
        if (e->d_name[0] >= '0' && e->d_name[0] <= '9' && strcmp(e->d_name, "1")) others++;
    closedir(d);
    judge(others == 0, others ? "other pids listed" : "only 1", "pids listed in /proc");

    // Every other pid: nothing to open.
    const char *files[] = {"mem", "maps", "environ", "root", "cwd", "exe", "fd", "status"};
    int found = 0, first = 0;
    const char *first_file = "";
    for (int pid = 0; pid <= 2000; pid++) {
        int p = pid < 1000 ? pid + 2 : testpid - 20 + (pid - 1000);
        if (p <= 1) continue;
        for (unsigned f = 0; f < sizeof files / sizeof *files; f++) {
            snprintf(path, sizeof path, "/proc/%d/%s", p, files[f]);
            int fd = open(path, O_RDONLY | O_PATH);
            if (fd >= 0 || errno != ENOENT) {
                if (!found++) {
                    first = p;
                    first_file = files[f];
                }
                if (fd >= 0) close(fd);
            }
        }
    }
    snprintf(buf, sizeof buf, "%d found, the first /proc/%d/%s", found, first, first_file);
    judge(found == 0, found ? buf : "ENOENT", "/proc/N/{mem,maps,environ,root,cwd,exe,fd,status} of pids 2..1001 and TESTPID-20..TESTPID+980");

    // The guest's maps, fds and environment name nothing of runrs.
    int fd = open("/proc/self/maps", O_RDONLY);
    setup(fd >= 0, "open /proc/self/maps");
    long n = read(fd, buf, sizeof buf - 1);
    close(fd);
    buf[n > 0 ? n : 0] = 0;
    judge(!strstr(buf, "runrs") && !strstr(buf, "gofer") && !strstr(buf, "memfd"),
          "only the guest's mappings", "/proc/self/maps");
    int fds = 0;
    d = opendir("/proc/self/fd");
    setup(d != NULL, "opendir /proc/self/fd");
    while ((e = readdir(d)))
        if (e->d_name[0] != '.') fds++;
    closedir(d);
    snprintf(buf, sizeof buf, "%d fds", fds);
    judge(fds <= 4, buf, "/proc/self/fd lists only stdio and the listing's own fd");
    judge(readlink("/proc/self/fd/0", path, sizeof path) > 0, "readable", "/proc/self/fd/0");
    return finish();
}
