// SPDX-License-Identifier: Apache-2.0
// Differential test: umask(2) returns the previous mask and keeps only the 0777 bits
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
	/* The inherited mask depends on the caller; only print masks set here. */
	syscall(SYS_umask, 027);
	printf("after umask(027), umask(0) returns %04lo\n", syscall(SYS_umask, 0));
	printf("umask(0777) returns %04lo\n", syscall(SYS_umask, 0777));
	printf("umask(07777) returns %04lo\n", syscall(SYS_umask, 07777));
	printf("umask(0) returns %04lo (extra bits dropped)\n", syscall(SYS_umask, 0));
	printf("umask(0xffffffff) returns %04lo\n", syscall(SYS_umask, 0xffffffffUL));
	printf("umask(-1L) returns %04lo\n", syscall(SYS_umask, -1L));
	printf("umask(01022) returns %04lo\n", syscall(SYS_umask, 01022));
	printf("libc umask(022) returns %04o\n", (unsigned)umask(022));
	printf("libc umask(0) returns %04o\n", (unsigned)umask(0));
	return 0;
}
