//! timerfd, signalfd and pidfd: files that report a timer's expirations, a task's pending
//! signals, and a process's exit.
//!
//! A timerfd is a [`TimerState`] the kernel also keeps in a list, so that the scheduler knows
//! when the next one expires (to wake a task waiting in read, poll or epoll, and to bound how
//! long a guest runs). Partial: TFD_TIMER_CANCEL_ON_SET is accepted and never cancels (the
//! sandbox cannot set the clock).

use super::eventfd::{anon_ino, anon_stat, install};
use super::{fd_arg, int_arg};
use crate::errors::{Errno, SysResult, EBLOCK};
use crate::kernel::fd::{Anon, File};
use crate::kernel::timer::{now_ns, ns_ts, ts_ns};
use crate::kernel::Task;
use crate::mm::UserAddr;
use crate::{bail, errno};
use std::cell::Cell;
use std::rc::Rc;

const TFD_TIMER_ABSTIME: u64 = 1;
const TFD_TIMER_CANCEL_ON_SET: u64 = 2;

/// A timerfd's timer.
#[derive(Debug)]
pub struct TimerState {
    clock: libc::clockid_t,
    /// Absolute expiry on `clock` (0: disarmed).
    next_ns: Cell<u64>,
    interval_ns: Cell<u64>,
    /// Expirations not read yet.
    ticks: Cell<u64>,
}

impl TimerState {
    /// Counts the expirations that have passed.
    fn update(&self) {
        let next = self.next_ns.get();
        if next == 0 {
            return;
        }
        let now = now_ns(self.clock);
        if now < next {
            return;
        }
        let iv = self.interval_ns.get();
        let n = match (now - next).checked_div(iv) {
            Some(missed) => {
                self.next_ns.set(next + (missed + 1) * iv);
                missed + 1
            }
            None => {
                self.next_ns.set(0);
                1
            }
        };
        self.ticks.set(self.ticks.get().saturating_add(n));
    }

    /// Nanoseconds until the next expiry, if armed (expirations passed are counted first).
    pub fn remaining_ns(&self) -> Option<u64> {
        self.update();
        let next = self.next_ns.get();
        (next != 0).then(|| next.saturating_sub(now_ns(self.clock)))
    }
}

#[derive(Debug)]
struct TimerFd {
    state: Rc<TimerState>,
    flags: Cell<u32>,
    ino: u64,
}

impl Anon for TimerFd {
    fn name(&self) -> Vec<u8> {
        b"anon_inode:[timerfd]".to_vec()
    }

    fn stat(&self, uid: u32, gid: u32) -> abi::Stat {
        anon_stat(self.ino, uid, gid)
    }

    fn flags(&self) -> &Cell<u32> {
        &self.flags
    }

    fn poll(&self, _t: &Task) -> i16 {
        self.state.update();
        if self.state.ticks.get() > 0 {
            libc::POLLIN | libc::POLLRDNORM
        } else {
            0
        }
    }

    fn read(&self, t: &mut Task, iov: &[(u64, usize)]) -> SysResult {
        let Some(&(at, len)) = iov.iter().find(|r| r.1 > 0) else {
            bail!(EINVAL);
        };
        if len < 8 {
            bail!(EINVAL, "timerfd read needs 8 bytes");
        }
        self.state.update();
        let n = self.state.ticks.get();
        if n == 0 {
            if self.nonblocking() {
                bail!(EAGAIN);
            }
            return Err(Errno::new(EBLOCK));
        }
        t.mm.write_obj(UserAddr(at), &n)?;
        self.state.ticks.set(0);
        Ok(8)
    }

    fn write(&self, _t: &mut Task, _iov: &[(u64, usize)]) -> SysResult {
        Err(errno!(EINVAL, "write to a timerfd"))
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

pub fn timerfd_create(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (clock, flags) = (int_arg(a[0]), int_arg(a[1]));
    if flags & !(libc::TFD_NONBLOCK | libc::TFD_CLOEXEC) != 0 {
        bail!(EINVAL, "timerfd flags {flags:#x}");
    }
    let host_clock = match clock {
        libc::CLOCK_REALTIME | libc::CLOCK_MONOTONIC | libc::CLOCK_BOOTTIME => clock,
        libc::CLOCK_REALTIME_ALARM => libc::CLOCK_REALTIME,
        libc::CLOCK_BOOTTIME_ALARM => libc::CLOCK_BOOTTIME,
        _ => bail!(EINVAL, "timerfd clock {clock}"),
    };
    let state = Rc::new(TimerState {
        clock: host_clock,
        next_ns: Cell::new(0),
        interval_ns: Cell::new(0),
        ticks: Cell::new(0),
    });
    t.k.timerfds.borrow_mut().push(Rc::downgrade(&state));
    let f = TimerFd {
        state,
        flags: Cell::new(libc::O_RDWR as u32 | (flags & libc::TFD_NONBLOCK).cast_unsigned()),
        ino: anon_ino(),
    };
    install(t, Box::new(f), flags & libc::TFD_CLOEXEC != 0)
}

fn timerfd(t: &Task, fd: i32) -> Result<Rc<File>, Errno> {
    let f = t.fds.get(fd).ok_or_else(|| errno!(EBADF))?;
    match &*f {
        File::Anon(a) if a.as_any().is::<TimerFd>() => Ok(f),
        _ => Err(errno!(EINVAL, "not a timerfd")),
    }
}

fn state_of(f: &File) -> Rc<TimerState> {
    match f {
        File::Anon(a) => a
            .as_any()
            .downcast_ref::<TimerFd>()
            .map(|x| x.state.clone()),
        _ => None,
    }
    .unwrap_or_else(|| unreachable!("checked by timerfd"))
}

/// The (interval, value) of a timer now.
fn current(s: &TimerState) -> (u64, u64) {
    s.update();
    (s.interval_ns.get(), s.remaining_ns().unwrap_or(0))
}

pub fn timerfd_settime(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = timerfd(t, fd_arg(a[0]))?;
    let flags = a[1] & 0xffff_ffff;
    if flags & !(TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET) != 0 {
        bail!(EINVAL, "timerfd_settime flags {flags:#x}");
    }
    let v: [abi::Timespec; 2] = t.mm.read_obj(UserAddr(a[2]))?;
    for ts in v {
        if ts.tv_sec < 0 || !(0..1_000_000_000).contains(&ts.tv_nsec) {
            bail!(EINVAL, "bad itimerspec");
        }
    }
    let s = state_of(&f);
    let old = current(&s);
    let value = ts_ns(v[1]);
    s.interval_ns.set(ts_ns(v[0]));
    s.ticks.set(0);
    s.next_ns.set(if value == 0 {
        0
    } else if flags & TFD_TIMER_ABSTIME != 0 {
        value.max(1)
    } else {
        now_ns(s.clock).saturating_add(value)
    });
    if a[3] != 0 {
        t.mm.write_obj(UserAddr(a[3]), &[ns_ts(old.0), ns_ts(old.1)])?;
    }
    Ok(0)
}

pub fn timerfd_gettime(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = timerfd(t, fd_arg(a[0]))?;
    let (interval, value) = current(&state_of(&f));
    t.mm.write_obj(UserAddr(a[1]), &[ns_ts(interval), ns_ts(value)])?;
    Ok(0)
}

/// A signalfd: reads take the reading task's pending signals of its mask.
#[derive(Debug)]
struct SignalFd {
    mask: Cell<u64>,
    flags: Cell<u32>,
    ino: u64,
}

const UNBLOCKABLE: u64 =
    abi::signal::bit(abi::signal::SIGKILL) | abi::signal::bit(abi::signal::SIGSTOP);

impl Anon for SignalFd {
    fn name(&self) -> Vec<u8> {
        b"anon_inode:[signalfd]".to_vec()
    }

    fn stat(&self, uid: u32, gid: u32) -> abi::Stat {
        anon_stat(self.ino, uid, gid)
    }

    fn flags(&self) -> &Cell<u32> {
        &self.flags
    }

    fn poll(&self, t: &Task) -> i16 {
        if t.signals.pending & self.mask.get() != 0 {
            libc::POLLIN | libc::POLLRDNORM
        } else {
            0
        }
    }

    fn read(&self, t: &mut Task, iov: &[(u64, usize)]) -> SysResult {
        const SIZE: usize = 128;
        let Some(&(at, len)) = iov.iter().find(|r| r.1 > 0) else {
            bail!(EINVAL);
        };
        if len < SIZE {
            bail!(EINVAL, "signalfd read needs 128 bytes");
        }
        let mut done = 0;
        while done + SIZE <= len {
            let Some((sig, info)) = crate::kernel::signal::take_any(t, self.mask.get()) else {
                break;
            };
            t.mm.copy_out(UserAddr(at + done as u64), &info.signalfd_bytes(sig))?;
            done += SIZE;
        }
        if done == 0 {
            if self.nonblocking() {
                bail!(EAGAIN);
            }
            return Err(Errno::new(EBLOCK));
        }
        Ok(done as u64)
    }

    fn write(&self, _t: &mut Task, _iov: &[(u64, usize)]) -> SysResult {
        Err(errno!(EINVAL, "write to a signalfd"))
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

pub fn signalfd4(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (fd, flags) = (fd_arg(a[0]), int_arg(a[3]));
    if a[2] != 8 {
        bail!(EINVAL, "sigsetsize");
    }
    if flags & !(libc::SFD_NONBLOCK | libc::SFD_CLOEXEC) != 0 {
        bail!(EINVAL, "signalfd flags {flags:#x}");
    }
    let mask: u64 = t.mm.read_obj(UserAddr(a[1]))?;
    let mask = mask & !UNBLOCKABLE;
    if fd != -1 {
        let f = t.fds.get(fd).ok_or_else(|| errno!(EBADF))?;
        let File::Anon(an) = &*f else {
            bail!(EINVAL, "not a signalfd");
        };
        let Some(sfd) = an.as_any().downcast_ref::<SignalFd>() else {
            bail!(EINVAL, "not a signalfd");
        };
        sfd.mask.set(mask);
        return Ok(fd as u64);
    }
    let f = SignalFd {
        mask: Cell::new(mask),
        flags: Cell::new(libc::O_RDWR as u32 | (flags & libc::SFD_NONBLOCK).cast_unsigned()),
        ino: anon_ino(),
    };
    install(t, Box::new(f), flags & libc::SFD_CLOEXEC != 0)
}

pub fn signalfd(t: &mut Task, a: [u64; 6]) -> SysResult {
    signalfd4(t, [a[0], a[1], a[2], 0, 0, 0])
}

/// A pidfd: readable once its process has exited.
#[derive(Debug)]
pub struct PidFd {
    pub pid: i32,
    flags: Cell<u32>,
    ino: u64,
}

impl Anon for PidFd {
    fn name(&self) -> Vec<u8> {
        b"anon_inode:[pidfd]".to_vec()
    }

    fn stat(&self, uid: u32, gid: u32) -> abi::Stat {
        anon_stat(self.ino, uid, gid)
    }

    fn flags(&self) -> &Cell<u32> {
        &self.flags
    }

    fn poll(&self, t: &Task) -> i16 {
        let alive =
            t.k.procs
                .borrow()
                .get(self.pid)
                .is_some_and(|p| p.zombie.is_none());
        if alive {
            0
        } else {
            libc::POLLIN | libc::POLLRDNORM
        }
    }

    fn read(&self, _t: &mut Task, _iov: &[(u64, usize)]) -> SysResult {
        Err(errno!(EINVAL, "read of a pidfd"))
    }

    fn write(&self, _t: &mut Task, _iov: &[(u64, usize)]) -> SysResult {
        Err(errno!(EINVAL, "write to a pidfd"))
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

const PIDFD_NONBLOCK: u64 = libc::O_NONBLOCK as u64;

pub fn pidfd_open(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (pid, flags) = (int_arg(a[0]), a[1]);
    if flags & !PIDFD_NONBLOCK != 0 || pid <= 0 {
        bail!(EINVAL);
    }
    // A process (thread group leader) that has not been reaped.
    if t.k.procs.borrow().get(pid).is_none() {
        bail!(ESRCH);
    }
    let f = PidFd {
        pid,
        flags: Cell::new(libc::O_RDWR as u32 | (flags & PIDFD_NONBLOCK) as u32),
        ino: anon_ino(),
    };
    // pidfds are always close-on-exec.
    install(t, Box::new(f), true)
}

/// The process behind a pidfd (EBADF if not open or not a pidfd, as Linux).
pub fn pidfd_pid(t: &Task, fd: i32) -> Result<i32, Errno> {
    let f = t.fds.get(fd).ok_or_else(|| errno!(EBADF))?;
    match &*f {
        File::Anon(a) => a
            .as_any()
            .downcast_ref::<PidFd>()
            .map(|p| p.pid)
            .ok_or_else(|| errno!(EBADF, "not a pidfd")),
        _ => Err(errno!(EBADF, "not a pidfd")),
    }
}

/// The process a pidfd_send_signal fd names: a pidfd, or (as Linux allows) an open /proc/PID
/// directory.
fn signal_target(t: &Task, fd: i32) -> Result<i32, Errno> {
    if let Some(File::Vfs(of)) = t.fds.get(fd).as_deref() {
        if let crate::vfs::Kind::Dir(d) = &of.inode.kind {
            if let Some(crate::vfs::proc::DirKind::Pid(pid)) = d.synth {
                return Ok(pid);
            }
        }
    }
    pidfd_pid(t, fd)
}

/// ESRCH unless process `pid` is alive (not a zombie).
fn alive(t: &Task, pid: i32) -> Result<(), Errno> {
    if t.k
        .procs
        .borrow()
        .get(pid)
        .is_none_or(|p| p.zombie.is_some())
    {
        bail!(ESRCH, "the process has exited");
    }
    Ok(())
}

pub fn pidfd_send_signal(t: &mut Task, a: [u64; 6]) -> SysResult {
    let pid = signal_target(t, fd_arg(a[0]))?;
    if a[3] != 0 {
        bail!(EINVAL, "flags");
    }
    alive(t, pid)?;
    if a[2] != 0 {
        t.k.log_partial("pidfd_send_signal with a siginfo".into());
    }
    super::signal::kill(t, [pid as u64, a[1], 0, 0, 0, 0])
}

/// pidfd_getfd: a copy of another process's open file (its fd `targetfd`), close-on-exec, in
/// the caller's table. Every process of the sandbox has the same identity, so the ptrace access
/// check passes.
pub fn pidfd_getfd(t: &mut Task, a: [u64; 6]) -> SysResult {
    let pid = pidfd_pid(t, fd_arg(a[0]))?;
    if a[2] & 0xffff_ffff != 0 {
        bail!(EINVAL, "flags");
    }
    let target = fd_arg(a[1]);
    alive(t, pid)?;
    let file = crate::vfs::proc::with_task(t, pid, |o| o.fds.get(target))
        .ok_or_else(|| errno!(ESRCH, "the process has no task"))?
        .ok_or_else(|| errno!(EBADF, "no fd {target} in process {pid}"))?;
    let limit = usize::try_from(t.rlimits[abi::RLIMIT_NOFILE].cur).unwrap_or(usize::MAX);
    let fd = t
        .fds
        .install(file, true, 0, limit)
        .ok_or_else(|| errno!(EMFILE))?;
    Ok(fd as u64)
}
