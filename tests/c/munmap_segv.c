// SPDX-License-Identifier: Apache-2.0
// Differential test: touching memory after munmap dies with SIGSEGV (status 139)
#include <stdio.h>
#include <sys/mman.h>

int main(void)
{
	char *p = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		printf("mmap failed\n");
		return 1;
	}
	p[4096] = 'x';
	printf("munmap(middle page) = %d\n", munmap(p + 4096, 4096));
	p[0] = p[8192] = 'y';
	printf("neighbours still usable: %c %c\n", p[0], p[8192]);
	printf("writing to the unmapped page\n");
	fflush(stdout);
	*(volatile char *)(p + 4096) = 'z';
	printf("not reached\n");
	return 0;
}
