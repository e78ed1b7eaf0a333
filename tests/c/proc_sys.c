// SPDX-License-Identifier: Apache-2.0
// Differential test: system-wide /proc and /sys files: /proc/sys/kernel and fs, /proc/mounts, /proc/version,
// /proc/cpuinfo, /proc/meminfo, /proc/filesystems, /sys/devices/system/cpu/online, /sys/dev/block
// variants: static
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

static long slurp(const char *path, char *buf, long n)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0) {
		int e = errno;
		snprintf(buf, n, "<%s>", strerrorname_np(e));
		return -1;
	}
	long got = 0, r;
	while (got < n - 1 && (r = read(fd, buf + got, n - 1 - got)) > 0)
		got += r;
	close(fd);
	buf[got] = 0;
	return got;
}

static const char *yes(int c)
{
	return c ? "yes" : "no";
}

/* Counts the CPUs in a list such as "0-3,5,7-8\n"; -1 if it does not parse. */
static int count_list(const char *s)
{
	int n = 0;
	while (*s && *s != '\n') {
		char *end;
		long a = strtol(s, &end, 10), b = a;
		if (end == s)
			return -1;
		s = end;
		if (*s == '-') {
			b = strtol(s + 1, &end, 10);
			if (end == s + 1 || b < a)
				return -1;
			s = end;
		}
		n += b - a + 1;
		if (*s == ',')
			s++;
		else if (*s && *s != '\n')
			return -1;
	}
	return n;
}

static void mount_line(char *mounts, const char *dir, const char *fstype)
{
	char line[512], dev[256], mp[256], type[64], opts[256];
	int found = 0;
	for (char *p = mounts; p && *p;) {
		char *nl = strchr(p, '\n');
		size_t l = nl ? (size_t)(nl - p) : strlen(p);
		snprintf(line, sizeof line, "%.*s", (int)l, p);
		if (sscanf(line, "%255s %255s %63s %255s", dev, mp, type, opts) == 4 && strcmp(mp, dir) == 0 &&
		    strcmp(type, fstype) == 0)
			found = 1;
		p = nl ? nl + 1 : NULL;
	}
	printf("mounts: has a line for %s of type %s: %s\n", dir, fstype, yes(found));
}

int main(void)
{
	static char buf[1 << 17];
	struct utsname u;
	uname(&u);

	slurp("/proc/sys/kernel/ostype", buf, sizeof buf);
	printf("ostype: %s", buf);
	slurp("/proc/sys/kernel/osrelease", buf, sizeof buf);
	buf[strcspn(buf, "\n")] = 0;
	printf("osrelease equals uname release: %s\n", yes(strcmp(buf, u.release) == 0));
	slurp("/proc/sys/kernel/hostname", buf, sizeof buf);
	buf[strcspn(buf, "\n")] = 0;
	printf("hostname equals uname nodename: %s\n", yes(strcmp(buf, u.nodename) == 0));
	slurp("/proc/sys/fs/pipe-max-size", buf, sizeof buf);
	printf("pipe-max-size is a positive number: %s\n", yes(atol(buf) > 0));
	struct stat st;
	printf("stat pipe-max-size: %s", stat("/proc/sys/fs/pipe-max-size", &st) == 0 ? "ok" : "failed");
	printf(", regular: %s, mode %04o\n", yes(S_ISREG(st.st_mode)), st.st_mode & 07777);
	slurp("/proc/sys/kernel/pid_max", buf, sizeof buf);
	printf("pid_max is a positive number: %s\n", yes(atol(buf) > 0));
	slurp("/proc/sys/kernel/ngroups_max", buf, sizeof buf);
	printf("ngroups_max: %s", buf);
	slurp("/proc/sys/vm/overcommit_memory", buf, sizeof buf);
	printf("overcommit_memory is 0, 1 or 2: %s\n", yes(buf[0] >= '0' && buf[0] <= '2' && buf[1] == '\n'));

	slurp("/proc/version", buf, sizeof buf);
	char want[512];
	snprintf(want, sizeof want, "Linux version %s ", u.release);
	printf("/proc/version starts with Linux version <release>: %s\n", yes(strncmp(buf, want, strlen(want)) == 0));

	slurp("/proc/mounts", buf, sizeof buf);
	mount_line(buf, "/proc", "proc");
	mount_line(buf, "/sys", "sysfs");
	mount_line(buf, "/dev/shm", "tmpfs");
	char other[1 << 12];
	slurp("/proc/self/mounts", other, sizeof other);
	printf("/proc/self/mounts starts like /proc/mounts: %s\n", yes(strncmp(buf, other, strlen(other)) == 0));
	printf("/proc/mounts is a symlink to self/mounts: %s\n",
	       yes(readlink("/proc/mounts", other, sizeof other) == 11 && strncmp(other, "self/mounts", 11) == 0));

	slurp("/proc/filesystems", buf, sizeof buf);
	printf("filesystems has tmpfs: %s, proc: %s, sysfs: %s\n", yes(strstr(buf, "\ttmpfs\n") != NULL),
	       yes(strstr(buf, "nodev\tproc\n") != NULL), yes(strstr(buf, "nodev\tsysfs\n") != NULL));

	slurp("/proc/meminfo", buf, sizeof buf);
	printf("meminfo starts with MemTotal: %s, has MemAvailable: %s\n", yes(strncmp(buf, "MemTotal:", 9) == 0),
	       yes(strstr(buf, "\nMemAvailable:") != NULL));
	slurp("/proc/uptime", buf, sizeof buf);
	double up, idle;
	printf("uptime parses: %s\n", yes(sscanf(buf, "%lf %lf", &up, &idle) == 2 && up > 0));

	long nproc = sysconf(_SC_NPROCESSORS_ONLN);
	slurp("/sys/devices/system/cpu/online", buf, sizeof buf);
	int online = count_list(buf);
	printf("cpu/online parses: %s, equals sysconf(_SC_NPROCESSORS_ONLN): %s\n", yes(online > 0), yes(online == nproc));
	slurp("/sys/devices/system/cpu/possible", buf, sizeof buf);
	int possible = count_list(buf);
	printf("cpu/possible parses: %s, at least online: %s\n", yes(possible > 0), yes(possible >= online));
	slurp("/proc/cpuinfo", buf, sizeof buf);
	int procs = 0;
	for (char *p = buf; (p = strstr(p, "processor\t:")); p++)
		procs++;
	printf("cpuinfo processor entries equal online: %s\n", yes(procs == online));
	slurp("/proc/stat", buf, sizeof buf);
	int cpus = 0;
	for (char *p = buf; (p = strstr(p, "\ncpu")); p++)
		cpus++;
	printf("/proc/stat starts with \"cpu \": %s, cpuN lines equal online: %s\n", yes(strncmp(buf, "cpu ", 4) == 0),
	       yes(cpus == online));

	printf("/sys/dev/block is a directory: %s\n", yes(stat("/sys/dev/block", &st) == 0 && S_ISDIR(st.st_mode)));
	printf("/sys/dev/char is a directory: %s\n", yes(stat("/sys/dev/char", &st) == 0 && S_ISDIR(st.st_mode)));
	printf("/sys/devices/system/cpu/cpu0 is a directory: %s\n",
	       yes(stat("/sys/devices/system/cpu/cpu0", &st) == 0 && S_ISDIR(st.st_mode)));

	errno = 0;
	int fd = open("/proc/sys/kernel/ostype", O_WRONLY);
	int e = errno;
	if (fd >= 0) {
		errno = 0;
		long r = write(fd, "BSD", 3);
		e = errno;
		printf("write ostype: %s\n", r < 0 ? strerrorname_np(e) : "ok");
	} else {
		printf("open ostype O_WRONLY: %s\n", strerrorname_np(e));
	}
	slurp("/proc/sys/kernel/ostype", buf, sizeof buf);
	printf("ostype still: %s", buf);
	return 0;
}
