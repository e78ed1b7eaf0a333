//! Signal syscalls: dispositions, the mask, sending (kill and its relatives) and the alternate
//! stack. Delivery (frames, rt_sigreturn, waits) is in [`crate::kernel::signal`].

use super::int_arg;
use crate::bail;
use crate::errors::SysResult;
use crate::kernel::signal::{self as ksignal, SigInfo};
use crate::kernel::Task;
use crate::mm::UserAddr;
use abi::signal::*;

/// The flags Linux keeps in a sigaction (`UAPI_SA_FLAGS` on x86-64); others are cleared.
const SA_KNOWN: u64 = SA_NOCLDSTOP
    | SA_NOCLDWAIT
    | SA_SIGINFO
    | SA_ONSTACK
    | SA_RESTART
    | SA_NODEFER
    | SA_RESETHAND
    | SA_EXPOSE_TAGBITS
    | SA_RESTORER;
const UNBLOCKABLE: u64 = bit(SIGKILL) | bit(SIGSTOP);

pub fn rt_sigaction(t: &mut Task, a: [u64; 6]) -> SysResult {
    let sig = int_arg(a[0]);
    if a[3] != 8 {
        bail!(EINVAL, "sigsetsize {} != 8", a[3]);
    }
    let new = if a[1] != 0 {
        Some(t.mm.read_obj::<abi::KernelSigaction>(UserAddr(a[1]))?)
    } else {
        None
    };
    if !(1..=SIGRTMAX).contains(&sig) || (new.is_some() && (sig == SIGKILL || sig == SIGSTOP)) {
        bail!(EINVAL, "signal {sig}");
    }
    let old = t.signals.action(sig);
    if let Some(mut new) = new {
        new.flags &= SA_KNOWN;
        new.mask &= !UNBLOCKABLE;
        t.signals.set_action(sig, new);
        // A signal now ignored is discarded if pending (blocked or not), as Linux.
        let ignored = new.handler == 1 || (new.handler == 0 && ksignal::default_ignored(sig));
        if ignored {
            ksignal::discard(t, sig);
        }
    }
    if a[2] != 0 {
        t.mm.write_obj(UserAddr(a[2]), &old)?;
    }
    Ok(0)
}

pub fn rt_sigprocmask(t: &mut Task, a: [u64; 6]) -> SysResult {
    if a[3] != 8 {
        bail!(EINVAL, "sigsetsize {} != 8", a[3]);
    }
    let old = t.signals.mask;
    if a[1] != 0 {
        let set: u64 = t.mm.read_obj(UserAddr(a[1]))?;
        let set = set & !UNBLOCKABLE;
        t.signals.mask = match u64::from(int_arg(a[0]).cast_unsigned()) {
            SIG_BLOCK => old | set,
            SIG_UNBLOCK => old & !set,
            SIG_SETMASK => set,
            how => bail!(EINVAL, "how {how}"),
        };
    }
    if a[2] != 0 {
        t.mm.write_obj(UserAddr(a[2]), &old)?;
    }
    Ok(0)
}

/// Queues `sig` for another process (applied by the scheduler before it next runs).
fn send_other(t: &Task, pid: i32, sig: i32, info: SigInfo) {
    if let Some(p) = t.k.procs.borrow_mut().procs.get_mut(&pid) {
        p.pending.push((sig, info));
    }
}

pub fn kill(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (pid, sig) = (int_arg(a[0]), int_arg(a[1]));
    if !(0..=SIGRTMAX).contains(&sig) {
        bail!(EINVAL, "signal {sig}");
    }
    // Who gets it: one process, the caller's group (0), a group (-pgid), or everyone the caller
    // may signal but init (-1, the caller included).
    let targets: Vec<i32> = {
        let procs = t.k.procs.borrow();
        let my_pgid = procs.get(t.tgid).map_or(t.tgid, |p| p.pgid);
        procs
            .procs
            .iter()
            .filter(|(_, p)| p.zombie.is_none())
            .filter(|(&q, p)| match pid {
                -1 => q != 1 && q != t.tgid,
                0 => p.pgid == my_pgid,
                n if n < -1 => p.pgid == -n,
                n => q == n,
            })
            .map(|(&q, _)| q)
            .collect()
    };
    if targets.is_empty() {
        // A zombie still exists for kill's purposes (and takes the signal to no effect).
        if pid > 0 && t.k.procs.borrow().get(pid).is_some() {
            return Ok(0);
        }
        bail!(ESRCH);
    }
    // Every process in the sandbox runs as the sandbox's identity; a non-root caller may signal
    // processes with its real or effective uid (here: all of them, as they share it).
    if sig == 0 {
        return Ok(0);
    }
    let info = SigInfo {
        code: ksignal::SI_USER,
        pid: t.tgid,
        uid: t.creds.ruid,
        ..SigInfo::default()
    };
    for &q in &targets {
        to_process_unchecked(t, q, sig, info);
    }
    Ok(0)
}

/// Sends to thread `tid` (of process `tgid` if given): tgkill, tkill, rt_tgsigqueueinfo.
fn to_thread(t: &mut Task, tgid: Option<i32>, tid: i32, sig: i32, info: SigInfo) -> SysResult {
    let owner = {
        let procs = t.k.procs.borrow();
        match procs.threads.get(&tid) {
            Some(&g) => Some(g),
            None => procs
                .get(tid)
                .is_some_and(|p| p.zombie.is_none())
                .then_some(tid),
        }
    };
    let Some(owner) = owner else {
        bail!(ESRCH);
    };
    if tgid.is_some_and(|g| g != owner) {
        bail!(ESRCH);
    }
    if sig == 0 {
        return Ok(0);
    }
    if tid == t.tid {
        ksignal::raise(t, sig, info);
    } else {
        t.k.procs.borrow_mut().thread_signals.push((tid, sig, info));
    }
    Ok(0)
}

/// Sends to process `pid` (rt_sigqueueinfo).
fn to_process(t: &mut Task, pid: i32, sig: i32, info: SigInfo) -> SysResult {
    let alive =
        t.k.procs
            .borrow()
            .get(pid)
            .is_some_and(|p| p.zombie.is_none());
    if !alive {
        bail!(ESRCH);
    }
    if sig == 0 {
        return Ok(0);
    }
    to_process_unchecked(t, pid, sig, info);
    Ok(0)
}

/// A process-directed signal: the caller takes one to its own process at once unless it blocks
/// it; otherwise the scheduler gives it to a thread that does not.
fn to_process_unchecked(t: &mut Task, pid: i32, sig: i32, info: SigInfo) {
    if pid == t.tgid && t.signals.mask & abi::signal::bit(sig) == 0 {
        ksignal::raise(t, sig, info);
    } else {
        send_other(t, pid, sig, info);
    }
}

fn tkill_info(t: &Task) -> SigInfo {
    SigInfo {
        code: ksignal::SI_TKILL,
        pid: t.tgid,
        uid: t.creds.ruid,
        ..SigInfo::default()
    }
}

pub fn tgkill(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (tgid, tid, sig) = (int_arg(a[0]), int_arg(a[1]), int_arg(a[2]));
    if tgid <= 0 || tid <= 0 || !(0..=SIGRTMAX).contains(&sig) {
        bail!(EINVAL);
    }
    let info = tkill_info(t);
    to_thread(t, Some(tgid), tid, sig, info)
}

pub fn tkill(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (tid, sig) = (int_arg(a[0]), int_arg(a[1]));
    if tid <= 0 || !(0..=SIGRTMAX).contains(&sig) {
        bail!(EINVAL);
    }
    let info = tkill_info(t);
    to_thread(t, None, tid, sig, info)
}

pub fn rt_sigqueueinfo(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (pid, sig) = (int_arg(a[0]), int_arg(a[1]));
    let info = ksignal::queue_info(t, pid, sig, a[2])?;
    if pid <= 0 {
        bail!(ESRCH);
    }
    to_process(t, pid, sig, info.unwrap_or_default())
}

pub fn rt_tgsigqueueinfo(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (tgid, tid, sig) = (int_arg(a[0]), int_arg(a[1]), int_arg(a[2]));
    if tgid <= 0 || tid <= 0 {
        bail!(EINVAL);
    }
    let info = ksignal::queue_info(t, tgid, sig, a[3])?;
    to_thread(t, Some(tgid), tid, sig, info.unwrap_or_default())
}

const SS_ONSTACK: i32 = 1;
const SS_DISABLE: i32 = 2;
const SS_AUTODISARM: i32 = 1 << 31;

/// sigaltstack: the alternate stack handlers with SA_ONSTACK run on (EPERM to change it while
/// running on it).
pub fn sigaltstack(t: &mut Task, a: [u64; 6]) -> SysResult {
    let new = if a[0] != 0 {
        // stack_t { void *ss_sp; int ss_flags; size_t ss_size; }
        let raw: [u64; 3] = t.mm.read_obj(UserAddr(a[0]))?;
        Some(raw)
    } else {
        None
    };
    if a[1] != 0 {
        let (sp, flags, size) = t.altstack;
        let shown = if size == 0 {
            SS_DISABLE
        } else if on_altstack(t) {
            SS_ONSTACK
        } else {
            0
        } | flags;
        let old: [u64; 3] = [sp, u64::from(shown.cast_unsigned()), size];
        t.mm.write_obj(UserAddr(a[1]), &old)?;
    }
    if let Some([sp, flags, size]) = new {
        let flags = (flags as u32).cast_signed();
        let mode = flags & !SS_AUTODISARM;
        if on_altstack(t) {
            bail!(EPERM, "running on the alternate stack");
        }
        if mode != 0 && mode != SS_DISABLE && mode != SS_ONSTACK {
            bail!(EINVAL, "bad ss_flags");
        }
        if mode == SS_DISABLE {
            t.altstack = (0, flags, 0);
        } else {
            // MINSIGSTKSZ (Linux asks for more only of tasks using AMX state).
            if size < 2048 {
                bail!(ENOMEM, "alternate stack smaller than MINSIGSTKSZ");
            }
            t.altstack = (sp, flags & SS_AUTODISARM, size);
        }
    }
    Ok(0)
}

/// Whether the task runs on its alternate signal stack.
fn on_altstack(t: &Task) -> bool {
    let (sp, _, size) = t.altstack;
    size != 0 && t.regs.rsp > sp && t.regs.rsp <= sp + size
}
