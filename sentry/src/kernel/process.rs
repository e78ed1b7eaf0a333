//! Processes: the sandbox's PID table, fork/vfork/clone, exit and wait, and the scheduler that
//! runs the tasks.
//!
//! Each process is one task (threads come later) with its own stub. The scheduler runs one task
//! at a time, one syscall at a time, round robin: a task's user code runs until its next syscall
//! or fault, which the Sentry handles before picking the next task. A syscall that must wait for
//! another task (wait4 on a running child, a pipe with nothing to read) returns
//! [`EBLOCK`](crate::errors::EBLOCK): the task stays at its syscall and the scheduler tries the
//! syscall again whenever another task has made one. PID 1 ending ends the sandbox: every other
//! process is killed, as when a container's init exits.

use super::signal::{self, SigInfo};
use super::{ExitStatus, Kernel, Task};
use crate::errors::{Errno, SysResult, EBLOCK};
use crate::mm::UserAddr;
use crate::{bail, errno};
use platform::AddressSpace;
use std::collections::{BTreeMap, VecDeque};
use std::rc::Rc;

/// One process of the sandbox.
#[derive(Clone, Debug)]
pub struct Proc {
    pub ppid: i32,
    pub pgid: i32,
    pub sid: i32,
    /// Set once it has exited and until its parent reaps it.
    pub zombie: Option<ExitStatus>,
    /// The signal its parent gets when it exits (SIGCHLD for fork).
    pub exit_signal: i32,
    /// A vfork child that has not exec'd or exited yet (its parent waits).
    pub vforking: bool,
    /// It has exec'd since fork (its parent may no longer change its process group).
    pub execed: bool,
    /// PR_SET_CHILD_SUBREAPER: orphaned descendants are reparented here instead of to PID 1.
    pub subreaper: bool,
    /// PR_SET_PDEATHSIG: the signal it gets when its parent exits.
    pub pdeathsig: i32,
    /// Its controlling terminal (N of /dev/pts/N).
    pub tty: Option<u32>,
    /// When it started, in clock ticks since boot (/proc/PID/stat's starttime).
    pub start_ticks: u64,
    /// Its name when it exited (what /proc/PID shows of a zombie).
    pub comm: Vec<u8>,
    /// The thread of the parent that made it (its parent-death signal comes when that thread
    /// ends).
    pub parent_thread: i32,
    /// The other prctl settings.
    pub prctl: PrctlState,
    /// Set by exit_group or a fatal signal: every thread ends, and this is the status.
    pub group_exit: Option<ExitStatus>,
    /// Stopped by this signal (job control): no thread runs until SIGCONT.
    pub stopped: Option<i32>,
    /// A stop (its signal) or a continue the parent's wait has not reported yet.
    pub stop_report: Option<i32>,
    pub cont_report: bool,
    /// Signals other tasks sent it, made pending before it next runs.
    pub pending: Vec<(i32, super::signal::SigInfo)>,
    /// Its CPU time (user, system, ns), recorded when it exits.
    pub cpu: (i64, i64),
    /// The CPU time of its children (and theirs) it has reaped: RUSAGE_CHILDREN, times().
    pub children_cpu: (i64, i64),
}

/// prctl settings kept per process.
#[derive(Clone, Copy, Debug)]
pub struct PrctlState {
    pub dumpable: u64,
    pub no_new_privs: bool,
    pub timerslack_ns: u64,
    pub keepcaps: bool,
}

impl Default for PrctlState {
    fn default() -> Self {
        PrctlState {
            dumpable: 1,
            no_new_privs: false,
            timerslack_ns: 50_000,
            keepcaps: false,
        }
    }
}

/// The PID table.
#[derive(Debug, Default)]
pub struct Procs {
    pub procs: BTreeMap<i32, Proc>,
    /// Threads other than a process's first: thread id → process id.
    pub threads: BTreeMap<i32, i32>,
    /// Signals sent to one thread (tgkill, tkill): thread id, signal, siginfo.
    pub thread_signals: Vec<(i32, i32, SigInfo)>,
    /// Processes where a thread exec'd: the other threads end (process id, and the host thread
    /// of the one that exec'd).
    pub exec_kill: Vec<(i32, i32)>,
    next_pid: i32,
    /// `--pids`: the most tasks (processes, zombies included, and threads) there may be.
    pub max_tasks: Option<usize>,
}

impl Procs {
    pub fn new() -> Procs {
        Procs {
            procs: BTreeMap::new(),
            threads: BTreeMap::new(),
            thread_signals: Vec::new(),
            exec_kill: Vec::new(),
            next_pid: 2,
            max_tasks: None,
        }
    }

    pub fn add_init(&mut self, pid: i32) {
        self.procs.insert(
            pid,
            Proc {
                ppid: 0,
                pgid: pid,
                sid: pid,
                zombie: None,
                exit_signal: abi::signal::SIGCHLD,
                vforking: false,
                pending: Vec::new(),
                group_exit: None,
                stopped: None,
                stop_report: None,
                cont_report: false,
                execed: false,
                subreaper: false,
                pdeathsig: 0,
                tty: None,
                start_ticks: boot_ticks(),
                comm: Vec::new(),
                parent_thread: 0,
                prctl: PrctlState::default(),
                cpu: (0, 0),
                children_cpu: (0, 0),
            },
        );
    }

    /// A new PID (the lowest unused above the last, wrapping at pid_max).
    pub(crate) fn alloc(&mut self) -> Result<i32, Errno> {
        if self
            .max_tasks
            .is_some_and(|max| self.procs.len() + self.threads.len() >= max)
        {
            // As the pids cgroup: fork and clone fail with EAGAIN.
            return Err(errno!(EAGAIN, "the sandbox's --pids limit"));
        }
        for _ in 0..4_194_304 {
            let pid = self.next_pid;
            self.next_pid = if pid >= 4_194_303 { 2 } else { pid + 1 };
            if !self.procs.contains_key(&pid) && !self.threads.contains_key(&pid) {
                return Ok(pid);
            }
        }
        Err(errno!(EAGAIN, "no free PID"))
    }

    pub fn get(&self, pid: i32) -> Option<&Proc> {
        self.procs.get(&pid)
    }

    pub fn ppid(&self, pid: i32) -> i32 {
        self.procs.get(&pid).map_or(0, |p| p.ppid)
    }

    /// The live children of `pid`.
    pub fn children(&self, pid: i32) -> Vec<i32> {
        self.procs
            .iter()
            .filter(|(_, p)| p.ppid == pid)
            .map(|(&c, _)| c)
            .collect()
    }
}

/// CLOCK_BOOTTIME in clock ticks (100 a second).
fn boot_ticks() -> u64 {
    crate::host::clock_gettime(libc::CLOCK_BOOTTIME).map_or(0, |ts| {
        u64::try_from(ts.tv_sec * 100 + ts.tv_nsec / 10_000_000).unwrap_or(0)
    })
}

const CLONE_VM: u64 = 0x100;
const CLONE_FS: u64 = 0x200;
const CLONE_FILES: u64 = 0x400;
const CLONE_SIGHAND: u64 = 0x800;
const CLONE_PIDFD: u64 = 0x1000;
const CLONE_VFORK: u64 = 0x4000;
const CLONE_PARENT: u64 = 0x8000;
const CLONE_THREAD: u64 = 0x10000;
const CLONE_SETTLS: u64 = 0x80000;
const CLONE_PARENT_SETTID: u64 = 0x100000;
const CLONE_CHILD_CLEARTID: u64 = 0x200000;
const CLONE_CHILD_SETTID: u64 = 0x1000000;

/// What clone asks for.
struct CloneArgs {
    flags: u64,
    exit_signal: i32,
    stack: u64,
    parent_tid: u64,
    child_tid: u64,
    tls: u64,
}

fn do_clone(t: &mut Task, c: CloneArgs) -> SysResult {
    let f = c.flags;
    // Linux's checks (copy_process).
    if f & CLONE_SIGHAND != 0 && f & CLONE_VM == 0 {
        bail!(EINVAL, "CLONE_SIGHAND without CLONE_VM");
    }
    if f & CLONE_THREAD != 0 && f & CLONE_SIGHAND == 0 {
        bail!(EINVAL, "CLONE_THREAD without CLONE_SIGHAND");
    }
    if f & CLONE_THREAD != 0 {
        return clone_thread(t, c);
    }
    if f & CLONE_VM != 0 && f & CLONE_VFORK == 0 {
        t.k.log_partial("clone of a process sharing the address space without CLONE_VFORK".into());
        bail!(
            ENOSYS,
            "CLONE_VM without CLONE_THREAD or CLONE_VFORK is not supported"
        );
    }
    let supported = CLONE_VM
        | CLONE_VFORK
        | CLONE_SETTLS
        | CLONE_PARENT_SETTID
        | CLONE_CHILD_SETTID
        | CLONE_CHILD_CLEARTID
        | CLONE_PARENT
        | CLONE_FS
        | CLONE_FILES;
    if f & !supported & !0xff != 0 {
        t.k.log_partial(format!("clone flags {:#x}", f & !supported & !0xff));
        bail!(
            ENOSYS,
            "clone flags {:#x} not supported",
            f & !supported & !0xff
        );
    }
    if f & (CLONE_FS | CLONE_FILES | CLONE_PIDFD) != 0 {
        // Sharing the fd table or cwd between processes is not modelled: each gets a copy.
        t.k.log_partial("CLONE_FS/CLONE_FILES: the child gets copies".into());
    }
    let k = t.k.clone();
    let pid = k.procs.borrow_mut().alloc()?;
    let vdso_at = t.mm.vdso().map(|v| v.vvar_start);
    let mut space = k
        .platform
        .new_address_space_with_vdso_at(vdso_at)
        .map_err(|e| errno!(EAGAIN, "new address space: {e}"))?;
    let stub_pid = space.stub_pid();
    let ctx = space
        .new_context()
        .map_err(|e| errno!(EAGAIN, "new context: {e}"))?;
    let mm = if f & CLONE_VM != 0 {
        t.mm.share_into(space)?
    } else {
        // The forking thread's stack and thread block are written by both at once.
        let hot = [t.regs.rsp, t.regs.fs_base];
        t.mm.fork_into(space, &hot)?
    };
    let mut regs = t.regs;
    regs.rax = 0;
    if c.stack != 0 {
        regs.rsp = c.stack;
    }
    if f & CLONE_SETTLS != 0 {
        regs.fs_base = c.tls;
    }
    let (ppid, pgid, sid, parent_prctl, tty) = {
        let procs = k.procs.borrow();
        let me = procs.get(t.tgid);
        let prctl = me.map(|p| p.prctl).unwrap_or_default();
        let tty = me.and_then(|p| p.tty);
        let parent = if f & CLONE_PARENT != 0 {
            me.map_or(0, |p| p.ppid)
        } else {
            t.tgid
        };
        (
            parent,
            me.map_or(t.tgid, |p| p.pgid),
            me.map_or(t.tgid, |p| p.sid),
            prctl,
            tty,
        )
    };
    let child = Task {
        k: k.clone(),
        mm,
        ctx,
        regs,
        fds: t.fds.clone(),
        creds: t.creds.clone(),
        signals: super::Signals::new(t.signals.all_actions(), t.signals.mask),
        rlimits: t.rlimits,
        tid: pid,
        tgid: pid,
        clear_child_tid: if f & CLONE_CHILD_CLEARTID != 0 {
            c.child_tid
        } else {
            0
        },
        robust_list: (0, 0),
        rseq: None,
        umask: t.umask,
        fs: super::FsContext {
            root: t.fs.root.clone(),
            cwd: t.fs.cwd.clone(),
        },
        exe: t.exe.clone(),
        comm: t.comm.clone(),
        altstack: t.altstack,
        nice: t.nice,
        // SCHED_RESET_ON_FORK: the child starts as SCHED_OTHER.
        sched: if t.sched.0 & 0x4000_0000 != 0 {
            (0, 0)
        } else {
            t.sched
        },
        affinity: t.affinity.clone(),
        stub_pid,
        exit: None,
        sigframes: Vec::new(),
        // Timers are not inherited.
        timers: Rc::default(),
        blocked: false,
        vfork_child: None,
        wait: super::WaitState::default(),
    };
    if f & CLONE_CHILD_SETTID != 0 {
        child.mm.write_obj(UserAddr(c.child_tid), &pid)?;
    }
    if f & CLONE_PARENT_SETTID != 0 {
        t.mm.write_obj(UserAddr(c.parent_tid), &pid)?;
    }
    k.procs.borrow_mut().procs.insert(
        pid,
        Proc {
            ppid,
            pgid,
            sid,
            zombie: None,
            exit_signal: c.exit_signal,
            vforking: f & CLONE_VFORK != 0,
            pending: Vec::new(),
            group_exit: None,
            stopped: None,
            stop_report: None,
            cont_report: false,
            execed: false,
            subreaper: false,
            pdeathsig: 0,
            tty,
            start_ticks: boot_ticks(),
            comm: Vec::new(),
            parent_thread: t.tid,
            // no_new_privs and the timer slack are inherited.
            prctl: PrctlState {
                dumpable: 1,
                ..parent_prctl
            },
            cpu: (0, 0),
            children_cpu: (0, 0),
        },
    );
    if f & CLONE_VFORK != 0 {
        t.vfork_child = Some(pid);
    }
    k.spawned.borrow_mut().push(child);
    Ok(pid as u64)
}

/// A new thread of the caller's process: the same address space (a new thread of its stub), fd
/// table (or a copy without CLONE_FILES), dispositions and timers; its own registers, mask and
/// alternate stack.
fn clone_thread(t: &mut Task, c: CloneArgs) -> SysResult {
    let f = c.flags;
    if f & CLONE_VM == 0 {
        bail!(EINVAL, "CLONE_THREAD without CLONE_VM");
    }
    if f & (CLONE_VFORK | CLONE_PARENT | CLONE_PIDFD) != 0 {
        t.k.log_partial(format!(
            "CLONE_THREAD with {:#x}",
            f & (CLONE_VFORK | CLONE_PARENT | CLONE_PIDFD)
        ));
        bail!(
            EINVAL,
            "CLONE_THREAD with CLONE_VFORK/CLONE_PARENT/CLONE_PIDFD"
        );
    }
    let k = t.k.clone();
    let tid = k.procs.borrow_mut().alloc()?;
    let ctx =
        t.mm.with_space(|s| s.new_context())
            .map_err(|e| errno!(EAGAIN, "new thread context: {e}"))?;
    let mut regs = t.regs;
    regs.rax = 0;
    if c.stack != 0 {
        regs.rsp = c.stack;
    }
    if f & CLONE_SETTLS != 0 {
        regs.fs_base = c.tls;
    }
    let child = Task {
        k: k.clone(),
        mm: t.mm.share(),
        ctx,
        regs,
        fds: if f & CLONE_FILES != 0 {
            t.fds.share()
        } else {
            t.fds.clone()
        },
        creds: t.creds.clone(),
        signals: t.signals.for_thread(),
        rlimits: t.rlimits,
        tid,
        tgid: t.tgid,
        clear_child_tid: if f & CLONE_CHILD_CLEARTID != 0 {
            c.child_tid
        } else {
            0
        },
        robust_list: (0, 0),
        rseq: None,
        umask: t.umask,
        fs: super::FsContext {
            root: t.fs.root.clone(),
            cwd: t.fs.cwd.clone(),
        },
        exe: t.exe.clone(),
        comm: t.comm.clone(),
        // A new thread starts off the alternate stack (none), as Linux.
        altstack: (0, 2, 0), // SS_DISABLE
        nice: t.nice,
        sched: t.sched,
        affinity: t.affinity.clone(),
        stub_pid: t.stub_pid,
        exit: None,
        sigframes: Vec::new(),
        timers: t.timers.clone(),
        blocked: false,
        vfork_child: None,
        wait: super::WaitState::default(),
    };
    if f & CLONE_CHILD_SETTID != 0 {
        child.mm.write_obj(UserAddr(c.child_tid), &tid)?;
    }
    if f & CLONE_PARENT_SETTID != 0 {
        t.mm.write_obj(UserAddr(c.parent_tid), &tid)?;
    }
    k.procs.borrow_mut().threads.insert(tid, t.tgid);
    k.spawned.borrow_mut().push(child);
    Ok(tid as u64)
}

pub fn clone(t: &mut Task, a: [u64; 6]) -> SysResult {
    // x86-64: clone(flags, newsp, parent_tid, child_tid, tls).
    do_clone(
        t,
        CloneArgs {
            flags: a[0] & !0xff,
            exit_signal: (a[0] & 0xff) as i32,
            stack: a[1],
            parent_tid: a[2],
            child_tid: a[3],
            tls: a[4],
        },
    )
}

pub fn clone3(t: &mut Task, a: [u64; 6]) -> SysResult {
    let size = a[1];
    if size < 64 {
        bail!(EINVAL, "clone_args too small");
    }
    if size > 4096 {
        bail!(E2BIG);
    }
    // struct clone_args { flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size,
    // tls, set_tid, set_tid_size, cgroup }
    let mut raw = vec![0u8; usize::try_from(size).unwrap_or(0)];
    t.mm.copy_in(UserAddr(a[0]), &mut raw)?;
    let w = |i: usize| u64::from_ne_bytes(raw[i * 8..i * 8 + 8].try_into().unwrap_or_default());
    if raw.len() > 88 && raw[88..].iter().any(|&b| b != 0) {
        bail!(E2BIG, "unknown clone_args fields");
    }
    let (stack, stack_size) = (w(5), w(6));
    if (stack == 0) != (stack_size == 0) {
        bail!(EINVAL, "stack without size");
    }
    if w(4) > 64 {
        bail!(EINVAL, "exit_signal");
    }
    if raw.len() >= 80 && w(9) != 0 {
        bail!(EPERM, "set_tid needs CAP_SYS_ADMIN in the PID namespace");
    }
    do_clone(
        t,
        CloneArgs {
            flags: w(0),
            exit_signal: w(4) as i32,
            stack: if stack != 0 { stack + stack_size } else { 0 },
            parent_tid: w(3),
            child_tid: w(2),
            tls: w(7),
        },
    )
}

pub fn fork(t: &mut Task, _a: [u64; 6]) -> SysResult {
    do_clone(
        t,
        CloneArgs {
            flags: 0,
            exit_signal: abi::signal::SIGCHLD,
            stack: 0,
            parent_tid: 0,
            child_tid: 0,
            tls: 0,
        },
    )
}

pub fn vfork(t: &mut Task, _a: [u64; 6]) -> SysResult {
    do_clone(
        t,
        CloneArgs {
            flags: CLONE_VM | CLONE_VFORK,
            exit_signal: abi::signal::SIGCHLD,
            stack: 0,
            parent_tid: 0,
            child_tid: 0,
            tls: 0,
        },
    )
}

/// Records that `pid` has ended: a zombie for its parent to reap (or reaped at once if the
/// parent ignores SIGCHLD), its children handed to PID 1, a vfork parent released.
pub fn exited(k: &Kernel, pid: i32, uid: u32, status: ExitStatus, parent_ignores_sigchld: bool) {
    // A session leader's controlling terminal is let go (its foreground group gets SIGHUP).
    let leader_tty = k
        .procs
        .borrow()
        .get(pid)
        .filter(|p| p.sid == pid)
        .and_then(|p| p.tty);
    if let Some(tty) = leader_tty {
        crate::syscalls::tty::leader_exited(k, tty);
    }
    let mut procs = k.procs.borrow_mut();
    // Orphans go to the nearest live subreaper among the ancestors, else to PID 1; those that
    // asked for it get their parent-death signal.
    let mut reaper = procs.ppid(pid);
    while reaper > 1
        && !procs
            .get(reaper)
            .is_some_and(|p| p.subreaper && p.zombie.is_none())
    {
        reaper = procs.ppid(reaper);
    }
    let reaper = reaper.max(1);
    let children = procs.children(pid);
    for c in children {
        // (Their parent-death signals went when the threads that made them ended.)
        if let Some(p) = procs.procs.get_mut(&c) {
            p.ppid = reaper;
        }
    }
    let Some(p) = procs.procs.get_mut(&pid) else {
        return;
    };
    p.vforking = false;
    let (ppid, exit_signal) = (p.ppid, p.exit_signal);
    if parent_ignores_sigchld || ppid == 0 {
        procs.procs.remove(&pid);
    } else {
        p.zombie = Some(status);
    }
    // The parent's exit signal (SIGCHLD for fork), with the child's status in its siginfo.
    if exit_signal != 0 {
        let (code, st) = match status {
            ExitStatus::Exited(c) => (1, i32::from(c)), // CLD_EXITED
            ExitStatus::Signaled { signo, core } => (if core { 3 } else { 2 }, signo),
        };
        if let Some(parent) = procs.procs.get_mut(&ppid) {
            parent.pending.push((
                exit_signal,
                SigInfo {
                    code,
                    pid,
                    uid,
                    value: u64::from(st.cast_unsigned()),
                    addr: 0,
                },
            ));
        }
    }
}

/// The wait status word of an exit status.
fn wait_status(s: ExitStatus) -> i32 {
    match s {
        ExitStatus::Exited(c) => i32::from(c) << 8,
        ExitStatus::Signaled { signo, core } => signo | if core { 0x80 } else { 0 },
    }
}

const WNOHANG: i32 = 1;
const WUNTRACED: i32 = 2;
const WEXITED: i32 = 4;
const WCONTINUED: i32 = 8;
const WNOWAIT: i32 = 0x0100_0000;
const WALL: i32 = 0x4000_0000;
const WCLONE: i32 = 0x8000_0000_u32 as i32;
const WNOTHREAD: i32 = 0x2000_0000;

/// What a wait reports about a child.
#[derive(Clone, Copy, Debug)]
enum ChildEvent {
    Exited(ExitStatus),
    Stopped(i32),
    Continued,
}

/// CPU time, (user, system) in nanoseconds.
pub type CpuTime = (i64, i64);

/// Finds a child of `t` matching `which` with an event the wait asks for (`want`: exits, stops,
/// continues); consumes it unless `nowait` (a zombie is reaped). None if there are matching
/// children but none has such an event; ECHILD if there are none.
fn find_event(
    t: &Task,
    which: impl Fn(i32, &Proc) -> bool,
    want: (bool, bool, bool),
    nowait: bool,
) -> Result<Option<(i32, ChildEvent, CpuTime)>, Errno> {
    let mut procs = t.k.procs.borrow_mut();
    let mine: Vec<i32> = procs
        .procs
        .iter()
        .filter(|(&c, p)| p.ppid == t.tgid && which(c, p))
        .map(|(&c, _)| c)
        .collect();
    if mine.is_empty() {
        bail!(ECHILD);
    }
    for c in mine {
        let Some(p) = procs.procs.get_mut(&c) else {
            continue;
        };
        // A reaped child's CPU time, with its reaped children's, goes to the parent's account.
        let cpu = (p.cpu.0 + p.children_cpu.0, p.cpu.1 + p.children_cpu.1);
        let event = match (p.zombie, p.stop_report, p.cont_report) {
            (Some(s), _, _) if want.0 => ChildEvent::Exited(s),
            (None, Some(sig), _) if want.1 => ChildEvent::Stopped(sig),
            (None, _, true) if want.2 => ChildEvent::Continued,
            _ => continue,
        };
        if !nowait {
            match event {
                ChildEvent::Exited(_) => {
                    procs.procs.remove(&c);
                    if let Some(me) = procs.procs.get_mut(&t.tgid) {
                        me.children_cpu.0 += cpu.0;
                        me.children_cpu.1 += cpu.1;
                    }
                }
                ChildEvent::Stopped(_) => p.stop_report = None,
                ChildEvent::Continued => p.cont_report = false,
            }
        }
        let cpu = if matches!(event, ChildEvent::Exited(_)) {
            cpu
        } else {
            (0, 0)
        };
        return Ok(Some((c, event, cpu)));
    }
    Ok(None)
}

/// A `struct rusage` with CPU times `(user, system)` in ns (other fields 0).
pub fn rusage(cpu: (i64, i64)) -> [i64; 18] {
    let mut r = [0i64; 18];
    r[0] = cpu.0 / 1_000_000_000;
    r[1] = (cpu.0 % 1_000_000_000) / 1000;
    r[2] = cpu.1 / 1_000_000_000;
    r[3] = (cpu.1 % 1_000_000_000) / 1000;
    r
}

pub fn wait4(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (pid, status_addr, options, rusage) = (a[0] as i32, a[1], a[2] as i32, a[3]);
    if options & !(WNOHANG | WUNTRACED | WCONTINUED | WALL | WCLONE | WNOTHREAD) != 0 {
        bail!(EINVAL, "bad options");
    }
    let my_pgid = t.k.procs.borrow().get(t.tgid).map_or(t.tgid, |p| p.pgid);
    let which = move |c: i32, p: &Proc| match pid {
        -1 => true,
        0 => p.pgid == my_pgid,
        n if n < -1 => p.pgid == -n,
        n => c == n,
    };
    let want = (true, options & WUNTRACED != 0, options & WCONTINUED != 0);
    match find_event(t, which, want, false)? {
        Some((child, event, cpu)) => {
            if status_addr != 0 {
                let st = match event {
                    ChildEvent::Exited(s) => wait_status(s),
                    ChildEvent::Stopped(sig) => (sig << 8) | 0x7f,
                    ChildEvent::Continued => 0xffff,
                };
                t.mm.write_obj(UserAddr(status_addr), &st)?;
            }
            if rusage != 0 {
                t.mm.write_obj(UserAddr(rusage), &self::rusage(cpu))?;
            }
            Ok(child as u64)
        }
        None if options & WNOHANG != 0 => Ok(0),
        None => Err(Errno::new(EBLOCK)),
    }
}

/// Which children a wait is for.
type Matcher = dyn Fn(i32, &Proc) -> bool;

pub fn waitid(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (idtype, id, infop, options) = (a[0] as i32, a[1] as i32, a[2], a[3] as i32);
    if options & !(WNOHANG | WEXITED | WUNTRACED | WCONTINUED | WNOWAIT | WALL | WCLONE | WNOTHREAD)
        != 0
        || options & (WEXITED | WUNTRACED | WCONTINUED) == 0
    {
        bail!(EINVAL, "bad options");
    }
    let my_pgid = t.k.procs.borrow().get(t.tgid).map_or(t.tgid, |p| p.pgid);
    let which: Box<Matcher> = match idtype {
        0 => Box::new(|_, _| true),         // P_ALL
        1 => Box::new(move |c, _| c == id), // P_PID
        2 => {
            let g = if id == 0 { my_pgid } else { id };
            Box::new(move |_, p: &Proc| p.pgid == g) // P_PGID
        }
        3 => {
            let pid = crate::syscalls::anonfd::pidfd_pid(t, id)?;
            Box::new(move |c, _| c == pid) // P_PIDFD
        }
        _ => bail!(EINVAL, "idtype {idtype}"),
    };
    let want = (
        options & WEXITED != 0,
        options & WUNTRACED != 0,
        options & WCONTINUED != 0,
    );
    match find_event(t, which, want, options & WNOWAIT != 0)? {
        Some((child, event, cpu)) => {
            if a[4] != 0 {
                t.mm.write_obj(UserAddr(a[4]), &rusage(cpu))?;
            }
            if infop != 0 {
                // siginfo_t: si_signo, si_errno, si_code, then si_pid, si_uid, si_status.
                let mut si = [0u8; 128];
                let (code, st): (i32, i32) = match event {
                    ChildEvent::Exited(ExitStatus::Exited(c)) => (1, i32::from(c)), // CLD_EXITED
                    ChildEvent::Exited(ExitStatus::Signaled { signo, core }) => {
                        (if core { 3 } else { 2 }, signo)
                    }
                    ChildEvent::Stopped(sig) => (5, sig), // CLD_STOPPED
                    ChildEvent::Continued => (6, abi::signal::SIGCONT), // CLD_CONTINUED
                };
                si[0..4].copy_from_slice(&abi::signal::SIGCHLD.to_ne_bytes());
                si[8..12].copy_from_slice(&code.to_ne_bytes());
                si[16..20].copy_from_slice(&child.to_ne_bytes());
                si[20..24].copy_from_slice(&t.creds.ruid.to_ne_bytes());
                si[24..28].copy_from_slice(&st.to_ne_bytes());
                t.mm.copy_out(UserAddr(infop), &si)?;
            }
            Ok(0)
        }
        None if options & WNOHANG != 0 => {
            if infop != 0 {
                t.mm.copy_out(UserAddr(infop), &[0u8; 128])?;
            }
            Ok(0)
        }
        None => Err(Errno::new(EBLOCK)),
    }
}

/// Whether a task may run now: not waiting at a syscall, not a vfork parent whose child has
/// not exec'd or exited.
fn runnable(k: &Kernel, t: &Task) -> bool {
    !t.blocked && !vfork_waiting(k, t) && !stopped(k, t)
}

/// Whether the task's process is stopped (job control).
impl Procs {
    /// Whether the process group of process `pid` is orphaned: no live member has its parent in
    /// another group of the same session (Linux's will_become_orphaned_pgrp). Guest PID 1's parent
    /// is outside the sandbox, as a container's init's is: it never keeps a group from being
    /// orphaned.
    pub fn pgrp_orphaned(&self, pid: i32) -> bool {
        let Some(pgid) = self.get(pid).map(|p| p.pgid) else {
            return false;
        };
        !self
            .procs
            .values()
            .filter(|p| p.pgid == pgid && p.zombie.is_none())
            .any(|p| {
                self.get(p.ppid)
                    .is_some_and(|q| q.zombie.is_none() && q.pgid != pgid && q.sid == p.sid)
            })
    }
}

pub fn stopped(k: &Kernel, t: &Task) -> bool {
    k.procs
        .borrow()
        .get(t.tgid)
        .is_some_and(|p| p.stopped.is_some())
}

/// Whether a task is a vfork parent whose child has not exec'd or exited yet.
fn vfork_waiting(k: &Kernel, t: &Task) -> bool {
    t.vfork_child
        .is_some_and(|c| k.procs.borrow().get(c).is_some_and(|p| p.vforking))
}

/// Tries the syscall of every waiting task again; returns whether one completed.
fn retry(tasks: &mut VecDeque<Task>) -> bool {
    let mut any = false;
    for t in tasks.iter_mut().filter(|t| t.blocked) {
        if stopped(&t.k.clone(), t) {
            continue;
        }
        if crate::syscalls::dispatch(t) == crate::syscalls::Outcome::Done {
            t.blocked = false;
            any = true;
        }
    }
    any
}

/// How long a task may run before the Sentry takes the CPU back: a time slice when other tasks
/// can run, and never past a timed wait's end or a timer's expiry (of any task).
const TIME_SLICE_NS: u64 = 10_000_000;
const MIN_SLICE_NS: u64 = 100_000;

fn run_deadline(k: &Kernel, t: &Task, others: &VecDeque<Task>) -> Option<u64> {
    let mut left: Option<u64> = super::timer::next_expiry_ns(t);
    // Limits are sampled between runs: a guest that makes no syscalls is still stopped to
    // sample, often near its memory limit.
    let l = &k.limits.limits;
    let sample = k.limits.slice_ns().or((l.memory.is_some()
        || l.cpu_ns.is_some()
        || t.rlimits[abi::RLIMIT_CPU].cur != abi::RLIM_INFINITY)
        .then_some(super::limits::SAMPLE_NS));
    for ns in [sample, k.limits.timeout_left_ns()].into_iter().flatten() {
        left = Some(left.map_or(ns, |v| v.min(ns)));
    }
    if let Some(ns) = k.next_timerfd_ns() {
        left = Some(left.map_or(ns, |l| l.min(ns)));
    }
    let mut bound = |ns: u64| left = Some(left.map_or(ns, |l| l.min(ns)));
    for o in others {
        if o.exit.is_none() && runnable(k, o) {
            bound(TIME_SLICE_NS);
        }
        if let Some(ns) = o.wait.remaining_ns() {
            bound(u64::try_from(ns).unwrap_or(0));
        }
        if let Some(ns) = super::timer::next_expiry_ns(o) {
            bound(ns);
        }
    }
    // At least a short slice, so that a guest always makes progress (a deadline already passed
    // would stop it before its first instruction, for ever).
    left.map(|ns| platform::ptrace::monotonic_ns().saturating_add(ns.max(MIN_SLICE_NS)))
}

/// Hands out the signals sent since the last round: process-directed ones to the first thread
/// that does not block them (else the first thread), thread-directed ones to their thread; ends
/// the threads of processes that exit as a group or exec'd.
fn route_signals(k: &Kernel, tasks: &mut VecDeque<Task>) {
    forward_host_signals(k);
    let (sent, to_threads, exec_kill) = {
        let mut procs = k.procs.borrow_mut();
        let mut sent = Vec::new();
        for (&pid, p) in procs.procs.iter_mut() {
            for (sig, info) in p.pending.drain(..) {
                sent.push((pid, sig, info));
            }
        }
        (
            sent,
            std::mem::take(&mut procs.thread_signals),
            std::mem::take(&mut procs.exec_kill),
        )
    };
    for (pid, sig, info) in sent {
        let live = |t: &Task| t.tgid == pid && t.exit.is_none();
        // A thread in sigtimedwait for it first, then one that does not block it.
        let b = abi::signal::bit(sig);
        let i = tasks
            .iter()
            .position(|t| live(t) && t.blocked && t.signals.waiting_for & b != 0)
            .or_else(|| {
                tasks
                    .iter()
                    .position(|t| live(t) && t.signals.mask & b == 0)
            })
            .or_else(|| tasks.iter().position(live));
        if let Some(t) = i.and_then(|i| tasks.get_mut(i)) {
            signal::raise(t, sig, info);
        }
    }
    for (tid, sig, info) in to_threads {
        if let Some(t) = tasks.iter_mut().find(|t| t.tid == tid && t.exit.is_none()) {
            signal::raise(t, sig, info);
        }
    }
    for (pid, survivor) in exec_kill {
        for t in tasks
            .iter_mut()
            .filter(|t| t.tgid == pid && t.ctx.host_tid() != survivor)
        {
            t.exit = Some(ExitStatus::Exited(0));
            t.clear_child_tid = 0;
            t.blocked = false;
        }
    }
    let procs = k.procs.borrow();
    for t in tasks.iter_mut().filter(|t| t.exit.is_none()) {
        if let Some(status) = procs.get(t.tgid).and_then(|p| p.group_exit) {
            t.exit = Some(status);
            t.blocked = false;
        }
    }
}

/// Host signals sent to the Sentry (`runrs do`): the terminal's go to PID 1's process group (the
/// foreground group, as a terminal would send them), the others to PID 1. They act as they
/// would on the program run natively: a PID 1 without a handler for SIGINT or SIGTERM ends.
fn forward_host_signals(k: &Kernel) {
    let mut set = crate::host::take_forwarded();
    if set == 0 {
        return;
    }
    // With a console, a resize is the terminal's (its size follows the host's), and the
    // terminal's signals go to its foreground group.
    if set & abi::signal::bit(libc::SIGWINCH) != 0 && super::console::host_resized(k) {
        set &= !abi::signal::bit(libc::SIGWINCH);
    }
    let console_fg = super::console::foreground(k);
    let mut procs = k.procs.borrow_mut();
    let fg = console_fg.unwrap_or_else(|| procs.get(1).map_or(1, |p| p.pgid));
    for sig in crate::host::FORWARD {
        if set & abi::signal::bit(sig) == 0 {
            continue;
        }
        tracing::debug!("forwarding host {} to the guest", abi::signal::name(sig));
        let info = SigInfo {
            code: signal::SI_USER,
            ..SigInfo::default()
        };
        let terminal = matches!(
            sig,
            libc::SIGINT | libc::SIGQUIT | libc::SIGHUP | libc::SIGWINCH
        );
        for (&pid, p) in procs.procs.iter_mut() {
            if p.zombie.is_none() && if terminal { p.pgid == fg } else { pid == 1 } {
                p.pending.push((sig, info));
            }
        }
    }
}

/// After a syscall that changes what the threads of a process share but each task keeps its own
/// copy of (working directory, root, umask, resource limits), the other threads get the change.
fn share_process_state(t: &Task, tasks: &mut VecDeque<Task>) {
    use abi::sysno::*;
    let nr = usize::try_from(t.regs.orig_rax).unwrap_or(usize::MAX);
    if ![
        SYS_CHDIR,
        SYS_FCHDIR,
        SYS_CHROOT,
        SYS_UMASK,
        SYS_SETRLIMIT,
        SYS_PRLIMIT64,
    ]
    .contains(&nr)
    {
        return;
    }
    for o in tasks.iter_mut().filter(|o| o.tgid == t.tgid) {
        o.fs.cwd = t.fs.cwd.clone();
        o.fs.root = t.fs.root.clone();
        o.umask = t.umask;
        o.rlimits = t.rlimits;
    }
}

/// What a thread leaves behind: its clear_child_tid is zeroed and woken (pthread_join), its
/// futex wait forgotten, its stub thread parked for reuse.
fn end_thread(k: &Kernel, t: &mut Task) {
    k.futex.borrow_mut().cancel(t.tid);
    crate::syscalls::futex::exit_robust_list(t);
    if t.clear_child_tid != 0
        && t.mm.users() > 1
        && t.mm.write_obj(UserAddr(t.clear_child_tid), &0u32).is_ok()
    {
        crate::syscalls::futex::wake_addr(t, t.clear_child_tid, 1);
    }
    if t.tid != t.tgid {
        k.procs.borrow_mut().threads.remove(&t.tid);
    }
    // Children this thread made get their parent-death signal, as Linux sends it when the
    // forking thread ends (the process's own exit sends it to the rest).
    {
        let mut procs = k.procs.borrow_mut();
        for p in procs.procs.values_mut() {
            if p.ppid == t.tgid && p.parent_thread == t.tid && p.zombie.is_none() {
                p.parent_thread = 0;
                if p.pdeathsig != 0 {
                    let sig = p.pdeathsig;
                    p.pending.push((
                        sig,
                        SigInfo {
                            code: signal::SI_USER,
                            pid: t.tgid,
                            uid: t.creds.ruid,
                            ..SigInfo::default()
                        },
                    ));
                }
            }
        }
    }
    let host_tid = t.ctx.host_tid();
    t.mm.with_space(|s| s.release_context(host_tid));
}

/// Runs the sandbox's tasks until PID 1 ends; returns its status.
pub fn schedule(k: &Rc<Kernel>, tasks: &mut VecDeque<Task>) -> Result<ExitStatus, platform::Error> {
    loop {
        super::console::pump(k, false);
        if crate::control::pending() {
            if let Some(status) = super::control::handle(k, tasks) {
                k.memory.file.end();
                tasks.clear();
                return Ok(status);
            }
        }
        if k.control.borrow().hold != super::control::Hold::Running {
            // Created and not started, or paused: no guest code runs; requests wake us.
            crate::host::sleep_interruptible(None, &[]);
            continue;
        }
        k.limits.start();
        super::control::waiters_gone(k, false);
        if let Some(status) = super::limits::check(k, tasks) {
            k.memory.file.end();
            tasks.clear();
            return Ok(status);
        }
        super::limits::check_rlimit_cpu(k, tasks);
        tasks.extend(k.spawned.borrow_mut().drain(..));
        // Signals other tasks sent, then every signal a task can act on now: a default action,
        // or a handler (which interrupts the syscall the task waits in).
        for t in tasks.iter_mut() {
            super::timer::fire(t);
        }
        route_signals(k, tasks);
        for t in tasks.iter_mut() {
            // A stopped process acts only on SIGKILL (SIGCONT took effect when it was sent).
            let kill_pending = t.signals.pending & abi::signal::bit(abi::signal::SIGKILL) != 0;
            if t.exit.is_none()
                && signal::deliverable(t)
                && !vfork_waiting(k, t)
                && (!stopped(k, t) || kill_pending)
            {
                signal::deliver(t);
            }
        }
        let i = match tasks
            .iter()
            .position(|t| t.exit.is_some() || runnable(k, t))
        {
            Some(i) => i,
            None => {
                if retry(tasks) {
                    continue;
                }
                // Every task waits. Sleep until the nearest deadline (a sleep, a timed wait);
                // without one, every task waits for another: Linux would wait for ever too.
                let next = tasks
                    .iter()
                    .filter_map(|t| t.wait.remaining_ns())
                    .chain(
                        k.limits
                            .timeout_left_ns()
                            .map(|n| i64::try_from(n).unwrap_or(i64::MAX)),
                    )
                    .chain(
                        tasks
                            .iter()
                            .filter_map(super::timer::next_expiry_ns)
                            .chain(k.next_timerfd_ns())
                            .map(|n| i64::try_from(n).unwrap_or(i64::MAX)),
                    )
                    .min();
                let host_fds: Vec<(i32, i16)> = tasks
                    .iter()
                    .flat_map(|t| t.wait.host_fds.iter().copied())
                    .chain(super::console::input_fds(k))
                    .chain(super::control::waiter_fds(k))
                    .collect();
                if next.is_none() && host_fds.is_empty() {
                    k.log_partial(
                        "every task of the sandbox is waiting for another: waits for ever".into(),
                    );
                }
                crate::host::sleep_interruptible(
                    next.map(|ns| u64::try_from(ns).unwrap_or(0)),
                    &host_fds,
                );
                super::control::waiters_gone(k, true);
                super::console::pump(k, true);
                continue;
            }
        };
        let Some(mut t) = tasks.remove(i) else {
            continue;
        };
        if t.exit.is_none() {
            let deadline = run_deadline(k, &t, tasks);
            // The others are visible to procfs while this one runs (never a reference cycle at
            // rest: they come back before anything else happens).
            std::mem::swap(tasks, &mut *k.others.borrow_mut());
            let stepped = t.step(deadline);
            std::mem::swap(tasks, &mut *k.others.borrow_mut());
            t.blocked = stepped?;
        }
        if let Some(status) = t.exit {
            end_thread(k, &mut t);
            if tasks.iter().any(|o| o.tgid == t.tgid) {
                // Other threads go on: only this one ends.
                drop(t);
                retry(tasks);
                continue;
            }
            let status = k
                .procs
                .borrow()
                .get(t.tgid)
                .and_then(|p| p.group_exit)
                .unwrap_or(status);
            let (pid, uid) = (t.tgid, t.creds.ruid);
            let cpu = crate::syscalls::resource::cpu_times(&t);
            let spent = k.limits.exited_cpu_ns.get();
            k.limits
                .exited_cpu_ns
                .set(spent + u64::try_from(cpu.0 + cpu.1).unwrap_or(0));
            if let Some(p) = k.procs.borrow_mut().procs.get_mut(&pid) {
                p.cpu = cpu;
                p.comm = t.comm().into_bytes();
            }
            let ppid = k.procs.borrow().ppid(pid);
            // A parent with SIGCHLD ignored (or SA_NOCLDWAIT) does not keep zombies.
            let ignores = tasks.iter().find(|p| p.tgid == ppid).is_some_and(|p| {
                let a = p.signals.action(abi::signal::SIGCHLD);
                a.handler == 1 || a.flags & abi::signal::SA_NOCLDWAIT != 0
            });
            if pid == 1 {
                // The sandbox ends with its init (below): its memory goes with the Sentry.
                k.memory.file.end();
            }
            drop(t);
            exited(k, pid, uid, status, ignores);
            super::control::exited(k, tasks, pid, status);
            // A pod container's tree may have just lost its last user.
            super::control::released(k);
            if pid == 1 {
                // The container's init is gone: everything else goes too.
                tasks.clear();
                return Ok(status);
            }
            retry(tasks);
            continue;
        }
        if !t.blocked {
            share_process_state(&t, tasks);
        }
        let blocked = t.blocked;
        tasks.push_back(t);
        if !blocked {
            retry(tasks);
        }
    }
}

pub fn getpgid(t: &mut Task, a: [u64; 6]) -> SysResult {
    let pid = a[0] as i32;
    let pid = if pid == 0 { t.tgid } else { pid };
    let procs = t.k.procs.borrow();
    Ok(procs.get(pid).ok_or_else(|| errno!(ESRCH))?.pgid as u64)
}

pub fn getpgrp(t: &mut Task, _a: [u64; 6]) -> SysResult {
    getpgid(t, [0; 6])
}

pub fn getsid(t: &mut Task, a: [u64; 6]) -> SysResult {
    let pid = a[0] as i32;
    let pid = if pid == 0 { t.tgid } else { pid };
    let procs = t.k.procs.borrow();
    Ok(procs.get(pid).ok_or_else(|| errno!(ESRCH))?.sid as u64)
}

pub fn setsid(t: &mut Task, _a: [u64; 6]) -> SysResult {
    let mut procs = t.k.procs.borrow_mut();
    // A process group leader may not start a session (its group would be split).
    if procs.procs.values().any(|p| p.pgid == t.tgid) {
        bail!(EPERM, "already a process group leader");
    }
    let me = procs.procs.get_mut(&t.tgid).ok_or_else(|| errno!(ESRCH))?;
    me.sid = t.tgid;
    me.pgid = t.tgid;
    // A new session starts without a controlling terminal.
    me.tty = None;
    Ok(t.tgid as u64)
}

pub fn setpgid(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (pid, pgid) = (a[0] as i32, a[1] as i32);
    if pgid < 0 {
        bail!(EINVAL, "negative pgid");
    }
    let pid = if pid == 0 { t.tgid } else { pid };
    let pgid = if pgid == 0 { pid } else { pgid };
    let mut procs = t.k.procs.borrow_mut();
    let my_sid = procs.get(t.tgid).map_or(0, |p| p.sid);
    let target = procs.get(pid).ok_or_else(|| errno!(ESRCH))?.clone();
    if pid != t.tgid {
        if target.ppid != t.tgid {
            bail!(ESRCH, "not the caller or its child");
        }
        if target.execed {
            bail!(EACCES, "the child has exec'd");
        }
    }
    if target.sid == pid {
        bail!(EPERM, "a session leader");
    }
    if target.sid != my_sid {
        bail!(EPERM, "another session");
    }
    if pgid != pid
        && !procs
            .procs
            .values()
            .any(|p| p.pgid == pgid && p.sid == my_sid && p.zombie.is_none())
    {
        bail!(EPERM, "no process group {pgid} in the session");
    }
    if let Some(p) = procs.procs.get_mut(&pid) {
        p.pgid = pgid;
    }
    Ok(0)
}

pub fn prctl(t: &mut Task, a: [u64; 6]) -> SysResult {
    const PR_SET_PDEATHSIG: u64 = 1;
    const PR_GET_PDEATHSIG: u64 = 2;
    const PR_GET_DUMPABLE: u64 = 3;
    const PR_SET_DUMPABLE: u64 = 4;
    const PR_GET_KEEPCAPS: u64 = 7;
    const PR_SET_KEEPCAPS: u64 = 8;
    const PR_SET_NAME: u64 = 15;
    const PR_GET_NAME: u64 = 16;
    const PR_GET_SECCOMP: u64 = 21;
    const PR_CAPBSET_READ: u64 = 23;
    const PR_SET_TIMERSLACK: u64 = 29;
    const PR_GET_TIMERSLACK: u64 = 30;
    const PR_SET_CHILD_SUBREAPER: u64 = 36;
    const PR_GET_CHILD_SUBREAPER: u64 = 37;
    const PR_SET_NO_NEW_PRIVS: u64 = 38;
    const PR_GET_NO_NEW_PRIVS: u64 = 39;
    let k = t.k.clone();
    let mut procs = k.procs.borrow_mut();
    let me = procs.procs.get_mut(&t.tgid).ok_or_else(|| errno!(ESRCH))?;
    match a[0] {
        PR_SET_PDEATHSIG => {
            if a[1] > abi::signal::SIGRTMAX as u64 {
                bail!(EINVAL, "signal {}", a[1]);
            }
            me.pdeathsig = a[1] as i32;
        }
        PR_GET_PDEATHSIG => {
            let sig = me.pdeathsig;
            drop(procs);
            t.mm.write_obj(UserAddr(a[1]), &sig)?;
        }
        PR_GET_DUMPABLE => return Ok(me.prctl.dumpable),
        PR_SET_DUMPABLE => {
            if a[1] > 1 {
                bail!(EINVAL, "dumpable {}", a[1]);
            }
            me.prctl.dumpable = a[1];
        }
        PR_GET_KEEPCAPS => return Ok(u64::from(me.prctl.keepcaps)),
        PR_SET_KEEPCAPS => {
            if a[1] > 1 {
                bail!(EINVAL);
            }
            me.prctl.keepcaps = a[1] == 1;
        }
        PR_SET_NAME => {
            drop(procs);
            // Up to 15 bytes (a longer name is cut).
            let name = match t.mm.read_cstr(UserAddr(a[1]), 16) {
                Ok(n) => n,
                Err(e) if e.code == libc::ENAMETOOLONG => {
                    let mut b = [0u8; 15];
                    t.mm.copy_in(UserAddr(a[1]), &mut b)?;
                    b.to_vec()
                }
                Err(e) => return Err(e),
            };
            t.comm = name[..name.len().min(15)].to_vec();
        }
        PR_GET_NAME => {
            let mut name = [0u8; 16];
            let n = t.comm.len().min(15);
            name[..n].copy_from_slice(&t.comm[..n]);
            drop(procs);
            t.mm.copy_out(UserAddr(a[1]), &name)?;
        }
        // The guest runs under no seccomp filter of its own.
        PR_GET_SECCOMP => return Ok(0),
        PR_CAPBSET_READ => {
            if a[1] > 40 {
                bail!(EINVAL, "capability {}", a[1]);
            }
            return Ok(u64::from(t.creds.euid == 0));
        }
        PR_SET_TIMERSLACK => {
            me.prctl.timerslack_ns = if a[1] == 0 { 50_000 } else { a[1] };
        }
        PR_GET_TIMERSLACK => return Ok(me.prctl.timerslack_ns),
        PR_SET_CHILD_SUBREAPER => me.subreaper = a[1] != 0,
        PR_GET_CHILD_SUBREAPER => {
            let v = i32::from(me.subreaper);
            drop(procs);
            t.mm.write_obj(UserAddr(a[1]), &v)?;
        }
        PR_SET_NO_NEW_PRIVS => {
            if a[1] != 1 || a[2] != 0 || a[3] != 0 || a[4] != 0 {
                bail!(EINVAL);
            }
            me.prctl.no_new_privs = true;
        }
        PR_GET_NO_NEW_PRIVS => {
            if a[1] != 0 || a[2] != 0 || a[3] != 0 || a[4] != 0 {
                bail!(EINVAL);
            }
            return Ok(u64::from(me.prctl.no_new_privs));
        }
        op => {
            drop(procs);
            t.k.log_partial(format!("prctl option {op}"));
            bail!(EINVAL, "prctl option {op} not supported");
        }
    }
    Ok(0)
}
