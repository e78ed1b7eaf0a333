//! The platform: runs guest code until the next syscall, fault or signal, and maps ranges of the
//! Sentry's memory file into guest address spaces.
//!
//! Two traits, kept small so a seccomp-trap platform and a KVM platform can implement them too:
//! - [`AddressSpace`]: map/unmap/protect ranges of the memory file at guest addresses.
//! - [`Context`]: "run this guest thread with these registers in that address space until
//!   something happens", returning an [`Event`].
//!
//! The ptrace implementation ([`ptrace::Ptrace`]) is the first: a stub process per address space,
//! traced with `PTRACE_SYSEMU`, with memory operations injected into the stopped stub.

pub mod ptrace;

use abi::UserRegs;
use std::os::fd::BorrowedFd;

/// What stopped the guest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// The guest executed `syscall`. The number is in `orig_rax`, the arguments in the usual
    /// registers; `rip` already points after the instruction. The Sentry writes the result to `rax`.
    Syscall,
    /// The guest received a signal from the host: a synchronous fault (SIGSEGV, SIGBUS, SIGFPE,
    /// SIGILL, SIGTRAP) caused by the instruction at `rip`, or an asynchronous signal.
    Signal(SignalInfo),
    /// The guest's time was up (the deadline given to the switch passed): it was stopped where
    /// it was, and resumes there.
    Preempted,
}

/// The parts of a host `siginfo_t` the Sentry needs to turn a host signal into a guest one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignalInfo {
    pub signo: i32,
    pub code: i32,
    /// Faulting address for SIGSEGV/SIGBUS/SIGFPE/SIGILL/SIGTRAP.
    pub addr: u64,
    /// Whether the kernel generated it for the instruction the guest executed (si_code > 0),
    /// as opposed to a signal sent by a process.
    pub synchronous: bool,
    /// Sent by the Sentry itself (a preemption kick).
    pub from_sentry: bool,
}

/// Guest memory access rights, as PROT_* bits.
pub type Prot = u64;

/// Errors from the platform. These are Sentry-side failures (the stub died, the host refused an
/// operation), never guest errors: a guest's bad request is turned into an errno before it gets here.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{op} failed: {source}")]
    Host {
        op: &'static str,
        source: std::io::Error,
    },
    #[error("stub process {pid} died unexpectedly: {status}")]
    StubDied { pid: i32, status: String },
    #[error("stub process {pid} stopped unexpectedly: {what}")]
    Unexpected { pid: i32, what: String },
    #[error("injected {name} in stub {pid} returned {errno}")]
    Injected {
        pid: i32,
        name: &'static str,
        errno: i32,
    },
    #[error("unsupported by the {platform} platform: {what}")]
    Unsupported {
        platform: &'static str,
        what: &'static str,
    },
}

/// A platform: a factory of address spaces, with its layout constraints.
pub trait Platform {
    type AddressSpace: AddressSpace;

    /// Short name, for logs (`ptrace`, later `systrap`, `kvm`).
    fn name(&self) -> &'static str;

    /// One past the highest address a guest may map. The platform keeps everything above it for
    /// itself (the ptrace stub's code page).
    fn max_user_address(&self) -> u64;

    /// Creates an empty address space.
    fn new_address_space(&self) -> Result<Self::AddressSpace, Error>;
}

/// A guest address space: the memory file, mapped at guest addresses.
/// Where a host vDSO sits in an address space.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Vdso {
    /// The vDSO's ELF image (AT_SYSINFO_EHDR).
    pub base: u64,
    /// Its data pages (vvar), just below `base`.
    pub vvar_start: u64,
    /// One past its last page.
    pub end: u64,
}

pub trait AddressSpace {
    type Context: Context<AddressSpace = Self>;

    /// Maps `[file_offset, file_offset + len)` of the memory file at `addr` with `prot`, replacing
    /// whatever was mapped there. `addr`, `len` and `file_offset` are page aligned.
    fn map_file(&mut self, addr: u64, len: u64, file_offset: u64, prot: Prot) -> Result<(), Error>;

    /// Removes any mapping in `[addr, addr + len)`.
    fn unmap(&mut self, addr: u64, len: u64) -> Result<(), Error>;

    /// The host's vDSO, if this address space keeps it (outside the guest's range): the guest
    /// may call it for clocks without a platform stop.
    fn vdso(&self) -> Option<Vdso> {
        None
    }

    /// Prefaults `[addr, addr + len)` (readable, mapped) so the guest does not fault on each page
    /// of memory the Sentry just filled. Only a hint: platforms without it do nothing.
    fn populate(&mut self, addr: u64, len: u64) -> Result<(), Error> {
        let _ = (addr, len);
        Ok(())
    }

    /// Changes the protection of `[addr, addr + len)`, which is wholly mapped.
    fn protect(&mut self, addr: u64, len: u64, prot: Prot) -> Result<(), Error>;

    /// Creates a context to run a guest thread of this address space.
    fn new_context(&mut self) -> Result<Self::Context, Error>;
}

/// A guest thread's execution context.
pub trait Context {
    type AddressSpace;

    /// Runs the guest in `space` from `regs` until the next [`Event`]; `regs` holds the guest's
    /// registers at that point on return.
    fn switch(
        &mut self,
        space: &mut Self::AddressSpace,
        regs: &mut UserRegs,
    ) -> Result<Event, Error>;
}

/// Where the tracer and the guest run. A ptrace stop costs several times more when the tracer
/// and the tracee are on different cores of this machine (see docs/performance.md), so by
/// default the Sentry's tracing thread and the stub are pinned to one CPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CpuPlacement {
    /// Pin the tracer thread and the stubs it traces to this CPU.
    SameCore(usize),
    /// Let the host scheduler place them.
    Any,
}

/// Everything a platform needs from the Sentry: the memory file to map into guests.
pub struct Config<'a> {
    pub memory_file: BorrowedFd<'a>,
    /// A second file holding the memory-file offsets from `.1` on (the Sentry's store for
    /// `--overlay=dir`): a mapping of such an offset maps this file at `offset - .1`.
    pub store_file: Option<(BorrowedFd<'a>, u64)>,
    pub placement: CpuPlacement,
    /// Keep the host's vDSO in each address space, where the platform can (see
    /// [`AddressSpace::vdso`]).
    pub host_vdso: bool,
    /// A page of the memory file (its offset) the platform may use for itself, for as long as
    /// it lives: the ptrace platform lists batched memory operations there. None: no batching.
    pub batch_page: Option<u64>,
}
