//! The virtual filesystem: inodes, the mount tree and path resolution, with Linux's semantics.
//!
//! The tree is the dentry cache. Every directory inode keeps the children looked up so far
//! (including negative entries), so a cached path is resolved without leaving the Sentry. A
//! directory of the root overlay may have a *lower* node in the Gofer: names not yet cached are
//! walked there (several components in one request) and cached; a name removed in the sandbox
//! becomes a whiteout. Files created or changed in the sandbox live in the Sentry's memory (the
//! overlay's upper layer); a lower file is copied up the first time it is opened for writing or
//! has its attributes changed. tmpfs is the same tree without lower nodes.
//!
//! Mounts: a directory inode can have a filesystem root mounted on it (`mounted`), and that root
//! remembers the directory it covers, for `..`.
//!
//! Known limits (see docs/syscalls.md): the lower layer is read once per name and then cached, so
//! changes made on the host while the sandbox runs are not seen; hard links between lower files
//! are separate inodes in the sandbox until written; an open file description keeps the path it
//! was opened by, so /proc/PID/fd shows the old path after a rename.

pub mod dev;
pub mod file;
pub mod locks;
pub mod notify;
pub mod pages;
pub mod pipe;
pub mod proc;
pub mod tty;
pub mod volume;
pub mod walk;

use crate::errno;
use crate::errors::Errno;
use gofer::proto::{self, Attr, Fid, Reply, Request};
use gofer::{CallError, Client};
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::os::fd::OwnedFd;
use std::rc::{Rc, Weak};
use std::sync::Arc;

pub use file::OpenFile;

pub const S_IFMT: u32 = 0o170000;
pub const S_IFDIR: u32 = 0o040000;
pub const S_IFREG: u32 = 0o100000;
pub const S_IFLNK: u32 = 0o120000;
pub const S_IFCHR: u32 = 0o020000;
pub const S_IFIFO: u32 = 0o010000;
pub const S_IFSOCK: u32 = 0o140000;
pub const S_IFBLK: u32 = 0o060000;

/// tmpfs reports a directory's size as this many bytes per entry (Linux's BOGO_DIRENT_SIZE).
const BOGO_DIRENT_SIZE: u64 = 20;

/// Converts a Gofer failure into the errno the guest sees. A broken channel is the Sentry's
/// failure, not the guest's: it is logged and reported as EIO.
pub fn gofer_err(e: CallError) -> Errno {
    match e {
        CallError::Errno(n) => Errno::new(n),
        CallError::Channel(why) => {
            tracing::error!("gofer: {why}");
            errno!(EIO, "gofer channel failed: {why}")
        }
    }
}

/// A timestamp (seconds, nanoseconds).
pub type Time = (i64, u32);

pub fn now() -> Time {
    let ts = crate::host::clock_gettime(libc::CLOCK_REALTIME).unwrap_or_default();
    (ts.tv_sec, u32::try_from(ts.tv_nsec).unwrap_or(0))
}

/// What kind of filesystem an inode belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FsKind {
    /// The root: a Gofer tree below, memory above.
    Overlay,
    Tmpfs,
    Proc,
    Sys,
    Dev,
    Devpts,
    /// A host directory bound with `--volume`: reads and writes go to the host through the Gofer.
    Volume,
}

/// A mounted filesystem.
#[derive(Debug)]
pub struct Fs {
    pub kind: FsKind,
    /// st_dev of its inodes.
    pub dev: u64,
    /// Name as /proc/mounts shows it (`overlay`, `tmpfs`, `proc` ...).
    pub fstype: &'static str,
    pub source: String,
    /// Mounted read-only: changes get EROFS.
    pub readonly: bool,
    /// Size limit in bytes (tmpfs, the overlay's memory layer); None is unlimited.
    pub limit: Option<u64>,
    /// Bytes of file data held in memory.
    pub used: Cell<u64>,
    next_ino: Cell<u64>,
    /// statfs f_type.
    pub magic: i64,
    /// The memory file: guest memory, and the sandbox's page cache of lower files.
    pub memory: Arc<crate::mm::Memory>,
    /// Where the contents of files created or copied up here live: the memory file, or with
    /// `--overlay=dir` (the root and /tmp) the store, a host file (see `mm::Memory::store`).
    pub data: Arc<crate::mm::Memory>,
}

impl Fs {
    pub fn new(
        memory: &Arc<crate::mm::Memory>,
        kind: FsKind,
        dev: u64,
        fstype: &'static str,
        magic: i64,
        readonly: bool,
        limit: Option<u64>,
    ) -> Rc<Fs> {
        Fs::new_named(
            memory,
            kind,
            dev,
            fstype,
            magic,
            readonly,
            limit,
            fstype.to_string(),
        )
    }

    /// [`Fs::new`] with a source name for /proc/mounts.
    #[allow(clippy::too_many_arguments)]
    pub fn new_named(
        memory: &Arc<crate::mm::Memory>,
        kind: FsKind,
        dev: u64,
        fstype: &'static str,
        magic: i64,
        readonly: bool,
        limit: Option<u64>,
        source: String,
    ) -> Rc<Fs> {
        Rc::new(Fs::make(
            memory, kind, dev, fstype, magic, readonly, limit, source,
        ))
    }

    #[allow(clippy::too_many_arguments)]
    fn make(
        memory: &Arc<crate::mm::Memory>,
        kind: FsKind,
        dev: u64,
        fstype: &'static str,
        magic: i64,
        readonly: bool,
        limit: Option<u64>,
        source: String,
    ) -> Fs {
        Fs {
            kind,
            dev,
            fstype,
            source,
            readonly,
            limit,
            used: Cell::new(0),
            // Inode numbers of memory-only files start high, clear of the host's.
            next_ino: Cell::new(if kind == FsKind::Overlay { 1 << 40 } else { 1 }),
            magic,
            memory: memory.clone(),
            data: memory.clone(),
        }
    }

    /// [`Fs::new`] whose files' contents live in `data` (the `--overlay=dir` store).
    #[allow(clippy::too_many_arguments)]
    pub fn new_in(
        memory: &Arc<crate::mm::Memory>,
        data: &Arc<crate::mm::Memory>,
        kind: FsKind,
        dev: u64,
        fstype: &'static str,
        magic: i64,
        readonly: bool,
        limit: Option<u64>,
    ) -> Rc<Fs> {
        let source = fstype.to_string();
        let mut fs = Fs::make(memory, kind, dev, fstype, magic, readonly, limit, source);
        fs.data = data.clone();
        Rc::new(fs)
    }

    pub fn alloc_ino(&self) -> u64 {
        let n = self.next_ino.get();
        self.next_ino.set(n + 1);
        n
    }

    /// Accounts `grow` more bytes of file data (ENOSPC past the limit).
    pub fn charge(&self, grow: u64) -> Result<(), Errno> {
        let used = self.used.get().saturating_add(grow);
        if self.limit.is_some_and(|l| used > l) {
            return Err(errno!(ENOSPC, "{} size limit reached", self.fstype));
        }
        // (memfd_create's files are memory, not disk: their filesystem has no limit.)
        if self.limit.is_some() && !self.memory.charge_disk(grow) {
            return Err(errno!(ENOSPC, "the sandbox's --disk limit reached"));
        }
        self.used.set(used);
        Ok(())
    }

    pub fn uncharge(&self, shrink: u64) {
        let before = self.used.get();
        self.used.set(before.saturating_sub(shrink));
        if self.limit.is_some() {
            self.memory.uncharge_disk(before - self.used.get());
        }
    }
}

/// Attributes of an inode.
#[derive(Clone, Copy, Debug, Default)]
pub struct Meta {
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub nlink: u64,
    pub rdev: u64,
    /// Size of lower files, symlinks and lower directories (memory files use their data length).
    pub size: u64,
    pub blocks: u64,
    pub atime: Time,
    pub mtime: Time,
    pub ctime: Time,
}

impl Meta {
    pub fn new(mode: u32, uid: u32, gid: u32) -> Meta {
        let t = now();
        Meta {
            mode,
            uid,
            gid,
            nlink: 1,
            atime: t,
            mtime: t,
            ctime: t,
            ..Meta::default()
        }
    }

    pub fn from_attr(a: &Attr) -> Meta {
        Meta {
            mode: a.mode,
            uid: a.uid,
            gid: a.gid,
            nlink: a.nlink,
            rdev: a.rdev,
            size: a.size,
            blocks: a.blocks,
            atime: a.atime,
            mtime: a.mtime,
            ctime: a.ctime,
        }
    }
}

/// A node in the Gofer, forgotten there when the inode goes.
#[derive(Debug)]
pub struct Lower {
    pub fid: Fid,
    pub gofer: Rc<Client>,
}

impl Drop for Lower {
    fn drop(&mut self) {
        self.gofer.clunk(self.fid);
    }
}

/// A listed directory entry: name, inode number, DT_ type.
pub type DirEntry = (Vec<u8>, u64, u8);

/// A lower directory's names: inode number and DT_ type by name.
pub type LowerNames = BTreeMap<Vec<u8>, (u64, u8)>;

/// A directory entry in the cache.
#[derive(Clone, Debug)]
pub enum Entry {
    Node(Rc<Inode>),
    /// Known not to exist below (a cached negative lookup).
    Negative,
    /// Removed in the sandbox: hides the lower name.
    Whiteout,
}

/// Directory contents.
#[derive(Debug, Default)]
pub struct Dir {
    pub entries: RefCell<BTreeMap<Vec<u8>, Entry>>,
    /// The lower directory's names (inode number, DT_ type), read on the first readdir.
    pub lower_names: RefCell<Option<LowerNames>>,
    /// A procfs directory whose entries are made on demand.
    pub synth: Option<proc::DirKind>,
}

/// Regular file contents.
#[derive(Debug)]
pub enum Data {
    /// Still the lower file's (read through a donated host fd).
    Lower,
    /// In the memory file.
    Memory(pages::Pages),
}

/// A character device of devfs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Device {
    Null,
    Zero,
    Full,
    Random,
    URandom,
    Tty,
    /// /dev/pts/ptmx: opening it makes a new terminal.
    Ptmx,
    /// /dev/pts/N.
    Pty(u32),
}

/// What an inode is.
#[derive(Debug)]
pub enum Kind {
    Dir(Dir),
    Regular(RefCell<Data>),
    /// The target, once read (lower symlinks are read lazily).
    Symlink(RefCell<Option<Vec<u8>>>),
    Device(Device),
    /// A FIFO or socket node (opening them comes with the pipes and sockets issue).
    Special,
    /// A procfs file or magic link, made when opened.
    Proc(proc::FileKind),
}

/// A file, directory or other node.
#[derive(Debug)]
pub struct Inode {
    pub ino: u64,
    pub fs: Rc<Fs>,
    pub meta: RefCell<Meta>,
    pub kind: Kind,
    pub lower: Option<Lower>,
    /// For a directory: its parent and its name there (the root is its own parent).
    pub parent: RefCell<Weak<Inode>>,
    pub name: RefCell<Vec<u8>>,
    /// A filesystem mounted here.
    pub mounted: RefCell<Option<Rc<Inode>>>,
    /// For a filesystem root: the directory it is mounted on.
    pub covers: RefCell<Weak<Inode>>,
    /// Extended attributes set in the sandbox (None: still the lower file's, or none).
    pub xattrs: RefCell<Option<BTreeMap<Vec<u8>, Vec<u8>>>>,
    /// The lower file opened read-only, kept for later opens (no Gofer request per open).
    host_ro: RefCell<Option<Rc<CachedFd>>>,
    /// The lower file's contents, read once for its private mappings ([`Inode::file_pages`]).
    file_pages: RefCell<Option<Rc<crate::mm::FilePages>>>,
    /// flock, OFD and POSIX record locks.
    pub locks: RefCell<locks::Locks>,
    /// inotify watches on it.
    pub watches: RefCell<Vec<notify::Watch>>,
}

thread_local! {
    /// The inodes holding [`Inode::file_pages`], for [`drop_file_pages`].
    static CACHED_PAGES: RefCell<Vec<Weak<Inode>>> = const { RefCell::new(Vec::new()) };
}

/// Lets every inode's cached file pages go, as Linux reclaims its page cache before the OOM
/// killer runs: pages that mappings still use stay theirs, the rest go back to the host. Returns
/// whether there were any.
pub fn drop_file_pages() -> bool {
    let inodes = CACHED_PAGES.with(|c| std::mem::take(&mut *c.borrow_mut()));
    let mut any = false;
    for i in inodes.iter().filter_map(Weak::upgrade) {
        any |= i.file_pages.borrow_mut().take().is_some();
    }
    any
}

/// How many lower fds inodes may keep open (the Sentry's RLIMIT_NOFILE is shared with guest
/// files and the platform).
const MAX_CACHED_FDS: usize = 8192;
static CACHED_FDS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// A donated host fd kept by an inode, counted against [`MAX_CACHED_FDS`].
#[derive(Debug)]
pub struct CachedFd {
    fd: OwnedFd,
    counted: bool,
}

impl CachedFd {
    pub fn new(fd: OwnedFd) -> CachedFd {
        CachedFd { fd, counted: false }
    }
}

impl std::os::fd::AsFd for CachedFd {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl Drop for CachedFd {
    fn drop(&mut self) {
        if self.counted {
            CACHED_FDS.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
        }
    }
}

thread_local! {
    /// A path is being resolved for an `open` for reading (see [`for_reading`]).
    static OPEN_FOR_READING: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f`, a path resolution for an `open` (or exec) for reading: a lower file's last name
/// walked from the Gofer comes with an fd opened for reading, sparing the `Open` round trip
/// that would follow.
pub fn for_reading<R>(f: impl FnOnce() -> R) -> R {
    let was = OPEN_FOR_READING.with(|c| c.replace(true));
    let r = f();
    OPEN_FOR_READING.with(|c| c.set(was));
    r
}

impl Inode {
    pub fn new(fs: &Rc<Fs>, ino: u64, meta: Meta, kind: Kind, lower: Option<Lower>) -> Rc<Inode> {
        Rc::new(Inode {
            ino,
            fs: fs.clone(),
            meta: RefCell::new(meta),
            kind,
            lower,
            parent: RefCell::new(Weak::new()),
            name: RefCell::new(Vec::new()),
            mounted: RefCell::new(None),
            covers: RefCell::new(Weak::new()),
            xattrs: RefCell::new(None),
            host_ro: RefCell::new(None),
            file_pages: RefCell::new(None),
            locks: RefCell::new(locks::Locks::default()),
            watches: RefCell::new(Vec::new()),
        })
    }

    /// A new memory-only node of `fs`.
    pub fn new_memory(fs: &Rc<Fs>, meta: Meta, kind: Kind) -> Rc<Inode> {
        Inode::new(fs, fs.alloc_ino(), meta, kind, None)
    }

    /// A new directory of `fs` in `parent` (or its own root when None).
    pub fn new_dir(fs: &Rc<Fs>, meta: Meta, parent: Option<(&Rc<Inode>, &[u8])>) -> Rc<Inode> {
        let mut meta = meta;
        meta.nlink = 2;
        let d = Inode::new_memory(fs, meta, Kind::Dir(Dir::default()));
        d.set_parent(parent);
        d
    }

    /// Records where a file now lives (for the paths /proc/PID/fd shows after a rename).
    pub fn set_name(self: &Rc<Self>, dir: &Rc<Inode>, name: &[u8]) {
        self.set_parent(Some((dir, name)));
    }

    fn set_parent(self: &Rc<Self>, parent: Option<(&Rc<Inode>, &[u8])>) {
        match parent {
            Some((p, name)) => {
                *self.parent.borrow_mut() = Rc::downgrade(p);
                *self.name.borrow_mut() = name.to_vec();
            }
            None => *self.parent.borrow_mut() = Rc::downgrade(self),
        }
    }

    pub fn mode(&self) -> u32 {
        self.meta.borrow().mode
    }

    pub fn file_type(&self) -> u32 {
        self.mode() & S_IFMT
    }

    pub fn is_dir(&self) -> bool {
        self.file_type() == S_IFDIR
    }

    pub fn is_symlink(&self) -> bool {
        self.file_type() == S_IFLNK
    }

    pub fn dir(&self) -> Option<&Dir> {
        match &self.kind {
            Kind::Dir(d) => Some(d),
            _ => None,
        }
    }

    pub fn gofer(&self) -> Option<&Rc<Client>> {
        self.lower.as_ref().map(|l| &l.gofer)
    }

    /// The parent directory (itself for a root).
    pub fn parent(self: &Rc<Self>) -> Rc<Inode> {
        self.parent
            .borrow()
            .upgrade()
            .unwrap_or_else(|| self.clone())
    }

    /// Whether this is the root of a filesystem.
    pub fn is_fs_root(self: &Rc<Self>) -> bool {
        Rc::ptr_eq(&self.parent(), self)
    }

    /// st_size.
    pub fn size(&self) -> u64 {
        match &self.kind {
            Kind::Regular(d) => match &*d.borrow() {
                Data::Memory(p) => p.len(),
                Data::Lower => self.meta.borrow().size,
            },
            Kind::Symlink(t) => t
                .borrow()
                .as_ref()
                .map_or(self.meta.borrow().size, |t| t.len() as u64),
            Kind::Dir(d) if self.lower.is_none() => {
                (d.entries
                    .borrow()
                    .values()
                    .filter(|e| matches!(e, Entry::Node(_)))
                    .count() as u64
                    + 2)
                    * BOGO_DIRENT_SIZE
            }
            _ => self.meta.borrow().size,
        }
    }

    /// The stat structure for this inode.
    pub fn stat(&self) -> abi::Stat {
        let m = *self.meta.borrow();
        let size = self.size();
        let blocks = match &self.kind {
            Kind::Regular(d) if matches!(&*d.borrow(), Data::Memory(_)) => match &*d.borrow() {
                Data::Memory(p) => p.charged() / 512,
                Data::Lower => 0,
            },
            _ if self.lower.is_some() => m.blocks,
            _ => 0,
        };
        let ts = |t: Time| abi::Timespec {
            tv_sec: t.0,
            tv_nsec: i64::from(t.1),
        };
        abi::Stat {
            dev: self.fs.dev,
            ino: self.ino,
            nlink: m.nlink,
            mode: m.mode,
            uid: m.uid,
            gid: m.gid,
            rdev: m.rdev,
            size: i64::try_from(size).unwrap_or(i64::MAX),
            blksize: 4096,
            blocks: i64::try_from(blocks).unwrap_or(i64::MAX),
            atime: ts(m.atime),
            mtime: ts(m.mtime),
            ctime: ts(m.ctime),
            ..abi::Stat::default()
        }
    }

    /// Marks a change of contents (mtime and ctime now).
    pub fn touch_modified(&self) {
        let t = now();
        let mut m = self.meta.borrow_mut();
        m.mtime = t;
        m.ctime = t;
    }

    pub fn touch_changed(&self) {
        self.meta.borrow_mut().ctime = now();
    }

    /// Makes a lower node from a Gofer walk result, as a child of `parent` named `name`.
    pub fn from_lower(
        parent: &Rc<Inode>,
        name: &[u8],
        fid: Fid,
        attr: &Attr,
        gofer: &Rc<Client>,
    ) -> Rc<Inode> {
        let fs = &parent.fs;
        let kind = match attr.mode & S_IFMT {
            S_IFDIR => Kind::Dir(Dir::default()),
            S_IFREG => Kind::Regular(RefCell::new(Data::Lower)),
            S_IFLNK => Kind::Symlink(RefCell::new(None)),
            _ => Kind::Special,
        };
        let lower = Lower {
            fid,
            gofer: gofer.clone(),
        };
        let node = Inode::new(fs, attr.ino, Meta::from_attr(attr), kind, Some(lower));
        node.set_parent(Some((parent, name)));
        node
    }

    // ---- Directory operations ------------------------------------------------------------------

    /// Looks up `name` (a plain component) in this directory, asking the Gofer if it is not
    /// cached. `rest` are the components that will follow, walked in the same request.
    pub fn lookup_child(
        self: &Rc<Self>,
        t: &crate::kernel::Task,
        name: &[u8],
        rest: &[&[u8]],
    ) -> Result<Option<Rc<Inode>>, Errno> {
        let dir = self.dir().ok_or_else(|| errno!(ENOTDIR))?;
        if let Some(kind) = &dir.synth {
            return Ok(proc::lookup(t, self, kind, name));
        }
        self.lookup_stored(name, rest)
    }

    /// [`Inode::lookup_child`] during setup, before there is a task (no procfs).
    pub fn lookup_child_setup(self: &Rc<Self>, name: &[u8]) -> Option<Rc<Inode>> {
        self.lookup_stored(name, &[]).ok().flatten()
    }

    /// Looks up a name among the cached entries and the lower directory.
    fn lookup_stored(
        self: &Rc<Self>,
        name: &[u8],
        rest: &[&[u8]],
    ) -> Result<Option<Rc<Inode>>, Errno> {
        let dir = self.dir().ok_or_else(|| errno!(ENOTDIR))?;
        let volume = self.fs.kind == FsKind::Volume;
        // A volume is shared with the host, which may change it at any time: every lookup asks
        // the Gofer again (a cached name could now be another file, or gone).
        if !volume {
            if let Some(e) = dir.entries.borrow().get(name) {
                return Ok(match e {
                    Entry::Node(n) => Some(n.clone()),
                    Entry::Negative | Entry::Whiteout => None,
                });
            }
        }
        let Some(lower) = &self.lower else {
            return Ok(None);
        };
        if let Some(names) = dir.lower_names.borrow().as_ref().filter(|_| !volume) {
            if !names.contains_key(name) {
                dir.entries
                    .borrow_mut()
                    .insert(name.to_vec(), Entry::Negative);
                return Ok(None);
            }
        }
        // Walk this name and the plain names after it in one request.
        let mut names = vec![name.to_vec()];
        names.extend(
            rest.iter()
                .take_while(|n| proto::valid_name(n))
                .take(16)
                .map(|n| n.to_vec()),
        );
        // Resolving an open for reading whose last name this walk reaches: the Gofer opens it
        // along (no separate Open). Not on a volume, whose fds are not kept.
        let open_last =
            !volume && names.len() == rest.len() + 1 && OPEN_FOR_READING.with(Cell::get);
        let (reply, mut opened) = lower
            .gofer
            .call(&Request::Walk {
                dir: lower.fid,
                names: names.clone(),
                open_last,
            })
            .map_err(gofer_err)?;
        let Reply::Walked {
            nodes,
            missing,
            link,
        } = reply
        else {
            return Err(errno!(EIO, "unexpected gofer reply to walk"));
        };
        let mut cur = self.clone();
        let mut first = None;
        for (i, (fid, attr)) in nodes.iter().enumerate() {
            let node = Inode::from_lower(&cur, &names[i], *fid, attr, &lower.gofer);
            let cur_dir = cur.dir().ok_or_else(|| errno!(EIO))?;
            // A later name may already be cached (e.g. created in the sandbox): keep that one,
            // and forget the fid just walked.
            let existing = if volume {
                None
            } else {
                cur_dir.entries.borrow().get(&names[i]).cloned()
            };
            let node = match existing {
                Some(Entry::Node(n)) => n,
                Some(_) => break,
                None => {
                    // A symlink's target came with the walk (the last node only).
                    if let (true, Some(l), Kind::Symlink(t)) =
                        (i + 1 == nodes.len(), &link, &node.kind)
                    {
                        t.borrow_mut().get_or_insert_with(|| l.clone());
                    }
                    // So did the last name's fd, opened for reading.
                    if i + 1 == names.len() {
                        if let Some(fd) = opened.take() {
                            node.keep_ro_fd(fd);
                        }
                    }
                    cur_dir
                        .entries
                        .borrow_mut()
                        .insert(names[i].clone(), Entry::Node(node.clone()));
                    node
                }
            };
            if i == 0 {
                first = Some(node.clone());
            }
            if !node.is_dir()
                || node.lower.is_none()
                || node.dir().is_some_and(|d| d.synth.is_some())
            {
                break;
            }
            cur = node;
        }
        if missing && nodes.len() < names.len() {
            if let Some(d) = cur.dir() {
                let i = nodes.len();
                if (i == 0 || cur.lower.is_some()) && !d.entries.borrow().contains_key(&names[i]) {
                    d.entries
                        .borrow_mut()
                        .insert(names[i].clone(), Entry::Negative);
                }
            }
        }
        Ok(first)
    }

    /// Adds `node` as `name` (which must not exist).
    pub fn link_child(self: &Rc<Self>, name: &[u8], node: Rc<Inode>) {
        if let Some(d) = self.dir() {
            if node.is_dir() {
                self.meta.borrow_mut().nlink += 1;
            }
            // A file's first name is where it lives (a hard link does not move it).
            if node.is_dir() || node.parent.borrow().upgrade().is_none() {
                node.set_parent(Some((self, name)));
            }
            d.entries
                .borrow_mut()
                .insert(name.to_vec(), Entry::Node(node));
            self.touch_modified();
        }
    }

    /// Removes `name`; a whiteout stays if the lower directory may have it.
    pub fn unlink_child(self: &Rc<Self>, name: &[u8]) -> Option<Rc<Inode>> {
        let d = self.dir()?;
        let gone = if self.lower.is_some() && self.fs.kind != FsKind::Volume {
            d.entries
                .borrow_mut()
                .insert(name.to_vec(), Entry::Whiteout)
        } else {
            d.entries.borrow_mut().remove(name)
        };
        self.touch_modified();
        match gone {
            Some(Entry::Node(n)) => {
                if n.is_dir() {
                    let mut m = self.meta.borrow_mut();
                    m.nlink = m.nlink.saturating_sub(1);
                }
                Some(n)
            }
            _ => None,
        }
    }

    /// All names in this directory with inode numbers and DT_ types, sorted (`.` and `..` not
    /// included). Reads the lower directory once.
    pub fn list(self: &Rc<Self>, t: &crate::kernel::Task) -> Result<Vec<DirEntry>, Errno> {
        let dir = self.dir().ok_or_else(|| errno!(ENOTDIR))?;
        if let Some(kind) = &dir.synth {
            return Ok(proc::list(t, self, kind));
        }
        if let Some(lower) = &self.lower {
            // A volume's listing is read again each time (the host may change it).
            if dir.lower_names.borrow().is_none() || self.fs.kind == FsKind::Volume {
                let mut names = BTreeMap::new();
                loop {
                    let (reply, _) = lower
                        .gofer
                        .call(&Request::ReadDir {
                            fid: lower.fid,
                            offset: names.len() as u64,
                        })
                        .map_err(gofer_err)?;
                    let Reply::Dirents(page, end) = reply else {
                        return Err(errno!(EIO, "unexpected gofer reply to readdir"));
                    };
                    // A page with nothing in it ends the listing too (never loop forever).
                    let last = end || page.is_empty();
                    for d in page {
                        names.insert(d.name, (d.ino, d.kind));
                    }
                    if last {
                        break;
                    }
                }
                *dir.lower_names.borrow_mut() = Some(names);
            }
        }
        let mut out: BTreeMap<Vec<u8>, (u64, u8)> =
            dir.lower_names.borrow().clone().unwrap_or_default();
        for (name, e) in dir.entries.borrow().iter() {
            match e {
                Entry::Node(n) => {
                    out.insert(name.clone(), (n.ino, dtype(n.file_type())));
                }
                Entry::Whiteout => {
                    out.remove(name);
                }
                Entry::Negative => {}
            }
        }
        Ok(out.into_iter().map(|(n, (i, k))| (n, i, k)).collect())
    }

    /// Whether this directory has no entries.
    pub fn is_empty_dir(self: &Rc<Self>, t: &crate::kernel::Task) -> Result<bool, Errno> {
        Ok(self.list(t)?.is_empty())
    }

    // ---- Files ---------------------------------------------------------------------------------

    /// A host fd for reading this lower file (from the Gofer).
    pub fn open_lower(&self, flags: i32) -> Result<OwnedFd, Errno> {
        let lower = self.lower.as_ref().ok_or_else(|| errno!(EIO))?;
        let (reply, fd) = lower
            .gofer
            .call(&Request::Open {
                fid: lower.fid,
                flags,
            })
            .map_err(gofer_err)?;
        match (reply, fd) {
            (Reply::Opened, Some(fd)) => Ok(fd),
            _ => Err(errno!(EIO, "gofer open returned no fd")),
        }
    }

    /// The lower file opened read-only: the inode's kept fd, or a new one from the Gofer (kept
    /// while fewer than [`MAX_CACHED_FDS`] are).
    pub fn lower_ro_fd(&self) -> Result<Rc<CachedFd>, Errno> {
        if let Some(fd) = &*self.host_ro.borrow() {
            return Ok(fd.clone());
        }
        let fd = self.open_lower(libc::O_RDONLY)?;
        Ok(self.keep_ro_fd(fd))
    }

    /// Keeps `fd` (this lower file opened read-only) as [`Inode::lower_ro_fd`]'s while fewer
    /// than [`MAX_CACHED_FDS`] are kept.
    fn keep_ro_fd(&self, fd: OwnedFd) -> Rc<CachedFd> {
        use std::sync::atomic::Ordering;
        if self.fs.kind != FsKind::Volume
            && CACHED_FDS.fetch_add(1, Ordering::Relaxed) < MAX_CACHED_FDS
        {
            let fd = Rc::new(CachedFd { fd, counted: true });
            *self.host_ro.borrow_mut() = Some(fd.clone());
            return fd;
        }
        if self.fs.kind != FsKind::Volume {
            CACHED_FDS.fetch_sub(1, Ordering::Relaxed);
        }
        Rc::new(CachedFd::new(fd))
    }

    /// The contents of a lower file of the root, read into the memory file once and mapped
    /// copy-on-write by every private mapping of it (shared libraries, executables): the second
    /// mapping of a file copies nothing. Only the root's lower layer qualifies, since nothing
    /// changes it under the sandbox (a volume's files can change through the sandbox itself).
    /// None where it does not apply: not such a file, too large, or over
    /// [`crate::mm::FILE_PAGES_BUDGET`]; the caller then copies the file as before.
    pub fn file_pages(self: &Rc<Self>) -> Result<Option<Rc<crate::mm::FilePages>>, Errno> {
        /// Larger files are copied per mapping, unless the host-file window takes them (which
        /// copies nothing).
        const MAX_FILE: u64 = 64 << 20;
        if self.fs.kind != FsKind::Overlay
            || !matches!(&self.kind, Kind::Regular(d) if matches!(&*d.borrow(), Data::Lower))
        {
            return Ok(None);
        }
        if let Some(p) = &*self.file_pages.borrow() {
            return Ok(Some(p.clone()));
        }
        let size = self.meta.borrow().size;
        if size == 0 {
            return Ok(None);
        }
        let fd = self.lower_ro_fd()?;
        use std::os::fd::AsFd;
        let copy = size <= MAX_FILE;
        let Some(pages) = crate::mm::FilePages::read(&self.fs.memory, fd.as_fd(), size, copy)?
        else {
            return Ok(None);
        };
        let pages = Rc::new(pages);
        *self.file_pages.borrow_mut() = Some(pages.clone());
        CACHED_PAGES.with(|c| c.borrow_mut().push(Rc::downgrade(self)));
        Ok(Some(pages))
    }

    /// The symlink's target.
    pub fn read_link(&self, t: &crate::kernel::Task) -> Result<Vec<u8>, Errno> {
        match &self.kind {
            Kind::Symlink(target) => {
                if let Some(v) = &*target.borrow() {
                    return Ok(v.clone());
                }
                let lower = self.lower.as_ref().ok_or_else(|| errno!(EIO))?;
                let (reply, _) = lower
                    .gofer
                    .call(&Request::ReadLink { fid: lower.fid })
                    .map_err(gofer_err)?;
                let Reply::Link(v) = reply else {
                    return Err(errno!(EIO));
                };
                *target.borrow_mut() = Some(v.clone());
                Ok(v)
            }
            Kind::Proc(k) => proc::read_link(t, k),
            _ => Err(errno!(EINVAL)),
        }
    }

    /// Reads the attributes again from the host (volumes, whose files the host may change).
    pub fn refresh(&self) -> Result<(), Errno> {
        if self.fs.kind != FsKind::Volume {
            return Ok(());
        }
        let Some(lower) = &self.lower else {
            return Ok(());
        };
        let (reply, _) = lower
            .gofer
            .call(&Request::Stat { fid: lower.fid })
            .map_err(gofer_err)?;
        if let Reply::Attr(a) = reply {
            *self.meta.borrow_mut() = Meta::from_attr(&a);
        }
        Ok(())
    }

    /// Copies a lower regular file's contents into memory (the overlay's copy-up), so it can
    /// change. Directories and symlinks need nothing: their changes live in the tree already.
    /// Volume files change on the host instead: nothing to copy.
    pub fn copy_up(&self) -> Result<(), Errno> {
        if self.fs.kind == FsKind::Volume {
            return Ok(());
        }
        let Kind::Regular(data) = &self.kind else {
            return Ok(());
        };
        if !matches!(&*data.borrow(), Data::Lower) {
            return Ok(());
        }
        let size = self.meta.borrow().size;
        // Fail early if the copy cannot fit.
        if self
            .fs
            .limit
            .is_some_and(|l| self.fs.used.get().saturating_add(size) > l)
            || !self.fs.data.disk_fits(size)
        {
            return Err(errno!(ENOSPC, "{} size limit reached", self.fs.fstype));
        }
        let fd = self
            .lower_ro_fd()
            .and_then(|f| f.fd.try_clone().map_err(crate::errors::from_host))?;
        let mut f = std::fs::File::from(fd);
        // A kept fd is shared: read from the start, whatever its offset.
        std::io::Seek::seek(&mut f, std::io::SeekFrom::Start(0))
            .map_err(crate::errors::from_host)?;
        let mut v = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
        std::io::Read::read_to_end(&mut f, &mut v).map_err(crate::errors::from_host)?;
        let pages = pages::Pages::with_bytes(&self.fs.data, &v, Some(&self.fs))?;
        *data.borrow_mut() = Data::Memory(pages);
        *self.host_ro.borrow_mut() = None;
        Ok(())
    }
}

/// The DT_ type for a file type.
pub fn dtype(ft: u32) -> u8 {
    match ft {
        S_IFDIR => 4,
        S_IFREG => 8,
        S_IFLNK => 10,
        S_IFCHR => 2,
        S_IFBLK => 6,
        S_IFIFO => 1,
        S_IFSOCK => 12,
        _ => 0,
    }
}

/// The root of a new mount of `fs`.
pub fn new_root(fs: &Rc<Fs>, mode: u32) -> Rc<Inode> {
    Inode::new_dir(fs, Meta::new(S_IFDIR | mode, 0, 0), None)
}

/// Mounts `root` on the directory `on`.
pub fn mount(on: &Rc<Inode>, root: &Rc<Inode>) {
    *root.covers.borrow_mut() = Rc::downgrade(on);
    *on.mounted.borrow_mut() = Some(root.clone());
}

/// Creates directory `name` in `dir` (memory only) if missing, returning it.
pub fn mkdir_p(dir: &Rc<Inode>, name: &[u8], mode: u32) -> Rc<Inode> {
    if let Some(d) = dir.dir() {
        if let Some(Entry::Node(n)) = d.entries.borrow().get(name) {
            return n.clone();
        }
    }
    let n = Inode::new_dir(&dir.fs, Meta::new(S_IFDIR | mode, 0, 0), Some((dir, name)));
    dir.link_child(name, n.clone());
    n
}

/// Adds a memory file with `contents` to `dir`.
pub fn add_file(dir: &Rc<Inode>, name: &[u8], mode: u32, contents: &[u8]) -> Rc<Inode> {
    let n = Inode::new_memory(
        &dir.fs,
        Meta::new(S_IFREG | mode, 0, 0),
        Kind::Regular(RefCell::new(Data::Memory(
            // Setup-time files are small; the memory file has room for them.
            pages::Pages::with_bytes(&dir.fs.data, contents, None)
                .unwrap_or_else(|_| pages::Pages::new(&dir.fs.data)),
        ))),
    );
    dir.link_child(name, n.clone());
    n
}

/// Replaces the contents of a file `add_file` made (procfs values that change: the hostname).
pub fn replace_contents(inode: &Inode, contents: &[u8]) -> Result<(), Errno> {
    if let Kind::Regular(data) = &inode.kind {
        let pages = pages::Pages::with_bytes(&inode.fs.data, contents, None)?;
        *data.borrow_mut() = Data::Memory(pages);
        inode.meta.borrow_mut().size = contents.len() as u64;
    }
    Ok(())
}

/// Adds a symlink to `dir`.
pub fn add_symlink(dir: &Rc<Inode>, name: &[u8], target: &[u8]) -> Rc<Inode> {
    let mut meta = Meta::new(S_IFLNK | 0o777, 0, 0);
    meta.size = target.len() as u64;
    let n = Inode::new_memory(
        &dir.fs,
        meta,
        Kind::Symlink(RefCell::new(Some(target.to_vec()))),
    );
    dir.link_child(name, n.clone());
    n
}

/// The directory and name a file was opened through (a directory is its own origin).
#[derive(Clone, Debug, Default)]
pub struct Origin {
    pub dir: Option<Rc<Inode>>,
    pub name: Vec<u8>,
}

impl Origin {
    /// The absolute path of `node` as seen from `root` (what /proc/PID/fd shows).
    pub fn path(&self, node: &Rc<Inode>, root: &Rc<Inode>) -> Vec<u8> {
        let unreachable = || b"(unreachable)".to_vec();
        match &self.dir {
            None => path_of(node, root).unwrap_or_else(unreachable),
            Some(dir) => {
                // Where the file lives now (it may have been renamed), else where it was opened.
                let (dir, name) = match node.parent.borrow().upgrade() {
                    Some(d) if !node.is_dir() && !node.name.borrow().is_empty() => {
                        (d, node.name.borrow().clone())
                    }
                    _ => (dir.clone(), self.name.clone()),
                };
                let mut p = path_of(&dir, root).unwrap_or_else(unreachable);
                if p != b"/" {
                    p.push(b'/');
                }
                p.extend_from_slice(&name);
                if node.meta.borrow().nlink == 0 {
                    p.extend_from_slice(b" (deleted)");
                }
                p
            }
        }
    }
}

/// The identity permission checks use.
#[derive(Clone, Copy, Debug)]
pub struct Cred<'a> {
    pub uid: u32,
    pub gid: u32,
    pub groups: &'a [u32],
}

pub const MAY_EXEC: u32 = 1;
pub const MAY_WRITE: u32 = 2;
pub const MAY_READ: u32 = 4;

/// Linux's `generic_permission`: owner, group or other bits; root (CAP_DAC_OVERRIDE) may read and
/// write anything and execute anything with an execute bit (or search any directory).
pub fn permission(inode: &Inode, mask: u32, cred: &Cred<'_>) -> Result<(), Errno> {
    let m = *inode.meta.borrow();
    // procfs and sysfs files: even root gets only what the mode grants (sysctl_perm).
    if cred.uid == 0 && matches!(inode.fs.kind, FsKind::Proc | FsKind::Sys) && !inode.is_dir() {
        let bits = (m.mode >> 6) & 7;
        return if bits & mask == mask {
            Ok(())
        } else {
            Err(errno!(EACCES))
        };
    }
    if cred.uid == 0 {
        if mask & MAY_EXEC == 0 || inode.is_dir() || m.mode & 0o111 != 0 {
            return Ok(());
        }
        return Err(errno!(EACCES));
    }
    let bits = if m.uid == cred.uid {
        (m.mode >> 6) & 7
    } else if m.gid == cred.gid || cred.groups.contains(&m.gid) {
        (m.mode >> 3) & 7
    } else {
        m.mode & 7
    };
    if bits & mask == mask {
        Ok(())
    } else {
        Err(errno!(EACCES))
    }
}

/// Whether changes to `inode` are allowed at all (EROFS on read-only mounts).
pub fn may_modify(inode: &Inode) -> Result<(), Errno> {
    if inode.fs.readonly {
        return Err(errno!(EROFS));
    }
    Ok(())
}

/// The path of `inode` as seen from `root`: `/a/b`, or None if it is not reachable (then Linux
/// prints `(unreachable)`).
pub fn path_of(inode: &Rc<Inode>, root: &Rc<Inode>) -> Option<Vec<u8>> {
    let mut parts: Vec<Vec<u8>> = Vec::new();
    let mut cur = inode.clone();
    for _ in 0..4096 {
        if Rc::ptr_eq(&cur, root) {
            let mut out = Vec::new();
            for p in parts.iter().rev() {
                out.push(b'/');
                out.extend_from_slice(p);
            }
            if out.is_empty() {
                out.push(b'/');
            }
            return Some(out);
        }
        if cur.is_fs_root() {
            let covered = cur.covers.borrow().upgrade()?;
            cur = covered;
            continue;
        }
        parts.push(cur.name.borrow().clone());
        cur = cur.parent();
    }
    None
}
