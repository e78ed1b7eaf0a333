//! epoll: an interest list of (fd, open file description) pairs, each with its events and data.
//! A wait scans the list with the same readiness every poll uses (`poll::poll_file`): level
//! triggered by default, EPOLLET reporting a file only when it gains events it did not have at
//! the last scan, EPOLLONESHOT disarming an entry once reported. Entries whose description is
//! gone (its last fd closed) drop out, as on Linux. Reported entries move to the end of the list,
//! so that one busy file does not starve the others.
//!
//! EPOLLET reports a file when it gains readiness or, still ready, when something happened to it
//! since the last scan (pipes, sockets and eventfds count their transfers). Partial: EPOLLEXCLUSIVE
//! is accepted and has no effect (wake-ups are not thundering herds here: one task runs at a
//! time).

use super::eventfd::{anon_ino, anon_stat, install};
use super::poll::{file_generation, poll_file};
use super::{fd_arg, int_arg};
use crate::errors::{Errno, SysResult, EBLOCK};
use crate::kernel::fd::{Anon, File};
use crate::kernel::Task;
use crate::mm::UserAddr;
use crate::{bail, errno};
use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

const EPOLL_CTL_ADD: u64 = 1;
const EPOLL_CTL_DEL: u64 = 2;
const EPOLL_CTL_MOD: u64 = 3;
const EPOLLERR: u32 = 0x008;
const EPOLLHUP: u32 = 0x010;
const EPOLLEXCLUSIVE: u32 = 1 << 28;
const EPOLLWAKEUP: u32 = 1 << 29;
const EPOLLONESHOT: u32 = 1 << 30;
const EPOLLET: u32 = 1 << 31;
/// `struct epoll_event` is packed on x86-64: 4 bytes of events, 8 of data.
const EVENT_SIZE: usize = 12;
/// Linux's limit on maxevents (INT_MAX / sizeof(struct epoll_event)).
const EP_MAX_EVENTS: i32 = i32::MAX / EVENT_SIZE as i32;

const EP_MAX_NESTS: u32 = 4;

thread_local! {
    /// How deep a poll of nested epoll instances is.
    static NEST: Cell<u32> = const { Cell::new(0) };
}

#[derive(Debug)]
struct Item {
    fd: i32,
    file: Weak<File>,
    events: u32,
    data: u64,
    /// EPOLLONESHOT entries are disarmed once reported, until EPOLL_CTL_MOD.
    armed: bool,
    /// The events and the file's generation seen at the last scan (for EPOLLET).
    last: u32,
    gen: u64,
}

#[derive(Debug)]
pub struct Epoll {
    items: RefCell<Vec<Item>>,
    flags: Cell<u32>,
    ino: u64,
}

impl Epoll {
    /// The entries ready now, up to `max`: (events, data). Updates edge and one-shot state and
    /// moves reported entries to the end.
    fn collect(&self, t: &Task, max: usize) -> Vec<(u32, u64)> {
        // The files are polled without the list borrowed: a nested epoll may look at this one.
        let snapshot: Vec<(Weak<File>, u32, bool)> = {
            let mut items = self.items.borrow_mut();
            items.retain(|i| i.file.strong_count() > 0);
            items
                .iter()
                .map(|i| (i.file.clone(), i.events, i.armed))
                .collect()
        };
        let now: Vec<(u32, u64)> = snapshot
            .iter()
            .map(|(f, events, armed)| match f.upgrade() {
                Some(file) if *armed => (
                    (poll_file(t, &file) as u16 as u32) & (events | EPOLLERR | EPOLLHUP),
                    file_generation(&file),
                ),
                _ => (0, 0),
            })
            .collect();
        let mut items = self.items.borrow_mut();
        let mut out = Vec::new();
        let mut reported = Vec::new();
        for (idx, it) in items.iter_mut().enumerate().take(now.len()) {
            if out.len() == max {
                break;
            }
            if !it.armed {
                continue;
            }
            let (now, gen) = now[idx];
            let report = if it.events & EPOLLET != 0 {
                // New readiness, or something happened to a file that stayed ready.
                let new = now & !it.last != 0 || (now != 0 && gen != it.gen);
                it.last = now;
                it.gen = gen;
                new
            } else {
                now != 0
            };
            if report {
                out.push((now, it.data));
                reported.push(idx);
                if it.events & EPOLLONESHOT != 0 {
                    it.armed = false;
                }
            }
        }
        // Round robin: what was reported goes to the back.
        for idx in reported.into_iter().rev() {
            let it = items.remove(idx);
            items.push(it);
        }
        out
    }

    /// Whether a wait would report something now (without changing edge state).
    fn any_ready(&self, t: &Task) -> bool {
        let items: Vec<(Weak<File>, u32, bool, u32, u64)> = self
            .items
            .borrow()
            .iter()
            .map(|i| (i.file.clone(), i.events, i.armed, i.last, i.gen))
            .collect();
        items.into_iter().any(|(file, events, armed, last, gen)| {
            let it = Item {
                fd: -1,
                file,
                events,
                data: 0,
                armed,
                last,
                gen,
            };
            it.armed
                && it.file.upgrade().is_some_and(|f| {
                    let now = (poll_file(t, &f) as u16 as u32) & (it.events | EPOLLERR | EPOLLHUP);
                    if it.events & EPOLLET != 0 {
                        now & !it.last != 0 || (now != 0 && file_generation(&f) != it.gen)
                    } else {
                        now != 0
                    }
                })
        })
    }
}

impl Anon for Epoll {
    fn name(&self) -> Vec<u8> {
        b"anon_inode:[eventpoll]".to_vec()
    }

    fn stat(&self, uid: u32, gid: u32) -> abi::Stat {
        anon_stat(self.ino, uid, gid)
    }

    fn flags(&self) -> &Cell<u32> {
        &self.flags
    }

    fn poll(&self, t: &Task) -> i16 {
        // Nested epoll instances (even a loop of them) are looked into at most EP_MAX_NESTS
        // deep, as Linux limits them.
        let depth = NEST.with(|d| d.get());
        if depth >= EP_MAX_NESTS {
            return 0;
        }
        NEST.with(|d| d.set(depth + 1));
        let ready = self.any_ready(t);
        NEST.with(|d| d.set(depth));
        if ready {
            libc::POLLIN | libc::POLLRDNORM
        } else {
            0
        }
    }

    fn read(&self, _t: &mut Task, _iov: &[(u64, usize)]) -> SysResult {
        Err(errno!(EINVAL, "read of an epoll fd"))
    }

    fn write(&self, _t: &mut Task, _iov: &[(u64, usize)]) -> SysResult {
        Err(errno!(EINVAL, "write to an epoll fd"))
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

pub fn epoll_create1(t: &mut Task, a: [u64; 6]) -> SysResult {
    let flags = int_arg(a[0]);
    if flags & !libc::EPOLL_CLOEXEC != 0 {
        bail!(EINVAL, "epoll_create1 flags {flags:#x}");
    }
    let ep = Epoll {
        items: RefCell::new(Vec::new()),
        flags: Cell::new(libc::O_RDWR as u32),
        ino: anon_ino(),
    };
    install(t, Box::new(ep), flags & libc::EPOLL_CLOEXEC != 0)
}

pub fn epoll_create(t: &mut Task, a: [u64; 6]) -> SysResult {
    if int_arg(a[0]) <= 0 {
        bail!(EINVAL, "size <= 0");
    }
    epoll_create1(t, [0; 6])
}

/// The epoll instance behind `fd` (EBADF if not open, EINVAL if not an epoll fd).
fn epoll_file(t: &Task, fd: i32) -> Result<Rc<File>, Errno> {
    let f = t.fds.get(fd).ok_or_else(|| errno!(EBADF))?;
    match &*f {
        File::Anon(a) if a.as_any().is::<Epoll>() => Ok(f),
        _ => Err(errno!(EINVAL, "not an epoll fd")),
    }
}

/// Whether epoll file `from` watches `to`, directly or through nested instances (or nests
/// deeper than `depth`).
fn reaches(from: &Rc<File>, to: &Rc<File>, depth: u32) -> bool {
    let File::Anon(a) = &**from else {
        return false;
    };
    let Some(ep) = a.as_any().downcast_ref::<Epoll>() else {
        return false;
    };
    if depth == 0 {
        return true;
    }
    let files: Vec<Rc<File>> = ep
        .items
        .borrow()
        .iter()
        .filter_map(|i| i.file.upgrade())
        .collect();
    files
        .iter()
        .any(|f| Rc::ptr_eq(f, to) || reaches(f, to, depth - 1))
}

fn as_epoll(f: &File) -> &Epoll {
    match f {
        File::Anon(a) => a.as_any().downcast_ref::<Epoll>(),
        _ => None,
    }
    .unwrap_or_else(|| unreachable!("checked by epoll_file"))
}

pub fn epoll_ctl(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (op, fd) = (a[1], fd_arg(a[2]));
    let ep_file = t.fds.get(fd_arg(a[0])).ok_or_else(|| errno!(EBADF))?;
    let target = t.fds.get(fd).ok_or_else(|| errno!(EBADF))?;
    let ev = if op == EPOLL_CTL_ADD || op == EPOLL_CTL_MOD {
        let raw: [u8; EVENT_SIZE] = t.mm.read_obj(UserAddr(a[3]))?;
        let events = u32::from_ne_bytes(raw[0..4].try_into().unwrap_or_default());
        let data = u64::from_ne_bytes(raw[4..12].try_into().unwrap_or_default());
        Some((events, data))
    } else {
        None
    };
    let ep_file = match &*ep_file {
        File::Anon(x) if x.as_any().is::<Epoll>() => ep_file.clone(),
        _ => bail!(EINVAL, "not an epoll fd"),
    };
    if Rc::ptr_eq(&ep_file, &target) {
        bail!(EINVAL, "an epoll fd cannot watch itself");
    }
    // Files without poll support (regular files, directories) are EPERM, as on Linux.
    let pollable = match &*target {
        File::Vfs(_) => false,
        File::Host(h) => crate::host::fstat(std::os::fd::AsFd::as_fd(h))
            .is_ok_and(|st| !matches!(st.mode & libc::S_IFMT, libc::S_IFREG | libc::S_IFDIR)),
        File::Pipe(_) | File::Anon(_) => true,
    };
    if !pollable {
        bail!(EPERM, "this file does not support polling");
    }
    let ep = as_epoll(&ep_file);
    let mut items = ep.items.borrow_mut();
    items.retain(|i| i.file.strong_count() > 0);
    let pos = items
        .iter()
        .position(|i| i.fd == fd && i.file.upgrade().is_some_and(|f| Rc::ptr_eq(&f, &target)));
    match op {
        EPOLL_CTL_ADD => {
            let (events, data) = ev.unwrap_or_default();
            if pos.is_some() {
                bail!(EEXIST);
            }
            if reaches(&target, &ep_file, EP_MAX_NESTS) {
                bail!(ELOOP, "the epoll instances would watch each other");
            }
            if events & EPOLLEXCLUSIVE != 0
                && events & !(EPOLLEXCLUSIVE | EPOLLET | EPOLLWAKEUP | 0x3f | 0x2000) != 0
            {
                bail!(EINVAL, "EPOLLEXCLUSIVE with other flags");
            }
            items.push(Item {
                fd,
                file: Rc::downgrade(&target),
                events,
                data,
                armed: true,
                last: 0,
                gen: 0,
            });
        }
        EPOLL_CTL_MOD => {
            let (events, data) = ev.unwrap_or_default();
            let i = pos.ok_or_else(|| errno!(ENOENT))?;
            if events & EPOLLEXCLUSIVE != 0 || items[i].events & EPOLLEXCLUSIVE != 0 {
                bail!(EINVAL, "EPOLLEXCLUSIVE with EPOLL_CTL_MOD");
            }
            items[i].events = events;
            items[i].data = data;
            items[i].armed = true;
            items[i].last = 0;
            items[i].gen = 0;
        }
        EPOLL_CTL_DEL => {
            let i = pos.ok_or_else(|| errno!(ENOENT))?;
            items.remove(i);
        }
        _ => bail!(EINVAL, "epoll_ctl op {op}"),
    }
    Ok(0)
}

/// epoll_wait and its relatives: `timeout_ns` None waits for ever.
fn wait(t: &mut Task, epfd: i32, events: u64, max: i32, timeout_ns: Option<u64>) -> SysResult {
    if max <= 0 || max > EP_MAX_EVENTS {
        bail!(EINVAL, "maxevents {max}");
    }
    let max = usize::try_from(max).unwrap_or(0);
    if !t.mm.is_writable(events, (max * EVENT_SIZE) as u64) {
        bail!(EFAULT);
    }
    let f = epoll_file(t, epfd)?;
    let ready = as_epoll(&f).collect(t, max);
    if !ready.is_empty() {
        let mut buf = Vec::with_capacity(ready.len() * EVENT_SIZE);
        for (ev, data) in &ready {
            buf.extend_from_slice(&ev.to_ne_bytes());
            buf.extend_from_slice(&data.to_ne_bytes());
        }
        t.mm.copy_out(UserAddr(events), &buf)?;
        return Ok(ready.len() as u64);
    }
    if timeout_ns == Some(0) {
        return Ok(0);
    }
    if let Some(ns) = timeout_ns {
        t.wait.start_timeout(abi::Timespec {
            tv_sec: i64::try_from(ns / 1_000_000_000).unwrap_or(i64::MAX),
            tv_nsec: (ns % 1_000_000_000) as i64,
        });
        if t.wait.expired() {
            return Ok(0);
        }
    }
    // Host files (inherited stdio) among the entries: the scheduler watches them while it
    // sleeps.
    t.wait.host_fds = super::poll::host_fds_of(&as_epoll(&f).files());
    Err(Errno::new(EBLOCK))
}

impl Epoll {
    fn files(&self) -> Vec<(Rc<File>, i16)> {
        self.items
            .borrow()
            .iter()
            .filter(|i| i.armed)
            .filter_map(|i| i.file.upgrade().map(|f| (f, i.events as i16)))
            .collect()
    }
}

fn ms_timeout(ms: i32) -> Option<u64> {
    u64::try_from(ms).ok().map(|m| m * 1_000_000)
}

pub fn epoll_wait(t: &mut Task, a: [u64; 6]) -> SysResult {
    wait(
        t,
        fd_arg(a[0]),
        a[1],
        int_arg(a[2]),
        ms_timeout(int_arg(a[3])),
    )
}

pub fn epoll_pwait(t: &mut Task, a: [u64; 6]) -> SysResult {
    if a[4] != 0 {
        if a[5] != 8 {
            bail!(EINVAL, "sigsetsize");
        }
        crate::kernel::signal::wait_mask(t, a[4])?;
        if crate::kernel::signal::deliverable(t) {
            return Err(Errno::new(EBLOCK));
        }
    }
    wait(
        t,
        fd_arg(a[0]),
        a[1],
        int_arg(a[2]),
        ms_timeout(int_arg(a[3])),
    )
}

pub fn epoll_pwait2(t: &mut Task, a: [u64; 6]) -> SysResult {
    let timeout = if a[3] == 0 {
        None
    } else {
        let ts: abi::Timespec = t.mm.read_obj(UserAddr(a[3]))?;
        if ts.tv_sec < 0 || !(0..1_000_000_000).contains(&ts.tv_nsec) {
            bail!(EINVAL, "bad timeout");
        }
        Some(
            u64::try_from(ts.tv_sec)
                .unwrap_or(0)
                .saturating_mul(1_000_000_000)
                .saturating_add(u64::try_from(ts.tv_nsec).unwrap_or(0)),
        )
    };
    if a[4] != 0 {
        if a[5] != 8 {
            bail!(EINVAL, "sigsetsize");
        }
        crate::kernel::signal::wait_mask(t, a[4])?;
        if crate::kernel::signal::deliverable(t) {
            return Err(Errno::new(EBLOCK));
        }
    }
    wait(t, fd_arg(a[0]), a[1], int_arg(a[2]), timeout)
}
