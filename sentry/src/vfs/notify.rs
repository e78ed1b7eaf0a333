//! inotify: watches on inodes and the event queues (groups) that read them.
//!
//! A group holds its watched inodes; an inode holds (weakly) the groups watching it. The
//! filesystem syscalls report what they did through [`event`] and friends: an event goes to
//! the watches on the inode itself and, for the events Linux reports on children, to the
//! watches on its directory with the child's name. Nothing is done while no watch exists.
//!
//! Only changes made inside the sandbox are seen (a volume's host side changing is not).
//! IN_DELETE_SELF comes when the last link goes, even if the file is still open (Linux waits for
//! the last close).

use super::Inode;
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, VecDeque};
use std::rc::{Rc, Weak};
use std::sync::atomic::{AtomicUsize, Ordering};

pub const IN_ACCESS: u32 = 0x1;
pub const IN_MODIFY: u32 = 0x2;
pub const IN_ATTRIB: u32 = 0x4;
pub const IN_CLOSE_WRITE: u32 = 0x8;
pub const IN_CLOSE_NOWRITE: u32 = 0x10;
pub const IN_OPEN: u32 = 0x20;
pub const IN_MOVED_FROM: u32 = 0x40;
pub const IN_MOVED_TO: u32 = 0x80;
pub const IN_CREATE: u32 = 0x100;
pub const IN_DELETE: u32 = 0x200;
pub const IN_DELETE_SELF: u32 = 0x400;
pub const IN_MOVE_SELF: u32 = 0x800;
pub const IN_Q_OVERFLOW: u32 = 0x4000;
pub const IN_IGNORED: u32 = 0x8000;
pub const IN_ONLYDIR: u32 = 0x0100_0000;
pub const IN_DONT_FOLLOW: u32 = 0x0200_0000;
pub const IN_EXCL_UNLINK: u32 = 0x0400_0000;
pub const IN_MASK_CREATE: u32 = 0x1000_0000;
pub const IN_MASK_ADD: u32 = 0x2000_0000;
pub const IN_ISDIR: u32 = 0x4000_0000;
pub const IN_ONESHOT: u32 = 0x8000_0000;
pub const IN_ALL_EVENTS: u32 = 0xfff;
/// The flags a watch's mask may hold besides events.
pub const IN_WATCH_FLAGS: u32 =
    IN_ONLYDIR | IN_DONT_FOLLOW | IN_EXCL_UNLINK | IN_MASK_CREATE | IN_MASK_ADD | IN_ONESHOT;
/// The events a directory's watch gets for its children (with their names).
const CHILD_EVENTS: u32 = IN_ACCESS
    | IN_MODIFY
    | IN_ATTRIB
    | IN_CLOSE_WRITE
    | IN_CLOSE_NOWRITE
    | IN_OPEN
    | IN_MOVED_FROM
    | IN_MOVED_TO
    | IN_CREATE
    | IN_DELETE;
/// /proc/sys/fs/inotify/max_queued_events.
pub const MAX_QUEUED: usize = 16384;

/// Live watches in the sandbox: with none, reporting costs one load.
static WATCHES: AtomicUsize = AtomicUsize::new(0);
static COOKIE: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// A watch, as its inode keeps it.
#[derive(Debug)]
pub struct Watch {
    group: Weak<Group>,
    wd: i32,
    mask: Cell<u32>,
}

/// One queued event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub wd: i32,
    pub mask: u32,
    pub cookie: u32,
    pub name: Vec<u8>,
}

impl Event {
    /// `struct inotify_event` and its name, NUL-padded to a multiple of 16 bytes.
    pub fn size(&self) -> usize {
        16 + padded(&self.name)
    }

    pub fn bytes(&self) -> Vec<u8> {
        let len = padded(&self.name);
        let mut b = Vec::with_capacity(16 + len);
        b.extend_from_slice(&self.wd.to_ne_bytes());
        b.extend_from_slice(&self.mask.to_ne_bytes());
        b.extend_from_slice(&self.cookie.to_ne_bytes());
        b.extend_from_slice(&(len as u32).to_ne_bytes());
        b.extend_from_slice(&self.name);
        b.resize(16 + len, 0);
        b
    }
}

fn padded(name: &[u8]) -> usize {
    if name.is_empty() {
        0
    } else {
        (name.len() + 1).div_ceil(16) * 16
    }
}

/// An inotify instance.
#[derive(Debug, Default)]
pub struct Group {
    events: RefCell<VecDeque<Event>>,
    watches: RefCell<BTreeMap<i32, Rc<Inode>>>,
    next_wd: Cell<i32>,
    pub generation: Cell<u64>,
}

impl Drop for Group {
    fn drop(&mut self) {
        let me: *const Group = self;
        for inode in self.watches.borrow().values() {
            inode.watches.borrow_mut().retain(|w| {
                let mine = std::ptr::eq(w.group.as_ptr(), me);
                if mine {
                    WATCHES.fetch_sub(1, Ordering::Relaxed);
                }
                !mine
            });
        }
    }
}

impl Group {
    /// Queues an event: merged with the last one if the same, IN_Q_OVERFLOW once full.
    fn push(&self, ev: Event) {
        let mut q = self.events.borrow_mut();
        if q.back() == Some(&ev) {
            return;
        }
        if q.len() >= MAX_QUEUED {
            if q.back().is_some_and(|e| e.mask != IN_Q_OVERFLOW) {
                q.push_back(Event {
                    wd: -1,
                    mask: IN_Q_OVERFLOW,
                    cookie: 0,
                    name: Vec::new(),
                });
            }
        } else {
            q.push_back(ev);
        }
        drop(q);
        self.generation.set(self.generation.get() + 1);
    }

    pub fn is_empty(&self) -> bool {
        self.events.borrow().is_empty()
    }

    /// Bytes of the queued events (FIONREAD).
    pub fn queued_bytes(&self) -> usize {
        self.events.borrow().iter().map(Event::size).sum()
    }

    /// Takes the events that fit in `room` bytes; None if even the first does not.
    pub fn take(&self, room: usize) -> Option<Vec<u8>> {
        let mut q = self.events.borrow_mut();
        let mut out = Vec::new();
        while let Some(e) = q.front() {
            if out.len() + e.size() > room {
                break;
            }
            out.extend(e.bytes());
            q.pop_front();
        }
        drop(q);
        if out.is_empty() && !self.is_empty() {
            return None;
        }
        self.generation.set(self.generation.get() + 1);
        Some(out)
    }

    /// inotify_add_watch: the watch descriptor (the same for an inode already watched, its mask
    /// replaced or, with IN_MASK_ADD, extended; EEXIST with IN_MASK_CREATE).
    pub fn add_watch(self: &Rc<Self>, inode: &Rc<Inode>, mask: u32) -> Result<i32, i32> {
        let me = Rc::downgrade(self);
        let existing = inode
            .watches
            .borrow()
            .iter()
            .find(|w| w.group.ptr_eq(&me))
            .map(|w| (w.wd, w.mask.get()));
        let events = mask & (IN_ALL_EVENTS | IN_EXCL_UNLINK | IN_ONESHOT);
        if let Some((wd, old)) = existing {
            if mask & IN_MASK_CREATE != 0 {
                return Err(libc::EEXIST);
            }
            let new = if mask & IN_MASK_ADD != 0 {
                old | events
            } else {
                events
            };
            for w in inode.watches.borrow().iter().filter(|w| w.wd == wd) {
                if w.group.ptr_eq(&me) {
                    w.mask.set(new);
                }
            }
            return Ok(wd);
        }
        let wd = self.next_wd.get() + 1;
        self.next_wd.set(wd);
        inode.watches.borrow_mut().push(Watch {
            group: me,
            wd,
            mask: Cell::new(events),
        });
        self.watches.borrow_mut().insert(wd, inode.clone());
        WATCHES.fetch_add(1, Ordering::Relaxed);
        Ok(wd)
    }

    /// inotify_rm_watch: the watch goes, and IN_IGNORED is queued for it.
    pub fn rm_watch(self: &Rc<Self>, wd: i32) -> bool {
        let Some(inode) = self.watches.borrow_mut().remove(&wd) else {
            return false;
        };
        let me = Rc::downgrade(self);
        inode
            .watches
            .borrow_mut()
            .retain(|w| !(w.group.ptr_eq(&me) && w.wd == wd));
        WATCHES.fetch_sub(1, Ordering::Relaxed);
        self.push(Event {
            wd,
            mask: IN_IGNORED,
            cookie: 0,
            name: Vec::new(),
        });
        true
    }
}

/// Delivers `mask` (one event, maybe with IN_ISDIR) to the watches on `inode`, with `name`
/// (a child's, for a directory's watch).
fn deliver(inode: &Rc<Inode>, mask: u32, name: &[u8], cookie: u32) {
    let hits: Vec<(Rc<Group>, i32, bool)> = inode
        .watches
        .borrow()
        .iter()
        .filter(|w| w.mask.get() & mask & IN_ALL_EVENTS != 0)
        .filter_map(|w| {
            let g = w.group.upgrade()?;
            Some((g, w.wd, w.mask.get() & IN_ONESHOT != 0))
        })
        .collect();
    for (g, wd, oneshot) in hits {
        g.push(Event {
            wd,
            mask,
            cookie,
            name: name.to_vec(),
        });
        if oneshot {
            g.rm_watch(wd);
        }
    }
}

fn active() -> bool {
    WATCHES.load(Ordering::Relaxed) != 0
}

fn isdir(inode: &Inode) -> u32 {
    if inode.is_dir() {
        IN_ISDIR
    } else {
        0
    }
}

/// Something happened to `inode` (IN_ACCESS, IN_MODIFY, IN_ATTRIB, IN_OPEN, IN_CLOSE_*): its
/// own watches hear it, and its directory's (`dir`, as it was reached, else its recorded
/// parent) with its name.
pub fn event(inode: &Rc<Inode>, dir: Option<(&Rc<Inode>, &[u8])>, mask: u32) {
    if !active() {
        return;
    }
    let mask = mask | isdir(inode);
    // The directory's watches hear it first (fsnotify_parent), then the inode's own.
    if mask & CHILD_EVENTS != 0 {
        match dir {
            Some((d, name)) if !name.is_empty() => deliver(d, mask, name, 0),
            _ => {
                let parent = inode.parent.borrow().upgrade();
                let name = inode.name.borrow().clone();
                if let Some(p) = parent.filter(|p| !Rc::ptr_eq(p, inode) && !name.is_empty()) {
                    deliver(&p, mask, &name, 0);
                }
            }
        }
    }
    deliver(inode, mask, &[], 0);
}

/// An event for `inode`'s own watches only (IN_ATTRIB of a link count change).
pub fn on_inode(inode: &Rc<Inode>, mask: u32) {
    if active() {
        deliver(inode, mask | isdir(inode), &[], 0);
    }
}

/// `name` was made in `dir` (a file, directory, link or node): IN_CREATE.
pub fn created(dir: &Rc<Inode>, name: &[u8], child: &Inode) {
    if active() {
        deliver(dir, IN_CREATE | isdir(child), name, 0);
    }
}

/// `name` (now `victim`) went from `dir`: IN_ATTRIB on a file (it lost a link), for the last
/// link IN_DELETE_SELF and the end of its watches (IN_IGNORED), and IN_DELETE for the
/// directory.
pub fn removed(dir: &Rc<Inode>, name: &[u8], victim: &Rc<Inode>) {
    if !active() {
        return;
    }
    // As Linux: the link count's IN_ATTRIB, the inode's end (when its last link went), then
    // the directory's IN_DELETE.
    let is_dir = victim.is_dir();
    if !is_dir {
        deliver(victim, IN_ATTRIB, &[], 0);
    }
    if is_dir || victim.meta.borrow().nlink == 0 {
        gone(victim);
    }
    deliver(dir, IN_DELETE | isdir(victim), name, 0);
}

/// The inode is gone: IN_DELETE_SELF, then every watch on it ends (IN_IGNORED).
pub fn gone(inode: &Rc<Inode>) {
    if !active() {
        return;
    }
    deliver(inode, IN_DELETE_SELF, &[], 0);
    let watches: Vec<(Weak<Group>, i32)> = inode
        .watches
        .borrow()
        .iter()
        .map(|w| (w.group.clone(), w.wd))
        .collect();
    for (g, wd) in watches {
        if let Some(g) = g.upgrade() {
            g.rm_watch(wd);
        }
    }
}

/// `moved` went from `from`/`old` to `to`/`new`: IN_MOVED_FROM and IN_MOVED_TO with one cookie,
/// then IN_MOVE_SELF.
pub fn moved(from: &Rc<Inode>, old: &[u8], to: &Rc<Inode>, new: &[u8], moved: &Rc<Inode>) {
    if !active() {
        return;
    }
    let cookie = COOKIE.fetch_add(1, Ordering::Relaxed).wrapping_add(1);
    let d = isdir(moved);
    deliver(from, IN_MOVED_FROM | d, old, cookie);
    deliver(to, IN_MOVED_TO | d, new, cookie);
    deliver(moved, IN_MOVE_SELF | d, &[], 0);
}
