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
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::sync::Mutex;

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
    /// Two pages of the memory file (the first's offset) the platform may use for itself, for
    /// as long as it lives: the ptrace platform lists batched memory operations in the first
    /// and receives host files for stubs in the second. None: no batching, no host files.
    pub batch_page: Option<u64>,
    /// The host-file window of the memory-file offsets, if the Sentry maps host files there.
    pub host_files: Option<std::sync::Arc<HostFiles>>,
}

/// Host files mapped whole, read-only, into a window of the memory-file offsets past the memory
/// file and the store: a guest mapping of an offset there maps the host file itself (its page
/// cache, shared with the host and every other sandbox), nothing copied. The Sentry puts the
/// root's lower-layer files there (they never change under the sandbox) and never writes to
/// them: a write breaks the sharing first, as copy-on-write after fork does.
///
/// A file keeps its range for the life of the sandbox (at most [`HostFiles::MAX_FILES`] files;
/// past that, or the fd budget given, the Sentry copies files as before).
pub struct HostFiles {
    base: u64,
    size: u64,
    max_files: usize,
    inner: Mutex<HostFilesInner>,
}

#[derive(Default)]
struct HostFilesInner {
    next: u64,
    /// Sorted by start (ranges are handed out in increasing order).
    files: Vec<HostFile>,
}

struct HostFile {
    start: u64,
    len: u64,
    fd: OwnedFd,
}

/// A file of the window: its index (its identity for the platform), where its range starts,
/// its length, and its host fd (valid as long as the [`HostFiles`] lives).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HostFileRef {
    pub index: usize,
    pub start: u64,
    pub len: u64,
    pub fd: RawFd,
}

impl HostFiles {
    /// The most files a window holds: each is an fd in the stubs' table and in the Sentry.
    pub const MAX_FILES: usize = 512;

    /// A window of `size` bytes of offsets from `base` (both page aligned), for at most
    /// `max_files` files (and [`HostFiles::MAX_FILES`]): a quarter of the fd limit, say (the
    /// stubs' is the Sentry's).
    pub fn new(base: u64, size: u64, max_files: usize) -> HostFiles {
        HostFiles {
            base,
            size,
            max_files: max_files.min(Self::MAX_FILES),
            inner: Mutex::new(HostFilesInner {
                next: base,
                files: Vec::new(),
            }),
        }
    }

    pub fn base(&self) -> u64 {
        self.base
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// Whether `off` lies in the window.
    pub fn contains(&self, off: u64) -> bool {
        off >= self.base && off - self.base < self.size
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HostFilesInner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Gives `fd` a range of `len` bytes (page aligned): the file's offset `x` is the window's
    /// `start + x`. None when the window or its file count is full.
    pub fn add(&self, fd: OwnedFd, len: u64) -> Option<HostFileRef> {
        let mut inner = self.lock();
        if inner.files.len() >= self.max_files {
            return None;
        }
        let start = inner.next;
        let end = start.checked_add(len)?;
        if end > self.base + self.size {
            return None;
        }
        inner.next = end;
        let r = HostFileRef {
            index: inner.files.len(),
            start,
            len,
            fd: fd.as_raw_fd(),
        };
        inner.files.push(HostFile { start, len, fd });
        Some(r)
    }

    /// The file whose range holds `off`.
    pub fn find(&self, off: u64) -> Option<HostFileRef> {
        let inner = self.lock();
        let i = inner
            .files
            .partition_point(|f| f.start <= off)
            .checked_sub(1)?;
        let f = &inner.files[i];
        (off - f.start < f.len).then(|| HostFileRef {
            index: i,
            start: f.start,
            len: f.len,
            fd: f.fd.as_raw_fd(),
        })
    }
}
