//! rt_sigaction and rt_sigprocmask: dispositions and the mask are kept exactly (what the guest
//! reads back is what Linux would return); delivery comes with the tasks issue.

use super::int_arg;
use crate::bail;
use crate::errors::SysResult;
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
    let slot = usize::try_from(sig - 1).unwrap_or(0);
    let old = t.signals.actions[slot];
    if let Some(mut new) = new {
        new.flags &= SA_KNOWN;
        new.mask &= !UNBLOCKABLE;
        t.signals.actions[slot] = new;
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

/// Sends `sig` to the calling task (the only one so far). Delivery to a guest handler comes with
/// the tasks issue; until then a signal with a handler ends the guest as the default action
/// would (logged as a partial path), like a fault does.
pub fn send_self(t: &mut Task, sig: i32) -> SysResult {
    if !(0..=SIGRTMAX).contains(&sig) {
        bail!(EINVAL, "signal {sig}");
    }
    if sig == 0 {
        return Ok(0);
    }
    let bitv = bit(sig);
    let handler = t.signals.actions[usize::try_from(sig - 1).unwrap_or(0)].handler;
    if t.signals.mask & bitv != 0 && sig != SIGKILL && sig != SIGSTOP {
        t.k.log_partial(format!(
            "{} sent while blocked: not kept pending",
            name(sig)
        ));
        return Ok(0);
    }
    match handler {
        1 => Ok(0), // SIG_IGN
        0 => {
            match sig {
                SIGCHLD | 23 /* SIGURG */ | 28 /* SIGWINCH */ | 18 /* SIGCONT */ => {}
                SIGSTOP | 20 | 21 | 22 => {
                    t.k.log_partial(format!("stop signal {} (job control: tasks issue)", name(sig)));
                }
                _ => t.kill(sig),
            }
            Ok(0)
        }
        _ => {
            t.k.log_partial(format!(
                "delivery of {} to a guest handler (the tasks issue): terminating as the default action would",
                name(sig)
            ));
            if !matches!(sig, SIGCHLD | 23 | 28 | 18) {
                t.kill(sig);
            }
            Ok(0)
        }
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
        let my_pgid = procs.get(t.tid).map_or(t.tid, |p| p.pgid);
        procs
            .procs
            .iter()
            .filter(|(_, p)| p.zombie.is_none())
            .filter(|(&q, p)| match pid {
                -1 => q != 1 || q == t.tid,
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
    for q in &targets {
        if *q != t.tid {
            if let Some(p) = t.k.procs.borrow_mut().procs.get_mut(q) {
                p.pending_kill = Some(sig);
            }
        }
    }
    if targets.contains(&t.tid) {
        send_self(t, sig)?;
    }
    Ok(0)
}

pub fn tgkill(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (tgid, tid, sig) = (int_arg(a[0]), int_arg(a[1]), int_arg(a[2]));
    if tgid <= 0 || tid <= 0 || !(0..=SIGRTMAX).contains(&sig) {
        bail!(EINVAL);
    }
    if tgid != t.tid || tid != t.tid {
        bail!(ESRCH);
    }
    send_self(t, sig)
}

pub fn tkill(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (tid, sig) = (int_arg(a[0]), int_arg(a[1]));
    if tid <= 0 || !(0..=SIGRTMAX).contains(&sig) {
        bail!(EINVAL);
    }
    if tid != t.tid {
        bail!(ESRCH);
    }
    send_self(t, sig)
}

const SS_ONSTACK: i32 = 1;
const SS_DISABLE: i32 = 2;
const SS_AUTODISARM: i32 = 1 << 31;

/// sigaltstack: the alternate stack is recorded (signal delivery, which uses it, comes with the
/// tasks issue); no handler runs yet, so the task is never on it.
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
        let shown = if size == 0 { SS_DISABLE } else { flags };
        let old: [u64; 3] = [sp, u64::from(shown.cast_unsigned()), size];
        t.mm.write_obj(UserAddr(a[1]), &old)?;
    }
    if let Some([sp, flags, size]) = new {
        let flags = (flags as u32).cast_signed();
        let mode = flags & !SS_AUTODISARM;
        if mode != 0 && mode != SS_DISABLE && mode != SS_ONSTACK {
            bail!(EINVAL, "bad ss_flags");
        }
        if mode == SS_DISABLE {
            t.altstack = (0, 0, 0);
        } else {
            let min = crate::host::getauxval(abi::auxv::AT_MINSIGSTKSZ).max(2048);
            if size < min {
                bail!(ENOMEM, "alternate stack smaller than MINSIGSTKSZ");
            }
            t.altstack = (sp, flags & SS_AUTODISARM, size);
        }
    }
    Ok(0)
}
