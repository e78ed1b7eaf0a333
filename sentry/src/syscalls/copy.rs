//! sendfile and copy_file_range: in-kernel copies between files, through a bounce range of the
//! memory file (1 MiB at a time) and the same read and write paths read(2) and write(2) use.

use super::fd_arg;
use super::fs::{file, file_io};
use crate::errors::{Errno, SysResult};
use crate::kernel::fd::File;
use crate::kernel::Task;
use crate::mm::{Access, SharedObject, UserAddr};
use crate::vfs::Kind;
use crate::{bail, errno};
use abi::MAX_RW_COUNT;

const BOUNCE: u64 = 1 << 20;

/// A file open for reading that sendfile and copy_file_range may read from.
fn check_in(f: &File, regular_only: bool) -> Result<(), Errno> {
    match f {
        File::Vfs(o) => {
            if !o.readable() {
                bail!(EBADF, "input not open for reading");
            }
            match &o.inode.kind {
                Kind::Regular(_) => Ok(()),
                Kind::Dir(_) if regular_only => Err(errno!(EISDIR)),
                Kind::Proc(_) | Kind::Device(_) if !regular_only => Ok(()),
                _ => Err(errno!(EINVAL, "input cannot be read this way")),
            }
        }
        // An inherited pipe or terminal, or a pipe: sendfile needs a file it can map.
        File::Host(_) | File::Pipe(_) | File::Anon(_) => Err(errno!(EINVAL, "input is not a file")),
    }
}

fn check_out(f: &File, regular_only: bool) -> Result<(), Errno> {
    match f {
        File::Vfs(o) => {
            if !o.writable() {
                bail!(EBADF, "output not open for writing");
            }
            if o.flags.get() & libc::O_APPEND as u32 != 0 {
                // sendfile: EINVAL; copy_file_range: EBADF.
                return Err(Errno::new(if regular_only {
                    libc::EBADF
                } else {
                    libc::EINVAL
                }));
            }
            if regular_only && !matches!(o.inode.kind, Kind::Regular(_)) {
                return Err(Errno::new(if o.inode.is_dir() {
                    libc::EISDIR
                } else {
                    libc::EINVAL
                }));
            }
            Ok(())
        }
        File::Host(_) | File::Pipe(_) | File::Anon(_) if regular_only => Err(errno!(EINVAL)),
        // sendfile to a stream socket; not to an eventfd, epoll or the like.
        File::Anon(_) if super::socket::is_stream_socket(f) => Ok(()),
        File::Anon(_) => Err(errno!(EINVAL, "output cannot be written this way")),
        File::Pipe(p) => {
            if !p.write {
                bail!(EBADF, "output not open for writing");
            }
            Ok(())
        }
        File::Host(_) => {
            if f.status_flags() & libc::O_ACCMODE as u32 == libc::O_RDONLY as u32 {
                bail!(EBADF, "output not open for writing");
            }
            Ok(())
        }
    }
}

/// Reads an optional `loff_t *` argument.
fn offset_arg(t: &Task, addr: u64) -> Result<Option<u64>, Errno> {
    if addr == 0 {
        return Ok(None);
    }
    let v: i64 = t.mm.read_obj(UserAddr(addr))?;
    if v < 0 {
        bail!(EINVAL, "negative offset");
    }
    Ok(Some(v.cast_unsigned()))
}

/// Copies up to `count` bytes from `input` (at `in_off`, or its position) to `output` (at
/// `out_off`, or its position); returns the bytes copied and the offsets reached.
fn copy(
    t: &mut Task,
    input: &File,
    mut in_off: Option<u64>,
    output: &File,
    mut out_off: Option<u64>,
    count: usize,
) -> Result<(usize, Option<u64>, Option<u64>), Errno> {
    let bounce = SharedObject::new(&t.mm.memory_arc(), BOUNCE)?;
    let mut done = 0usize;
    while done < count {
        let k = (count - done).min(BOUNCE as usize);
        let n = match file_io(t, input, &[(bounce.file_off(), k)], Access::Write, in_off) {
            Ok(n) => n,
            Err(e) if done == 0 => return Err(e),
            Err(_) => break,
        };
        if n == 0 {
            break;
        }
        let written = if super::socket::is_stream_socket(output) {
            // A socket takes bytes, not memory-file ranges.
            let mut data = vec![0u8; n];
            t.mm.memory().file.read(bounce.file_off(), &mut data);
            super::socket::send_bytes(t, output, &data).map(|w| w as usize)
        } else {
            file_io(t, output, &[(bounce.file_off(), n)], Access::Read, out_off)
        };
        let w = match written {
            Ok(w) => w,
            Err(e) if done == 0 => {
                // Nothing written (a full socket waits, then tries again): the input's position
                // goes back to where it was.
                if in_off.is_none() {
                    if let File::Vfs(o) = input {
                        o.pos.set(o.pos.get() - n as u64);
                    }
                }
                return Err(e);
            }
            Err(_) => 0,
        };
        done += w;
        in_off = in_off.map(|o| o + w as u64);
        out_off = out_off.map(|o| o + w as u64);
        if w < n {
            // Give back what was read but not written (the input's position).
            if in_off.is_none() {
                if let File::Vfs(o) = input {
                    o.pos.set(o.pos.get() - (n - w) as u64);
                }
            }
            break;
        }
        if n < k {
            break;
        }
    }
    Ok((done, in_off, out_off))
}

pub fn sendfile(t: &mut Task, a: [u64; 6]) -> SysResult {
    let output = file(t, fd_arg(a[0]))?;
    let input = file(t, fd_arg(a[1]))?;
    check_in(&input, false)?;
    check_out(&output, false)?;
    let off = offset_arg(t, a[2])?;
    let count = usize::try_from(a[3])
        .unwrap_or(usize::MAX)
        .min(MAX_RW_COUNT);
    let (n, in_off, _) = copy(t, &input, off, &output, None, count)?;
    if let Some(o) = in_off {
        t.mm.write_obj(UserAddr(a[2]), &o)?;
    }
    Ok(n as u64)
}

pub fn copy_file_range(t: &mut Task, a: [u64; 6]) -> SysResult {
    if a[5] as u32 != 0 {
        bail!(EINVAL, "flags");
    }
    let input = file(t, fd_arg(a[0]))?;
    let output = file(t, fd_arg(a[2]))?;
    check_in(&input, true)?;
    check_out(&output, true)?;
    let in_off = offset_arg(t, a[1])?;
    let out_off = offset_arg(t, a[3])?;
    let count = usize::try_from(a[4])
        .unwrap_or(usize::MAX)
        .min(MAX_RW_COUNT);
    // The same file with overlapping ranges is EINVAL.
    if let (Some(i), Some(o)) = (input.inode(), output.inode()) {
        if std::rc::Rc::ptr_eq(&i, &o) {
            let ip = in_off.unwrap_or_else(|| input.position());
            let op = out_off.unwrap_or_else(|| output.position());
            let c = count as u64;
            if ip < op.saturating_add(c) && op < ip.saturating_add(c) {
                bail!(EINVAL, "overlapping ranges of one file");
            }
        }
    }
    let (n, in_end, out_end) = copy(t, &input, in_off, &output, out_off, count)?;
    if let Some(o) = in_end {
        t.mm.write_obj(UserAddr(a[1]), &o)?;
    }
    if let Some(o) = out_end {
        t.mm.write_obj(UserAddr(a[3]), &o)?;
    }
    Ok(n as u64)
}

// ---- splice, tee, vmsplice -------------------------------------------------------------------

const SPLICE_F_NONBLOCK: u64 = 2;
const SPLICE_FLAGS: u64 = 0xf;

/// SIGPIPE for a write into a pipe nobody reads (EPIPE follows).
fn sigpipe(t: &mut Task) {
    super::socket::raise_sigpipe(t);
}

fn block() -> SysResult {
    Err(Errno::new(crate::errors::EBLOCK))
}

/// A pipe end that can be read / written.
fn pipe_reads(p: &crate::vfs::pipe::PipeEnd) -> bool {
    !p.write || p.both
}

fn pipe_writes(p: &crate::vfs::pipe::PipeEnd) -> bool {
    p.write || p.both
}

/// A non-pipe end splice can use: a file of the sandbox, or an inherited regular file.
fn splice_file_ok(f: &File, write: bool) -> Result<(), Errno> {
    match f {
        File::Vfs(o) => {
            let ok = if write { o.writable() } else { o.readable() };
            if !ok {
                bail!(EBADF, "not open for that");
            }
            if o.inode.is_dir() {
                // A directory has no splice_read.
                bail!(EINVAL, "splice with a directory");
            }
            if write && o.flags.get() & libc::O_APPEND as u32 != 0 {
                bail!(EINVAL, "splice to an O_APPEND file");
            }
            Ok(())
        }
        File::Host(h) => {
            let regular = crate::host::fstat(std::os::fd::AsFd::as_fd(h))
                .is_ok_and(|st| st.mode & libc::S_IFMT == libc::S_IFREG);
            if !regular {
                bail!(EINVAL, "splice with an inherited pipe or terminal");
            }
            Ok(())
        }
        // A socket or another anonymous file.
        _ => Err(errno!(EINVAL, "splice with a socket or an anonymous file")),
    }
}

pub fn splice(t: &mut Task, a: [u64; 6]) -> SysResult {
    let flags = a[5] & 0xffff_ffff;
    if flags & !SPLICE_FLAGS != 0 {
        bail!(EINVAL, "splice flags {flags:#x}");
    }
    let input = file(t, fd_arg(a[0]))?;
    let output = file(t, fd_arg(a[2]))?;
    let len = usize::try_from(a[4])
        .unwrap_or(usize::MAX)
        .min(MAX_RW_COUNT);
    let nonblock = |f: &File| {
        flags & SPLICE_F_NONBLOCK != 0 || f.status_flags() & libc::O_NONBLOCK as u32 != 0
    };
    match (&*input, &*output) {
        (File::Pipe(ip), File::Pipe(op)) => {
            if !pipe_reads(ip) || !pipe_writes(op) {
                bail!(EBADF);
            }
            if a[1] != 0 || a[3] != 0 {
                bail!(ESPIPE);
            }
            if std::rc::Rc::ptr_eq(&ip.pipe, &op.pipe) {
                bail!(EINVAL, "splice from a pipe to itself");
            }
            if len == 0 {
                return Ok(0);
            }
            let nb = nonblock(&input) || nonblock(&output);
            pipe_to_pipe(t, ip, op, len, nb, true)
        }
        (_, File::Pipe(op)) => {
            if !pipe_writes(op) {
                bail!(EBADF);
            }
            splice_file_ok(&input, false)?;
            if a[3] != 0 {
                bail!(ESPIPE);
            }
            let off = offset_arg(t, a[1])?;
            if len == 0 {
                return Ok(0);
            }
            if op.pipe.readers.get() == 0 {
                sigpipe(t);
                bail!(EPIPE);
            }
            let space = op.pipe.capacity.get().saturating_sub(op.available());
            if space == 0 {
                return if nonblock(&output) {
                    Err(errno!(EAGAIN))
                } else {
                    block()
                };
            }
            let (n, in_end, _) = copy(t, &input, off, &output, None, len.min(space))?;
            if let Some(o) = in_end {
                t.mm.write_obj(UserAddr(a[1]), &o)?;
            }
            Ok(n as u64)
        }
        (File::Pipe(ip), _) => {
            if !pipe_reads(ip) {
                bail!(EBADF);
            }
            splice_file_ok(&output, true)?;
            if a[1] != 0 {
                bail!(ESPIPE);
            }
            let off = offset_arg(t, a[3])?;
            if len == 0 {
                return Ok(0);
            }
            if ip.available() == 0 {
                if ip.pipe.writers.get() == 0 {
                    return Ok(0);
                }
                return if nonblock(&input) {
                    Err(errno!(EAGAIN))
                } else {
                    block()
                };
            }
            let (n, _, out_end) = copy(t, &input, None, &output, off, len.min(ip.available()))?;
            if let Some(o) = out_end {
                t.mm.write_obj(UserAddr(a[3]), &o)?;
            }
            Ok(n as u64)
        }
        _ => Err(errno!(EINVAL, "splice needs a pipe on one side")),
    }
}

pub fn tee(t: &mut Task, a: [u64; 6]) -> SysResult {
    let flags = a[3] & 0xffff_ffff;
    if flags & !SPLICE_FLAGS != 0 {
        bail!(EINVAL, "tee flags {flags:#x}");
    }
    let input = file(t, fd_arg(a[0]))?;
    let output = file(t, fd_arg(a[1]))?;
    let (File::Pipe(ip), File::Pipe(op)) = (&*input, &*output) else {
        bail!(EINVAL, "tee needs two pipes");
    };
    if !pipe_reads(ip) || !pipe_writes(op) {
        bail!(EBADF);
    }
    if std::rc::Rc::ptr_eq(&ip.pipe, &op.pipe) {
        bail!(EINVAL, "tee from a pipe to itself");
    }
    let len = usize::try_from(a[2])
        .unwrap_or(usize::MAX)
        .min(MAX_RW_COUNT);
    if len == 0 {
        return Ok(0);
    }
    pipe_to_pipe(t, ip, op, len, flags & SPLICE_F_NONBLOCK != 0, false)
}

/// Up to `len` bytes from pipe `ip` into pipe `op`: taken from `ip` (splice) or left there
/// (tee, `take` false). Nothing to read: end of file without writers, else EAGAIN or a wait;
/// no reader on `op`: SIGPIPE and EPIPE; `op` full: EAGAIN or a wait.
fn pipe_to_pipe(
    t: &mut Task,
    ip: &crate::vfs::pipe::PipeEnd,
    op: &crate::vfs::pipe::PipeEnd,
    len: usize,
    nonblock: bool,
    take: bool,
) -> SysResult {
    if ip.available() == 0 {
        if ip.pipe.writers.get() == 0 {
            return Ok(0);
        }
        return if nonblock {
            Err(errno!(EAGAIN))
        } else {
            block()
        };
    }
    if op.pipe.readers.get() == 0 {
        sigpipe(t);
        bail!(EPIPE);
    }
    let space = op.pipe.capacity.get().saturating_sub(op.available());
    if space == 0 {
        return if nonblock {
            Err(errno!(EAGAIN))
        } else {
            block()
        };
    }
    let n = len.min(ip.available()).min(space);
    let data = ip.pipe.buf.borrow().front(n);
    if take {
        ip.pipe.buf.borrow_mut().drain_front(n);
        ip.pipe.consumed(n);
        ip.pipe.generation.set(ip.pipe.generation.get() + 1);
    }
    op.pipe.buf.borrow_mut().extend_from_slice(&data);
    op.pipe.write_pos.set(op.pipe.write_pos.get() + n as u64);
    op.pipe.generation.set(op.pipe.generation.get() + 1);
    Ok(n as u64)
}

/// vmsplice: user memory into a pipe's write end (as writev), or a read end's bytes into user
/// memory (as readv). The pages are copied, never given (SPLICE_F_GIFT is a hint).
pub fn vmsplice(t: &mut Task, a: [u64; 6]) -> SysResult {
    let flags = a[3] & 0xffff_ffff;
    if flags & !SPLICE_FLAGS != 0 {
        bail!(EINVAL, "vmsplice flags {flags:#x}");
    }
    let f = file(t, fd_arg(a[0]))?;
    let File::Pipe(p) = &*f else {
        bail!(EBADF, "vmsplice needs a pipe");
    };
    let iov = super::fs::iovecs(t, a[1], a[2])?;
    let nb = flags & SPLICE_F_NONBLOCK != 0 || p.nonblocking();
    // A writable end is written to (as Linux checks FMODE_WRITE first).
    let access = if pipe_writes(p) {
        Access::Read
    } else {
        Access::Write
    };
    super::fs::pipe_io_opts(t, p, &iov, access, nb, false)
}
