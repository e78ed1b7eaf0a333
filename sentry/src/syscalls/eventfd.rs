//! eventfd/eventfd2: a 64-bit counter as a file. A read takes the counter (or 1 of it in
//! semaphore mode) and waits while it is 0; a write adds to it and waits while that would pass
//! 0xffff_ffff_ffff_fffe. poll: readable while non-zero, writable while 1 more fits.

use crate::errors::{Errno, SysResult, EBLOCK};
use crate::kernel::fd::{Anon, File};
use crate::kernel::Task;
use crate::mm::UserAddr;
use crate::{bail, errno};
use std::cell::Cell;
use std::rc::Rc;

const EFD_SEMAPHORE: u64 = 1;
const EFD_CLOEXEC: u64 = libc::O_CLOEXEC as u64;
const EFD_NONBLOCK: u64 = libc::O_NONBLOCK as u64;
const MAX: u64 = u64::MAX - 1;

#[derive(Debug)]
pub struct EventFd {
    count: Cell<u64>,
    semaphore: bool,
    flags: Cell<u32>,
    ino: u64,
    /// Counts reads and writes, for EPOLLET (a write is a new event even when already ready).
    generation: Cell<u64>,
}

/// The first 8-byte-or-longer guest range of `iov` (EINVAL if the total is shorter).
fn first8(iov: &[(u64, usize)]) -> Result<u64, Errno> {
    let total: usize = iov.iter().map(|r| r.1).sum();
    if total < 8 {
        bail!(EINVAL, "eventfd I/O needs 8 bytes");
    }
    // Linux copies the 8 bytes to or from the start of the buffer (the first iovec with room).
    iov.iter()
        .find(|r| r.1 >= 8)
        .map(|r| r.0)
        .ok_or_else(|| errno!(EINVAL, "eventfd I/O split across iovecs"))
}

impl Anon for EventFd {
    fn name(&self) -> Vec<u8> {
        b"anon_inode:[eventfd]".to_vec()
    }

    fn stat(&self, uid: u32, gid: u32) -> abi::Stat {
        anon_stat(self.ino, uid, gid)
    }

    fn flags(&self) -> &Cell<u32> {
        &self.flags
    }

    fn poll(&self, _t: &Task) -> i16 {
        let c = self.count.get();
        let mut ev = 0;
        if c > 0 {
            ev |= libc::POLLIN | libc::POLLRDNORM;
        }
        if c < MAX {
            ev |= libc::POLLOUT | libc::POLLWRNORM;
        }
        ev
    }

    fn read(&self, t: &mut Task, iov: &[(u64, usize)]) -> SysResult {
        let at = first8(iov)?;
        let c = self.count.get();
        if c == 0 {
            if self.nonblocking() {
                bail!(EAGAIN);
            }
            return Err(Errno::new(EBLOCK));
        }
        let v = if self.semaphore { 1 } else { c };
        // Linux takes the value before copying it out: a bad buffer loses it (EFAULT).
        self.count.set(c - v);
        self.generation.set(self.generation.get() + 1);
        t.mm.write_obj(UserAddr(at), &v)?;
        Ok(8)
    }

    fn write(&self, t: &mut Task, iov: &[(u64, usize)]) -> SysResult {
        let at = first8(iov)?;
        let v: u64 = t.mm.read_obj(UserAddr(at))?;
        if v == u64::MAX {
            bail!(EINVAL, "0xffffffffffffffff");
        }
        let c = self.count.get();
        if MAX - c < v {
            if self.nonblocking() {
                bail!(EAGAIN);
            }
            return Err(Errno::new(EBLOCK));
        }
        self.count.set(c + v);
        self.generation.set(self.generation.get() + 1);
        Ok(8)
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn generation(&self) -> u64 {
        self.generation.get()
    }
}

static NEXT_INO: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(200_000);

/// A new inode number for an anonymous file.
pub fn anon_ino() -> u64 {
    NEXT_INO.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// fstat of an anonymous inode: no file type, mode 0600, on the anon_inodefs device.
pub fn anon_stat(ino: u64, uid: u32, gid: u32) -> abi::Stat {
    abi::Stat {
        dev: 0x0e,
        ino,
        nlink: 1,
        mode: 0o600,
        uid,
        gid,
        blksize: 4096,
        ..abi::Stat::default()
    }
}

/// Installs an anonymous file at the lowest free fd.
pub fn install(t: &mut Task, f: Box<dyn Anon>, cloexec: bool) -> SysResult {
    let limit = usize::try_from(t.rlimits[abi::RLIMIT_NOFILE].cur).unwrap_or(usize::MAX);
    let fd = t
        .fds
        .install(Rc::new(File::Anon(f)), cloexec, 0, limit)
        .ok_or_else(|| errno!(EMFILE))?;
    Ok(fd as u64)
}

pub fn eventfd2(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (initval, flags) = (a[0] & 0xffff_ffff, a[1] & 0xffff_ffff);
    if flags & !(EFD_SEMAPHORE | EFD_CLOEXEC | EFD_NONBLOCK) != 0 {
        bail!(EINVAL, "eventfd flags {flags:#x}");
    }
    let f = EventFd {
        count: Cell::new(initval),
        semaphore: flags & EFD_SEMAPHORE != 0,
        flags: Cell::new(libc::O_RDWR as u32 | (flags & EFD_NONBLOCK) as u32),
        ino: anon_ino(),
        generation: Cell::new(0),
    };
    install(t, Box::new(f), flags & EFD_CLOEXEC != 0)
}

pub fn eventfd(t: &mut Task, a: [u64; 6]) -> SysResult {
    eventfd2(t, [a[0], 0, 0, 0, 0, 0])
}
