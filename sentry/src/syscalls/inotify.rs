//! inotify_init1, inotify_add_watch, inotify_rm_watch and the inotify file (read, poll,
//! FIONREAD). Watches and events are [`crate::vfs::notify`].

use super::eventfd::{anon_ino, anon_stat, install};
use super::{fd_arg, int_arg};
use crate::errors::{Errno, SysResult, EBLOCK};
use crate::kernel::fd::{Anon, File};
use crate::kernel::Task;
use crate::mm::UserAddr;
use crate::vfs::notify::{self, Group};
use crate::{bail, errno};
use std::cell::Cell;
use std::rc::Rc;

const IN_CLOEXEC: u64 = libc::O_CLOEXEC as u64;
const IN_NONBLOCK: u64 = libc::O_NONBLOCK as u64;

/// An inotify instance's file.
#[derive(Debug)]
pub struct Inotify {
    group: Rc<Group>,
    flags: Cell<u32>,
    ino: u64,
}

impl Anon for Inotify {
    fn name(&self) -> Vec<u8> {
        b"anon_inode:inotify".to_vec()
    }

    fn stat(&self, uid: u32, gid: u32) -> abi::Stat {
        anon_stat(self.ino, uid, gid)
    }

    fn flags(&self) -> &Cell<u32> {
        &self.flags
    }

    fn poll(&self, _t: &Task) -> i16 {
        if self.group.is_empty() {
            0
        } else {
            libc::POLLIN | libc::POLLRDNORM
        }
    }

    /// Whole events, as many as fit; EINVAL if not even the first does.
    fn read(&self, t: &mut Task, iov: &[(u64, usize)]) -> SysResult {
        let Some(&(addr, len)) = iov.iter().find(|r| r.1 > 0) else {
            bail!(EINVAL, "no room for an event");
        };
        if self.group.is_empty() {
            if self.nonblocking() {
                bail!(EAGAIN);
            }
            return Err(Errno::new(EBLOCK));
        }
        // Checked before anything is taken: a bad buffer loses no event.
        if !t.mm.is_writable(addr, len.min(4096) as u64) {
            bail!(EFAULT);
        }
        let Some(data) = self.group.take(len) else {
            bail!(EINVAL, "the buffer is smaller than the next event");
        };
        t.mm.copy_out(UserAddr(addr), &data)?;
        Ok(data.len() as u64)
    }

    fn write(&self, _t: &mut Task, _iov: &[(u64, usize)]) -> SysResult {
        bail!(EINVAL, "an inotify file is not written")
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn generation(&self) -> u64 {
        self.group.generation.get()
    }

    fn readable_bytes(&self) -> Option<usize> {
        Some(self.group.queued_bytes())
    }
}

pub fn inotify_init1(t: &mut Task, a: [u64; 6]) -> SysResult {
    let flags = a[0] & 0xffff_ffff;
    if flags & !(IN_CLOEXEC | IN_NONBLOCK) != 0 {
        bail!(EINVAL, "inotify_init1 flags {flags:#x}");
    }
    let f = Inotify {
        group: Rc::default(),
        flags: Cell::new(libc::O_RDONLY as u32 | (flags & IN_NONBLOCK) as u32),
        ino: anon_ino(),
    };
    install(t, Box::new(f), flags & IN_CLOEXEC != 0)
}

pub fn inotify_init(t: &mut Task, _a: [u64; 6]) -> SysResult {
    inotify_init1(t, [0; 6])
}

/// The inotify instance behind `fd`: EBADF if none, EINVAL for another kind of file.
fn group_of(t: &Task, fd: i32) -> Result<Rc<Group>, Errno> {
    let f = t.fds.get(fd).ok_or_else(|| errno!(EBADF))?;
    match &*f {
        File::Anon(a) => a
            .as_any()
            .downcast_ref::<Inotify>()
            .map(|i| i.group.clone())
            .ok_or_else(|| errno!(EINVAL, "not an inotify file")),
        _ => Err(errno!(EINVAL, "not an inotify file")),
    }
}

pub fn inotify_add_watch(t: &mut Task, a: [u64; 6]) -> SysResult {
    let mask = a[2] as u32;
    let group = group_of(t, fd_arg(a[0]))?;
    if mask & (notify::IN_ALL_EVENTS) == 0 {
        bail!(EINVAL, "no event in the mask");
    }
    if mask & !(notify::IN_ALL_EVENTS | notify::IN_WATCH_FLAGS) != 0 {
        bail!(EINVAL, "unknown mask bits {mask:#x}");
    }
    if mask & notify::IN_MASK_ADD != 0 && mask & notify::IN_MASK_CREATE != 0 {
        bail!(EINVAL, "IN_MASK_ADD with IN_MASK_CREATE");
    }
    let path = super::path::path_arg_pub(t, a[1])?;
    let follow = mask & notify::IN_DONT_FOLLOW == 0;
    let inode = super::path::lookup_pub(t, &path, follow)?;
    if mask & notify::IN_ONLYDIR != 0 && !inode.is_dir() {
        bail!(ENOTDIR);
    }
    crate::vfs::permission(&inode, crate::vfs::MAY_READ, &t.cred())?;
    group
        .add_watch(&inode, mask)
        .map(|wd| wd as u64)
        .map_err(Errno::new)
}

pub fn inotify_rm_watch(t: &mut Task, a: [u64; 6]) -> SysResult {
    let group = group_of(t, fd_arg(a[0]))?;
    if !group.rm_watch(int_arg(a[1])) {
        bail!(EINVAL, "no such watch");
    }
    Ok(0)
}
