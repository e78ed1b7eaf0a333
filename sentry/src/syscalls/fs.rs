//! File syscalls on fds: reads and writes, offsets, dup, fcntl, ioctl, fstat, getdents64,
//! ftruncate and friends. Inherited stdio host fds are read and written directly from the memory
//! file (one readv/writev, no bounce buffer); VFS files through their open file description.

use super::{fd_arg, host_err, int_arg};
use crate::errors::{Errno, SysResult};
use crate::kernel::fd::File;
use crate::kernel::Task;
use crate::mm::access_ok;
use crate::mm::{Access, UserAddr};
use crate::vfs::locks::{Family, Lock, Owner};
use crate::vfs::pipe::PipeEnd;
use crate::vfs::{Device, Kind, OpenFile};
use crate::{bail, errno};
use abi::fcntl::*;
use abi::ioctl::*;
use abi::{MAX_RW_COUNT, NR_OPEN};
use std::os::fd::AsFd;
use std::rc::Rc;

/// The host's readv/writev take at most this many segments.
const HOST_IOV_MAX: usize = 1024;

pub fn file(t: &Task, fd: i32) -> Result<Rc<File>, Errno> {
    t.fds.get(fd).ok_or_else(|| errno!(EBADF))
}

/// The VFS file at `fd` (EBADF if none; `other` for an fd of another kind).
pub fn vfs_file(t: &Task, fd: i32, other: i32) -> Result<Rc<File>, Errno> {
    let f = file(t, fd)?;
    if f.vfs().is_none() {
        return Err(Errno::new(other));
    }
    Ok(f)
}

/// Transfers between `file` and the guest ranges `[(addr, len)]`, stopping at the first
/// inaccessible byte or short transfer. EFAULT only if nothing could be transferred. `at` is
/// the file offset for the p* variants.
fn transfer(
    t: &Task,
    file: &File,
    iov: &[(u64, usize)],
    access: Access,
    at: Option<u64>,
) -> SysResult {
    if let File::Vfs(f) = file {
        return transfer_vfs(t, f, iov, access, at);
    }
    let Some(host_fd) = file.host_fd() else {
        return Err(errno!(EBADF));
    };
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
        return crate::host::io_with_unmapped_buffer(host_fd, len, access == Access::Read)
            .map(|n| n as u64)
            .map_err(host_err);
    }
    host_io(t, host_fd, &ranges, access, at).map(|n| n as u64)
}

/// I/O between a host fd and memory-file `ranges`: one host call per 1024 ranges, going on past
/// the first only for a regular file. A zero-length transfer still goes to the host once, which
/// checks the fd can do it (EBADF on a write to a read-only fd, as Linux).
fn host_io(
    t: &Task,
    host_fd: std::os::fd::BorrowedFd<'_>,
    ranges: &[(u64, usize)],
    access: Access,
    at: Option<u64>,
) -> Result<usize, Errno> {
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
        && crate::host::fstat(host_fd).is_ok_and(|st| st.mode & libc::S_IFMT == libc::S_IFREG);
    let mut done = 0usize;
    for (i, chunk) in chunks.into_iter().enumerate() {
        if i > 0 && access == Access::Write && !regular {
            break;
        }
        let chunk_len: usize = chunk.iter().map(|r| r.1).sum();
        let mem = &t.mm.memory().file;
        let r = match (access, at) {
            (Access::Write, None) => mem.read_from_host(host_fd, chunk),
            (Access::Read, None) => mem.write_to_host(host_fd, chunk),
            (Access::Write, Some(off)) => mem.read_from_host_at(host_fd, chunk, off + done as u64),
            (Access::Read, Some(off)) => mem.write_to_host_at(host_fd, chunk, off + done as u64),
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
    Ok(done)
}

/// I/O between any file and memory-file `ranges` (already checked): `Access::Write` reads the
/// file into the ranges, `Access::Read` writes them to it.
pub fn file_io(
    t: &Task,
    file: &File,
    ranges: &[(u64, usize)],
    access: Access,
    at: Option<u64>,
) -> Result<usize, Errno> {
    match file {
        File::Vfs(f) => match access {
            Access::Write => f.read(&t.mm.memory().file, ranges, at),
            Access::Read => f.write(&t.mm.memory().file, ranges, at),
        },
        // sendfile and copy_file_range: what fits now, without waiting.
        File::Pipe(p) => pipe_ranges(t, p, ranges, access, 0).map(|(n, _)| n),
        File::Host(h) => host_io(t, h.as_fd(), ranges, access, at),
        File::Anon(_) => Err(errno!(EINVAL, "not a file")),
    }
}

/// [`transfer`] for a VFS file.
fn transfer_vfs(
    t: &Task,
    f: &OpenFile,
    iov: &[(u64, usize)],
    access: Access,
    at: Option<u64>,
) -> SysResult {
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
    let mem = &t.mm.memory().file;
    if ranges.is_empty() && faulted {
        // Nothing accessible: EFAULT, unless the file would not touch the buffer (a read at end
        // of file, a write to /dev/null), as on Linux.
        let len = iov.iter().map(|r| r.1).find(|&l| l > 0).unwrap_or(0);
        return match access {
            Access::Write => {
                if !f.readable() {
                    return Err(errno!(EBADF));
                }
                if f.inode.is_dir() {
                    return Err(errno!(EISDIR));
                }
                let pos = at.unwrap_or(f.pos.get());
                let at_eof = match &f.inode.kind {
                    Kind::Regular(_) => pos >= f.inode.size(),
                    Kind::Proc(_) => pos >= f.contents.as_ref().map_or(0, |c| c.len() as u64),
                    Kind::Device(Device::Null) => true,
                    _ => false,
                };
                if at_eof {
                    Ok(0)
                } else {
                    Err(errno!(EFAULT))
                }
            }
            Access::Read => {
                if !f.writable() {
                    return Err(errno!(EBADF));
                }
                match &f.inode.kind {
                    Kind::Device(
                        Device::Null | Device::Zero | Device::Random | Device::URandom,
                    ) => Ok(len as u64),
                    _ => Err(errno!(EFAULT)),
                }
            }
        };
    }
    let n = match access {
        Access::Write => f.read(mem, &ranges, at)?,
        Access::Read => f.write(mem, &ranges, at)?,
    };
    if n > 0 {
        let dir = f.origin.dir.as_ref().map(|d| (d, &f.origin.name[..]));
        let ev = match access {
            Access::Write => crate::vfs::notify::IN_ACCESS,
            Access::Read => crate::vfs::notify::IN_MODIFY,
        };
        crate::vfs::notify::event(&f.inode, dir, ev);
    }
    Ok(n as u64)
}

/// The stat of a pipe end.
pub(crate) fn pipe_stat(t: &Task, p: &PipeEnd) -> abi::Stat {
    if let Some((node, _)) = &p.fifo {
        return node.stat();
    }
    abi::Stat {
        dev: 0x0d,
        ino: p.pipe.ino,
        nlink: 1,
        mode: crate::vfs::S_IFIFO | 0o600,
        uid: t.creds.euid,
        gid: t.creds.egid,
        blksize: 4096,
        ..abi::Stat::default()
    }
}

/// Moves bytes between a pipe and memory-file `ranges` (skipping the first `skip` bytes of
/// them): `Access::Write` reads the pipe into them, `Access::Read` writes them to it. Returns the
/// bytes moved and whether the other end is gone. Never waits.
fn pipe_ranges(
    t: &Task,
    p: &PipeEnd,
    ranges: &[(u64, usize)],
    access: Access,
    skip: usize,
) -> Result<(usize, bool), Errno> {
    p.pipe.generation.set(p.pipe.generation.get() + 1);
    let mem = &t.mm.memory().file;
    let pipe = &p.pipe;
    let mut buf = pipe.buf.borrow_mut();
    match access {
        Access::Write => {
            let want: usize = ranges.iter().map(|r| r.1).sum();
            let mut n = want.min(buf.len());
            // Packet mode: a packet at the front is read alone (what does not fit is dropped);
            // bytes before the next packet are read up to it.
            let mut packet = None;
            if let Some(&(start, len)) = pipe.packets.borrow().front() {
                let at = pipe.read_pos.get();
                if start <= at {
                    n = want.min(len);
                    packet = Some(len);
                } else {
                    n = n.min(usize::try_from(start - at).unwrap_or(usize::MAX));
                }
            }
            // Straight from the buffer's two halves into guest memory, then dropped at once.
            let (a, b) = buf.as_slices();
            let mut at = 0usize;
            for &(off, len) in ranges {
                let k = len.min(n - at);
                if k == 0 {
                    break;
                }
                let mut done = 0;
                while done < k {
                    let pos = at + done;
                    let src = if pos < a.len() {
                        &a[pos..a.len().min(at + k)]
                    } else {
                        &b[pos - a.len()..at + k - a.len()]
                    };
                    mem.write(off + done as u64, src);
                    done += src.len();
                }
                at += k;
            }
            let taken = packet.unwrap_or(n);
            buf.drain_front(taken);
            drop(buf);
            pipe.consumed(taken);
            Ok((n, pipe.writers.get() == 0))
        }
        Access::Read if p.flags.get() & libc::O_DIRECT as u32 != 0 => {
            // Packet mode: each write is cut into packets of PIPE_BUF bytes at most, each
            // taking a slot.
            let mut moved = 0usize;
            let mut skipped = 0usize;
            for &(off, len) in ranges {
                let (mut off, mut len) = (off, len);
                if skipped < skip {
                    let s = (skip - skipped).min(len);
                    skipped += s;
                    off += s as u64;
                    len -= s;
                }
                while len > 0 {
                    let k = len.min(crate::vfs::pipe::PIPE_BUF);
                    let space = pipe.capacity.get().saturating_sub(buf.len());
                    if pipe.packet_slots_left() == 0 || space < k {
                        return Ok((moved, pipe.readers.get() == 0));
                    }
                    let start = pipe.write_pos.get();
                    let mut at = off;
                    buf.push_with(k, |dst| {
                        mem.read(at, dst);
                        at += dst.len() as u64;
                    });
                    pipe.packets.borrow_mut().push_back((start, k));
                    pipe.write_pos.set(start + k as u64);
                    off += k as u64;
                    len -= k;
                    moved += k;
                }
            }
            Ok((moved, pipe.readers.get() == 0))
        }
        Access::Read => {
            let space = pipe.capacity.get().saturating_sub(buf.len());
            let mut todo = space;
            let mut moved = 0usize;
            let mut skipped = 0usize;
            for &(off, len) in ranges {
                let (mut off, mut len) = (off, len);
                if skipped < skip {
                    let s = (skip - skipped).min(len);
                    skipped += s;
                    off += s as u64;
                    len -= s;
                }
                let k = len.min(todo);
                if k == 0 {
                    continue;
                }
                // Straight from guest memory into the buffer.
                let mut at = off;
                buf.push_with(k, |dst| {
                    mem.read(at, dst);
                    at += dst.len() as u64;
                });
                todo -= k;
                moved += k;
            }
            pipe.write_pos.set(pipe.write_pos.get() + moved as u64);
            Ok((moved, pipe.readers.get() == 0))
        }
    }
}

/// read/write on a pipe end: waits (EBLOCK) while nothing can move, unless O_NONBLOCK. A write
/// with no reader left raises SIGPIPE and fails with EPIPE; one of PIPE_BUF bytes or fewer goes
/// in whole or not at all.
fn pipe_io(t: &mut Task, p: &PipeEnd, iov: &[(u64, usize)], access: Access) -> SysResult {
    pipe_io_opts(t, p, iov, access, p.nonblocking(), false)
}

/// [`pipe_io`] with the blocking mode given (a socket's, or MSG_DONTWAIT), and SIGPIPE left out
/// with `nosignal` (MSG_NOSIGNAL).
pub(crate) fn pipe_io_opts(
    t: &mut Task,
    p: &PipeEnd,
    iov: &[(u64, usize)],
    access: Access,
    nonblock: bool,
    nosignal: bool,
) -> SysResult {
    if !p.both && (access == Access::Write) == p.write {
        bail!(EBADF, "wrong end of the pipe");
    }
    let block = || Err(Errno::new(crate::errors::EBLOCK));
    // Reading an empty pipe copies nothing, so, as on Linux, the buffer is not looked at (only
    // an address outside user space is EFAULT): end of file, EAGAIN, or a wait.
    if access == Access::Write && p.available() == 0 {
        if iov
            .iter()
            .any(|&(addr, len)| !crate::mm::access_ok(addr, len as u64))
        {
            bail!(EFAULT);
        }
        if iov.iter().all(|r| r.1 == 0) || p.pipe.writers.get() == 0 {
            return Ok(0);
        }
        if nonblock {
            bail!(EAGAIN);
        }
        return block();
    }
    let mut ranges = Vec::new();
    let mut total = 0usize;
    // A read takes at most what is buffered: only that much of the buffer is looked up (and made
    // writable, breaking copy-on-write sharing), not all of a large buffer for a few bytes.
    let most = match access {
        Access::Write => p.available().clamp(1, MAX_RW_COUNT),
        Access::Read => MAX_RW_COUNT,
    };
    for &(addr, len) in iov {
        if total >= most {
            break;
        }
        let len = len.min(most - total);
        let pre = t.mm.prefix_ranges(UserAddr(addr), len, access);
        let got: usize = pre.iter().map(|r| r.1).sum();
        ranges.extend(pre);
        total += got;
        if got < len {
            if total == 0 {
                bail!(EFAULT);
            }
            break;
        }
    }
    match access {
        Access::Write => {
            if total == 0 {
                return Ok(0);
            }
            let (n, no_writers) = pipe_ranges(t, p, &ranges, access, 0)?;
            if n > 0 || no_writers {
                return Ok(n as u64);
            }
            if nonblock {
                bail!(EAGAIN);
            }
            block()
        }
        Access::Read => {
            if p.pipe.readers.get() == 0 {
                let info = crate::kernel::signal::SigInfo {
                    code: crate::kernel::signal::SI_USER,
                    pid: t.tgid,
                    uid: t.creds.ruid,
                    ..Default::default()
                };
                if !nosignal {
                    crate::kernel::signal::raise(t, abi::signal::SIGPIPE, info);
                }
                bail!(EPIPE);
            }
            let done = t.wait.progress;
            let left = total - done;
            let space = p.pipe.capacity.get() - p.pipe.buf.borrow().len();
            if left <= crate::vfs::pipe::PIPE_BUF && space < left {
                // Atomic: all or nothing.
                if nonblock {
                    bail!(EAGAIN);
                }
                return block();
            }
            let (n, _) = pipe_ranges(t, p, &ranges, access, done)?;
            let done = done + n;
            if done == total {
                return Ok(total as u64);
            }
            if nonblock {
                if done == 0 {
                    bail!(EAGAIN);
                }
                return Ok(done as u64);
            }
            t.wait.progress = done;
            block()
        }
    }
}

pub fn pipe2(t: &mut Task, a: [u64; 6]) -> SysResult {
    let flags = a[1] as u32;
    if flags & !(O_CLOEXEC | O_NONBLOCK | libc::O_DIRECT as u32) != 0 {
        bail!(EINVAL, "bad flags");
    }
    let (r, w) = crate::vfs::pipe::new_pipe(flags & O_NONBLOCK != 0);
    if flags & libc::O_DIRECT as u32 != 0 {
        // Packet mode: the write end's writes are packets (only it has the flag, as Linux's).
        w.flags.set(w.flags.get() | libc::O_DIRECT as u32);
    }
    let limit = nofile(t);
    let cloexec = flags & O_CLOEXEC != 0;
    let rfd = t
        .fds
        .install(Rc::new(File::Pipe(r)), cloexec, 0, limit)
        .ok_or_else(|| errno!(EMFILE))?;
    let Some(wfd) = t.fds.install(Rc::new(File::Pipe(w)), cloexec, 0, limit) else {
        t.fds.remove(rfd);
        bail!(EMFILE);
    };
    if let Err(e) = t.mm.write_obj(UserAddr(a[0]), &[rfd, wfd]) {
        t.fds.remove(rfd);
        t.fds.remove(wfd);
        return Err(e);
    }
    Ok(0)
}

/// open of a FIFO: its pipe (made at the first open, kept while any end is open). A reader
/// waits for a writer to open it and a writer for a reader, unless O_NONBLOCK (a reader then
/// goes on, a writer fails with ENXIO) or O_RDWR. The waiting opener already counts as a reader
/// or writer, so that the other side's open does not wait for it.
pub fn open_fifo(
    t: &mut Task,
    node: &Rc<crate::vfs::Inode>,
    path: Vec<u8>,
    flags: u32,
    cloexec: bool,
) -> SysResult {
    let key = (node.fs.dev, node.ino);
    let limit = nofile(t);
    if let Some((f, seen)) = t.wait.pending.take() {
        // A retry of an open waiting for the other side.
        if let File::Pipe(end) = &*f {
            let p = &end.pipe;
            let other = if end.write {
                p.r_opens.get()
            } else {
                p.w_opens.get()
            };
            if other == seen {
                t.wait.pending = Some((f, seen));
                return Err(Errno::new(crate::errors::EBLOCK));
            }
        }
        let fd = t
            .fds
            .install(f, cloexec, 0, limit)
            .ok_or_else(|| errno!(EMFILE))?;
        return Ok(fd as u64);
    }
    let pipe = {
        let mut fifos = t.k.fifos.borrow_mut();
        fifos.retain(|_, w| w.strong_count() > 0);
        match fifos.get(&key).and_then(std::rc::Weak::upgrade) {
            Some(p) => p,
            None => {
                let p = crate::vfs::pipe::new_buffer();
                fifos.insert(key, Rc::downgrade(&p));
                p
            }
        }
    };
    let acc = flags & libc::O_ACCMODE as u32;
    let nonblock = flags & O_NONBLOCK != 0;
    if acc == libc::O_WRONLY as u32 && pipe.readers.get() == 0 && nonblock {
        bail!(ENXIO, "no reader");
    }
    let end = crate::vfs::pipe::new_end(&pipe, flags, Some((node.clone(), path)));
    let waits = !nonblock
        && match acc {
            a if a == libc::O_RDONLY as u32 => pipe.writers.get() == 0,
            a if a == libc::O_WRONLY as u32 => pipe.readers.get() == 0,
            _ => false,
        };
    let f = Rc::new(File::Pipe(end));
    if waits {
        let seen = if acc == libc::O_WRONLY as u32 {
            pipe.r_opens.get()
        } else {
            pipe.w_opens.get()
        };
        t.wait.pending = Some((f, seen));
        return Err(Errno::new(crate::errors::EBLOCK));
    }
    let fd = t
        .fds
        .install(f, cloexec, 0, limit)
        .ok_or_else(|| errno!(EMFILE))?;
    Ok(fd as u64)
}

pub fn pipe(t: &mut Task, a: [u64; 6]) -> SysResult {
    pipe2(t, [a[0], 0, 0, 0, 0, 0])
}

/// A p* offset argument: negative is EINVAL; a file that cannot seek is ESPIPE.
fn offset_arg(f: &File, v: u64) -> Result<u64, Errno> {
    if matches!(f, File::Pipe(_) | File::Anon(_)) {
        bail!(ESPIPE);
    }
    if v.cast_signed() < 0 {
        bail!(EINVAL, "negative offset");
    }
    if let File::Vfs(o) = f {
        if !matches!(
            o.inode.kind,
            Kind::Regular(_) | Kind::Device(_) | Kind::Proc(_) | Kind::Dir(_)
        ) {
            bail!(ESPIPE);
        }
    }
    Ok(v)
}

pub fn read(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = file(t, fd_arg(a[0]))?;
    if let File::Anon(an) = &*f {
        let len = usize::try_from(a[2])
            .unwrap_or(usize::MAX)
            .min(MAX_RW_COUNT);
        return an.read(t, &[(a[1], len)]);
    }
    if let File::Pipe(p) = &*f {
        let len = usize::try_from(a[2]).unwrap_or(usize::MAX);
        return pipe_io(t, p, &[(a[1], len)], Access::Write);
    }
    if !access_ok(a[1], a[2]) {
        bail!(EFAULT, "buffer outside the user address space");
    }
    transfer(
        t,
        &f,
        &[(a[1], usize::try_from(a[2]).unwrap_or(usize::MAX))],
        Access::Write,
        None,
    )
}

/// A write to /proc/PID/comm renames the task (at most 15 bytes).
fn write_comm(t: &mut Task, f: &OpenFile, buf: u64, len: u64) -> SysResult {
    if !f.writable() {
        bail!(EBADF);
    }
    let n = usize::try_from(len).unwrap_or(usize::MAX);
    let mut name = vec![0u8; n.min(15)];
    t.mm.copy_in(UserAddr(buf), &mut name)?;
    if let Some(nul) = name.iter().position(|&c| c == 0) {
        name.truncate(nul);
    }
    t.comm = name;
    Ok(len)
}

pub fn write(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = file(t, fd_arg(a[0]))?;
    if let File::Anon(an) = &*f {
        let len = usize::try_from(a[2])
            .unwrap_or(usize::MAX)
            .min(MAX_RW_COUNT);
        return an.write(t, &[(a[1], len)]);
    }
    if let File::Pipe(p) = &*f {
        let len = usize::try_from(a[2]).unwrap_or(usize::MAX);
        return pipe_io(t, p, &[(a[1], len)], Access::Read);
    }
    if let Some(o) = f.vfs() {
        if matches!(
            o.inode.kind,
            Kind::Proc(crate::vfs::proc::FileKind::Pid(_, "comm"))
        ) {
            return write_comm(t, o, a[1], a[2]);
        }
    }
    if !access_ok(a[1], a[2]) {
        bail!(EFAULT, "buffer outside the user address space");
    }
    transfer(
        t,
        &f,
        &[(a[1], usize::try_from(a[2]).unwrap_or(usize::MAX))],
        Access::Read,
        None,
    )
}

/// Reads and checks an iovec array as Linux's `import_iovec` does: a negative length is EINVAL,
/// a range outside user space EFAULT, and the total is capped at `MAX_RW_COUNT`.
pub(crate) fn iovecs(t: &Task, addr: u64, count: u64) -> Result<Vec<(u64, usize)>, Errno> {
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
    if let File::Pipe(p) = &*f {
        return pipe_io(t, p, &iov, Access::Write);
    }
    if let File::Anon(an) = &*f {
        return an.read(t, &iov);
    }
    transfer(t, &f, &iov, Access::Write, None)
}

pub fn writev(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = file(t, fd_arg(a[0]))?;
    let iov = iovecs(t, a[1], a[2])?;
    if let File::Pipe(p) = &*f {
        return pipe_io(t, p, &iov, Access::Read);
    }
    if let File::Anon(an) = &*f {
        return an.write(t, &iov);
    }
    transfer(t, &f, &iov, Access::Read, None)
}

pub fn pread64(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = file(t, fd_arg(a[0]))?;
    if !access_ok(a[1], a[2]) {
        bail!(EFAULT, "buffer outside the user address space");
    }
    let at = offset_arg(&f, a[3])?;
    let len = usize::try_from(a[2]).unwrap_or(usize::MAX);
    transfer(t, &f, &[(a[1], len)], Access::Write, Some(at))
}

pub fn pwrite64(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = file(t, fd_arg(a[0]))?;
    if !access_ok(a[1], a[2]) {
        bail!(EFAULT, "buffer outside the user address space");
    }
    let at = offset_arg(&f, a[3])?;
    let len = usize::try_from(a[2]).unwrap_or(usize::MAX);
    transfer(t, &f, &[(a[1], len)], Access::Read, Some(at))
}

/// preadv/pwritev offsets (x86-64 passes the whole offset in the low argument); -1 with the v2
/// calls means the file position.
fn vec_offset(f: &File, off: u64, v2: bool) -> Result<Option<u64>, Errno> {
    if v2 && off.cast_signed() == -1 {
        return Ok(None);
    }
    offset_arg(f, off).map(Some)
}

fn rw_flags(v: u64) -> Result<(), Errno> {
    // RWF_HIPRI, RWF_DSYNC, RWF_SYNC and RWF_APPEND change nothing observable here; RWF_NOWAIT
    // (never blocks on a memory file) is accepted too.
    if (v as u32) & !0x1f != 0 {
        bail!(EOPNOTSUPP, "unknown RWF_ flags");
    }
    Ok(())
}

pub fn preadv(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = file(t, fd_arg(a[0]))?;
    let at = vec_offset(&f, a[3], false)?;
    let iov = iovecs(t, a[1], a[2])?;
    transfer(t, &f, &iov, Access::Write, at)
}

pub fn pwritev(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = file(t, fd_arg(a[0]))?;
    let at = vec_offset(&f, a[3], false)?;
    let iov = iovecs(t, a[1], a[2])?;
    transfer(t, &f, &iov, Access::Read, at)
}

pub fn preadv2(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = file(t, fd_arg(a[0]))?;
    rw_flags(a[5])?;
    let at = vec_offset(&f, a[3], true)?;
    let iov = iovecs(t, a[1], a[2])?;
    transfer(t, &f, &iov, Access::Write, at)
}

pub fn pwritev2(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = file(t, fd_arg(a[0]))?;
    rw_flags(a[5])?;
    let at = vec_offset(&f, a[3], true)?;
    let iov = iovecs(t, a[1], a[2])?;
    transfer(t, &f, &iov, Access::Read, at)
}

pub fn lseek(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = file(t, fd_arg(a[0]))?;
    let whence = int_arg(a[2]);
    match &*f {
        File::Pipe(_) | File::Anon(_) => Err(errno!(ESPIPE)),
        File::Host(fd) => {
            let off =
                crate::host::lseek(fd.as_fd(), a[1].cast_signed(), whence).map_err(host_err)?;
            Ok(off.cast_unsigned())
        }
        File::Vfs(o) => {
            if o.is_path() {
                bail!(EBADF);
            }
            o.seek(a[1].cast_signed(), whence)
        }
    }
}

pub fn close(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = t.fds.remove(fd_arg(a[0])).ok_or_else(|| errno!(EBADF))?;
    // Closing any fd of a file drops the process's POSIX locks on it.
    if let Some(o) = f.vfs() {
        o.inode
            .locks
            .borrow_mut()
            .release(Owner::Process(t.tgid), Some(Family::Record));
    }
    Ok(0)
}

pub(super) fn nofile(t: &Task) -> usize {
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
    let path_only = f.vfs().is_some_and(OpenFile::is_path);
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
        F_GETFL => match &*f {
            File::Pipe(p) => Ok(u64::from(p.flags.get())),
            File::Anon(a) => Ok(u64::from(a.flags().get())),
            File::Host(h) => {
                let fl = crate::host::fcntl(h.as_fd(), libc::F_GETFL, 0).map_err(host_err)?;
                Ok(u64::from(fl.cast_unsigned()))
            }
            File::Vfs(o) => Ok(u64::from(o.flags.get())),
        },
        _ if path_only => Err(errno!(EBADF, "O_PATH fd")),
        F_SETFL => {
            let settable =
                (O_APPEND | O_NONBLOCK) as i32 | libc::O_ASYNC | libc::O_DIRECT | libc::O_NOATIME;
            match &*f {
                File::Pipe(p) => {
                    let settable = settable.cast_unsigned();
                    let new =
                        (p.flags.get() & !settable) | (int_arg(a[2]).cast_unsigned() & settable);
                    p.flags.set(new);
                }
                File::Anon(an) => {
                    let settable = settable.cast_unsigned();
                    let fl = an.flags();
                    fl.set((fl.get() & !settable) | (int_arg(a[2]).cast_unsigned() & settable));
                }
                File::Host(h) => {
                    // The description is the caller's (inherited stdio), as it would be for a
                    // native child.
                    let cur = crate::host::fcntl(h.as_fd(), libc::F_GETFL, 0).map_err(host_err)?;
                    let new = (cur & !settable) | (int_arg(a[2]) & settable);
                    crate::host::fcntl(h.as_fd(), libc::F_SETFL, i64::from(new))
                        .map_err(host_err)?;
                }
                File::Vfs(o) => {
                    let settable = settable.cast_unsigned();
                    let new =
                        (o.flags.get() & !settable) | (int_arg(a[2]).cast_unsigned() & settable);
                    o.flags.set(new);
                }
            }
            Ok(0)
        }
        F_GETLK | F_OFD_GETLK | F_SETLK | F_SETLKW | F_OFD_SETLK | F_OFD_SETLKW => {
            record_lock(t, &f, cmd, UserAddr(a[2]))
        }
        F_GETPIPE_SZ | F_SETPIPE_SZ => {
            let File::Pipe(p) = &*f else {
                bail!(EBADF, "not a pipe");
            };
            if cmd == F_GETPIPE_SZ {
                return Ok(p.pipe.capacity.get() as u64);
            }
            let want = usize::try_from(int_arg(a[2]).max(0)).unwrap_or(0);
            let size = want.max(4096).next_power_of_two();
            if size > crate::vfs::pipe::MAX_CAPACITY && t.creds.euid != 0 {
                bail!(EPERM, "above pipe-max-size");
            }
            if size > (1 << 31) {
                bail!(EINVAL);
            }
            if size < p.pipe.buf.borrow().len() {
                bail!(EBUSY);
            }
            p.pipe.capacity.set(size);
            Ok(size as u64)
        }
        F_ADD_SEALS | F_GET_SEALS => Err(errno!(EINVAL, "not a memfd")),
        F_GETOWN | F_SETOWN | F_GETSIG | F_SETSIG => {
            t.k.log_partial(format!("fcntl command {cmd} (no SIGIO yet)"));
            if cmd == F_GETOWN || cmd == F_GETSIG {
                Ok(0)
            } else {
                Err(errno!(EINVAL, "SIGIO not implemented"))
            }
        }
        _ => {
            t.k.log_partial(format!("fcntl command {cmd}"));
            Err(errno!(EINVAL, "fcntl command {cmd} not implemented"))
        }
    }
}

pub fn ioctl(t: &mut Task, a: [u64; 6]) -> SysResult {
    let fd = fd_arg(a[0]);
    let f = file(t, fd)?;
    let req = u64::from(a[1] as u32);
    let out = UserAddr(a[2]);
    if let Some(o) = f.vfs() {
        if o.is_path() {
            bail!(EBADF, "O_PATH fd");
        }
    }
    match req {
        FIOCLEX | FIONCLEX => {
            t.fds.set_cloexec(fd, req == FIOCLEX);
            return Ok(0);
        }
        FIONBIO => {
            let on: i32 = t.mm.read_obj(out)?;
            if let Some(o) = f.vfs() {
                let fl = o.flags.get() & !O_NONBLOCK;
                o.flags.set(fl | if on != 0 { O_NONBLOCK } else { 0 });
                return Ok(0);
            }
            let flags = match &*f {
                File::Pipe(p) => Some(&p.flags),
                File::Anon(an) => Some(an.flags()),
                _ => None,
            };
            if let Some(fl) = flags {
                fl.set((fl.get() & !O_NONBLOCK) | if on != 0 { O_NONBLOCK } else { 0 });
                return Ok(0);
            }
        }
        _ => {}
    }
    if let Some(r) = super::tty::ioctl(t, &f, req, a[2]) {
        return r;
    }
    let host = match &*f {
        File::Anon(_) if super::socket::is_socket(&f) && super::socket::is_interface_ioctl(req) => {
            return super::socket::interface_ioctl(t, req, a[2]);
        }
        File::Anon(an) => {
            return match (req, an.readable_bytes()) {
                (FIONREAD, Some(n)) => {
                    t.mm.write_obj(out, &i32::try_from(n).unwrap_or(i32::MAX))?;
                    Ok(0)
                }
                _ => Err(errno!(ENOTTY, "not a terminal")),
            };
        }
        File::Pipe(p) => {
            return match req {
                FIONREAD => {
                    t.mm.write_obj(out, &i32::try_from(p.available()).unwrap_or(i32::MAX))?;
                    Ok(0)
                }
                _ => Err(errno!(ENOTTY, "not a terminal")),
            };
        }
        File::Host(h) => h.as_fd(),
        File::Vfs(o) => {
            return match (req, &o.inode.kind) {
                (FIONREAD, Kind::Regular(_)) => {
                    let n = o.inode.size().saturating_sub(o.pos.get());
                    t.mm.write_obj(out, &i32::try_from(n).unwrap_or(i32::MAX))?;
                    Ok(0)
                }
                (FIONREAD, Kind::Dir(_)) => Err(errno!(ENOTTY)),
                _ => Err(errno!(ENOTTY, "not a terminal")),
            };
        }
    };
    match req {
        TCGETS => {
            let v: [u8; TERMIOS_SIZE] = crate::host::ioctl_read(host, req).map_err(host_err)?;
            t.mm.copy_out(out, &v)?;
        }
        TIOCGWINSZ => {
            let v: [u8; WINSIZE_SIZE] = crate::host::ioctl_read(host, req).map_err(host_err)?;
            t.mm.copy_out(out, &v)?;
        }
        FIONREAD => {
            let v: [u8; 4] = crate::host::ioctl_read(host, req).map_err(host_err)?;
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
    let st = match &*f {
        File::Pipe(p) => pipe_stat(t, p),
        File::Anon(an) => an.stat(t.creds.euid, t.creds.egid),
        File::Host(h) => crate::host::fstat(h.as_fd()).map_err(host_err)?,
        File::Vfs(o) => {
            o.inode.refresh()?;
            o.inode.stat()
        }
    };
    t.mm.write_obj(UserAddr(a[1]), &st)?;
    Ok(0)
}

pub fn getdents64(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = vfs_file(t, fd_arg(a[0]), libc::ENOTDIR)?;
    let o = f.vfs().ok_or_else(|| errno!(EBADF))?;
    if o.is_path() {
        bail!(EBADF, "O_PATH fd");
    }
    if !o.inode.is_dir() {
        bail!(ENOTDIR);
    }
    // A removed directory lists nothing (Linux's IS_DEADDIR).
    if o.inode.meta.borrow().nlink == 0 {
        bail!(ENOENT, "directory removed");
    }
    let count = usize::try_from(a[2] as u32).unwrap_or(0);
    if !access_ok(a[1], count as u64) {
        bail!(EFAULT);
    }
    if o.dirents.borrow().is_none() {
        let parent = if o.inode.is_fs_root() {
            o.inode
                .covers
                .borrow()
                .upgrade()
                .map_or(o.inode.ino, |c| c.parent().ino)
        } else {
            o.inode.parent().ino
        };
        let mut list = vec![
            (b".".to_vec(), o.inode.ino, 4u8),
            (b"..".to_vec(), parent, 4u8),
        ];
        list.extend(o.inode.list(t)?);
        *o.dirents.borrow_mut() = Some(list);
    }
    let dirents = o.dirents.borrow();
    let list = dirents.as_deref().unwrap_or(&[]);
    let mut pos = usize::try_from(o.pos.get()).unwrap_or(usize::MAX);
    let mut buf = Vec::new();
    while let Some((name, ino, kind)) = list.get(pos) {
        let reclen = (19 + name.len() + 1).next_multiple_of(8);
        if buf.len() + reclen > count {
            if buf.is_empty() {
                bail!(EINVAL, "buffer too small for the next entry");
            }
            break;
        }
        buf.extend_from_slice(&ino.to_ne_bytes());
        buf.extend_from_slice(&((pos + 1) as i64).to_ne_bytes());
        buf.extend_from_slice(&(reclen as u16).to_ne_bytes());
        buf.push(*kind);
        buf.extend_from_slice(name);
        buf.resize(buf.len() + reclen - 19 - name.len(), 0);
        pos += 1;
    }
    t.mm.copy_out(UserAddr(a[1]), &buf)?;
    o.pos.set(pos as u64);
    drop(dirents);
    // Every listing is an access, as Linux's iterate_dir reports it (the end included).
    let dir = o.origin.dir.as_ref().map(|d| (d, &o.origin.name[..]));
    crate::vfs::notify::event(&o.inode, dir, crate::vfs::notify::IN_ACCESS);
    Ok(buf.len() as u64)
}

pub fn ftruncate(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = file(t, fd_arg(a[0]))?;
    let len = a[1].cast_signed();
    if len < 0 {
        bail!(EINVAL, "negative length");
    }
    let Some(o) = f.vfs() else {
        bail!(EINVAL, "not a regular file");
    };
    if o.is_path() {
        bail!(EBADF);
    }
    if !matches!(o.inode.kind, Kind::Regular(_)) || !o.writable() {
        bail!(EINVAL, "not a regular file open for writing");
    }
    super::path::truncate_inode(&o.inode, len.cast_unsigned())?;
    Ok(0)
}

pub fn fsync(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = file(t, fd_arg(a[0]))?;
    if f.vfs().is_some_and(OpenFile::is_path) {
        bail!(EBADF);
    }
    // Devices and procfs files have no fsync (EINVAL, as Linux); memory files and the
    // read-only lower layer have nothing to flush.
    if f.inode()
        .is_some_and(|i| matches!(i.kind, Kind::Device(_) | Kind::Proc(_)))
    {
        bail!(EINVAL);
    }
    Ok(0)
}

pub fn syncfs(t: &mut Task, a: [u64; 6]) -> SysResult {
    if file(t, fd_arg(a[0]))?.vfs().is_some_and(OpenFile::is_path) {
        bail!(EBADF);
    }
    Ok(0)
}

pub fn sync(_t: &mut Task, _a: [u64; 6]) -> SysResult {
    Ok(0)
}

pub fn fallocate(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = file(t, fd_arg(a[0]))?;
    let (mode, off, len) = (a[1] as u32, a[2].cast_signed(), a[3].cast_signed());
    if off < 0 || len <= 0 {
        bail!(EINVAL);
    }
    let Some(o) = f.vfs() else { bail!(ESPIPE) };
    if !o.writable() {
        bail!(EBADF);
    }
    if o.inode.is_dir() {
        bail!(EISDIR);
    }
    if !matches!(o.inode.kind, Kind::Regular(_)) {
        bail!(ENODEV);
    }
    let end = off
        .checked_add(len)
        .ok_or_else(|| errno!(EFBIG))?
        .cast_unsigned();
    match mode {
        0 | 1 => {
            // Allocates: the pages count as used (st_blocks, the size limit); KEEP_SIZE (1)
            // leaves the size.
            o.inode.copy_up()?;
            if mode == 0 && end > o.inode.size() {
                super::path::truncate_inode(&o.inode, end)?;
            }
            if let Kind::Regular(data) = &o.inode.kind {
                if let crate::vfs::Data::Memory(p) = &mut *data.borrow_mut() {
                    p.allocate(off.cast_unsigned(), len.cast_unsigned(), &o.inode.fs)?;
                }
            }
            Ok(0)
        }
        // FALLOC_FL_PUNCH_HOLE (must come with KEEP_SIZE): the range reads as zeroes; punched
        // pages stop counting against the size limit. (tmpfs has no ZERO_RANGE either.)
        3 => {
            let Kind::Regular(data) = &o.inode.kind else {
                bail!(ENODEV);
            };
            o.inode.copy_up()?;

            if let crate::vfs::Data::Memory(p) = &mut *data.borrow_mut() {
                p.punch(off.cast_unsigned(), len.cast_unsigned(), &o.inode.fs);
            }
            o.inode.touch_modified();
            Ok(0)
        }
        2 => Err(errno!(EOPNOTSUPP, "PUNCH_HOLE without KEEP_SIZE")),
        _ => {
            t.k.log_partial(format!("fallocate mode {mode:#x}"));
            Err(errno!(EOPNOTSUPP))
        }
    }
}

pub fn flock(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = file(t, fd_arg(a[0]))?;
    let Some(o) = f.vfs() else {
        // An inherited pipe or terminal: nothing else in the sandbox can hold its lock.
        return Ok(0);
    };
    if o.is_path() {
        bail!(EBADF);
    }
    let op = a[1] as u32;
    // LOCK_MAND is ignored since Linux 5.15.
    if op & 32 != 0 {
        return Ok(0);
    }
    let owner = Owner::Description(o.id);
    let mut locks = o.inode.locks.borrow_mut();
    match op & !(libc::LOCK_NB as u32) {
        8 /* LOCK_UN */ => {
            locks.release(owner, Some(Family::Flock));
            Ok(0)
        }
        cmd @ (1 | 2) => {
            // A conversion drops the old lock first, as Linux (it is not atomic).
            locks.release(owner, Some(Family::Flock));
            let want = Lock {
                owner,
                family: Family::Flock,
                write: cmd == 2,
                start: 0,
                end: u64::MAX,
            };
            match locks.set(want, false) {
                Ok(()) => Ok(0),
                Err(e) if op & libc::LOCK_NB as u32 != 0 => Err(e),
                Err(_) => {
                    drop(locks);
                    wait_forever(t, "flock")
                }
            }
        }
        _ => Err(errno!(EINVAL)),
    }
}

/// A blocking lock request that only the caller itself could satisfy: Linux would wait for
/// ever (there is one task).
fn wait_forever(t: &Task, what: &str) -> SysResult {
    t.k.log_partial(format!(
        "{what} waits for a lock only the caller holds: for ever"
    ));
    loop {
        let _ = crate::host::clock_nanosleep(
            libc::CLOCK_MONOTONIC,
            0,
            abi::Timespec {
                tv_sec: 3600,
                tv_nsec: 0,
            },
        );
    }
}

/// fcntl's record locks: POSIX (owned by the process) and OFD (owned by the description).
fn record_lock(t: &mut Task, f: &File, cmd: u64, at: UserAddr) -> SysResult {
    // struct flock { short l_type, l_whence; off_t l_start, l_len; pid_t l_pid; }
    let mut fl: [u8; 32] = t.mm.read_obj(at)?;
    let kind = i32::from(i16::from_ne_bytes([fl[0], fl[1]]));
    let whence = i32::from(i16::from_ne_bytes([fl[2], fl[3]]));
    let l_start = i64::from_ne_bytes(fl[8..16].try_into().unwrap_or_default());
    let l_len = i64::from_ne_bytes(fl[16..24].try_into().unwrap_or_default());
    let l_pid = i32::from_ne_bytes(fl[24..28].try_into().unwrap_or_default());
    let Some(o) = f.vfs() else {
        // An inherited pipe or terminal: record locks need a file (EBADF is not right either,
        // but Linux's answer on a pipe is EINVAL only for some kernels; grant: nobody else can
        // lock it in the sandbox).
        return Ok(0);
    };
    if o.is_path() {
        bail!(EBADF);
    }
    if ![libc::F_RDLCK, libc::F_WRLCK, libc::F_UNLCK].contains(&kind) {
        bail!(EINVAL, "bad l_type");
    }
    let ofd = matches!(cmd, F_OFD_GETLK | F_OFD_SETLK | F_OFD_SETLKW);
    if ofd && l_pid != 0 {
        bail!(EINVAL, "OFD locks need l_pid 0");
    }
    let base: i64 = match whence {
        libc::SEEK_SET => 0,
        libc::SEEK_CUR => i64::try_from(o.pos.get()).unwrap_or(i64::MAX),
        libc::SEEK_END => i64::try_from(o.inode.size()).unwrap_or(i64::MAX),
        _ => bail!(EINVAL, "bad l_whence"),
    };
    let start = base.checked_add(l_start).ok_or_else(|| errno!(EOVERFLOW))?;
    let (start, end) = match l_len {
        0 => (start, i64::MAX),
        n if n > 0 => (
            start,
            start.checked_add(n).ok_or_else(|| errno!(EOVERFLOW))?,
        ),
        n => (start.checked_add(n).ok_or_else(|| errno!(EINVAL))?, start),
    };
    if start < 0 {
        bail!(EINVAL, "lock starts before the file");
    }
    let (start, end) = (
        start.cast_unsigned(),
        if end == i64::MAX {
            u64::MAX
        } else {
            end.cast_unsigned()
        },
    );
    let owner = if ofd {
        Owner::Description(o.id)
    } else {
        Owner::Process(t.tgid)
    };
    let want = Lock {
        owner,
        family: Family::Record,
        write: kind == libc::F_WRLCK,
        start,
        end,
    };
    if matches!(cmd, F_GETLK | F_OFD_GETLK) {
        if kind == libc::F_UNLCK {
            bail!(EINVAL, "F_GETLK with F_UNLCK");
        }
        let found = o.inode.locks.borrow().conflict(&want);
        match found {
            Some(l) => {
                fl[0..2].copy_from_slice(
                    &(if l.write {
                        libc::F_WRLCK
                    } else {
                        libc::F_RDLCK
                    } as i16)
                        .to_ne_bytes(),
                );
                fl[2..4].copy_from_slice(&(libc::SEEK_SET as i16).to_ne_bytes());
                fl[8..16].copy_from_slice(&(l.start as i64).to_ne_bytes());
                let len = if l.end == u64::MAX {
                    0
                } else {
                    (l.end - l.start) as i64
                };
                fl[16..24].copy_from_slice(&len.to_ne_bytes());
                let pid = match l.owner {
                    Owner::Process(p) => p,
                    Owner::Description(_) => -1,
                };
                fl[24..28].copy_from_slice(&pid.to_ne_bytes());
            }
            None => fl[0..2].copy_from_slice(&(libc::F_UNLCK as i16).to_ne_bytes()),
        }
        t.mm.write_obj(at, &fl)?;
        return Ok(0);
    }
    match kind {
        libc::F_RDLCK if !o.readable() => bail!(EBADF),
        libc::F_WRLCK if !o.writable() => bail!(EBADF),
        _ => {}
    }
    let r = o.inode.locks.borrow_mut().set(want, kind == libc::F_UNLCK);
    match r {
        Ok(()) => Ok(0),
        Err(_) if matches!(cmd, F_SETLKW | F_OFD_SETLKW) => wait_forever(t, "F_SETLKW"),
        Err(e) => Err(e),
    }
}

pub fn fchdir(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = file(t, fd_arg(a[0]))?;
    let inode = f.inode().ok_or_else(|| errno!(ENOTDIR))?;
    if !inode.is_dir() {
        bail!(ENOTDIR);
    }
    crate::vfs::permission(&inode, crate::vfs::MAY_EXEC, &t.cred())?;
    t.fs.cwd = inode;
    Ok(0)
}

pub fn umask(t: &mut Task, a: [u64; 6]) -> SysResult {
    let old = t.umask;
    t.umask = (a[0] as u32) & 0o777;
    Ok(u64::from(old))
}

pub fn close_range(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (first, last, flags) = (a[0] as u32, a[1] as u32, a[2] as u32);
    const CLOSE_RANGE_UNSHARE: u32 = 2;
    const CLOSE_RANGE_CLOEXEC: u32 = 4;
    if flags & !(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC) != 0 || first > last {
        bail!(EINVAL);
    }
    for fd in t.fds.open_fds() {
        let u = fd.cast_unsigned();
        if u >= first && u <= last {
            if flags & CLOSE_RANGE_CLOEXEC != 0 {
                t.fds.set_cloexec(fd, true);
            } else {
                t.fds.remove(fd);
            }
        }
    }
    Ok(0)
}
