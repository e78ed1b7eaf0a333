// SPDX-License-Identifier: Apache-2.0
// Differential test: growing MAP_SHARED anonymous memory with mremap past its object size; touching the tail is SIGBUS (135)
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#define PG 4096UL

int main(void)
{
	char *p = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		printf("mmap failed\n");
		return 1;
	}
	p[0] = 'a';
	p[2 * PG - 1] = 'b';
	char *q = mremap(p, 2 * PG, 8 * PG, MREMAP_MAYMOVE);
	printf("mremap 2 -> 8 pages: %s\n", q == MAP_FAILED ? strerrorname_np(errno) : "ok");
	if (q == MAP_FAILED)
		return 1;
	printf("inside the object: %c %c\n", q[0], q[2 * PG - 1]);
	printf("touching page 2, beyond the 2-page shmem object\n");
	fflush(stdout);
	volatile char c = q[2 * PG];
	printf("not reached %d\n", c);
	return 0;
}
