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
