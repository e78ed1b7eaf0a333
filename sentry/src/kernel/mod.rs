//! The kernel: the sandbox-wide state ([`Kernel`]) and the task that runs a guest program
//! ([`Task`]), with its run loop: switch to the guest, handle what stopped it, repeat.
//!
//! One task for now (PID 1 of the sandbox, no threads, no fork): tasks, threads and signal
//! delivery come with the tasks issue. Signal dispositions and the mask are kept, so programs that
//! install handlers at startup work; a fatal fault ends the guest as Linux's default action does.
//!
//! Lock order: none; everything here belongs to the one Sentry thread that traces the guest.

pub mod fd;

use crate::loader::{self, Creds, HostAux};
use crate::mm::{Memory, Mm};
use crate::{host, syscalls};
use abi::signal;
use abi::UserRegs;
use fd::{FdTable, File};
use platform::ptrace::{Ptrace, PtraceContext};
use platform::{AddressSpace, Context, CpuPlacement, Event, Platform};
use std::cell::RefCell;
use std::collections::HashSet;
use std::os::fd::OwnedFd;
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

/// Sandbox-wide configuration.
pub struct Config {
    pub hostname: String,
    pub strace: Option<StraceSink>,
    pub placement: CpuPlacement,
    /// Bytes of guest memory the memory file can hold.
    pub memory_size: u64,
}

/// Sandbox-wide state.
pub struct Kernel {
    pub hostname: String,
    pub strace: Option<StraceSink>,
    /// The CPU guest code is pinned to, if any (reported by getcpu and rseq).
    pub cpu: Option<u32>,
    /// The host affinity mask the guest sees (captured before the Sentry pinned itself).
    pub affinity: Vec<u8>,
    /// Syscall numbers already logged as unsupported.
    pub unsupported_logged: RefCell<HashSet<u64>>,
    /// Partial paths (name) already logged.
    pub partial_logged: RefCell<HashSet<String>>,
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

    /// The CPU the guest runs on, as getcpu and rseq report it.
    pub fn vcpu(&self) -> u32 {
        self.cpu.unwrap_or_else(host::current_cpu)
    }
}

/// Signal dispositions and mask (bookkeeping only until signal delivery lands).
pub struct Signals {
    pub actions: [abi::KernelSigaction; 64],
    pub mask: u64,
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
    pub tid: i32,
    pub clear_child_tid: u64,
    pub robust_list: (u64, u64),
    pub rseq: Option<RseqArea>,
    pub umask: u32,
    pub cwd: Vec<u8>,
    /// Host pid of the stub, for its CPU clock.
    pub stub_pid: i32,
    /// Set when the task has ended.
    pub exit: Option<ExitStatus>,
}

/// Failure to start a guest.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("platform: {0}")]
    Platform(#[from] platform::Error),
    #[error("memory file: {0}")]
    Memory(std::io::Error),
    #[error(transparent)]
    Load(#[from] loader::LoadError),
}

/// What the guest is started with.
pub struct Program<'a> {
    /// The executable's path (as given) and its contents, read during setup.
    pub path: &'a str,
    pub image: &'a [u8],
    pub argv: Vec<Vec<u8>>,
    pub envp: Vec<Vec<u8>>,
    pub cwd: Vec<u8>,
    /// Host fds for the guest's fds 0, 1 and 2 (None: closed, as the caller's was).
    pub stdio: [Option<OwnedFd>; 3],
}

/// A running sandbox: the platform, and its one task.
pub struct Sandbox {
    // Field order is drop order: the task (and its stub) before the platform.
    task: Task,
    _platform: Ptrace,
    _memory: Arc<Memory>,
}

impl Sandbox {
    /// Creates the sandbox and loads the program; nothing of the guest has run yet.
    pub fn new(config: Config, program: Program<'_>) -> Result<Sandbox, StartError> {
        let affinity = host::sched_getaffinity(1024).unwrap_or_else(|_| vec![1]);
        let memory = Memory::new(config.memory_size).map_err(StartError::Memory)?;
        let platform = Ptrace::new(platform::Config {
            memory_file: memory.file.fd(),
            placement: config.placement,
        })?;
        let cpu = match config.placement {
            CpuPlacement::SameCore(c) => u32::try_from(c).ok(),
            CpuPlacement::Any => None,
        };
        let k = Rc::new(Kernel {
            hostname: config.hostname,
            strace: config.strace,
            cpu,
            affinity,
            unsupported_logged: RefCell::new(HashSet::new()),
            partial_logged: RefCell::new(HashSet::new()),
        });
        let mut space = platform.new_address_space()?;
        let stub_pid = space.stub_pid();
        let ctx = space.new_context()?;
        let mut mm = Mm::new(memory.clone(), space, platform.max_user_address());

        let mut rlimits = [abi::Rlimit::default(); abi::RLIM_NLIMITS];
        for (i, r) in rlimits.iter_mut().enumerate() {
            *r = host::getrlimit(i);
        }
        let creds = identity();
        let stack_limit = rlimits[abi::RLIMIT_STACK].cur;
        mm.as_limit = rlimits[abi::RLIMIT_AS].cur;
        mm.as_limit = rlimits[abi::RLIMIT_AS].cur;
        let loaded = loader::load(
            &mut mm,
            program.path,
            program.image,
            &loader::ExecArgs {
                argv: &program.argv,
                envp: &program.envp,
                stack_limit,
                creds: Creds {
                    uid: creds.ruid,
                    euid: creds.euid,
                    gid: creds.rgid,
                    egid: creds.egid,
                },
                aux: HostAux {
                    hwcap: host::getauxval(abi::auxv::AT_HWCAP),
                    hwcap2: host::getauxval(abi::auxv::AT_HWCAP2),
                    minsigstksz: host::getauxval(abi::auxv::AT_MINSIGSTKSZ),
                },
            },
        )?;
        let mut fds = FdTable::default();
        for (i, fd) in program.stdio.into_iter().enumerate() {
            if let Some(fd) = fd {
                fds.install_at(i, Rc::new(File::Host(fd)), false);
            }
        }
        let task = Task {
            k,
            mm,
            ctx,
            regs: loaded.regs,
            fds,
            creds,
            signals: Signals {
                actions: [abi::KernelSigaction::default(); 64],
                mask: 0,
            },
            rlimits,
            tid: 1,
            clear_child_tid: 0,
            robust_list: (0, 0),
            rseq: None,
            umask: 0o022,
            cwd: program.cwd,
            stub_pid,
            exit: None,
        };
        Ok(Sandbox {
            task,
            _platform: platform,
            _memory: memory,
        })
    }

    /// Runs the guest to its end.
    pub fn run(mut self) -> Result<ExitStatus, platform::Error> {
        self.task.run()
    }
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
    fn run(&mut self) -> Result<ExitStatus, platform::Error> {
        loop {
            let event = self.ctx.switch(self.mm.space_mut(), &mut self.regs)?;
            match event {
                Event::Syscall => syscalls::dispatch(self),
                Event::Signal(info) => self.host_signal(info),
            }
            if let Some(status) = self.exit {
                return Ok(status);
            }
        }
    }

    /// A host signal stopped the stub.
    fn host_signal(&mut self, info: platform::SignalInfo) {
        let sig = info.signo;
        if !info.synchronous {
            // Only a host process could have sent it (the Sentry never signals the stub).
            tracing::warn!(
                "ignoring host signal {} sent to the stub",
                signal::name(sig)
            );
            return;
        }
        // A fault just below the stack grows it, invisibly to the guest (SEGV_MAPERR = 1).
        if sig == signal::SIGSEGV
            && info.code == 1
            && self
                .mm
                .grow_stack(info.addr, self.rlimits[abi::RLIMIT_STACK].cur)
        {
            return;
        }
        // Touching a shared mapping past its object's end is SIGBUS (BUS_ADRERR), as on Linux.
        // (A page without read access there is a protection fault first: SIGSEGV. A write to a
        // read-only page there is reported as SIGBUS: the fault does not say it was a write.)
        if sig == signal::SIGSEGV && info.code == 1 && self.mm.is_beyond_object(info.addr) {
            self.kill(signal::SIGBUS);
            return;
        }
        let action = self
            .signals
            .actions
            .get(usize::try_from(sig - 1).unwrap_or(0))
            .map(|a| a.handler);
        if matches!(action, Some(h) if h > 1) {
            self.k.log_partial(format!("delivery of {} to a guest handler (the tasks issue): terminating as the default action would", signal::name(sig)));
        }
        tracing::info!(
            "guest fault: {} code {} at {:#x}, rip {:#x}",
            signal::name(sig),
            info.code,
            info.addr,
            self.regs.rip
        );
        self.exit = Some(ExitStatus::Signaled {
            signo: sig,
            core: default_dumps_core(sig),
        });
    }

    /// Ends the task with a fatal signal (as Linux's default action).
    pub fn kill(&mut self, sig: i32) {
        self.exit = Some(ExitStatus::Signaled {
            signo: sig,
            core: default_dumps_core(sig),
        });
    }
}

/// Whether a signal's default action dumps core.
pub fn default_dumps_core(sig: i32) -> bool {
    matches!(sig, 3 | 4 | 5 | 6 | 7 | 8 | 11 | 24 | 25 | 31)
}
