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
