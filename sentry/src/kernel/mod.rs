//! The kernel: the sandbox-wide state ([`Kernel`]) and the task that runs a guest program
//! ([`Task`]), with its run loop: switch to the guest, handle what stopped it, repeat.
//!
//! Each process is one task (threads are not there yet); [`process`] keeps the PID table and
//! schedules the tasks, [`signal`] delivers signals (default actions, handler frames), [`timer`]
//! fires interval and POSIX timers.
//!
//! Lock order: none; everything here belongs to the one Sentry thread that traces the guest.

pub mod console;
pub mod control;
pub mod exec;
pub mod fd;
pub mod limits;
pub mod process;
pub mod signal;
pub mod timer;

use crate::loader::{self, Creds, HostAux};
use crate::mm::memfile::StoreKind;
use crate::mm::{Memory, Mm};
use crate::vfs::{self, Fs, FsKind, Inode};
use crate::{host, syscalls};
use abi::UserRegs;
use fd::{FdTable, File};
use platform::ptrace::{Ptrace, PtraceContext};
use platform::{AddressSpace, CpuPlacement, Event, Platform};
use std::cell::RefCell;
use std::collections::HashSet;
use std::os::fd::{AsRawFd, OwnedFd};
use std::rc::Rc;
use std::sync::Arc;

/// How a guest ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// exit/exit_group with this status (low 8 bits).
    Exited(u8),
    /// Killed by this signal; `core` when the default action dumps core.
    Signaled { signo: i32, core: bool },
}

impl ExitStatus {
    /// The status a shell would report: the code, or 128 + the signal.
    pub fn shell_code(self) -> i32 {
        match self {
            ExitStatus::Exited(c) => i32::from(c),
            ExitStatus::Signaled { signo, .. } => 128 + signo,
        }
    }
}

/// Where `--strace` lines go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StraceSink {
    Stderr,
    /// As tracing events (target `strace`), into the debug log.
    Log,
}

/// How the root filesystem takes writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Overlay {
    /// The host root read-only below, changes kept in the Sentry's memory.
    Memory,
    /// The host root read-only; writes get EROFS.
    None,
}

/// The size of the store's offset range (sparse: only what is written takes disk blocks).
const STORE_SIZE: u64 = 1 << 40;

/// The memory store for the in-memory filesystems' data (see
/// [`crate::mm::memfile::memory_store`]), with huge-page faults turned off first for the
/// Sentry and the stubs it will start. None, and the data stays in the memfd, where the host
/// does not allow one (no CAP_SYS_ADMIN, no `huge=` option for tmpfs) or
/// `RUNRS_MEMORY_STORE=off` (for comparisons).
fn memory_store() -> Option<OwnedFd> {
    if std::env::var_os("RUNRS_MEMORY_STORE").is_some_and(|v| v == "off") {
        return None;
    }
    let store = crate::mm::memfile::memory_store()
        .and_then(|fd| crate::mm::memfile::disable_huge_page_faults().map(|()| fd));
    match store {
        Ok(fd) => Some(fd),
        Err(e) => {
            tracing::debug!("no memory store ({e}): file data stays in the memfd");
            None
        }
    }
}

/// Sandbox-wide configuration.
pub struct Config {
    pub hostname: String,
    pub strace: Option<StraceSink>,
    pub placement: CpuPlacement,
    /// Bytes of guest memory the memory file can hold.
    pub memory_size: u64,
    /// The connection to the Gofer serving the root filesystem (its mount 0).
    pub gofer: gofer::Channel,
    pub overlay: Overlay,
    /// `--overlay=dir=PATH`: a host file (unlinked, in PATH) holding the contents of the files
    /// written in the root's upper layer and in /tmp, in place of memory. Its free disk space is
    /// their size limit (with `--disk` on top).
    pub store: Option<OwnedFd>,
    /// Size limit of /tmp and /dev/shm (each), and of the overlay's memory layer.
    pub tmpfs_size: u64,
    /// Give the guest the host's vDSO (clocks without a platform stop).
    pub host_vdso: bool,
    /// Host directories bound into the sandbox; volume N is the Gofer's mount N + 1.
    pub volumes: Vec<VolumeConfig>,
    /// Further tmpfs mounts (paths in the sandbox), each with the `tmpfs_size` limit.
    pub tmpfs_mounts: Vec<String>,
    /// OCI `linux.sysctl`, checked with [`Sysctl::set`].
    pub sysctl: Sysctl,
    /// OCI `maskedPaths`: a directory there gets an empty read-only tmpfs over it, a file
    /// becomes a null device (as runc masks them); paths that do not exist are left alone.
    pub masked: Vec<String>,
    /// Files placed in the tree at setup: (path in the sandbox, contents, mode). An OCI bind
    /// mount of a single host file is a copy taken at create (Docker's /etc/hosts,
    /// /etc/resolv.conf, /etc/hostname): the guest's writes stay in the sandbox.
    pub files: Vec<(String, Vec<u8>, u32)>,
    /// Driven through a control socket (the OCI runtime): the guest waits for `Start`.
    pub controlled: bool,
    /// The channel to the net gofer, which makes outbound connections (None: the sandbox's
    /// loopback only).
    pub net: Option<gofer::Channel>,
    /// Limits the Sentry enforces (see [`limits`]).
    pub limits: limits::Limits,
    /// Where the audit log goes (`--audit`): one JSON object per line.
    pub audit: Option<OwnedFd>,
    /// Lock the Sentry down ([`crate::lockdown`]) as soon as its platform is ready, while the
    /// Gofer is still starting: it needs nothing of the host after that (the filesystem tree
    /// and the program come through the Gofer).
    pub lock_down: bool,
    /// A process (the Gofer) that made the network namespace the Sentry joins when it locks
    /// down, instead of making one then (~0.7 ms of its start here).
    pub net_ns_of: Option<i32>,
}

/// A `--volume`: where it appears in the sandbox, and whether it is read-only.
#[derive(Clone, Debug)]
pub struct VolumeConfig {
    pub guest_path: String,
    pub readonly: bool,
    /// Copy-on-write: the host directory read-only below, changes in the sandbox's memory (as
    /// the root).
    pub overlay: bool,
}

/// A mount, as /proc/mounts shows it.
#[derive(Clone, Debug)]
pub struct MountInfo {
    pub path: String,
    pub fstype: &'static str,
    pub source: String,
    pub readonly: bool,
    pub dev: u64,
}

impl MountInfo {
    /// `fs` mounted at `path`.
    fn of(path: &str, fs: &Fs) -> MountInfo {
        MountInfo {
            path: path.into(),
            fstype: fs.fstype,
            source: fs.source.clone(),
            readonly: fs.readonly,
            dev: fs.dev,
        }
    }
}

/// What the host tells the guest about itself, read at setup.
#[derive(Debug, Default)]
pub struct HostInfo {
    pub cpuinfo: String,
}

/// Sandbox-wide state.
pub struct Kernel {
    /// The UTS names (sethostname, setdomainname change them for the whole sandbox).
    pub hostname: RefCell<Vec<u8>>,
    pub domainname: RefCell<Vec<u8>>,
    /// /proc/sys/kernel/{hostname,domainname}, rewritten when the names change.
    pub uts_files: RefCell<Vec<(&'static str, Rc<Inode>)>>,
    pub strace: Option<StraceSink>,
    /// The CPU guest code is pinned to, if any (reported by getcpu and rseq).
    pub cpu: Option<u32>,
    /// The host affinity mask the guest sees (captured before the Sentry pinned itself).
    pub affinity: Vec<u8>,
    /// Syscall numbers already logged as unsupported.
    pub unsupported_logged: RefCell<HashSet<u64>>,
    /// Partial paths (name) already logged.
    pub partial_logged: RefCell<HashSet<String>>,
    pub mounts: RefCell<Vec<MountInfo>>,
    pub host: HostInfo,
    /// Boot time (seconds since the epoch) and the host's uptime then.
    /// The host's boot time (seconds since the epoch): the guest's CLOCK_BOOTTIME is the host's
    /// (through the vDSO), so uptime and btime are the host's too, and agree with it.
    pub boot_time: i64,
    /// Guest memory the sandbox may use (MemTotal).
    pub memory_limit: u64,
    /// The internal filesystem of memfd_create's files, made on first use.
    memfd: RefCell<Option<Rc<Fs>>>,
    /// The platform new address spaces come from (fork), and the memory file.
    pub platform: Ptrace,
    pub memory: Arc<Memory>,
    /// The sandbox's processes (PIDs, parents, zombies).
    pub procs: RefCell<process::Procs>,
    /// Tasks made by fork, picked up by the scheduler after the syscall.
    pub spawned: RefCell<Vec<Task>>,
    /// Tasks waiting on futexes.
    pub futex: RefCell<syscalls::futex::FutexTable>,
    /// The timers of timerfds (the scheduler wakes and preempts for their expiries).
    pub timerfds: RefCell<Vec<std::rc::Weak<syscalls::anonfd::TimerState>>>,
    /// Bound Unix socket names (abstract names, and socket files by identity): the sandbox's
    /// own namespace, never the host's.
    pub unix_names:
        RefCell<std::collections::HashMap<Vec<u8>, std::rc::Weak<syscalls::socket::Listener>>>,
    /// Names bound by Unix datagram sockets (keys as `unix_names`'), to their receive queues.
    pub unix_dgram: RefCell<
        std::collections::HashMap<Vec<u8>, std::rc::Weak<syscalls::socket::unix_dgram::DgramQueue>>,
    >,
    /// Bound TCP and UDP ports of the sandbox's loopback network.
    pub inet_ports: RefCell<syscalls::socket::inet::Ports>,
    /// The caller's resource limits and identity, read at setup: what processes start with.
    pub host_rlimits: [abi::Rlimit; abi::RLIM_NLIMITS],
    pub host_identity: Identity,
    /// The OCI runtime's control of the sandbox (see [`control`]).
    pub control: RefCell<control::State>,
    /// Limits and their enforcement.
    pub limits: limits::State,
    /// The net gofer (see [`Config::net`]).
    pub net: Option<gofer::Channel>,
    audit: Option<RefCell<std::fs::File>>,
    /// The terminals of the sandbox's devpts (by N of /dev/pts/N), and its root.
    pub ttys: RefCell<std::collections::BTreeMap<u32, std::rc::Weak<vfs::tty::Terminal>>>,
    pub pts_root: RefCell<Option<Rc<Inode>>>,
    /// Terminals whose master side is a host terminal (`runrs do -t`, OCI `terminal`).
    pub consoles: RefCell<Vec<console::Console>>,
    /// The pipes of FIFOs that are open, by the node's (device, inode number).
    pub fifos: RefCell<std::collections::HashMap<(u64, u64), std::rc::Weak<vfs::pipe::Pipe>>>,
    /// While a task runs (its syscalls included), the sandbox's other tasks: procfs reads them
    /// for /proc/PID of other processes. Empty between runs (the scheduler holds them then).
    pub others: RefCell<std::collections::VecDeque<Task>>,
    /// The sandbox's own sysctls (OCI `linux.sysctl`; /proc/sys shows them).
    pub sysctl: Sysctl,
}

/// The sysctls a sandbox has of its own, with Linux's defaults: the names in [`SYSCTLS`].
#[derive(Clone, Debug)]
pub struct Sysctl {
    /// net.ipv4.ip_unprivileged_port_start: the lowest port a process without privilege binds.
    pub unprivileged_port_start: u32,
    /// net.core.somaxconn: the most a listen backlog may be.
    pub somaxconn: u32,
    /// net.ipv4.ping_group_range, as written (shown only: the sandbox has no ICMP sockets).
    pub ping_group_range: String,
}

impl Default for Sysctl {
    fn default() -> Sysctl {
        Sysctl {
            unprivileged_port_start: 1024,
            somaxconn: 4096,
            ping_group_range: "1\t0".into(),
        }
    }
}

/// The sysctls `linux.sysctl` may set (all others are refused, as runc refuses a sysctl whose
/// /proc/sys file does not exist).
pub const SYSCTLS: [&str; 3] = [
    "net.ipv4.ip_unprivileged_port_start",
    "net.core.somaxconn",
    "net.ipv4.ping_group_range",
];

impl Sysctl {
    /// Sets `name` to `value`, as a write to its /proc/sys file would.
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), String> {
        let number = |max: u32| {
            value
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|&v| v <= max)
                .ok_or_else(|| format!("sysctl {name:?}: invalid value {value:?}"))
        };
        match name {
            "net.ipv4.ip_unprivileged_port_start" => self.unprivileged_port_start = number(65535)?,
            "net.core.somaxconn" => self.somaxconn = number(i32::MAX as u32)?,
            "net.ipv4.ping_group_range" => {
                let ok = value.split_whitespace().count() == 2
                    && value.split_whitespace().all(|v| v.parse::<u32>().is_ok());
                if !ok {
                    return Err(format!("sysctl {name:?}: invalid value {value:?}"));
                }
                self.ping_group_range = value.split_whitespace().collect::<Vec<_>>().join("\t");
            }
            _ => {
                return Err(format!(
                    "open /proc/sys/{}: no such file or directory",
                    name.replace('.', "/")
                ))
            }
        }
        Ok(())
    }
}

impl Kernel {
    /// Whether there is an audit log (`--audit`).
    pub fn auditing(&self) -> bool {
        self.audit.is_some()
    }

    /// Appends an event to the audit log (`--audit`), with the time, as one JSON line.
    pub fn audit(&self, event: &serde_json::Value) {
        let Some(f) = &self.audit else {
            return;
        };
        let mut v = event.clone();
        if let Some(o) = v.as_object_mut() {
            let now = host::clock_gettime(libc::CLOCK_REALTIME).unwrap_or_default();
            let t = now.tv_sec as f64 + now.tv_nsec as f64 / 1e9;
            o.insert(
                "time".into(),
                serde_json::json!((t * 1000.0).round() / 1000.0),
            );
        }
        let mut line = v.to_string();
        line.push('\n');
        if let Err(e) = std::io::Write::write_all(&mut *f.borrow_mut(), line.as_bytes()) {
            tracing::warn!("writing the audit log: {e}");
        }
    }
    /// Nanoseconds until the nearest timerfd expiry, if one is armed.
    pub fn next_timerfd_ns(&self) -> Option<u64> {
        let mut list = self.timerfds.borrow_mut();
        list.retain(|w| w.strong_count() > 0);
        list.iter()
            .filter_map(|w| w.upgrade().and_then(|s| s.remaining_ns()))
            .min()
    }
}

impl Kernel {
    /// Logs, once per syscall number, that the guest called something runrs does not implement.
    pub fn log_unsupported(&self, nr: u64, name: &str) {
        if self.unsupported_logged.borrow_mut().insert(nr) {
            tracing::warn!(target: "runrs::unsupported", syscall = name, nr, "unsupported syscall {name} ({nr}): returned ENOSYS");
        }
    }

    /// Logs, once per `what`, that a partially implemented path was taken.
    pub fn log_partial(&self, what: String) {
        if self.partial_logged.borrow_mut().insert(what.clone()) {
            tracing::warn!(target: "runrs::unsupported", "partially supported: {what}");
        }
    }

    /// The filesystem memfd_create's files belong to (as Linux's internal shmem mount).
    pub fn memfd_fs(&self, memory: &Arc<Memory>) -> Rc<Fs> {
        self.memfd
            .borrow_mut()
            .get_or_insert_with(|| {
                Fs::new(
                    memory,
                    FsKind::Tmpfs,
                    0x01,
                    "tmpfs",
                    0x0102_1994,
                    false,
                    None,
                )
            })
            .clone()
    }

    /// CPUs the guest may run on.
    pub fn ncpus(&self) -> usize {
        self.affinity
            .iter()
            .map(|b| b.count_ones() as usize)
            .sum::<usize>()
            .max(1)
    }

    /// The CPU the guest runs on, as getcpu and rseq report it.
    pub fn vcpu(&self) -> u32 {
        self.cpu.unwrap_or_else(host::current_cpu)
    }
}

/// Signal dispositions, the mask, and pending signals (see [`signal`]).
pub struct Signals {
    /// Dispositions, shared by the threads of a process (a copy for a forked child).
    actions: Rc<RefCell<[abi::KernelSigaction; 64]>>,
    pub mask: u64,
    /// Pending signals (bit N-1 for signal N); standard and real-time signals alike do not
    /// queue beyond one each.
    pub pending: u64,
    /// The siginfo of each pending signal.
    pub info: [signal::SigInfo; 64],
    /// The mask to restore when a wait that replaced it (sigsuspend, ppoll, pselect6) ends.
    pub saved_mask: Option<u64>,
    /// The set a sigtimedwait in progress waits for.
    pub waiting_for: u64,
    /// Further instances of pending real-time signals, in the order sent.
    pub queued: std::collections::VecDeque<(i32, signal::SigInfo)>,
}

impl Signals {
    /// Dispositions and mask as given, nothing pending.
    pub fn new(actions: [abi::KernelSigaction; 64], mask: u64) -> Signals {
        Signals {
            actions: Rc::new(RefCell::new(actions)),
            mask,
            pending: 0,
            info: [signal::SigInfo::default(); 64],
            saved_mask: None,
            waiting_for: 0,
            queued: std::collections::VecDeque::new(),
        }
    }
    /// A new thread's: the same dispositions, the creator's mask.
    pub fn for_thread(&self) -> Signals {
        Signals {
            actions: self.actions.clone(),
            ..Signals::new([abi::KernelSigaction::default(); 64], self.mask)
        }
    }

    /// The disposition of `sig` (1..=64).
    pub fn action(&self, sig: i32) -> abi::KernelSigaction {
        self.actions.borrow()[usize::try_from(sig - 1).unwrap_or(0) & 63]
    }

    pub fn set_action(&self, sig: i32, a: abi::KernelSigaction) {
        self.actions.borrow_mut()[usize::try_from(sig - 1).unwrap_or(0) & 63] = a;
    }

    /// A copy of every disposition (fork).
    pub fn all_actions(&self) -> [abi::KernelSigaction; 64] {
        *self.actions.borrow()
    }

    /// Handlers go back to the default (exec); ignored signals stay ignored.
    pub fn reset_handlers(&self) {
        for a in self.actions.borrow_mut().iter_mut() {
            if a.handler > 1 {
                *a = abi::KernelSigaction::default();
            }
        }
    }

    /// Signals set to SIG_IGN, as a mask (bit N-1 for signal N).
    pub fn ignored(&self) -> u64 {
        self.mask_where(|h| h == 1)
    }

    /// Signals with a handler.
    pub fn caught(&self) -> u64 {
        self.mask_where(|h| h > 1)
    }

    fn mask_where(&self, f: impl Fn(u64) -> bool) -> u64 {
        self.actions
            .borrow()
            .iter()
            .enumerate()
            .filter(|(_, a)| f(a.handler))
            .fold(0, |m, (i, _)| m | 1 << i)
    }
}

/// The progress of a syscall that waits (blocked and retried): bytes already written, and when
/// a timed wait ends.
#[derive(Clone, Debug, Default)]
pub struct WaitState {
    pub progress: usize,
    /// A file an open that waits holds meanwhile (a FIFO's end, counted as a reader or
    /// writer while it waits for the other side).
    /// With it, the other side's open count when the wait began.
    pub pending: Option<(Rc<fd::File>, u64)>,
    /// The syscall already waited once (a terminal read the hangup then ends with EIO).
    pub waited: bool,
    /// The clock and absolute time a sleep or timed wait ends at.
    pub deadline: Option<(i32, abi::Timespec)>,
    /// Inherited host fds (and events) whose readiness would end the wait: the scheduler polls
    /// them while every task waits.
    pub host_fds: Vec<(i32, i16)>,
}

impl WaitState {
    /// Whether the deadline has passed.
    pub fn expired(&self) -> bool {
        self.deadline.is_some_and(|(clock, end)| {
            host::clock_gettime(clock)
                .is_ok_and(|now| (now.tv_sec, now.tv_nsec) >= (end.tv_sec, end.tv_nsec))
        })
    }

    /// Starts a relative timeout of `ts` on CLOCK_MONOTONIC, unless a retry already started it.
    pub fn start_timeout(&mut self, ts: abi::Timespec) {
        if self.deadline.is_some() {
            return;
        }
        let now = host::clock_gettime(libc::CLOCK_MONOTONIC).unwrap_or_default();
        let ns = now.tv_nsec + ts.tv_nsec;
        self.deadline = Some((
            libc::CLOCK_MONOTONIC,
            abi::Timespec {
                tv_sec: now.tv_sec.saturating_add(ts.tv_sec) + ns / 1_000_000_000,
                tv_nsec: ns % 1_000_000_000,
            },
        ));
    }

    /// Nanoseconds until the deadline (None without one).
    pub fn remaining_ns(&self) -> Option<i64> {
        let (clock, end) = self.deadline?;
        let now = host::clock_gettime(clock).ok()?;
        Some(((end.tv_sec - now.tv_sec) * 1_000_000_000 + (end.tv_nsec - now.tv_nsec)).max(0))
    }
}

/// A process's root and working directory.
pub struct FsContext {
    pub root: Rc<Inode>,
    pub cwd: Rc<Inode>,
}

/// A registered rseq area.
#[derive(Clone, Copy, Debug)]
pub struct RseqArea {
    pub addr: u64,
    pub len: u32,
    pub sig: u32,
}

/// The guest's identity (the caller's, inside the sandbox).
#[derive(Clone, Debug)]
pub struct Identity {
    pub ruid: u32,
    pub euid: u32,
    pub suid: u32,
    pub rgid: u32,
    pub egid: u32,
    pub sgid: u32,
    pub groups: Vec<u32>,
}

/// A guest task: one thread of one process.
pub struct Task {
    pub k: Rc<Kernel>,
    pub mm: Mm,
    ctx: PtraceContext,
    pub regs: UserRegs,
    pub fds: FdTable,
    pub creds: Identity,
    pub signals: Signals,
    pub rlimits: [abi::Rlimit; abi::RLIM_NLIMITS],
    /// The thread's id, and its process's (the thread group's).
    pub tid: i32,
    pub tgid: i32,
    pub clear_child_tid: u64,
    pub robust_list: (u64, u64),
    pub rseq: Option<RseqArea>,
    pub umask: u32,
    pub fs: FsContext,
    /// The executable and its absolute path.
    pub exe: Option<(Rc<Inode>, Vec<u8>)>,
    /// The command name (/proc/PID/comm).
    pub comm: Vec<u8>,
    /// The alternate signal stack: base, flags (SS_AUTODISARM), size (0: none).
    pub altstack: (u64, i32, u64),
    /// Nice value (getpriority/setpriority).
    pub nice: i32,
    /// Scheduling policy (with SCHED_RESET_ON_FORK) and static priority, as set by
    /// sched_setscheduler: recorded; the host scheduling of the stub does not change.
    pub sched: (i32, i32),
    /// CPU affinity set by sched_setaffinity (None: the sandbox's).
    pub affinity: Option<Vec<u8>>,
    /// Waiting at a syscall that another task must make possible (the scheduler retries it).
    pub blocked: bool,
    /// A vfork child this task waits for (until it execs or exits).
    pub vfork_child: Option<i32>,
    /// What a waiting syscall has done so far (cleared when it completes).
    pub wait: WaitState,
    /// Host pid of the stub, for its CPU clock.
    pub stub_pid: i32,
    /// Set when the task has ended.
    pub exit: Option<ExitStatus>,
    /// Signal frames of running handlers: the frame's address and the alternate stack before it
    /// (restored by rt_sigreturn, for SS_AUTODISARM).
    pub sigframes: Vec<(u64, (u64, i32, u64))>,
    /// Interval and POSIX timers.
    pub timers: Rc<RefCell<timer::Timers>>,
}

/// Failure to start a guest.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("platform: {0}")]
    Platform(#[from] platform::Error),
    #[error("memory file: {0}")]
    Memory(std::io::Error),
    #[error("console: {0}")]
    Console(String),
    #[error(transparent)]
    Load(#[from] loader::LoadError),
    #[error("locking the Sentry down: {0}")]
    Lockdown(#[from] crate::lockdown::LockdownError),
    /// The program could not be found or executed (127 for ENOENT, 126 otherwise).
    #[error("{path}: {errno}")]
    Exec {
        path: String,
        errno: crate::errors::Errno,
    },
}

/// What the guest is started with.
pub struct Program {
    /// The program as given: a path, or a name searched for in `$PATH` (the guest's view).
    pub path: Vec<u8>,
    pub argv: Vec<Vec<u8>>,
    pub envp: Vec<Vec<u8>>,
    pub cwd: Vec<u8>,
    /// Host fds for the guest's fds 0, 1 and 2 (None: closed, as the caller's was).
    pub stdio: [Option<OwnedFd>; 3],
    /// What /proc/PID/fd shows for them (None: asked of the host at setup).
    pub stdio_names: Option<[Vec<u8>; 3]>,
    /// Its identity (None: the caller's).
    pub identity: Option<Identity>,
    /// Resource limits other than the caller's (RLIMIT_* index, limit).
    pub rlimits: Vec<(usize, abi::Rlimit)>,
    /// Its umask (None: 022).
    pub umask: Option<u32>,
    /// Its stdio is a new terminal of the sandbox whose other side is the host fds `stdio[0]`
    /// (input) and `stdio[1]` (output), a console: it leads a session with that terminal as
    /// its controlling terminal.
    pub terminal: bool,
}

/// A running sandbox: the platform, and its one task.
pub struct Sandbox {
    // Field order is drop order: the tasks (and their stubs) before the kernel and its platform.
    tasks: std::collections::VecDeque<Task>,
    k: Rc<Kernel>,
    /// What the lockdown achieved (None: not locked down).
    lockdown: Option<crate::lockdown::Report>,
}

impl Sandbox {
    /// Creates the sandbox and loads the program; nothing of the guest has run yet.
    pub fn new(config: Config, mut program: Program) -> Result<Sandbox, StartError> {
        let t0 = std::time::Instant::now();
        let affinity = host::sched_getaffinity(1024).unwrap_or_else(|_| vec![1]);
        // A disk store's free space bounds what the guest may write there; a memory store
        // holds what the memfd would, under the same limit.
        let store_space = match &config.store {
            Some(fd) => nix::sys::statvfs::fstatvfs(fd).map_or(0, |s| {
                s.blocks_available().saturating_mul(s.fragment_size())
            }),
            None => config.tmpfs_size,
        };
        let store = match config.store {
            Some(fd) => Some((fd, STORE_SIZE, StoreKind::Disk)),
            None => memory_store().map(|fd| (fd, STORE_SIZE, StoreKind::Memory)),
        };
        let memory = Memory::with_store(config.memory_size, store).map_err(StartError::Memory)?;
        let store = memory.store().map(|m| (m, store_space));
        // The platform's batch and scratch pages: two pages of the memory file, never released.
        let batch_page = memory
            .allocate(2 * abi::PAGE_SIZE)
            .map_err(|e| StartError::Memory(std::io::Error::from_raw_os_error(e.code)))?;
        let platform = Ptrace::new(platform::Config {
            store_file: memory.file.store(),
            memory_file: memory.file.fd(),
            placement: config.placement,
            host_vdso: config.host_vdso,
            batch_page: Some(batch_page),
            host_files: Some(memory.file.host_files().clone()),
        })?;
        // The template stub first: its fork and exec run while the Gofer starts.
        platform.make_template(None)?;
        let cpu = match config.placement {
            CpuPlacement::SameCore(c) => u32::try_from(c).ok(),
            CpuPlacement::Any => None,
        };
        let now = host::clock_gettime(libc::CLOCK_REALTIME).unwrap_or_default();
        let up = host::clock_gettime(libc::CLOCK_BOOTTIME).unwrap_or_default();
        let k = Rc::new(Kernel {
            hostname: RefCell::new(config.hostname.into_bytes()),
            domainname: RefCell::new(b"(none)".to_vec()),
            uts_files: RefCell::default(),
            strace: config.strace,
            cpu,
            affinity,
            unsupported_logged: RefCell::new(HashSet::new()),
            partial_logged: RefCell::new(HashSet::new()),
            mounts: RefCell::new(Vec::new()),
            // Setup-time read: the Sentry opens no host path once the guest runs.
            host: HostInfo {
                cpuinfo: std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default(),
            },
            boot_time: now.tv_sec - up.tv_sec,
            memory_limit: config
                .limits
                .memory
                .unwrap_or(u64::MAX)
                .min(config.memory_size)
                .min(host_memory()),
            memfd: RefCell::new(None),
            platform,
            memory: memory.clone(),
            procs: RefCell::new(process::Procs::new()),
            spawned: RefCell::new(Vec::new()),
            futex: RefCell::default(),
            timerfds: RefCell::default(),
            unix_names: RefCell::default(),
            unix_dgram: RefCell::default(),
            inet_ports: RefCell::default(),
            host_rlimits: std::array::from_fn(host::getrlimit),
            host_identity: identity(),
            control: RefCell::new(control::State::new(config.controlled)),
            limits: limits::State::new(config.limits.clone()),
            net: config.net,
            audit: config.audit.map(|fd| RefCell::new(std::fs::File::from(fd))),
            ttys: RefCell::default(),
            pts_root: RefCell::default(),
            consoles: RefCell::default(),
            fifos: RefCell::default(),
            others: RefCell::default(),
            sysctl: config.sysctl.clone(),
        });
        k.procs.borrow_mut().max_tasks = config.limits.pids;
        if let Some(d) = config.limits.disk {
            memory.set_disk_limit(d);
        }
        tracing::debug!(us = t0.elapsed().as_micros(), "platform ready");
        let lockdown = if config.lock_down {
            // Made before the lockdown (a pipe); signals are forwarded once the program is loaded.
            host::make_wake_pipe().map_err(StartError::Memory)?;
            // Asked of the host now: the locked-down Sentry reads no links.
            if program.stdio_names.is_none() {
                program.stdio_names = Some(std::array::from_fn(|i| {
                    program.stdio[i]
                        .as_ref()
                        .map_or_else(Vec::new, host_fd_name)
                }));
            }
            let report = lock_down(&k, config.net_ns_of)?;
            tracing::debug!(?report, us = t0.elapsed().as_micros(), "Sentry locked down");
            Some(report)
        } else {
            None
        };
        let gofer = Rc::new(gofer::Client::new(config.gofer));
        let root = build_tree(
            &k,
            &gofer,
            &TreeSpec {
                overlay: config.overlay,
                tmpfs_size: config.tmpfs_size,
                store,
                volumes: &config.volumes,
                tmpfs_mounts: &config.tmpfs_mounts,
                masked: &config.masked,
                files: &config.files,
            },
            &memory,
        )?;
        tracing::debug!(us = t0.elapsed().as_micros(), "filesystem tree ready");
        k.control.borrow_mut().root = Some(root.clone());
        let task = new_process(&k, &root, program, 1)?;
        tracing::debug!(us = t0.elapsed().as_micros(), "program loaded");
        // From here on, SIGINT, SIGTERM and the like are for the guest.
        if let Err(e) = host::forward_signals() {
            tracing::warn!("host signals will not reach the guest: {e}");
        }
        Ok(Sandbox {
            k: task.k.clone(),
            tasks: std::collections::VecDeque::from([task]),
            lockdown,
        })
    }

    /// What the lockdown achieved ([`Config::lock_down`]; None: not locked down).
    pub fn lockdown(&self) -> Option<&crate::lockdown::Report> {
        self.lockdown.as_ref()
    }

    /// Runs the guest to its end: until PID 1 exits (then every other process is killed, as
    /// when a container's init exits).
    pub fn run(mut self) -> Result<ExitStatus, platform::Error> {
        let status = process::schedule(&self.k, &mut self.tasks);
        tracing::debug!("guest ended");
        // What the guest wrote to its terminal goes out; host terminals get their modes back.
        console::close_all(&self.k);
        let status = status?;
        let (code, signal) = match status {
            ExitStatus::Exited(c) => (Some(c), None),
            ExitStatus::Signaled { signo, .. } => (None, Some(abi::signal::name(signo))),
        };
        self.k.audit(&serde_json::json!({
            "event": "exit", "code": code, "signal": signal, "status": status.shell_code(),
        }));
        Ok(status)
    }
}

/// Makes process `pid` (its first task) running `program`, loaded and ready to run, in a new
/// address space: the sandbox's first process, or one `runrs exec` starts.
pub(crate) fn new_process(
    k: &Rc<Kernel>,
    root: &Rc<Inode>,
    program: Program,
    pid: i32,
) -> Result<Task, StartError> {
    let k = k.clone();
    let memory = k.memory.clone();
    let root = root.clone();
    {
        let mut space = k.platform.new_address_space()?;
        let stub_pid = space.stub_pid();
        let ctx = space.new_context()?;
        let mm = Mm::new(memory.clone(), space, k.platform.max_user_address());

        let mut rlimits = k.host_rlimits;
        for &(i, r) in &program.rlimits {
            if let Some(slot) = rlimits.get_mut(i) {
                *slot = r;
            }
        }
        let creds = program
            .identity
            .clone()
            .unwrap_or_else(|| k.host_identity.clone());
        let stack_limit = rlimits[abi::RLIMIT_STACK].cur;
        mm.state_mut().as_limit = rlimits[abi::RLIMIT_AS].cur;
        let fds = FdTable::default();
        let mut program = program;
        let mut console = None;
        if program.terminal {
            let input = program.stdio[0].take();
            let output = match program.stdio[1].take() {
                Some(o) => o,
                None => input
                    .as_ref()
                    .and_then(|i| i.try_clone().ok())
                    .ok_or_else(|| StartError::Console("no output fd".into()))?,
            };
            program.stdio[2] = None;
            let (term, files) = console::open_for(&k, input, output, (creds.euid, creds.egid))
                .map_err(|e| StartError::Console(e.to_string()))?;
            for (i, f) in files.into_iter().enumerate() {
                fds.install_at(i, f, false);
            }
            console = Some(term);
        }
        for (i, fd) in program.stdio.into_iter().enumerate() {
            if let Some(fd) = fd {
                let name = match &program.stdio_names {
                    Some(names) => names[i].clone(),
                    None => host_fd_name(&fd),
                };
                fds.install_at(i, Rc::new(File::Host(fd::HostFile { fd, name })), false);
            }
        }
        let task = Task {
            k,
            mm,
            ctx,
            regs: UserRegs::default(),
            fds,
            creds,
            signals: Signals::new([abi::KernelSigaction::default(); 64], 0),
            rlimits,
            tid: pid,
            tgid: pid,
            clear_child_tid: 0,
            robust_list: (0, 0),
            rseq: None,
            umask: program.umask.unwrap_or(0o022) & 0o777,
            fs: FsContext {
                cwd: root.clone(),
                root: root.clone(),
            },
            exe: None,
            comm: Vec::new(),
            altstack: (0, 0, 0),
            nice: 0,
            sched: (0, 0),
            affinity: None,
            blocked: false,
            vfork_child: None,
            wait: WaitState::default(),
            stub_pid,
            exit: None,
            sigframes: Vec::new(),
            timers: Rc::default(),
        };
        let mut task = task;
        // The caller's working directory, if the sandbox has it; else /.
        if let Ok(cwd) = vfs::walk::Walker::new(&task).lookup(&root, &program.cwd, true) {
            if cwd.is_dir() {
                task.fs.cwd = cwd;
            }
        }
        let exec_err = |errno| StartError::Exec {
            path: String::from_utf8_lossy(&program.path).into_owned(),
            errno,
        };
        let path = find_program(&task, &program.path, &program.envp).map_err(exec_err)?;
        let cwd = task.fs.cwd.clone();
        let prepared = exec::prepare(&task, &cwd, &path, program.argv).map_err(exec_err)?;

        let execfn = String::from_utf8_lossy(&path).into_owned();
        let loaded = loader::load(
            &mut task.mm.state_mut(),
            &execfn,
            &prepared.image,
            prepared.interp.as_ref(),
            &loader::ExecArgs {
                argv: &prepared.argv,
                envp: &program.envp,
                stack_limit,
                creds: Creds {
                    uid: task.creds.ruid,
                    euid: task.creds.euid,
                    gid: task.creds.rgid,
                    egid: task.creds.egid,
                },
                aux: HostAux {
                    hwcap: host::getauxval(abi::auxv::AT_HWCAP),
                    hwcap2: host::getauxval(abi::auxv::AT_HWCAP2),
                    minsigstksz: host::getauxval(abi::auxv::AT_MINSIGSTKSZ),
                },
            },
        )?;
        task.regs = loaded.regs;

        task.k.audit(&serde_json::json!({
            "event": "exec",
            "pid": pid,
            "path": String::from_utf8_lossy(&prepared.exe_path),
            "argv": prepared.argv.iter().map(|a| String::from_utf8_lossy(a)).collect::<Vec<_>>(),
            "uid": task.creds.euid,
        }));
        task.exe = Some((prepared.exe, prepared.exe_path));
        // As Linux: the base name of the path exec was given (a symlink's own name, a script's
        // name), at most 15 bytes.
        let base = path.rsplit(|&c| c == b'/').next().unwrap_or(&path);
        task.comm = base[..base.len().min(15)].to_vec();
        task.k.procs.borrow_mut().add_init(pid);
        if let Some(term) = console {
            console::attach(&task.k, &term, pid);
        }
        Ok(task)
    }
}

/// Physical memory of the host, the most a sandbox reports.
fn host_memory() -> u64 {
    nix::sys::sysinfo::sysinfo().map_or(u64::MAX, |i| i.ram_total())
}

/// What the sandbox's tree is made of (from [`Config`]).
struct TreeSpec<'a> {
    overlay: Overlay,
    tmpfs_size: u64,
    /// Where the root's upper layer and /tmp keep file contents, and their size limit (the
    /// store's disk space), when that is not memory.
    store: Option<(Arc<Memory>, u64)>,
    volumes: &'a [VolumeConfig],
    tmpfs_mounts: &'a [String],
    files: &'a [(String, Vec<u8>, u32)],
    masked: &'a [String],
}

/// The filesystem tree of another container of the pod (`runrs create` of a container whose
/// annotations name this sandbox): its image through its own Gofer, made as the sandbox's own.
pub(crate) fn container_tree(
    k: &Rc<Kernel>,
    channel: gofer::Channel,
    req: &crate::control::ContainerRequest,
) -> Result<Rc<Inode>, StartError> {
    let gofer = Rc::new(gofer::Client::new(channel));
    let volumes: Vec<VolumeConfig> = req
        .volumes
        .iter()
        .map(|(guest_path, readonly)| VolumeConfig {
            guest_path: guest_path.clone(),
            readonly: *readonly,
            overlay: false,
        })
        .collect();
    let memory = k.memory.clone();
    // /proc/mounts lists the sandbox's own tree (one list per sandbox for now): the
    // container's mounts are left out of it.
    let mounts = k.mounts.borrow().clone();
    let root = build_tree(
        k,
        &gofer,
        &TreeSpec {
            overlay: if req.readonly {
                Overlay::None
            } else {
                Overlay::Memory
            },
            tmpfs_size: 2 << 30,
            store: None,
            volumes: &volumes,
            tmpfs_mounts: &req.tmpfs_mounts,
            masked: &req.masked,
            files: &req.files,
        },
        &memory,
    );
    *k.mounts.borrow_mut() = mounts;
    root
}

/// Builds the sandbox's filesystem tree: the overlay root from the Gofer's mount 0, with procfs
/// on /proc, devfs on /dev, tmpfs on /dev/shm and /tmp, and sysfs on /sys.
fn build_tree(
    k: &Rc<Kernel>,
    gofer: &Rc<gofer::Client>,
    spec: &TreeSpec<'_>,
    memory: &Arc<Memory>,
) -> Result<Rc<Inode>, StartError> {
    let TreeSpec {
        overlay,
        tmpfs_size,
        ref store,
        volumes,
        tmpfs_mounts,
        files,
        masked,
    } = *spec;
    let (data, disk_size) = match store {
        Some((m, size)) => (m.clone(), *size),
        None => (memory.clone(), tmpfs_size),
    };
    let setup_err = |e: crate::errors::Errno| StartError::Exec {
        path: "/".into(),
        errno: e,
    };
    let (reply, _) = gofer
        .call(&gofer::proto::Request::Stat { fid: 0 })
        .map_err(vfs::gofer_err)
        .map_err(setup_err)?;
    let gofer::proto::Reply::Attr(attr) = reply else {
        return Err(setup_err(crate::errno!(EIO, "gofer: bad reply to stat")));
    };
    let mut dev_minor = 0x30;
    let mut next_dev = || {
        dev_minor += 1;
        dev_minor
    };
    let readonly = overlay == Overlay::None;
    let ofs = Fs::new_in(
        memory,
        &data,
        FsKind::Overlay,
        next_dev(),
        "overlay",
        0x794c_7630,
        readonly,
        Some(disk_size),
    );
    let root = Inode::new(
        &ofs,
        attr.ino,
        vfs::Meta {
            mode: attr.mode,
            uid: attr.uid,
            gid: attr.gid,
            nlink: attr.nlink,
            size: attr.size,
            atime: attr.atime,
            mtime: attr.mtime,
            ctime: attr.ctime,
            ..vfs::Meta::default()
        },
        vfs::Kind::Dir(vfs::Dir::default()),
        Some(vfs::Lower {
            fid: 0,
            gofer: gofer.clone(),
        }),
    );
    *root.parent.borrow_mut() = Rc::downgrade(&root);
    let mut mounts = vec![MountInfo {
        path: "/".into(),
        fstype: "overlay",
        source: "overlay".into(),
        readonly,
        dev: ofs.dev,
    }];
    // Mount points are directories of the tree; ones missing from the host are made in memory.
    let mountpoint = |path: &[u8]| -> Rc<Inode> {
        let mut cur = root.clone();
        for name in path.split(|&c| c == b'/').filter(|c| !c.is_empty()) {
            let next = cur
                .dir()
                .and_then(|d| d.entries.borrow().get(name).cloned())
                .and_then(|e| match e {
                    vfs::Entry::Node(n) => Some(n),
                    _ => None,
                });
            let next = match next {
                Some(n) => n,
                None => match cur.lookup_child_setup(name) {
                    Some(n) if n.is_dir() => n,
                    _ => vfs::mkdir_p(&cur, name, 0o755),
                },
            };
            let m = next.mounted.borrow().clone();
            cur = m.unwrap_or(next);
        }
        cur
    };
    let procfs = Fs::new(
        memory,
        FsKind::Proc,
        next_dev(),
        "proc",
        0x9fa0,
        false,
        None,
    );
    let proc_root = {
        let r = Inode::new(
            &procfs,
            1,
            vfs::Meta::new(vfs::S_IFDIR | 0o555, 0, 0),
            vfs::Kind::Dir(vfs::Dir {
                synth: Some(vfs::proc::DirKind::Root),
                ..vfs::Dir::default()
            }),
            None,
        );
        *r.parent.borrow_mut() = Rc::downgrade(&r);
        vfs::proc::populate(&r, k);
        r
    };
    vfs::mount(&mountpoint(b"/proc"), &proc_root);
    mounts.push(MountInfo {
        path: "/proc".into(),
        fstype: "proc",
        source: "proc".into(),
        readonly: false,
        dev: procfs.dev,
    });
    let mut add = |path: &str, fs: Rc<Fs>, mode: u32, populate: &dyn Fn(&Rc<Inode>)| {
        let on = mountpoint(path.as_bytes());
        let r = vfs::new_root(&fs, mode);
        populate(&r);
        vfs::mount(&on, &r);
        mounts.push(MountInfo::of(path, &fs));
    };
    let devfs = Fs::new(
        memory,
        FsKind::Dev,
        next_dev(),
        "tmpfs",
        0x0102_1994,
        false,
        Some(64 << 10),
    );
    add("/dev", devfs, 0o755, &vfs::dev::populate);
    let shm = Fs::new(
        memory,
        FsKind::Tmpfs,
        next_dev(),
        "tmpfs",
        0x0102_1994,
        false,
        Some(tmpfs_size),
    );
    add("/dev/shm", shm, 0o1777, &|_| {});
    let pts = Fs::new(
        memory,
        FsKind::Devpts,
        next_dev(),
        "devpts",
        0x1cd1,
        false,
        Some(0),
    );
    add("/dev/pts", pts, 0o755, &|r| {
        crate::syscalls::tty::populate_devpts(r);
        *k.pts_root.borrow_mut() = Some(r.clone());
    });
    let sysfs = Fs::new(
        memory,
        FsKind::Sys,
        next_dev(),
        "sysfs",
        0x6265_6572,
        true,
        None,
    );
    let ncpus = k.ncpus();
    add("/sys", sysfs, 0o555, &|r| {
        let cpu = vfs::mkdir_p(
            &vfs::mkdir_p(&vfs::mkdir_p(r, b"devices", 0o755), b"system", 0o755),
            b"cpu",
            0o755,
        );
        let list = if ncpus > 1 {
            format!("0-{}\n", ncpus - 1)
        } else {
            "0\n".into()
        };
        for f in [&b"online"[..], b"possible", b"present"] {
            vfs::add_file(&cpu, f, 0o444, list.as_bytes());
        }
        for c in 0..ncpus {
            vfs::mkdir_p(&cpu, format!("cpu{c}").as_bytes(), 0o755);
        }
        let dev = vfs::mkdir_p(r, b"dev", 0o755);
        vfs::mkdir_p(&dev, b"block", 0o755);
        vfs::mkdir_p(&dev, b"char", 0o755);
        vfs::mkdir_p(r, b"fs", 0o755);
        vfs::mkdir_p(&vfs::mkdir_p(r, b"kernel", 0o755), b"mm", 0o755);
    });
    // The sandbox's cgroup as cgroup v2 shows one (/proc/self/cgroup says "0::/"): its limits,
    // for runtimes that size themselves by them (Go's GOMAXPROCS from cpu.max, the JVM's heap
    // from memory.max). Read-only: the limits are the sandbox's, set from outside.
    let limits = &k.limits.limits;
    let or_max = |v: Option<String>| format!("{}\n", v.unwrap_or_else(|| "max".into()));
    let cg_files = [
        (&b"cgroup.controllers"[..], "cpu memory pids\n".to_string()),
        (b"cgroup.type", "domain\n".into()),
        (
            b"cpu.max",
            or_max(limits.cpu_max.clone().or(Some("max 100000".into()))),
        ),
        (
            b"cpu.weight",
            format!("{}\n", limits.cpu_weight.unwrap_or(100)),
        ),
        (b"memory.max", or_max(limits.memory.map(|m| m.to_string()))),
        (b"pids.max", or_max(limits.pids.map(|p| p.to_string()))),
    ];
    let cgroup = Fs::new(
        memory,
        FsKind::Sys,
        next_dev(),
        "cgroup2",
        0x6367_7270,
        true,
        None,
    );
    add("/sys/fs/cgroup", cgroup, 0o555, &|r| {
        for (name, text) in &cg_files {
            vfs::add_file(r, name, 0o444, text.as_bytes());
        }
    });
    let tmp = Fs::new_in(
        memory,
        &data,
        FsKind::Tmpfs,
        next_dev(),
        "tmpfs",
        0x0102_1994,
        false,
        Some(disk_size),
    );
    add("/tmp", tmp, 0o1777, &|_| {});
    for path in tmpfs_mounts {
        let fs = Fs::new(
            memory,
            FsKind::Tmpfs,
            next_dev(),
            "tmpfs",
            0x0102_1994,
            false,
            Some(tmpfs_size),
        );
        add(path, fs, 0o1777, &|_| {});
    }
    for (i, v) in volumes.iter().enumerate() {
        let fid = (i + 1) as u64;
        let (reply, _) = gofer
            .call(&gofer::proto::Request::Stat { fid })
            .map_err(vfs::gofer_err)
            .map_err(setup_err)?;
        let gofer::proto::Reply::Attr(attr) = reply else {
            return Err(setup_err(crate::errno!(EIO, "gofer: bad reply to stat")));
        };
        let fs = if v.overlay {
            Fs::new_named(
                memory,
                FsKind::Overlay,
                next_dev(),
                "overlay",
                0x794c_7630,
                v.readonly,
                Some(tmpfs_size),
                format!("volume{}", i + 1),
            )
        } else {
            Fs::new_named(
                memory,
                FsKind::Volume,
                next_dev(),
                "9p",
                0x0102_1997,
                v.readonly,
                None,
                format!("volume{}", i + 1),
            )
        };
        let r = Inode::new(
            &fs,
            attr.ino,
            vfs::Meta::from_attr(&attr),
            vfs::Kind::Dir(vfs::Dir::default()),
            Some(vfs::Lower {
                fid,
                gofer: gofer.clone(),
            }),
        );
        *r.parent.borrow_mut() = Rc::downgrade(&r);
        vfs::mount(&mountpoint(v.guest_path.as_bytes()), &r);
        mounts.push(MountInfo::of(&v.guest_path, &fs));
    }
    for (path, contents, mode) in files {
        let (dir, name) = match path.rsplit_once('/') {
            Some((d, n)) if !n.is_empty() => (d, n),
            _ => continue,
        };
        let dir = mountpoint(dir.as_bytes());
        vfs::add_file(&dir, name.as_bytes(), mode & 0o7777, contents);
    }
    for path in masked {
        // What is there (mounts crossed, nothing made): as runc, a path missing is left alone.
        let mut cur = Some(root.clone());
        for name in path.split('/').filter(|c| !c.is_empty()) {
            cur = cur
                .and_then(|d| d.lookup_child_setup(name.as_bytes()))
                .map(|n| {
                    let m = n.mounted.borrow().clone();
                    m.unwrap_or(n)
                });
        }
        let Some(node) = cur.filter(|_| path.starts_with('/') && path.len() > 1) else {
            continue;
        };
        if node.is_dir() {
            let fs = Fs::new(
                memory,
                FsKind::Tmpfs,
                next_dev(),
                "tmpfs",
                0x0102_1994,
                true,
                Some(0),
            );
            vfs::mount(&mountpoint(path.as_bytes()), &vfs::new_root(&fs, 0o555));
            mounts.push(MountInfo::of(path, &fs));
        } else if let Some((dir, name)) = path.rsplit_once('/') {
            let parent = mountpoint(dir.as_bytes());
            parent.link_child(name.as_bytes(), vfs::dev::null_node(&parent.fs));
        }
    }
    *k.mounts.borrow_mut() = mounts;
    Ok(root)
}

/// Finds the program as execvp does: a path if it has a slash, else the first executable match
/// in the guest's `$PATH`.
fn find_program(
    t: &Task,
    program: &[u8],
    envp: &[Vec<u8>],
) -> Result<Vec<u8>, crate::errors::Errno> {
    if program.contains(&b'/') {
        return Ok(program.to_vec());
    }
    if program.is_empty() {
        return Err(crate::errno!(ENOENT));
    }
    let path = envp
        .iter()
        .find_map(|e| e.strip_prefix(b"PATH="))
        .unwrap_or(b"/usr/local/bin:/usr/bin:/bin");
    let mut err = crate::errno!(ENOENT);
    for dir in path.split(|&c| c == b':') {
        let dir = if dir.is_empty() { &b"."[..] } else { dir };
        let mut p = dir.to_vec();
        p.push(b'/');
        p.extend_from_slice(program);
        match vfs::walk::Walker::new(t).lookup(&t.fs.cwd, &p, true) {
            Ok(n)
                if matches!(n.kind, vfs::Kind::Regular(_))
                    && vfs::permission(&n, vfs::MAY_EXEC, &t.cred()).is_ok() =>
            {
                return Ok(p)
            }
            Ok(_) => err = crate::errno!(EACCES),
            Err(_) => {}
        }
    }
    Err(err)
}

fn identity() -> Identity {
    let (mut r, mut e, mut s) = (0, 0, 0);
    let (mut rg, mut eg, mut sg) = (0, 0, 0);
    // nix wraps these safely.
    if let Ok(u) = nix::unistd::getresuid() {
        (r, e, s) = (u.real.as_raw(), u.effective.as_raw(), u.saved.as_raw());
    }
    if let Ok(g) = nix::unistd::getresgid() {
        (rg, eg, sg) = (g.real.as_raw(), g.effective.as_raw(), g.saved.as_raw());
    }
    Identity {
        ruid: r,
        euid: e,
        suid: s,
        rgid: rg,
        egid: eg,
        sgid: sg,
        groups: host::getgroups(),
    }
}

impl Task {
    /// The identity file permission checks use (the effective ids).
    pub fn cred(&self) -> vfs::Cred<'_> {
        vfs::Cred {
            uid: self.creds.euid,
            gid: self.creds.egid,
            groups: &self.creds.groups,
        }
    }

    /// The command name (/proc/PID/comm): the executable's base name, up to 15 bytes.
    pub fn comm(&self) -> String {
        String::from_utf8_lossy(&self.comm).into_owned()
    }

    /// Runs the task until its next syscall or fault and handles it. Returns whether the
    /// syscall blocked (the task waits; its syscall is tried again later).
    /// The guest runs until `deadline_ns` (CLOCK_MONOTONIC) at most: then it is preempted.
    pub fn step(&mut self, deadline_ns: Option<u64>) -> Result<bool, platform::Error> {
        let (ctx, regs) = (&mut self.ctx, &mut self.regs);
        let event = self
            .mm
            .with_space(|space| ctx.switch_until(space, regs, deadline_ns))?;
        match event {
            Event::Syscall => return Ok(syscalls::dispatch(self) == syscalls::Outcome::Blocked),
            Event::Signal(info) => {
                tracing::trace!(
                    target: "runrs::syscall",
                    tid = self.tid,
                    signo = info.signo,
                    addr = format_args!("{:#x}", info.addr),
                    rip = format_args!("{:#x}", self.regs.rip),
                    "host signal"
                );
                self.host_signal(info);
            }
            Event::Preempted => {}
        }
        Ok(false)
    }

    /// A host signal stopped the stub.
    fn host_signal(&mut self, info: platform::SignalInfo) {
        use abi::signal::{name, SIGBUS, SIGSEGV};
        let sig = info.signo;
        if !info.synchronous {
            // Only a host process could have sent it (the Sentry never signals the stub).
            tracing::warn!("ignoring host signal {} sent to the stub", name(sig));
            return;
        }
        // A write to memory shared copy-on-write since a fork (SEGV_ACCERR = 2) copies it, and
        // the write is retried. (The fault does not say it was a write: a read or exec fault
        // there fails again once the page is writable, and is then delivered.)
        if sig == SIGSEGV && info.code == 2 && self.mm.break_cow(info.addr) {
            return;
        }
        // A forked child's memory is mapped on its first touch (SEGV_MAPERR = 1).
        if sig == SIGSEGV && info.code == 1 && self.mm.fault_in(info.addr) {
            return;
        }
        // A fault just below the stack grows it, invisibly to the guest (SEGV_MAPERR = 1).
        if sig == SIGSEGV
            && info.code == 1
            && self
                .mm
                .grow_stack(info.addr, self.rlimits[abi::RLIMIT_STACK].cur)
        {
            return;
        }
        tracing::debug!(
            "guest fault: {} code {} at {:#x}, rip {:#x}",
            name(sig),
            info.code,
            info.addr,
            self.regs.rip
        );
        // Touching a shared mapping past its object's end is SIGBUS (BUS_ADRERR = 2), as on
        // Linux. (A page without read access there is a protection fault first: SIGSEGV. A write
        // to a read-only page there is reported as SIGBUS: the fault does not say it was a write.)
        let (sig, code) = if sig == SIGSEGV && info.code == 1 && self.mm.is_beyond_object(info.addr)
        {
            (SIGBUS, 2)
        } else {
            (sig, info.code)
        };
        signal::force(
            self,
            sig,
            signal::SigInfo {
                code,
                addr: info.addr,
                ..signal::SigInfo::default()
            },
        );
    }

    /// Ends the task with a fatal signal (as Linux's default action). The status says "core
    /// dumped" when the action dumps core and RLIMIT_CORE allows one (no core file is written).
    pub fn kill(&mut self, sig: i32) {
        let status = ExitStatus::Signaled {
            signo: sig,
            core: default_dumps_core(sig) && self.rlimits[libc::RLIMIT_CORE as usize].cur > 0,
        };
        self.exit_group(status);
    }

    /// Ends every thread of the process with `status` (exit_group, a fatal signal).
    pub fn exit_group(&mut self, status: ExitStatus) {
        self.exit = Some(status);
        if let Some(p) = self.k.procs.borrow_mut().procs.get_mut(&self.tgid) {
            p.group_exit.get_or_insert(status);
        }
    }
}

/// Whether a signal's default action dumps core.
pub fn default_dumps_core(sig: i32) -> bool {
    matches!(sig, 3 | 4 | 5 | 6 | 7 | 8 | 11 | 24 | 25 | 31)
}

/// Locks the Sentry down (see [`crate::lockdown`]). Every later address space is a clone of the
/// template stub, made at startup: the locked-down Sentry neither forks nor execs, and its
/// stubs never inherit its filter.
fn lock_down(k: &Kernel, net_ns_of: Option<i32>) -> Result<crate::lockdown::Report, StartError> {
    k.platform.seal(None)?;
    Ok(crate::lockdown::lock_down(net_ns_of)?)
}

/// The name the host gives `fd` (for /proc/PID/fd), read at setup, before the lockdown.
fn host_fd_name(fd: &OwnedFd) -> Vec<u8> {
    std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd()))
        .map(|p| p.into_os_string().into_encoded_bytes())
        .unwrap_or_else(|_| b"anon_inode:[unknown]".to_vec())
}
