// SPDX-License-Identifier: Apache-2.0
// Differential test: jumping into a non-executable (RW) page dies with SIGSEGV (status 139)
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

int main(void)
{
	unsigned char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		printf("mmap failed\n");
		return 1;
	}
	p[0] = 0xc3; /* ret: would be harmless if it could run */
	printf("calling into a PROT_READ|PROT_WRITE page\n");
	fflush(stdout);
	((void (*)(void))(void *)p)();
	printf("not reached\n");
	return 0;
}
