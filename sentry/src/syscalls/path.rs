//! Path syscalls: open and friends, the stat family, access, readlink, directory and name changes,
//! attributes, the working directory, statfs. Each resolves its path with [`Walker`] and checks
//! in Linux's order: the path, then EROFS, then permission, then the operation's own errors.

use super::fs::file;
use super::{fd_arg, int_arg};
use crate::errors::{Errno, SysResult};
use crate::kernel::fd::File;
use crate::kernel::Task;
use crate::mm::UserAddr;
use crate::vfs::walk::{Parent, Walker};
use crate::vfs::{
    self, may_modify, permission, Data, Inode, Kind, Meta, OpenFile, MAY_EXEC, MAY_READ, MAY_WRITE,
    S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK,
};
use crate::vfs::{volume, FsKind};
use crate::{bail, errno};
use abi::fcntl::*;
use std::cell::RefCell;
use std::rc::Rc;

/// Reads a path argument (ENAMETOOLONG past PATH_MAX, EFAULT for a bad pointer).
fn path_arg(t: &Task, addr: u64) -> Result<Vec<u8>, Errno> {
    t.mm.read_cstr(UserAddr(addr), abi::PATH_MAX)
}

/// The directory a relative path starts from: the cwd for AT_FDCWD, else the directory `dirfd`.
fn start_dir(t: &Task, dirfd: i32, path: &[u8]) -> Result<Rc<Inode>, Errno> {
    if path.first() == Some(&b'/') {
        return Ok(t.fs.root.clone());
    }
    if dirfd == AT_FDCWD {
        return Ok(t.fs.cwd.clone());
    }
    let f = file(t, dirfd)?;
    let inode = f.inode().ok_or_else(|| errno!(ENOTDIR))?;
    if path.is_empty() {
        return Ok(inode);
    }
    if !inode.is_dir() {
        bail!(ENOTDIR, "dirfd is not a directory");
    }
    Ok(inode)
}

/// Resolves `path` from `dirfd`, with AT_EMPTY_PATH meaning the fd itself.
fn lookup_at(
    t: &Task,
    dirfd: i32,
    path: &[u8],
    follow: bool,
    empty_ok: bool,
) -> Result<Rc<Inode>, Errno> {
    if path.is_empty() {
        if !empty_ok {
            bail!(ENOENT);
        }
        if dirfd == AT_FDCWD {
            return Ok(t.fs.cwd.clone());
        }
        return file(t, dirfd)?
            .inode()
            .ok_or_else(|| errno!(EBADF, "not a file of the VFS"));
    }
    let start = start_dir(t, dirfd, path)?;
    Walker::new(t).lookup(&start, path, follow)
}

/// A path argument (for other modules' syscalls).
pub(crate) fn path_arg_pub(t: &Task, addr: u64) -> Result<Vec<u8>, Errno> {
    path_arg(t, addr)
}

/// What `path` (from the working directory) names, following a last symlink if `follow`.
pub(crate) fn lookup_pub(t: &Task, path: &[u8], follow: bool) -> Result<Rc<Inode>, Errno> {
    lookup_at(t, AT_FDCWD, path, follow, false)
}

fn parent_at(t: &Task, dirfd: i32, path: &[u8]) -> Result<Parent, Errno> {
    let start = start_dir(t, dirfd, path)?;
    Walker::new(t).parent(&start, path)
}

/// Looks up the last component of `p` without following it; None if it does not exist.
fn last_of(t: &Task, p: &Parent) -> Result<Option<Rc<Inode>>, Errno> {
    match Walker::new(t).step(&p.dir, &p.name, &[], false) {
        Ok(n) => Ok(Some(n)),
        Err(e) if e.code == libc::ENOENT => Ok(None),
        Err(e) => Err(e),
    }
}

fn is_dot(name: &[u8]) -> bool {
    name == b"." || name == b".."
}

/// Checks that `dir` may get or lose entries: EROFS, then write and search permission.
fn may_change_dir(t: &Task, dir: &Rc<Inode>) -> Result<(), Errno> {
    // A removed directory takes no new names.
    if dir.meta.borrow().nlink == 0 {
        bail!(ENOENT, "directory removed");
    }
    may_modify(dir)?;
    if dir.dir().is_some_and(|d| d.synth.is_some()) {
        bail!(EACCES, "procfs directory");
    }
    permission(dir, MAY_WRITE | MAY_EXEC, &t.cred())
}

/// The sticky-bit rule: in a sticky directory only the file's owner, the directory's owner or
/// root may remove or rename it.
fn sticky_ok(t: &Task, dir: &Inode, victim: &Inode) -> Result<(), Errno> {
    let uid = t.creds.euid;
    let d = *dir.meta.borrow();
    if d.mode & 0o1000 != 0 && uid != 0 && uid != d.uid && uid != victim.meta.borrow().uid {
        bail!(EPERM, "sticky directory");
    }
    Ok(())
}

/// A new node's owner: the caller, with the directory's group if it is setgid.
fn new_meta(t: &Task, dir: &Inode, mode: u32) -> Meta {
    let d = *dir.meta.borrow();
    let gid = if d.mode & 0o2000 != 0 {
        d.gid
    } else {
        t.creds.egid
    };
    let mut m = Meta::new(mode, t.creds.euid, gid);
    if mode & S_IFMT == S_IFDIR && d.mode & 0o2000 != 0 {
        m.mode |= 0o2000;
    }
    m
}

fn is_volume(inode: &Inode) -> bool {
    inode.fs.kind == FsKind::Volume
}

/// Sets a regular file's size (copying a lower file up first).
pub fn truncate_inode(inode: &Rc<Inode>, len: u64) -> Result<(), Errno> {
    truncate_inner(inode, len)?;
    vfs::notify::event(inode, None, vfs::notify::IN_MODIFY);
    Ok(())
}

fn truncate_inner(inode: &Rc<Inode>, len: u64) -> Result<(), Errno> {
    let Kind::Regular(data) = &inode.kind else {
        bail!(EINVAL);
    };
    if is_volume(inode) {
        return volume::set_attr(
            inode,
            gofer::proto::SetAttr {
                size: Some(len),
                ..Default::default()
            },
        );
    }
    if len > vfs::file::MAX_FILE_SIZE {
        bail!(EFBIG, "file size limit");
    }
    inode.copy_up()?;
    let mut d = data.borrow_mut();
    if let Data::Memory(p) = &mut *d {
        // Extending is sparse: only written pages count against the size limit.
        p.set_len(len, &inode.fs)?;
    }
    drop(d);
    inode.touch_modified();
    Ok(())
}

// ---- open ----------------------------------------------------------------------------------------

const OPEN_FLAGS: u32 = O_ACCMODE
    | O_CREAT
    | O_EXCL
    | O_NOCTTY
    | O_TRUNC
    | O_APPEND
    | O_NONBLOCK
    | O_DSYNC
    | O_ASYNC
    | O_DIRECT
    | O_LARGEFILE
    | O_DIRECTORY
    | O_NOFOLLOW
    | O_NOATIME
    | O_CLOEXEC
    | O_SYNC
    | O_PATH
    | O_TMPFILE;

/// Opens `path` and installs the new fd; an open the sandbox refuses (EACCES, EPERM, EROFS)
/// goes to the audit log.
pub fn do_open(
    t: &mut Task,
    dirfd: i32,
    path: &[u8],
    flags: u32,
    mode: u32,
    resolve: u64,
) -> SysResult {
    let r = open_inner(t, dirfd, path, flags, mode, resolve);
    if let Err(e) = &r {
        if matches!(e.code, libc::EACCES | libc::EPERM | libc::EROFS) && t.k.auditing() {
            t.k.audit(&serde_json::json!({
                "event": "open_denied",
                "pid": t.tgid,
                "path": String::from_utf8_lossy(path),
                "flags": format!("{flags:#o}"),
                "errno": e.name(),
                "reason": match e.code {
                    libc::EROFS => "the file system is read-only in the sandbox",
                    _ => "permission denied by the file's mode or owner",
                },
            }));
        }
    }
    r
}

fn open_inner(
    t: &mut Task,
    dirfd: i32,
    path: &[u8],
    flags: u32,
    mode: u32,
    resolve: u64,
) -> SysResult {
    let mut flags = flags;
    if flags & O_TMPFILE == O_TMPFILE {
        t.k.log_partial("O_TMPFILE".into());
        bail!(EOPNOTSUPP, "O_TMPFILE not implemented");
    }
    if flags & O_CREAT != 0 && flags & O_DIRECTORY != 0 {
        bail!(EINVAL, "O_CREAT with O_DIRECTORY");
    }
    if flags & O_PATH != 0 {
        flags &= O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
    }
    let acc = flags & O_ACCMODE;
    let wants_write =
        flags & O_PATH == 0 && (acc == O_WRONLY || acc == O_RDWR || flags & O_TRUNC != 0);
    let wants_read = flags & O_PATH == 0 && (acc == O_RDONLY || acc == O_RDWR);
    let scoped = resolve & (vfs::walk::RESOLVE_IN_ROOT | vfs::walk::RESOLVE_BENEATH) != 0;
    let start = if scoped && path.first() == Some(&b'/') {
        // RESOLVE_IN_ROOT and RESOLVE_BENEATH resolve even absolute paths from dirfd.
        if dirfd == AT_FDCWD {
            t.fs.cwd.clone()
        } else {
            start_dir(t, dirfd, b".")?
        }
    } else {
        start_dir(t, dirfd, path)?
    };
    let mut w = Walker::with_resolve(t, &start, resolve);
    let follow = flags & O_NOFOLLOW == 0;
    let mut created = false;
    let mut volume_fd = None;
    let inode = if flags & O_CREAT != 0 && flags & O_PATH == 0 {
        // The last component may be a symlink to a file that does not exist yet: without
        // O_EXCL and O_NOFOLLOW the file is created where the link points (as Linux does).
        let (mut dir_start, mut cur_path) = (start.clone(), path.to_vec());
        let mut hops = 0;
        loop {
            let p = w.parent(&dir_start, &cur_path)?;
            if p.trailing_slash && !is_dot(&p.name) {
                bail!(EISDIR);
            }
            let existing = match w.step(&p.dir, &p.name, &[], false) {
                Ok(n) => Some(n),
                Err(e) if e.code == libc::ENOENT => None,
                Err(e) => return Err(e),
            };
            match existing {
                Some(_) if flags & O_EXCL != 0 => bail!(EEXIST),
                Some(n) if n.is_dir() => bail!(EISDIR),
                Some(n) if n.is_symlink() && follow => {
                    hops += 1;
                    if hops > 40 {
                        bail!(ELOOP);
                    }
                    match w.lookup(&p.dir, &p.name, true) {
                        Ok(n) => break n,
                        Err(_) if w.reopen.is_some() => {
                            let f = w.reopen.take();
                            return reopen(t, f, flags);
                        }
                        Err(e) if e.code == libc::ENOENT => {
                            // Dangling: create at the target, resolved from the link's directory.
                            let target = n.read_link(t)?;
                            dir_start = p.dir.clone();
                            cur_path = target;
                            continue;
                        }
                        Err(e) => return Err(e),
                    }
                }
                Some(n) => break n,
                None => {
                    may_change_dir(t, &p.dir)?;
                    let perm = mode & 0o7777 & !t.umask;
                    let n = if is_volume(&p.dir) {
                        let host_flags = (flags & (O_ACCMODE | O_APPEND)) as i32;
                        let (n, fd) = volume::create(&p.dir, &p.name, host_flags, perm)?;
                        volume_fd = Some(fd);
                        n
                    } else {
                        let m = new_meta(t, &p.dir, S_IFREG | perm);
                        let n = Inode::new_memory(
                            &p.dir.fs,
                            m,
                            Kind::Regular(RefCell::new(Data::Memory(vfs::pages::Pages::new(
                                &p.dir.fs.data,
                            )))),
                        );
                        p.dir.link_child(&p.name, n.clone());
                        n
                    };
                    w.step(&p.dir, &p.name, &[], false)?;
                    vfs::notify::created(&p.dir, &p.name, &n);
                    created = true;
                    break n;
                }
            }
        }
    } else {
        // An open for reading only: a lower file's fd comes with its walk.
        let reading = wants_read && !wants_write && flags & O_DIRECTORY == 0;
        let found = if reading {
            vfs::for_reading(|| w.lookup(&start, path, follow))
        } else {
            w.lookup(&start, path, follow)
        };
        match found {
            Ok(n) => n,
            Err(e) => {
                let f = w.reopen.take();
                return if f.is_some() {
                    reopen(t, f, flags)
                } else {
                    Err(e)
                };
            }
        }
    };
    let is_dir = inode.is_dir();
    // As do_open: O_DIRECTORY on a non-directory first, then may_open's ELOOP for a symlink.
    if flags & O_DIRECTORY != 0 && !is_dir {
        bail!(ENOTDIR);
    }
    if flags & O_PATH == 0 {
        if inode.is_symlink() {
            bail!(ELOOP, "O_NOFOLLOW on a symlink");
        }
        if flags & O_CREAT != 0 && is_dir {
            bail!(EISDIR);
        }
    }
    if is_dir && wants_write {
        bail!(EISDIR);
    }
    if !created && flags & O_PATH == 0 {
        if wants_write
            && matches!(
                inode.kind,
                Kind::Regular(_) | Kind::Dir(_) | Kind::Symlink(_)
            )
        {
            may_modify(&inode)?;
        }
        let mut mask = 0;
        if wants_read {
            mask |= MAY_READ;
        }
        if wants_write {
            mask |= MAY_WRITE;
        }
        permission(&inode, mask, &t.cred())?;
    }
    let mut of = OpenFile::new(
        inode.clone(),
        w.origin(&inode),
        (flags & !(O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_CLOEXEC))
            | if flags & O_PATH != 0 { 0 } else { O_LARGEFILE },
    );
    if flags & O_PATH == 0 {
        match &inode.kind {
            Kind::Regular(_) if is_volume(&inode) => {
                of.host = match volume_fd.take() {
                    Some(fd) => Some(Rc::new(vfs::CachedFd::new(fd))),
                    None => {
                        let mut hf = (acc & O_ACCMODE) as i32 | (flags & O_APPEND) as i32;
                        if flags & O_TRUNC != 0 && wants_write {
                            hf |= libc::O_TRUNC;
                        }
                        Some(Rc::new(vfs::CachedFd::new(volume::open(&inode, hf)?)))
                    }
                };
                if flags & O_TRUNC != 0 && wants_write {
                    inode.refresh()?;
                }
            }
            Kind::Regular(data) => {
                if wants_write {
                    inode.copy_up()?;
                    if flags & O_TRUNC != 0 && !created {
                        truncate_inode(&inode, 0)?;
                    }
                } else if matches!(&*data.borrow(), Data::Lower) {
                    of.host = Some(inode.lower_ro_fd()?);
                }
            }
            Kind::Device(d @ (vfs::Device::Tty | vfs::Device::Ptmx | vfs::Device::Pty(_))) => {
                let d = *d;
                return super::tty::open_device(
                    t,
                    d,
                    &inode,
                    of.flags.get(),
                    flags & O_NOCTTY != 0,
                    flags & O_CLOEXEC != 0,
                );
            }
            Kind::Special if inode.meta.borrow().mode & S_IFMT == S_IFIFO => {
                let path = of.origin.path(&inode, &t.fs.root);
                return super::fs::open_fifo(
                    t,
                    &inode,
                    path,
                    of.flags.get(),
                    flags & O_CLOEXEC != 0,
                );
            }
            Kind::Special => bail!(ENXIO, "a socket node cannot be opened"),
            Kind::Proc(k) => {
                if k.is_magic_link() {
                    bail!(ELOOP);
                }
                of.contents = Some(vfs::proc::contents(t, k)?);
            }
            _ => {}
        }
    }
    let limit = usize::try_from(t.rlimits[abi::RLIMIT_NOFILE].cur.min(abi::NR_OPEN)).unwrap_or(0);
    if flags & O_PATH == 0 {
        let dir = of.origin.dir.clone();
        let at = dir.as_ref().map(|d| (d, &of.origin.name[..]));
        if flags & O_TRUNC != 0 && wants_write && !created && !is_dir {
            vfs::notify::event(&inode, at, vfs::notify::IN_MODIFY);
        }
        vfs::notify::event(&inode, at, vfs::notify::IN_OPEN);
    }
    let fd = t
        .fds
        .install(Rc::new(File::Vfs(of)), flags & O_CLOEXEC != 0, 0, limit)
        .ok_or_else(|| errno!(EMFILE))?;
    Ok(fd as u64)
}

/// open of a magic link (/proc/PID/fd/N, and /dev/stdin and friends through it) to a file with
/// no inode. As Linux: a pipe gets a new open file description of the same pipe, with the
/// access mode asked (never waiting for the other side: an anonymous pipe's open does not);
/// sockets and anonymous files are ENXIO. A host fd (the inherited stdio) is duplicated, as the
/// Sentry cannot open host paths: the new fd shares its offset and status flags (Linux gives a
/// new description), and an access mode the host fd lacks is EACCES.
fn reopen(t: &mut Task, f: Option<Rc<File>>, flags: u32) -> SysResult {
    let Some(f) = f else {
        bail!(ENOENT);
    };
    let cloexec = flags & O_CLOEXEC != 0;
    let new = if flags & O_PATH != 0 {
        // An O_PATH reference to it: only fstat and the like use it.
        f
    } else {
        match &*f {
            File::Pipe(end) => Rc::new(File::Pipe(crate::vfs::pipe::new_end(
                &end.pipe,
                flags & (O_ACCMODE | O_NONBLOCK),
                end.fifo.clone(),
            ))),
            File::Host(h) => {
                let host = crate::host::fcntl(std::os::fd::AsFd::as_fd(&h.fd), libc::F_GETFL, 0)
                    .map_err(crate::errors::from_host)?
                    .cast_unsigned();
                let has = |m: u32| host & O_ACCMODE == O_RDWR || host & O_ACCMODE == m;
                let acc = flags & O_ACCMODE;
                if (acc != O_WRONLY && !has(O_RDONLY)) || (acc != O_RDONLY && !has(O_WRONLY)) {
                    bail!(EACCES, "reopening a host fd with an access mode it lacks");
                }
                let fd = h.fd.try_clone().map_err(crate::errors::from_host)?;
                Rc::new(File::Host(crate::kernel::fd::HostFile {
                    fd,
                    name: h.name.clone(),
                }))
            }
            _ => bail!(ENXIO, "a socket or anonymous file cannot be reopened"),
        }
    };
    let limit = super::fs::nofile(t);
    let fd = t
        .fds
        .install(new, cloexec, 0, limit)
        .ok_or_else(|| errno!(EMFILE))?;
    Ok(fd as u64)
}

fn open_flags(v: u64) -> u32 {
    // Unknown bits are ignored by open and openat (openat2 rejects them).
    (v as u32) & OPEN_FLAGS
}

pub fn open(t: &mut Task, a: [u64; 6]) -> SysResult {
    let path = path_arg(t, a[0])?;
    do_open(t, AT_FDCWD, &path, open_flags(a[1]), a[2] as u32, 0)
}

pub fn openat(t: &mut Task, a: [u64; 6]) -> SysResult {
    let path = path_arg(t, a[1])?;
    do_open(t, fd_arg(a[0]), &path, open_flags(a[2]), a[3] as u32, 0)
}

pub fn creat(t: &mut Task, a: [u64; 6]) -> SysResult {
    let path = path_arg(t, a[0])?;
    do_open(
        t,
        AT_FDCWD,
        &path,
        O_CREAT | O_WRONLY | O_TRUNC,
        a[1] as u32,
        0,
    )
}

pub fn openat2(t: &mut Task, a: [u64; 6]) -> SysResult {
    let size = a[3];
    if size < 24 {
        bail!(EINVAL, "open_how too small");
    }
    if size > 4096 {
        bail!(E2BIG);
    }
    let how: [u64; 3] = t.mm.read_obj(UserAddr(a[2]))?;
    if size > 24 {
        // Bytes past the known struct must be zero.
        let mut rest = vec![0u8; usize::try_from(size - 24).unwrap_or(0)];
        t.mm.copy_in(UserAddr(a[2] + 24), &mut rest)?;
        if rest.iter().any(|&b| b != 0) {
            bail!(E2BIG, "unknown open_how fields");
        }
    }
    let [flags, mode, resolve] = how;
    if flags & !u64::from(OPEN_FLAGS) != 0 || resolve & !0x3f != 0 {
        bail!(EINVAL, "unknown flags");
    }
    let flags = flags as u32;
    // openat2 is strict: with O_PATH only O_DIRECTORY, O_NOFOLLOW and O_CLOEXEC may be given.
    if flags & O_PATH != 0 && flags & !(O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) != 0 {
        bail!(EINVAL, "O_PATH with other flags");
    }
    if mode & !0o7777 != 0 || (mode != 0 && flags & (O_CREAT | O_TMPFILE) == 0) {
        bail!(EINVAL, "bad mode");
    }
    if resolve & 0x18 == 0x18 {
        bail!(EINVAL, "RESOLVE_BENEATH with RESOLVE_IN_ROOT");
    }
    if resolve & vfs::walk::RESOLVE_CACHED != 0 && flags & (O_CREAT | O_TRUNC) != 0 {
        bail!(EAGAIN);
    }
    let path = path_arg(t, a[1])?;
    do_open(t, fd_arg(a[0]), &path, flags, mode as u32, resolve)
}

// ---- stat --------------------------------------------------------------------------------------

fn stat_flags(flags: u64) -> Result<(bool, bool), Errno> {
    if flags & !(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_STATX_SYNC_TYPE) != 0 {
        bail!(EINVAL, "bad flags {flags:#x}");
    }
    Ok((flags & AT_SYMLINK_NOFOLLOW == 0, flags & AT_EMPTY_PATH != 0))
}

/// The stat of what `dirfd` + `path` names (a host stdio fd for AT_EMPTY_PATH on one).
fn stat_at(
    t: &Task,
    dirfd: i32,
    path: &[u8],
    follow: bool,
    empty: bool,
) -> Result<abi::Stat, Errno> {
    if path.is_empty() && empty && dirfd != AT_FDCWD {
        return file_stat(t, &*file(t, dirfd)?);
    }
    let inode = if path.is_empty() {
        lookup_at(t, dirfd, path, follow, empty)?
    } else {
        let start = start_dir(t, dirfd, path)?;
        let mut w = Walker::new(t);
        match w.lookup(&start, path, follow) {
            Ok(n) => n,
            // /proc/PID/fd/N of a pipe, socket or host fd: what fstat of it says.
            Err(e) => return w.reopen.take().map_or(Err(e), |f| file_stat(t, &f)),
        }
    };
    inode.refresh()?;
    Ok(inode.stat())
}

/// fstat's answer for an open file.
fn file_stat(t: &Task, f: &File) -> Result<abi::Stat, Errno> {
    match f {
        File::Anon(an) => Ok(an.stat(t.creds.euid, t.creds.egid)),
        File::Pipe(p) => Ok(super::fs::pipe_stat(t, p)),
        File::Host(h) => {
            crate::host::fstat(std::os::fd::AsFd::as_fd(h)).map_err(crate::errors::from_host)
        }
        File::Vfs(o) => {
            o.inode.refresh()?;
            Ok(o.inode.stat())
        }
    }
}

pub fn stat(t: &mut Task, a: [u64; 6]) -> SysResult {
    let path = path_arg(t, a[0])?;
    let st = stat_at(t, AT_FDCWD, &path, true, false)?;
    t.mm.write_obj(UserAddr(a[1]), &st)?;
    Ok(0)
}

pub fn lstat(t: &mut Task, a: [u64; 6]) -> SysResult {
    let path = path_arg(t, a[0])?;
    let st = stat_at(t, AT_FDCWD, &path, false, false)?;
    t.mm.write_obj(UserAddr(a[1]), &st)?;
    Ok(0)
}

pub fn newfstatat(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (follow, empty) = stat_flags(a[3] & 0xffff_ffff)?;
    let path = path_arg(t, a[1])?;
    let st = stat_at(t, fd_arg(a[0]), &path, follow, empty)?;
    t.mm.write_obj(UserAddr(a[2]), &st)?;
    Ok(0)
}

pub fn statx(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (follow, empty) = stat_flags(a[2] & 0xffff_ffff)?;
    let mask = a[3] as u32;
    if mask & 0x8000_0000 != 0 {
        bail!(EINVAL, "STATX__RESERVED");
    }
    if a[2] & AT_STATX_SYNC_TYPE == AT_STATX_SYNC_TYPE {
        bail!(EINVAL, "bad sync type");
    }
    // A NULL path with AT_EMPTY_PATH is the fd itself (Linux 6.11+).
    let path = if a[1] == 0 && empty {
        Vec::new()
    } else {
        path_arg(t, a[1])?
    };
    let st = stat_at(t, fd_arg(a[0]), &path, follow, empty)?;
    let mut b = [0u8; 256];
    let put = |b: &mut [u8; 256], off: usize, v: &[u8]| b[off..off + v.len()].copy_from_slice(v);
    // STATX_BASIC_STATS (0x7ff) | STATX_MNT_ID (0x1000).
    // STATX_MTIME and STATX_CTIME come back only if one of them was asked for (as 6.18).
    let mut got = 0x17ffu32;
    if mask & 0xc0 == 0 {
        got &= !0xc0;
    }
    put(&mut b, 0, &got.to_ne_bytes());
    put(&mut b, 4, &(st.blksize as u32).to_ne_bytes());
    put(&mut b, 16, &(st.nlink as u32).to_ne_bytes());
    put(&mut b, 20, &st.uid.to_ne_bytes());
    put(&mut b, 24, &st.gid.to_ne_bytes());
    put(&mut b, 28, &(st.mode as u16).to_ne_bytes());
    put(&mut b, 32, &st.ino.to_ne_bytes());
    put(&mut b, 40, &st.size.to_ne_bytes());
    put(&mut b, 48, &st.blocks.to_ne_bytes());
    for (off, ts) in [(0x40, st.atime), (0x60, st.ctime), (0x70, st.mtime)] {
        put(&mut b, off, &ts.tv_sec.to_ne_bytes());
        put(&mut b, off + 8, &(ts.tv_nsec as u32).to_ne_bytes());
    }
    let d = st.rdev;
    let maj = ((d >> 8) & 0xfff | (d >> 32) & !0xfff) as u32;
    let min = ((d & 0xff) | ((d >> 12) & !0xff)) as u32;
    put(&mut b, 0x80, &maj.to_ne_bytes());
    put(&mut b, 0x84, &min.to_ne_bytes());
    let dev = st.dev;
    put(&mut b, 0x88, &(((dev >> 8) & 0xfff) as u32).to_ne_bytes());
    put(&mut b, 0x8c, &((dev & 0xff) as u32).to_ne_bytes());
    put(&mut b, 0x90, &(dev & 0xff).to_ne_bytes());
    t.mm.copy_out(UserAddr(a[4]), &b)?;
    Ok(0)
}

// ---- access, readlink ---------------------------------------------------------------------------

fn do_access(t: &Task, dirfd: i32, path: &[u8], mode: u64, flags: u64) -> SysResult {
    if mode & !7 != 0 {
        bail!(EINVAL, "bad mode");
    }
    if flags & !(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
        bail!(EINVAL, "bad flags");
    }
    // access() checks with the real ids unless AT_EACCESS, for the whole walk too.
    let real = vfs::Cred {
        uid: t.creds.ruid,
        gid: t.creds.rgid,
        groups: &t.creds.groups,
    };
    let cred = if flags & AT_EACCESS != 0 {
        t.cred()
    } else {
        real
    };
    let follow = flags & AT_SYMLINK_NOFOLLOW == 0;
    let inode = if path.is_empty() {
        lookup_at(t, dirfd, path, follow, flags & AT_EMPTY_PATH != 0)?
    } else {
        let start = start_dir(t, dirfd, path)?;
        let mut w = Walker::new(t).with_cred(cred);
        match w.lookup(&start, path, follow) {
            Ok(n) => n,
            // /proc/PID/fd/N of a pipe, socket or host fd (mode 0600, the caller's): readable
            // and writable, not executable.
            Err(_) if w.reopen.is_some() => {
                return if mode & 1 != 0 {
                    Err(errno!(EACCES))
                } else {
                    Ok(0)
                };
            }
            Err(e) => return Err(e),
        }
    };
    if mode == 0 {
        return Ok(0);
    }
    if mode & 2 != 0
        && matches!(
            inode.kind,
            Kind::Regular(_) | Kind::Dir(_) | Kind::Symlink(_)
        )
    {
        may_modify(&inode)?;
    }
    permission(&inode, mode as u32, &cred)?;
    Ok(0)
}

pub fn access(t: &mut Task, a: [u64; 6]) -> SysResult {
    let path = path_arg(t, a[0])?;
    do_access(t, AT_FDCWD, &path, a[1] & 0xffff_ffff, 0)
}

pub fn faccessat(t: &mut Task, a: [u64; 6]) -> SysResult {
    let path = path_arg(t, a[1])?;
    do_access(t, fd_arg(a[0]), &path, a[2] & 0xffff_ffff, 0)
}

pub fn faccessat2(t: &mut Task, a: [u64; 6]) -> SysResult {
    let path = path_arg(t, a[1])?;
    do_access(
        t,
        fd_arg(a[0]),
        &path,
        a[2] & 0xffff_ffff,
        a[3] & 0xffff_ffff,
    )
}

fn do_readlink(t: &mut Task, dirfd: i32, path: &[u8], buf: u64, size: u64) -> SysResult {
    let size = int_arg(size);
    if size <= 0 {
        bail!(EINVAL, "buffer size {size}");
    }
    let inode = lookup_at(t, dirfd, path, false, true)?;
    if path.is_empty() && !inode.is_symlink() {
        bail!(ENOENT, "empty path on an fd that is not a symlink");
    }
    let target = match &inode.kind {
        Kind::Symlink(_) => inode.read_link(t)?,
        Kind::Proc(k)
            if k.is_magic_link()
                || matches!(
                    k,
                    vfs::proc::FileKind::SelfLink | vfs::proc::FileKind::ThreadSelf
                ) =>
        {
            inode.read_link(t)?
        }
        _ => bail!(EINVAL, "not a symlink"),
    };
    let n = target.len().min(usize::try_from(size).unwrap_or(0));
    t.mm.copy_out(UserAddr(buf), &target[..n])?;
    Ok(n as u64)
}

pub fn readlink(t: &mut Task, a: [u64; 6]) -> SysResult {
    let path = path_arg(t, a[0])?;
    if path.is_empty() {
        bail!(ENOENT);
    }
    do_readlink(t, AT_FDCWD, &path, a[1], a[2])
}

pub fn readlinkat(t: &mut Task, a: [u64; 6]) -> SysResult {
    let path = path_arg(t, a[1])?;
    if path.is_empty() && fd_arg(a[0]) == AT_FDCWD {
        bail!(ENOENT);
    }
    do_readlink(t, fd_arg(a[0]), &path, a[2], a[3])
}

// ---- creating and removing names ------------------------------------------------------------------

fn do_mknod(t: &mut Task, dirfd: i32, path: &[u8], mode: u32, kind: Kind) -> SysResult {
    let p = parent_at(t, dirfd, path)?;
    if is_dot(&p.name) {
        bail!(EEXIST);
    }
    if last_of(t, &p)?.is_some() {
        bail!(EEXIST);
    }
    if p.trailing_slash && mode & S_IFMT != S_IFDIR {
        bail!(ENOENT);
    }
    may_change_dir(t, &p.dir)?;
    if is_volume(&p.dir) {
        if mode & S_IFMT == S_IFDIR {
            volume::mkdir(&p.dir, &p.name, mode & 0o7777)?;
        } else {
            volume::mknod(&p.dir, &p.name, mode)?;
        }
        notify_created(t, &p);
        return Ok(0);
    }
    let m = new_meta(t, &p.dir, mode);
    let n = if mode & S_IFMT == S_IFDIR {
        Inode::new_dir(&p.dir.fs, m, Some((&p.dir, &p.name)))
    } else {
        Inode::new_memory(&p.dir.fs, m, kind)
    };
    p.dir.link_child(&p.name, n.clone());
    vfs::notify::created(&p.dir, &p.name, &n);
    Ok(0)
}

/// IN_CREATE for what a volume operation just made at `p` (looked up again).
fn notify_created(t: &Task, p: &Parent) {
    if let Ok(Some(n)) = last_of(t, p) {
        vfs::notify::created(&p.dir, &p.name, &n);
    }
}

/// bind of a Unix socket to a path: makes the socket file (EADDRINUSE if the name exists) and
/// returns it.
pub(crate) fn make_socket_node(t: &mut Task, path: &[u8]) -> Result<Rc<Inode>, Errno> {
    let mode = S_IFSOCK | (0o777 & !t.umask);
    let p = parent_at(t, AT_FDCWD, path)?;
    if is_dot(&p.name) || last_of(t, &p)?.is_some() {
        bail!(EADDRINUSE, "the socket path exists");
    }
    if p.trailing_slash {
        bail!(ENOENT);
    }
    may_change_dir(t, &p.dir)?;
    if is_volume(&p.dir) {
        let n = volume::mknod(&p.dir, &p.name, mode)?;
        vfs::notify::created(&p.dir, &p.name, &n);
        return Ok(n);
    }
    let m = new_meta(t, &p.dir, mode);
    let n = Inode::new_memory(&p.dir.fs, m, Kind::Special);
    p.dir.link_child(&p.name, n.clone());
    vfs::notify::created(&p.dir, &p.name, &n);
    Ok(n)
}

/// connect of a Unix socket to a path: the socket file there (following symlinks), which the
/// caller must be allowed to write.
pub(crate) fn find_socket_node(t: &Task, path: &[u8]) -> Result<Rc<Inode>, Errno> {
    let n = lookup_at(t, AT_FDCWD, path, true, false)?;
    vfs::permission(&n, vfs::MAY_WRITE, &t.cred())?;
    if n.meta.borrow().mode & S_IFMT != S_IFSOCK {
        bail!(ECONNREFUSED, "not a socket");
    }
    Ok(n)
}

pub fn mkdir(t: &mut Task, a: [u64; 6]) -> SysResult {
    let path = path_arg(t, a[0])?;
    let mode = S_IFDIR | (a[1] as u32 & 0o1777 & !t.umask);
    do_mknod(t, AT_FDCWD, &path, mode, Kind::Special)
}

pub fn mkdirat(t: &mut Task, a: [u64; 6]) -> SysResult {
    let path = path_arg(t, a[1])?;
    let mode = S_IFDIR | (a[2] as u32 & 0o1777 & !t.umask);
    do_mknod(t, fd_arg(a[0]), &path, mode, Kind::Special)
}

fn mknod_common(t: &mut Task, dirfd: i32, path: &[u8], mode: u32, dev: u64) -> SysResult {
    let ft = if mode & S_IFMT == 0 {
        S_IFREG
    } else {
        mode & S_IFMT
    };
    let perm = mode & 0o7777 & !t.umask;
    match ft {
        S_IFREG => do_mknod(
            t,
            dirfd,
            path,
            S_IFREG | perm,
            Kind::Regular(RefCell::new(Data::Memory(vfs::pages::Pages::new(
                &t.mm.memory_arc(),
            )))),
        ),
        S_IFIFO | S_IFSOCK => do_mknod(t, dirfd, path, ft | perm, Kind::Special),
        vfs::S_IFCHR | vfs::S_IFBLK => {
            let _ = dev;
            bail!(EPERM, "device nodes are not created in the sandbox");
        }
        S_IFDIR => bail!(EPERM),
        _ => bail!(EINVAL),
    }
}

pub fn mknod(t: &mut Task, a: [u64; 6]) -> SysResult {
    let path = path_arg(t, a[0])?;
    mknod_common(t, AT_FDCWD, &path, a[1] as u32, a[2])
}

pub fn mknodat(t: &mut Task, a: [u64; 6]) -> SysResult {
    let path = path_arg(t, a[1])?;
    mknod_common(t, fd_arg(a[0]), &path, a[2] as u32, a[3])
}

fn do_symlink(t: &mut Task, target: &[u8], dirfd: i32, path: &[u8]) -> SysResult {
    if target.is_empty() {
        bail!(ENOENT);
    }
    let p = parent_at(t, dirfd, path)?;
    if is_dot(&p.name) || last_of(t, &p)?.is_some() {
        bail!(EEXIST);
    }
    if p.trailing_slash {
        bail!(ENOENT);
    }
    may_change_dir(t, &p.dir)?;
    if is_volume(&p.dir) {
        volume::symlink(&p.dir, &p.name, target)?;
        notify_created(t, &p);
        return Ok(0);
    }
    let mut m = new_meta(t, &p.dir, S_IFLNK | 0o777);
    m.size = target.len() as u64;
    let n = Inode::new_memory(
        &p.dir.fs,
        m,
        Kind::Symlink(RefCell::new(Some(target.to_vec()))),
    );
    p.dir.link_child(&p.name, n.clone());
    vfs::notify::created(&p.dir, &p.name, &n);
    Ok(0)
}

pub fn symlink(t: &mut Task, a: [u64; 6]) -> SysResult {
    let target = path_arg(t, a[0])?;
    let path = path_arg(t, a[1])?;
    do_symlink(t, &target, AT_FDCWD, &path)
}

pub fn symlinkat(t: &mut Task, a: [u64; 6]) -> SysResult {
    let target = path_arg(t, a[0])?;
    let path = path_arg(t, a[2])?;
    do_symlink(t, &target, fd_arg(a[1]), &path)
}

fn do_link(
    t: &mut Task,
    olddirfd: i32,
    old: &[u8],
    newdirfd: i32,
    new: &[u8],
    flags: u64,
) -> SysResult {
    if flags & !(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH) != 0 {
        bail!(EINVAL);
    }
    let target = lookup_at(
        t,
        olddirfd,
        old,
        flags & AT_SYMLINK_FOLLOW != 0,
        flags & AT_EMPTY_PATH != 0,
    )?;
    let p = parent_at(t, newdirfd, new)?;
    if is_dot(&p.name) || last_of(t, &p)?.is_some() {
        bail!(EEXIST);
    }
    if p.trailing_slash {
        bail!(ENOENT);
    }
    if target.fs.dev != p.dir.fs.dev {
        bail!(EXDEV);
    }
    may_change_dir(t, &p.dir)?;
    if target.is_dir() {
        bail!(EPERM, "hard link to a directory");
    }
    if target.meta.borrow().nlink == 0 {
        bail!(ENOENT, "the file was removed");
    }
    if is_volume(&p.dir) {
        volume::link(&p.dir, &p.name, &target)?;
        target.refresh()?;
        vfs::notify::on_inode(&target, vfs::notify::IN_ATTRIB);
        vfs::notify::created(&p.dir, &p.name, &target);
        return Ok(0);
    }
    target.meta.borrow_mut().nlink += 1;
    target.touch_changed();
    p.dir.link_child(&p.name, target.clone());
    vfs::notify::on_inode(&target, vfs::notify::IN_ATTRIB);
    vfs::notify::created(&p.dir, &p.name, &target);
    Ok(0)
}

pub fn link(t: &mut Task, a: [u64; 6]) -> SysResult {
    let old = path_arg(t, a[0])?;
    let new = path_arg(t, a[1])?;
    do_link(t, AT_FDCWD, &old, AT_FDCWD, &new, 0)
}

pub fn linkat(t: &mut Task, a: [u64; 6]) -> SysResult {
    let old = path_arg(t, a[1])?;
    let new = path_arg(t, a[3])?;
    do_link(
        t,
        fd_arg(a[0]),
        &old,
        fd_arg(a[2]),
        &new,
        a[4] & 0xffff_ffff,
    )
}

fn do_unlink(t: &mut Task, dirfd: i32, path: &[u8], dir: bool) -> SysResult {
    let p = parent_at(t, dirfd, path)?;
    if !path.is_empty() && path.iter().all(|&c| c == b'/') {
        // The root itself.
        return Err(Errno::new(if dir { libc::EBUSY } else { libc::EISDIR }));
    }
    if p.name == b"." {
        return Err(Errno::new(if dir { libc::EINVAL } else { libc::EISDIR }));
    }
    if p.name == b".." {
        return Err(Errno::new(if dir { libc::ENOTEMPTY } else { libc::EISDIR }));
    }
    let victim = last_of(t, &p)?.ok_or_else(|| errno!(ENOENT))?;
    if dir {
        if !victim.is_dir() {
            bail!(ENOTDIR);
        }
    } else if victim.is_dir() {
        bail!(EISDIR);
    } else if p.trailing_slash {
        bail!(ENOTDIR);
    }
    may_change_dir(t, &p.dir)?;
    sticky_ok(t, &p.dir, &victim)?;
    if dir {
        if victim.mounted.borrow().is_some() || victim.is_fs_root() {
            bail!(EBUSY);
        }
        if !victim.is_empty_dir(t)? {
            bail!(ENOTEMPTY);
        }
    }
    if is_volume(&p.dir) {
        volume::unlink(&p.dir, &p.name, dir)?;
    }
    if let Some(gone) = p.dir.unlink_child(&p.name) {
        let mut m = gone.meta.borrow_mut();
        m.nlink = if dir { 0 } else { m.nlink.saturating_sub(1) };
        m.ctime = vfs::now();
        if m.nlink == 0 {
            if let Kind::Regular(d) = &gone.kind {
                if let Data::Memory(v) = &*d.borrow() {
                    // Still-open descriptions keep the data; the space is returned now.
                    gone.fs.uncharge(v.charged());
                }
            }
        }
    }
    vfs::notify::removed(&p.dir, &p.name, &victim);
    Ok(0)
}

pub fn unlink(t: &mut Task, a: [u64; 6]) -> SysResult {
    let path = path_arg(t, a[0])?;
    do_unlink(t, AT_FDCWD, &path, false)
}

pub fn rmdir(t: &mut Task, a: [u64; 6]) -> SysResult {
    let path = path_arg(t, a[0])?;
    do_unlink(t, AT_FDCWD, &path, true)
}

pub fn unlinkat(t: &mut Task, a: [u64; 6]) -> SysResult {
    let flags = a[2] & 0xffff_ffff;
    if flags & !AT_REMOVEDIR != 0 {
        bail!(EINVAL);
    }
    let path = path_arg(t, a[1])?;
    do_unlink(t, fd_arg(a[0]), &path, flags & AT_REMOVEDIR != 0)
}

/// Whether `a` is `b` or one of its ancestors.
fn is_ancestor(a: &Rc<Inode>, b: &Rc<Inode>) -> bool {
    let mut cur = b.clone();
    for _ in 0..4096 {
        if Rc::ptr_eq(&cur, a) {
            return true;
        }
        if cur.is_fs_root() {
            return false;
        }
        cur = cur.parent();
    }
    false
}

const RENAME_NOREPLACE: u64 = 1;
const RENAME_EXCHANGE: u64 = 2;
const RENAME_WHITEOUT: u64 = 4;

fn do_rename(
    t: &mut Task,
    olddirfd: i32,
    old: &[u8],
    newdirfd: i32,
    new: &[u8],
    flags: u64,
) -> SysResult {
    if flags & !(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT) != 0
        || flags & RENAME_EXCHANGE != 0 && flags & (RENAME_NOREPLACE | RENAME_WHITEOUT) != 0
    {
        bail!(EINVAL);
    }
    if flags & RENAME_WHITEOUT != 0 {
        bail!(EINVAL, "RENAME_WHITEOUT is for overlay filesystems");
    }
    let op = parent_at(t, olddirfd, old)?;
    let np = parent_at(t, newdirfd, new)?;
    if is_dot(&op.name) || is_dot(&np.name) {
        bail!(EBUSY);
    }
    if op.dir.fs.dev != np.dir.fs.dev {
        bail!(EXDEV);
    }
    let src = last_of(t, &op)?.ok_or_else(|| errno!(ENOENT))?;
    let dst = last_of(t, &np)?;
    if (op.trailing_slash || np.trailing_slash) && !src.is_dir() {
        bail!(ENOTDIR);
    }
    if flags & RENAME_NOREPLACE != 0 && dst.is_some() {
        bail!(EEXIST);
    }
    if flags & RENAME_EXCHANGE != 0 && dst.is_none() {
        bail!(ENOENT);
    }
    may_change_dir(t, &op.dir)?;
    may_change_dir(t, &np.dir)?;
    if let Some(d) = &dst {
        if Rc::ptr_eq(d, &src) {
            return Ok(0);
        }
        if flags & RENAME_EXCHANGE == 0 {
            if src.is_dir() && !d.is_dir() {
                bail!(ENOTDIR);
            }
            if !src.is_dir() && d.is_dir() {
                bail!(EISDIR);
            }
        }
    }
    if src.is_dir() && is_ancestor(&src, &np.dir) {
        bail!(EINVAL, "moving a directory into itself");
    }
    if let Some(d) = &dst {
        if d.is_dir() && is_ancestor(d, &op.dir) {
            return Err(Errno::new(if flags & RENAME_EXCHANGE != 0 {
                libc::EINVAL
            } else {
                libc::ENOTEMPTY
            }));
        }
    }
    sticky_ok(t, &op.dir, &src)?;
    if let Some(d) = &dst {
        sticky_ok(t, &np.dir, d)?;
        if d.mounted.borrow().is_some() || src.mounted.borrow().is_some() {
            bail!(EBUSY);
        }
        if flags & RENAME_EXCHANGE == 0 && d.is_dir() && !d.is_empty_dir(t)? {
            bail!(ENOTEMPTY);
        }
    }
    if is_volume(&op.dir) {
        volume::rename(&op.dir, &op.name, &np.dir, &np.name, flags as u32)?;
    }
    op.dir.unlink_child(&op.name);
    let mut replaced = None;
    if flags & RENAME_EXCHANGE != 0 {
        let d = dst.clone().ok_or_else(|| errno!(ENOENT))?;
        np.dir.unlink_child(&np.name);
        op.dir.link_child(&op.name, d);
    } else if let Some(d) = np.dir.unlink_child(&np.name) {
        let is_dir = d.is_dir();
        let mut m = d.meta.borrow_mut();
        m.nlink = if is_dir { 0 } else { m.nlink.saturating_sub(1) };
        drop(m);
        replaced = Some(d);
    }
    np.dir.link_child(&np.name, src.clone());
    src.set_name(&np.dir, &np.name);
    src.touch_changed();
    vfs::notify::moved(&op.dir, &op.name, &np.dir, &np.name, &src);
    if flags & RENAME_EXCHANGE != 0 {
        if let Some(d) = &dst {
            d.set_name(&op.dir, &op.name);
            vfs::notify::moved(&np.dir, &np.name, &op.dir, &op.name, d);
        }
    }
    if let Some(d) = replaced {
        // The overwritten file lost a link (and is gone with its last).
        if d.is_dir() || d.meta.borrow().nlink == 0 {
            vfs::notify::gone(&d);
        } else {
            vfs::notify::on_inode(&d, vfs::notify::IN_ATTRIB);
        }
    }
    Ok(0)
}

pub fn rename(t: &mut Task, a: [u64; 6]) -> SysResult {
    let old = path_arg(t, a[0])?;
    let new = path_arg(t, a[1])?;
    do_rename(t, AT_FDCWD, &old, AT_FDCWD, &new, 0)
}

pub fn renameat(t: &mut Task, a: [u64; 6]) -> SysResult {
    let old = path_arg(t, a[1])?;
    let new = path_arg(t, a[3])?;
    do_rename(t, fd_arg(a[0]), &old, fd_arg(a[2]), &new, 0)
}

pub fn renameat2(t: &mut Task, a: [u64; 6]) -> SysResult {
    let old = path_arg(t, a[1])?;
    let new = path_arg(t, a[3])?;
    do_rename(
        t,
        fd_arg(a[0]),
        &old,
        fd_arg(a[2]),
        &new,
        a[4] & 0xffff_ffff,
    )
}

// ---- attributes -----------------------------------------------------------------------------------

fn do_chmod(t: &Task, inode: &Rc<Inode>, mode: u32) -> SysResult {
    let r = chmod_inner(t, inode, mode)?;
    vfs::notify::event(inode, None, vfs::notify::IN_ATTRIB);
    Ok(r)
}

fn chmod_inner(t: &Task, inode: &Rc<Inode>, mode: u32) -> SysResult {
    may_modify(inode)?;
    let uid = t.creds.euid;
    let mut m = inode.meta.borrow_mut();
    if uid != 0 && uid != m.uid {
        bail!(EPERM);
    }
    let mut mode = mode & 0o7777;
    // Without the file's group, a non-root caller cannot set setgid (it is cleared).
    if uid != 0 && m.gid != t.creds.egid && !t.creds.groups.contains(&m.gid) {
        mode &= !0o2000;
    }
    if is_volume(inode) {
        drop(m);
        return volume::set_attr(
            inode,
            gofer::proto::SetAttr {
                mode: Some(mode),
                ..Default::default()
            },
        )
        .map(|()| 0);
    }
    m.mode = (m.mode & S_IFMT) | mode;
    m.ctime = vfs::now();
    Ok(0)
}

pub fn chmod(t: &mut Task, a: [u64; 6]) -> SysResult {
    let path = path_arg(t, a[0])?;
    let inode = lookup_at(t, AT_FDCWD, &path, true, false)?;
    do_chmod(t, &inode, a[1] as u32)
}

pub fn fchmod(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = file(t, fd_arg(a[0]))?;
    if f.vfs().is_some_and(OpenFile::is_path) {
        bail!(EBADF);
    }
    let inode = f.inode().ok_or_else(|| errno!(EPERM, "host stdio fd"))?;
    do_chmod(t, &inode, a[1] as u32)
}

pub fn fchmodat(t: &mut Task, a: [u64; 6]) -> SysResult {
    let path = path_arg(t, a[1])?;
    let inode = lookup_at(t, fd_arg(a[0]), &path, true, false)?;
    do_chmod(t, &inode, a[2] as u32)
}

fn do_chown(t: &Task, inode: &Rc<Inode>, uid: u32, gid: u32) -> SysResult {
    let r = chown_inner(t, inode, uid, gid)?;
    vfs::notify::event(inode, None, vfs::notify::IN_ATTRIB);
    Ok(r)
}

fn chown_inner(t: &Task, inode: &Rc<Inode>, uid: u32, gid: u32) -> SysResult {
    may_modify(inode)?;
    let me = t.creds.euid;
    let mut m = inode.meta.borrow_mut();
    let new_uid = (uid != u32::MAX).then_some(uid);
    let new_gid = (gid != u32::MAX).then_some(gid);
    if me != 0 {
        if new_uid.is_some_and(|u| u != m.uid) {
            bail!(EPERM);
        }
        if let Some(g) = new_gid {
            if me != m.uid || (g != t.creds.egid && !t.creds.groups.contains(&g)) {
                bail!(EPERM);
            }
        }
    }
    if is_volume(inode) {
        drop(m);
        return volume::set_attr(
            inode,
            gofer::proto::SetAttr {
                uid: new_uid,
                gid: new_gid,
                ..Default::default()
            },
        )
        .map(|()| 0);
    }
    if let Some(u) = new_uid {
        m.uid = u;
    }
    if let Some(g) = new_gid {
        m.gid = g;
    }
    if m.mode & S_IFMT != S_IFDIR {
        // Changing the owner clears setuid, and setgid when group-executable.
        m.mode &= !0o4000;
        if m.mode & 0o010 != 0 {
            m.mode &= !0o2000;
        }
    }
    m.ctime = vfs::now();
    Ok(0)
}

pub fn chown(t: &mut Task, a: [u64; 6]) -> SysResult {
    let path = path_arg(t, a[0])?;
    let inode = lookup_at(t, AT_FDCWD, &path, true, false)?;
    do_chown(t, &inode, a[1] as u32, a[2] as u32)
}

pub fn lchown(t: &mut Task, a: [u64; 6]) -> SysResult {
    let path = path_arg(t, a[0])?;
    let inode = lookup_at(t, AT_FDCWD, &path, false, false)?;
    do_chown(t, &inode, a[1] as u32, a[2] as u32)
}

pub fn fchown(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = file(t, fd_arg(a[0]))?;
    if f.vfs().is_some_and(OpenFile::is_path) {
        bail!(EBADF);
    }
    let inode = f.inode().ok_or_else(|| errno!(EPERM, "host stdio fd"))?;
    do_chown(t, &inode, a[1] as u32, a[2] as u32)
}

pub fn fchownat(t: &mut Task, a: [u64; 6]) -> SysResult {
    let flags = a[4] & 0xffff_ffff;
    if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
        bail!(EINVAL);
    }
    let path = path_arg(t, a[1])?;
    let inode = lookup_at(
        t,
        fd_arg(a[0]),
        &path,
        flags & AT_SYMLINK_NOFOLLOW == 0,
        flags & AT_EMPTY_PATH != 0,
    )?;
    do_chown(t, &inode, a[2] as u32, a[3] as u32)
}

const UTIME_NOW: i64 = (1 << 30) - 1;
const UTIME_OMIT: i64 = (1 << 30) - 2;

fn set_times(t: &Task, inode: &Rc<Inode>, times: Option<[abi::Timespec; 2]>) -> SysResult {
    let r = set_times_inner(t, inode, times)?;
    vfs::notify::event(inode, None, vfs::notify::IN_ATTRIB);
    Ok(r)
}

fn set_times_inner(t: &Task, inode: &Rc<Inode>, times: Option<[abi::Timespec; 2]>) -> SysResult {
    may_modify(inode)?;
    let uid = t.creds.euid;
    let owner = uid == 0 || uid == inode.meta.borrow().uid;
    let explicit = times.is_some_and(|ts| {
        ts.iter()
            .any(|x| x.tv_nsec != UTIME_NOW && x.tv_nsec != UTIME_OMIT)
    });
    if explicit && !owner {
        bail!(EPERM);
    }
    if !explicit && !owner {
        permission(inode, MAY_WRITE, &t.cred())?;
    }
    let now = vfs::now();
    let ts = times.unwrap_or(
        [abi::Timespec {
            tv_sec: 0,
            tv_nsec: UTIME_NOW,
        }; 2],
    );
    if is_volume(inode) {
        for x in &ts {
            if x.tv_nsec != UTIME_NOW
                && x.tv_nsec != UTIME_OMIT
                && !(0..1_000_000_000).contains(&x.tv_nsec)
            {
                bail!(EINVAL, "bad tv_nsec");
            }
        }
        let conv = |x: &abi::Timespec| match x.tv_nsec {
            UTIME_OMIT => None,
            _ => Some((x.tv_sec, x.tv_nsec)),
        };
        return volume::set_attr(
            inode,
            gofer::proto::SetAttr {
                atime: conv(&ts[0]),
                mtime: conv(&ts[1]),
                ..Default::default()
            },
        )
        .map(|()| 0);
    }
    let mut m = inode.meta.borrow_mut();
    for (i, x) in ts.iter().enumerate() {
        let v = match x.tv_nsec {
            UTIME_OMIT => continue,
            UTIME_NOW => now,
            n if !(0..1_000_000_000).contains(&n) => bail!(EINVAL, "bad tv_nsec"),
            n => (x.tv_sec, n as u32),
        };
        if i == 0 {
            m.atime = v;
        } else {
            m.mtime = v;
        }
    }
    m.ctime = now;
    Ok(0)
}

pub fn utimensat(t: &mut Task, a: [u64; 6]) -> SysResult {
    let flags = a[3] & 0xffff_ffff;
    if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
        bail!(EINVAL);
    }
    let times = if a[2] == 0 {
        None
    } else {
        Some(t.mm.read_obj::<[abi::Timespec; 2]>(UserAddr(a[2]))?)
    };
    if let Some(ts) = &times {
        // Both times are checked before either changes.
        if ts.iter().any(|x| {
            x.tv_nsec != UTIME_NOW
                && x.tv_nsec != UTIME_OMIT
                && !(0..1_000_000_000).contains(&x.tv_nsec)
        }) {
            bail!(EINVAL, "bad tv_nsec");
        }
    }
    let inode = if a[1] == 0 {
        // futimens: the fd itself (a NULL path with AT_FDCWD is a bad path pointer).
        if fd_arg(a[0]) == AT_FDCWD {
            bail!(EFAULT);
        }
        if flags != 0 {
            bail!(EINVAL, "flags with a NULL path");
        }
        file(t, fd_arg(a[0]))?
            .inode()
            .ok_or_else(|| errno!(EPERM))?
    } else {
        let path = path_arg(t, a[1])?;
        lookup_at(
            t,
            fd_arg(a[0]),
            &path,
            flags & AT_SYMLINK_NOFOLLOW == 0,
            flags & AT_EMPTY_PATH != 0,
        )?
    };
    set_times(t, &inode, times)
}

fn timevals(t: &Task, addr: u64) -> Result<Option<[abi::Timespec; 2]>, Errno> {
    if addr == 0 {
        return Ok(None);
    }
    let tv: [abi::Timeval; 2] = t.mm.read_obj(UserAddr(addr))?;
    let mut out = [abi::Timespec::default(); 2];
    for i in 0..2 {
        if !(0..1_000_000).contains(&tv[i].tv_usec) {
            bail!(EINVAL);
        }
        out[i] = abi::Timespec {
            tv_sec: tv[i].tv_sec,
            tv_nsec: tv[i].tv_usec * 1000,
        };
    }
    Ok(Some(out))
}

pub fn utimes(t: &mut Task, a: [u64; 6]) -> SysResult {
    let path = path_arg(t, a[0])?;
    let times = timevals(t, a[1])?;
    let inode = lookup_at(t, AT_FDCWD, &path, true, false)?;
    set_times(t, &inode, times)
}

pub fn futimesat(t: &mut Task, a: [u64; 6]) -> SysResult {
    let path = path_arg(t, a[1])?;
    let times = timevals(t, a[2])?;
    let inode = lookup_at(t, fd_arg(a[0]), &path, true, false)?;
    set_times(t, &inode, times)
}

pub fn utime(t: &mut Task, a: [u64; 6]) -> SysResult {
    let path = path_arg(t, a[0])?;
    let times = if a[1] == 0 {
        None
    } else {
        let tb: [i64; 2] = t.mm.read_obj(UserAddr(a[1]))?;
        Some([
            abi::Timespec {
                tv_sec: tb[0],
                tv_nsec: 0,
            },
            abi::Timespec {
                tv_sec: tb[1],
                tv_nsec: 0,
            },
        ])
    };
    let inode = lookup_at(t, AT_FDCWD, &path, true, false)?;
    set_times(t, &inode, times)
}

pub fn truncate(t: &mut Task, a: [u64; 6]) -> SysResult {
    let path = path_arg(t, a[0])?;
    let len = a[1].cast_signed();
    if len < 0 {
        bail!(EINVAL);
    }
    let inode = lookup_at(t, AT_FDCWD, &path, true, false)?;
    if inode.is_dir() {
        bail!(EISDIR);
    }
    if !matches!(inode.kind, Kind::Regular(_)) {
        bail!(EINVAL);
    }
    may_modify(&inode)?;
    permission(&inode, MAY_WRITE, &t.cred())?;
    truncate_inode(&inode, len.cast_unsigned())?;
    Ok(0)
}

// ---- working directory, statfs --------------------------------------------------------------------

pub fn chdir(t: &mut Task, a: [u64; 6]) -> SysResult {
    let path = path_arg(t, a[0])?;
    let inode = lookup_at(t, AT_FDCWD, &path, true, false)?;
    if !inode.is_dir() {
        bail!(ENOTDIR);
    }
    permission(&inode, MAY_EXEC, &t.cred())?;
    t.fs.cwd = inode;
    Ok(0)
}

pub fn chroot(t: &mut Task, a: [u64; 6]) -> SysResult {
    let path = path_arg(t, a[0])?;
    let inode = lookup_at(t, AT_FDCWD, &path, true, false)?;
    if !inode.is_dir() {
        bail!(ENOTDIR);
    }
    permission(&inode, MAY_EXEC, &t.cred())?;
    if t.creds.euid != 0 {
        bail!(EPERM);
    }
    t.fs.root = inode;
    Ok(0)
}

pub fn getcwd(t: &mut Task, a: [u64; 6]) -> SysResult {
    let cwd = &t.fs.cwd;
    if cwd.is_dir() && cwd.meta.borrow().nlink == 0 {
        bail!(ENOENT, "the working directory was removed");
    }
    let mut path = match vfs::path_of(cwd, &t.fs.root) {
        Some(p) => p,
        None => {
            let mut p = b"(unreachable)".to_vec();
            p.extend(vfs::path_of(cwd, &cwd.clone()).unwrap_or_default());
            p
        }
    };
    path.push(0);
    // Linux builds the path in one page.
    if path.len() > abi::PAGE_SIZE as usize {
        bail!(ENAMETOOLONG);
    }
    let size = usize::try_from(a[1]).unwrap_or(usize::MAX);
    if size < path.len() {
        bail!(ERANGE);
    }
    t.mm.copy_out(UserAddr(a[0]), &path)?;
    Ok(path.len() as u64)
}

/// struct statfs for `inode`'s filesystem.
fn statfs_of(inode: &Rc<Inode>) -> Result<[i64; 15], Errno> {
    let fs = &inode.fs;
    let mut st = [0i64; 15];
    st[0] = fs.magic;
    st[1] = 4096;
    let (blocks, free) = match fs.limit {
        Some(l) => (l / 4096, l.saturating_sub(fs.used.get()) / 4096),
        None => (0, 0),
    };
    if fs.kind == vfs::FsKind::Overlay {
        if let Some(lower) = &inode.lower {
            if let Ok((gofer::proto::Reply::StatFs(s), _)) = lower
                .gofer
                .call(&gofer::proto::Request::StatFs { fid: lower.fid })
            {
                st[1] = s.bsize;
                st[2] = s.blocks as i64;
                st[3] = s.bfree as i64;
                st[4] = s.bavail as i64;
                st[5] = s.files as i64;
                st[6] = s.ffree as i64;
            }
        }
    } else {
        st[2] = blocks as i64;
        st[3] = free as i64;
        st[4] = free as i64;
        st[5] = 1 << 20;
        st[6] = 1 << 20;
    }
    st[7] = fs.dev as i64; // f_fsid
    st[8] = 255; // f_namelen
    st[9] = st[1]; // f_frsize
    st[10] = if fs.readonly { 1 } else { 0 } | 0x20; // ST_RDONLY | ST_RELATIME
    Ok(st)
}

pub fn statfs(t: &mut Task, a: [u64; 6]) -> SysResult {
    let path = path_arg(t, a[0])?;
    let inode = lookup_at(t, AT_FDCWD, &path, true, false)?;
    let st = statfs_of(&inode)?;
    t.mm.write_obj(UserAddr(a[1]), &st)?;
    Ok(0)
}

pub fn fstatfs(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = file(t, fd_arg(a[0]))?;
    let st = match f.inode() {
        Some(inode) => statfs_of(&inode)?,
        None => {
            let mut st = [0i64; 15];
            st[0] = 0x0102_1994;
            st[1] = 4096;
            st[8] = 255;
            st[9] = 4096;
            st
        }
    };
    t.mm.write_obj(UserAddr(a[1]), &st)?;
    Ok(0)
}

// ---- memfd ----------------------------------------------------------------------------------------

const MFD_CLOEXEC: u64 = 1;
const MFD_ALLOW_SEALING: u64 = 2;
const MFD_HUGETLB: u64 = 4;
const MFD_NOEXEC_SEAL: u64 = 8;
const MFD_EXEC: u64 = 0x10;

pub fn memfd_create(t: &mut Task, a: [u64; 6]) -> SysResult {
    let flags = a[1] & 0xffff_ffff;
    if flags & !(MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_HUGETLB | MFD_NOEXEC_SEAL | MFD_EXEC) != 0
        || flags & MFD_NOEXEC_SEAL != 0 && flags & MFD_EXEC != 0
    {
        bail!(EINVAL, "bad flags");
    }
    if flags & MFD_HUGETLB != 0 {
        // No huge page pool in the sandbox, as on a host with vm.nr_hugepages = 0.
        bail!(EINVAL, "MFD_HUGETLB");
    }
    // NAME_MAX minus the "memfd:" prefix.
    let name = t.mm.read_cstr(UserAddr(a[0]), 250).map_err(|e| {
        if e.code == libc::ENAMETOOLONG {
            errno!(EINVAL, "name too long")
        } else {
            e
        }
    })?;
    if name.len() > 249 {
        bail!(EINVAL, "name too long");
    }
    let fs = t.k.memfd_fs(&t.mm.memory_arc());
    let mode = if flags & MFD_NOEXEC_SEAL != 0 {
        0o666
    } else {
        0o777
    };
    let mut meta = Meta::new(S_IFREG | mode, t.creds.euid, t.creds.egid);
    meta.nlink = 0;
    let inode = Inode::new_memory(
        &fs,
        meta,
        Kind::Regular(RefCell::new(Data::Memory(vfs::pages::Pages::new(
            &t.mm.memory_arc(),
        )))),
    );
    let mut shown = b"memfd:".to_vec();
    shown.extend_from_slice(&name);
    let origin = vfs::Origin {
        // Shown as "/memfd:NAME (deleted)", as Linux does.
        dir: Some(t.fs.root.clone()),
        name: shown,
    };
    let of = OpenFile::new(inode, origin, O_RDWR | O_LARGEFILE);
    let limit = usize::try_from(t.rlimits[abi::RLIMIT_NOFILE].cur.min(abi::NR_OPEN)).unwrap_or(0);
    let fd = t
        .fds
        .install(Rc::new(File::Vfs(of)), flags & MFD_CLOEXEC != 0, 0, limit)
        .ok_or_else(|| errno!(EMFILE))?;
    Ok(fd as u64)
}
