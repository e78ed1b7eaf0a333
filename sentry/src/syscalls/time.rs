//! Clocks and sleeps. Wall and monotonic clocks are the host's; the process CPU clocks measure the
//! stub (where guest code runs). There is no vDSO yet, so every clock read is a syscall.

use super::{host_err, int_arg};
use crate::errors::{Errno, SysResult};
use crate::kernel::Task;
use crate::mm::UserAddr;
use crate::{bail, host};
use abi::clock::*;
use abi::Timespec;

/// The host clock id to read for a guest clock id, or EINVAL.
fn host_clock(t: &Task, id: i32) -> Result<libc::clockid_t, Errno> {
    match id {
        CLOCK_REALTIME
        | CLOCK_MONOTONIC
        | CLOCK_MONOTONIC_RAW
        | CLOCK_REALTIME_COARSE
        | CLOCK_MONOTONIC_COARSE
        | CLOCK_BOOTTIME
        | CLOCK_REALTIME_ALARM
        | CLOCK_BOOTTIME_ALARM
        | CLOCK_TAI => Ok(id),
        // One thread per process so far: the thread clock is the process clock.
        CLOCK_PROCESS_CPUTIME_ID | CLOCK_THREAD_CPUTIME_ID => {
            Ok(host::process_cpu_clock(t.stub_pid, 2))
        }
        id if id < 0 => {
            // A CPU clock id for a pid or tid: ~pid << 3 | (thread << 2) | kind.
            let kind = id & 3;
            let pid = !(id >> 3);
            if kind == 3 || (pid != 0 && pid != 1) {
                bail!(EINVAL, "clock id {id}");
            }
            Ok(host::process_cpu_clock(t.stub_pid, kind))
        }
        _ => bail!(EINVAL, "clock id {id}"),
    }
}

pub fn clock_gettime(t: &mut Task, a: [u64; 6]) -> SysResult {
    let id = host_clock(t, int_arg(a[0]))?;
    let ts = host::clock_gettime(id).map_err(host_err)?;
    t.mm.write_obj(UserAddr(a[1]), &ts)?;
    Ok(0)
}

pub fn clock_getres(t: &mut Task, a: [u64; 6]) -> SysResult {
    let id = host_clock(t, int_arg(a[0]))?;
    let ts = host::clock_getres(id).map_err(host_err)?;
    if a[1] != 0 {
        t.mm.write_obj(UserAddr(a[1]), &ts)?;
    }
    Ok(0)
}

pub fn gettimeofday(t: &mut Task, a: [u64; 6]) -> SysResult {
    if a[0] != 0 {
        let ts = host::clock_gettime(CLOCK_REALTIME).map_err(host_err)?;
        t.mm.write_obj(
            UserAddr(a[0]),
            &abi::Timeval {
                tv_sec: ts.tv_sec,
                tv_usec: ts.tv_nsec / 1000,
            },
        )?;
    }
    if a[1] != 0 {
        t.mm.write_obj(UserAddr(a[1]), &abi::Timezone::default())?;
    }
    Ok(0)
}

pub fn time(t: &mut Task, a: [u64; 6]) -> SysResult {
    let ts = host::clock_gettime(CLOCK_REALTIME).map_err(host_err)?;
    if a[0] != 0 {
        t.mm.write_obj(UserAddr(a[0]), &ts.tv_sec)?;
    }
    Ok(ts.tv_sec.cast_unsigned())
}

fn read_timespec(t: &Task, addr: u64) -> Result<Timespec, Errno> {
    let ts: Timespec = t.mm.read_obj(UserAddr(addr))?;
    if !ts.is_valid() {
        bail!(EINVAL, "timespec {}.{:09}", ts.tv_sec, ts.tv_nsec);
    }
    Ok(ts)
}

/// Sleeps until `clock` reaches `end` (absolute) without holding up other tasks: the task
/// waits, and the scheduler sleeps only when every task does.
fn sleep_until(t: &mut Task, clock: i32, end: Timespec) -> SysResult {
    if t.wait.deadline.is_none() {
        t.wait.deadline = Some((clock, end));
    }
    if t.wait.expired() {
        return Ok(0);
    }
    Err(crate::errors::Errno::new(crate::errors::EBLOCK))
}

/// `now + ts` on `clock`.
fn deadline_after(clock: i32, ts: Timespec) -> Result<Timespec, crate::errors::Errno> {
    let now = host::clock_gettime(clock).map_err(host_err)?;
    let mut end = Timespec {
        tv_sec: now.tv_sec.saturating_add(ts.tv_sec),
        tv_nsec: now.tv_nsec + ts.tv_nsec,
    };
    if end.tv_nsec >= 1_000_000_000 {
        end.tv_sec = end.tv_sec.saturating_add(1);
        end.tv_nsec -= 1_000_000_000;
    }
    Ok(end)
}

pub fn nanosleep(t: &mut Task, a: [u64; 6]) -> SysResult {
    if t.wait.deadline.is_none() {
        let ts = read_timespec(t, a[0])?;
        let end = deadline_after(CLOCK_MONOTONIC, ts)?;
        t.wait.deadline = Some((CLOCK_MONOTONIC, end));
    }
    let (clock, end) = t.wait.deadline.unwrap_or_default();
    sleep_until(t, clock, end)
}

pub fn clock_nanosleep(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (id, flags) = (int_arg(a[0]), int_arg(a[1]));
    // Linux checks the clock (EINVAL unknown, EOPNOTSUPP without nsleep), then the timespec.
    let cpu_clock = match id {
        CLOCK_REALTIME | CLOCK_MONOTONIC | CLOCK_BOOTTIME | CLOCK_TAI | CLOCK_REALTIME_ALARM
        | CLOCK_BOOTTIME_ALARM => false,
        CLOCK_MONOTONIC_RAW
        | CLOCK_REALTIME_COARSE
        | CLOCK_MONOTONIC_COARSE
        | CLOCK_THREAD_CPUTIME_ID => {
            bail!(EOPNOTSUPP, "clock {id} cannot be slept on")
        }
        CLOCK_PROCESS_CPUTIME_ID => true,
        // A pid-encoded process CPU clock of this process; thread clocks are refused.
        id if id < 0 && id & 4 == 0 => {
            host_clock(t, id)?;
            true
        }
        _ => bail!(EINVAL, "clock id {id}"),
    };
    let ts = read_timespec(t, a[2])?;
    if cpu_clock {
        return cpu_clock_sleep(t, flags & TIMER_ABSTIME != 0, ts);
    }
    // The alarm clocks: the host applies its own rules (EINVAL without an RTC).
    if id == CLOCK_REALTIME_ALARM || id == CLOCK_BOOTTIME_ALARM {
        host::clock_nanosleep(id, flags & TIMER_ABSTIME, ts).map_err(host_err)?;
        return Ok(0);
    }
    if t.wait.deadline.is_none() {
        let end = if flags & TIMER_ABSTIME != 0 {
            ts
        } else {
            deadline_after(id, ts)?
        };
        t.wait.deadline = Some((id, end));
    }
    let (clock, end) = t.wait.deadline.unwrap_or_default();
    sleep_until(t, clock, end)
}

/// Sleeps until the process has used `ts` of CPU time (or until it has used that much in all, with
/// TIMER_ABSTIME). The guest's one thread is the one sleeping, so its CPU clock stands still:
/// a deadline not already reached is never reached, and the sleep lasts until the sandbox ends, as
/// it does natively for a single-threaded process.
fn cpu_clock_sleep(t: &mut Task, absolute: bool, ts: Timespec) -> SysResult {
    let now = host::clock_gettime(host::process_cpu_clock(t.stub_pid, 2)).map_err(host_err)?;
    let reached = if absolute {
        (now.tv_sec, now.tv_nsec) >= (ts.tv_sec, ts.tv_nsec)
    } else {
        ts == Timespec::default()
    };
    if reached {
        return Ok(0);
    }
    t.k.log_partial(
        "clock_nanosleep on the process CPU clock of a single-threaded guest: sleeps forever"
            .into(),
    );
    loop {
        std::thread::sleep(std::time::Duration::from_secs(3600));
    }
}
