//! Clocks and sleeps. Wall and monotonic clocks are the host's; the process CPU clocks measure the
//! stub (where guest code runs). There is no vDSO yet, so every clock read is a syscall.

use super::{host_err, int_arg};
use crate::errors::{Errno, SysResult};
use crate::kernel::Task;
use crate::mm::UserAddr;
use crate::{bail, errno, host};
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

pub fn nanosleep(t: &mut Task, a: [u64; 6]) -> SysResult {
    let ts = read_timespec(t, a[0])?;
    host::clock_nanosleep(CLOCK_MONOTONIC, 0, ts).map_err(host_err)?;
    Ok(0)
}

pub fn clock_nanosleep(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (id, flags) = (int_arg(a[0]), int_arg(a[1]));
    let host_id = match id {
        CLOCK_REALTIME | CLOCK_MONOTONIC | CLOCK_BOOTTIME | CLOCK_TAI => id,
        CLOCK_REALTIME_ALARM | CLOCK_BOOTTIME_ALARM => {
            bail!(EPERM, "alarm clocks need CAP_WAKE_ALARM")
        }
        CLOCK_THREAD_CPUTIME_ID => bail!(EINVAL),
        CLOCK_PROCESS_CPUTIME_ID => {
            t.k.log_partial("clock_nanosleep on a CPU-time clock".into());
            return Err(errno!(EINVAL, "sleeping on CPU time is not implemented"));
        }
        _ => bail!(EINVAL, "clock id {id}"),
    };
    let ts = read_timespec(t, a[2])?;
    host::clock_nanosleep(host_id, flags & TIMER_ABSTIME, ts).map_err(host_err)?;
    Ok(0)
}
