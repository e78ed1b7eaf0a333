//! File syscalls on the fds that exist so far: the inherited stdio host fds. Reads and writes go
//! between the host fd and the memory file directly (one readv/writev, no bounce buffer).

use super::{fd_arg, host_err, int_arg};
use crate::errors::{Errno, SysResult};
use crate::kernel::fd::File;
use crate::kernel::Task;
use crate::mm::access_ok;
use crate::mm::{Access, UserAddr};
use crate::{bail, errno};
use abi::fcntl::*;
use abi::ioctl::*;
use abi::{MAX_RW_COUNT, NR_OPEN};
use std::rc::Rc;

/// The host's readv/writev take at most this many segments.
const HOST_IOV_MAX: usize = 1024;

fn file(t: &Task, fd: i32) -> Result<Rc<File>, Errno> {
    t.fds.get(fd).cloned().ok_or_else(|| errno!(EBADF))
}

/// Transfers between `file` and the guest ranges `[(addr, len)]`, stopping at the first
/// inaccessible byte or short transfer. EFAULT only if nothing could be transferred.
fn transfer(t: &Task, file: &File, iov: &[(u64, usize)], access: Access) -> SysResult {
    let mut ranges = Vec::new();
    let mut want = 0usize;
    let mut faulted = false;
    for &(addr, len) in iov {
        let len = len.min(MAX_RW_COUNT - want);
        let pre = t.mm.prefix_ranges(UserAddr(addr), len, access);
        let got: usize = pre.iter().map(|r| r.1).sum();
        ranges.extend(pre);
        want += got;
        if got < len {
            faulted = true;
            break;
        }
    }
    if ranges.is_empty() && faulted {
        // The buffer starts unmapped: whether that is EFAULT depends on the file (a read at end
        // of file returns 0 without touching the buffer). Let the host kernel decide.
        let len = iov.iter().map(|r| r.1).find(|&l| l > 0).unwrap_or(0);
        return crate::host::io_with_unmapped_buffer(file.host_fd(), len, access == Access::Read)
            .map(|n| n as u64)
            .map_err(host_err);
    }
    // A zero-length transfer still goes to the host once, which checks the fd can do it (EBADF
    // on a write to a read-only fd, as Linux).
    let chunks: Vec<&[(u64, usize)]> = if ranges.is_empty() {
        vec![&[]]
    } else {
        ranges.chunks(HOST_IOV_MAX).collect()
    };
    // More ranges than one host call takes: a read goes on past the first call only on a regular
    // file (which never blocks); a pipe or terminal returns what the first call got, as Linux's
    // single read would.
    let regular = chunks.len() > 1
        && access == Access::Write
        && crate::host::fstat(file.host_fd())
            .is_ok_and(|st| st.mode & libc::S_IFMT == libc::S_IFREG);
    let mut done = 0usize;
    for (i, chunk) in chunks.into_iter().enumerate() {
        if i > 0 && access == Access::Write && !regular {
            break;
        }
        let chunk_len: usize = chunk.iter().map(|r| r.1).sum();
        let r = match access {
            Access::Write => t.mm.memory().file.read_from_host(file.host_fd(), chunk),
            Access::Read => t.mm.memory().file.write_to_host(file.host_fd(), chunk),
        };
        match r {
            Ok(n) => {
                done += n;
                if n < chunk_len {
                    break;
                }
            }
            Err(e) if done == 0 => return Err(host_err(e)),
            Err(_) => break,
        }
    }
    Ok(done as u64)
}

pub fn read(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = file(t, fd_arg(a[0]))?;
    if !access_ok(a[1], a[2]) {
        bail!(EFAULT, "buffer outside the user address space");
    }
    transfer(
        t,
        &f,
        &[(a[1], usize::try_from(a[2]).unwrap_or(usize::MAX))],
        Access::Write,
    )
}

pub fn write(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = file(t, fd_arg(a[0]))?;
    if !access_ok(a[1], a[2]) {
        bail!(EFAULT, "buffer outside the user address space");
    }
    transfer(
        t,
        &f,
        &[(a[1], usize::try_from(a[2]).unwrap_or(usize::MAX))],
        Access::Read,
    )
}

/// Reads and checks an iovec array as Linux's `import_iovec` does: a negative length is EINVAL,
/// a range outside user space EFAULT, and the total is capped at `MAX_RW_COUNT`.
fn iovecs(t: &Task, addr: u64, count: u64) -> Result<Vec<(u64, usize)>, Errno> {
    let count = usize::try_from(int_arg(count)).map_err(|_| errno!(EINVAL, "negative iovcnt"))?;
    if count > abi::UIO_MAXIOV {
        bail!(EINVAL, "iovcnt {count} > UIO_MAXIOV");
    }
    let vecs: Vec<abi::Iovec> = t.mm.read_objs(UserAddr(addr), count)?;
    if vecs.iter().any(|v| v.len.cast_signed() < 0) {
        bail!(EINVAL, "negative iov_len");
    }
    let mut total = 0usize;
    let mut out = Vec::with_capacity(count);
    for v in vecs {
        if !access_ok(v.base, v.len) {
            bail!(EFAULT, "iovec outside the user address space");
        }
        let len = usize::try_from(v.len)
            .unwrap_or(usize::MAX)
            .min(MAX_RW_COUNT - total);
        total += len;
        out.push((v.base, len));
    }
    Ok(out)
}

pub fn readv(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = file(t, fd_arg(a[0]))?;
    let iov = iovecs(t, a[1], a[2])?;
    transfer(t, &f, &iov, Access::Write)
}

pub fn writev(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = file(t, fd_arg(a[0]))?;
    let iov = iovecs(t, a[1], a[2])?;
    transfer(t, &f, &iov, Access::Read)
}

pub fn lseek(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = file(t, fd_arg(a[0]))?;
    let whence = int_arg(a[2]);
    let off = crate::host::lseek(f.host_fd(), a[1].cast_signed(), whence).map_err(host_err)?;
    Ok(off.cast_unsigned())
}

pub fn close(t: &mut Task, a: [u64; 6]) -> SysResult {
    t.fds.remove(fd_arg(a[0])).ok_or_else(|| errno!(EBADF))?;
    Ok(0)
}

fn nofile(t: &Task) -> usize {
    usize::try_from(t.rlimits[abi::RLIMIT_NOFILE].cur.min(NR_OPEN)).unwrap_or(0)
}

pub fn dup(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = file(t, fd_arg(a[0]))?;
    let limit = nofile(t);
    let fd = t
        .fds
        .install(f, false, 0, limit)
        .ok_or_else(|| errno!(EMFILE))?;
    Ok(fd as u64)
}

fn dup_to(t: &mut Task, old: i32, new: i32, cloexec: bool) -> SysResult {
    let f = file(t, old)?;
    let new_i = usize::try_from(new)
        .ok()
        .filter(|&n| n < nofile(t))
        .ok_or_else(|| errno!(EBADF))?;
    if old == new {
        return Ok(new_i as u64);
    }
    t.fds.install_at(new_i, f, cloexec);
    Ok(new_i as u64)
}

pub fn dup2(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (old, new) = (fd_arg(a[0]), fd_arg(a[1]));
    if old == new {
        file(t, old)?;
        return Ok(new as u64);
    }
    dup_to(t, old, new, false)
}

pub fn dup3(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (old, new, flags) = (fd_arg(a[0]), fd_arg(a[1]), int_arg(a[2]));
    if flags & !(O_CLOEXEC as i32) != 0 {
        bail!(EINVAL, "bad flags {flags:#x}");
    }
    if old == new {
        bail!(EINVAL, "same fd");
    }
    dup_to(t, old, new, flags != 0)
}

pub fn fcntl(t: &mut Task, a: [u64; 6]) -> SysResult {
    let fd = fd_arg(a[0]);
    let f = file(t, fd)?;
    let cmd = u64::from(int_arg(a[1]).cast_unsigned());
    match cmd {
        F_DUPFD | F_DUPFD_CLOEXEC => {
            let min = usize::try_from(int_arg(a[2])).map_err(|_| errno!(EINVAL))?;
            let limit = nofile(t);
            if min >= limit {
                bail!(EINVAL, "minimum fd {min} beyond RLIMIT_NOFILE");
            }
            let fd = t
                .fds
                .install(f, cmd == F_DUPFD_CLOEXEC, min, limit)
                .ok_or_else(|| errno!(EMFILE))?;
            Ok(fd as u64)
        }
        F_GETFD => Ok(u64::from(t.fds.cloexec(fd).unwrap_or(false))),
        F_SETFD => {
            t.fds.set_cloexec(fd, a[2] & FD_CLOEXEC != 0);
            Ok(0)
        }
        F_GETFL => {
            let fl = crate::host::fcntl(f.host_fd(), libc::F_GETFL, 0).map_err(host_err)?;
            Ok(u64::from(fl.cast_unsigned()))
        }
        F_SETFL => {
            // The description is the caller's (inherited stdio), as it would be for a native child.
            let settable =
                (O_APPEND | O_NONBLOCK) as i32 | libc::O_ASYNC | libc::O_DIRECT | libc::O_NOATIME;
            let cur = crate::host::fcntl(f.host_fd(), libc::F_GETFL, 0).map_err(host_err)?;
            let new = (cur & !settable) | (int_arg(a[2]) & settable);
            crate::host::fcntl(f.host_fd(), libc::F_SETFL, i64::from(new)).map_err(host_err)?;
            Ok(0)
        }
        _ => {
            t.k.log_partial(format!("fcntl command {cmd}"));
            Err(errno!(EINVAL, "fcntl command {cmd} not implemented"))
        }
    }
}

pub fn ioctl(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = file(t, fd_arg(a[0]))?;
    let req = u64::from(a[1] as u32);
    let out = UserAddr(a[2]);
    match req {
        TCGETS => {
            let v: [u8; TERMIOS_SIZE] =
                crate::host::ioctl_read(f.host_fd(), req).map_err(host_err)?;
            t.mm.copy_out(out, &v)?;
        }
        TIOCGWINSZ => {
            let v: [u8; WINSIZE_SIZE] =
                crate::host::ioctl_read(f.host_fd(), req).map_err(host_err)?;
            t.mm.copy_out(out, &v)?;
        }
        FIONREAD => {
            let v: [u8; 4] = crate::host::ioctl_read(f.host_fd(), req).map_err(host_err)?;
            t.mm.copy_out(out, &v)?;
        }
        _ => {
            t.k.log_partial(format!("ioctl request {req:#x}"));
            bail!(ENOTTY, "ioctl {req:#x} not implemented");
        }
    }
    Ok(0)
}

pub fn fstat(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = file(t, fd_arg(a[0]))?;
    let st = crate::host::fstat(f.host_fd()).map_err(host_err)?;
    t.mm.write_obj(UserAddr(a[1]), &st)?;
    Ok(0)
}

pub fn newfstatat(t: &mut Task, a: [u64; 6]) -> SysResult {
    let flags = a[3] & 0xffff_ffff;
    if flags & !(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT) != 0 {
        bail!(EINVAL, "bad flags {flags:#x}");
    }
    let path = t.mm.read_cstr(UserAddr(a[1]), abi::PATH_MAX)?;
    if !path.is_empty() {
        t.k.log_partial("newfstatat on a path (files issue)".into());
        bail!(ENOSYS, "path lookup arrives with the files issue");
    }
    if flags & AT_EMPTY_PATH == 0 {
        bail!(ENOENT);
    }
    fstat(t, [a[0], a[2], 0, 0, 0, 0])
}

pub fn getcwd(t: &mut Task, a: [u64; 6]) -> SysResult {
    let mut cwd = t.cwd.clone();
    cwd.push(0);
    let size = usize::try_from(a[1]).unwrap_or(usize::MAX);
    if size < cwd.len() {
        bail!(ERANGE);
    }
    t.mm.copy_out(UserAddr(a[0]), &cwd)?;
    Ok(cwd.len() as u64)
}

pub fn umask(t: &mut Task, a: [u64; 6]) -> SysResult {
    let old = t.umask;
    t.umask = (a[0] as u32) & 0o777;
    Ok(u64::from(old))
}
