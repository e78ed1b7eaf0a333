//! The memory manager: a guest address space as a set of segments over the memory file.
//!
//! Every mapped page is backed by a range of the [`MemoryFile`]: anonymous memory gets a fresh
//! range at mmap time (sparse, so untouched pages cost nothing), and the platform maps that range
//! into the stub. A segment records a virtual range, its protection and sharing, and where its
//! backing starts in the file. Linux's VMAs are the maximal runs of adjacent segments with equal
//! attributes; the split between two segments is invisible to the guest (see [`Mm::vma_covering`]).
//!
//! Guest memory is hostile input: every access goes through [`Mm::copy_in`]/[`Mm::copy_out`] and
//! friends, which check each byte's segment and protection and fail with EFAULT, never touching
//! anything outside the memory file. mremap moves memory by remapping the same file ranges at the
//! new address: nothing is copied.
//!
//! fork shares private memory copy-on-write: parent and child map the same memory-file ranges,
//! the memory file counts the owners of each range ([`Owners`]), and both address spaces map the
//! shared pages without write access on the host. A write fault on such a page (or a write by the
//! Sentry into guest memory, see [`Mm::copy_out`]) breaks the sharing: a window of pages is copied
//! into a fresh range and remapped writable, or, when no other address space owns the pages any
//! more, simply made writable again ([`MmState::break_cow`]). Nothing is copied at fork itself.
//! A child with up to [`EAGER_FORK_SEGMENTS`] segments gets them all mapped at fork (the
//! platform runs the mappings in one stop before the child runs); a larger one's segments are
//! `lazy` until a fault there maps them ([`MmState::fault_in`]), so a big process that forks
//! and execs pays for the few segments its child touches.
//!
//! Lock order: `Memory::owners` before `Memory::alloc` is never needed; each is taken alone.

pub mod memfile;
mod syscalls;

use crate::errors::Errno;
use crate::errors::SysResult;
use crate::{bail, errno};
use abi::mman::*;
use abi::PAGE_SIZE;
use memfile::MemoryFile;
use platform::ptrace::PtraceAddressSpace;
use platform::AddressSpace;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use zerocopy::{FromBytes, Immutable, IntoBytes};

pub use syscalls::{MmapArgs, MAP_VALIDATE_KNOWN};

/// A guest virtual address. Never dereferenced: only translated by the memory manager.
#[repr(transparent)]
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UserAddr(pub u64);

impl UserAddr {
    pub const NULL: UserAddr = UserAddr(0);

    pub fn is_null(self) -> bool {
        self.0 == 0
    }

    /// `self + off`, or EFAULT on overflow.
    #[track_caller]
    pub fn checked_add(self, off: u64) -> Result<UserAddr, Errno> {
        self.0
            .checked_add(off)
            .map(UserAddr)
            .ok_or_else(|| errno!(EFAULT))
    }
}

impl From<u64> for UserAddr {
    fn from(v: u64) -> UserAddr {
        UserAddr(v)
    }
}

impl fmt::Debug for UserAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#x}", self.0)
    }
}

/// Linux's `access_ok`: `[addr, addr + len)` lies in the user half of the address space (mapped
/// or not). Syscalls that take a buffer check this first: EFAULT before anything else.
pub fn access_ok(addr: u64, len: u64) -> bool {
    len <= abi::TASK_SIZE && addr <= abi::TASK_SIZE - len
}

/// Rounds up to a page, or None on overflow.
pub fn page_up(v: u64) -> Option<u64> {
    v.checked_add(PAGE_SIZE - 1).map(|v| v & !(PAGE_SIZE - 1))
}

/// Rounds down to a page.
pub fn page_down(v: u64) -> u64 {
    v & !(PAGE_SIZE - 1)
}

/// Whether `v` is page aligned.
pub fn is_page_aligned(v: u64) -> bool {
    v & (PAGE_SIZE - 1) == 0
}

/// What a range of guest memory is for (shown in diagnostics, kept for /proc/PID/maps later).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Anon,
    Image,
    Heap,
    Stack,
    /// A private copy of a file's pages (mmap of a file).
    File,
}

/// Shared anonymous memory (Linux's shmem object behind MAP_SHARED|MAP_ANONYMOUS): a range of the
/// memory file that lives as long as any mapping of it, whatever size those mappings take since.
/// Its pages go back to the host when the last mapping goes.
pub struct SharedObject {
    memory: Arc<Memory>,
    file_off: u64,
    size: u64,
}

impl SharedObject {
    /// A new object of `size` bytes (page aligned), zeroed.
    pub fn new(memory: &Arc<Memory>, size: u64) -> Result<Arc<SharedObject>, Errno> {
        let file_off = memory.allocate(size)?;
        Ok(Arc::new(SharedObject {
            memory: memory.clone(),
            file_off,
            size,
        }))
    }

    /// Where it starts in the memory file.
    pub fn file_off(&self) -> u64 {
        self.file_off
    }

    fn end(&self) -> u64 {
        self.file_off + self.size
    }
}

impl Drop for SharedObject {
    fn drop(&mut self) {
        self.memory.release(self.file_off, self.size);
    }
}

impl fmt::Debug for SharedObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SharedObject({:#x}+{:#x})", self.file_off, self.size)
    }
}

/// Bytes of [`FilePages`] alive in the Sentry (all sandboxes of the process together).
static FILE_PAGES_BYTES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// The most bytes [`FilePages`] may hold together: past it, files are copied per mapping again.
pub const FILE_PAGES_BUDGET: u64 = 256 << 20;

/// A file's contents read once into the memory file, which private mappings of the file map
/// copy-on-write, as fork shares memory: the Sentry's page cache for files that never change
/// under the sandbox (the root's lower layer). It owns its range as one more owner in
/// [`Memory::owners`]; a mapping adds an owner, a write to a page copies it
/// ([`MmState::break_cow`]), and the pages go back to the host when the cache and every mapping
/// have let go of them.
///
/// Where it can, the file is not read at all: its pages are the host file itself, mapped into
/// the memory file's host-file window ([`MemoryFile::map_host`]), so the guest maps the host's
/// page cache and nothing is copied until a write breaks the sharing.
pub struct FilePages {
    memory: Arc<Memory>,
    file_off: u64,
    /// Page aligned; bytes past the file's end read as zeroes.
    len: u64,
    /// The pages are the host file's (in the host-file window), not counted in
    /// [`FILE_PAGES_BYTES`].
    host: bool,
}

impl FilePages {
    /// The `size` bytes of `fd`: the host file itself in the host-file window where it can be,
    /// else (if `copy`) read into fresh pages; None past [`FILE_PAGES_BUDGET`] or when memory
    /// runs out.
    pub fn read(
        memory: &Arc<Memory>,
        fd: std::os::fd::BorrowedFd<'_>,
        size: u64,
        copy: bool,
    ) -> Result<Option<FilePages>, Errno> {
        use std::sync::atomic::Ordering::Relaxed;
        let Some(len) = page_up(size).filter(|&l| l > 0) else {
            return Ok(None);
        };
        if let Some(file_off) = memory.file.map_host(fd, len) {
            return Ok(Some(FilePages {
                memory: memory.clone(),
                file_off,
                len,
                host: true,
            }));
        }
        if !copy {
            return Ok(None);
        }
        if FILE_PAGES_BYTES.fetch_add(len, Relaxed) + len > FILE_PAGES_BUDGET {
            FILE_PAGES_BYTES.fetch_sub(len, Relaxed);
            return Ok(None);
        }
        let Ok(file_off) = memory.allocate(len) else {
            FILE_PAGES_BYTES.fetch_sub(len, Relaxed);
            return Ok(None);
        };
        let pages = FilePages {
            memory: memory.clone(),
            file_off,
            len,
            host: false,
        };
        let size = usize::try_from(size).map_err(|_| errno!(EFBIG))?;
        // A file that shrank on the host meanwhile reads as zeroes past its new end.
        memory
            .file
            .fill_from_host(fd, file_off, size, 0)
            .map_err(crate::errors::from_host)?;
        Ok(Some(pages))
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl Drop for FilePages {
    fn drop(&mut self) {
        if !self.host {
            FILE_PAGES_BYTES.fetch_sub(self.len, std::sync::atomic::Ordering::Relaxed);
        }
        self.memory.release_private(self.file_off, self.len);
    }
}

impl fmt::Debug for FilePages {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FilePages({:#x}+{:#x})", self.file_off, self.len)
    }
}

/// A range of guest memory with uniform attributes and contiguous backing.
#[derive(Clone, Debug)]
struct Segment {
    end: u64,
    prot: u64,
    role: Role,
    /// Offset in the memory file of this segment's first page.
    file_off: u64,
    /// The shared object this segment maps, for shared memory; private memory owns its range.
    object: Option<Arc<SharedObject>>,
    /// The file it maps (for /proc/PID/maps), and the file offset of its first byte.
    file: Option<(Arc<FileLabel>, u64)>,
    /// Whether mprotect may add PROT_WRITE (not for a shared mapping of a read-only fd).
    maywrite: bool,
    /// Private memory that may be shared with another address space since a fork: the host maps
    /// it without write access, and a write breaks the sharing first ([`MmState::break_cow`]).
    cow: bool,
    /// Not mapped in the platform yet (a forked child's memory): the first fault maps it.
    lazy: bool,
    /// For a private mapping of a cached file: the file's pages and the offset in them of the
    /// segment's first byte, where MADV_DONTNEED takes the file's bytes back from.
    pages: Option<(Rc<FilePages>, u64)>,
}

/// The file a mapping maps, as /proc/PID/maps names it.
#[derive(Debug, PartialEq, Eq)]
pub struct FileLabel {
    pub name: Vec<u8>,
    pub dev: u64,
    pub ino: u64,
}

impl Segment {
    fn shared(&self) -> bool {
        self.object.is_some()
    }

    /// The same segment in a new address space, not mapped there until its first fault (a part
    /// beyond its object has nothing to map).
    fn lazy_copy(&self) -> Segment {
        Segment {
            lazy: !self.beyond_object(),
            ..self.clone()
        }
    }

    /// The protection the host maps it with: the guest's, without write while copy-on-write.
    fn host_prot(&self) -> u64 {
        if self.cow {
            host_prot(self.prot) & !PROT_WRITE
        } else {
            host_prot(self.prot)
        }
    }

    /// Whether this segment lies past the end of its shared object: it is mapped for the guest,
    /// but touching it raises SIGBUS, and nothing is mapped there in the platform.
    fn beyond_object(&self) -> bool {
        self.object
            .as_ref()
            .is_some_and(|o| self.file_off >= o.end())
    }

    /// Whether `self` (`len` bytes) and `next` (right after it) would be one VMA in Linux.
    fn same_vma(&self, len: u64, next: &Segment) -> bool {
        self.prot == next.prot
            && self.role == next.role
            && match (&self.object, &next.object) {
                (None, None) => true,
                (Some(a), Some(b)) => Arc::ptr_eq(a, b) && next.file_off == self.file_off + len,
                _ => false,
            }
    }
}

/// The host protection for guest protection bits.
fn host_prot(prot: u64) -> u64 {
    prot & (PROT_READ | PROT_WRITE | PROT_EXEC)
}

/// Pages copied at once when a write breaks copy-on-write sharing: one fault (a ptrace stop and
/// an injected mmap) per 64 KiB rather than per page.
const COW_WINDOW: u64 = 16 * PAGE_SIZE;

/// The most segments a forked child gets mapped at fork (in one batch of the platform) rather
/// than one fault at a time.
const EAGER_FORK_SEGMENTS: usize = 64;

/// The owners of private memory-file ranges that more than one address space maps after fork:
/// start → (end, owners ≥ 2), non-overlapping. A private range not listed has one owner.
#[derive(Default)]
struct Owners {
    map: BTreeMap<u64, (u64, u32)>,
}

impl Owners {
    /// Splits the listed range containing `at` so that `at` is a boundary.
    fn split(&mut self, at: u64) {
        if let Some((&s, &(e, c))) = self.map.range(..at).next_back() {
            if e > at {
                self.map.insert(s, (at, c));
                self.map.insert(at, (e, c));
            }
        }
    }

    /// The listed ranges inside `[off, end)` (split at its edges first).
    fn inside(&mut self, off: u64, end: u64) -> Vec<(u64, u64)> {
        self.split(off);
        self.split(end);
        self.map
            .range(off..end)
            .map(|(&s, &(e, _))| (s, e))
            .collect()
    }

    /// Adds an owner to every page of `[off, end)`.
    fn add(&mut self, off: u64, end: u64) {
        let mut at = off;
        for (s, e) in self.inside(off, end) {
            if at < s {
                self.map.insert(at, (s, 2));
            }
            if let Some(r) = self.map.get_mut(&s) {
                r.1 += 1;
            }
            at = e;
        }
        if at < end {
            self.map.insert(at, (end, 2));
        }
    }

    /// Drops an owner of every page of `[off, end)`; returns the parts that had no other owner,
    /// which are now free.
    fn remove(&mut self, off: u64, end: u64) -> Vec<(u64, u64)> {
        let mut free = Vec::new();
        let mut at = off;
        for (s, e) in self.inside(off, end) {
            if at < s {
                free.push((at, s));
            }
            match self.map.get_mut(&s) {
                Some(r) if r.1 > 2 => r.1 -= 1,
                _ => {
                    self.map.remove(&s);
                }
            }
            at = e;
        }
        if at < end {
            free.push((at, end));
        }
        free
    }

    /// Whether any page of `[off, end)` has another owner.
    fn any_shared(&self, off: u64, end: u64) -> bool {
        self.map
            .range(..end)
            .next_back()
            .is_some_and(|(_, &(e, _))| e > off)
    }

    /// The run of pages with one owner around `off` (itself not shared), within `[lo, hi)`.
    fn sole_run(&self, off: u64, lo: u64, hi: u64) -> (u64, u64) {
        let start = self
            .map
            .range(..off)
            .next_back()
            .map_or(lo, |(_, &(e, _))| e.max(lo));
        let end = self.map.range(off..).next().map_or(hi, |(&s, _)| s.min(hi));
        (start, end)
    }
}

/// Which access a copy needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
}

/// The memory file and the allocator of its ranges, shared by all address spaces of a sandbox.
pub struct Memory {
    /// Shared with the store's `Memory` (`--overlay=dir`), which allocates past the memfd.
    pub file: Arc<MemoryFile>,
    alloc: Mutex<FileAllocator>,
    /// Private ranges shared copy-on-write by several address spaces.
    owners: Mutex<Owners>,
    /// `--disk`: the most bytes of file data the in-memory filesystems may hold together (0:
    /// no limit), and what they hold; shared with the store's `Memory`.
    disk: Arc<Disk>,
    /// Allocations must reserve their disk blocks first (a disk store).
    reserves: bool,
    /// Each allocation takes whole slots of this many bytes (a memory store, see
    /// [`memfile::STORE_SLOT`]); 0: exactly its length.
    slot: u64,
}

#[derive(Default)]
struct Disk {
    limit: std::sync::atomic::AtomicU64,
    used: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for Memory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Memory({:#x} bytes)", self.file.size())
    }
}

impl Memory {
    pub fn new(size: u64) -> std::io::Result<Arc<Memory>> {
        Memory::with_store(size, None)
    }

    /// [`Memory::new`] with a store: a host file of `store.1` bytes holding the offsets past
    /// the memfd, which [`Memory::store`] allocates from (`--overlay=dir`'s file on disk, or
    /// the memory store of large pages, see [`memfile::memory_store`]).
    pub fn with_store(
        size: u64,
        store: Option<(std::os::fd::OwnedFd, u64, memfile::StoreKind)>,
    ) -> std::io::Result<Arc<Memory>> {
        let file = MemoryFile::with_store(size, store)?;
        Ok(Arc::new(Memory {
            alloc: Mutex::new(FileAllocator::new(0, size)),
            owners: Mutex::new(Owners::default()),
            disk: Arc::default(),
            reserves: false,
            slot: 0,
            file: Arc::new(file),
        }))
    }

    /// The store's memory, if there is a store, for the in-memory filesystems' data: with
    /// `--overlay=dir` allocations there are host disk blocks rather than memory (not counted
    /// by the memory limit); in a memory store they are memory, each in a slot of its own.
    pub fn store(&self) -> Option<Arc<Memory>> {
        let (_, base) = self.file.store()?;
        let end = base + self.file.store_size();
        let disk = self.file.store_kind() == memfile::StoreKind::Disk;
        Some(Arc::new(Memory {
            alloc: Mutex::new(FileAllocator::new(base, end)),
            owners: Mutex::new(Owners::default()),
            disk: self.disk.clone(),
            reserves: disk,
            slot: if disk { 0 } else { memfile::STORE_SLOT },
            file: self.file.clone(),
        }))
    }

    /// The length an allocation of `len` bytes takes.
    fn taken(&self, len: u64) -> u64 {
        if self.slot == 0 {
            len
        } else {
            len.next_multiple_of(self.slot)
        }
    }

    /// Sets the `--disk` limit.
    pub fn set_disk_limit(&self, bytes: u64) {
        self.disk
            .limit
            .store(bytes, std::sync::atomic::Ordering::Relaxed);
    }

    /// Charges `grow` bytes of in-memory file data against the `--disk` limit: false (nothing
    /// charged) if it would pass it.
    pub fn charge_disk(&self, grow: u64) -> bool {
        use std::sync::atomic::Ordering::Relaxed;
        let limit = self.disk.limit.load(Relaxed);
        let used = self.disk.used.load(Relaxed).saturating_add(grow);
        if limit != 0 && used > limit {
            return false;
        }
        self.disk.used.store(used, Relaxed);
        true
    }

    pub fn uncharge_disk(&self, shrink: u64) {
        use std::sync::atomic::Ordering::Relaxed;
        let used = self.disk.used.load(Relaxed);
        self.disk.used.store(used.saturating_sub(shrink), Relaxed);
    }

    /// Whether `more` bytes would still fit under the `--disk` limit.
    pub fn disk_fits(&self, more: u64) -> bool {
        use std::sync::atomic::Ordering::Relaxed;
        let limit = self.disk.limit.load(Relaxed);
        limit == 0 || self.disk.used.load(Relaxed).saturating_add(more) <= limit
    }

    pub(crate) fn allocate(&self, len: u64) -> Result<u64, Errno> {
        let off = self
            .alloc
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .allocate(self.taken(len))
            .ok_or_else(|| errno!(ENOMEM))?;
        if self.reserves {
            if let Err(e) = self.file.reserve(off, len) {
                self.release(off, len);
                return Err(errno!(
                    ENOSPC,
                    "the --overlay=dir store's disk is full: {e}"
                ));
            }
        }
        Ok(off)
    }

    fn owners(&self) -> std::sync::MutexGuard<'_, Owners> {
        self.owners.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// One more address space owns the private range `[off, off + len)` (fork).
    fn share_private(&self, off: u64, len: u64) {
        self.owners().add(off, off + len);
    }

    /// An owner gives the private range `[off, off + len)` up; the pages nobody else owns are
    /// released.
    fn release_private(&self, off: u64, len: u64) {
        let free = self.owners().remove(off, off + len);
        for (s, e) in free {
            self.release(s, e - s);
        }
    }

    fn release(&self, off: u64, len: u64) {
        if self.file.is_host(off) {
            // A host file's range in the window: it stays for the sandbox's life.
            return;
        }
        // A memory store's whole slot, with its guard page.
        let len = self.taken(len);
        if let Err(e) = self.file.deallocate(off, len) {
            tracing::warn!("punching memory file hole at {off:#x}+{len:#x}: {e}");
        }
        self.alloc
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .release(off, len);
    }
}

/// First-fit allocator of page-aligned ranges of the memory file.
struct FileAllocator {
    /// Free ranges below `next`: offset → length, never adjacent.
    free: BTreeMap<u64, u64>,
    next: u64,
    size: u64,
}

impl FileAllocator {
    /// Allocates from `[start, end)`.
    fn new(start: u64, end: u64) -> Self {
        FileAllocator {
            free: BTreeMap::new(),
            next: start,
            size: end,
        }
    }

    fn allocate(&mut self, len: u64) -> Option<u64> {
        if let Some((&off, &flen)) = self.free.iter().find(|(_, &flen)| flen >= len) {
            self.free.remove(&off);
            if flen > len {
                self.free.insert(off + len, flen - len);
            }
            return Some(off);
        }
        let off = self.next;
        let end = off.checked_add(len)?;
        if end > self.size {
            return None;
        }
        self.next = end;
        Some(off)
    }

    fn release(&mut self, mut off: u64, mut len: u64) {
        if let Some((&poff, &plen)) = self.free.range(..off).next_back() {
            if poff + plen == off {
                self.free.remove(&poff);
                off = poff;
                len += plen;
            }
        }
        if let Some(&nlen) = self.free.get(&(off + len)) {
            self.free.remove(&(off + len));
            len += nlen;
        }
        if off + len == self.next {
            self.next = off;
        } else {
            self.free.insert(off, len);
        }
    }
}

/// A guest address space: the state behind an [`Mm`] handle.
pub struct MmState {
    memory: Arc<Memory>,
    space: PtraceAddressSpace,
    /// start → segment; non-overlapping.
    segments: BTreeMap<u64, Segment>,
    /// One past the highest address the guest may use.
    max_addr: u64,
    /// Where top-down mmap placement starts.
    pub mmap_base: u64,
    pub brk_start: u64,
    pub brk: u64,
    /// RLIMIT_AS: the most bytes of address space mmap, mremap and brk may map.
    pub as_limit: u64,
    /// The initial stack: its top, and the lowest address it has grown to.
    pub stack_top: u64,
    pub stack_bottom: u64,
    /// Where the initial stack holds the argument and environment strings (/proc/PID/cmdline).
    pub arg_range: (u64, u64),
    pub env_range: (u64, u64),
    /// A vfork child's view of its parent's memory: its private ranges belong to the parent and
    /// are never released here.
    borrowed: bool,
    /// A vfork child's view: its parent's state, where copy-on-write sharing is broken for it.
    lender: Option<std::rc::Weak<RefCell<MmState>>>,
    /// The vfork children's views of this state (dead or exec'd ones are skipped).
    borrowers: Vec<std::rc::Weak<RefCell<MmState>>>,
}

impl Drop for MmState {
    fn drop(&mut self) {
        // The stub goes with the address space; the memory-file ranges it owned go back.
        if self.borrowed {
            return;
        }
        for (start, seg) in std::mem::take(&mut self.segments) {
            if seg.object.is_none() {
                self.memory.release_private(seg.file_off, seg.end - start);
            }
        }
    }
}

/// A mapping as /proc/PID/maps shows it.
pub struct Vma {
    pub start: u64,
    pub end: u64,
    pub prot: u64,
    pub shared: bool,
    pub role: Role,
    /// The file mapped and the offset of `start` in it.
    pub file: Option<(Arc<FileLabel>, u64)>,
}

impl MmState {
    pub fn new(memory: Arc<Memory>, space: PtraceAddressSpace, max_addr: u64) -> MmState {
        MmState {
            memory,
            space,
            segments: BTreeMap::new(),
            max_addr,
            mmap_base: max_addr,
            brk_start: 0,
            brk: 0,
            as_limit: u64::MAX,
            stack_top: 0,
            stack_bottom: 0,
            arg_range: (0, 0),
            env_range: (0, 0),
            borrowed: false,
            lender: None,
            borrowers: Vec::new(),
        }
    }

    /// Whether a vfork child's view of this memory is live (not exited, not exec'd).
    fn lent(&mut self) -> bool {
        self.borrowers.retain(|w| {
            w.upgrade()
                .is_some_and(|b| b.try_borrow().map_or(true, |b| b.borrowed))
        });
        !self.borrowers.is_empty()
    }

    /// A copy of this address space in `space` (fork): private memory shared copy-on-write
    /// (nothing is copied now), shared memory shared. A vfork child's view forking, or a thread
    /// forking while a vfork child uses the memory, copies instead: the view's mappings could
    /// not follow the write protection.
    ///
    /// `hot`: addresses both processes write to at once (the forking thread's stack and thread
    /// block): the child gets its own copy of the window around each now, and the parent keeps
    /// write access there, sparing each a write fault (a platform stop) right after the fork.
    pub fn fork_into(&mut self, space: PtraceAddressSpace, hot: &[u64]) -> Result<MmState, Errno> {
        if self.borrowed || self.lent() {
            return self.fork_copy_into(space);
        }
        self.write_protect_private()?;
        let mut child = self.empty_like(space);
        for (&start, seg) in &self.segments {
            let len = seg.end - start;
            if seg.object.is_none() {
                self.memory.share_private(seg.file_off, len);
            }
            child.segments.insert(start, seg.lazy_copy());
        }
        child.map_small_eagerly()?;
        for &addr in hot {
            // Queued with the child's other mappings and the parent's next ones: no stop.
            if child.break_cow(addr)? {
                self.break_cow(addr)?;
            }
        }
        Ok(child)
    }

    /// fork by copying: private memory copied now (only the ranges holding data: holes stay
    /// holes), shared memory shared.
    fn fork_copy_into(&self, space: PtraceAddressSpace) -> Result<MmState, Errno> {
        let mut child = self.empty_like(space);
        for (&start, seg) in &self.segments {
            let len = seg.end - start;
            let mut seg2 = Segment {
                cow: false,
                lazy: false,
                ..seg.clone()
            };
            if seg.object.is_none() {
                let off = self.memory.allocate(len)?;
                if let Err(e) = self.memory.file.copy_data(seg.file_off, off, len) {
                    self.memory.release(off, len);
                    return Err(crate::errors::from_host(e));
                }
                seg2.file_off = off;
            }
            if let Err(e) = child.install(start, seg2.clone()) {
                if seg.object.is_none() {
                    self.memory.release(seg2.file_off, len);
                }
                return Err(e);
            }
        }
        Ok(child)
    }

    /// Maps the lazy segment containing `addr` after a fault there (SEGV_MAPERR); returns whether
    /// there was one, so that the access can be retried.
    pub fn fault_in(&mut self, addr: u64) -> Result<bool, Errno> {
        let Some((_, seg)) = self.segment_at(addr) else {
            return Ok(false);
        };
        if !seg.lazy {
            return Ok(false);
        }
        // Writable copy-on-write memory is most likely touched to be written (a stack, data):
        // break the sharing now rather than map it read-only and fault again at once.
        if seg.cow && seg.prot & PROT_WRITE != 0 && self.break_cow(addr)? {
            return Ok(true);
        }
        let Some((start, seg)) = self.segment_at(addr) else {
            return Ok(false);
        };
        if seg.lazy {
            self.map_lazy(start)?;
        }
        Ok(true)
    }

    /// Maps the lazy segment starting at `start` with its protection on the host.
    fn map_lazy(&mut self, start: u64) -> Result<(), Errno> {
        let Some(seg) = self.segments.get(&start) else {
            return Ok(());
        };
        let (len, off, prot) = (seg.end - start, seg.file_off, seg.host_prot());
        self.space
            .map_file(start, len, off, prot)
            .map_err(platform_errno)?;
        if let Some(seg) = self.segments.get_mut(&start) {
            seg.lazy = false;
        }
        Ok(())
    }

    /// Marks all private memory copy-on-write, taking write access away on the host where the
    /// guest has it (one mprotect per run of adjacent segments with the same protection).
    fn write_protect_private(&mut self) -> Result<(), Errno> {
        let needs = |seg: &Segment| seg.object.is_none() && !seg.cow;
        let keys: Vec<u64> = self
            .segments
            .iter()
            .filter(|(_, s)| needs(s))
            .map(|(&k, _)| k)
            .collect();
        let mut i = 0;
        while i < keys.len() {
            let (start, prot) = (keys[i], self.segments[&keys[i]].prot);
            let mut end = self.segments[&start].end;
            let mut j = i + 1;
            while j < keys.len() && keys[j] == end && self.segments[&keys[j]].prot == prot {
                end = self.segments[&keys[j]].end;
                j += 1;
            }
            if prot & PROT_WRITE != 0 {
                // Lazy segments in the run are mapped with their final protection later; the
                // host accepts mprotect over a range with holes only if all of it is mapped.
                let mut at = start;
                for k in &keys[i..j] {
                    let seg = &self.segments[k];
                    if seg.lazy {
                        if at < *k {
                            self.space
                                .protect(at, k - at, host_prot(prot) & !PROT_WRITE)
                                .map_err(platform_errno)?;
                        }
                        at = seg.end;
                    }
                }
                if at < end {
                    self.space
                        .protect(at, end - at, host_prot(prot) & !PROT_WRITE)
                        .map_err(platform_errno)?;
                }
            }
            for k in &keys[i..j] {
                if let Some(seg) = self.segments.get_mut(k) {
                    seg.cow = true;
                }
            }
            i = j;
        }
        Ok(())
    }

    /// Breaks copy-on-write sharing for a write at `addr` (a write fault there, or the Sentry
    /// about to write): returns whether there was sharing to break, so that the write can be
    /// retried. Copies a window of up to [`COW_WINDOW`] around the page if another address space
    /// still owns it; otherwise makes the whole run of pages this one alone owns writable.
    pub fn break_cow(&mut self, addr: u64) -> Result<bool, Errno> {
        self.break_cow_as(addr, false)
    }

    /// [`MmState::break_cow`]; `for_borrower`: for a vfork child's write, which may have made
    /// its view writable where this (its parent's) segment is not: the sharing is broken all
    /// the same, and this segment keeps its protection.
    fn break_cow_as(&mut self, addr: u64, for_borrower: bool) -> Result<bool, Errno> {
        let Some((start, seg)) = self.segment_at(addr) else {
            return Ok(false);
        };
        if !seg.cow || (seg.prot & PROT_WRITE == 0 && !for_borrower) {
            return Ok(false);
        }
        if self.borrowed {
            return self.break_cow_for_borrower(addr);
        }
        let (seg_end, seg_off, prot, lazy) = (seg.end, seg.file_off, seg.prot, seg.lazy);
        let page = page_down(addr);
        let off = seg_off + (page - start);
        let owners = self.memory.owners();
        // A host file's pages are never written in place: always copied.
        let shared = owners.any_shared(off, off + PAGE_SIZE) || self.memory.file.is_host(off);
        let (lo, hi, copy) = if shared {
            let lo = (page & !(COW_WINDOW - 1)).max(start);
            (lo, (lo + COW_WINDOW).min(seg_end), true)
        } else {
            let (s, e) = owners.sole_run(off, seg_off, seg_off + (seg_end - start));
            (start + (s - seg_off), start + (e - seg_off), false)
        };
        drop(owners);
        self.split_at(lo);
        self.split_at(hi);
        let len = hi - lo;
        let old = seg_off + (lo - start);
        if copy {
            let new = self.memory.allocate(len)?;
            let mapped = self
                .memory
                .file
                .copy_data(old, new, len)
                .map_err(crate::errors::from_host)
                .and_then(|()| {
                    self.space
                        .map_file(lo, len, new, host_prot(prot))
                        .map_err(platform_errno)
                });
            if let Err(e) = mapped {
                self.memory.release(new, len);
                return Err(e);
            }
            self.memory.release_private(old, len);
            if let Some(seg) = self.segments.get_mut(&lo) {
                seg.file_off = new;
                seg.cow = false;
                seg.lazy = false;
            }
        } else {
            let r = if lazy {
                self.space.map_file(lo, len, old, host_prot(prot))
            } else {
                self.space.protect(lo, len, host_prot(prot))
            };
            r.map_err(platform_errno)?;
            if let Some(seg) = self.segments.get_mut(&lo) {
                seg.cow = false;
                seg.lazy = false;
            }
        }
        Ok(true)
    }

    /// A vfork child's write to copy-on-write memory: the sharing is broken in its parent (whose
    /// memory it is; also where the child made its view writable with mprotect and the parent's
    /// segment is not), and the parent's new segment is mirrored in this view, writable as the
    /// view is. No: the parent is gone.
    fn break_cow_for_borrower(&mut self, addr: u64) -> Result<bool, Errno> {
        let Some(parent) = self.lender.as_ref().and_then(|w| w.upgrade()) else {
            return Ok(false);
        };
        let Ok(mut p) = parent.try_borrow_mut() else {
            return Ok(false);
        };
        // Where the parent's memory was: the view maps it where the child has not remapped.
        let Some((old_start, old_off)) = p.segment_at(addr).map(|(s, seg)| (s, seg.file_off))
        else {
            return Ok(false);
        };
        if !p.break_cow_as(addr, true)? {
            return Ok(false);
        }
        let Some((ps, pseg)) = p.segment_at(addr) else {
            return Ok(false);
        };
        let (pend, poff) = (pseg.end, pseg.file_off);
        drop(p);
        self.split_at(ps);
        self.split_at(pend);
        // Each of the view's segments there (the child's mprotect may have split them) that
        // still maps the parent's old memory now maps its new, with the view's protection.
        let starts: Vec<u64> = self.segments.range(ps..pend).map(|(&k, _)| k).collect();
        let mut broke = false;
        for s in starts {
            let Some(seg) = self.segments.get_mut(&s) else {
                continue;
            };
            if seg.object.is_some() || seg.file_off != old_off + (s - old_start) {
                // Remapped by the child meanwhile: not the parent's memory any more.
                continue;
            }
            seg.file_off = poff + (s - ps);
            seg.cow = false;
            seg.lazy = false;
            let (len, off, prot) = (seg.end - s, seg.file_off, seg.host_prot());
            self.space
                .map_file(s, len, off, prot)
                .map_err(platform_errno)?;
            broke |= (s..s + len).contains(&addr);
        }
        Ok(broke)
    }

    /// Breaks copy-on-write sharing wherever the guest may write in `[addr, addr + len)`, before
    /// the Sentry writes there.
    pub fn prepare_write(&mut self, addr: u64, len: usize) -> Result<(), Errno> {
        let end = addr.saturating_add(len as u64);
        let mut at = addr;
        while at < end {
            let Some((_, seg)) = self.segment_at(at) else {
                return Ok(());
            };
            let seg_end = seg.end;
            // Each successful break makes at least the page at `at` writable; where none could be
            // made, the write itself fails (EFAULT) at the page still shared.
            if seg.cow && seg.prot & PROT_WRITE != 0 && self.break_cow(at)? {
                continue;
            }
            at = seg_end;
        }
        Ok(())
    }

    /// The same memory seen from `space` (a vfork child until it execs or exits): writes are
    /// the parent's. The child's own mappings made meanwhile are not seen by the parent. The
    /// child's writes to copy-on-write memory break the sharing in the parent
    /// (`break_cow_for_borrower`; [`Mm::share_into`] links the two).
    fn share_into(&self, space: PtraceAddressSpace) -> Result<MmState, Errno> {
        let mut child = self.empty_like(space);
        child.borrowed = true;
        for (&start, seg) in &self.segments {
            child.segments.insert(start, seg.lazy_copy());
        }
        // A shell's vfork child touches about ten segments between vfork and exec (its code,
        // libc's, stack, heap, data): two stops each when faulted in, one batch when mapped now.
        child.map_small_eagerly()?;
        Ok(child)
    }

    /// Maps a new child's lazy segments at once if there are at most [`EAGER_FORK_SEGMENTS`]:
    /// the platform batches the mappings into one stop before the child runs, where faulting
    /// them in costs two stops a segment touched. A large address space (a Python's hundreds)
    /// stays lazy.
    fn map_small_eagerly(&mut self) -> Result<(), Errno> {
        let lazy: Vec<u64> = self
            .segments
            .iter()
            .filter(|(_, s)| s.lazy)
            .map(|(&k, _)| k)
            .collect();
        if lazy.len() > EAGER_FORK_SEGMENTS {
            return Ok(());
        }
        for start in lazy {
            self.map_lazy(start)?;
        }
        Ok(())
    }

    fn empty_like(&self, space: PtraceAddressSpace) -> MmState {
        MmState {
            memory: self.memory.clone(),
            space,
            segments: BTreeMap::new(),
            max_addr: self.max_addr,
            mmap_base: self.mmap_base,
            brk_start: self.brk_start,
            brk: self.brk,
            as_limit: self.as_limit,
            stack_top: self.stack_top,
            stack_bottom: self.stack_bottom,
            arg_range: self.arg_range,
            env_range: self.env_range,
            borrowed: false,
            lender: None,
            borrowers: Vec::new(),
        }
    }

    /// Empties the address space (execve): every mapping goes, owned memory goes back.
    pub fn reset(&mut self) -> Result<(), Errno> {
        self.space.unmap(0, self.max_addr).map_err(platform_errno)?;
        let segs = std::mem::take(&mut self.segments);
        if !self.borrowed {
            for (start, seg) in segs {
                if seg.object.is_none() {
                    self.memory.release_private(seg.file_off, seg.end - start);
                }
            }
        }
        self.borrowed = false;
        self.lender = None;
        self.mmap_base = self.max_addr;
        (self.brk_start, self.brk) = (0, 0);
        (self.stack_top, self.stack_bottom) = (0, 0);
        Ok(())
    }

    /// The mappings, adjacent segments with the same attributes merged.
    pub fn vmas(&self) -> Vec<Vma> {
        let mut out: Vec<Vma> = Vec::new();
        for (&start, seg) in &self.segments {
            if let Some(last) = out.last_mut() {
                let same_file = match (&last.file, &seg.file) {
                    (None, None) => true,
                    (Some((a, ao)), Some((b, bo))) => {
                        Arc::ptr_eq(a, b) && ao + (last.end - last.start) == *bo
                    }
                    _ => false,
                };
                if last.end == start
                    && last.prot == seg.prot
                    && last.role == seg.role
                    && last.shared == seg.shared()
                    && same_file
                {
                    last.end = seg.end;
                    continue;
                }
            }
            out.push(Vma {
                start,
                end: seg.end,
                prot: seg.prot,
                shared: seg.shared(),
                role: seg.role,
                file: seg.file.clone(),
            });
        }
        out
    }

    /// Prefaults `[addr, addr + len)` in the guest (a hint; failures are only logged).
    pub fn populate(&mut self, addr: u64, len: u64) {
        if let Err(e) = self.space.populate(addr, len) {
            tracing::debug!("populate {addr:#x}+{len:#x}: {e}");
        }
    }

    /// Records that `[addr, addr + len)` (a mapping just made) maps `label` from file offset
    /// `offset`, and whether it may become writable.
    pub fn set_file(
        &mut self,
        addr: u64,
        len: u64,
        label: Arc<FileLabel>,
        offset: u64,
        maywrite: bool,
    ) {
        for (&start, seg) in self.segments.range_mut(addr..addr.saturating_add(len)) {
            seg.file = Some((label.clone(), offset + (start - addr)));
            seg.maywrite = maywrite;
        }
    }

    /// Sets the role of the segments starting in `[addr, addr + len)` (a mapping just made).
    pub fn set_role(&mut self, addr: u64, len: u64, role: Role) {
        for (_, seg) in self.segments.range_mut(addr..addr.saturating_add(len)) {
            seg.role = role;
        }
    }

    /// Bytes of private memory with pages in the memory file (shared memory and memory shared
    /// copy-on-write since a fork count for each owner): what the OOM killer compares.
    pub fn resident_private_bytes(&self) -> u64 {
        let file = &self.memory.file;
        let mut total = 0;
        for (start, seg) in &self.segments {
            // A host file's pages are the host's page cache, not the sandbox's memory.
            if seg.shared() || file.is_host(seg.file_off) {
                continue;
            }
            let (mut at, end) = (seg.file_off, seg.file_off + (seg.end - start));
            while at < end {
                let Some(data) = file.seek_data_hole(at, false).filter(|&d| d < end) else {
                    break;
                };
                let hole = file.seek_data_hole(data, true).unwrap_or(end).min(end);
                total += hole - data;
                at = hole;
            }
        }
        total
    }

    /// Bytes of address space mapped.
    pub fn mapped_bytes(&self) -> u64 {
        self.segments.iter().map(|(s, seg)| seg.end - s).sum()
    }

    /// Reads guest memory `[range.0, range.1)` (up to 128 KiB; what is readable of it).
    pub fn read_range(&self, range: (u64, u64)) -> Option<Vec<u8>> {
        let len = usize::try_from(range.1.checked_sub(range.0)?)
            .ok()?
            .min(128 << 10);
        let mut out = Vec::with_capacity(len);
        for (off, n) in self.prefix_ranges(UserAddr(range.0), len, Access::Read) {
            let start = out.len();
            out.resize(start + n, 0);
            self.memory.file.read(off, &mut out[start..]);
        }
        Some(out)
    }

    /// The host vDSO kept in this address space, if any.
    pub fn vdso(&self) -> Option<platform::Vdso> {
        self.space.vdso()
    }

    /// The platform address space (to run the guest in it).
    pub fn space_mut(&mut self) -> &mut PtraceAddressSpace {
        &mut self.space
    }

    pub fn max_addr(&self) -> u64 {
        self.max_addr
    }

    /// The memory file.
    pub fn memory(&self) -> &Memory {
        &self.memory
    }

    /// The memory file, shared (for files whose pages live in it).
    pub fn memory_arc(&self) -> &Arc<Memory> {
        &self.memory
    }

    // ---- Mapping -------------------------------------------------------------------------------

    /// Maps fresh zeroed memory at `[addr, addr + len)` (page aligned), replacing what was there.
    /// Shared memory gets a new [`SharedObject`] of `len` bytes.
    pub fn map_anon(
        &mut self,
        addr: u64,
        len: u64,
        prot: u64,
        shared: bool,
        role: Role,
    ) -> Result<(), Errno> {
        let file_off = self.memory.allocate(len)?;
        self.map_fresh(addr, len, prot, shared, role, file_off)
    }

    /// Reserves `len` bytes of the memory file for a later [`Mm::map_fresh`], so that an
    /// operation can fail for lack of memory before it changes anything.
    pub fn reserve(&self, len: u64) -> Result<u64, Errno> {
        self.memory.allocate(len)
    }

    /// Gives back a reservation that was not used.
    pub fn unreserve(&self, file_off: u64, len: u64) {
        self.memory.release(file_off, len);
    }

    /// [`Mm::map_anon`] with a reserved memory-file range, which it takes over (and releases on
    /// failure).
    pub fn map_fresh(
        &mut self,
        addr: u64,
        len: u64,
        prot: u64,
        shared: bool,
        role: Role,
        file_off: u64,
    ) -> Result<(), Errno> {
        let object = shared.then(|| {
            Arc::new(SharedObject {
                memory: self.memory.clone(),
                file_off,
                size: len,
            })
        });
        let seg = Segment {
            end: addr + len,
            prot,
            role,
            file_off,
            object,
            file: None,
            maywrite: true,
            cow: false,
            lazy: false,
            pages: None,
        };
        let result = self.unmap(addr, len).and_then(|()| self.install(addr, seg));
        if result.is_err() && !shared {
            // A shared range is released with its object, dropped with the segment.
            self.memory.release(file_off, len);
        }
        result
    }

    /// Maps `[addr, addr + len)` (page aligned) privately from `pages` at `offset` (page aligned),
    /// replacing what was there. It shows the first `file_bytes` (at most `len`) of that part of
    /// the file, and zeroes after them. A mapping without write access maps the cached pages
    /// copy-on-write, nothing copied, and shows whole pages of the file (as Linux maps an ELF
    /// segment's last page); a writable one gets its own copy now (data and relocations are
    /// written at once: a copy costs less than a fault per window).
    #[allow(clippy::too_many_arguments)]
    pub fn map_file_pages(
        &mut self,
        addr: u64,
        len: u64,
        prot: u64,
        role: Role,
        pages: &Rc<FilePages>,
        offset: u64,
        file_bytes: u64,
    ) -> Result<(), Errno> {
        let take = pages.len.saturating_sub(offset).min(file_bytes).min(len);
        let shared = page_up(take)
            .unwrap_or(take)
            .min(pages.len - offset.min(pages.len));
        if prot & PROT_WRITE != 0 {
            let new = self.memory.allocate(len)?;
            if let Err(e) = self
                .memory
                .file
                .copy_data(pages.file_off + offset, new, take)
            {
                self.memory.release(new, len);
                return Err(crate::errors::from_host(e));
            }
            self.map_fresh(addr, len, prot, false, role, new)?;
            // Only a mapping of whole file pages takes them back on MADV_DONTNEED (a segment's
            // zeroed tail is not the file's).
            if take == shared && shared > 0 {
                self.split_at(addr + shared);
                if let Some(seg) = self.segments.get_mut(&addr) {
                    seg.pages = Some((pages.clone(), offset));
                }
            }
            return Ok(());
        }
        self.unmap(addr, len)?;
        if shared > 0 {
            let src = pages.file_off + offset;
            self.memory.share_private(src, shared);
            let seg = Segment {
                end: addr + shared,
                prot,
                role,
                file_off: src,
                object: None,
                file: None,
                maywrite: true,
                cow: true,
                lazy: false,
                pages: Some((pages.clone(), offset)),
            };
            if let Err(e) = self.install(addr, seg) {
                self.memory.release_private(src, shared);
                return Err(e);
            }
        }
        if shared < len {
            if let Err(e) = self.map_anon(addr + shared, len - shared, prot, false, role) {
                let _ = self.unmap(addr, shared);
                return Err(e);
            }
        }
        Ok(())
    }

    /// Maps `[addr, addr + len)` (free, page aligned) as a view of `object` from `file_off` on;
    /// the part past the object's end is mapped for the guest but raises SIGBUS when touched.
    pub fn map_shared_view(
        &mut self,
        addr: u64,
        len: u64,
        prot: u64,
        role: Role,
        object: Arc<SharedObject>,
        file_off: u64,
    ) -> Result<(), Errno> {
        let inside = object.end().saturating_sub(file_off).min(len);
        if inside > 0 {
            let seg = Segment {
                end: addr + inside,
                prot,
                role,
                file_off,
                object: Some(object.clone()),
                file: None,
                maywrite: true,
                cow: false,
                lazy: false,
                pages: None,
            };
            self.install(addr, seg)?;
        }
        if inside < len {
            let seg = Segment {
                end: addr + len,
                prot,
                role,
                file_off: file_off + inside,
                object: Some(object),
                file: None,
                maywrite: true,
                cow: false,
                lazy: false,
                pages: None,
            };
            self.install(addr + inside, seg)?;
        }
        Ok(())
    }

    /// Maps `seg` at `addr` in the platform (nothing for a part beyond its object) and records it.
    fn install(&mut self, addr: u64, seg: Segment) -> Result<(), Errno> {
        let len = seg.end - addr;
        let r = if seg.beyond_object() {
            self.space.unmap(addr, len)
        } else {
            self.space
                .map_file(addr, len, seg.file_off, seg.host_prot())
        };
        r.map_err(platform_errno)?;
        self.segments.insert(addr, seg);
        Ok(())
    }

    /// Whether `addr` is in a mapping past the end of its shared object (a fault there is SIGBUS).
    pub fn is_beyond_object(&self, addr: u64) -> bool {
        self.segment_at(addr)
            .is_some_and(|(_, seg)| seg.beyond_object() && seg.prot & PROT_READ != 0)
    }

    /// The shared object mapped at `addr`, with its file offset there, and the mapping's
    /// protection and role.
    pub fn shared_view_at(&self, addr: u64) -> Option<(Arc<SharedObject>, u64, u64, Role)> {
        let (start, seg) = self.segment_at(addr)?;
        Some((
            seg.object.clone()?,
            seg.file_off + (addr - start),
            seg.prot,
            seg.role,
        ))
    }

    /// Unmaps `[addr, addr + len)` (page aligned); holes are fine.
    pub fn unmap(&mut self, addr: u64, len: u64) -> Result<(), Errno> {
        let end = addr + len;
        if !self.overlaps(addr, end) {
            return Ok(());
        }
        self.space.unmap(addr, len).map_err(platform_errno)?;
        for (start, seg) in self.take_range(addr, end) {
            if seg.object.is_none() && !self.borrowed {
                self.memory.release_private(seg.file_off, seg.end - start);
            }
        }
        Ok(())
    }

    /// Changes the protection of `[addr, addr + len)`; ENOMEM unless it is wholly mapped.
    /// `prot` holds only PROT_READ/WRITE/EXEC.
    pub fn protect(&mut self, addr: u64, len: u64, prot: u64) -> Result<(), Errno> {
        let end = addr + len;
        if !self.is_fully_mapped(addr, end) {
            bail!(ENOMEM, "mprotect range {addr:#x}-{end:#x} not fully mapped");
        }
        if prot & PROT_WRITE != 0
            && self
                .segments
                .range(..end)
                .rev()
                .take_while(|(_, s)| s.end > addr)
                .any(|(_, s)| !s.maywrite)
        {
            bail!(EACCES, "shared mapping of a file not open for writing");
        }
        self.split_at(addr);
        self.split_at(end);
        // One injected mprotect per run of platform-mapped segments (parts beyond a shared object
        // have nothing mapped in the platform); a segment's protection changes only once the host
        // has applied it, so the two never disagree.
        let keys: Vec<u64> = self.segments.range(addr..end).map(|(&k, _)| k).collect();
        let mut run: Vec<u64> = Vec::new();
        for k in keys.iter().copied().chain(std::iter::once(u64::MAX)) {
            let seg = self.segments.get(&k);
            // A run shares the copy-on-write state too: that decides the host's write bit.
            let contiguous = run
                .last()
                .and_then(|l| self.segments.get(l))
                .is_some_and(|l| l.end == k && seg.is_some_and(|s| s.cow == l.cow));
            // Nothing is mapped in the platform for these: their protection is only recorded.
            let beyond = seg.is_some_and(|s| s.beyond_object() || s.lazy);
            if !run.is_empty() && (!contiguous || beyond || seg.is_none()) {
                let (s, e) = (run[0], self.segments[run.last().unwrap_or(&run[0])].end);
                let cow_mask = if self.segments[&s].cow {
                    !PROT_WRITE
                } else {
                    !0
                };
                self.space
                    .protect(s, e - s, host_prot(prot) & cow_mask)
                    .map_err(platform_errno)?;
                for r in run.drain(..) {
                    if let Some(seg) = self.segments.get_mut(&r) {
                        seg.prot = prot;
                    }
                }
            }
            match self.segments.get_mut(&k) {
                Some(seg) if seg.beyond_object() || seg.lazy => seg.prot = prot,
                Some(_) => run.push(k),
                None => {}
            }
        }
        Ok(())
    }

    /// Zeroes private memory `[at, to)` (inside one segment) by giving its backing back; pages
    /// another address space still owns (copy-on-write) are replaced by fresh zeroed ones
    /// instead.
    fn discard_private(&mut self, at: u64, to: u64) -> Result<(), Errno> {
        let Some((start, seg)) = self.segment_at(at) else {
            return Ok(());
        };
        let (old, len) = (seg.file_off + (at - start), to - at);
        if let Some((pages, off)) = seg.pages.clone() {
            // A private file mapping: the file's bytes come back (its cached pages, shared again).
            if self.borrowed {
                return Ok(());
            }
            let prot = seg.prot;
            let src = pages.file_off + off + (at - start);
            self.split_at(at);
            self.split_at(to);
            self.space
                .map_file(at, len, src, host_prot(prot) & !PROT_WRITE)
                .map_err(platform_errno)?;
            self.memory.share_private(src, len);
            self.memory.release_private(old, len);
            if let Some(seg) = self.segments.get_mut(&at) {
                seg.file_off = src;
                seg.cow = true;
                seg.lazy = false;
            }
            return Ok(());
        }
        let shared =
            self.memory.file.is_host(old) || self.memory.owners().any_shared(old, old + len);
        if !seg.cow || !shared {
            self.discard_backing(old, len);
            return Ok(());
        }
        if self.borrowed {
            // A vfork child cannot replace its parent's pages; they keep their contents (a
            // vfork child giving shared copy-on-write memory back is not worth more).
            return Ok(());
        }
        let prot = seg.prot;
        let new = self.memory.allocate(len)?;
        self.split_at(at);
        self.split_at(to);
        if let Err(e) = self.space.map_file(at, len, new, host_prot(prot)) {
            self.memory.release(new, len);
            return Err(platform_errno(e));
        }
        self.memory.release_private(old, len);
        if let Some(seg) = self.segments.get_mut(&at) {
            seg.file_off = new;
            seg.cow = false;
            seg.lazy = false;
        }
        Ok(())
    }

    /// Gives the backing of `[file_off, file_off + len)` back: it reads as zeroes afterwards.
    fn discard_backing(&self, file_off: u64, len: u64) {
        if let Err(e) = self.memory.file.punch_hole(file_off, len) {
            tracing::warn!("discarding guest memory: {e}");
        }
    }

    /// The end of the mapped run starting at `start` (`start` itself if unmapped), at most `end`.
    pub fn mapped_prefix_end(&self, start: u64, end: u64) -> u64 {
        let mut at = start;
        while at < end {
            match self.segment_at(at) {
                Some((_, seg)) => at = seg.end,
                None => return at,
            }
        }
        end
    }

    /// Finds a free range of `len` bytes, top down below `below`, at or above `MMAP_MIN_ADDR`.
    pub fn find_free(&self, len: u64, below: u64, align: u64) -> Option<u64> {
        let mut top = below.min(self.max_addr);
        for (&start, seg) in self.segments.range(..top).rev() {
            if seg.end <= top {
                if let Some(cand) = top.checked_sub(len).map(|c| c & !(align - 1)) {
                    if cand >= seg.end && cand >= abi::MMAP_MIN_ADDR {
                        return Some(cand);
                    }
                }
            }
            top = top.min(start);
        }
        let cand = top.checked_sub(len)? & !(align - 1);
        (cand >= abi::MMAP_MIN_ADDR).then_some(cand)
    }

    /// Bytes mapped in `[start, end)`.
    pub fn mapped_in(&self, start: u64, end: u64) -> u64 {
        self.segments
            .range(..end)
            .rev()
            .take_while(|(_, s)| s.end > start)
            .map(|(&s, seg)| seg.end.min(end) - s.max(start))
            .sum()
    }

    /// Linux's `may_expand_vm`: whether `grow` more bytes fit under RLIMIT_AS.
    pub fn may_expand(&self, grow: u64) -> bool {
        self.as_limit == u64::MAX
            || self.mapped_in(0, u64::MAX).saturating_add(grow) <= self.as_limit
    }

    /// Grows the stack down to cover `addr` after a fault there, as Linux does for a
    /// `VM_GROWSDOWN` mapping: within `limit` (RLIMIT_STACK) of the stack top, and keeping the
    /// stack guard gap (256 pages) above the next mapping below. Returns whether it grew.
    pub fn grow_stack(&mut self, addr: u64, limit: u64) -> bool {
        const GUARD_GAP: u64 = 256 * PAGE_SIZE;
        const CHUNK: u64 = 256 << 10;
        let floor = self.stack_top.saturating_sub(limit);
        if self.stack_bottom == 0 || addr >= self.stack_bottom || addr < floor {
            return false;
        }
        // Grow in chunks: each growth costs a fault and an injected mmap.
        let new_bottom = (page_down(addr) & !(CHUNK - 1)).max(page_up(floor).unwrap_or(floor));
        if self.overlaps(new_bottom.saturating_sub(GUARD_GAP), self.stack_bottom) {
            return false;
        }
        let Some((_, seg)) = self.segment_at(self.stack_bottom) else {
            return false;
        };
        if seg.role != Role::Stack {
            return false;
        }
        let prot = seg.prot;
        if !self.may_expand(self.stack_bottom - new_bottom) {
            return false;
        }
        if self
            .map_anon(
                new_bottom,
                self.stack_bottom - new_bottom,
                prot,
                false,
                Role::Stack,
            )
            .is_err()
        {
            return false;
        }
        self.stack_bottom = new_bottom;
        true
    }

    /// Whether any byte of `[start, end)` is mapped.
    pub fn overlaps(&self, start: u64, end: u64) -> bool {
        self.segments
            .range(..end)
            .next_back()
            .is_some_and(|(_, s)| s.end > start)
    }

    /// Whether every byte of `[start, end)` is mapped.
    pub fn is_fully_mapped(&self, start: u64, end: u64) -> bool {
        self.mapped_prefix_end(start, end) >= end
    }

    /// The `[start, end)` of the Linux VMA covering `addr`: adjacent segments with equal attributes.
    pub fn vma_covering(&self, addr: u64) -> Option<(u64, u64)> {
        let (&first, seg) = self.segments.range(..=addr).next_back()?;
        if seg.end <= addr {
            return None;
        }
        let (mut start, mut end) = (first, seg.end);
        let mut cur = seg;
        while let Some((&s, prev)) = self.segments.range(..start).next_back() {
            if prev.end != start || !prev.same_vma(start - s, cur) {
                break;
            }
            start = s;
            cur = prev;
        }
        let (mut cur, mut cur_start) = (seg, first);
        while let Some(next) = self.segments.get(&end) {
            if !cur.same_vma(end - cur_start, next) {
                break;
            }
            (cur, cur_start) = (next, end);
            end = next.end;
        }
        Some((start, end))
    }

    /// Splits segments so that `addr` is a boundary.
    fn split_at(&mut self, addr: u64) {
        let Some((&start, seg)) = self.segments.range(..addr).next_back() else {
            return;
        };
        if seg.end <= addr {
            return;
        }
        let upper = Segment {
            file_off: seg.file_off + (addr - start),
            file: seg
                .file
                .as_ref()
                .map(|(l, o)| (l.clone(), o + (addr - start))),
            pages: seg
                .pages
                .as_ref()
                .map(|(p, o)| (p.clone(), o + (addr - start))),
            ..seg.clone()
        };
        let lower = Segment {
            end: addr,
            ..seg.clone()
        };
        self.segments.insert(start, lower);
        self.segments.insert(addr, upper);
    }

    /// Removes and returns the segments inside `[start, end)`, splitting at the edges.
    fn take_range(&mut self, start: u64, end: u64) -> Vec<(u64, Segment)> {
        self.split_at(start);
        self.split_at(end);
        let keys: Vec<u64> = self.segments.range(start..end).map(|(&k, _)| k).collect();
        keys.into_iter()
            .filter_map(|k| self.segments.remove(&k).map(|s| (k, s)))
            .collect()
    }

    /// Moves `[old, old + len)` to `new` (free, page aligned) by remapping the same file ranges.
    fn move_range(&mut self, old: u64, len: u64, new: u64) -> Result<(), Errno> {
        let segs = self.take_range(old, old + len);
        for (start, seg) in &segs {
            let dst = new + (start - old);
            let slen = seg.end - start;
            if seg.beyond_object() || seg.lazy {
                // Nothing is mapped in the platform for it; the destination is free already.
                continue;
            }
            if let Err(e) = self
                .space
                .map_file(dst, slen, seg.file_off, seg.host_prot())
            {
                // Put the old segments back; the new range may be partly mapped: unmap it.
                let _ = self.space.unmap(new, len);
                for (s, seg) in segs {
                    self.segments.insert(s, seg);
                }
                return Err(platform_errno(e));
            }
        }
        if let Err(e) = self.space.unmap(old, len) {
            let _ = self.space.unmap(new, len);
            for (s, seg) in segs {
                self.segments.insert(s, seg);
            }
            return Err(platform_errno(e));
        }
        for (start, seg) in segs {
            let dst = new + (start - old);
            self.segments.insert(
                dst,
                Segment {
                    end: dst + (seg.end - start),
                    ..seg
                },
            );
        }
        Ok(())
    }

    /// Attributes of the segment containing `addr`.
    fn segment_at(&self, addr: u64) -> Option<(u64, &Segment)> {
        let (&start, seg) = self.segments.range(..=addr).next_back()?;
        (seg.end > addr).then_some((start, seg))
    }

    // ---- Guest memory access -------------------------------------------------------------------

    /// The memory-file ranges backing the longest accessible prefix of `[addr, addr + len)`.
    pub fn prefix_ranges(&self, addr: UserAddr, len: usize, access: Access) -> Vec<(u64, usize)> {
        let mut out = Vec::new();
        let mut at = addr.0;
        let Some(end) = addr.0.checked_add(len as u64) else {
            return out;
        };
        while at < end {
            let Some((start, seg)) = self.segment_at(at).filter(|(_, s)| !s.beyond_object()) else {
                break;
            };
            let ok = match access {
                Access::Read => seg.prot & (PROT_READ | PROT_WRITE | PROT_EXEC) != 0,
                // Copy-on-write memory is written only after break_cow (see Mm::copy_out).
                Access::Write => seg.prot & PROT_WRITE != 0 && !seg.cow,
            };
            if !ok {
                break;
            }
            let to = end.min(seg.end);
            let n = usize::try_from(to - at).unwrap_or(usize::MAX);
            out.push((seg.file_off + (at - start), n));
            at = to;
        }
        out
    }

    /// The memory-file ranges backing `[addr, addr + len)` whatever its protection (for the
    /// kernel filling pages it just mapped), up to the first hole.
    pub fn backing_ranges(&self, addr: u64, len: usize) -> Vec<(u64, usize)> {
        let mut out = Vec::new();
        let mut at = addr;
        let Some(end) = addr.checked_add(len as u64) else {
            return out;
        };
        while at < end {
            let Some((start, seg)) = self.segment_at(at).filter(|(_, s)| !s.beyond_object()) else {
                break;
            };
            let to = end.min(seg.end);
            out.push((
                seg.file_off + (at - start),
                usize::try_from(to - at).unwrap_or(usize::MAX),
            ));
            at = to;
        }
        out
    }

    /// Whether all of `[addr, addr + len)` is mapped writable.
    pub fn is_writable(&self, addr: u64, len: u64) -> bool {
        let Ok(len) = usize::try_from(len) else {
            return false;
        };
        self.prefix_ranges(UserAddr(addr), len, Access::Write)
            .iter()
            .map(|r| r.1)
            .sum::<usize>()
            == len
    }

    /// The ranges backing all of `[addr, addr + len)`, or EFAULT.
    #[track_caller]
    pub fn ranges(
        &self,
        addr: UserAddr,
        len: usize,
        access: Access,
    ) -> Result<Vec<(u64, usize)>, Errno> {
        let ranges = self.prefix_ranges(addr, len, access);
        if ranges.iter().map(|r| r.1).sum::<usize>() != len {
            return Err(errno!(EFAULT, "{:?} {addr:?}+{len:#x}", access));
        }
        Ok(ranges)
    }

    /// Copies guest memory at `addr` into `dst`.
    #[track_caller]
    pub fn copy_in(&self, addr: UserAddr, dst: &mut [u8]) -> Result<(), Errno> {
        let mut done = 0;
        for (off, n) in self.ranges(addr, dst.len(), Access::Read)? {
            self.memory.file.read(off, &mut dst[done..done + n]);
            done += n;
        }
        Ok(())
    }

    /// Copies `src` to guest memory at `addr`.
    #[track_caller]
    pub fn copy_out(&self, addr: UserAddr, src: &[u8]) -> Result<(), Errno> {
        let mut done = 0;
        for (off, n) in self.ranges(addr, src.len(), Access::Write)? {
            self.memory.file.write(off, &src[done..done + n]);
            done += n;
        }
        Ok(())
    }

    /// Copies as much of `src` as is writable at `addr`; returns the number of bytes copied.
    pub fn copy_out_partial(&self, addr: UserAddr, src: &[u8]) -> usize {
        let mut done = 0;
        for (off, n) in self.prefix_ranges(addr, src.len(), Access::Write) {
            self.memory.file.write(off, &src[done..done + n]);
            done += n;
        }
        done
    }

    /// Reads a `T` from guest memory.
    #[track_caller]
    pub fn read_obj<T: FromBytes + IntoBytes>(&self, addr: UserAddr) -> Result<T, Errno> {
        let mut v = T::new_zeroed();
        self.copy_in(addr, v.as_mut_bytes())?;
        Ok(v)
    }

    /// Writes a `T` to guest memory.
    #[track_caller]
    pub fn write_obj<T: IntoBytes + Immutable>(&self, addr: UserAddr, v: &T) -> Result<(), Errno> {
        self.copy_out(addr, v.as_bytes())
    }

    /// Reads `n` consecutive `T`s.
    #[track_caller]
    pub fn read_objs<T: FromBytes + IntoBytes + Clone>(
        &self,
        addr: UserAddr,
        n: usize,
    ) -> Result<Vec<T>, Errno> {
        let mut v = vec![T::new_zeroed(); n];
        self.copy_in(addr, v.as_mut_slice().as_mut_bytes())?;
        Ok(v)
    }

    /// Reads a NUL-terminated string of at most `max` bytes including the NUL. EFAULT if it runs
    /// into unreadable memory, ENAMETOOLONG if no NUL comes within `max` bytes.
    #[track_caller]
    pub fn read_cstr(&self, addr: UserAddr, max: usize) -> Result<Vec<u8>, Errno> {
        let mut out = Vec::new();
        let mut at = addr;
        while out.len() < max {
            // Read up to the end of the page, so a string ending just before unmapped memory works.
            let in_page = usize::try_from(PAGE_SIZE - (at.0 & (PAGE_SIZE - 1))).unwrap_or(1);
            let n = in_page.min(max - out.len());
            let mut chunk = vec![0u8; n];
            self.copy_in(at, &mut chunk)?;
            if let Some(nul) = chunk.iter().position(|&b| b == 0) {
                out.extend_from_slice(&chunk[..nul]);
                return Ok(out);
            }
            out.extend_from_slice(&chunk);
            at = at.checked_add(n as u64)?;
        }
        Err(errno!(ENAMETOOLONG))
    }
}

/// A platform failure during a memory operation. The stub's state is now unknown: this is a
/// Sentry-side failure, reported to the guest as ENOMEM and logged.
fn platform_errno(e: platform::Error) -> Errno {
    tracing::error!("platform memory operation failed: {e}");
    errno!(ENOMEM, "platform: {e}")
}

/// A guest address space, as its tasks hold it: the threads of a process share one.
///
/// Every method borrows the [`MmState`] for its own duration only (the Sentry is one thread,
/// and no method calls back into guest-visible code), so a handle is used like the state.
pub struct Mm {
    s: Rc<RefCell<MmState>>,
}

impl Mm {
    pub fn new(memory: Arc<Memory>, space: PtraceAddressSpace, max_addr: u64) -> Mm {
        Mm::from_state(MmState::new(memory, space, max_addr))
    }

    fn from_state(state: MmState) -> Mm {
        Mm {
            s: Rc::new(RefCell::new(state)),
        }
    }

    /// The same address space, for a new thread.
    pub fn share(&self) -> Mm {
        Mm { s: self.s.clone() }
    }

    /// A number naming this address space while it exists.
    pub fn id(&self) -> u64 {
        Rc::as_ptr(&self.s) as u64
    }

    /// How many tasks hold this address space.
    pub fn users(&self) -> usize {
        Rc::strong_count(&self.s)
    }

    /// The state, borrowed (for the loader and the few fields read directly).
    pub fn state(&self) -> std::cell::Ref<'_, MmState> {
        self.s.borrow()
    }

    /// The state, borrowed mutably.
    pub fn state_mut(&self) -> std::cell::RefMut<'_, MmState> {
        self.s.borrow_mut()
    }

    /// A copy-on-write copy of this address space in `space` (fork).
    pub fn fork_into(&self, space: PtraceAddressSpace, hot: &[u64]) -> Result<Mm, Errno> {
        Ok(Mm::from_state(self.s.borrow_mut().fork_into(space, hot)?))
    }

    /// The same memory seen from `space` (vfork).
    pub fn share_into(&self, space: PtraceAddressSpace) -> Result<Mm, Errno> {
        let mut child = self.s.borrow().share_into(space)?;
        child.lender = Some(Rc::downgrade(&self.s));
        let child = Mm::from_state(child);
        self.s.borrow_mut().borrowers.push(Rc::downgrade(&child.s));
        Ok(child)
    }

    /// Breaks copy-on-write sharing after a write fault at `addr`; whether the write may be
    /// retried. A failure is logged and reported as "no": the guest then gets the fault.
    pub fn break_cow(&self, addr: u64) -> bool {
        self.s.borrow_mut().break_cow(addr).unwrap_or_else(|e| {
            tracing::warn!("breaking copy-on-write at {addr:#x}: {e:?}");
            false
        })
    }

    /// Maps a forked child's lazy memory after a fault at `addr`; whether the access may be
    /// retried (a failure is logged, and the guest gets the fault).
    pub fn fault_in(&self, addr: u64) -> bool {
        self.s.borrow_mut().fault_in(addr).unwrap_or_else(|e| {
            tracing::warn!("mapping lazy memory at {addr:#x}: {e:?}");
            false
        })
    }

    /// Breaks copy-on-write sharing in `[addr, addr + len)` before a write; an error (ENOMEM)
    /// is logged, and the write then stops at the first page still shared (EFAULT).
    fn prepare_write(&self, addr: UserAddr, len: usize) {
        if let Err(e) = self.s.borrow_mut().prepare_write(addr.0, len) {
            tracing::warn!("breaking copy-on-write in {addr:?}+{len:#x}: {e:?}");
        }
    }

    /// Runs `f` with the platform address space (to run the guest in it).
    pub fn with_space<R>(&self, f: impl FnOnce(&mut PtraceAddressSpace) -> R) -> R {
        f(self.s.borrow_mut().space_mut())
    }

    /// The memory file.
    pub fn memory(&self) -> Arc<Memory> {
        self.s.borrow().memory_arc().clone()
    }

    /// The memory file, shared (for files whose pages live in it).
    pub fn memory_arc(&self) -> Arc<Memory> {
        self.memory()
    }

    /// mmap(2) with the mapping made by `map` (see [`MmState::mmap_with`]).
    pub fn mmap_with(
        &self,
        a: syscalls::MmapArgs,
        map: impl FnOnce(&mut MmState, u64, u64, u64, bool, Role) -> Result<(), Errno>,
    ) -> SysResult {
        self.s.borrow_mut().mmap_with(a, map)
    }

    pub fn reset(&self) -> Result<(), Errno> {
        self.s.borrow_mut().reset()
    }
    pub fn vmas(&self) -> Vec<Vma> {
        self.s.borrow().vmas()
    }
    pub fn populate(&self, addr: u64, len: u64) {
        self.s.borrow_mut().populate(addr, len)
    }
    pub fn set_file(
        &self,
        addr: u64,
        len: u64,
        label: Arc<FileLabel>,
        offset: u64,
        maywrite: bool,
    ) {
        self.s
            .borrow_mut()
            .set_file(addr, len, label, offset, maywrite)
    }
    pub fn set_role(&self, addr: u64, len: u64, role: Role) {
        self.s.borrow_mut().set_role(addr, len, role)
    }
    pub fn mapped_bytes(&self) -> u64 {
        self.s.borrow().mapped_bytes()
    }
    pub fn read_range(&self, range: (u64, u64)) -> Option<Vec<u8>> {
        self.s.borrow().read_range(range)
    }
    pub fn vdso(&self) -> Option<platform::Vdso> {
        self.s.borrow().vdso()
    }
    pub fn max_addr(&self) -> u64 {
        self.s.borrow().max_addr()
    }
    pub fn map_anon(
        &self,
        addr: u64,
        len: u64,
        prot: u64,
        shared: bool,
        role: Role,
    ) -> Result<(), Errno> {
        self.s.borrow_mut().map_anon(addr, len, prot, shared, role)
    }
    pub fn reserve(&self, len: u64) -> Result<u64, Errno> {
        self.s.borrow().reserve(len)
    }
    pub fn unreserve(&self, file_off: u64, len: u64) {
        self.s.borrow().unreserve(file_off, len)
    }
    pub fn map_fresh(
        &self,
        addr: u64,
        len: u64,
        prot: u64,
        shared: bool,
        role: Role,
        file_off: u64,
    ) -> Result<(), Errno> {
        self.s
            .borrow_mut()
            .map_fresh(addr, len, prot, shared, role, file_off)
    }
    pub fn map_shared_view(
        &self,
        addr: u64,
        len: u64,
        prot: u64,
        role: Role,
        object: Arc<SharedObject>,
        file_off: u64,
    ) -> Result<(), Errno> {
        self.s
            .borrow_mut()
            .map_shared_view(addr, len, prot, role, object, file_off)
    }
    pub fn is_beyond_object(&self, addr: u64) -> bool {
        self.s.borrow().is_beyond_object(addr)
    }
    pub fn shared_view_at(&self, addr: u64) -> Option<(Arc<SharedObject>, u64, u64, Role)> {
        self.s.borrow().shared_view_at(addr)
    }
    pub fn unmap(&self, addr: u64, len: u64) -> Result<(), Errno> {
        self.s.borrow_mut().unmap(addr, len)
    }
    pub fn protect(&self, addr: u64, len: u64, prot: u64) -> Result<(), Errno> {
        self.s.borrow_mut().protect(addr, len, prot)
    }
    pub fn mapped_prefix_end(&self, start: u64, end: u64) -> u64 {
        self.s.borrow().mapped_prefix_end(start, end)
    }
    pub fn find_free(&self, len: u64, below: u64, align: u64) -> Option<u64> {
        self.s.borrow().find_free(len, below, align)
    }
    pub fn mapped_in(&self, start: u64, end: u64) -> u64 {
        self.s.borrow().mapped_in(start, end)
    }
    pub fn may_expand(&self, grow: u64) -> bool {
        self.s.borrow().may_expand(grow)
    }
    pub fn grow_stack(&self, addr: u64, limit: u64) -> bool {
        self.s.borrow_mut().grow_stack(addr, limit)
    }
    pub fn overlaps(&self, start: u64, end: u64) -> bool {
        self.s.borrow().overlaps(start, end)
    }
    pub fn is_fully_mapped(&self, start: u64, end: u64) -> bool {
        self.s.borrow().is_fully_mapped(start, end)
    }
    pub fn vma_covering(&self, addr: u64) -> Option<(u64, u64)> {
        self.s.borrow().vma_covering(addr)
    }
    pub fn prefix_ranges(&self, addr: UserAddr, len: usize, access: Access) -> Vec<(u64, usize)> {
        if access == Access::Write {
            self.prepare_write(addr, len);
        }
        self.s.borrow().prefix_ranges(addr, len, access)
    }
    pub fn backing_ranges(&self, addr: u64, len: usize) -> Vec<(u64, usize)> {
        self.s.borrow().backing_ranges(addr, len)
    }
    pub fn is_writable(&self, addr: u64, len: u64) -> bool {
        self.prepare_write(UserAddr(addr), usize::try_from(len).unwrap_or(usize::MAX));
        self.s.borrow().is_writable(addr, len)
    }
    #[track_caller]
    pub fn ranges(
        &self,
        addr: UserAddr,
        len: usize,
        access: Access,
    ) -> Result<Vec<(u64, usize)>, Errno> {
        if access == Access::Write {
            self.prepare_write(addr, len);
        }
        self.s.borrow().ranges(addr, len, access)
    }
    #[track_caller]
    pub fn copy_in(&self, addr: UserAddr, dst: &mut [u8]) -> Result<(), Errno> {
        self.s.borrow().copy_in(addr, dst)
    }
    /// Copies `src` to guest memory at `addr`, breaking copy-on-write sharing there first.
    #[track_caller]
    pub fn copy_out(&self, addr: UserAddr, src: &[u8]) -> Result<(), Errno> {
        self.prepare_write(addr, src.len());
        self.s.borrow().copy_out(addr, src)
    }
    pub fn copy_out_partial(&self, addr: UserAddr, src: &[u8]) -> usize {
        self.prepare_write(addr, src.len());
        self.s.borrow().copy_out_partial(addr, src)
    }
    #[track_caller]
    pub fn read_obj<T: FromBytes + IntoBytes>(&self, addr: UserAddr) -> Result<T, Errno> {
        self.s.borrow().read_obj(addr)
    }
    #[track_caller]
    pub fn write_obj<T: IntoBytes + Immutable>(&self, addr: UserAddr, v: &T) -> Result<(), Errno> {
        self.prepare_write(addr, std::mem::size_of::<T>());
        self.s.borrow().write_obj(addr, v)
    }
    #[track_caller]
    pub fn read_objs<T: FromBytes + IntoBytes + Clone>(
        &self,
        addr: UserAddr,
        n: usize,
    ) -> Result<Vec<T>, Errno> {
        self.s.borrow().read_objs(addr, n)
    }
    #[track_caller]
    pub fn read_cstr(&self, addr: UserAddr, max: usize) -> Result<Vec<u8>, Errno> {
        self.s.borrow().read_cstr(addr, max)
    }
    pub fn mmap(&self, a: MmapArgs) -> SysResult {
        self.s.borrow_mut().mmap(a)
    }
    pub fn munmap(&self, addr: u64, len: u64) -> SysResult {
        self.s.borrow_mut().munmap(addr, len)
    }
    pub fn mprotect(&self, addr: u64, len: u64, prot: u64) -> SysResult {
        self.s.borrow_mut().mprotect(addr, len, prot)
    }
    pub fn sys_brk(&self, new: u64) -> SysResult {
        self.s.borrow_mut().sys_brk(new)
    }
    pub fn mremap(
        &self,
        old: u64,
        old_len: u64,
        new_len: u64,
        flags: u64,
        new_addr: u64,
    ) -> SysResult {
        self.s
            .borrow_mut()
            .mremap(old, old_len, new_len, flags, new_addr)
    }
    pub fn madvise(&self, addr: u64, len: u64, advice: u64) -> SysResult {
        self.s.borrow_mut().madvise(addr, len, advice)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocator_reuses_and_coalesces() {
        let mut a = FileAllocator::new(0, 1 << 20);
        let x = a.allocate(4096).unwrap();
        let y = a.allocate(8192).unwrap();
        let z = a.allocate(4096).unwrap();
        assert_eq!((x, y, z), (0, 4096, 12288));
        a.release(y, 8192);
        a.release(x, 4096);
        assert_eq!(a.free.get(&0), Some(&12288));
        assert_eq!(a.allocate(12288), Some(0));
        a.release(z, 4096);
        assert_eq!(a.next, 12288);
        assert_eq!(a.allocate(1 << 21), None);
    }

    #[test]
    fn owners_count_and_free() {
        let mut o = Owners::default();
        o.add(0, 0x4000);
        o.add(0x2000, 0x6000);
        assert!(o.any_shared(0x1000, 0x2000));
        assert!(!o.any_shared(0x6000, 0x8000));
        assert_eq!(o.sole_run(0x7000, 0, 0x9000), (0x6000, 0x9000));
        // 0..0x2000 two owners, 0x2000..0x4000 three, 0x4000..0x6000 two.
        assert_eq!(o.remove(0x1000, 0x5000), vec![]);
        // Now 0..0x1000 two, 0x1000..0x2000 one, 0x2000..0x4000 two, 0x4000..0x5000 one, 0x5000..0x6000 two.
        assert_eq!(o.sole_run(0x1000, 0, 0x8000), (0x1000, 0x2000));
        assert_eq!(o.sole_run(0x4000, 0x4000, 0x4800), (0x4000, 0x4800));
        assert_eq!(
            o.remove(0x0, 0x8000),
            vec![(0x1000, 0x2000), (0x4000, 0x5000), (0x6000, 0x8000)]
        );
        assert!(!o.any_shared(0, 0x8000));
        assert_eq!(o.remove(0x2000, 0x4000), vec![(0x2000, 0x4000)]);
    }

    #[test]
    fn page_helpers() {
        assert_eq!(page_up(1), Some(4096));
        assert_eq!(page_up(u64::MAX), None);
        assert_eq!(page_down(4097), 4096);
        assert!(is_page_aligned(8192));
    }
}
