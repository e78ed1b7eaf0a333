// SPDX-License-Identifier: Apache-2.0
// Differential test: JIT-style code: write machine code into RW memory, mprotect to R+X, call it
// variants: static static-pie
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

typedef long (*fn_t)(long);

int main(void)
{
	unsigned char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		printf("mmap failed\n");
		return 1;
	}
	/* lea rax, [rdi + 42] ; ret */
	static const unsigned char add42[] = { 0x48, 0x8d, 0x47, 0x2a, 0xc3 };
	memcpy(p, add42, sizeof(add42));
	printf("mprotect(PROT_READ|PROT_EXEC) = %d\n", mprotect(p, 4096, PROT_READ | PROT_EXEC));
	fn_t f = (fn_t)(void *)p;
	printf("f(0) = %ld, f(100) = %ld\n", f(0), f(100));

	/* Rewrite the code (RW again), then execute the new version. */
	printf("mprotect(PROT_READ|PROT_WRITE) = %d\n", mprotect(p, 4096, PROT_READ | PROT_WRITE));
	/* mov rax, rdi ; imul rax, rdi ; ret  -> square */
	static const unsigned char square[] = { 0x48, 0x89, 0xf8, 0x48, 0x0f, 0xaf, 0xc7, 0xc3 };
	memcpy(p, square, sizeof(square));
	printf("mprotect(PROT_READ|PROT_EXEC) = %d\n", mprotect(p, 4096, PROT_READ | PROT_EXEC));
	printf("f(7) = %ld, f(-9) = %ld\n", f(7), f(-9));

	/* A mapping that is read-write-execute from the start, patched in place after running */
	unsigned char *q = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (q == MAP_FAILED) {
		printf("mmap RWX failed\n");
		return 1;
	}
	memcpy(q, add42, sizeof(add42));
	printf("RWX page: g(1) = %ld\n", ((fn_t)(void *)q)(1));
	q[3] = 0x01; /* patch the displacement in place: now adds 1 */
	printf("after patching in place: g(1) = %ld\n", ((fn_t)(void *)q)(1));
	munmap(q, 4096);
	munmap(p, 4096);
	return 0;
}
