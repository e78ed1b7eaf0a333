// SPDX-License-Identifier: Apache-2.0
// Differential test: uname(2): fixed fields, NUL termination, EFAULT (never prints release/nodename)
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

static int terminated(const char *f)
{
	return memchr(f, '\0', sizeof(((struct utsname *)0)->sysname)) != NULL;
}

int main(void)
{
	struct utsname u;
	memset(&u, 0x7f, sizeof(u));
	long r = syscall(SYS_uname, &u);
	printf("uname = %ld\n", r);
	printf("sizeof(struct utsname) = %zu\n", sizeof(u));
	printf("sysname: %s\n", u.sysname);
	printf("machine: %s\n", u.machine);
	printf("all six fields NUL-terminated: %s\n",
	       terminated(u.sysname) && terminated(u.nodename) && terminated(u.release) &&
			       terminated(u.version) && terminated(u.machine) && terminated(u.domainname)
		       ? "yes"
		       : "no");
	printf("nodename non-empty: %s\n", u.nodename[0] ? "yes" : "no");
	printf("release non-empty: %s\n", u.release[0] ? "yes" : "no");
	printf("release starts with a digit: %s\n", u.release[0] >= '0' && u.release[0] <= '9' ? "yes" : "no");
	printf("version non-empty: %s\n", u.version[0] ? "yes" : "no");

	struct utsname v;
	uname(&v);
	printf("libc uname agrees: %s\n", memcmp(&u, &v, sizeof(u)) == 0 ? "yes" : "no");

	errno = 0;
	r = syscall(SYS_uname, (void *)1);
	printf("uname((void*)1) = %ld %s\n", r, r ? strerrorname_np(errno) : "");
	errno = 0;
	r = syscall(SYS_uname, NULL);
	printf("uname(NULL) = %ld %s\n", r, r ? strerrorname_np(errno) : "");

	/* struct straddling into a PROT_NONE page */
	char *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED || mprotect(p + 4096, 4096, PROT_NONE) != 0) {
		printf("mmap/mprotect failed\n");
		return 1;
	}
	errno = 0;
	r = syscall(SYS_uname, p + 4096 - 100);
	printf("uname(straddling PROT_NONE) = %ld %s\n", r, r ? strerrorname_np(errno) : "");
	errno = 0;
	r = syscall(SYS_uname, p + 4096 - sizeof(struct utsname));
	printf("uname(ending exactly at PROT_NONE) = %ld %s\n", r, r ? strerrorname_np(errno) : "");
	printf("copied sysname matches: %s\n",
	       strcmp(((struct utsname *)(p + 4096 - sizeof(struct utsname)))->sysname, u.sysname) == 0
		       ? "yes"
		       : "no");
	munmap(p, 8192);
	return 0;
}
