// SPDX-License-Identifier: Apache-2.0
// Differential test: auxiliary vector values and their consistency with the ELF image and credentials
// variants: static static-pie
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

extern const ElfW(Ehdr) __ehdr_start;
extern char _start[];

static const char *base(const char *s)
{
	const char *slash = strrchr(s, '/');
	return slash ? slash + 1 : s;
}

static int count_cb(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	if (*(int *)data == -1)
		*(int *)data = info->dlpi_phnum;
	return 0;
}

int main(int argc, char **argv)
{
	(void)argc;
	printf("AT_PAGESZ = %lu\n", getauxval(AT_PAGESZ));
	printf("AT_PHENT = %lu (sizeof Elf64_Phdr = %zu)\n", getauxval(AT_PHENT), sizeof(ElfW(Phdr)));
	printf("AT_PHNUM = %lu, matches e_phnum of __ehdr_start: %s\n", getauxval(AT_PHNUM),
	       getauxval(AT_PHNUM) == __ehdr_start.e_phnum ? "yes" : "no");
	int n = -1;
	dl_iterate_phdr(count_cb, &n);
	printf("dl_iterate_phdr sees the same count: %s\n", (unsigned long)n == getauxval(AT_PHNUM) ? "yes" : "no");
	printf("AT_PHDR == __ehdr_start + e_phoff: %s\n",
	       getauxval(AT_PHDR) == (uintptr_t)&__ehdr_start + __ehdr_start.e_phoff ? "yes" : "no");
	printf("AT_ENTRY non-zero: %s, equals &_start: %s\n", getauxval(AT_ENTRY) ? "yes" : "no",
	       getauxval(AT_ENTRY) == (uintptr_t)_start ? "yes" : "no");
	printf("AT_BASE = %lu (no interpreter)\n", getauxval(AT_BASE));
	printf("AT_FLAGS = %lu\n", getauxval(AT_FLAGS));
	printf("AT_SECURE = %lu\n", getauxval(AT_SECURE));

	const unsigned char *rnd = (const unsigned char *)getauxval(AT_RANDOM);
	int nz = 0;
	if (rnd)
		for (int i = 0; i < 16; i++)
			nz |= rnd[i];
	printf("AT_RANDOM points to 16 bytes, not all zero: %s\n", rnd && nz ? "yes" : "no");

	printf("AT_UID == getuid: %s, AT_EUID == geteuid: %s\n", getauxval(AT_UID) == getuid() ? "yes" : "no",
	       getauxval(AT_EUID) == geteuid() ? "yes" : "no");
	printf("AT_GID == getgid: %s, AT_EGID == getegid: %s\n", getauxval(AT_GID) == getgid() ? "yes" : "no",
	       getauxval(AT_EGID) == getegid() ? "yes" : "no");
	printf("AT_UID = %lu, AT_GID = %lu\n", getauxval(AT_UID), getauxval(AT_GID));

	const char *execfn = (const char *)getauxval(AT_EXECFN);
	printf("AT_EXECFN basename: %s\n", execfn ? base(execfn) : "(none)");
	printf("AT_EXECFN basename == argv[0] basename: %s\n", execfn && strcmp(base(execfn), base(argv[0])) == 0 ? "yes" : "no");
	const char *plat = (const char *)getauxval(AT_PLATFORM);
	printf("AT_PLATFORM: %s\n", plat ? plat : "(none)");
	printf("AT_CLKTCK = %lu\n", getauxval(AT_CLKTCK));
	printf("AT_HWCAP non-zero: %s\n", getauxval(AT_HWCAP) ? "yes" : "no");
	/*
	 * The value itself is not printed: older kernels report CPUID.1:EDX here,
	 * while e.g. Linux 6.18 reports 0x2.
	 */

	errno = 0;
	unsigned long v = getauxval(999);
	printf("getauxval(999) = %lu, errno = %s\n", v, strerrorname_np(errno));
	return 0;
}
