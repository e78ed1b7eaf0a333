//! The stub program: a minimal static ELF, built in memory.
//!
//! It is one read+execute page at [`STUB_BASE`] holding `syscall; int3; jmp .-1`: the Sentry
//! injects host syscalls by pointing `rip` at the `syscall` and running to the `int3`. Its entry
//! point is the `int3`, so a stub that somehow ran on its own would only trap.

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

const CODE_OFFSET: u64 = 64 + 56;
/// Offset of the `syscall` instruction in the stub page.
pub const SYSCALL_OFFSET: u64 = CODE_OFFSET;
const ENTRY_OFFSET: u64 = CODE_OFFSET + 2;

/// `syscall; int3; jmp .-1` (back to the int3).
const CODE: [u8; 5] = [0x0f, 0x05, 0xcc, 0xeb, 0xfd];

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
    let size = CODE_OFFSET + CODE.len() as u64;
    elf.extend_from_slice(&1u32.to_le_bytes()); // p_type = PT_LOAD
    elf.extend_from_slice(&5u32.to_le_bytes()); // p_flags = R|X
    elf.extend_from_slice(&0u64.to_le_bytes()); // p_offset
    elf.extend_from_slice(&STUB_BASE.to_le_bytes()); // p_vaddr
    elf.extend_from_slice(&STUB_BASE.to_le_bytes()); // p_paddr
    elf.extend_from_slice(&size.to_le_bytes()); // p_filesz
    elf.extend_from_slice(&STUB_SIZE.to_le_bytes()); // p_memsz
    elf.extend_from_slice(&abi::PAGE_SIZE.to_le_bytes()); // p_align
    elf.extend_from_slice(&CODE);
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
        assert_eq!(elf.len() as u64, CODE_OFFSET + 5);
        assert_eq!(
            &elf[usize::try_from(SYSCALL_OFFSET).unwrap()..][..2],
            &[0x0f, 0x05]
        );
        assert_eq!(elf[usize::try_from(ENTRY_OFFSET).unwrap()], 0xcc);
    }
}
