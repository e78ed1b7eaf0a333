// SPDX-License-Identifier: Apache-2.0
// Differential test: writing to a page made read-only with mprotect dies with SIGSEGV (status 139)
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

int main(void)
{
	char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		printf("mmap failed\n");
		return 1;
	}
	strcpy(p, "still readable");
	printf("mprotect(PROT_READ) = %d\n", mprotect(p, 4096, PROT_READ));
	printf("read after mprotect: %s\n", p);
	printf("writing to the read-only page\n");
	fflush(stdout);
	*(volatile char *)p = 'X';
	printf("not reached\n");
	return 0;
}
