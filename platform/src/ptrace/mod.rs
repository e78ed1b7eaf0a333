//! The ptrace platform.
//!
//! Each guest address space is a stub process created by the Sentry: a 4 KiB hand-written ELF
//! executed from a sealed memfd, so it carries no Sentry memory, no libc state and no host file
//! but the memory file (as its fd 0, which only injected `mmap`s use). Right after its exec stop
//! the Sentry unmaps everything in it except the stub's code page at [`STUB_BASE`].
//!
//! Guest code runs in the stub under `PTRACE_SYSEMU`: every `syscall` instruction stops the stub
//! before the host executes it, and the Sentry emulates it. Memory operations are performed by
//! pointing the stopped stub at its `syscall; int3` pair with the wanted registers and letting it
//! run (`PTRACE_CONT`) to the `int3`.
//!
//! Only the first stub is spawned that way (a host fork of the Sentry and an exec), and a
//! template stub that never runs guest code (at the first fork, or at [`Ptrace::seal`] before the
//! Sentry's lockdown, after which nothing is spawned): each further address space is a clone of it, made by
//! injecting `clone(CLONE_PARENT | CLONE_PTRACE)`, so it starts clean, already traced by the Sentry
//! and a child of the Sentry, with the template's vDSO placement. That is one injected syscall
//! instead of a fork of the Sentry, an exec and nine clean-up syscalls.
//!
//! The stub is killed when the Sentry dies (`PTRACE_O_EXITKILL`, and `PR_SET_PDEATHSIG` for the
//! window before the options are set; clones inherit the ptrace options), and lives in its own
//! session so a terminal's signals reach only the Sentry.
//!
//! Memory operations are batched: `map_file`, `unmap`, `protect` and `populate` queue their
//! syscall, and the queue runs in one stop (the stub's batch routine, reading the entries from a
//! page of the memory file the stub maps read-only) before the guest next runs, before a new
//! thread is made, or when the page is full. An exec or a fork thus costs one stop for its
//! mappings instead of one each. A queued operation that fails fails the flush: the guest
//! thread about to run gets the error (the Sentry ends it), as a host mmap failure there is
//! exhaustion (vm.max_map_count, host memory), not a guest error. The page is zeroed after
//! each batch: guests (which can read it) never see another process's layout.
//!
//! Lock order: none; a stub is only touched by the thread that created it (ptrace requires it).

mod stub;
mod sys;

use crate::{
    AddressSpace, Config, Context, CpuPlacement, Error, Event, HostFileRef, HostFiles, Platform,
    Prot,
};
use abi::UserRegs;
use std::cell::RefCell;
use std::collections::HashMap;
use std::os::fd::{AsRawFd, OwnedFd};
use std::rc::Rc;
use std::sync::Arc;

pub use stub::{STUB_BASE, STUB_SIZE};

/// The batch page: the Sentry's writable view, and its memory-file offset; then the scratch
/// page (right after it in the memory file) where stubs receive host files.
struct Batch {
    page: sys::SharedPage,
    offset: u64,
    scratch: sys::SharedPage,
}

/// The host-file window and the socket its files go to stubs through.
struct HostSetup {
    files: Arc<HostFiles>,
    /// The Sentry's end.
    tx: Rc<OwnedFd>,
    /// The stubs' end (their [`stub::TRANSFER_FD`]).
    rx: OwnedFd,
}

/// The fd table the stubs cloned from one template share, and which host files it holds.
struct HostTable {
    files: Arc<HostFiles>,
    tx: Rc<OwnedFd>,
    /// Index of a window file → its fd in the table.
    installed: RefCell<HashMap<usize, u64>>,
}

/// One queued memory operation: the syscall number and its six arguments.
type Op = [u64; 7];

/// Operations a batch holds (seven words each).
const BATCH_CAP: usize = sys::SharedPage::LEN / 56;

/// The ptrace platform.
pub struct Ptrace {
    memory_file: OwnedFd,
    /// The store and where its offsets start (see [`crate::Config::store_file`]).
    store_file: Option<(OwnedFd, u64)>,
    stub_elf: OwnedFd,
    placement: CpuPlacement,
    keep_vdso: bool,
    /// The stub new address spaces are cloned from (made on first use; never runs guest code).
    template: RefCell<Option<PtraceAddressSpace>>,
    /// New stubs may still be spawned (a host fork and exec): until [`Ptrace::seal`], after
    /// which every address space is a clone of the template.
    may_spawn: std::cell::Cell<bool>,
    batch: Option<std::rc::Rc<Batch>>,
    host: Option<HostSetup>,
}

impl Ptrace {
    /// Creates the platform. Must be called on the thread that will run guests: ptrace binds a
    /// tracee to the thread that traces it. Pins that thread if `placement` asks for it.
    pub fn new(config: Config<'_>) -> Result<Self, Error> {
        let memory_file =
            config
                .memory_file
                .try_clone_to_owned()
                .map_err(|source| Error::Host {
                    op: "dup memory file",
                    source,
                })?;
        let store_file = match config.store_file {
            Some((fd, base)) => Some((
                fd.try_clone_to_owned().map_err(|source| Error::Host {
                    op: "dup store file",
                    source,
                })?,
                base,
            )),
            None => None,
        };
        let stub_elf = stub::stub_memfd()?;
        let map_page = |offset| {
            sys::SharedPage::map(memory_file.as_raw_fd(), offset).map_err(|source| Error::Host {
                op: "mapping the batch page",
                source,
            })
        };
        let batch = match config.batch_page {
            Some(offset) => Some(std::rc::Rc::new(Batch {
                page: map_page(offset)?,
                offset,
                scratch: map_page(offset + abi::PAGE_SIZE)?,
            })),
            None => None,
        };
        // Host files reach stubs through the scratch page: no batch pages, no host files.
        let host = match (config.host_files, &batch) {
            (Some(files), Some(_)) => {
                let (tx, rx) = sys::transfer_pair().map_err(|source| Error::Host {
                    op: "socketpair",
                    source,
                })?;
                Some(HostSetup {
                    files,
                    tx: Rc::new(tx),
                    rx,
                })
            }
            _ => None,
        };
        sys::preempt_timer_init()?;
        if let CpuPlacement::SameCore(cpu) = config.placement {
            sys::pin_current_thread(cpu).map_err(|source| Error::Host {
                op: "sched_setaffinity",
                source,
            })?;
        }
        Ok(Ptrace {
            memory_file,
            store_file,
            stub_elf,
            placement: config.placement,
            keep_vdso: config.host_vdso,
            template: RefCell::new(None),
            may_spawn: std::cell::Cell::new(true),
            batch,
            host,
        })
    }

    /// No more spawned stubs: makes the template now if there is none (so that a locked-down
    /// Sentry, which may no longer fork or exec, can still make address spaces by cloning it),
    /// then refuses to spawn.
    /// `vdso_at` is the vDSO placement of the address spaces made so far (the template's must
    /// be the same, for their forks to be clones of it).
    pub fn seal(&self, vdso_at: Option<u64>) -> Result<(), Error> {
        self.make_template(vdso_at)?;
        self.may_spawn.set(false);
        Ok(())
    }

    /// Makes the template now if there is none (at startup: the stub's fork and exec then
    /// overlap with the Gofer's start on the other CPU, and the first address space is a clone).
    pub fn make_template(&self, vdso_at: Option<u64>) -> Result<(), Error> {
        if self.template.borrow().is_none() {
            let t = self.spawn_address_space(vdso_at)?;
            *self.template.borrow_mut() = Some(t);
        }
        Ok(())
    }
}

impl Platform for Ptrace {
    type AddressSpace = PtraceAddressSpace;

    fn name(&self) -> &'static str {
        "ptrace"
    }

    fn max_user_address(&self) -> u64 {
        STUB_BASE
    }

    fn new_address_space(&self) -> Result<PtraceAddressSpace, Error> {
        self.new_address_space_with_vdso_at(None)
    }
}

impl Ptrace {
    /// A new address space whose vDSO (if kept) sits at `vdso_at` (its data pages' start), as a
    /// forked child's must (its copied memory points into its parent's); None: anywhere (the
    /// template's place, random once per sandbox).
    pub fn new_address_space_with_vdso_at(
        &self,
        vdso_at: Option<u64>,
    ) -> Result<PtraceAddressSpace, Error> {
        let mut template = self.template.borrow_mut();
        // Every address space is a clone of the template (cheaper than spawning a stub: no
        // fork and exec, no cleaning), which is spawned once, with the first placement asked.
        if template.is_none() {
            *template = Some(self.spawn_address_space(vdso_at)?);
        }
        if let Some(t) = template.as_mut() {
            if vdso_at.is_none() || vdso_at == t.vdso.map(|v| v.vvar_start) {
                match t.clone_process() {
                    Ok(space) => return Ok(space),
                    Err(e) => {
                        // A broken template is replaced by the next call; this one spawns.
                        tracing::warn!("cloning the template stub: {e}");
                        *template = None;
                    }
                }
            }
        }
        drop(template);
        self.spawn_address_space(vdso_at)
    }

    /// A new stub spawned from the stub image (a host fork and exec), cleaned of everything its
    /// exec mapped.
    fn spawn_address_space(&self, vdso_at: Option<u64>) -> Result<PtraceAddressSpace, Error> {
        if !self.may_spawn.get() {
            return Err(Error::Unexpected {
                pid: 0,
                what: "a new stub after the lockdown (only clones of the template)".into(),
            });
        }
        // The clean-up in one batch where the host's vDSO layout is known; else one call at a
        // time, finding the vDSO's mappings by probing.
        if self.batch.is_some() && (!self.keep_vdso || host_vdso_layout().is_some()) {
            match self.spawn_stub().and_then(|mut space| {
                space.clean_batched(self.keep_vdso, vdso_at)?;
                Ok(space)
            }) {
                Ok(space) => return Ok(space),
                Err(e) => tracing::debug!("batched stub clean-up failed ({e}): one call at a time"),
            }
        }
        let mut space = self.spawn_stub()?;
        space.clean_one_by_one(self.keep_vdso, vdso_at)?;
        Ok(space)
    }

    /// Forks and execs a stub, stopped at its exec.
    fn spawn_stub(&self) -> Result<PtraceAddressSpace, Error> {
        let pid = sys::spawn_stub(
            self.stub_elf.as_raw_fd(),
            self.memory_file.as_raw_fd(),
            self.store_file.as_ref().map(|s| s.0.as_raw_fd()),
            self.host.as_ref().map(|h| h.rx.as_raw_fd()),
            self.placement,
        )?;
        Ok(PtraceAddressSpace {
            store_base: self.store_file.as_ref().map_or(u64::MAX, |s| s.1),
            pid,
            contexts: 0,
            vdso: None,
            threads: Vec::new(),
            idle: Vec::new(),
            batch: self.batch.clone(),
            pending: Vec::new(),
            // A new fd table (clones of this stub share it).
            host: self.host.as_ref().map(|h| {
                Rc::new(HostTable {
                    files: h.files.clone(),
                    tx: h.tx.clone(),
                    installed: RefCell::new(HashMap::new()),
                })
            }),
            injections: 0,
        })
    }
}

/// Where the stub's own pages end: the code page, the batch page, the scratch page.
const STUB_TOP: u64 = stub::SCRATCH_ADDR + abi::PAGE_SIZE;

/// A random place for the vDSO (its data pages' start) of `size` bytes above the stub's pages.
fn random_vdso_place(size: u64) -> u64 {
    let room = (abi::TASK_SIZE - STUB_TOP - size) / abi::PAGE_SIZE;
    STUB_TOP + random_below(room) * abi::PAGE_SIZE
}

/// The host vDSO's mappings (its data pages, then its image) as (offset from the image's start,
/// length), read once from the Sentry's own `/proc/self/maps`: a kernel gives every process the
/// same layout. None if they are not where expected (then stubs probe theirs).
fn host_vdso_layout() -> Option<&'static [(i64, u64)]> {
    static LAYOUT: std::sync::OnceLock<Option<Vec<(i64, u64)>>> = std::sync::OnceLock::new();
    LAYOUT
        .get_or_init(|| {
            let maps = std::fs::read_to_string("/proc/self/maps").ok()?;
            parse_vdso_layout(&maps)
        })
        .as_deref()
}

/// [`host_vdso_layout`] from the text of a maps file: the `[vvar*]` and `[vdso]` mappings,
/// which must be adjacent, the vDSO last.
fn parse_vdso_layout(maps: &str) -> Option<Vec<(i64, u64)>> {
    let mut found = Vec::new();
    for line in maps.lines() {
        let mut f = line.split_whitespace();
        let Some(range) = f.next() else { continue };
        let name = f.nth(4).unwrap_or("");
        if name == "[vdso]" || name.starts_with("[vvar") {
            let (a, b) = range.split_once('-')?;
            let (a, b) = (
                u64::from_str_radix(a, 16).ok()?,
                u64::from_str_radix(b, 16).ok()?,
            );
            found.push((a, b, name == "[vdso]"));
        }
    }
    found.sort_unstable();
    let &(base, _, true) = found.last()? else {
        return None;
    };
    if found.windows(2).any(|w| w[0].1 != w[1].0) || found.iter().filter(|m| m.2).count() != 1 {
        return None;
    }
    found
        .iter()
        .map(|&(a, b, _)| Some((i64::try_from(a).ok()? - i64::try_from(base).ok()?, b - a)))
        .collect()
}

impl PtraceAddressSpace {
    /// Cleans a freshly spawned stub in two stops: maps the batch page, then in one batch moves
    /// the vDSO (if kept) above the stub's pages, unmaps everything else the exec left, maps the
    /// scratch page and installs the stub's seccomp filter.
    fn clean_batched(&mut self, keep_vdso: bool, vdso_at: Option<u64>) -> Result<(), Error> {
        let batch = self.batch.clone().ok_or(Error::Unsupported {
            platform: "ptrace",
            what: "a batched clean-up without a batch page",
        })?;
        let vdso = match (keep_vdso, host_vdso_layout()) {
            (true, Some(layout)) => {
                let base = self.vdso_base().ok_or_else(|| Error::Unexpected {
                    pid: self.pid,
                    what: "no vDSO in the stub's auxv".into(),
                })?;
                let first = layout.first().map_or(0, |m| m.0);
                let size = layout.iter().map(|m| m.1).sum::<u64>();
                let vvar_start = base.wrapping_add_signed(first);
                Some((layout, vvar_start, size))
            }
            _ => None,
        };
        let flags = u64::try_from(libc::MAP_SHARED | libc::MAP_FIXED).unwrap_or(0);
        let prot = |p: i32| u64::try_from(p).unwrap_or(0);
        self.inject(
            libc::SYS_mmap,
            [
                stub::BATCH_ADDR,
                abi::PAGE_SIZE,
                prot(libc::PROT_READ),
                flags,
                stub::MEMORY_FD,
                batch.offset,
            ],
            "mmap",
        )?;
        if let Some((layout, vvar_start, size)) = vdso {
            const MREMAP_MAYMOVE: u64 = 1;
            const MREMAP_FIXED: u64 = 2;
            let to = vdso_at.unwrap_or_else(|| random_vdso_place(size));
            let base = vvar_start.wrapping_add_signed(-layout.first().map_or(0, |m| m.0));
            for &(rel, len) in layout {
                let at = base.wrapping_add_signed(rel);
                let dst = to + (at - vvar_start);
                let flags = MREMAP_MAYMOVE | MREMAP_FIXED;
                self.queue(libc::SYS_mremap, [at, len, len, flags, dst, 0], "mremap")?;
            }
            self.vdso = Some(platform_vdso::Vdso {
                base: to + (base - vvar_start),
                vvar_start: to,
                end: to + size,
            });
        }
        self.queue_cleanup(batch.offset)?;
        let r = self.flush();
        if r.is_err() {
            self.vdso = None;
        }
        r
    }

    /// The clean-up one injected call at a time (no batch page, or no known vDSO layout).
    fn clean_one_by_one(&mut self, keep_vdso: bool, vdso_at: Option<u64>) -> Result<(), Error> {
        if keep_vdso {
            // The host puts the vDSO among the mmaps, inside the guest's range: move it above the
            // stub page, at a random page.
            self.vdso = self.find_vdso().and_then(|v| {
                let to = vdso_at.unwrap_or_else(|| random_vdso_place(v.end - v.vvar_start));
                self.move_vdso(v, to)
            });
        }
        let batch_offset = self.batch.as_ref().map(|b| b.offset);
        if let Some(offset) = batch_offset {
            let flags = u64::try_from(libc::MAP_SHARED | libc::MAP_FIXED).unwrap_or(0);
            let prot = u64::try_from(libc::PROT_READ).unwrap_or(0);
            self.inject(
                libc::SYS_mmap,
                [
                    stub::BATCH_ADDR,
                    abi::PAGE_SIZE,
                    prot,
                    flags,
                    stub::MEMORY_FD,
                    offset,
                ],
                "mmap",
            )?;
        }
        // Without a batch page, queue runs each call at once.
        let saved = self.batch.take();
        let r = self.queue_cleanup(batch_offset.unwrap_or(u64::MAX));
        self.batch = saved;
        r
    }

    /// Queues the end of a stub's clean-up: unmap everything the exec left but the stub's pages
    /// and the vDSO, map the scratch page (if there is a batch page at `batch_offset`), then
    /// the seccomp filter (from here the stub may only make the calls the Sentry injects;
    /// clones inherit it).
    fn queue_cleanup(&mut self, batch_offset: u64) -> Result<(), Error> {
        self.queue(libc::SYS_munmap, [0, STUB_BASE, 0, 0, 0, 0], "munmap")?;
        let holes = match self.vdso {
            Some(v) => vec![(STUB_TOP, v.vvar_start), (v.end, abi::TASK_SIZE)],
            None => vec![(STUB_TOP, abi::TASK_SIZE)],
        };
        for (start, end) in holes {
            if end > start {
                self.queue(libc::SYS_munmap, [start, end - start, 0, 0, 0, 0], "munmap")?;
            }
        }
        if batch_offset != u64::MAX {
            let flags = u64::try_from(libc::MAP_SHARED | libc::MAP_FIXED).unwrap_or(0);
            let rw = u64::try_from(libc::PROT_READ | libc::PROT_WRITE).unwrap_or(0);
            let args = [
                stub::SCRATCH_ADDR,
                abi::PAGE_SIZE,
                rw,
                flags,
                stub::MEMORY_FD,
                batch_offset + abi::PAGE_SIZE,
            ];
            self.queue(libc::SYS_mmap, args, "mmap")?;
        }
        // The stub started with every signal but SIGTRAP blocked (see sys::spawn_stub): the
        // preemption kick must reach it.
        let unblock = [
            libc::SIG_SETMASK as u64,
            stub::EMPTY_SIGSET_ADDR,
            0,
            8,
            0,
            0,
        ];
        self.queue(libc::SYS_rt_sigprocmask, unblock, "rt_sigprocmask")?;
        let nnp = [libc::PR_SET_NO_NEW_PRIVS as u64, 1, 0, 0, 0, 0];
        self.queue(libc::SYS_prctl, nnp, "prctl")?;
        // SECCOMP_SET_MODE_FILTER with the stub page's program.
        self.queue(
            libc::SYS_seccomp,
            [1, 0, stub::FPROG_ADDR, 0, 0, 0],
            "seccomp",
        )?;
        self.flush()
    }
}

/// The name of a queued memory operation, for errors.
fn op_name(nr: i64) -> &'static str {
    match nr {
        libc::SYS_mmap => "mmap",
        libc::SYS_munmap => "munmap",
        libc::SYS_mprotect => "mprotect",
        libc::SYS_madvise => "madvise",
        libc::SYS_mremap => "mremap",
        libc::SYS_prctl => "prctl",
        libc::SYS_seccomp => "seccomp",
        libc::SYS_rt_sigprocmask => "rt_sigprocmask",
        _ => "batched call",
    }
}

/// A random number below `limit` (0 if `limit` is 0).
fn random_below(limit: u64) -> u64 {
    let mut b = [0u8; 8];
    if limit == 0 || getrandom(&mut b).is_err() {
        return 0;
    }
    u64::from_ne_bytes(b) % limit
}

fn getrandom(buf: &mut [u8]) -> Result<(), ()> {
    sys::getrandom(buf).map_err(drop)
}

/// A stub process: one guest address space.
pub struct PtraceAddressSpace {
    /// Memory-file offsets from here on are the store's (the stub's fd 1).
    store_base: u64,
    pid: i32,
    contexts: usize,
    vdso: Option<platform_vdso::Vdso>,
    /// Threads of the stub besides its first (the leader), made for guest threads.
    threads: Vec<i32>,
    /// Stub threads no guest thread uses now, parked in a ptrace stop for the next.
    idle: Vec<i32>,
    batch: Option<std::rc::Rc<Batch>>,
    /// Memory operations queued for the next batch.
    pending: Vec<Op>,
    /// The host files in this stub's fd table (shared with its template and its siblings).
    host: Option<Rc<HostTable>>,
    /// Counts the injections into the leader thread (which change its registers), so that a
    /// context running there knows its idea of them went stale.
    injections: u64,
}

use crate as platform_vdso;

impl PtraceAddressSpace {
    /// The host pid of the stub (for tests and diagnostics).
    pub fn stub_pid(&self) -> i32 {
        self.pid
    }

    /// The stub's vDSO image (still stopped at its exec): AT_SYSINFO_EHDR from the auxv on its
    /// stack.
    fn vdso_base(&self) -> Option<u64> {
        let regs = sys::get_regs(self.pid).ok()?;
        let peek = |addr: u64| sys::peek(self.pid, addr).ok();
        // argc, argv..., NULL, envp..., NULL, then auxv pairs.
        let mut at = regs.rsp;
        let argc = peek(at)?;
        at += 8 * (argc + 2);
        for _ in 0..4096 {
            let w = peek(at)?;
            at += 8;
            if w == 0 {
                break;
            }
        }
        for _ in 0..64 {
            let (k, v) = (peek(at)?, peek(at + 8)?);
            at += 16;
            match k {
                0 => break,
                abi::auxv::AT_SYSINFO_EHDR => return Some(v),
                _ => {}
            }
        }
        None
    }

    /// Finds the host vDSO the exec gave the stub (still stopped at its exec): AT_SYSINFO_EHDR
    /// from the auxv on its stack, the image's size from its program headers, and the data pages
    /// below it by probing with mincore (ENOMEM where nothing is mapped). None if anything is
    /// not as expected.
    fn find_vdso(&mut self) -> Option<platform_vdso::Vdso> {
        let regs = sys::get_regs(self.pid).ok()?;
        let peek = |addr: u64| sys::peek(self.pid, addr).ok();
        let base = self.vdso_base()?;
        // The ELF header: e_phoff at 32, e_phentsize/e_phnum at 54/56.
        if peek(base)? & 0xffff_ffff != 0x464c_457f {
            return None;
        }
        let phoff = peek(base + 32)?;
        let w = peek(base + 48)?;
        let (phentsize, phnum) = ((w >> 48) & 0xffff, peek(base + 56)? & 0xffff);
        if phentsize != 56 || phnum == 0 || phnum > 16 {
            return None;
        }
        let mut end = base;
        for i in 0..phnum {
            let ph = base + phoff + i * 56;
            if peek(ph)? & 0xffff_ffff == 1 {
                // PT_LOAD: p_vaddr at 16, p_memsz at 40 (the vDSO is linked at 0).
                let (vaddr, memsz) = (peek(ph + 16)?, peek(ph + 40)?);
                end = end.max(base + vaddr + memsz);
            }
        }
        let end = end.checked_add(abi::PAGE_SIZE - 1)? & !(abi::PAGE_SIZE - 1);
        // mincore needs somewhere to write its byte: the stack, still mapped.
        let scratch = (regs.rsp - 4096) & !(abi::PAGE_SIZE - 1);
        let mut vvar_start = base;
        for _ in 0..64 {
            let page = vvar_start - abi::PAGE_SIZE;
            match self.inject(
                libc::SYS_mincore,
                [page, abi::PAGE_SIZE, scratch, 0, 0, 0],
                "mincore",
            ) {
                Ok(_) => vvar_start = page,
                Err(_) => break,
            }
        }
        Some(platform_vdso::Vdso {
            base,
            vvar_start,
            end,
        })
    }

    /// Moves the vDSO and its data pages to start at `to`, keeping their layout. They are
    /// several mappings that cannot be split, whose boundaries are not known here: each move
    /// tries the shortest whole mapping from where the previous one ended. None (and the vDSO
    /// is dropped) if that fails.
    fn move_vdso(&mut self, v: platform_vdso::Vdso, to: u64) -> Option<platform_vdso::Vdso> {
        const MREMAP_MAYMOVE: u64 = 1;
        const MREMAP_FIXED: u64 = 2;
        let mut at = v.vvar_start;
        while at < v.end {
            let mut moved = false;
            let mut len = abi::PAGE_SIZE;
            while at + len <= v.end {
                let dst = to + (at - v.vvar_start);
                if self
                    .inject(
                        libc::SYS_mremap,
                        [at, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, dst, 0],
                        "mremap",
                    )
                    .is_ok()
                {
                    moved = true;
                    break;
                }
                len += abi::PAGE_SIZE;
            }
            if !moved {
                return None;
            }
            at += len;
        }
        Some(platform_vdso::Vdso {
            base: to + (v.base - v.vvar_start),
            vvar_start: to,
            end: to + (v.end - v.vvar_start),
        })
    }

    /// A copy of this (template) stub as a new process: a child of the Sentry, traced by it, with
    /// the same clean address space and the same fd table (CLONE_FILES: a host file passed to
    /// one stub is there for all); it starts stopped by the SIGSTOP of CLONE_PTRACE.
    fn clone_process(&mut self) -> Result<PtraceAddressSpace, Error> {
        const FLAGS: u64 = (libc::CLONE_PARENT | libc::CLONE_PTRACE | libc::CLONE_FILES) as u64;
        let pid = self.inject(libc::SYS_clone, [FLAGS, 0, 0, 0, 0, 0], "clone")?;
        let pid = i32::try_from(pid).map_err(|_| Error::Unexpected {
            pid: self.pid,
            what: format!("clone returned {pid}"),
        })?;
        match sys::wait_stop(pid) {
            Ok(sys::Stop::Signal(libc::SIGSTOP)) => {}
            other => {
                sys::kill_and_reap(pid, &[]);
                return Err(Error::Unexpected {
                    pid,
                    what: format!("{other:?} as a cloned stub's first stop"),
                });
            }
        }
        Ok(PtraceAddressSpace {
            store_base: self.store_base,
            pid,
            contexts: 0,
            vdso: self.vdso,
            threads: Vec::new(),
            idle: Vec::new(),
            batch: self.batch.clone(),
            pending: Vec::new(),
            host: self.host.clone(),
            injections: 0,
        })
    }

    /// The fd of host file `f` in this stub's fd table: passed over the transfer socket and
    /// received with an injected `recvmsg` the first time.
    fn host_fd(&mut self, f: HostFileRef) -> Result<u64, Error> {
        let (Some(table), Some(batch)) = (self.host.clone(), self.batch.clone()) else {
            return Err(Error::Unsupported {
                platform: "ptrace",
                what: "host files without a scratch page",
            });
        };
        if let Some(&fd) = table.installed.borrow().get(&f.index) {
            return Ok(fd);
        }
        let tag = u32::try_from(f.index).unwrap_or(u32::MAX);
        sys::send_fd(table.tx.as_raw_fd(), f.fd, tag).map_err(|source| Error::Host {
            op: "passing a host file to a stub",
            source,
        })?;
        // The scratch page: msghdr at 0, its iovec at 64, the control buffer at 128 (64
        // bytes), the data (the tag) at 256.
        let at = |o: u64| stub::SCRATCH_ADDR + o;
        let words = |v: &[u64]| v.iter().flat_map(|w| w.to_ne_bytes()).collect::<Vec<u8>>();
        let s = &batch.scratch;
        s.write(0, &[0u8; 512]);
        // msg_name, msg_namelen (+pad), msg_iov, msg_iovlen, msg_control, msg_controllen,
        // msg_flags (+pad).
        s.write(0, &words(&[0, 0, at(64), 1, at(128), 64, 0]));
        s.write(64, &words(&[at(256), 4]));
        let r = self.inject(
            libc::SYS_recvmsg,
            [
                stub::TRANSFER_FD,
                stub::SCRATCH_ADDR,
                u64::try_from(libc::MSG_DONTWAIT | libc::MSG_CMSG_CLOEXEC).unwrap_or(0),
                0,
                0,
                0,
            ],
            "recvmsg",
        );
        let mut got = [0u8; 512];
        s.read(0, &mut got);
        s.write(0, &[0u8; 512]);
        r?;
        // cmsg_len (8 bytes), cmsg_level, cmsg_type, then the fd.
        let word = |o: usize| u32::from_ne_bytes([got[o], got[o + 1], got[o + 2], got[o + 3]]);
        let (level, kind, fd, data) = (word(136), word(140), word(144), word(256));
        let ok = level == libc::SOL_SOCKET as u32 && kind == libc::SCM_RIGHTS as u32;
        if !ok || data != tag {
            return Err(Error::Unexpected {
                pid: self.pid,
                what: format!(
                    "host file {} received as {level}/{kind} tag {data}",
                    f.index
                ),
            });
        }
        let fd = u64::from(fd);
        table.installed.borrow_mut().insert(f.index, fd);
        Ok(fd)
    }

    /// Runs one host syscall in the stopped stub and returns its result.
    fn inject(&mut self, nr: i64, args: [u64; 6], name: &'static str) -> Result<u64, Error> {
        tracing::trace!(target: "runrs::inject", pid = self.pid, "{name} {:#x} {:#x}", args[0], args[1]);
        let regs = UserRegs {
            rax: u64::try_from(nr).unwrap_or(u64::MAX),
            rdi: args[0],
            rsi: args[1],
            rdx: args[2],
            r10: args[3],
            r8: args[4],
            r9: args[5],
            rip: STUB_BASE + stub::SYSCALL_OFFSET,
            cs: 0x33,
            ss: 0x2b,
            eflags: 0x202,
            ..UserRegs::default()
        };
        let out = self.run_to_trap(&regs, name)?;
        // Host syscalls return -errno in [-4095, -1].
        let ret = out.rax.cast_signed();
        if (-4095..0).contains(&ret) {
            let errno = i32::try_from(-ret).unwrap_or(libc::EINVAL);
            return Err(Error::Injected {
                pid: self.pid,
                name,
                errno,
            });
        }
        Ok(out.rax)
    }

    /// Queues a memory operation for the next batch (or runs it now, without a batch page).
    fn queue(&mut self, nr: i64, args: [u64; 6], name: &'static str) -> Result<(), Error> {
        if self.batch.is_none() {
            return self.inject(nr, args, name).map(drop);
        }
        tracing::trace!(target: "runrs::inject", pid = self.pid, "queued {name} {:#x} {:#x}", args[0], args[1]);
        let nr = u64::try_from(nr).unwrap_or(u64::MAX);
        self.pending
            .push([nr, args[0], args[1], args[2], args[3], args[4], args[5]]);
        if self.pending.len() == BATCH_CAP {
            self.flush()?;
        }
        Ok(())
    }

    /// Runs the queued memory operations, in order, in one stop.
    fn flush(&mut self) -> Result<(), Error> {
        let ops = std::mem::take(&mut self.pending);
        let Some(batch) = self.batch.clone() else {
            return Ok(());
        };
        match ops.as_slice() {
            [] => return Ok(()),
            [op] => {
                let nr = i64::try_from(op[0]).unwrap_or(-1);
                let args = [op[1], op[2], op[3], op[4], op[5], op[6]];
                return self.inject(nr, args, op_name(nr)).map(drop);
            }
            _ => {}
        }
        let bytes: Vec<u8> = ops.iter().flatten().flat_map(|w| w.to_ne_bytes()).collect();
        batch.page.write(0, &bytes);
        tracing::trace!(target: "runrs::inject", pid = self.pid, "batch of {}", ops.len());
        let regs = UserRegs {
            r12: stub::BATCH_ADDR,
            r13: ops.len() as u64,
            rip: STUB_BASE + stub::BATCH_OFFSET,
            cs: 0x33,
            ss: 0x2b,
            eflags: 0x202,
            ..UserRegs::default()
        };
        let out = self.run_to_trap(&regs, "batch");
        // Guests can read the page: nothing of this address space stays there.
        batch.page.write(0, &vec![0u8; bytes.len()]);
        let out = out?;
        if out.r13 != 0 {
            let failed = ops
                .len()
                .saturating_sub(usize::try_from(out.r13).unwrap_or(0));
            let errno = i32::try_from(-out.rax.cast_signed()).unwrap_or(libc::EINVAL);
            let name = op_name(
                ops.get(failed)
                    .map_or(-1, |op| i64::try_from(op[0]).unwrap_or(-1)),
            );
            return Err(Error::Injected {
                pid: self.pid,
                name,
                errno,
            });
        }
        Ok(())
    }

    /// Runs the stopped stub from `regs` to its next `int3` (a preemption kick that arrived
    /// meanwhile is dropped) and returns its registers there.
    fn run_to_trap(&mut self, regs: &UserRegs, name: &'static str) -> Result<UserRegs, Error> {
        self.injections += 1;
        sys::set_regs(self.pid, regs)?;
        loop {
            sys::resume(self.pid, sys::Resume::Continue, 0)?;
            match sys::wait_stop(self.pid)? {
                sys::Stop::Signal(libc::SIGTRAP) => break,
                // A preemption kick that arrived after the guest had stopped: dropped.
                sys::Stop::Signal(sys::KICK_SIGNAL) => continue,
                other => {
                    return Err(Error::Unexpected {
                        pid: self.pid,
                        what: format!("{other:?} while injecting {name}"),
                    })
                }
            }
        }
        sys::get_regs(self.pid)
    }
}

impl Drop for PtraceAddressSpace {
    fn drop(&mut self) {
        sys::kill_and_reap(self.pid, &self.threads);
    }
}

impl AddressSpace for PtraceAddressSpace {
    type Context = PtraceContext;

    fn map_file(&mut self, addr: u64, len: u64, file_offset: u64, prot: Prot) -> Result<(), Error> {
        let flags = u64::try_from(libc::MAP_SHARED | libc::MAP_FIXED).unwrap_or(0);
        let host = self.host.as_ref().map(|t| t.files.clone());
        if let Some(files) = host.filter(|h| h.contains(file_offset)) {
            // A host file, opened read-only: the stub maps it as it is (MAP_SHARED, so that a
            // write access added by mistake fails with EACCES instead of writing a private copy
            // the Sentry would never see).
            let f = files.find(file_offset).ok_or(Error::Unexpected {
                pid: self.pid,
                what: format!("no host file at window offset {file_offset:#x}"),
            })?;
            let fd = self.host_fd(f)?;
            let off = file_offset - f.start;
            return self.queue(libc::SYS_mmap, [addr, len, prot, flags, fd, off], "mmap");
        }
        let (fd, off) = if file_offset >= self.store_base {
            (stub::STORE_FD, file_offset - self.store_base)
        } else {
            (stub::MEMORY_FD, file_offset)
        };
        // MAP_FIXED: the mapping lands at `addr` or fails.
        self.queue(libc::SYS_mmap, [addr, len, prot, flags, fd, off], "mmap")
    }

    fn unmap(&mut self, addr: u64, len: u64) -> Result<(), Error> {
        self.queue(libc::SYS_munmap, [addr, len, 0, 0, 0, 0], "munmap")
    }

    fn populate(&mut self, addr: u64, len: u64) -> Result<(), Error> {
        // MADV_POPULATE_READ (Linux 5.14): fills the page tables from the memory file's pages.
        // Not batched: a hint that may fail (older hosts) must not fail the batch. The
        // mappings it fills come first.
        const MADV_POPULATE_READ: u64 = 22;
        self.flush()?;
        self.inject(
            libc::SYS_madvise,
            [addr, len, MADV_POPULATE_READ, 0, 0, 0],
            "madvise",
        )
        .map(drop)
    }

    fn vdso(&self) -> Option<platform_vdso::Vdso> {
        self.vdso
    }

    fn protect(&mut self, addr: u64, len: u64, prot: Prot) -> Result<(), Error> {
        self.queue(libc::SYS_mprotect, [addr, len, prot, 0, 0, 0], "mprotect")
    }

    /// The first context runs on the stub's leader thread. Each further one runs on a thread of
    /// the stub: a parked one, or one cloned by injection (traced from birth with CLONE_PTRACE,
    /// which also gives it the leader's ptrace options).
    fn new_context(&mut self) -> Result<PtraceContext, Error> {
        self.flush()?;
        self.contexts += 1;
        if self.contexts == 1 {
            return Ok(PtraceContext {
                pid: self.pid,
                tid: self.pid,
                held: None,
            });
        }
        if let Some(tid) = self.idle.pop() {
            return Ok(PtraceContext {
                pid: self.pid,
                tid,
                held: None,
            });
        }
        const FLAGS: u64 = (libc::CLONE_VM
            | libc::CLONE_FS
            | libc::CLONE_FILES
            | libc::CLONE_SIGHAND
            | libc::CLONE_THREAD
            | libc::CLONE_SYSVSEM
            | libc::CLONE_PTRACE) as u64;
        // The new thread starts at the stub's int3 with a SIGSTOP pending: its first stop.
        let tid = self.inject(libc::SYS_clone, [FLAGS, 0, 0, 0, 0, 0], "clone")?;
        let tid = i32::try_from(tid).map_err(|_| Error::Unexpected {
            pid: self.pid,
            what: format!("clone returned {tid}"),
        })?;
        self.threads.push(tid);
        match sys::wait_stop(tid)? {
            sys::Stop::Signal(libc::SIGSTOP) => {}
            other => {
                return Err(Error::Unexpected {
                    pid: tid,
                    what: format!("{other:?} as a new stub thread's first stop"),
                })
            }
        }
        Ok(PtraceContext {
            pid: self.pid,
            tid,
            held: None,
        })
    }
}

/// A guest thread: a thread of the stub.
pub struct PtraceContext {
    /// The stub (thread group) and the thread.
    pid: i32,
    tid: i32,
    /// The registers the stopped thread holds in the host now, as last read or written, with
    /// the address space's injection count then (an injection into the leader changes them).
    held: Option<(UserRegs, u64)>,
}

impl PtraceAddressSpace {
    /// Gives back the context of a guest thread that ended: its stub thread stays parked in its
    /// ptrace stop until a new guest thread needs one (the leader's included: a thread group
    /// outlives its first thread).
    pub fn release_context(&mut self, host_tid: i32) {
        self.contexts = self.contexts.saturating_sub(1);
        if host_tid != self.pid && !self.idle.contains(&host_tid) {
            self.idle.push(host_tid);
        }
    }
}

impl PtraceContext {
    /// The host thread id (for diagnostics).
    pub fn host_tid(&self) -> i32 {
        self.tid
    }
    /// The guest thread's FP and vector state (an XSAVE area), for a signal frame.
    pub fn fp_state(&self) -> Result<Vec<u8>, Error> {
        sys::get_xstate(self.tid)
    }

    /// Restores FP and vector state saved by [`PtraceContext::fp_state`].
    pub fn set_fp_state(&self, state: &[u8]) -> Result<(), Error> {
        sys::set_xstate(self.tid, state)
    }

    /// As [`Context::switch`], but the guest is stopped ([`Event::Preempted`]) once
    /// `deadline_ns` (CLOCK_MONOTONIC, see [`monotonic_ns`]) has passed.
    pub fn switch_until(
        &mut self,
        space: &mut PtraceAddressSpace,
        regs: &mut UserRegs,
        deadline_ns: Option<u64>,
    ) -> Result<Event, Error> {
        space.flush()?;
        // After a syscall stop usually only rax (the result) differs from what the thread holds:
        // write that alone (or nothing, after a preemption).
        let fresh = |held: &UserRegs, at: u64| {
            (self.tid != space.pid || at == space.injections)
                && UserRegs {
                    rax: regs.rax,
                    ..*held
                } == *regs
        };
        match self.held {
            Some((held, at)) if fresh(&held, at) => {
                if held.rax != regs.rax {
                    sys::set_rax(self.tid, regs.rax)?;
                }
            }
            _ => sys::set_regs(self.tid, regs)?,
        }
        self.held = None;
        sys::set_running(Some((self.pid, self.tid)), deadline_ns);
        let stop = sys::resume(self.tid, sys::Resume::Sysemu, 0)
            .and_then(|()| sys::wait_stop_until(self.pid, self.tid, deadline_ns));
        sys::set_running(None, None);
        let stop = stop?;
        *regs = sys::get_regs(self.tid)?;
        self.held = Some((*regs, space.injections));
        match stop {
            sys::Stop::Syscall => Ok(Event::Syscall),
            sys::Stop::Signal(sig) => {
                let info = sys::get_siginfo(self.tid)?;
                if sig == sys::KICK_SIGNAL && info.from_sentry {
                    Ok(Event::Preempted)
                } else {
                    Ok(Event::Signal(info))
                }
            }
        }
    }
}

/// Stops the guest thread running now (see [`sys::kick_running`]); async-signal-safe.
pub fn kick_running() {
    sys::kick_running()
}

/// The CLOCK_MONOTONIC time in nanoseconds, the clock of preemption deadlines.
pub fn monotonic_ns() -> u64 {
    sys::monotonic_ns()
}

impl Context for PtraceContext {
    type AddressSpace = PtraceAddressSpace;

    fn switch(
        &mut self,
        space: &mut PtraceAddressSpace,
        regs: &mut UserRegs,
    ) -> Result<Event, Error> {
        self.switch_until(space, regs, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Platform;

    #[test]
    fn the_vdso_layout_comes_from_a_maps_file() {
        let maps = "\
55d0c0a00000-55d0c0a01000 r--p 00000000 08:01 123 /usr/bin/x
7ffd1a5f9000-7ffd1a61a000 rw-p 00000000 00:00 0                          [stack]
7ffd1a7b0000-7ffd1a7b4000 r--p 00000000 00:00 0                          [vvar]
7ffd1a7b4000-7ffd1a7b6000 r--p 00000000 00:00 0                          [vvar_vclock]
7ffd1a7b6000-7ffd1a7b8000 r-xp 00000000 00:00 0                          [vdso]
";
        assert_eq!(
            parse_vdso_layout(maps),
            Some(vec![(-0x6000, 0x4000), (-0x2000, 0x2000), (0, 0x2000)])
        );
        // Not adjacent, or no vDSO: unknown (stubs then probe theirs).
        let gap = maps.replace("7ffd1a7b4000-7ffd1a7b6000", "7ffd1a7b4000-7ffd1a7b5000");
        assert_eq!(parse_vdso_layout(&gap), None);
        let none = maps.replace("[vdso]", "[heap]");
        assert_eq!(parse_vdso_layout(&none), None);
        // This process's own.
        let own = std::fs::read_to_string("/proc/self/maps").unwrap();
        if own.contains("[vdso]") {
            let layout = parse_vdso_layout(&own).expect("this process's vDSO layout");
            assert_eq!(layout.last().map(|m| m.0), Some(0));
        }
    }

    /// A memory file of `len` bytes (sparse) for a test's platform.
    fn memory_file(name: &std::ffi::CStr, len: u64) -> OwnedFd {
        // SAFETY: memfd_create with a valid C string and flags.
        let fd = unsafe { libc::memfd_create(name.as_ptr(), libc::MFD_CLOEXEC) };
        assert!(fd >= 0, "memfd_create");
        // SAFETY: fd is a fresh fd we own.
        let memory = unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) };
        std::fs::File::from(memory.try_clone().unwrap())
            .set_len(len)
            .unwrap();
        memory
    }

    /// A platform on `memory`, unpinned, without the host's vDSO.
    fn platform(
        memory: &OwnedFd,
        batch_page: Option<u64>,
        host_files: Option<Arc<HostFiles>>,
    ) -> Ptrace {
        Ptrace::new(Config {
            store_file: None,
            memory_file: std::os::fd::AsFd::as_fd(memory),
            placement: CpuPlacement::Any,
            host_vdso: false,
            batch_page,
            host_files,
        })
        .expect("the platform")
    }

    /// A stub makes the memory calls the Sentry injects, and dies on any other host syscall
    /// (its own seccomp filter).
    #[test]
    fn a_stub_may_only_make_the_injected_calls() {
        let memory = memory_file(c"stub-filter-test", 0);
        let p = platform(&memory, None, None);
        let mut space = p.new_address_space().expect("a stub");
        let status = std::fs::read_to_string(format!("/proc/{}/status", space.stub_pid())).unwrap();
        assert!(status.contains("Seccomp:\t2"), "{status}");
        assert!(status.contains("NoNewPrivs:\t1"), "{status}");
        let at = space
            .inject(
                libc::SYS_mmap,
                [
                    0x1000_0000,
                    4096,
                    (libc::PROT_READ | libc::PROT_WRITE) as u64,
                    (libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED) as u64,
                    u64::MAX,
                    0,
                ],
                "mmap",
            )
            .expect("an injected mmap is allowed");
        assert_eq!(at, 0x1000_0000);
        let r = space.inject(libc::SYS_getpid, [0; 6], "getpid");
        assert!(r.is_err(), "getpid in a stub: {r:?}");
    }

    /// Memory operations queue up and run in one stop, in order; the page the stub read them
    /// from is zero afterwards; a failing one stops the batch and is named.
    #[test]
    fn memory_operations_are_batched() {
        let memory = memory_file(c"batch-test", 1 << 20);
        let file = std::fs::File::from(memory.try_clone().unwrap());
        let p = platform(&memory, Some(0), None);
        let mut space = p.new_address_space().expect("a stub");
        let (r, rw) = (
            libc::PROT_READ as u64,
            (libc::PROT_READ | libc::PROT_WRITE) as u64,
        );
        space.map_file(0x1000_0000, 8192, 4096, rw).unwrap();
        space.map_file(0x1000_2000, 4096, 16384, rw).unwrap();
        space.protect(0x1000_0000, 4096, r).unwrap();
        assert_eq!(space.pending.len(), 3);
        let pid = space.stub_pid();
        let maps = || std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap();
        assert!(!maps().contains("10000000-"), "mapped before the flush");
        space.flush().expect("the batch");
        let m = maps();
        assert!(m.contains("10000000-10001000 r--s 00001000"), "{m}");
        assert!(m.contains("10001000-10002000 rw-s 00002000"), "{m}");
        assert!(m.contains("10002000-10003000 rw-s 00004000"), "{m}");
        let mut page = [0xffu8; 4096];
        std::os::unix::fs::FileExt::read_exact_at(&file, &mut page, 0).unwrap();
        assert!(page.iter().all(|&b| b == 0), "the batch page keeps entries");
        // mprotect of nothing mapped fails (ENOMEM); what follows it does not run.
        space.protect(0x2000_0000, 4096, r).unwrap();
        space.map_file(0x1000_3000, 4096, 4096, rw).unwrap();
        space.unmap(0x1000_0000, 4096).unwrap();
        match space.flush() {
            Err(Error::Injected { name, errno, .. }) => {
                assert_eq!((name, errno), ("mprotect", libc::ENOMEM));
            }
            other => panic!("{other:?}"),
        }
        let m = maps();
        assert!(!m.contains("10003000-"), "{m}");
        assert!(m.contains("10000000-10001000"), "{m}");
        assert!(space.pending.is_empty());
    }

    /// A host file of the window reaches the stubs once (they share an fd table) and is mapped
    /// as it is: a stub's memory shows the file's bytes, and it cannot be made writable there.
    #[test]
    fn host_files_are_mapped_into_stubs() {
        let memory = memory_file(c"host-file-test", 1 << 20);
        let path = std::env::temp_dir().join(format!("runrs-host-file-{}", std::process::id()));
        let mut data = vec![b'a'; 4096];
        data.extend_from_slice(b"second page");
        std::fs::write(&path, &data).unwrap();
        let file = std::fs::File::open(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        let files = Arc::new(HostFiles::new(1 << 30, 1 << 30, 16));
        let f = files.add(OwnedFd::from(file), 8192).unwrap();
        assert_eq!(files.find(f.start + 5000), Some(f));
        assert_eq!(files.find(f.start + 8192), None);
        let p = platform(&memory, Some(0), Some(files.clone()));
        let (mut a, mut b) = (
            p.new_address_space().unwrap(),
            p.new_address_space().unwrap(),
        );
        let r = libc::PROT_READ as u64;
        a.map_file(0x1000_0000, 8192, f.start, r).unwrap();
        a.flush().unwrap();
        b.map_file(0x2000_0000, 4096, f.start + 4096, r).unwrap();
        b.flush().unwrap();
        let read = |pid: i32, addr: u64, n: usize| {
            let mem = std::fs::File::open(format!("/proc/{pid}/mem")).unwrap();
            let mut buf = vec![0u8; n];
            std::os::unix::fs::FileExt::read_exact_at(&mem, &mut buf, addr).unwrap();
            buf
        };
        assert_eq!(read(a.stub_pid(), 0x1000_0000, 4), b"aaaa");
        assert_eq!(read(a.stub_pid(), 0x1000_1000, 11), b"second page");
        assert_eq!(read(b.stub_pid(), 0x2000_0000, 11), b"second page");
        let installed = a.host.as_ref().unwrap().installed.borrow().clone();
        assert_eq!(installed.len(), 1, "passed once: {installed:?}");
        a.protect(0x1000_0000, 4096, r | libc::PROT_WRITE as u64)
            .unwrap();
        match a.flush() {
            Err(Error::Injected { name, errno, .. }) => {
                assert_eq!((name, errno), ("mprotect", libc::EACCES));
            }
            other => panic!("{other:?}"),
        }
    }
}
