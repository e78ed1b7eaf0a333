//! Memory syscalls: argument decoding; the work is in [`crate::mm`].

use super::fd_arg;
use crate::bail;
use crate::errors::SysResult;
use crate::kernel::Task;
use crate::mm::MmapArgs;

pub fn mmap(t: &mut Task, a: [u64; 6]) -> SysResult {
    let args = MmapArgs {
        addr: a[0],
        len: a[1],
        prot: a[2] & 0xffff_ffff,
        flags: a[3] & 0xffff_ffff,
        fd: fd_arg(a[4]),
        offset: a[5],
    };
    if args.flags & abi::mman::MAP_ANONYMOUS == 0 && t.fds.get(args.fd).is_none() && args.len != 0 {
        bail!(EBADF);
    }
    t.mm.mmap(args)
}

pub fn munmap(t: &mut Task, a: [u64; 6]) -> SysResult {
    t.mm.munmap(a[0], a[1])
}

pub fn mprotect(t: &mut Task, a: [u64; 6]) -> SysResult {
    t.mm.mprotect(a[0], a[1], a[2] & 0xffff_ffff)
}

pub fn brk(t: &mut Task, a: [u64; 6]) -> SysResult {
    t.mm.sys_brk(a[0])
}

pub fn mremap(t: &mut Task, a: [u64; 6]) -> SysResult {
    t.mm.mremap(a[0], a[1], a[2], a[3] & 0xffff_ffff, a[4])
}

pub fn madvise(t: &mut Task, a: [u64; 6]) -> SysResult {
    t.mm.madvise(a[0], a[1], a[2] & 0xffff_ffff)
}
