// SPDX-License-Identifier: Apache-2.0
// Differential test: initial stack layout (argc/argv/envp/auxv placement, string packing, 16-byte alignment)
// variants: static static-pie
// args: alpha beta gamma
#define _GNU_SOURCE
#include <elf.h>
#include <immintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

extern char **environ;

__attribute__((naked, noinline)) static uintptr_t rsp_at_entry(void)
{
	asm("lea 8(%rsp), %rax\n\t" /* caller's rsp before the call pushed the return address */
	    "ret");
}

__attribute__((noinline)) static float sse_on_stack(float x)
{
	__m128 a[4];
	for (int i = 0; i < 4; i++)
		a[i] = _mm_set1_ps(x + (float)i);
	__m128 s = _mm_add_ps(_mm_add_ps(a[0], a[1]), _mm_add_ps(a[2], a[3]));
	float out[4];
	_mm_storeu_ps(out, s);
	asm volatile("" ::: "memory");
	return out[0] + out[3];
}

__attribute__((noinline)) static int aligned_locals(int n)
{
	char *va = __builtin_alloca((size_t)n);
	long double ld = 1.5L * (long double)n;
	_Alignas(64) char big[64];
	memset(va, 1, (size_t)n);
	memset(big, 2, sizeof(big));
	asm volatile("" ::"r"(va), "r"(big) : "memory");
	return (((uintptr_t)va & 15) == 0) + (((uintptr_t)big & 63) == 0) * 2 + (ld == 1.5L * n) * 4;
}

int main(int argc, char **argv, char **envp)
{
	printf("argc = %d\n", argc);
	for (int i = 1; i < argc; i++)
		printf("argv[%d] = %s\n", i, argv[i]);
	printf("argv[argc] == NULL: %s\n", argv[argc] == NULL ? "yes" : "no");

	/* At _start the stack pointer points at argc, so argv sits 8 bytes above it. */
	uintptr_t sp0 = (uintptr_t)argv - 8;
	printf("initial stack pointer 16-byte aligned: %s\n", sp0 % 16 == 0 ? "yes" : "no");
	printf("argc stored just below argv: %s\n", *(long *)sp0 == argc ? "yes" : "no");
	printf("envp == argv + argc + 1: %s\n", envp == argv + argc + 1 ? "yes" : "no");
	printf("environ == envp: %s\n", environ == envp ? "yes" : "no");

	int nenv = 0;
	while (envp[nenv])
		nenv++;
	Elf64_auxv_t *auxv = (Elf64_auxv_t *)(envp + nenv + 1);
	int n = 0, found_pagesz = 0, terminated = 0;
	for (; n < 64; n++) {
		if (auxv[n].a_type == AT_NULL) {
			terminated = 1;
			break;
		}
		if (auxv[n].a_type == AT_PAGESZ)
			found_pagesz = auxv[n].a_un.a_val == getauxval(AT_PAGESZ);
	}
	printf("auxv follows envp's NULL and ends with AT_NULL: %s\n", terminated ? "yes" : "no");
	printf("auxv AT_PAGESZ agrees with getauxval: %s\n", found_pagesz ? "yes" : "no");

	/* Strings are packed back to back: argv strings, then environment strings. */
	int packed = 1;
	for (int i = 0; i + 1 < argc; i++)
		packed &= argv[i + 1] == argv[i] + strlen(argv[i]) + 1;
	printf("argv strings contiguous: %s\n", packed ? "yes" : "no");
	if (nenv > 0) {
		printf("first env string follows the last argv string: %s\n",
		       envp[0] == argv[argc - 1] + strlen(argv[argc - 1]) + 1 ? "yes" : "no");
		packed = 1;
		for (int i = 0; i + 1 < nenv; i++)
			packed &= envp[i + 1] == envp[i] + strlen(envp[i]) + 1;
		printf("env strings contiguous: %s\n", packed ? "yes" : "no");
	}
	printf("strings live above the pointer arrays: %s\n", (uintptr_t)argv[0] > (uintptr_t)(auxv + n) ? "yes" : "no");
	int local;
	printf("main's frame is below argv: %s\n", (uintptr_t)&local < (uintptr_t)argv ? "yes" : "no");

	printf("rsp %% 16 before a call: %lu\n", (unsigned long)(rsp_at_entry() % 16));
	printf("SSE values on the stack: %.1f\n", (double)sse_on_stack(1.0f));
	printf("alloca/aligned/long double check: %d (7 = all good)\n", aligned_locals(24));
	printf("same with an odd alloca: %d\n", aligned_locals(13));
	return 0;
}
