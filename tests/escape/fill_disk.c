// SPDX-License-Identifier: Apache-2.0
// Escape attempt: fill the host's disk through the sandbox's in-memory filesystems. Usage:
// fill_disk MIB (the --disk limit): writes /tmp/runrs-escape-fill, then /dev/shm and the root's
// memory layer, in 64 KiB blocks until ENOSPC; more than MIB MiB in all would be an escape.
// fallocate and a sparse file's size do not get around it. tests/escape.rs checks that the
// host's /tmp and /dev/shm got nothing.
#include "escape.h"

static long long total;

static void fill(const char *path, long long limit) {
    static char block[65536];
    memset(block, 'x', sizeof block);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    setup(fd >= 0, "create %s", path);
    long r = 0;
    while (total <= limit && (r = write(fd, block, sizeof block)) > 0) total += r;
    int e = errno;
    close(fd);
    errno = e;
    judge(r < 0 && e == ENOSPC && total <= limit, r < 0 ? ename(e) : "no error",
          "fill %s up to the --disk limit", path);
}

int main(int argc, char **argv) {
    setup(argc == 2, "usage: fill_disk MIB");
    long long limit = atoll(argv[1]) << 20;
    fill("/tmp/runrs-escape-fill", limit);
    long long after_tmp = total;
    fill("/dev/shm/runrs-escape-fill", limit);
    fill("/runrs-escape-fill", limit);
    printf("wrote %lld MiB in all, %lld MiB of it in /tmp\n", total >> 20, after_tmp >> 20);
    int fd = open("/tmp/runrs-escape-big", O_WRONLY | O_CREAT, 0644);
    setup(fd >= 0, "create /tmp/runrs-escape-big");
    must_fail(fallocate(fd, 0, 0, 1LL << 30), "fallocate 1 GiB in /tmp");
    // A sparse file's size costs nothing; its data would.
    inside(ftruncate(fd, 100LL << 30), "ftruncate a /tmp file to 100 GiB (sparse)");
    must_fail(pwrite(fd, "x", 1, 50LL << 30) == 1 && pwrite(fd, "x", 1, 60LL << 30) == 1 &&
                      pwrite(fd, "x", 1, 70LL << 30) == 1 && pwrite(fd, "x", 1, 80LL << 30) == 1
                  ? 0 : -1,
              "write into the sparse file past the limit");
    close(fd);
    // Freeing space gives it back.
    setup(unlink("/tmp/runrs-escape-fill") == 0, "unlink /tmp/runrs-escape-fill");
    fd = open("/tmp/runrs-escape-again", O_WRONLY | O_CREAT, 0644);
    judge(fd >= 0 && write(fd, "again\n", 6) == 6, "space came back", "write after freeing /tmp");
    return finish();
}
