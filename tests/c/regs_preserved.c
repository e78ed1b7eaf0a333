// SPDX-License-Identifier: Apache-2.0
// Differential test: the syscall instruction preserves every register except rax, rcx and r11 (GPRs and xmm0-15)
// variants: static static-pie
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>

/*
 * regs_call(in, out, nr): loads rbx, rbp, r12-r15, rdx, rsi, r8, r9, r10, rdi and
 * xmm0-15 from in[], executes syscall nr with those argument registers, then
 * stores the same registers and the result into out[].
 * Layout (8-byte words): 0 rbx, 1 rbp, 2 r12, 3 r13, 4 r14, 5 r15, 6 rdx, 7 r8,
 * 8 r9, 9 r10, 10 rsi, 11 rdi, 12 rax(result); xmm_i at byte 128 + 16*i.
 */
__attribute__((naked, noinline)) static void regs_call(const uint64_t *in, uint64_t *out, long nr)
{
	asm(
		"push %rbx\n\t"
		"push %rbp\n\t"
		"push %r12\n\t"
		"push %r13\n\t"
		"push %r14\n\t"
		"push %r15\n\t"
		"push %rsi\n\t" /* out */
		"mov %rdx, %rax\n\t"
		"mov 0(%rdi), %rbx\n\t"
		"mov 8(%rdi), %rbp\n\t"
		"mov 16(%rdi), %r12\n\t"
		"mov 24(%rdi), %r13\n\t"
		"mov 32(%rdi), %r14\n\t"
		"mov 40(%rdi), %r15\n\t"
		"mov 48(%rdi), %rdx\n\t"
		"mov 56(%rdi), %r8\n\t"
		"mov 64(%rdi), %r9\n\t"
		"mov 72(%rdi), %r10\n\t"
		"mov 80(%rdi), %rsi\n\t"
		"movdqu 128(%rdi), %xmm0\n\t"
		"movdqu 144(%rdi), %xmm1\n\t"
		"movdqu 160(%rdi), %xmm2\n\t"
		"movdqu 176(%rdi), %xmm3\n\t"
		"movdqu 192(%rdi), %xmm4\n\t"
		"movdqu 208(%rdi), %xmm5\n\t"
		"movdqu 224(%rdi), %xmm6\n\t"
		"movdqu 240(%rdi), %xmm7\n\t"
		"movdqu 256(%rdi), %xmm8\n\t"
		"movdqu 272(%rdi), %xmm9\n\t"
		"movdqu 288(%rdi), %xmm10\n\t"
		"movdqu 304(%rdi), %xmm11\n\t"
		"movdqu 320(%rdi), %xmm12\n\t"
		"movdqu 336(%rdi), %xmm13\n\t"
		"movdqu 352(%rdi), %xmm14\n\t"
		"movdqu 368(%rdi), %xmm15\n\t"
		"mov 88(%rdi), %rdi\n\t"
		"syscall\n\t"
		"push %rax\n\t"
		"mov 8(%rsp), %rax\n\t" /* out */
		"mov %rbx, 0(%rax)\n\t"
		"mov %rbp, 8(%rax)\n\t"
		"mov %r12, 16(%rax)\n\t"
		"mov %r13, 24(%rax)\n\t"
		"mov %r14, 32(%rax)\n\t"
		"mov %r15, 40(%rax)\n\t"
		"mov %rdx, 48(%rax)\n\t"
		"mov %r8, 56(%rax)\n\t"
		"mov %r9, 64(%rax)\n\t"
		"mov %r10, 72(%rax)\n\t"
		"mov %rsi, 80(%rax)\n\t"
		"mov %rdi, 88(%rax)\n\t"
		"movdqu %xmm0, 128(%rax)\n\t"
		"movdqu %xmm1, 144(%rax)\n\t"
		"movdqu %xmm2, 160(%rax)\n\t"
		"movdqu %xmm3, 176(%rax)\n\t"
		"movdqu %xmm4, 192(%rax)\n\t"
		"movdqu %xmm5, 208(%rax)\n\t"
		"movdqu %xmm6, 224(%rax)\n\t"
		"movdqu %xmm7, 240(%rax)\n\t"
		"movdqu %xmm8, 256(%rax)\n\t"
		"movdqu %xmm9, 272(%rax)\n\t"
		"movdqu %xmm10, 288(%rax)\n\t"
		"movdqu %xmm11, 304(%rax)\n\t"
		"movdqu %xmm12, 320(%rax)\n\t"
		"movdqu %xmm13, 336(%rax)\n\t"
		"movdqu %xmm14, 352(%rax)\n\t"
		"movdqu %xmm15, 368(%rax)\n\t"
		"pop %rcx\n\t"
		"mov %rcx, 96(%rax)\n\t"
		"pop %rsi\n\t"
		"pop %r15\n\t"
		"pop %r14\n\t"
		"pop %r13\n\t"
		"pop %r12\n\t"
		"pop %rbp\n\t"
		"pop %rbx\n\t"
		"ret\n\t");
}

static const char *const names[12] = { "rbx", "rbp", "r12", "r13", "r14", "r15",
					"rdx", "r8",  "r9",  "r10", "rsi", "rdi" };

static void run(const char *label, long nr, uint64_t rdi, uint64_t rsi, uint64_t rdx)
{
	uint64_t in[48], out[48];
	for (int i = 0; i < 48; i++) {
		in[i] = 0x0101010101010101ULL * (uint64_t)(i + 1) ^ 0x8000000000000000ULL;
		out[i] = 0;
	}
	in[11] = rdi;
	in[10] = rsi;
	in[6] = rdx;
	regs_call(in, out, nr);
	printf("%s: result = %lld\n", label, (long long)out[12]);
	int all = 1;
	for (int i = 0; i < 12; i++) {
		if (out[i] != in[i]) {
			printf("  %s changed\n", names[i]);
			all = 0;
		}
	}
	for (int i = 0; i < 16; i++) {
		if (memcmp(&in[16 + 2 * i], &out[16 + 2 * i], 16) != 0) {
			printf("  xmm%d changed\n", i);
			all = 0;
		}
	}
	printf("  all general registers but rax/rcx/r11 and xmm0-15 preserved: %s\n", all ? "yes" : "no");
}

int main(void)
{
	run("getuid", SYS_getuid, 0, 0, 0);
	run("close(-1) (error path)", SYS_close, (uint64_t)-1, 0, 0);
	run("sched_yield", SYS_sched_yield, 0, 0, 0);
	struct timespec_ {
		long s, ns;
	} ts = { 0, 1000 };
	run("nanosleep(1us)", SYS_nanosleep, (uint64_t)(uintptr_t)&ts, 0, 0);
	run("unknown syscall 1000", 1000, 0, 0, 0);
	static char msg[] = "written by the register test\n";
	fflush(stdout);
	run("write(1, msg)", SYS_write, 1, (uint64_t)(uintptr_t)msg, sizeof(msg) - 1);
	return 0;
}
