//! The stub program: a minimal static ELF, built in memory.
//!
//! It is one read+execute page at [`STUB_BASE`] holding `syscall; int3; jmp .-1`: the Sentry
//! injects host syscalls by pointing `rip` at the `syscall` and running to the `int3`. Its entry
//! point is the `int3`, so a stub that somehow ran on its own would only trap.
//!
//! After it comes the batch routine: from `r12`, `r13` entries of seven words (the syscall
//! number and six arguments), each made in turn until one fails; then an `int3`. `r13` then
//! says how many were left (0: all done) and `rax` the last result. The entries are in the
//! batch page at [`BATCH_ADDR`], which the stub maps read-only.

use super::sys;
use crate::Error;
use std::os::fd::OwnedFd;

/// Where the stub's code page lives in every address space. Guests get `[0, STUB_BASE)`.
/// It sits 64 GiB below the top of the user address space: above any guest mapping, and below the
/// range where the host places the exec'd stub's own (immediately discarded) stack.
pub const STUB_BASE: u64 = 0x7ff0_0000_0000;

/// Size of the stub's mapping.
pub const STUB_SIZE: u64 = abi::PAGE_SIZE;

/// The stub's fd for the memory file (the only fd it holds).
pub const MEMORY_FD: u64 = 0;
/// The fd of the store (`--overlay=dir`) in every stub, when there is one.
pub const STORE_FD: u64 = 1;
/// The stubs' end of the socket the Sentry passes host files through (see
/// [`crate::HostFiles`]): a stub receives one with an injected `recvmsg`. All stubs of a
/// sandbox share one fd table, so a file is passed once.
pub const TRANSFER_FD: u64 = 2;

const CODE_OFFSET: u64 = 64 + 56;
/// Offset of the `syscall` instruction in the stub page.
pub const SYSCALL_OFFSET: u64 = CODE_OFFSET;
const ENTRY_OFFSET: u64 = CODE_OFFSET + 2;

/// Offset of the batch routine in the stub page.
pub const BATCH_OFFSET: u64 = CODE_OFFSET + 5;

/// Where the batch page is mapped in every stub (read-only), just above the code page.
pub const BATCH_ADDR: u64 = STUB_BASE + STUB_SIZE;

/// Where the scratch page is mapped in every stub (writable), above the batch page: the
/// `msghdr` of an injected `recvmsg` and what it receives. Nothing else is kept there.
pub const SCRATCH_ADDR: u64 = BATCH_ADDR + abi::PAGE_SIZE;

/// `syscall; int3; jmp .-1` (back to the int3), then the batch routine:
/// ```text
/// batch: mov rax,[r12]; mov rdi,[r12+8]; mov rsi,[r12+16]; mov rdx,[r12+24]
///        mov r10,[r12+32]; mov r8,[r12+40]; mov r9,[r12+48]; syscall
///        cmp rax,-4095; jae done; add r12,56; dec r13; jnz batch
/// done:  int3; jmp done
/// ```
const CODE: [u8; 61] = [
    0x0f, 0x05, 0xcc, 0xeb, 0xfd, // syscall; int3; jmp .-1
    0x49, 0x8b, 0x04, 0x24, // mov rax, [r12]
    0x49, 0x8b, 0x7c, 0x24, 0x08, // mov rdi, [r12+8]
    0x49, 0x8b, 0x74, 0x24, 0x10, // mov rsi, [r12+16]
    0x49, 0x8b, 0x54, 0x24, 0x18, // mov rdx, [r12+24]
    0x4d, 0x8b, 0x54, 0x24, 0x20, // mov r10, [r12+32]
    0x4d, 0x8b, 0x44, 0x24, 0x28, // mov r8, [r12+40]
    0x4d, 0x8b, 0x4c, 0x24, 0x30, // mov r9, [r12+48]
    0x0f, 0x05, // syscall
    0x48, 0x3d, 0x01, 0xf0, 0xff, 0xff, // cmp rax, -4095
    0x73, 0x09, // jae done
    0x49, 0x83, 0xc4, 0x38, // add r12, 56
    0x49, 0xff, 0xcd, // dec r13
    0x75, 0xcb, // jnz batch
    0xcc, 0xeb, 0xfd, // done: int3; jmp done
];

/// The host syscalls a stub may make: only the ones the Sentry injects (memory, clone for
/// address spaces and threads, recvmsg for host files to map) and exits. Guest syscalls never
/// reach the filter: under `PTRACE_SYSEMU` the stop comes before seccomp and the host skips
/// them.
pub const STUB_ALLOWED: [u32; 11] = [
    libc::SYS_mmap as u32,
    libc::SYS_mprotect as u32,
    libc::SYS_munmap as u32,
    libc::SYS_mremap as u32,
    libc::SYS_madvise as u32,
    libc::SYS_mincore as u32,
    libc::SYS_clone as u32,
    libc::SYS_recvmsg as u32,
    libc::SYS_exit as u32,
    libc::SYS_exit_group as u32,
    libc::SYS_rt_sigreturn as u32,
];

/// Eight zero bytes in the stub page (between the code and the filter): the empty signal set
/// an injected `rt_sigprocmask` unblocks every signal with.
pub const EMPTY_SIGSET_ADDR: u64 = STUB_BASE + 192;

/// Where the seccomp filter (classic BPF) and its `struct sock_fprog` sit in the stub page.
const FILTER_OFFSET: u64 = 256;
/// The address of the stub's `struct sock_fprog`, for an injected seccomp(2).
pub const FPROG_ADDR: u64 = STUB_BASE + FILTER_OFFSET - 16;

/// The stub's seccomp filter: x86-64 only, the [`STUB_ALLOWED`] calls, anything else kills the
/// stub (and so the sandbox's use of it).
fn filter() -> Vec<[u8; 8]> {
    const LD_W_ABS: u16 = 0x20;
    const JEQ_K: u16 = 0x15;
    const RET_K: u16 = 0x06;
    const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
    const KILL_PROCESS: u32 = 0x8000_0000;
    const ALLOW: u32 = 0x7fff_0000;
    let ins = |code: u16, jt: u8, jf: u8, k: u32| {
        let mut b = [0u8; 8];
        b[..2].copy_from_slice(&code.to_le_bytes());
        b[2] = jt;
        b[3] = jf;
        b[4..].copy_from_slice(&k.to_le_bytes());
        b
    };
    let n = STUB_ALLOWED.len() as u8;
    let mut f = vec![
        // seccomp_data.arch, then .nr.
        ins(LD_W_ABS, 0, 0, 4),
        ins(JEQ_K, 1, 0, AUDIT_ARCH_X86_64),
        ins(RET_K, 0, 0, KILL_PROCESS),
        ins(LD_W_ABS, 0, 0, 0),
    ];
    for (i, nr) in STUB_ALLOWED.iter().enumerate() {
        // Match: jump over the remaining compares and the kill, to the allow.
        let rest = n - 1 - i as u8;
        f.push(ins(JEQ_K, rest + 1, 0, *nr));
    }
    f.push(ins(RET_K, 0, 0, KILL_PROCESS));
    f.push(ins(RET_K, 0, 0, ALLOW));
    f
}

/// The stub ELF image: ELF header, one PT_LOAD program header, the code.
pub fn image() -> Vec<u8> {
    let mut elf = Vec::with_capacity(128);
    // e_ident: magic, ELFCLASS64, ELFDATA2LSB, EV_CURRENT, ELFOSABI_SYSV, padding.
    elf.extend_from_slice(&[0x7f, b'E', b'L', b'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    elf.extend_from_slice(&2u16.to_le_bytes()); // e_type = ET_EXEC
    elf.extend_from_slice(&0x3eu16.to_le_bytes()); // e_machine = EM_X86_64
    elf.extend_from_slice(&1u32.to_le_bytes()); // e_version
    elf.extend_from_slice(&(STUB_BASE + ENTRY_OFFSET).to_le_bytes()); // e_entry
    elf.extend_from_slice(&64u64.to_le_bytes()); // e_phoff
    elf.extend_from_slice(&0u64.to_le_bytes()); // e_shoff
    elf.extend_from_slice(&0u32.to_le_bytes()); // e_flags
    elf.extend_from_slice(&64u16.to_le_bytes()); // e_ehsize
    elf.extend_from_slice(&56u16.to_le_bytes()); // e_phentsize
    elf.extend_from_slice(&1u16.to_le_bytes()); // e_phnum
    elf.extend_from_slice(&[0; 6]); // e_shentsize, e_shnum, e_shstrndx
    let prog = filter();
    let size = FILTER_OFFSET + 8 * prog.len() as u64;
    elf.extend_from_slice(&1u32.to_le_bytes()); // p_type = PT_LOAD
    elf.extend_from_slice(&5u32.to_le_bytes()); // p_flags = R|X
    elf.extend_from_slice(&0u64.to_le_bytes()); // p_offset
    elf.extend_from_slice(&STUB_BASE.to_le_bytes()); // p_vaddr
    elf.extend_from_slice(&STUB_BASE.to_le_bytes()); // p_paddr
    elf.extend_from_slice(&size.to_le_bytes()); // p_filesz
    elf.extend_from_slice(&STUB_SIZE.to_le_bytes()); // p_memsz
    elf.extend_from_slice(&abi::PAGE_SIZE.to_le_bytes()); // p_align
    elf.extend_from_slice(&CODE);
    // struct sock_fprog { unsigned short len; struct sock_filter *filter; }, then the filter.
    elf.resize(usize::try_from(FPROG_ADDR - STUB_BASE).unwrap_or(0), 0);
    elf.extend_from_slice(&(prog.len() as u16).to_le_bytes());
    elf.extend_from_slice(&[0; 6]);
    elf.extend_from_slice(&(STUB_BASE + FILTER_OFFSET).to_le_bytes());
    for i in prog {
        elf.extend_from_slice(&i);
    }
    elf
}

/// A sealed, close-on-exec memfd holding the stub image, ready for `execveat`.
pub fn stub_memfd() -> Result<OwnedFd, Error> {
    sys::sealed_memfd(c"runrs-stub", &image()).map_err(|source| Error::Host {
        op: "stub memfd",
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_layout() {
        let elf = image();
        assert_eq!(&elf[..4], b"\x7fELF");
        assert_eq!(elf.len() as u64, FILTER_OFFSET + 8 * filter().len() as u64);
        assert!(elf.len() as u64 <= STUB_SIZE);
        assert_eq!(
            &elf[usize::try_from(SYSCALL_OFFSET).unwrap()..][..2],
            &[0x0f, 0x05]
        );
        assert_eq!(elf[usize::try_from(ENTRY_OFFSET).unwrap()], 0xcc);
        let empty = usize::try_from(EMPTY_SIGSET_ADDR - STUB_BASE).unwrap();
        assert!(empty >= usize::try_from(CODE_OFFSET).unwrap() + CODE.len());
        assert!(empty + 8 <= usize::try_from(FPROG_ADDR - STUB_BASE).unwrap());
        assert_eq!(&elf[empty..empty + 8], &[0; 8]);
    }
}
