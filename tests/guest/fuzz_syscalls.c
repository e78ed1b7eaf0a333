// SPDX-License-Identifier: Apache-2.0
// A hostile guest: random syscall numbers with garbage arguments (random integers, pointers into
// a guarded scratch buffer, NULL, kernel addresses, the platform's reserved range), for a given
// number of seconds. Not a differential test: natively this could harm the host. Under runrs the
// Sentry must neither panic nor hang, and the guest must reach its exit(0).
//
// usage: fuzz_syscalls SECONDS SEED
//
// Calls that would end or corrupt the fuzzer itself (exit, fork, exec, signals to itself,
// arch_prctl on its TLS, memory syscalls on its own mappings, blocking sleeps) are skipped in the
// random phase; memory syscalls get their own phase, confined to an arena.
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static uint64_t state;
static uint64_t rnd(void) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
}

static char *scratch;
#define SCRATCH (1 << 20)
static char *arena;
#define ARENA (64 << 20)

static uint64_t arg(void) {
    switch (rnd() % 12) {
    case 0: return 0;
    case 1: return rnd() % 16;
    case 2: return (uint64_t)-1;
    case 3: return rnd();
    case 4: return (uint64_t)(scratch + rnd() % SCRATCH);
    case 5: return (uint64_t)scratch;
    case 6: return 1;
    case 7: return 0xffff800000000000ull + (rnd() & 0xffff);
    case 8: return 0x7ff000000000ull + (rnd() % 8192);  // the ptrace stub's page
    case 9: return (uint64_t)(scratch - 4096 + rnd() % 4096);  // guard page
    case 10: return rnd() % 4096;
    default: return (rnd() % 100 == 0) ? (1ull << 40) : rnd() % 65536;
    }
}

static int skipped(long nr) {
    switch (nr) {
    case SYS_exit: case SYS_exit_group: case SYS_fork: case SYS_vfork: case SYS_clone: case SYS_clone3:
    case SYS_execve: case SYS_execveat: case SYS_kill: case SYS_tkill: case SYS_tgkill:
    case SYS_rt_sigqueueinfo: case SYS_rt_tgsigqueueinfo: case SYS_pidfd_send_signal:
    case SYS_rt_sigreturn: case SYS_arch_prctl: case SYS_set_thread_area: case SYS_modify_ldt:
    case SYS_mmap: case SYS_munmap: case SYS_mprotect: case SYS_mremap: case SYS_madvise: case SYS_brk:
    case SYS_pkey_mprotect: case SYS_remap_file_pages: case SYS_shmat: case SYS_shmdt:
    case SYS_process_vm_writev: case SYS_process_madvise: case 453 /* map_shadow_stack */: case SYS_io_uring_setup:
    case SYS_nanosleep: case SYS_clock_nanosleep: case SYS_pause: case SYS_rt_sigsuspend:
    case SYS_rt_sigtimedwait: case SYS_select: case SYS_pselect6: case SYS_poll: case SYS_ppoll:
    case SYS_epoll_wait: case SYS_epoll_pwait: case SYS_epoll_pwait2: case SYS_futex: case SYS_wait4:
    case SYS_waitid: case SYS_alarm: case SYS_setitimer: case SYS_timer_settime: case SYS_timerfd_settime:
    case SYS_prctl: case SYS_seccomp: case SYS_ptrace: case SYS_setrlimit: case SYS_prlimit64:
    case SYS_close: case SYS_close_range: case SYS_dup2: case SYS_dup3: case SYS_reboot:
    case SYS_rseq: case SYS_set_robust_list: case SYS_set_tid_address:
    // Ways to wait for ever on oneself: a read of an empty pipe, eventfd, socket or inotify
    // queue whose other end the guest holds, an open of a FIFO it made, a flock
    // or F_SETLKW that conflicts with another description of its own.
    case SYS_pipe: case SYS_pipe2: case SYS_flock: case SYS_eventfd: case SYS_eventfd2:
    case SYS_socketpair: case SYS_timerfd_create: case SYS_signalfd: case SYS_signalfd4:
    case SYS_inotify_init: case SYS_inotify_init1: case SYS_mknod: case SYS_mknodat:
        return 1;
    }
    return 0;
}

static double now(void) {
    struct timespec ts;
    syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void memory_phase(void) {
    // mmap-family calls whose addresses stay inside the arena (or are placed by the kernel).
    uint64_t off = (rnd() % (ARENA / 4096)) * 4096;
    uint64_t len = (rnd() % 64 + (rnd() % 4 == 0 ? 0 : 1)) * 4096 + (rnd() % 8 == 0 ? rnd() % 4096 : 0);
    if (off + len > ARENA) len = ARENA - off;
    char *at = arena + off;
    // Now and then, lengths and addresses near 2^64: the Sentry must not overflow on them.
    if (rnd() % 16 == 0) len = -(rnd() % 64 * 4096) - (rnd() % 2 ? 0 : rnd() % 4096);
    // (Never address 0 with a huge length: that range covers the fuzzer's own stack and heap,
    // which MADV_DONTNEED would zero natively too.)
    if (rnd() % 32 == 0) at = (char *)(-((rnd() % 8 + 1) * 4096));
    uint64_t prot = rnd() % 8, flags = rnd();
    switch (rnd() % 6) {
    case 0:
        // MAP_FIXED only inside the arena (a huge length would reach past it).
        if (len <= ARENA && at >= arena && at + len <= arena + ARENA)
            syscall(SYS_mmap, at, len, prot, (flags & ~(uint64_t)MAP_FIXED_NOREPLACE) | MAP_FIXED, -1, 0);
        break;
    case 1: {
        long r = syscall(SYS_mmap, rnd() % 2 ? 0 : (uint64_t)at, len, prot,
                         flags & ~(uint64_t)(MAP_FIXED | MAP_FIXED_NOREPLACE), rnd() % 4 - 1, rnd() % 3 * 4096);
        if (r > 0 && ((char *)r < arena || (char *)r >= arena + ARENA)) syscall(SYS_munmap, r, len);
        break;
    }
    case 2: syscall(SYS_munmap, at, len); break;
    case 3: syscall(SYS_mprotect, at, len, prot | (rnd() % 16 == 0 ? PROT_GROWSDOWN : 0)); break;
    case 4: syscall(SYS_madvise, at, len, rnd() % 26); break;
    default: {
        uint64_t noff = (rnd() % (ARENA / 4096)) * 4096, nlen = (rnd() % 64 + 1) * 4096;
        if (noff + nlen > ARENA) nlen = ARENA - noff;
        long r = syscall(SYS_mremap, at, len, nlen, rnd() % 8 & ~4ull, arena + noff);
        if (r > 0 && ((char *)r < arena || (char *)r >= arena + ARENA)) syscall(SYS_munmap, r, nlen);
    }
    }
    // Restore the arena so later rounds start from a known mapping.
    if (rnd() % 32 == 0) mmap(arena, ARENA, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
}

int main(int argc, char **argv) {
    double seconds = argc > 1 ? atof(argv[1]) : 3;
    state = argc > 2 ? strtoull(argv[2], 0, 0) : 88172645463325252ull;
    if (state == 0) state = 1;
    char *region = mmap(0, SCRATCH + 2 * 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    arena = mmap(0, ARENA, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (region == MAP_FAILED || arena == MAP_FAILED) return 2;
    scratch = region + 4096;
    if (mprotect(scratch, SCRATCH, PROT_READ | PROT_WRITE) != 0) return 3;
    double end = now() + seconds;
    unsigned long calls = 0;
    while (now() < end) {
        for (int i = 0; i < 64; i++, calls++) {
            if (rnd() % 4 == 0) {
                memory_phase();
                continue;
            }
            long nr = rnd() % 16 == 0 ? (long)rnd() : (long)(rnd() % 470);
            if (skipped(nr)) continue;
            uint64_t a0 = arg(), a1 = arg();
            // fcntl's blocking lock commands (F_SETLKW, F_OFD_SETLKW) can wait for ever too.
            if (nr == SYS_fcntl && ((int)a1 == 7 || (int)a1 == 38)) continue;
            // Sockets are made non-blocking: a receive on one nobody sends to would wait for ever
            // (a random fcntl may still clear it; then the same risk as natively, rarely).
            if (nr == SYS_socket) a1 |= 04000;
            syscall(nr, a0, a1, arg(), arg(), arg(), arg());
        }
    }
    char msg[64];
    int n = snprintf(msg, sizeof msg, "fuzz done: %lu calls\n", calls);
    // Via the raw syscall: fd 1 may have been redirected by a random dup.
    syscall(SYS_write, 1, msg, n);
    return 0;
}
