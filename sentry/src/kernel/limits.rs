//! Sandbox-wide limits the Sentry enforces itself (gVisor leaves enforcement to host cgroups):
//! tasks (`--pids`: clone and fork fail with EAGAIN past it, as the pids cgroup does), memory
//! (`--memory`: guest memory and in-memory files together, as a memory cgroup counts anonymous
//! and shmem pages; past it the largest process is killed with SIGKILL, as the OOM killer
//! does), bytes in the in-memory filesystems (`--disk`: ENOSPC past it, charged in
//! [`crate::vfs::Fs::charge`]), CPU time of all processes together (`--cpu-time`), and wall-clock
//! time (`--timeout`); the last two end the sandbox (SIGKILL to every process).
//!
//! Memory and CPU time are sampled by the scheduler, at most every [`SAMPLE_NS`] and whenever
//! it takes the CPU back; a guest near its memory limit runs in short slices so that it cannot
//! run far past it between samples. A limit that ends a process or the sandbox is reported on
//! stderr and in the audit log, naming the limit.

use super::{ExitStatus, Kernel, Task};
use crate::host;
use std::cell::Cell;
use std::collections::VecDeque;

/// How often the scheduler samples memory and CPU time, at most.
pub const SAMPLE_NS: u64 = 5_000_000;
/// The time slice of a guest within a quarter of its memory limit.
pub const NEAR_LIMIT_SLICE_NS: u64 = 500_000;

/// The limits of a sandbox (None: unlimited).
#[derive(Clone, Debug, Default)]
pub struct Limits {
    /// Bytes of guest memory and in-memory file data.
    pub memory: Option<u64>,
    /// Tasks (processes and threads, zombies included).
    pub pids: Option<usize>,
    /// Bytes of file data in the in-memory filesystems together (overlay upper layers, tmpfs).
    pub disk: Option<u64>,
    /// CPU time of all the sandbox's processes, in nanoseconds.
    pub cpu_ns: Option<u64>,
    /// Wall-clock time from the start, in nanoseconds.
    pub timeout_ns: Option<u64>,
    /// The CPU limits a host cgroup enforces (OCI `linux.resources.cpu`), as cgroup v2 writes
    /// them (`cpu.max`, `cpu.weight`): shown in the guest's /sys/fs/cgroup, not enforced here.
    pub cpu_max: Option<String>,
    pub cpu_weight: Option<u64>,
}

/// The enforcement state.
#[derive(Debug, Default)]
pub struct State {
    pub limits: Limits,
    /// CLOCK_MONOTONIC when the guest started, and when memory and CPU were last sampled.
    started_ns: Cell<u64>,
    sampled_ns: Cell<u64>,
    /// CPU time of the processes that have exited.
    pub exited_cpu_ns: Cell<u64>,
    /// The memory in use at the last sample.
    memory_used: Cell<u64>,
    /// When processes' RLIMIT_CPU was last checked.
    rlimit_sampled_ns: Cell<u64>,
}

fn now_ns() -> u64 {
    host::clock_gettime(libc::CLOCK_MONOTONIC)
        .map(|t| u64::try_from(t.tv_sec * 1_000_000_000 + t.tv_nsec).unwrap_or(0))
        .unwrap_or(0)
}

/// A human size: "512 MiB".
pub fn size(b: u64) -> String {
    match b {
        b if b >= 1 << 30 && b % (1 << 30) == 0 => format!("{} GiB", b >> 30),
        b if b >= 1 << 20 => format!("{} MiB", b >> 20),
        b => format!("{b} bytes"),
    }
}

impl State {
    pub fn new(limits: Limits) -> State {
        State {
            limits,
            ..State::default()
        }
    }

    /// The guest starts now (for --timeout).
    pub fn start(&self) {
        if self.started_ns.get() == 0 {
            self.started_ns.set(now_ns());
        }
    }

    /// Nanoseconds until the wall-clock limit, if there is one.
    pub fn timeout_left_ns(&self) -> Option<u64> {
        let limit = self.limits.timeout_ns?;
        let started = self.started_ns.get();
        if started == 0 {
            return None;
        }
        Some((started + limit).saturating_sub(now_ns()))
    }

    /// The longest a task may run before the scheduler samples again: short near the memory
    /// limit.
    pub fn slice_ns(&self) -> Option<u64> {
        let limit = self.limits.memory?;
        (self.memory_used.get() >= limit - limit / 4).then_some(NEAR_LIMIT_SLICE_NS)
    }
}

/// Reports a limit reached: stderr (the caller of `runrs do`, or the container's log) and the
/// audit log.
pub fn report(k: &Kernel, limit: &str, what: &str) {
    eprintln!("runrs: {what} (--{limit})");
    tracing::warn!(target: "runrs::limits", limit, "{what}");
    k.audit(&serde_json::json!({"event": "limit", "limit": limit, "what": what}));
}

/// Checks the limits that the scheduler samples; returns the sandbox's end when one ends it.
pub fn check(k: &Kernel, tasks: &VecDeque<Task>) -> Option<ExitStatus> {
    let st = &k.limits;
    let l = &st.limits;
    if l.memory.is_none() && l.cpu_ns.is_none() && l.timeout_ns.is_none() {
        return None;
    }
    let killed = Some(ExitStatus::Signaled {
        signo: libc::SIGKILL,
        core: false,
    });
    if st.timeout_left_ns() == Some(0) {
        let secs = l.timeout_ns.unwrap_or(0) as f64 / 1e9;
        report(
            k,
            "timeout",
            &format!("the sandbox ran for its wall-clock limit of {secs}s: every process killed"),
        );
        return killed;
    }
    let now = now_ns();
    if now.saturating_sub(st.sampled_ns.get()) < SAMPLE_NS {
        return None;
    }
    st.sampled_ns.set(now);
    if let Some(limit) = l.cpu_ns {
        let mut seen = std::collections::HashSet::new();
        let live: u64 = tasks
            .iter()
            .filter(|t| seen.insert(t.tgid))
            .map(|t| {
                let (u, s) = crate::syscalls::resource::cpu_times(t);
                u64::try_from(u + s).unwrap_or(0)
            })
            .sum();
        let used = live + st.exited_cpu_ns.get();
        if used >= limit {
            report(
                k,
                "cpu-time",
                &format!(
                    "the sandbox used its CPU time limit of {}s: every process killed",
                    limit as f64 / 1e9
                ),
            );
            return killed;
        }
    }
    if let Some(limit) = l.memory {
        let mut used = k.memory.file.allocated_bytes();
        // Cached file pages are given back before anything is killed.
        if used > limit && crate::vfs::drop_file_pages() {
            used = k.memory.file.allocated_bytes();
        }
        st.memory_used.set(used);
        if used > limit {
            return oom_kill(k, tasks, used, limit);
        }
    }
    None
}

/// Whether some task has a finite RLIMIT_CPU (the scheduler then samples CPU time often).
pub fn any_rlimit_cpu(tasks: &VecDeque<Task>) -> bool {
    tasks
        .iter()
        .any(|t| t.rlimits[abi::RLIMIT_CPU].cur != abi::RLIM_INFINITY)
}

/// RLIMIT_CPU, per process as Linux's: past the soft limit SIGXCPU (and the soft limit moves on
/// a second, so that it comes again each second), past the hard limit SIGKILL. Sampled every
/// [`SAMPLE_NS`] (the scheduler bounds a running guest's slice by it meanwhile).
pub fn check_rlimit_cpu(k: &Kernel, tasks: &mut VecDeque<Task>) {
    if !any_rlimit_cpu(tasks) {
        return;
    }
    let st = &k.limits;
    let now = now_ns();
    if now.saturating_sub(st.rlimit_sampled_ns.get()) < SAMPLE_NS {
        return;
    }
    st.rlimit_sampled_ns.set(now);
    let mut seen = std::collections::HashSet::new();
    let mut actions = Vec::new();
    for t in tasks.iter().filter(|t| t.exit.is_none()) {
        let lim = t.rlimits[abi::RLIMIT_CPU];
        if lim.cur == abi::RLIM_INFINITY || !seen.insert(t.tgid) {
            continue;
        }
        let (u, s) = crate::syscalls::resource::cpu_times(t);
        let secs = u64::try_from(u + s).unwrap_or(0) / 1_000_000_000;
        if secs >= lim.max {
            actions.push((t.tgid, libc::SIGKILL, None));
        } else if secs >= lim.cur {
            // The next SIGXCPU one second on, as Linux moves the soft limit.
            actions.push((t.tgid, libc::SIGXCPU, Some((lim.cur + 1).min(lim.max))));
        }
    }
    for (pid, sig, next) in actions {
        let info = super::signal::SigInfo {
            code: super::signal::SI_KERNEL,
            ..Default::default()
        };
        if let Some(p) = k.procs.borrow_mut().procs.get_mut(&pid) {
            p.pending.push((sig, info));
        }
        if let Some(cur) = next {
            for t in tasks.iter_mut().filter(|t| t.tgid == pid) {
                t.rlimits[abi::RLIMIT_CPU].cur = cur;
            }
        }
    }
}

/// Out of memory: SIGKILL to the process with the most private memory resident (the sandbox
/// ends if that is its init). Returns None: the scheduler goes on and reaps it.
fn oom_kill(k: &Kernel, tasks: &VecDeque<Task>, used: u64, limit: u64) -> Option<ExitStatus> {
    let mut seen = std::collections::HashSet::new();
    let victim = tasks
        .iter()
        .filter(|t| t.exit.is_none() && seen.insert(t.tgid))
        .map(|t| (t.mm.state().resident_private_bytes(), t.tgid))
        .max();
    let (resident, pid) = victim?;
    let already = k
        .procs
        .borrow()
        .get(pid)
        .is_some_and(|p| p.pending.iter().any(|&(s, _)| s == libc::SIGKILL));
    if already {
        return None;
    }
    report(
        k,
        "memory",
        &format!(
            "out of memory: {} in use, limit {}: killed process {pid} ({} resident)",
            size(used),
            size(limit),
            size(resident)
        ),
    );
    let info = super::signal::SigInfo {
        code: super::signal::SI_KERNEL,
        ..Default::default()
    };
    if let Some(p) = k.procs.borrow_mut().procs.get_mut(&pid) {
        p.pending.push((libc::SIGKILL, info));
    }
    None
}
