//! Signal delivery: pending signals, default actions, and running a guest handler on a Linux
//! signal frame (`struct rt_sigframe`: the return address (SA_RESTORER), a `ucontext` with the
//! registers, mask and alternate stack, a `siginfo`, and the XSAVE area of the FP and vector
//! state), undone by rt_sigreturn.
//!
//! A signal is delivered when its task is next resumed: after the syscall that raised it, or by
//! interrupting a syscall the task waits in (EINTR, or a restart with SA_RESTART).

use super::Task;
use crate::errors::{Errno, SysResult};
use crate::mm::UserAddr;
use crate::{bail, errno};
use abi::signal::*;

const UC_FP_XSTATE: u64 = 1;
const UC_SIGCONTEXT_SS: u64 = 2;
const UC_STRICT_RESTORE_SS: u64 = 4;
const FP_XSTATE_MAGIC1: u32 = 0x4650_5853;
const FP_XSTATE_MAGIC2: u32 = 0x4650_5845;
const SS_DISABLE: i32 = 2;

/// The fields of a siginfo the Sentry fills in.
#[derive(Clone, Copy, Debug, Default)]
pub struct SigInfo {
    pub code: i32,
    pub pid: i32,
    pub uid: u32,
    /// SIGCHLD: the exit status; queued signals: the value (sigqueue); faults: unused.
    pub value: u64,
    /// Faults: the address.
    pub addr: u64,
}

impl SigInfo {
    fn bytes(&self, sig: i32) -> [u8; 128] {
        let mut b = [0u8; 128];
        b[0..4].copy_from_slice(&sig.to_ne_bytes());
        b[8..12].copy_from_slice(&self.code.to_ne_bytes());
        if matches!(sig, SIGSEGV | SIGBUS | SIGILL | SIGFPE | SIGTRAP) && self.code > 0 {
            b[16..24].copy_from_slice(&self.addr.to_ne_bytes());
        } else {
            b[16..20].copy_from_slice(&self.pid.to_ne_bytes());
            b[20..24].copy_from_slice(&self.uid.to_ne_bytes());
            b[24..32].copy_from_slice(&self.value.to_ne_bytes());
        }
        b
    }
}

impl SigInfo {
    /// As `struct signalfd_siginfo` (128 bytes).
    pub fn signalfd_bytes(&self, sig: i32) -> [u8; 128] {
        let mut b = [0u8; 128];
        let mut put32 = |off: usize, v: u32| b[off..off + 4].copy_from_slice(&v.to_ne_bytes());
        put32(0, sig.cast_unsigned());
        put32(8, self.code.cast_unsigned());
        let fault = matches!(sig, SIGSEGV | SIGBUS | SIGILL | SIGFPE | SIGTRAP) && self.code > 0;
        if self.code == -2 {
            // SI_TIMER: the timer id and overrun.
            put32(24, self.pid.cast_unsigned());
            put32(32, self.uid);
        } else if !fault {
            put32(12, self.pid.cast_unsigned());
            put32(16, self.uid);
        }
        if sig == SIGCHLD {
            put32(40, self.value as u32);
        } else if !fault {
            put32(44, self.value as u32);
            b[48..56].copy_from_slice(&self.value.to_ne_bytes());
        }
        if fault {
            b[72..80].copy_from_slice(&self.addr.to_ne_bytes());
        }
        b
    }
}

/// SI_USER: sent by kill.
pub const SI_USER: i32 = 0;
/// Sent by the kernel (the OOM killer's SIGKILL).
pub const SI_KERNEL: i32 = 0x80;
/// SI_TKILL: sent by tkill/tgkill.
pub const SI_TKILL: i32 = -6;

fn slot(sig: i32) -> usize {
    usize::try_from(sig - 1).unwrap_or(0)
}

/// Whether the default action of `sig` is to do nothing.
pub fn default_ignored(sig: i32) -> bool {
    matches!(
        sig,
        SIGCHLD | 23 /* SIGURG */ | 28 /* SIGWINCH */ | 18 /* SIGCONT */
    )
}

/// Makes `sig` pending for `t` (a signal already pending is not queued twice). A signal the
/// task ignores is dropped at once unless it is blocked (it may be unblocked, or waited for with
/// sigtimedwait, first).
pub fn raise(t: &mut Task, sig: i32, info: SigInfo) {
    if !(1..=SIGRTMAX).contains(&sig) || t.exit.is_some() {
        return;
    }
    // Job control acts when the signal is sent, whatever the task does with it: SIGCONT
    // continues a stopped process and cancels pending stops; a stop cancels a pending SIGCONT.
    if sig == SIGCONT {
        t.signals.pending &= !(bit(SIGSTOP) | bit(SIGTSTP) | bit(SIGTTIN) | bit(SIGTTOU));
        continue_process(t);
    } else if is_stop(sig) {
        t.signals.pending &= !bit(SIGCONT);
    }
    // A parent that asked for SA_NOCLDSTOP hears of its children's stops and continues no more.
    if sig == SIGCHLD
        && matches!(info.code, CLD_STOPPED | CLD_CONTINUED)
        && t.signals.action(SIGCHLD).flags & SA_NOCLDSTOP != 0
    {
        return;
    }
    if ignored(t, sig) && t.signals.mask & bit(sig) == 0 {
        return;
    }
    if t.signals.pending & bit(sig) == 0 {
        t.signals.pending |= bit(sig);
        t.signals.info[slot(sig)] = info;
    } else if sig >= SIGRTMIN && t.signals.queued.len() < RT_QUEUE_MAX {
        // Real-time signals queue: one delivery per send, in order.
        t.signals.queued.push_back((sig, info));
    }
}

/// The first real-time signal (glibc keeps 32 and 33 for itself but the kernel does not care).
const SIGRTMIN: i32 = 32;
/// Queued real-time signals a task may hold (RLIMIT_SIGPENDING is far larger on Linux; this
/// bounds the Sentry's memory).
const RT_QUEUE_MAX: usize = 4096;

/// Takes pending signal `sig`: its siginfo, and the next queued one of the same signal (if any)
/// becomes pending.
fn take(t: &mut Task, sig: i32) -> SigInfo {
    let info = t.signals.info[slot(sig)];
    t.signals.pending &= !bit(sig);
    if let Some(i) = t.signals.queued.iter().position(|(s, _)| *s == sig) {
        if let Some((_, next)) = t.signals.queued.remove(i) {
            t.signals.pending |= bit(sig);
            t.signals.info[slot(sig)] = next;
        }
    }
    super::timer::delivered(t, &info);
    info
}

/// Takes the lowest pending signal of `set`, if any (signalfd).
pub fn take_any(t: &mut Task, set: u64) -> Option<(i32, SigInfo)> {
    let ready = t.signals.pending & set;
    if ready == 0 {
        return None;
    }
    let sig = ready.trailing_zeros() as i32 + 1;
    Some((sig, take(t, sig)))
}

/// Drops every pending instance of `sig` (it became ignored).
pub fn discard(t: &mut Task, sig: i32) {
    t.signals.pending &= !bit(sig);
    t.signals.queued.retain(|(s, _)| *s != sig);
}

/// Raises a synchronous signal (a fault): one the task blocks or ignores goes back to its
/// default action and is unblocked, as Linux's force_sig_info.
pub fn force(t: &mut Task, sig: i32, info: SigInfo) {
    let blocked = t.signals.mask & bit(sig) != 0;
    if blocked || t.signals.action(sig).handler == 1 {
        let mut a = t.signals.action(sig);
        a.handler = 0;
        t.signals.set_action(sig, a);
        t.signals.mask &= !bit(sig);
    }
    // A fault while its own handler runs (blocked, so now reset to the default): that kills.
    raise(t, sig, info);
}

fn ignored(t: &Task, sig: i32) -> bool {
    let handler = t.signals.action(sig).handler;
    handler == 1 || (handler == 0 && default_ignored(sig))
}

const CLD_STOPPED: i32 = 5;
const CLD_CONTINUED: i32 = 6;

fn is_stop(sig: i32) -> bool {
    matches!(sig, SIGSTOP | SIGTSTP | SIGTTIN | SIGTTOU)
}

/// Tells the parent of `t`'s process (SIGCHLD with `code` and `status`) and records the event
/// for its wait.
fn notify_parent(t: &Task, code: i32, status: i32) {
    let mut procs = t.k.procs.borrow_mut();
    let Some(me) = procs.procs.get_mut(&t.tgid) else {
        return;
    };
    if code == CLD_STOPPED {
        me.stopped = Some(status);
        me.stop_report = Some(status);
        me.cont_report = false;
    } else {
        me.stopped = None;
        me.stop_report = None;
        me.cont_report = true;
    }
    let ppid = me.ppid;
    if let Some(parent) = procs.procs.get_mut(&ppid) {
        parent.pending.push((
            SIGCHLD,
            SigInfo {
                code,
                pid: t.tgid,
                uid: t.creds.ruid,
                value: u64::from(status.cast_unsigned()),
                addr: 0,
            },
        ));
    }
}

/// SIGCONT sent to a stopped process: every thread runs again; the parent is told.
fn continue_process(t: &Task) {
    let stopped =
        t.k.procs
            .borrow()
            .get(t.tgid)
            .is_some_and(|p| p.stopped.is_some());
    if stopped {
        notify_parent(t, CLD_CONTINUED, SIGCONT);
    }
}

/// Faults first (as Linux's SYNCHRONOUS_MASK), then the lowest pending signal not blocked (nor
/// waited for by sigtimedwait, which takes it instead).
fn next(t: &Task) -> Option<i32> {
    let ready = t.signals.pending
        & !(t.signals.mask & !(bit(SIGKILL) | bit(SIGSTOP)))
        & !(t.signals.waiting_for & !bit(SIGKILL));
    let sync =
        ready & (bit(SIGSEGV) | bit(SIGBUS) | bit(SIGILL) | bit(SIGTRAP) | bit(SIGFPE) | bit(31));
    let pick = if sync != 0 { sync } else { ready };
    (pick != 0).then(|| pick.trailing_zeros() as i32 + 1)
}

/// Whether a signal would be acted on now.
pub fn deliverable(t: &Task) -> bool {
    t.signals.pending != 0 && next(t).is_some()
}

/// Acts on the task's pending signals: ignores them, takes the default action, or sets up the
/// frame of a handler (interrupting the syscall the task waits in, if it does).
pub fn deliver(t: &mut Task) {
    if super::process::stopped(&t.k.clone(), t) {
        // A stopped process acts on SIGKILL alone.
        if t.signals.pending & bit(SIGKILL) != 0 {
            take(t, SIGKILL);
            t.kill(SIGKILL);
            t.blocked = false;
        }
        return;
    }
    while let Some(sig) = next(t) {
        let info = take(t, sig);
        let action = t.signals.action(sig);
        match action.handler {
            1 => continue,
            0 => {
                if default_ignored(sig) {
                    continue;
                }
                if is_stop(sig) {
                    // Linux discards the terminal stop signals sent to an orphaned process group:
                    // nobody in the session could continue it.
                    if sig != SIGSTOP && t.k.procs.borrow().pgrp_orphaned(t.tgid) {
                        continue;
                    }
                    // The whole process stops (its waiting syscalls stay where they are).
                    notify_parent(t, CLD_STOPPED, sig);
                    return;
                }
                t.kill(sig);
                t.blocked = false;
                return;
            }
            _ => {
                if t.blocked {
                    interrupt(t, action.flags);
                }
                if let Err(e) = setup_frame(t, sig, info) {
                    // No room for the frame (a bad stack): SIGSEGV, as Linux's force_sigsegv.
                    tracing::info!("signal frame for {}: {e}", name(sig));
                    t.kill(SIGSEGV);
                    return;
                }
                // Linux sets up a frame for every deliverable signal before the task runs:
                // the last one's handler runs first.
            }
        }
    }
}

/// Ends the wait of a task interrupted by a handled signal: the syscall returns what it has
/// done so far (bytes written), EINTR, or starts again after the handler with SA_RESTART.
fn interrupt(t: &mut Task, flags: u64) {
    let progress = t.wait.progress;
    let a = t.regs.syscall_args();
    t.signals.waiting_for = 0;
    // FUTEX_LOCK_PI(2) always starts again after the handler (ERESTARTNOINTR), keeping its
    // place in the queue (and a lock handed to it meanwhile).
    let lock_pi = usize::try_from(t.regs.orig_rax).ok() == Some(abi::sysno::SYS_FUTEX)
        && matches!(a[1] & 0x7f, 6 | 13);
    if lock_pi {
        t.blocked = false;
        t.regs.rip -= 2;
        t.regs.rax = t.regs.orig_rax;
        return;
    }
    t.k.futex.borrow_mut().cancel(t.tid);
    // A relative sleep tells how much of it was left.
    let rem = match usize::try_from(t.regs.orig_rax).unwrap_or(usize::MAX) {
        abi::sysno::SYS_NANOSLEEP => a[1],
        abi::sysno::SYS_CLOCK_NANOSLEEP if a[1] & 1 == 0 => a[3],
        _ => 0,
    };
    if rem != 0 {
        let ns = t.wait.remaining_ns().unwrap_or(0);
        let left = abi::Timespec {
            tv_sec: ns / 1_000_000_000,
            tv_nsec: ns % 1_000_000_000,
        };
        // A bad pointer here is the guest's loss (Linux returns EFAULT instead of EINTR).
        let _ = t.mm.write_obj(UserAddr(rem), &left);
    }
    t.blocked = false;
    t.wait = super::WaitState::default();
    if progress > 0 {
        t.regs.rax = progress as u64;
    } else if flags & SA_RESTART != 0 && restartable(t.regs.orig_rax, a[3]) {
        // Back to the syscall instruction, with the number in rax again. A wait that replaced
        // the mask (none is restartable) has nothing to restore.
        t.regs.rip -= 2;
        t.regs.rax = t.regs.orig_rax;
    } else {
        t.regs.rax = (-i64::from(libc::EINTR)).cast_unsigned();
    }
}

/// Syscalls SA_RESTART restarts (the others return EINTR whatever the flag).
fn restartable(nr: u64, a3: u64) -> bool {
    use abi::sysno::*;
    let nr = usize::try_from(nr).unwrap_or(usize::MAX);
    // A timed futex wait returns EINTR (Linux restarts it only without a handler).
    if nr == SYS_FUTEX && a3 != 0 {
        return false;
    }
    ![
        SYS_NANOSLEEP,
        SYS_CLOCK_NANOSLEEP,
        SYS_POLL,
        SYS_PPOLL,
        SYS_SELECT,
        SYS_PSELECT6,
        SYS_EPOLL_WAIT,
        SYS_EPOLL_PWAIT,
        SYS_RT_SIGSUSPEND,
        SYS_PAUSE,
        SYS_RT_SIGTIMEDWAIT,
        SYS_EPOLL_PWAIT2,
    ]
    .contains(&nr)
}

/// Builds the frame for handling `sig` and points the task at the handler.
fn setup_frame(t: &mut Task, sig: i32, info: SigInfo) -> Result<(), Errno> {
    let action = t.signals.action(sig);
    if action.flags & SA_RESTORER == 0 {
        // x86-64 has no vDSO trampoline: a handler without a restorer cannot return.
        bail!(EFAULT, "no SA_RESTORER");
    }
    let regs = t.regs;
    let (ss_sp, ss_flags, ss_size) = t.altstack;
    let on_alt = ss_size != 0 && regs.rsp > ss_sp && regs.rsp <= ss_sp + ss_size;
    let mut sp = if action.flags & SA_ONSTACK != 0 && ss_size != 0 && !on_alt {
        ss_sp + ss_size
    } else {
        regs.rsp - 128 // the red zone
    };
    // The FP state below, 64-byte aligned.
    let mut fp = t
        .ctx
        .fp_state()
        .map_err(|e| errno!(EFAULT, "fp state: {e}"))?;
    let xsize = fp.len();
    // sw_reserved (bytes 464..512 of the FXSAVE area): magic1, extended size, features, size.
    let xcr0 = u64::from_ne_bytes(
        fp.get(464..472)
            .and_then(|b| b.try_into().ok())
            .unwrap_or_default(),
    );
    if fp.len() >= 512 {
        fp[464..468].copy_from_slice(&FP_XSTATE_MAGIC1.to_ne_bytes());
        fp[468..472].copy_from_slice(&((xsize + 4) as u32).to_ne_bytes());
        fp[472..480].copy_from_slice(&xcr0.to_ne_bytes());
        fp[480..484].copy_from_slice(&(xsize as u32).to_ne_bytes());
    }
    fp.extend_from_slice(&FP_XSTATE_MAGIC2.to_ne_bytes());
    sp = (sp - fp.len() as u64) & !63;
    let fp_addr = sp;
    // rt_sigframe: pretcode, ucontext (304), siginfo (128).
    let frame_size = 8 + 304 + 128;
    sp = ((sp - frame_size) & !15) - 8;
    let frame = sp;
    let mut f = vec![0u8; frame_size as usize];
    let put =
        |f: &mut Vec<u8>, off: usize, v: u64| f[off..off + 8].copy_from_slice(&v.to_ne_bytes());
    put(&mut f, 0, action.restorer);
    // ucontext at 8.
    put(
        &mut f,
        8,
        UC_FP_XSTATE | UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS,
    );
    put(&mut f, 16, 0); // uc_link
    put(&mut f, 24, ss_sp);
    // The flags as sigaltstack set them (Linux saves them raw, without SS_ONSTACK).
    f[32..36].copy_from_slice(&ss_flags.to_ne_bytes());
    put(&mut f, 40, ss_size);
    // sigcontext at 48.
    let gregs = [
        regs.r8,
        regs.r9,
        regs.r10,
        regs.r11,
        regs.r12,
        regs.r13,
        regs.r14,
        regs.r15,
        regs.rdi,
        regs.rsi,
        regs.rbp,
        regs.rbx,
        regs.rdx,
        regs.rax,
        regs.rcx,
        regs.rsp,
        regs.rip,
        regs.eflags,
    ];
    for (i, v) in gregs.iter().enumerate() {
        put(&mut f, 48 + i * 8, *v);
    }
    // cs, gs, fs, ss (16 bits each).
    let segs = (regs.cs & 0xffff) | (regs.ss & 0xffff) << 48;
    put(&mut f, 48 + 18 * 8, segs);
    put(&mut f, 48 + 19 * 8, 0); // err
    put(&mut f, 48 + 20 * 8, 0); // trapno
                                 // The mask to restore: sigsuspend's saved one if it is waiting there.
    let restore_mask = t.signals.saved_mask.take().unwrap_or(t.signals.mask);
    put(&mut f, 48 + 21 * 8, restore_mask); // oldmask
    put(&mut f, 48 + 22 * 8, info.addr); // cr2
    put(&mut f, 48 + 23 * 8, fp_addr);
    // uc_sigmask at 304.
    put(&mut f, 304, restore_mask);
    f[312..440].copy_from_slice(&info.bytes(sig));
    t.mm.copy_out(UserAddr(fp_addr), &fp)?;
    t.mm.copy_out(UserAddr(frame), &f)?;
    // The handler runs with its mask added (and the signal itself unless SA_NODEFER).
    let mut mask = t.signals.mask | action.mask;
    if action.flags & SA_NODEFER == 0 {
        mask |= bit(sig);
    }
    t.signals.mask = mask & !(bit(SIGKILL) | bit(SIGSTOP));
    if action.flags & SA_RESETHAND != 0 {
        t.signals.set_action(sig, abi::KernelSigaction::default());
    }
    // rt_sigreturn puts the alternate stack back as it was (SS_AUTODISARM turns it off while
    // the handler runs).
    t.sigframes.push((frame, t.altstack));
    if ss_flags & (1 << 31) != 0 && action.flags & SA_ONSTACK != 0 {
        t.altstack = (0, SS_DISABLE, 0);
    }
    t.regs.rsp = frame;
    t.regs.rip = action.handler;
    t.regs.rdi = sig as u64;
    t.regs.rsi = frame + 312;
    t.regs.rdx = frame + 8;
    t.regs.rax = 0;
    // The direction flag is clear on handler entry.
    t.regs.eflags &= !0x400;
    Ok(())
}

/// rt_sigreturn: the registers, mask and FP state from the frame at the stack pointer.
pub fn rt_sigreturn(t: &mut Task, _a: [u64; 6]) -> SysResult {
    // The restorer returned into rt_sigreturn: the frame's pretcode has been popped.
    let frame = t.regs.rsp - 8;
    let mut f = vec![0u8; 440];
    if t.mm.copy_in(UserAddr(frame), &mut f).is_err() {
        t.kill(SIGSEGV);
        return Ok(0);
    }
    let get = |off: usize| u64::from_ne_bytes(f[off..off + 8].try_into().unwrap_or_default());
    let g = |i: usize| get(48 + i * 8);
    let mut regs = t.regs;
    (regs.r8, regs.r9, regs.r10, regs.r11) = (g(0), g(1), g(2), g(3));
    (regs.r12, regs.r13, regs.r14, regs.r15) = (g(4), g(5), g(6), g(7));
    (regs.rdi, regs.rsi, regs.rbp, regs.rbx) = (g(8), g(9), g(10), g(11));
    (regs.rdx, regs.rax, regs.rcx, regs.rsp) = (g(12), g(13), g(14), g(15));
    regs.rip = g(16);
    // User-changeable flags only (AC, OF, DF, TF, SF, ZF, AF, PF, CF, RF).
    let fix = 0x40dd5u64;
    regs.eflags = (regs.eflags & !fix) | (g(17) & fix);
    // No syscall restart after this: orig_rax must not look like a syscall.
    regs.orig_rax = u64::MAX;
    let mask = get(304) & !(bit(SIGKILL) | bit(SIGSTOP));
    let fp_addr = g(23);
    if fp_addr != 0 {
        let len = t.ctx.fp_state().map(|v| v.len()).unwrap_or(0);
        let mut fp = vec![0u8; len];
        if t.mm.copy_in(UserAddr(fp_addr), &mut fp).is_ok() && len >= 512 {
            // The kernel rebuilds sw_reserved; give the host's own back for its checks.
            if let Ok(host) = t.ctx.fp_state() {
                fp[464..512].copy_from_slice(&host[464..512]);
            }
            let _ = t.ctx.set_fp_state(&fp);
        }
    }
    // The alternate stack as it was before the handler (SS_AUTODISARM).
    if let Some((_, alt)) = t.sigframes.pop() {
        if t.altstack.2 == 0 {
            t.altstack = alt;
        }
    }
    t.signals.mask = mask;
    let rax = regs.rax;
    t.regs = regs;
    Ok(rax)
}

/// rt_sigpending.
pub fn rt_sigpending(t: &mut Task, a: [u64; 6]) -> SysResult {
    if a[1] > 8 {
        bail!(EINVAL);
    }
    let pending = t.signals.pending & t.signals.mask;
    let bytes = pending.to_ne_bytes();
    t.mm.copy_out(UserAddr(a[0]), &bytes[..usize::try_from(a[1]).unwrap_or(8)])?;
    Ok(0)
}

/// rt_sigsuspend: waits with `mask` until a handled signal arrives; the handler runs with the
/// old mask restored on return, and the syscall returns EINTR.
pub fn rt_sigsuspend(t: &mut Task, a: [u64; 6]) -> SysResult {
    if a[1] != 8 {
        bail!(EINVAL);
    }
    wait_mask(t, a[0])?;
    Err(Errno::new(crate::errors::EBLOCK))
}

/// pause: waits until a signal arrives (EINTR after its handler).
pub fn pause(_t: &mut Task, _a: [u64; 6]) -> SysResult {
    Err(Errno::new(crate::errors::EBLOCK))
}

/// rt_sigtimedwait: takes a pending signal of `set` (usually blocked) without running its
/// handler; waits for one, up to the timeout (EAGAIN), or until another signal interrupts it.
pub fn rt_sigtimedwait(t: &mut Task, a: [u64; 6]) -> SysResult {
    if a[3] != 8 {
        bail!(EINVAL);
    }
    let set: u64 = t.mm.read_obj(UserAddr(a[0]))?;
    let set = set & !(bit(SIGKILL) | bit(SIGSTOP));
    t.signals.waiting_for = 0;
    if t.wait.deadline.is_none() && a[2] != 0 {
        let ts: abi::Timespec = t.mm.read_obj(UserAddr(a[2]))?;
        if ts.tv_sec < 0 || !(0..1_000_000_000).contains(&ts.tv_nsec) {
            bail!(EINVAL);
        }
        t.wait.start_timeout(ts);
    }
    let ready = t.signals.pending & set;
    if ready != 0 {
        let sig = ready.trailing_zeros() as i32 + 1;
        let info = take(t, sig);
        if a[1] != 0 {
            t.mm.copy_out(UserAddr(a[1]), &info.bytes(sig))?;
        }
        return Ok(sig as u64);
    }
    if a[2] != 0 && t.wait.expired() {
        bail!(EAGAIN);
    }
    // Signals of the set are this wait's, even unblocked ones with handlers (and the
    // scheduler gives a process-directed one to this thread).
    t.signals.waiting_for = set;
    Err(Errno::new(crate::errors::EBLOCK))
}

/// The siginfo of rt_sigqueueinfo / rt_tgsigqueueinfo, as given (a code that would pose as the
/// kernel, >= 0 or SI_TKILL, is EPERM for another process, as Linux).
pub fn queue_info(
    t: &mut Task,
    target: i32,
    sig: i32,
    uinfo: u64,
) -> Result<Option<SigInfo>, Errno> {
    if !(0..=SIGRTMAX).contains(&sig) {
        bail!(EINVAL);
    }
    let raw: [u8; 128] = t.mm.read_obj(UserAddr(uinfo))?;
    let code = i32::from_ne_bytes(raw[8..12].try_into().unwrap_or_default());
    if (code >= 0 || code == SI_TKILL) && target != t.tgid {
        bail!(EPERM, "si_code {code} may only come from the kernel");
    }
    if sig == 0 {
        return Ok(None);
    }
    Ok(Some(SigInfo {
        code,
        pid: i32::from_ne_bytes(raw[16..20].try_into().unwrap_or_default()),
        uid: u32::from_ne_bytes(raw[20..24].try_into().unwrap_or_default()),
        value: u64::from_ne_bytes(raw[24..32].try_into().unwrap_or_default()),
        addr: 0,
    }))
}

/// Replaces the mask for the length of a wait (sigsuspend, ppoll, pselect6): the old one comes
/// back when the syscall ends, or when the handler of the signal that ended it returns.
pub fn wait_mask(t: &mut Task, addr: u64) -> Result<(), Errno> {
    if t.signals.saved_mask.is_none() {
        let mask: u64 = t.mm.read_obj(UserAddr(addr))?;
        t.signals.saved_mask = Some(t.signals.mask);
        t.signals.mask = mask & !(bit(SIGKILL) | bit(SIGSTOP));
    }
    Ok(())
}
