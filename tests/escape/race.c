// SPDX-License-Identifier: Apache-2.0
// Escape attempt: a symlink race. Usage: race FLIP MASKED N
// On the host, tests/escape.rs keeps swapping FLIP (in a read-write volume) between a real
// directory holding escape-marker-host with "volume" in it and symlinks to MASKED (absolute,
// and relative "../masked"). On the host MASKED holds escape-marker-host with "host" in it;
// in the sandbox MASKED is covered by an empty read-only volume. The guest opens and stats
// FLIP/escape-marker-host, and opens it relative to an fd of FLIP, N times or more: it may see
// the volume's marker or nothing, but never the host's (which only a resolution on the host,
// following the symlink there, reaches).
// It also creates FLIP/runrs-escape-race-created each round: tests/escape.rs checks that the
// host's MASKED never gets it.
#include "escape.h"
#include <dirent.h>
#include <limits.h>

int main(int argc, char **argv) {
    char path[PATH_MAX], buf[64];
    setup(argc == 4, "usage: race FLIP MASKED N");
    int n = atoi(argv[3]);
    snprintf(path, sizeof path, "%s/escape-marker-host", argv[2]);
    setup(access(path, F_OK) != 0 && errno == ENOENT, "MASKED/escape-marker-host hidden in the sandbox");
    snprintf(path, sizeof path, "%s/escape-marker-host", argv[1]);
    char create[PATH_MAX];
    snprintf(create, sizeof create, "%s/runrs-escape-race-created", argv[1]);
    int volume = 0, host = 0, other = 0, missing = 0, host_stat = 0, created = 0;
    struct stat st;
    // N rounds, and on until both sides of the race were seen (at most 20 N rounds): a busy
    // host may not swap often enough in N.
    int i;
    for (i = 0; i < n || (i < 20 * n && !(volume && missing)); i++) {
        int fd = open(path, O_RDONLY);
        if (fd < 0) {
            missing++;
        } else {
            ssize_t r = read(fd, buf, sizeof buf - 1);
            buf[r > 0 ? r : 0] = 0;
            if (!strcmp(buf, "volume\n"))
                volume++;
            else if (!strcmp(buf, "host\n"))
                host++;
            else
                other++;
            close(fd);
        }
        // The host's marker is 5 bytes, the volume's 7.
        if (stat(path, &st) == 0 && st.st_size == 5) host_stat++;
        // Creating a file through the link: into the volume's directory, or refused by the
        // read-only cover of MASKED; never into the host's MASKED.
        fd = open(create, O_WRONLY | O_CREAT, 0644);
        if (fd >= 0) {
            created++;
            close(fd);
        }
        // Opening the directory through the link and reading the marker relative to it.
        int d = open(argv[1], O_RDONLY | O_DIRECTORY);
        if (d >= 0) {
            fd = openat(d, "escape-marker-host", O_RDONLY);
            if (fd >= 0) {
                ssize_t r = read(fd, buf, sizeof buf - 1);
                buf[r > 0 ? r : 0] = 0;
                if (!strcmp(buf, "host\n")) host++;
                close(fd);
            }
            close(d);
        }
    }
    printf("race: at least %d rounds: saw the volume's marker %s, none %s, other %d; created files %s\n", i >= n ? n : i,
           volume ? "yes" : "no", missing ? "yes" : "no", other, created ? "yes" : "no");
    judge(host == 0, host ? "read the host's marker" : "never the host's marker",
          "open through a symlink swapped on the host");
    judge(host_stat == 0, host_stat ? "stat the host's marker" : "never the host's marker",
          "stat through a symlink swapped on the host");
    return finish();
}
