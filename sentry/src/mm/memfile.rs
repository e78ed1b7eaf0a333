//! The memory file: one memfd holding all guest memory, mapped once into the Sentry.
//!
//! Guest pages are ranges of this file mapped `MAP_SHARED` into stubs; the Sentry reaches the same
//! pages through its own mapping, so copying to or from the guest is a bounds-checked `memcpy`.
//! The file is sparse: a range costs host memory only once touched, and punching a hole gives the
//! memory back.
//!
//! This module holds the unsafe code for that mapping. Everything it exposes is safe: offsets are
//! checked against the file size, and access goes through raw-pointer copies (never references),
//! since a guest may change the same bytes concurrently.

use platform::HostFiles;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::sync::Arc;

/// Offsets of the host-file window (see [`platform::HostFiles`]), after the memfd and the store.
const HOST_WINDOW: u64 = 64 << 30;

/// What a store holds (see [`MemoryFile`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreKind {
    /// `--overlay=dir`: an unlinked file on the host's disk, whose blocks are reserved ahead of
    /// use and not counted as memory.
    Disk,
    /// Memory: an unlinked file on a tmpfs of the Sentry's own ([`memory_store`]), where the
    /// host backs large writes with large pages. Counted as memory like the memfd.
    Memory,
}

/// In a memory store, each range the allocator hands out starts a slot of this many bytes
/// (see `Memory::allocate`): a file's 1 MiB chunk is the slot's first half, and no page of the
/// second half ever holds a file's data (one page there may hold a guard, see
/// [`MemoryFile::write_within`]). A 2 MiB folio therefore never fits in a chunk's write.
pub const STORE_SLOT: u64 = 2 << 20;

/// Writes into a memory store at least this long are `pwrite`s (the host may give them large
/// folios); shorter ones are copies through the Sentry's mapping (a 4 KiB page per fault).
const LARGE_WRITE: usize = 64 << 10;

/// Makes the memory store: an unlinked file on a new tmpfs that is mounted nowhere (`fsopen` +
/// `fsmount`; the open file keeps it alive), with `huge=within_size` and no size limit (the
/// Sentry enforces its own). On that mount the host backs a write of N bytes at an aligned
/// offset with folios of up to N bytes, where the memfd (the host's internal shmem mount,
/// `shmem_enabled=never` here) always uses 4 KiB pages: reading and writing large files in
/// the sandbox's tmpfs runs 2-3x faster. Needs CAP_SYS_ADMIN over the mount namespace (root):
/// elsewhere the caller keeps file data in the memfd.
///
/// Page faults on the file must not get huge pages (a 2 MiB folio for a touched 4 KiB page of
/// a sparse file): the caller disables transparent huge pages for the Sentry and its stubs
/// ([`disable_huge_page_faults`]) before any mapping of the file.
pub fn memory_store() -> io::Result<OwnedFd> {
    const FSOPEN_CLOEXEC: libc::c_uint = 1;
    const FSCONFIG_SET_STRING: libc::c_uint = 1;
    const FSCONFIG_CMD_CREATE: libc::c_uint = 6;
    const FSMOUNT_CLOEXEC: libc::c_uint = 1;
    const MOUNT_ATTR_NOSUID: libc::c_uint = 0x2;
    const MOUNT_ATTR_NODEV: libc::c_uint = 0x4;
    let check = |r: libc::c_long| {
        if r < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(r)
        }
    };
    // SAFETY: fsopen with a NUL-terminated name; the result is checked.
    let fs = check(unsafe { libc::syscall(libc::SYS_fsopen, c"tmpfs".as_ptr(), FSOPEN_CLOEXEC) })?;
    // SAFETY: fsopen returned a fresh fd (it fits an int).
    let fs = unsafe { OwnedFd::from_raw_fd(fs as i32) };
    for (key, value) in [
        (c"huge", c"within_size"),
        (c"size", c"0"),
        (c"mode", c"0700"),
    ] {
        // SAFETY: fsconfig on our fs context with NUL-terminated strings.
        check(unsafe {
            libc::syscall(
                libc::SYS_fsconfig,
                fs.as_raw_fd(),
                FSCONFIG_SET_STRING,
                key.as_ptr(),
                value.as_ptr(),
                0,
            )
        })?;
    }
    // SAFETY: fsconfig CMD_CREATE takes no key or value.
    check(unsafe {
        libc::syscall(
            libc::SYS_fsconfig,
            fs.as_raw_fd(),
            FSCONFIG_CMD_CREATE,
            std::ptr::null::<libc::c_char>(),
            std::ptr::null::<libc::c_void>(),
            0,
        )
    })?;
    // SAFETY: fsmount of our created context; the result is checked.
    let mnt = check(unsafe {
        libc::syscall(
            libc::SYS_fsmount,
            fs.as_raw_fd(),
            FSMOUNT_CLOEXEC,
            MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
        )
    })?;
    // SAFETY: fsmount returned a fresh fd (it fits an int).
    let mnt = unsafe { OwnedFd::from_raw_fd(mnt as i32) };
    // SAFETY: openat relative to the mount's root with a NUL-terminated path.
    let fd = unsafe {
        libc::openat(
            mnt.as_raw_fd(),
            c".".as_ptr(),
            libc::O_TMPFILE | libc::O_RDWR | libc::O_CLOEXEC,
            0o600,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: openat returned a fresh fd.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Makes page faults of this process and of the processes it starts from now on (the stubs:
/// the flag is inherited across fork and exec) map 4 KiB pages of shared files, never
/// transparent huge pages: a fault on a hole of the memory store allocates one page.
pub fn disable_huge_page_faults() -> io::Result<()> {
    const PR_SET_THP_DISABLE: libc::c_int = 41;
    // SAFETY: prctl with integer arguments.
    if unsafe { libc::prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// The memory file and the Sentry's mapping of it.
///
/// With `--overlay=dir=PATH` a second file, the *store* (an unlinked file in PATH), holds the
/// offsets `[size, size + store_size)`: the Sentry maps it right after the memfd, so one offset
/// space and one mapping cover both, and stubs map it as their fd 1. Only in-memory filesystems'
/// data lives there (see `Memory::region`).
///
/// After both comes the host-file window: host files mapped read-only ([`MemoryFile::map_host`]),
/// whose offsets guest mappings use like any other. The Sentry never writes there. It reads
/// there with `pread` rather than through its mapping, so a host file truncated under it makes
/// a short read, not a SIGBUS in the Sentry (syscalls given pointers into the mapping, such as
/// `writev`, get EFAULT there instead).
pub struct MemoryFile {
    fd: OwnedFd,
    /// A second open file description of the same file, whose file position only
    /// [`MemoryFile::fill_from_host`] moves (sendfile writes at the output's position).
    fill: Option<OwnedFd>,
    store: Option<OwnedFd>,
    store_size: u64,
    store_kind: StoreKind,
    host: Arc<HostFiles>,
    base: *mut u8,
    size: u64,
    /// The sandbox is ending: the file goes with the Sentry, so freed ranges are not given
    /// back to the host one by one (see [`MemoryFile::end`]).
    ending: std::sync::atomic::AtomicBool,
}

// The mapping is shared memory owned by this struct for its whole life; no references into it
// are handed out, so it is as safe from any thread as the guest's own concurrent access.
// SAFETY: every access is a raw-pointer copy of a bounds-checked range.
unsafe impl Send for MemoryFile {}
// SAFETY: as for Send: &self methods only copy through raw pointers into checked ranges.
unsafe impl Sync for MemoryFile {}

/// How many host files the window may hold: a quarter of the fd limit (each is an fd in the
/// Sentry and one in the stubs' shared table, whose limit is the Sentry's).
fn host_file_budget() -> usize {
    let mut r = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we pass.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) } != 0 {
        return 0;
    }
    usize::try_from(r.rlim_cur / 4).unwrap_or(usize::MAX)
}

impl MemoryFile {
    /// Creates a sparse memory file of `size` bytes and maps it.
    pub fn new(size: u64) -> io::Result<MemoryFile> {
        MemoryFile::with_store(size, None)
    }

    /// [`MemoryFile::new`], followed by `store` (a host file, made `store.1` bytes long and
    /// sparse, holding `store.2`) at offset `size`.
    pub fn with_store(
        size: u64,
        store: Option<(OwnedFd, u64, StoreKind)>,
    ) -> io::Result<MemoryFile> {
        let einval = || io::Error::from_raw_os_error(libc::EINVAL);
        let memfd = Self::memfd(size)?;
        let store_size = store.as_ref().map_or(0, |s| s.1);
        let files_end = size.checked_add(store_size).ok_or_else(einval)?;
        let total = files_end.checked_add(HOST_WINDOW).ok_or_else(einval)?;
        let total = usize::try_from(total).map_err(|_| einval())?;
        // One reservation for both files and the window, so that offsets map to addresses by
        // one addition.
        // SAFETY: a fresh inaccessible anonymous mapping at an address the kernel picks.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                total,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let mut file = MemoryFile {
            fd: memfd,
            fill: None,
            store: None,
            store_size,
            store_kind: store.as_ref().map_or(StoreKind::Disk, |s| s.2),
            host: Arc::new(HostFiles::new(files_end, HOST_WINDOW, host_file_budget())),
            base: base.cast::<u8>(),
            size,
            ending: std::sync::atomic::AtomicBool::new(false),
        };
        file.map_at(0, file.fd.as_raw_fd(), size)?;
        if let Some((fd, len, _)) = store {
            let l = i64::try_from(len).map_err(|_| einval())?;
            // SAFETY: ftruncate on the fd we were given.
            if unsafe { libc::ftruncate(fd.as_raw_fd(), l) } != 0 {
                return Err(io::Error::last_os_error());
            }
            file.map_at(size, fd.as_raw_fd(), len)?;
            file.store = Some(fd);
        }
        // Made while the Sentry may still open paths (before its lockdown); without it fills
        // fall back to preadv.
        let path = format!("/proc/self/fd/{}\0", file.fd.as_raw_fd());
        // SAFETY: a NUL-terminated path; the result is checked.
        let fill = unsafe { libc::open(path.as_ptr().cast(), libc::O_RDWR | libc::O_CLOEXEC) };
        // SAFETY: open returned a fresh fd (when not negative).
        file.fill = (fill >= 0).then(|| unsafe { OwnedFd::from_raw_fd(fill) });
        Ok(file)
    }

    /// The host-file window, for the platform.
    pub fn host_files(&self) -> &Arc<HostFiles> {
        &self.host
    }

    /// Whether `off` is in the host-file window.
    pub fn is_host(&self, off: u64) -> bool {
        self.host.contains(off)
    }

    /// Maps the first `len` bytes (page aligned) of host file `fd` (opened read-only, never
    /// changed under the sandbox) into the host-file window, and returns the offset of its first
    /// byte. None where it cannot be: a file on a `noexec` mount (stubs could not map it
    /// executable), a full window, or a failed mapping; the caller copies the file instead.
    pub fn map_host(&self, fd: BorrowedFd<'_>, len: u64) -> Option<u64> {
        let st = nix::sys::statvfs::fstatvfs(fd).ok()?;
        if st.flags().contains(nix::sys::statvfs::FsFlags::ST_NOEXEC) {
            return None;
        }
        let own = fd.try_clone_to_owned().ok()?;
        let raw = own.as_raw_fd();
        let f = self.host.add(own, len)?;
        let mapped = usize::try_from(f.start).ok().and_then(|at| {
            let n = usize::try_from(len).ok()?;
            // The window is our own reservation and this range was just handed out (never
            // mapped before): MAP_FIXED replaces only our PROT_NONE placeholder.
            // SAFETY: [base + at, base + at + n) lies inside the reservation made in with_store.
            let p = unsafe {
                libc::mmap(
                    self.base.add(at).cast(),
                    n,
                    libc::PROT_READ,
                    libc::MAP_SHARED | libc::MAP_FIXED,
                    raw,
                    0,
                )
            };
            (p != libc::MAP_FAILED).then_some(())
        });
        if mapped.is_none() {
            tracing::warn!("mapping a host file: {}", io::Error::last_os_error());
            return None;
        }
        Some(f.start)
    }

    /// `pread` of host-window bytes at `off` into `dst` (zeroes past the file's end; never
    /// past its range of the window).
    fn read_host(&self, off: u64, dst: &mut [u8]) {
        let mut done = 0;
        while done < dst.len() {
            let at = off + done as u64;
            let Some(f) = self.host.find(at) else {
                break;
            };
            let Ok(pos) = i64::try_from(at - f.start) else {
                break;
            };
            let room = usize::try_from(f.start + f.len - at).unwrap_or(usize::MAX);
            let (fd, at) = (f.fd, pos);
            let n = room.min(dst.len() - done);
            let rest = &mut dst[done..done + n];
            // SAFETY: pread into a live Rust buffer of the length given.
            let r = unsafe { libc::pread(fd, rest.as_mut_ptr().cast(), rest.len(), at) };
            match usize::try_from(r) {
                Ok(0) => break,
                Ok(n) => done += n,
                Err(_) if io::Error::last_os_error().kind() == io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        dst[done..].fill(0);
    }

    /// Maps `len` bytes of `fd` at offset `at` of the reservation made by `with_store`.
    fn map_at(&self, at: u64, fd: i32, len: u64) -> io::Result<()> {
        let einval = || io::Error::from_raw_os_error(libc::EINVAL);
        let (at, len) = (
            usize::try_from(at).map_err(|_| einval())?,
            usize::try_from(len).map_err(|_| einval())?,
        );
        // with_store sized the reservation for both files; nothing references this range yet.
        // SAFETY: [base + at, base + at + len) lies in our own reservation; MAP_FIXED replaces it.
        let p = unsafe {
            libc::mmap(
                self.base.add(at).cast(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_NORESERVE | libc::MAP_FIXED,
                fd,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// A sparse memfd of `size` bytes.
    fn memfd(size: u64) -> io::Result<OwnedFd> {
        // SAFETY: valid C string and flags.
        let fd = unsafe { libc::memfd_create(c"runrs-memory".as_ptr(), libc::MFD_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: memfd_create returned a fresh fd.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let len = i64::try_from(size).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
        // SAFETY: ftruncate on our fd.
        if unsafe { libc::ftruncate(fd.as_raw_fd(), len) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(fd)
    }

    /// The store's size in bytes (0 without one).
    pub fn store_size(&self) -> u64 {
        self.store_size
    }

    /// The store (`--overlay=dir`), for the platform to map into stubs, and its first offset.
    pub fn store(&self) -> Option<(BorrowedFd<'_>, u64)> {
        self.store.as_ref().map(|f| (f.as_fd(), self.size))
    }

    /// What the store holds (without a store: [`StoreKind::Disk`], never asked).
    pub fn store_kind(&self) -> StoreKind {
        self.store_kind
    }

    /// Whether `off` is in a memory store.
    fn in_memory_store(&self, off: u64) -> bool {
        self.store.is_some()
            && self.store_kind == StoreKind::Memory
            && off >= self.size
            && off - self.size < self.store_size
    }

    /// The host file holding `off`, and the offset there.
    fn locate(&self, off: u64) -> io::Result<(i32, i64)> {
        if self.is_host(off) {
            let f = self
                .host
                .find(off)
                .ok_or_else(|| io::Error::from_raw_os_error(libc::EFAULT))?;
            let at = i64::try_from(off - f.start)
                .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
            return Ok((f.fd, at));
        }
        let (fd, at) = match &self.store {
            Some(s) if off >= self.size => (s.as_raw_fd(), off - self.size),
            _ => (self.fd.as_raw_fd(), off),
        };
        let at = i64::try_from(at).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
        Ok((fd, at))
    }

    /// Allocates disk blocks for `[off, off + len)` of the store ahead of use (ENOSPC now, not a
    /// SIGBUS when a page of the mapping is first written); nothing to do in the memfd.
    pub fn reserve(&self, off: u64, len: u64) -> io::Result<()> {
        if self.store.is_none() || off < self.size || self.store_kind == StoreKind::Memory {
            return Ok(());
        }
        let (fd, at) = self.locate(off)?;
        let len = i64::try_from(len).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
        // SAFETY: fallocate on our own fd.
        if unsafe { libc::fallocate(fd, 0, at, len) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// The file, for the platform to map into stubs.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// The file's size: the most guest memory there can be at once.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Bytes of the file that hold pages (guest memory and in-memory files in use, with a
    /// memory store's).
    pub fn allocated_bytes(&self) -> u64 {
        let blocks = |fd: BorrowedFd<'_>| {
            crate::host::fstat(fd).map_or(0, |st| st.blocks.cast_unsigned() * 512)
        };
        let store = match &self.store {
            Some(s) if self.store_kind == StoreKind::Memory => blocks(s.as_fd()),
            _ => 0,
        };
        blocks(self.fd.as_fd()) + store
    }

    /// A pointer to `[off, off + len)` in the Sentry's mapping, for syscalls (whose copies
    /// fail with EFAULT where a host file of the window has shrunk, where a load would raise
    /// SIGBUS). Use [`MemoryFile::files_range`] to write and [`MemoryFile::read`] to load.
    fn range(&self, off: u64, len: usize) -> *mut u8 {
        let end = off.checked_add(len as u64);
        assert!(
            end.is_some_and(|end| end <= self.host.base() + self.host.size()),
            "memory file range {off:#x}+{len:#x} out of bounds"
        );
        // SAFETY: checked above that the range lies inside the mapping.
        unsafe { self.base.add(usize::try_from(off).unwrap_or(usize::MAX)) }
    }

    /// [`MemoryFile::range`] of a range of the memfd or the store, which the Sentry may write or
    /// load from: never the host-file window (read-only, and read with `pread`; copy-on-write
    /// breaks sharing before any write).
    fn files_range(&self, off: u64, len: usize) -> *mut u8 {
        let end = off.checked_add(len as u64);
        assert!(
            end.is_some_and(|end| end <= self.size + self.store_size),
            "memory file range {off:#x}+{len:#x} out of bounds or in the host-file window"
        );
        self.range(off, len)
    }

    /// Copies `src` into the file at `off`.
    pub fn write(&self, off: u64, src: &[u8]) {
        let dst = self.files_range(off, src.len());
        // SAFETY: dst is inside our live mapping; src is a distinct Rust buffer.
        unsafe { std::ptr::copy_nonoverlapping(src.as_ptr(), dst, src.len()) };
    }

    /// Copies from the file at `off` into `dst`.
    pub fn read(&self, off: u64, dst: &mut [u8]) {
        if self.is_host(off) {
            return self.read_host(off, dst);
        }
        let src = self.files_range(off, dst.len());
        // SAFETY: src is inside our live mapping; dst is a distinct Rust buffer.
        unsafe { std::ptr::copy_nonoverlapping(src, dst.as_mut_ptr(), dst.len()) };
    }

    /// Allocates and maps the pages of `[off, off + len)` in the Sentry in one call
    /// (MADV_POPULATE_WRITE), before filling a large range: cheaper than a fault per page.
    /// Only a hint.
    pub fn prefault(&self, off: u64, len: usize) {
        const MADV_POPULATE_WRITE: i32 = 23;
        let start = self.files_range(off, len);
        // Populating changes no contents.
        // SAFETY: the range is inside our live mapping (checked by range).
        unsafe { libc::madvise(start.cast(), len, MADV_POPULATE_WRITE) };
    }

    /// Appends `[off, off + len)` of the file to `v` (without zeroing the new bytes first).
    pub fn append_to(&self, off: u64, len: usize, v: &mut Vec<u8>) {
        if self.is_host(off) {
            let old = v.len();
            v.resize(old + len, 0);
            return self.read_host(off, &mut v[old..]);
        }
        let src = self.files_range(off, len);
        v.reserve(len);
        let old = v.len();
        // The destination is v's spare capacity (len bytes after reserve), set before set_len.
        // SAFETY: src is inside our live mapping; the destination has room for len bytes.
        unsafe {
            std::ptr::copy_nonoverlapping(src, v.as_mut_ptr().add(old), len);
            v.set_len(old + len);
        }
    }

    /// Copies `len` bytes within the file from `src` to `dst` with pwrite on the memory file: the
    /// host allocates the destination pages as it writes them (no zeroing, no page faults in the
    /// Sentry), as a tmpfs write does. The ranges must not overlap.
    ///
    /// Into a memory store a short copy goes through the Sentry's mapping (4 KiB pages, as
    /// many as written), and a long one is a `pwrite` fenced by guard pages: the host gives a
    /// write the largest free aligned folio around each page it fills (up to 1 MiB in a chunk,
    /// see [`STORE_SLOT`]), which could take in pages beyond the write; a page present just
    /// before and just after the range keeps every folio inside it. Guards made for the write
    /// are punched out again (holes stay holes for SEEK_HOLE), except the one in the slot's
    /// second half, which nothing else uses.
    pub fn write_within(&self, src: u64, dst: u64, len: usize) -> io::Result<()> {
        let d = self.files_range(dst, len);
        let s = self.range(src, len);
        if self.in_memory_store(dst) {
            if len < LARGE_WRITE && !self.is_host(src) {
                // ptr::copy tolerates overlap; both ranges are in memory the Sentry may load and
                // store (not the host window).
                // SAFETY: both ranges lie inside our live mapping (checked by range).
                unsafe { std::ptr::copy(s, d, len) };
                return Ok(());
            }
            let made = self.fence(dst, len);
            let r = self.pwrite_from(s, dst, len);
            for g in made {
                if let Err(e) = self.deallocate(g, abi::PAGE_SIZE) {
                    tracing::warn!("punching a guard page of the memory store: {e}");
                }
            }
            return r;
        }
        self.pwrite_from(s, dst, len)
    }

    /// Makes the pages just before and just after `[dst, dst + len)` (in a memory store)
    /// present, unless the range starts or ends its slot there; returns the ones it made that
    /// must go again.
    fn fence(&self, dst: u64, len: usize) -> Vec<u64> {
        let page = abi::PAGE_SIZE;
        let rel = dst - self.size;
        let slot = rel - rel % STORE_SLOT;
        let first = rel - rel % page;
        let end = (rel + len as u64).next_multiple_of(page);
        let mut made = Vec::new();
        if first != slot {
            let g = self.size + first - page;
            if !self.resident(g) {
                self.touch(g);
                made.push(g);
            }
        }
        if end == slot + STORE_SLOT / 2 {
            // The slot's guard: kept.
            self.touch(self.size + end);
        } else if end < slot + STORE_SLOT && !self.resident(self.size + end) {
            self.touch(self.size + end);
            made.push(self.size + end);
        }
        made
    }

    /// Whether the page at `off` (memfd or store) holds memory (mincore on the Sentry's
    /// mapping; false if unknown).
    fn resident(&self, off: u64) -> bool {
        let p = self.files_range(off, abi::PAGE_SIZE as usize);
        let mut v = 0u8;
        // SAFETY: one page of our live mapping; mincore writes one byte into v.
        let r = unsafe { libc::mincore(p.cast(), abi::PAGE_SIZE as usize, &mut v) };
        r == 0 && v & 1 != 0
    }

    /// Faults the page at `off` in (a read: allocates a zeroed page on a hole, changes nothing).
    fn touch(&self, off: u64) {
        let p = self.files_range(off, 1);
        // SAFETY: one byte of our live mapping of the memfd or store (sized in full: no SIGBUS).
        unsafe { std::ptr::read_volatile(p) };
    }

    /// `pwrite` of the `len` bytes at `s` (in the Sentry's mapping) to the file at `dst`.
    fn pwrite_from(&self, s: *mut u8, dst: u64, len: usize) -> io::Result<()> {
        let mut done = 0usize;
        while done < len {
            let (fd, off) = self.locate(dst + done as u64)?;
            let p = s.wrapping_add(done);
            // SAFETY: the source lies inside our live mapping (checked by range).
            let r = unsafe { libc::pwrite(fd, p.cast(), len - done, off) };
            match usize::try_from(r) {
                Ok(0) => return Err(io::Error::from_raw_os_error(libc::ENOSPC)),
                Ok(n) => done += n,
                Err(_) => {
                    let e = io::Error::last_os_error();
                    if e.kind() != io::ErrorKind::Interrupted {
                        return Err(e);
                    }
                }
            }
        }
        Ok(())
    }

    /// Copies `len` bytes within the file from `src` to `dst` with pread on the memory file (the
    /// source pages need not be mapped in the Sentry). The ranges must not overlap.
    pub fn read_within(&self, src: u64, dst: u64, len: usize) -> io::Result<()> {
        let d = self.files_range(dst, len);
        let mut done = 0usize;
        while done < len {
            let (fd, off) = self.locate(src + done as u64)?;
            let p = d.wrapping_add(done);
            // SAFETY: the destination lies inside our live mapping (checked by range).
            let r = unsafe { libc::pread(fd, p.cast(), len - done, off) };
            match usize::try_from(r) {
                Ok(0) => return Err(io::Error::from_raw_os_error(libc::EIO)),
                Ok(n) => done += n,
                Err(_) => {
                    let e = io::Error::last_os_error();
                    if e.kind() != io::ErrorKind::Interrupted {
                        return Err(e);
                    }
                }
            }
        }
        Ok(())
    }

    /// Copies `[src, src + len)` to `dst` (not overlapping), only the parts that hold data
    /// (SEEK_DATA/SEEK_HOLE): holes stay holes in the copy. For fork.
    pub fn copy_data(&self, src: u64, dst: u64, len: u64) -> io::Result<()> {
        let end = src + len;
        let mut at = src;
        while at < end {
            let Some(data) = self.seek_data_hole(at, false).filter(|&d| d < end) else {
                break;
            };
            let hole = self.seek_data_hole(data, true).unwrap_or(end).min(end);
            self.write_within(
                data,
                dst + (data - src),
                usize::try_from(hole - data).unwrap_or(0),
            )?;
            at = hole;
        }
        Ok(())
    }

    /// Copies `len` bytes within the file, from `src` to `dst` (the ranges may overlap).
    pub fn copy_within(&self, src: u64, dst: u64, len: usize) {
        if self.is_host(src) {
            if let Err(e) = self.read_within(src, dst, len) {
                tracing::warn!("copying from a host file: {e}");
            }
            return;
        }
        let (s, d) = (self.files_range(src, len), self.files_range(dst, len));
        // ptr::copy handles overlap.
        // SAFETY: both ranges are inside our live mapping (checked by range).
        unsafe { std::ptr::copy(s, d, len) };
    }

    /// Maps the existing pages of `[off, off + len)` in the Sentry in one call
    /// (MADV_POPULATE_READ), before copying out of a large range. Only a hint.
    pub fn prefault_read(&self, off: u64, len: usize) {
        const MADV_POPULATE_READ: i32 = 22;
        let start = self.range(off, len);
        // Populating changes no contents.
        // SAFETY: the range is inside our live mapping (checked by range).
        unsafe { libc::madvise(start.cast(), len, MADV_POPULATE_READ) };
    }

    /// lseek(SEEK_DATA or SEEK_HOLE) on the memory file from `off`: None at the end of data.
    pub fn seek_data_hole(&self, off: u64, hole: bool) -> Option<u64> {
        if self.is_host(off) {
            // A host file of the window is all data.
            let f = self.host.find(off)?;
            return Some(if hole { f.start + f.len } else { off });
        }
        let whence = if hole {
            libc::SEEK_HOLE
        } else {
            libc::SEEK_DATA
        };
        let (fd, at) = self.locate(off).ok()?;
        // SAFETY: lseek on our own fd.
        let r = unsafe { libc::lseek(fd, at, whence) };
        let r = u64::try_from(r).ok()?;
        Some(if fd == self.fd.as_raw_fd() {
            r
        } else {
            r + self.size
        })
    }

    /// Zeroes `[off, off + len)`.
    pub fn zero(&self, off: u64, len: usize) {
        let dst = self.files_range(off, len);
        // SAFETY: dst..dst+len is inside our live mapping.
        unsafe { std::ptr::write_bytes(dst, 0, len) };
    }

    /// Reads from a host fd straight into the file ranges `ranges` (offset, length) with one
    /// `readv`: no bounce buffer.
    pub fn read_from_host(&self, fd: BorrowedFd<'_>, ranges: &[(u64, usize)]) -> io::Result<usize> {
        let iov = self.iovecs(ranges);
        let n = i32::try_from(iov.len()).unwrap_or(i32::MAX);
        // SAFETY: every iovec lies inside our mapping (checked by iovecs).
        let r = unsafe { libc::readv(fd.as_raw_fd(), iov.as_ptr(), n) };
        usize::try_from(r).map_err(|_| io::Error::last_os_error())
    }

    /// Writes the file ranges `ranges` to a host fd with one `writev`.
    pub fn write_to_host(&self, fd: BorrowedFd<'_>, ranges: &[(u64, usize)]) -> io::Result<usize> {
        let iov = self.iovecs(ranges);
        let n = i32::try_from(iov.len()).unwrap_or(i32::MAX);
        // SAFETY: every iovec lies inside our mapping (checked by iovecs).
        let r = unsafe { libc::writev(fd.as_raw_fd(), iov.as_ptr(), n) };
        usize::try_from(r).map_err(|_| io::Error::last_os_error())
    }

    /// Reads from a host fd at offset `off` into the file ranges (one `preadv`).
    pub fn read_from_host_at(
        &self,
        fd: BorrowedFd<'_>,
        ranges: &[(u64, usize)],
        off: u64,
    ) -> io::Result<usize> {
        let iov = self.iovecs(ranges);
        let n = i32::try_from(iov.len()).unwrap_or(i32::MAX);
        let off = i64::try_from(off).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
        // SAFETY: every iovec lies inside our mapping (checked by iovecs).
        let r = unsafe { libc::preadv(fd.as_raw_fd(), iov.as_ptr(), n, off) };
        usize::try_from(r).map_err(|_| io::Error::last_os_error())
    }

    /// Copies up to `len` bytes of a host file from `pos` into the file at `dst`, stopping early
    /// only at the host file's end; returns the bytes copied. With sendfile the host kernel moves
    /// the data from its page cache into the file's pages, which it allocates as it writes them:
    /// nothing zeroed first, no page faults in the Sentry (about half the cost of preadv into a
    /// prefaulted range here).
    pub fn fill_from_host(
        &self,
        src: BorrowedFd<'_>,
        dst: u64,
        len: usize,
        pos: u64,
    ) -> io::Result<usize> {
        let _ = self.files_range(dst, len);
        if self.in_memory_store(dst) {
            // Through the mapping: one 4 KiB page per page filled (see write_within).
            return self.read_from_host_at(src, &[(dst, len)], pos);
        }
        // Into the store: its own description (stubs only map it, so its position is free).
        let out = match (&self.store, &self.fill) {
            (Some(s), _) if dst >= self.size => s,
            (_, Some(f)) => f,
            _ => return self.read_from_host_at(src, &[(dst, len)], pos),
        };
        let mut done = 0usize;
        while done < len {
            let Ok(mut in_off) = i64::try_from(pos + done as u64) else {
                return Err(io::Error::from_raw_os_error(libc::EINVAL));
            };
            let (_, out_off) = self.locate(dst + done as u64)?;
            // SAFETY: lseek on our own fd.
            if unsafe { libc::lseek(out.as_raw_fd(), out_off, libc::SEEK_SET) } < 0 {
                return Err(io::Error::last_os_error());
            }
            // [dst, dst + len) lies in the file: checked by range above.
            // SAFETY: sendfile between two fds; it writes only inside [dst, dst + len).
            let r = unsafe {
                libc::sendfile(out.as_raw_fd(), src.as_raw_fd(), &mut in_off, len - done)
            };
            match usize::try_from(r) {
                Ok(0) => break,
                Ok(n) => done += n,
                Err(_) => {
                    let e = io::Error::last_os_error();
                    match e.raw_os_error() {
                        Some(libc::EINTR) => {}
                        // A file sendfile cannot read (no page cache): read it instead.
                        Some(libc::EINVAL | libc::ENOSYS) if done == 0 => {
                            return self.read_from_host_at(src, &[(dst, len)], pos);
                        }
                        _ => return Err(e),
                    }
                }
            }
        }
        Ok(done)
    }

    /// Writes the file ranges to a host fd at offset `off` (one `pwritev`).
    pub fn write_to_host_at(
        &self,
        fd: BorrowedFd<'_>,
        ranges: &[(u64, usize)],
        off: u64,
    ) -> io::Result<usize> {
        let iov = self.iovecs(ranges);
        let n = i32::try_from(iov.len()).unwrap_or(i32::MAX);
        let off = i64::try_from(off).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
        // SAFETY: every iovec lies inside our mapping (checked by iovecs).
        let r = unsafe { libc::pwritev(fd.as_raw_fd(), iov.as_ptr(), n, off) };
        usize::try_from(r).map_err(|_| io::Error::last_os_error())
    }

    fn iovecs(&self, ranges: &[(u64, usize)]) -> Vec<libc::iovec> {
        // Host readv/writev take at most IOV_MAX (1024) entries; callers pass fewer.
        ranges
            .iter()
            .map(|&(off, len)| libc::iovec {
                iov_base: self.range(off, len).cast(),
                iov_len: len,
            })
            .collect()
    }

    /// Gives `[off, off + len)` back to the host: it reads as zeroes afterwards.
    ///
    /// In a disk store, the range is zeroed instead and keeps its disk blocks: it is still in use
    /// (a file's page), and a later write through a mapping must not need a block the disk may
    /// no longer have. [`MemoryFile::deallocate`] gives ranges no longer used back.
    pub fn punch_hole(&self, off: u64, len: u64) -> io::Result<()> {
        if self.is_host(off) {
            return Ok(());
        }
        if self.store.is_some() && off >= self.size && self.store_kind == StoreKind::Disk {
            let (fd, at) = self.locate(off)?;
            let l = i64::try_from(len).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
            // SAFETY: fallocate on our own fd.
            let r = unsafe {
                libc::fallocate(
                    fd,
                    libc::FALLOC_FL_ZERO_RANGE | libc::FALLOC_FL_KEEP_SIZE,
                    at,
                    l,
                )
            };
            if r != 0 {
                // A filesystem without ZERO_RANGE: the blocks are there, write zeroes.
                self.zero(off, usize::try_from(len).unwrap_or(0));
            }
            return Ok(());
        }
        self.deallocate(off, len)
    }

    /// Gives `[off, off + len)` (no longer used) back to the host: memory, or the store's disk
    /// blocks. It reads as zeroes afterwards.
    pub fn deallocate(&self, off: u64, len: u64) -> io::Result<()> {
        if self.ending.load(std::sync::atomic::Ordering::Relaxed) || self.is_host(off) {
            return Ok(());
        }
        let (fd, at) = self.locate(off)?;
        let len = i64::try_from(len).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
        // SAFETY: fallocate on our own fd.
        let r = unsafe {
            libc::fallocate(
                fd,
                libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_KEEP_SIZE,
                at,
                len,
            )
        };
        if r != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}

impl MemoryFile {
    /// The sandbox is ending: what is freed from now on stays allocated until the file closes
    /// with the Sentry (punching each range out at teardown cost ~3 ms of a `python3 -c pass`).
    pub fn end(&self) {
        self.ending
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

impl Drop for MemoryFile {
    fn drop(&mut self) {
        let total = self.host.base() + self.host.size();
        // Both files and the window are mapped in it; nothing uses it after drop.
        // SAFETY: base and total are the reservation made in with_store.
        unsafe { libc::munmap(self.base.cast(), usize::try_from(total).unwrap_or(0)) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_read_punch() {
        let mf = MemoryFile::new(1 << 30).unwrap();
        mf.write(8192, b"hello");
        let mut buf = [0u8; 5];
        mf.read(8192, &mut buf);
        assert_eq!(&buf, b"hello");
        mf.punch_hole(8192, 4096).unwrap();
        mf.read(8192, &mut buf);
        assert_eq!(buf, [0; 5]);
    }

    /// A host file in the window reads as the file (with pread: a shrunk file reads zeroes, no
    /// SIGBUS), copies out of it, is all data, and is never punched or freed.
    #[test]
    fn host_files_read_through_the_window() {
        let path = std::env::temp_dir().join(format!("runrs-window-{}", std::process::id()));
        let mut data = vec![b'x'; 5000];
        data[4096..4100].copy_from_slice(b"page");
        std::fs::write(&path, &data).unwrap();
        let file = std::fs::File::open(&path).unwrap();
        let mf = MemoryFile::new(1 << 20).unwrap();
        let at = mf
            .map_host(file.as_fd(), 8192)
            .expect("mapped in the window");
        assert!(mf.is_host(at) && mf.is_host(at + 8191) && !mf.is_host(4096));
        let mut buf = [0u8; 4];
        mf.read(at + 4096, &mut buf);
        assert_eq!(&buf, b"page");
        // Past the file's end, inside its last page: zeroes.
        mf.read(at + 6000, &mut buf);
        assert_eq!(buf, [0; 4]);
        assert_eq!(mf.seek_data_hole(at + 100, false), Some(at + 100));
        assert_eq!(mf.seek_data_hole(at + 100, true), Some(at + 8192));
        mf.copy_data(at, 0, 8192).unwrap();
        mf.read(4096, &mut buf);
        assert_eq!(&buf, b"page");
        mf.punch_hole(at, 4096).unwrap();
        mf.deallocate(at, 4096).unwrap();
        mf.read(at + 4096, &mut buf);
        assert_eq!(&buf, b"page");
        // Shrunk on the host: reads give zeroes instead of a SIGBUS.
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(0)
            .unwrap();
        let mut v = Vec::new();
        mf.append_to(at + 4096, 4, &mut v);
        assert_eq!(v, [0; 4]);
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn a_store_extends_the_offsets() {
        use std::os::unix::fs::OpenOptionsExt;
        let store = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_TMPFILE)
            .open(std::env::temp_dir())
            .unwrap();
        let mf = MemoryFile::with_store(
            1 << 20,
            Some((OwnedFd::from(store), 1 << 20, StoreKind::Disk)),
        )
        .unwrap();
        let (fd, base) = mf.store().unwrap();
        assert_eq!(base, 1 << 20);
        let at = base + 8192;
        mf.reserve(at, 4096).unwrap();
        mf.write(at, b"stored");
        // The bytes are the store's, at the store's own offset.
        let mut buf = [0u8; 6];
        nix::sys::uio::pread(fd, &mut buf, 8192).unwrap();
        assert_eq!(&buf, b"stored");
        assert_eq!(mf.seek_data_hole(base, false), Some(at));
        // Copies within and across the two files.
        mf.write_within(at, 4096, 6).unwrap();
        mf.read(4096, &mut buf);
        assert_eq!(&buf, b"stored");
        mf.write_within(4096, at + 4096, 6).unwrap();
        mf.read(at + 4096, &mut buf);
        assert_eq!(&buf, b"stored");
        // A punched range in use reads as zeroes; a deallocated one too.
        mf.punch_hole(at, 4096).unwrap();
        mf.read(at, &mut buf);
        assert_eq!(buf, [0; 6]);
        mf.deallocate(at + 4096, 4096).unwrap();
        mf.read(at + 4096, &mut buf);
        assert_eq!(buf, [0; 6]);
    }

    #[test]
    #[should_panic(expected = "out of bounds")]
    fn out_of_bounds_panics() {
        let mf = MemoryFile::new(1 << 20).unwrap();
        mf.write((1 << 20) - 2, b"abc");
    }
}
