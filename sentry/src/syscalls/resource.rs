//! Resource usage, priorities and scheduler queries: times, getrusage, getpriority/setpriority,
//! the sched_* queries, sched_setaffinity, fadvise64, and the clocks a sandbox may not set.

use super::fs::file;
use super::{fd_arg, int_arg};
use crate::errors::{Errno, SysResult};
use crate::kernel::Task;
use crate::mm::UserAddr;
use crate::{bail, errno, host};

/// Clock ticks per second (AT_CLKTCK).
const HZ: i64 = 100;

/// The guest's user and system CPU time, in nanoseconds.
/// The CPU time (user, system, ns) of the task's process (its stub).
pub(crate) fn cpu_times(t: &Task) -> (i64, i64) {
    let ns = |kind| {
        host::clock_gettime(host::process_cpu_clock(t.stub_pid, kind))
            .map(|ts| ts.tv_sec * 1_000_000_000 + ts.tv_nsec)
            .unwrap_or(0)
    };
    // As Linux's cputime_adjust: the precise runtime (CPUCLOCK_SCHED, 2) split in the ratio of
    // the tick-sampled user (CPUCLOCK_VIRT, 1) and user + system (CPUCLOCK_PROF, 0) times, which
    // alone can lag far behind it (steal time in a VM).
    let (total, prof, user) = (ns(2), ns(0), ns(1));
    let user = if prof > 0 {
        i64::try_from(i128::from(total) * i128::from(user) / i128::from(prof)).unwrap_or(total)
    } else {
        total
    };
    (user, (total - user).max(0))
}

pub fn times(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (user, sys) = cpu_times(t);
    let ticks = |ns: i64| ns / (1_000_000_000 / HZ);
    if a[0] != 0 {
        // struct tms: utime, stime, cutime, cstime (the children reaped).
        let (cu, cs) = children_cpu(t);
        let tms: [i64; 4] = [ticks(user), ticks(sys), ticks(cu), ticks(cs)];
        t.mm.write_obj(UserAddr(a[0]), &tms)?;
    }
    let up = host::clock_gettime(libc::CLOCK_BOOTTIME).unwrap_or_default();
    Ok((up.tv_sec * HZ + up.tv_nsec / (1_000_000_000 / HZ)).cast_unsigned())
}

/// The CPU time of the children the task's process has reaped, and of theirs.
fn children_cpu(t: &Task) -> (i64, i64) {
    t.k.procs
        .borrow()
        .get(t.tgid)
        .map_or((0, 0), |p| p.children_cpu)
}

pub fn getrusage(t: &mut Task, a: [u64; 6]) -> SysResult {
    let who = int_arg(a[0]);
    // struct rusage: ru_utime, ru_stime (timevals), then 14 longs (ru_maxrss first, in KiB).
    let mut r = [0i64; 18];
    match who {
        0 | 1 => {
            // RUSAGE_SELF, RUSAGE_THREAD (one thread).
            let (user, sys) = cpu_times(t);
            r[0] = user / 1_000_000_000;
            r[1] = (user % 1_000_000_000) / 1000;
            r[2] = sys / 1_000_000_000;
            r[3] = (sys % 1_000_000_000) / 1000;
            r[4] = i64::try_from(t.mm.mapped_bytes() / 1024).unwrap_or(i64::MAX);
        }
        -1 => {
            // RUSAGE_CHILDREN: the children reaped (waited for), and theirs.
            let cpu = crate::kernel::process::rusage(children_cpu(t));
            r[..4].copy_from_slice(&cpu[..4]);
        }
        _ => bail!(EINVAL),
    }
    t.mm.write_obj(UserAddr(a[1]), &r)?;
    Ok(0)
}

/// The `who` of getpriority/setpriority must name the sandbox's one process (or its group, or
/// its user).
fn check_who(t: &Task, which: i32, who: i32) -> Result<(), Errno> {
    match which {
        0 | 1 if who == 0 || who == t.tgid => Ok(()),
        2 if who == 0 || who.cast_unsigned() == t.creds.ruid => Ok(()),
        0..=2 => Err(errno!(ESRCH)),
        _ => Err(errno!(EINVAL)),
    }
}

pub fn getpriority(t: &mut Task, a: [u64; 6]) -> SysResult {
    check_who(t, int_arg(a[0]), int_arg(a[1]))?;
    // The kernel returns 20 - nice (1..40); libc turns it back.
    Ok((20 - t.nice) as u64)
}

pub fn setpriority(t: &mut Task, a: [u64; 6]) -> SysResult {
    check_who(t, int_arg(a[0]), int_arg(a[1]))?;
    let nice = int_arg(a[2]).clamp(-20, 19);
    // Raising priority needs CAP_SYS_NICE (an effective uid of 0 here) or RLIMIT_NICE.
    let rlim = i64::try_from(t.rlimits[libc::RLIMIT_NICE as usize].cur).unwrap_or(0);
    if nice < t.nice && t.creds.euid != 0 && i64::from(20 - nice) > rlim {
        bail!(EACCES);
    }
    t.nice = nice;
    Ok(0)
}

fn self_pid(t: &Task, pid: i32) -> Result<(), Errno> {
    if pid < 0 {
        bail!(EINVAL);
    }
    if pid != 0 && pid != t.tgid {
        bail!(ESRCH);
    }
    Ok(())
}

pub fn sched_getscheduler(t: &mut Task, a: [u64; 6]) -> SysResult {
    self_pid(t, int_arg(a[0]))?;
    Ok(u64::from(t.sched.0.cast_unsigned()))
}

pub fn sched_getparam(t: &mut Task, a: [u64; 6]) -> SysResult {
    self_pid(t, int_arg(a[0]))?;
    t.mm.write_obj(UserAddr(a[1]), &t.sched.1)?;
    Ok(0)
}

const SCHED_RESET_ON_FORK: i32 = 0x4000_0000;

/// Checks `policy` and `prio` as Linux does and records them (the stub's host scheduling is
/// left alone: a sandbox gets no real-time priority on the host).
fn set_sched(t: &mut Task, policy: i32, prio: i32) -> SysResult {
    let base = policy & !SCHED_RESET_ON_FORK;
    let realtime = match base {
        0 | 3 | 5 => false, // SCHED_OTHER, SCHED_BATCH, SCHED_IDLE
        1 | 2 => true,      // SCHED_FIFO, SCHED_RR
        _ => bail!(EINVAL, "policy {policy}"),
    };
    if realtime != (1..=99).contains(&prio) || (!realtime && prio != 0) {
        bail!(EINVAL, "priority {prio} for policy {base}");
    }
    if realtime
        && t.creds.euid != 0
        && u64::from(prio.cast_unsigned()) > t.rlimits[libc::RLIMIT_RTPRIO as usize].cur
    {
        bail!(
            EPERM,
            "real-time priority needs CAP_SYS_NICE or RLIMIT_RTPRIO"
        );
    }
    t.sched = (policy, prio);
    Ok(0)
}

pub fn sched_setscheduler(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (pid, policy) = (int_arg(a[0]), int_arg(a[1]));
    if a[2] == 0 || pid < 0 {
        bail!(EINVAL);
    }
    let prio: i32 = t.mm.read_obj(UserAddr(a[2]))?;
    self_pid(t, pid)?;
    set_sched(t, policy, prio)
}

pub fn sched_setparam(t: &mut Task, a: [u64; 6]) -> SysResult {
    let pid = int_arg(a[0]);
    if a[1] == 0 || pid < 0 {
        bail!(EINVAL);
    }
    let prio: i32 = t.mm.read_obj(UserAddr(a[1]))?;
    self_pid(t, pid)?;
    set_sched(t, t.sched.0, prio)
}

pub fn sched_get_priority_max(_t: &mut Task, a: [u64; 6]) -> SysResult {
    match int_arg(a[0]) {
        1 | 2 => Ok(99),        // SCHED_FIFO, SCHED_RR
        0 | 3 | 5 | 6 => Ok(0), // OTHER, BATCH, IDLE, DEADLINE
        _ => Err(errno!(EINVAL)),
    }
}

pub fn sched_get_priority_min(_t: &mut Task, a: [u64; 6]) -> SysResult {
    match int_arg(a[0]) {
        1 | 2 => Ok(1),
        0 | 3 | 5 | 6 => Ok(0),
        _ => Err(errno!(EINVAL)),
    }
}

pub fn sched_rr_get_interval(t: &mut Task, a: [u64; 6]) -> SysResult {
    self_pid(t, int_arg(a[0]))?;
    // The host's answer for the Sentry's own thread, which runs under the same policy.
    let ts = host::sched_rr_get_interval().map_err(super::host_err)?;
    t.mm.write_obj(UserAddr(a[1]), &ts)?;
    Ok(0)
}

pub fn sched_setaffinity(t: &mut Task, a: [u64; 6]) -> SysResult {
    self_pid(t, int_arg(a[0]))?;
    let len = usize::try_from(a[1] & 0xffff_ffff)
        .unwrap_or(0)
        .min(1 << 16);
    let mut mask = vec![0u8; len];
    t.mm.copy_in(UserAddr(a[2]), &mut mask)?;
    // The new mask must keep at least one CPU the sandbox may use.
    let allowed = &t.k.affinity;
    if !mask.iter().zip(allowed).any(|(m, a)| m & a != 0) {
        bail!(EINVAL, "no allowed CPU in the mask");
    }
    let mut kept: Vec<u8> = allowed
        .iter()
        .zip(mask.iter().chain(std::iter::repeat(&0)))
        .map(|(a, m)| a & m)
        .collect();
    kept.truncate(allowed.len());
    t.affinity = Some(kept);
    Ok(0)
}

pub fn fadvise64(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = file(t, fd_arg(a[0]))?;
    if f.vfs().is_none() {
        // An inherited pipe or terminal.
        bail!(ESPIPE);
    }
    if !(0..=5).contains(&int_arg(a[3])) {
        bail!(EINVAL, "bad advice");
    }
    // Advice only: the sandbox's files are in memory or read through the host's page cache.
    Ok(0)
}

/// Setting the host's clock is not the sandbox's to do (no CAP_SYS_TIME).
pub fn settime(_t: &mut Task, _a: [u64; 6]) -> SysResult {
    Err(errno!(EPERM, "the sandbox may not set the clock"))
}
