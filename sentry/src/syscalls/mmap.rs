//! Memory syscalls: argument decoding; the work is in [`crate::mm`].

use super::fd_arg;
use crate::errors::SysResult;
use crate::kernel::Task;
use crate::mm::MmapArgs;
use crate::{bail, errno};

pub fn mmap(t: &mut Task, a: [u64; 6]) -> SysResult {
    let args = MmapArgs {
        addr: a[0],
        len: a[1],
        prot: a[2] & 0xffff_ffff,
        flags: a[3] & 0xffff_ffff,
        fd: fd_arg(a[4]),
        offset: a[5],
    };
    // The offset is checked before the fd, as Linux's mmap does.
    if args.offset & (abi::PAGE_SIZE - 1) != 0 {
        bail!(EINVAL, "offset not page aligned");
    }
    if args.flags & abi::mman::MAP_ANONYMOUS == 0 && args.len != 0 {
        let file = t.fds.get(args.fd).ok_or_else(|| errno!(EBADF))?;
        // As do_mmap: a file must be open for reading (EACCES) before its own mmap is asked
        // (the only files so far, inherited stdio, give ENODEV: files issue).
        let mode = crate::host::fcntl(file.host_fd(), libc::F_GETFL, 0).map_err(super::host_err)?;
        if mode & libc::O_ACCMODE == libc::O_WRONLY {
            bail!(EACCES, "fd not open for reading");
        }
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
