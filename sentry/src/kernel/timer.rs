//! Timers that send signals: the interval timers (setitimer, getitimer, alarm) and POSIX timers
//! (timer_create and its relatives).
//!
//! A timer is an absolute expiry on a host clock (CLOCK_REALTIME, CLOCK_MONOTONIC,
//! CLOCK_BOOTTIME, or the CPU clock of the process's stub for ITIMER_VIRTUAL/ITIMER_PROF and
//! CPU-time POSIX timers). The scheduler fires expired timers before it runs a task, and bounds
//! how long any guest runs by the nearest expiry (see [`next_expiry_ns`]), so a timer fires on
//! time even while every process computes without making syscalls.
//!
//! Partial: ITIMER_VIRTUAL counts user and system time of the stub (as ITIMER_PROF does), and
//! CPU-time timers fire at the first scheduling point after they expire (within the time slice).

use super::signal::SigInfo;
use super::Task;
use crate::bail;
use crate::errors::{Errno, SysResult};
use crate::mm::UserAddr;
use std::collections::BTreeMap;

const NS: u64 = 1_000_000_000;
/// si_code of an interval timer's signal.
const SI_KERNEL: i32 = 0x80;
/// si_code of a POSIX timer's signal.
const SI_TIMER: i32 = -2;
const SIGEV_SIGNAL: i32 = 0;
const SIGEV_NONE: i32 = 1;
const SIGEV_THREAD: i32 = 2;
const SIGEV_THREAD_ID: i32 = 4;
const TIMER_ABSTIME: u64 = 1;

/// One timer.
#[derive(Clone, Copy, Debug, Default)]
pub struct Timer {
    /// The host clock it runs on.
    pub clock: libc::clockid_t,
    /// The absolute expiry on `clock` in nanoseconds (0: disarmed).
    pub next_ns: u64,
    pub interval_ns: u64,
    /// The signal it sends (0: none, SIGEV_NONE).
    pub signo: i32,
    /// sigev_value, passed in si_value.
    pub value: u64,
    /// Expiries not signalled because the signal was still pending, for the last signal sent
    /// (si_overrun, timer_getoverrun).
    pub last_overrun: i32,
    /// The overrun of the last of its signals a thread took (timer_getoverrun: fixed at
    /// delivery, as Linux's it_overrun_last).
    pub delivered_overrun: i32,
    /// The POSIX timer id (-1 for an interval timer).
    pub id: i32,
    /// SIGEV_THREAD_ID: the thread the signal is for.
    pub thread: Option<i32>,
}

/// A process's timers.
#[derive(Clone, Debug, Default)]
pub struct Timers {
    /// ITIMER_REAL, ITIMER_VIRTUAL, ITIMER_PROF (signo 0 until first set).
    pub itimers: [Timer; 3],
    pub posix: BTreeMap<i32, Timer>,
}

impl Timers {
    fn armed(&self) -> impl Iterator<Item = &Timer> {
        self.itimers
            .iter()
            .chain(self.posix.values())
            .filter(|t| t.next_ns != 0)
    }
}

pub(crate) fn now_ns(clock: libc::clockid_t) -> u64 {
    crate::host::clock_gettime(clock)
        .map(|ts| (ts.tv_sec.max(0) as u64).saturating_mul(NS) + ts.tv_nsec.max(0) as u64)
        .unwrap_or(0)
}

pub(crate) fn ts_ns(ts: abi::Timespec) -> u64 {
    (ts.tv_sec.max(0) as u64).saturating_mul(NS) + ts.tv_nsec.max(0) as u64
}

pub(crate) fn ns_ts(ns: u64) -> abi::Timespec {
    abi::Timespec {
        tv_sec: (ns / NS) as i64,
        tv_nsec: (ns % NS) as i64,
    }
}

/// Nanoseconds until the task's nearest timer expiry (measured on each timer's own clock; a CPU
/// clock never runs faster than the wall clock, so this bounds the wall time too).
pub fn next_expiry_ns(t: &Task) -> Option<u64> {
    t.timers
        .borrow()
        .armed()
        .map(|x| x.next_ns.saturating_sub(now_ns(x.clock)))
        .min()
}

/// Sends the signals of the task's expired timers and re-arms the periodic ones.
pub fn fire(t: &mut Task) {
    if t.timers.borrow().armed().next().is_none() {
        return;
    }
    // (signal, siginfo, the thread it is for: None for the process).
    let mut due: Vec<(i32, SigInfo, Option<i32>)> = Vec::new();
    let sigs = &mut t.signals;
    let mut guard = t.timers.borrow_mut();
    let timers = &mut *guard;
    let all = timers.itimers.iter_mut().chain(timers.posix.values_mut());
    for x in all.filter(|x| x.next_ns != 0) {
        let now = now_ns(x.clock);
        if now < x.next_ns {
            continue;
        }
        let mut missed = 0u64;
        if let Some(n) = (now - x.next_ns).checked_div(x.interval_ns) {
            missed = n;
            x.next_ns += (missed + 1) * x.interval_ns;
        } else {
            x.next_ns = 0;
        }
        if x.signo == 0 {
            continue;
        }
        let missed = i32::try_from(missed).unwrap_or(i32::MAX);
        let slot = usize::try_from(x.signo - 1).unwrap_or(0);
        if x.id >= 0
            && sigs.pending & abi::signal::bit(x.signo) != 0
            && sigs.info[slot].code == SI_TIMER
            && sigs.info[slot].pid == x.id
        {
            // Still pending from the last expiry: counted as an overrun (in the pending
            // siginfo too, as Linux fills it at delivery), not sent again.
            x.last_overrun = x.last_overrun.saturating_add(missed).saturating_add(1);
            sigs.info[slot].uid = x.last_overrun.cast_unsigned();
            continue;
        }
        let info = if x.id < 0 {
            SigInfo {
                code: SI_KERNEL,
                ..SigInfo::default()
            }
        } else {
            x.last_overrun = missed;
            SigInfo {
                code: SI_TIMER,
                // si_timerid, si_overrun, si_value.
                pid: x.id,
                uid: x.last_overrun.cast_unsigned(),
                value: x.value,
                addr: 0,
            }
        };
        due.push((x.signo, info, x.thread));
    }
    drop(guard);
    // A process-directed signal goes to a thread that does not block it; the scheduler picks.
    let mut procs = t.k.procs.borrow_mut();
    for (sig, info, thread) in due {
        match thread {
            Some(tid) => procs.thread_signals.push((tid, sig, info)),
            None => {
                if let Some(p) = procs.procs.get_mut(&t.tgid) {
                    p.pending.push((sig, info));
                }
            }
        }
    }
}

/// The clock and signal of interval timer `which`.
fn itimer_kind(t: &Task, which: i32) -> Result<(libc::clockid_t, i32), Errno> {
    Ok(match which {
        0 => (libc::CLOCK_MONOTONIC, abi::signal::SIGALRM),
        1 => (crate::host::process_cpu_clock(t.stub_pid, 0), 26), // SIGVTALRM
        2 => (crate::host::process_cpu_clock(t.stub_pid, 0), 27), // SIGPROF
        _ => bail!(EINVAL, "itimer {which}"),
    })
}

/// The (interval, value) of a timer as it stands.
fn current(x: &Timer) -> (u64, u64) {
    let left = if x.next_ns == 0 {
        0
    } else {
        // An expired but not yet fired timer shows the smallest nonzero time, as Linux.
        x.next_ns.saturating_sub(now_ns(x.clock)).max(1)
    };
    (x.interval_ns, left)
}

fn timeval_ns(tv: abi::Timeval) -> Result<u64, Errno> {
    if tv.tv_sec < 0 || !(0..1_000_000).contains(&tv.tv_usec) {
        bail!(EINVAL, "bad timeval");
    }
    Ok((tv.tv_sec as u64).saturating_mul(NS) + tv.tv_usec as u64 * 1000)
}

fn ns_timeval(ns: u64) -> abi::Timeval {
    // Rounded up to a microsecond, as Linux reports it.
    let us = ns.div_ceil(1000);
    abi::Timeval {
        tv_sec: (us / 1_000_000) as i64,
        tv_usec: (us % 1_000_000) as i64,
    }
}

/// Sets interval timer `which`; returns its old (interval, value) in nanoseconds.
fn set_itimer(t: &mut Task, which: i32, interval: u64, value: u64) -> Result<(u64, u64), Errno> {
    let (clock, signo) = itimer_kind(t, which)?;
    let slot = usize::try_from(which).unwrap_or(0);
    let old = current(&t.timers.borrow().itimers[slot]);
    t.timers.borrow_mut().itimers[slot] = Timer {
        clock,
        next_ns: if value == 0 {
            0
        } else {
            now_ns(clock).saturating_add(value)
        },
        interval_ns: interval,
        signo,
        id: -1,
        ..Timer::default()
    };
    Ok(old)
}

pub fn getitimer(t: &mut Task, a: [u64; 6]) -> SysResult {
    let which = crate::syscalls::int_arg(a[0]);
    itimer_kind(t, which)?;
    let (interval, value) =
        current(&t.timers.borrow().itimers[usize::try_from(which).unwrap_or(0)]);
    t.mm.write_obj(UserAddr(a[1]), &[ns_timeval(interval), ns_timeval(value)])?;
    Ok(0)
}

pub fn setitimer(t: &mut Task, a: [u64; 6]) -> SysResult {
    let which = crate::syscalls::int_arg(a[0]);
    itimer_kind(t, which)?;
    let (interval, value) = if a[1] == 0 {
        // Linux treats a NULL new value as zero (disarm).
        (0, 0)
    } else {
        let v: [abi::Timeval; 2] = t.mm.read_obj(UserAddr(a[1]))?;
        (timeval_ns(v[0])?, timeval_ns(v[1])?)
    };
    let old = set_itimer(t, which, interval, value)?;
    if a[2] != 0 {
        t.mm.write_obj(UserAddr(a[2]), &[ns_timeval(old.0), ns_timeval(old.1)])?;
    }
    Ok(0)
}

pub fn alarm(t: &mut Task, a: [u64; 6]) -> SysResult {
    let secs = a[0] & 0xffff_ffff;
    let (_, left) = set_itimer(t, 0, 0, secs * NS)?;
    // Whole seconds left, rounded to nearest; a pending alarm never shows as 0.
    let mut s = left / NS;
    if left % NS >= NS / 2 || (s == 0 && left != 0) {
        s += 1;
    }
    Ok(s)
}

/// The host clock of a guest clock id for a timer.
fn timer_clock(t: &Task, clock: i32) -> Result<libc::clockid_t, Errno> {
    Ok(match clock {
        libc::CLOCK_REALTIME
        | libc::CLOCK_MONOTONIC
        | libc::CLOCK_BOOTTIME
        | libc::CLOCK_REALTIME_ALARM
        | libc::CLOCK_BOOTTIME_ALARM => match clock {
            libc::CLOCK_REALTIME_ALARM => libc::CLOCK_REALTIME,
            libc::CLOCK_BOOTTIME_ALARM => libc::CLOCK_BOOTTIME,
            c => c,
        },
        libc::CLOCK_PROCESS_CPUTIME_ID | libc::CLOCK_THREAD_CPUTIME_ID => {
            crate::host::process_cpu_clock(t.stub_pid, 2)
        }
        // CPU clocks of a process by pid: only the caller's own.
        c if c < 0 && (!(c >> 3)) == t.tgid => crate::host::process_cpu_clock(t.stub_pid, c & 3),
        c if c < 0 => bail!(EINVAL, "CPU clock of another process"),
        _ => bail!(EINVAL, "clock {clock}"),
    })
}

pub fn timer_create(t: &mut Task, a: [u64; 6]) -> SysResult {
    let clock = timer_clock(t, crate::syscalls::int_arg(a[0]))?;
    let id = (0..i32::MAX)
        .find(|i| !t.timers.borrow().posix.contains_key(i))
        .ok_or_else(|| crate::errno!(EAGAIN))?;
    let mut thread = None;
    let (signo, value) = if a[1] == 0 {
        (abi::signal::SIGALRM, id as u64)
    } else {
        // struct sigevent { sigval value; int signo; int notify; union { int tid; ... } }
        let raw: [u8; 64] = t.mm.read_obj(UserAddr(a[1]))?;
        let value = u64::from_ne_bytes(raw[0..8].try_into().unwrap_or_default());
        let signo = i32::from_ne_bytes(raw[8..12].try_into().unwrap_or_default());
        let notify = i32::from_ne_bytes(raw[12..16].try_into().unwrap_or_default());
        let tid = i32::from_ne_bytes(raw[16..20].try_into().unwrap_or_default());
        match notify {
            SIGEV_NONE => (0, value),
            SIGEV_SIGNAL | SIGEV_THREAD_ID => {
                if !(1..=abi::signal::SIGRTMAX).contains(&signo) {
                    bail!(EINVAL, "sigev_signo {signo}");
                }
                if notify == SIGEV_THREAD_ID {
                    // Any thread of the caller's process (glibc's SIGEV_THREAD helper thread).
                    let procs = t.k.procs.borrow();
                    let mine = tid == t.tgid || procs.threads.get(&tid) == Some(&t.tgid);
                    if !mine {
                        bail!(
                            EINVAL,
                            "sigev_notify_thread_id {tid} is not of this process"
                        );
                    }
                    thread = Some(tid);
                }
                (signo, value)
            }
            // SIGEV_THREAD is glibc's, done with SIGEV_THREAD_ID; the kernel rejects it.
            SIGEV_THREAD => bail!(EINVAL, "SIGEV_THREAD"),
            _ => bail!(EINVAL, "sigev_notify {notify}"),
        }
    };
    t.mm.write_obj(UserAddr(a[2]), &id)?;
    t.timers.borrow_mut().posix.insert(
        id,
        Timer {
            clock,
            signo,
            value,
            id,
            thread,
            ..Timer::default()
        },
    );
    Ok(0)
}

/// Runs `f` on POSIX timer `id` (EINVAL if there is none).
fn with_timer<R>(t: &Task, id: u64, f: impl FnOnce(&mut Timer) -> R) -> Result<R, Errno> {
    let id = i32::try_from(id).map_err(|_| crate::errno!(EINVAL))?;
    let mut timers = t.timers.borrow_mut();
    let x = timers
        .posix
        .get_mut(&id)
        .ok_or_else(|| crate::errno!(EINVAL, "no timer {id}"))?;
    Ok(f(x))
}

pub fn timer_settime(t: &mut Task, a: [u64; 6]) -> SysResult {
    with_timer(t, a[0], |_| ())?;
    let v: [abi::Timespec; 2] = t.mm.read_obj(UserAddr(a[2]))?;
    for ts in v {
        if ts.tv_sec < 0 || !(0..1_000_000_000).contains(&ts.tv_nsec) {
            bail!(EINVAL, "bad itimerspec");
        }
    }
    let (old, id) = with_timer(t, a[0], |x| {
        let old = current(x);
        let value = ts_ns(v[1]);
        x.interval_ns = ts_ns(v[0]);
        x.next_ns = if value == 0 {
            0
        } else if a[1] & TIMER_ABSTIME != 0 {
            // An absolute time already past fires at once.
            value.max(1)
        } else {
            now_ns(x.clock).saturating_add(value)
        };
        x.last_overrun = 0;
        x.delivered_overrun = 0;
        (old, x.id)
    })?;
    drop_pending(t, id);
    if a[3] != 0 {
        t.mm.write_obj(UserAddr(a[3]), &[ns_ts(old.0), ns_ts(old.1)])?;
    }
    Ok(0)
}

pub fn timer_gettime(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (interval, value) = with_timer(t, a[0], |x| current(x))?;
    t.mm.write_obj(UserAddr(a[1]), &[ns_ts(interval), ns_ts(value)])?;
    Ok(0)
}

pub fn timer_getoverrun(t: &mut Task, a: [u64; 6]) -> SysResult {
    Ok(with_timer(t, a[0], |x| x.delivered_overrun)? as u64)
}

/// A thread took signal `info` of POSIX timer `info.pid`: its overrun is what
/// timer_getoverrun reports until the next one is taken.
pub fn delivered(t: &Task, info: &SigInfo) {
    if info.code != SI_TIMER {
        return;
    }
    if let Some(x) = t.timers.borrow_mut().posix.get_mut(&info.pid) {
        x.delivered_overrun = info.uid.cast_signed();
    }
}

pub fn timer_delete(t: &mut Task, a: [u64; 6]) -> SysResult {
    let id = with_timer(t, a[0], |x| x.id)?;
    t.timers.borrow_mut().posix.remove(&id);
    drop_pending(t, id);
    Ok(0)
}

/// A timer re-armed or deleted takes back its pending signal, as Linux.
fn drop_pending(t: &mut Task, id: i32) {
    let sigs = &mut t.signals;
    for sig in 1..=abi::signal::SIGRTMAX {
        let info = &sigs.info[usize::try_from(sig - 1).unwrap_or(0)];
        if sigs.pending & abi::signal::bit(sig) != 0 && info.code == SI_TIMER && info.pid == id {
            sigs.pending &= !abi::signal::bit(sig);
        }
    }
}
