//! File descriptors: a per-process table of open file descriptions with close-on-exec flags.
//! Descriptions are shared (`Rc`) between fds made by dup, so they share offsets and status flags.
//!
//! Two kinds of file so far: host fds inherited for stdio (the caller's stdin, stdout and stderr,
//! read and written directly), and files of the VFS.

use crate::vfs::{Inode, OpenFile};
use std::cell::RefCell;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::rc::Rc;

/// A host fd the Sentry holds for the guest, with the name the host gives it (read at setup).
#[derive(Debug)]
pub struct HostFile {
    pub fd: OwnedFd,
    pub name: Vec<u8>,
}

impl AsFd for HostFile {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// An open file description.
#[derive(Debug)]
pub enum File {
    /// A host fd the Sentry holds for the guest (the inherited stdio).
    Host(HostFile),
    /// A file of the sandbox's filesystem.
    Vfs(OpenFile),
    /// One end of a pipe.
    Pipe(crate::vfs::pipe::PipeEnd),
    /// A file with no inode in any filesystem: eventfd, epoll, sockets.
    Anon(Box<dyn Anon>),
}

/// A file that lives only as an open file description (Linux's anonymous inodes and sockets).
pub trait Anon: std::fmt::Debug {
    /// What /proc/PID/fd/N shows ("anon_inode:[eventfd]", "socket:[N]").
    fn name(&self) -> Vec<u8>;
    /// fstat's answer.
    fn stat(&self, uid: u32, gid: u32) -> abi::Stat;
    /// The access mode and status flags (F_GETFL; O_NONBLOCK is settable).
    fn flags(&self) -> &std::cell::Cell<u32>;
    /// poll's events for this file now.
    fn poll(&self, t: &super::Task) -> i16;
    /// read/readv into the guest ranges `iov`.
    fn read(&self, t: &mut super::Task, iov: &[(u64, usize)]) -> crate::errors::SysResult;
    /// write/writev from the guest ranges `iov`.
    fn write(&self, t: &mut super::Task, iov: &[(u64, usize)]) -> crate::errors::SysResult;
    /// For the syscalls that only apply to one kind (epoll_ctl, socket calls).
    fn as_any(&self) -> &dyn std::any::Any;
    /// A number that changes whenever something happens to the file (data arrives, is taken):
    /// epoll's EPOLLET reports a ready file again when it changed.
    fn generation(&self) -> u64 {
        0
    }

    /// FIONREAD, where it means something.
    fn readable_bytes(&self) -> Option<usize> {
        None
    }

    fn nonblocking(&self) -> bool {
        self.flags().get() & libc::O_NONBLOCK as u32 != 0
    }
}

impl File {
    /// The host fd behind this file, for files that are host fds.
    pub fn host_fd(&self) -> Option<BorrowedFd<'_>> {
        match self {
            File::Host(fd) => Some(fd.as_fd()),
            File::Vfs(_) | File::Pipe(_) | File::Anon(_) => None,
        }
    }

    /// The VFS inode, if this is a VFS file.
    pub fn inode(&self) -> Option<Rc<Inode>> {
        match self {
            File::Host(_) | File::Pipe(_) | File::Anon(_) => None,
            File::Vfs(f) => Some(f.inode.clone()),
        }
    }

    pub fn vfs(&self) -> Option<&OpenFile> {
        match self {
            File::Host(_) | File::Pipe(_) | File::Anon(_) => None,
            File::Vfs(f) => Some(f),
        }
    }

    /// What /proc/PID/fd/N shows (paths as seen from `root`).
    pub fn describe(&self, root: &Rc<Inode>) -> Vec<u8> {
        match self {
            // As the host names it: "pipe:[N]", "/dev/pts/N", a file's path.
            File::Host(h) => h.name.clone(),
            File::Vfs(f) => f.origin.path(&f.inode, root),
            File::Pipe(p) => match &p.fifo {
                Some((_, path)) => path.clone(),
                None => format!("pipe:[{}]", p.pipe.ino).into_bytes(),
            },
            File::Anon(a) => a.name(),
        }
    }

    /// The file position (fdinfo).
    pub fn position(&self) -> u64 {
        match self {
            File::Host(fd) => {
                crate::host::lseek(fd.as_fd(), 0, libc::SEEK_CUR).map_or(0, |p| p.cast_unsigned())
            }
            File::Vfs(f) => f.pos.get(),
            File::Pipe(_) | File::Anon(_) => 0,
        }
    }

    /// Access mode and status flags.
    pub fn status_flags(&self) -> u32 {
        match self {
            File::Host(fd) => {
                crate::host::fcntl(fd.as_fd(), libc::F_GETFL, 0).map_or(0, |f| f.cast_unsigned())
            }
            File::Vfs(f) => f.flags.get(),
            File::Pipe(p) => p.flags.get(),
            File::Anon(a) => a.flags().get(),
        }
    }
}

#[derive(Clone)]
struct Slot {
    file: Rc<File>,
    cloexec: bool,
}

/// A process's fd table. Threads (and CLONE_FILES children) share one; `clone` makes the copy
/// fork gives a child, which shares the open file descriptions but not the table.
#[derive(Default)]
pub struct FdTable {
    s: Rc<RefCell<Slots>>,
}

#[derive(Default, Clone)]
struct Slots {
    slots: Vec<Option<Slot>>,
}

impl Clone for FdTable {
    fn clone(&self) -> FdTable {
        FdTable {
            s: Rc::new(RefCell::new(self.s.borrow().clone())),
        }
    }
}

impl FdTable {
    /// The same table, shared (a new thread, CLONE_FILES).
    pub fn share(&self) -> FdTable {
        FdTable { s: self.s.clone() }
    }

    /// Whether another task shares this table.
    pub fn is_shared(&self) -> bool {
        Rc::strong_count(&self.s) > 1
    }

    /// The file at `fd`, if open.
    pub fn get(&self, fd: i32) -> Option<Rc<File>> {
        self.s.borrow().get(fd).cloned()
    }

    /// The close-on-exec flag of `fd`, if open.
    pub fn cloexec(&self, fd: i32) -> Option<bool> {
        self.s.borrow().cloexec(fd)
    }

    pub fn set_cloexec(&self, fd: i32, cloexec: bool) {
        self.s.borrow_mut().set_cloexec(fd, cloexec)
    }

    /// Installs `file` at the lowest free fd `>= min` below `limit`; None if there is none.
    pub fn install(&self, file: Rc<File>, cloexec: bool, min: usize, limit: usize) -> Option<i32> {
        self.s.borrow_mut().install(file, cloexec, min, limit)
    }

    /// Installs `file` at `fd`, closing what was there. Returns the replaced file.
    pub fn install_at(&self, i: usize, file: Rc<File>, cloexec: bool) -> Option<Rc<File>> {
        self.s.borrow_mut().install_at(i, file, cloexec)
    }

    /// The open fds, in order.
    pub fn open_fds(&self) -> Vec<i32> {
        self.s.borrow().open_fds()
    }

    /// The size of the table (one past the highest open fd).
    pub fn table_size(&self) -> usize {
        self.s.borrow().slots.len()
    }

    /// Closes every fd marked close-on-exec (the files are dropped outside the borrow).
    pub fn close_on_exec(&self) {
        let closed = self.s.borrow_mut().close_on_exec();
        drop(closed);
    }

    /// Removes `fd`; returns the file if it was open.
    pub fn remove(&self, fd: i32) -> Option<Rc<File>> {
        self.s.borrow_mut().remove(fd)
    }
}

impl Slots {
    /// The file at `fd`, if open.
    pub fn get(&self, fd: i32) -> Option<&Rc<File>> {
        let i = usize::try_from(fd).ok()?;
        self.slots.get(i)?.as_ref().map(|s| &s.file)
    }

    /// The close-on-exec flag of `fd`, if open.
    pub fn cloexec(&self, fd: i32) -> Option<bool> {
        let i = usize::try_from(fd).ok()?;
        self.slots.get(i)?.as_ref().map(|s| s.cloexec)
    }

    pub fn set_cloexec(&mut self, fd: i32, cloexec: bool) {
        if let Some(Some(slot)) = usize::try_from(fd).ok().and_then(|i| self.slots.get_mut(i)) {
            slot.cloexec = cloexec;
        }
    }

    /// Installs `file` at the lowest free fd `>= min` below `limit`; None if there is none.
    pub fn install(
        &mut self,
        file: Rc<File>,
        cloexec: bool,
        min: usize,
        limit: usize,
    ) -> Option<i32> {
        let i = (min..limit).find(|&i| self.slots.get(i).is_none_or(|s| s.is_none()))?;
        self.install_at(i, file, cloexec);
        i32::try_from(i).ok()
    }

    /// Installs `file` at `fd`, closing what was there. Returns the replaced file.
    pub fn install_at(&mut self, i: usize, file: Rc<File>, cloexec: bool) -> Option<Rc<File>> {
        if self.slots.len() <= i {
            self.slots.resize(i + 1, None);
        }
        self.slots[i]
            .replace(Slot { file, cloexec })
            .map(|s| s.file)
    }

    /// The open fds, in order.
    pub fn open_fds(&self) -> Vec<i32> {
        (0..self.slots.len())
            .filter(|&i| self.slots[i].is_some())
            .filter_map(|i| i32::try_from(i).ok())
            .collect()
    }

    /// Closes every fd marked close-on-exec; returns the files.
    fn close_on_exec(&mut self) -> Vec<Slot> {
        let mut closed = Vec::new();
        for s in &mut self.slots {
            if s.as_ref().is_some_and(|s| s.cloexec) {
                closed.extend(s.take());
            }
        }
        while self.slots.last().is_some_and(|s| s.is_none()) {
            self.slots.pop();
        }
        closed
    }

    /// Removes `fd`; returns the file if it was open.
    pub fn remove(&mut self, fd: i32) -> Option<Rc<File>> {
        let i = usize::try_from(fd).ok()?;
        let file = self.slots.get_mut(i)?.take().map(|s| s.file);
        while self.slots.last().is_some_and(|s| s.is_none()) {
            self.slots.pop();
        }
        file
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn null() -> Rc<File> {
        Rc::new(File::Host(HostFile {
            fd: std::fs::File::open("/dev/null").unwrap().into(),
            name: b"/dev/null".to_vec(),
        }))
    }

    #[test]
    fn lowest_free_and_limits() {
        let t = FdTable::default();
        assert_eq!(t.install(null(), false, 0, 10), Some(0));
        assert_eq!(t.install(null(), true, 0, 10), Some(1));
        assert_eq!(t.install(null(), false, 5, 10), Some(5));
        assert_eq!(t.cloexec(1), Some(true));
        assert!(t.remove(0).is_some());
        assert!(t.remove(0).is_none());
        assert_eq!(t.install(null(), false, 0, 10), Some(0));
        assert_eq!(t.install(null(), false, 9, 10), Some(9));
        assert_eq!(t.install(null(), false, 9, 10), None);
        assert!(t.get(-1).is_none());
    }
}
