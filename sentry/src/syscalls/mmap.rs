//! Memory syscalls: argument decoding; the work is in [`crate::mm`].

use super::fd_arg;
use crate::errors::SysResult;
use crate::kernel::Task;
use crate::mm::{MmapArgs, Role, UserAddr};
use crate::vfs::{Data, Device, Kind};
use crate::{bail, errno};
use abi::fcntl::{O_ACCMODE, O_WRONLY};
use abi::mman::*;

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
    if args.flags & MAP_ANONYMOUS != 0 || args.len == 0 {
        return t.mm.mmap(args);
    }
    match args.flags & MAP_TYPE {
        MAP_PRIVATE | MAP_SHARED => {}
        MAP_SHARED_VALIDATE => {
            if args.flags & !crate::mm::MAP_VALIDATE_KNOWN & !MAP_TYPE != 0 {
                bail!(EOPNOTSUPP, "unknown flags");
            }
        }
        _ => bail!(EINVAL, "bad mapping type"),
    }
    let file = t.fds.get(args.fd).ok_or_else(|| errno!(EBADF))?;
    // The last page's offset must fit (pgoff + pages wrapping is EOVERFLOW, as do_mmap).
    let pages = crate::mm::page_up(args.len).unwrap_or(u64::MAX) / abi::PAGE_SIZE;
    if (args.offset / abi::PAGE_SIZE)
        .checked_add(pages)
        .is_none_or(|e| e > u64::MAX / abi::PAGE_SIZE)
    {
        bail!(EOVERFLOW, "offset + length overflows");
    }
    let Some(o) = file.vfs() else {
        // An inherited stdio fd (a pipe or terminal): EACCES if write-only, as do_mmap checks
        // that before asking the file, then ENODEV.
        if file.status_flags() & O_ACCMODE == O_WRONLY {
            bail!(EACCES, "fd not open for reading");
        }
        bail!(ENODEV, "inherited host fds cannot be mapped");
    };
    if o.is_path() {
        bail!(EBADF, "O_PATH fd");
    }
    // As do_mmap: a file must be open for reading (EACCES), and for writing to be mapped shared
    // and writable.
    if !o.readable() {
        bail!(EACCES, "fd not open for reading");
    }
    let shared = args.flags & MAP_TYPE != MAP_PRIVATE;
    if shared && args.prot & PROT_WRITE != 0 && !o.writable() {
        bail!(EACCES, "shared writable mapping of a read-only fd");
    }
    match &o.inode.kind {
        Kind::Device(Device::Zero) => {
            // /dev/zero maps as anonymous memory (shared or private).
            return t.mm.mmap(MmapArgs {
                flags: args.flags | MAP_ANONYMOUS,
                ..args
            });
        }
        Kind::Regular(data) => {
            if shared && matches!(&*data.borrow(), Data::Memory(_)) {
                // The file's own pages: coherent with read and write.
                let inode = o.inode.clone();
                let offset = args.offset;
                let label = file_label(t, o);
                let maywrite = o.writable();
                return t.mm.mmap_with(args, |mm, addr, len, prot, _, _| {
                    let views = match &mut *inode_data(&inode).borrow_mut() {
                        Data::Memory(p) => p.views(offset, len)?,
                        Data::Lower => return Err(errno!(EIO)),
                    };
                    mm.unmap(addr, len)?;
                    let mut at = addr;
                    for (object, off, n) in views {
                        mm.map_shared_view(at, n, prot, Role::File, object, off)?;
                        at += n;
                    }
                    mm.set_file(addr, len, label, offset, maywrite);
                    Ok(())
                });
            }
        }
        _ => bail!(ENODEV, "this file cannot be mapped"),
    }
    // A private copy of the file's pages (also for read-only shared mappings: the lower layer
    // never changes, and a memory file is copied at map time). A file of the root's lower layer
    // is read once and its pages mapped copy-on-write.
    let private = MmapArgs {
        flags: (args.flags & !MAP_TYPE) | MAP_PRIVATE,
        ..args
    };
    if let Some(pages) = o.inode.file_pages()? {
        let label = file_label(t, o);
        let maywrite = !shared || o.writable();
        let offset = args.offset;
        return t.mm.mmap_with(private, |mm, addr, len, prot, _, _| {
            mm.map_file_pages(addr, len, prot, Role::File, &pages, offset, len)?;
            mm.set_file(addr, len, label, offset, maywrite);
            Ok(())
        });
    }
    let addr = t.mm.mmap(MmapArgs {
        flags: (args.flags & !MAP_TYPE) | MAP_PRIVATE | MAP_ANONYMOUS,
        ..args
    })?;
    let len = usize::try_from(args.len).unwrap_or(usize::MAX);
    let ranges = t.mm.backing_ranges(addr, len);
    let mem = &t.mm.memory().file;
    let r = match &o.inode.kind {
        Kind::Regular(data) => match &*data.borrow() {
            Data::Memory(p) => {
                p.read(&ranges, args.offset);
                Ok(())
            }
            Data::Lower => match &o.host {
                Some(fd) => fill_from_host(mem, fd, &ranges, args.offset),
                None => Err(errno!(EIO, "lower file without a host fd")),
            },
        },
        _ => Ok(()),
    };
    if let Err(e) = r {
        let _ = t.mm.munmap(addr, args.len);
        return Err(e);
    }
    t.mm.set_role(addr, args.len, Role::File);
    let label = file_label(t, o);
    // A read-only MAP_SHARED may not become writable (its fd cannot write).
    let maywrite = !shared || o.writable();
    t.mm.set_file(addr, args.len, label, args.offset, maywrite);
    Ok(addr)
}

/// How /proc/PID/maps names a mapping of `o`.
fn file_label(t: &Task, o: &crate::vfs::OpenFile) -> std::sync::Arc<crate::mm::FileLabel> {
    std::sync::Arc::new(crate::mm::FileLabel {
        name: o.origin.path(&o.inode, &t.fs.root),
        dev: o.inode.fs.dev,
        ino: o.inode.ino,
    })
}

fn inode_data(inode: &crate::vfs::Inode) -> &std::cell::RefCell<Data> {
    match &inode.kind {
        Kind::Regular(d) => d,
        _ => unreachable!("checked to be a regular file"),
    }
}

fn fill_from_host(
    mem: &crate::mm::memfile::MemoryFile,
    fd: &crate::vfs::CachedFd,
    ranges: &[(u64, usize)],
    offset: u64,
) -> Result<(), crate::errors::Errno> {
    use std::os::fd::AsFd;
    let mut pos = offset;
    for &(o, n) in ranges {
        let got = mem
            .fill_from_host(fd.as_fd(), o, n, pos)
            .map_err(super::host_err)?;
        pos += got as u64;
        if got < n {
            // End of file: the rest stays zero.
            break;
        }
    }
    Ok(())
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

pub fn msync(t: &mut Task, a: [u64; 6]) -> SysResult {
    const MS_ASYNC: u64 = 1;
    const MS_INVALIDATE: u64 = 2;
    const MS_SYNC: u64 = 4;
    let (addr, len, flags) = (a[0], a[1], a[2] & 0xffff_ffff);
    if flags & !(MS_ASYNC | MS_INVALIDATE | MS_SYNC) != 0 || !addr.is_multiple_of(abi::PAGE_SIZE) {
        bail!(EINVAL);
    }
    if flags & MS_ASYNC != 0 && flags & MS_SYNC != 0 {
        bail!(EINVAL);
    }
    let len = crate::mm::page_up(len).ok_or_else(|| errno!(ENOMEM))?;
    let end = addr.checked_add(len).ok_or_else(|| errno!(ENOMEM))?;
    if len == 0 {
        return Ok(0);
    }
    // Shared file mappings are the file's own pages: nothing to write back. A hole is ENOMEM.
    if !t.mm.is_fully_mapped(addr, end) {
        bail!(ENOMEM, "range not fully mapped");
    }
    Ok(0)
}

pub fn mincore(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (addr, len, vec) = (a[0], a[1], a[2]);
    if !addr.is_multiple_of(abi::PAGE_SIZE) {
        bail!(EINVAL);
    }
    let len = crate::mm::page_up(len).ok_or_else(|| errno!(ENOMEM))?;
    let end = addr.checked_add(len).ok_or_else(|| errno!(ENOMEM))?;
    if end > abi::TASK_SIZE {
        bail!(ENOMEM);
    }
    if !t.mm.is_fully_mapped(addr, end) {
        bail!(ENOMEM, "range not fully mapped");
    }
    // Every mapped page of the memory file counts as resident (the host may have reclaimed
    // none of it; the sandbox has no swap).
    let pages = usize::try_from(len / abi::PAGE_SIZE).unwrap_or(0);
    t.mm.copy_out(UserAddr(vec), &vec![1u8; pages])?;
    Ok(0)
}
