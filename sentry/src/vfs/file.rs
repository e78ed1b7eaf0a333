//! Open file descriptions of VFS files: the offset and status flags dup'd fds share, and I/O
//! between a file and ranges of the memory file (guest buffers, already checked and translated).

use super::{dev, Data, Inode, Kind};
use crate::errno;
use crate::errors::{from_host, Errno};
use crate::mm::memfile::MemoryFile;
use std::cell::{Cell, RefCell};
use std::os::fd::AsFd;
use std::rc::Rc;

/// The largest file the sandbox's memory holds (as s_maxbytes).
pub const MAX_FILE_SIZE: u64 = 1 << 40;

/// Host preadv/pwritev take at most this many segments.
const HOST_IOV_MAX: usize = 1024;

/// An open file description of a VFS file.
#[derive(Debug)]
pub struct OpenFile {
    pub inode: Rc<Inode>,
    /// Where it was opened (for the path /proc/PID/fd shows).
    pub origin: super::Origin,
    /// Access mode and status flags (`O_*`).
    pub flags: Cell<u32>,
    pub pos: Cell<u64>,
    /// The lower file, opened read-only through the Gofer.
    pub host: Option<Rc<super::CachedFd>>,
    /// A procfs file's contents, made at open.
    pub contents: Option<Vec<u8>>,
    /// A directory's entries, read at open or when rewound.
    pub dirents: RefCell<Option<Vec<super::DirEntry>>>,
    /// Identifies the description as the owner of flock and OFD locks.
    pub id: u64,
}

static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

impl Drop for OpenFile {
    fn drop(&mut self) {
        // The description's last reference is gone: its flock and OFD locks go with it.
        self.inode
            .locks
            .borrow_mut()
            .release(super::locks::Owner::Description(self.id), None);
        if !self.is_path() {
            let ev = if self.writable() {
                super::notify::IN_CLOSE_WRITE
            } else {
                super::notify::IN_CLOSE_NOWRITE
            };
            let dir = self.origin.dir.as_ref().map(|d| (d, &self.origin.name[..]));
            super::notify::event(&self.inode, dir, ev);
        }
    }
}

pub const O_PATH: u32 = 0o10000000;

impl OpenFile {
    pub fn new(inode: Rc<Inode>, origin: super::Origin, flags: u32) -> OpenFile {
        OpenFile {
            inode,
            origin,
            flags: Cell::new(flags),
            pos: Cell::new(0),
            host: None,
            contents: None,
            dirents: RefCell::new(None),
            id: NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        }
    }

    pub fn readable(&self) -> bool {
        let f = self.flags.get();
        // Access mode 3 opens for neither (ioctl-only).
        f & O_PATH == 0 && (f & 3 == libc::O_RDONLY as u32 || f & 3 == libc::O_RDWR as u32)
    }

    pub fn writable(&self) -> bool {
        let f = self.flags.get();
        f & O_PATH == 0 && (f & 3 == libc::O_WRONLY as u32 || f & 3 == libc::O_RDWR as u32)
    }

    pub fn is_path(&self) -> bool {
        self.flags.get() & O_PATH != 0
    }

    /// Reads into the memory-file ranges `dst` from `at` (or the file position, which then
    /// advances). Returns the bytes read.
    pub fn read(
        &self,
        mem: &MemoryFile,
        dst: &[(u64, usize)],
        at: Option<u64>,
    ) -> Result<usize, Errno> {
        if !self.readable() {
            return Err(errno!(EBADF, "not open for reading"));
        }
        let pos = at.unwrap_or(self.pos.get());
        let n = match &self.inode.kind {
            Kind::Dir(_) => return Err(errno!(EISDIR)),
            Kind::Regular(data) => match &*data.borrow() {
                Data::Memory(p) => p.read(dst, pos),
                Data::Lower => {
                    let fd = self.host.as_ref().ok_or_else(|| errno!(EBADF))?;
                    read_host(mem, fd, dst, pos)?
                }
            },
            Kind::Device(d) => {
                let want: usize = dst.iter().map(|r| r.1).sum();
                let mut buf = vec![0u8; want.min(1 << 20)];
                let n = dev::read(*d, &mut buf);
                copy_to(mem, dst, &buf[..n])
            }
            Kind::Proc(_) => {
                let c = self.contents.as_deref().unwrap_or(&[]);
                copy_to(
                    mem,
                    dst,
                    c.get(usize::try_from(pos).unwrap_or(usize::MAX)..)
                        .unwrap_or(&[]),
                )
            }
            Kind::Symlink(_) | Kind::Special => return Err(errno!(EINVAL)),
        };
        if at.is_none() && !matches!(self.inode.kind, Kind::Device(_)) {
            self.pos.set(pos + n as u64);
        }
        Ok(n)
    }

    /// Writes the memory-file ranges `src` at `at` (or the file position, or the end with
    /// O_APPEND). Returns the bytes written.
    pub fn write(
        &self,
        mem: &MemoryFile,
        src: &[(u64, usize)],
        at: Option<u64>,
    ) -> Result<usize, Errno> {
        if !self.writable() {
            return Err(errno!(EBADF, "not open for writing"));
        }
        let len: usize = src.iter().map(|r| r.1).sum();
        match &self.inode.kind {
            Kind::Dir(_) => Err(errno!(EISDIR)),
            Kind::Regular(data) => {
                let mut data = data.borrow_mut();
                let Data::Memory(p) = &mut *data else {
                    // A volume file: written on the host.
                    let fd = self
                        .host
                        .as_ref()
                        .ok_or_else(|| errno!(EBADF, "lower file not copied up"))?;
                    drop(data);
                    return self.write_host(mem, fd, src, at);
                };
                let append = self.flags.get() & libc::O_APPEND as u32 != 0;
                // pwrite on an O_APPEND file appends too (Linux's documented bug).
                let pos = if append {
                    p.len()
                } else {
                    at.unwrap_or(self.pos.get())
                };
                let end = pos.checked_add(len as u64).ok_or_else(|| errno!(EFBIG))?;
                if end > MAX_FILE_SIZE {
                    return Err(errno!(EFBIG));
                }
                if len == 0 {
                    return Ok(0);
                }
                p.write(src, pos, &self.inode.fs)?;
                drop(data);
                self.inode.touch_modified();
                if at.is_none() {
                    self.pos.set(end);
                }
                Ok(len)
            }
            Kind::Device(dev) => match dev {
                super::Device::Full => Err(errno!(ENOSPC)),
                _ => Ok(len),
            },
            Kind::Proc(_) => Err(errno!(EACCES, "procfs file not writable")),
            Kind::Symlink(_) | Kind::Special => Err(errno!(EINVAL)),
        }
    }

    /// Writes to a volume file's host fd: at `at`, at the position, or appended (the host fd
    /// was opened O_APPEND, and the position follows the end).
    fn write_host(
        &self,
        mem: &MemoryFile,
        fd: &super::CachedFd,
        src: &[(u64, usize)],
        at: Option<u64>,
    ) -> Result<usize, Errno> {
        let append = self.flags.get() & libc::O_APPEND as u32 != 0;
        let mut done = 0usize;
        for chunk in src.chunks(HOST_IOV_MAX) {
            let want: usize = chunk.iter().map(|r| r.1).sum();
            let r = if append {
                mem.write_to_host(fd.as_fd(), chunk)
            } else {
                mem.write_to_host_at(
                    fd.as_fd(),
                    chunk,
                    at.unwrap_or(self.pos.get()) + done as u64,
                )
            };
            match r.map_err(from_host) {
                Ok(n) => {
                    done += n;
                    if n < want {
                        break;
                    }
                }
                Err(e) if done == 0 => return Err(e),
                Err(_) => break,
            }
        }
        if append {
            let end = crate::host::lseek(fd.as_fd(), 0, libc::SEEK_CUR).map_err(from_host)?;
            if at.is_none() {
                self.pos.set(end.cast_unsigned());
            }
        } else if at.is_none() {
            self.pos.set(self.pos.get() + done as u64);
        }
        self.inode.refresh()?;
        Ok(done)
    }

    /// lseek.
    pub fn seek(&self, off: i64, whence: i32) -> Result<u64, Errno> {
        let ino = &self.inode;
        let size = ino.size();
        let base: i64 = match (&ino.kind, whence) {
            (Kind::Device(_), _) => return Ok(0),
            (_, libc::SEEK_SET) => 0,
            (_, libc::SEEK_CUR) => i64::try_from(self.pos.get()).unwrap_or(i64::MAX),
            (Kind::Regular(_), libc::SEEK_END) => i64::try_from(size).unwrap_or(i64::MAX),
            (Kind::Regular(data), libc::SEEK_DATA | libc::SEEK_HOLE) => {
                let off = u64::try_from(off).map_err(|_| errno!(ENXIO))?;
                if off >= size {
                    return Err(errno!(ENXIO));
                }
                let hole = whence == libc::SEEK_HOLE;
                let r = match &*data.borrow() {
                    super::Data::Memory(p) => p.seek_data_hole(off, hole),
                    // Lower and volume files: the whole file is data (the host's holes are not
                    // asked for).
                    super::Data::Lower => {
                        if hole {
                            size
                        } else {
                            off
                        }
                    }
                };
                if !hole && r >= size {
                    return Err(errno!(ENXIO));
                }
                self.pos.set(r);
                return Ok(r);
            }
            (Kind::Proc(_), libc::SEEK_END) => return Err(errno!(EINVAL)),
            (Kind::Dir(_), libc::SEEK_END) => return Err(errno!(EINVAL)),
            _ => return Err(errno!(EINVAL)),
        };
        // Past the largest offset (or overflowing it) is EINVAL, as generic_file_llseek.
        let new = base.checked_add(off).ok_or_else(|| errno!(EINVAL))?;
        if new < 0 {
            return Err(errno!(EINVAL));
        }
        if matches!(ino.kind, Kind::Dir(_)) && new == 0 {
            *self.dirents.borrow_mut() = None;
        }
        self.pos.set(new as u64);
        Ok(new as u64)
    }
}

/// Copies `src` into the ranges; returns the bytes copied.
fn copy_to(mem: &MemoryFile, dst: &[(u64, usize)], src: &[u8]) -> usize {
    let mut done = 0;
    for &(off, n) in dst {
        let k = n.min(src.len() - done);
        if k == 0 {
            break;
        }
        mem.write(off, &src[done..done + k]);
        done += k;
    }
    done
}

/// preadv from a host fd into the ranges, in chunks the host takes.
fn read_host(
    mem: &MemoryFile,
    fd: &super::CachedFd,
    dst: &[(u64, usize)],
    pos: u64,
) -> Result<usize, Errno> {
    let mut done = 0usize;
    for chunk in dst.chunks(HOST_IOV_MAX) {
        let want: usize = chunk.iter().map(|r| r.1).sum();
        let n = mem
            .read_from_host_at(fd.as_fd(), chunk, pos + done as u64)
            .map_err(from_host);
        match n {
            Ok(n) => {
                done += n;
                if n < want {
                    break;
                }
            }
            Err(e) if done == 0 => return Err(e),
            Err(_) => break,
        }
    }
    Ok(done)
}
