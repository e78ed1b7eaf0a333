// SPDX-License-Identifier: Apache-2.0
// Differential test: reading a PROT_NONE page dies with SIGSEGV (status 139)
#include <stdio.h>
#include <sys/mman.h>

int main(void)
{
	char *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		printf("mmap failed\n");
		return 1;
	}
	p[4096] = 'a';
	printf("mprotect(second page, PROT_NONE) = %d\n", mprotect(p + 4096, 4096, PROT_NONE));
	printf("first page still fine: %d\n", p[0]);
	printf("reading the PROT_NONE page\n");
	fflush(stdout);
	volatile char c = p[4096];
	printf("not reached %d\n", c);
	return 0;
}
