//! The host calls the Gofer makes, each relative to a directory fd it holds and never following a
//! symlink. All of the Gofer's unsafe code is here.

use crate::proto::{Attr, Dirent, SetAttr, Statfs};
use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, IntoRawFd, OwnedFd};

fn cstr(name: &[u8]) -> io::Result<CString> {
    CString::new(name).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))
}

fn check(r: libc::c_int) -> io::Result<libc::c_int> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

/// `openat(dir, name, flags)`; `O_CLOEXEC` is always added.
pub fn openat(dir: BorrowedFd<'_>, name: &[u8], flags: i32, mode: u32) -> io::Result<OwnedFd> {
    let name = cstr(name)?;
    // SAFETY: name is NUL-terminated; the fd returned is new and owned by nobody else.
    let fd = check(unsafe {
        libc::openat(
            dir.as_raw_fd(),
            name.as_ptr(),
            flags | libc::O_CLOEXEC,
            mode,
        )
    })?;
    // SAFETY: fd was just returned by openat and is not owned elsewhere.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Attributes of the file `fd` refers to (an `O_PATH` fd is fine).
pub fn stat(fd: BorrowedFd<'_>) -> io::Result<Attr> {
    // SAFETY: statx is plain data; all-zero is a valid value.
    let mut st: libc::statx = unsafe { std::mem::zeroed() };
    // SAFETY: the path is an empty NUL-terminated string and st is a valid out pointer.
    check(unsafe {
        libc::statx(
            fd.as_raw_fd(),
            c"".as_ptr(),
            libc::AT_EMPTY_PATH | libc::AT_SYMLINK_NOFOLLOW,
            libc::STATX_BASIC_STATS,
            &mut st,
        )
    })?;
    let ts = |t: libc::statx_timestamp| (t.tv_sec, t.tv_nsec);
    Ok(Attr {
        mode: u32::from(st.stx_mode),
        nlink: u64::from(st.stx_nlink),
        uid: st.stx_uid,
        gid: st.stx_gid,
        rdev: libc::makedev(st.stx_rdev_major, st.stx_rdev_minor),
        size: st.stx_size,
        blksize: u64::from(st.stx_blksize),
        blocks: st.stx_blocks,
        atime: ts(st.stx_atime),
        mtime: ts(st.stx_mtime),
        ctime: ts(st.stx_ctime),
        ino: st.stx_ino,
        dev: libc::makedev(st.stx_dev_major, st.stx_dev_minor),
    })
}

/// The target of the symlink `fd` (an `O_PATH|O_NOFOLLOW` fd of it).
pub fn readlink(fd: BorrowedFd<'_>) -> io::Result<Vec<u8>> {
    let mut buf = vec![0u8; libc::PATH_MAX as usize];
    // SAFETY: buf is valid for buf.len() bytes; the path is empty, naming fd itself.
    let n = unsafe {
        libc::readlinkat(
            fd.as_raw_fd(),
            c"".as_ptr(),
            buf.as_mut_ptr().cast(),
            buf.len(),
        )
    };
    let n = usize::try_from(n).map_err(|_| io::Error::last_os_error())?;
    buf.truncate(n);
    Ok(buf)
}

pub fn statfs(fd: BorrowedFd<'_>) -> io::Result<Statfs> {
    // SAFETY: statfs is plain data; all-zero is valid.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: st is a valid out pointer.
    check(unsafe { libc::fstatfs(fd.as_raw_fd(), &mut st) })?;
    Ok(Statfs {
        kind: st.f_type,
        bsize: st.f_bsize,
        blocks: st.f_blocks,
        bfree: st.f_bfree,
        bavail: st.f_bavail,
        files: st.f_files,
        ffree: st.f_ffree,
        namelen: st.f_namelen,
        frsize: st.f_frsize,
        flags: 0,
    })
}

/// All entries of the open directory `fd` but `.` and `..`.
pub fn read_dir(fd: &OwnedFd) -> io::Result<Vec<Dirent>> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 32 * 1024];
    loop {
        // SAFETY: buf is valid for buf.len() bytes.
        let n = unsafe {
            libc::syscall(
                libc::SYS_getdents64,
                fd.as_raw_fd(),
                buf.as_mut_ptr(),
                buf.len(),
            )
        };
        let n = usize::try_from(n).map_err(|_| io::Error::last_os_error())?;
        if n == 0 {
            return Ok(out);
        }
        let mut off = 0;
        // struct linux_dirent64 { u64 ino; i64 off; u16 reclen; u8 type; char name[]; }
        while off + 19 <= n {
            let ino = u64::from_ne_bytes(buf[off..off + 8].try_into().unwrap_or_default());
            let reclen = usize::from(u16::from_ne_bytes([buf[off + 16], buf[off + 17]]));
            let kind = buf[off + 18];
            if reclen < 19 || off + reclen > n {
                return Err(io::Error::from_raw_os_error(libc::EIO));
            }
            let name = &buf[off + 19..off + reclen];
            let name = &name[..name.iter().position(|&c| c == 0).unwrap_or(name.len())];
            if name != b"." && name != b".." {
                out.push(Dirent {
                    name: name.to_vec(),
                    ino,
                    kind,
                });
            }
            off += reclen;
        }
    }
}

pub fn mkdirat(dir: BorrowedFd<'_>, name: &[u8], mode: u32) -> io::Result<()> {
    let name = cstr(name)?;
    // SAFETY: name is NUL-terminated.
    check(unsafe { libc::mkdirat(dir.as_raw_fd(), name.as_ptr(), mode) })?;
    Ok(())
}

pub fn mknodat(dir: BorrowedFd<'_>, name: &[u8], mode: u32, rdev: u64) -> io::Result<()> {
    let name = cstr(name)?;
    // SAFETY: name is NUL-terminated.
    check(unsafe { libc::mknodat(dir.as_raw_fd(), name.as_ptr(), mode, rdev) })?;
    Ok(())
}

pub fn symlinkat(target: &[u8], dir: BorrowedFd<'_>, name: &[u8]) -> io::Result<()> {
    let (target, name) = (cstr(target)?, cstr(name)?);
    // SAFETY: both strings are NUL-terminated.
    check(unsafe { libc::symlinkat(target.as_ptr(), dir.as_raw_fd(), name.as_ptr()) })?;
    Ok(())
}

/// Links the file `target` (an `O_PATH` fd) as `name` in `dir`.
pub fn linkat(target: BorrowedFd<'_>, dir: BorrowedFd<'_>, name: &[u8]) -> io::Result<()> {
    let name = cstr(name)?;
    // SAFETY: the strings are NUL-terminated; AT_EMPTY_PATH names target itself.
    check(unsafe {
        libc::linkat(
            target.as_raw_fd(),
            c"".as_ptr(),
            dir.as_raw_fd(),
            name.as_ptr(),
            libc::AT_EMPTY_PATH,
        )
    })?;
    Ok(())
}

pub fn unlinkat(dir: BorrowedFd<'_>, name: &[u8], flags: i32) -> io::Result<()> {
    let name = cstr(name)?;
    // SAFETY: name is NUL-terminated.
    check(unsafe { libc::unlinkat(dir.as_raw_fd(), name.as_ptr(), flags) })?;
    Ok(())
}

pub fn renameat2(
    old_dir: BorrowedFd<'_>,
    old: &[u8],
    new_dir: BorrowedFd<'_>,
    new: &[u8],
    flags: u32,
) -> io::Result<()> {
    let (old, new) = (cstr(old)?, cstr(new)?);
    // SAFETY: both names are NUL-terminated.
    check(unsafe {
        libc::renameat2(
            old_dir.as_raw_fd(),
            old.as_ptr(),
            new_dir.as_raw_fd(),
            new.as_ptr(),
            flags,
        )
    })?;
    Ok(())
}

/// Applies `attr` to an fd opened for it (`O_RDONLY`, or `O_WRONLY` when the size changes).
pub fn set_attr(fd: BorrowedFd<'_>, attr: &SetAttr) -> io::Result<()> {
    let raw = fd.as_raw_fd();
    if let Some(mode) = attr.mode {
        // SAFETY: plain syscall on our fd.
        check(unsafe { libc::fchmod(raw, mode & 0o7777) })?;
    }
    if attr.uid.is_some() || attr.gid.is_some() {
        let uid = attr.uid.unwrap_or(u32::MAX);
        let gid = attr.gid.unwrap_or(u32::MAX);
        // SAFETY: plain syscall on our fd; -1 leaves an id unchanged.
        check(unsafe { libc::fchown(raw, uid, gid) })?;
    }
    if let Some(size) = attr.size {
        let size = i64::try_from(size).map_err(|_| io::Error::from_raw_os_error(libc::EFBIG))?;
        // SAFETY: plain syscall on our fd.
        check(unsafe { libc::ftruncate(raw, size) })?;
    }
    if attr.atime.is_some() || attr.mtime.is_some() {
        let ts = |t: Option<(i64, i64)>| libc::timespec {
            tv_sec: t.map_or(0, |t| t.0),
            tv_nsec: t.map_or(libc::UTIME_OMIT, |t| t.1),
        };
        let times = [ts(attr.atime), ts(attr.mtime)];
        // SAFETY: times is a valid array of two timespecs.
        check(unsafe { libc::futimens(raw, times.as_ptr()) })?;
    }
    Ok(())
}

/// Changes the owner of a symlink (which cannot be opened) by its `O_PATH` fd.
pub fn chown_path(fd: BorrowedFd<'_>, uid: Option<u32>, gid: Option<u32>) -> io::Result<()> {
    // SAFETY: the path is empty, naming fd itself.
    check(unsafe {
        libc::fchownat(
            fd.as_raw_fd(),
            c"".as_ptr(),
            uid.unwrap_or(u32::MAX),
            gid.unwrap_or(u32::MAX),
            libc::AT_EMPTY_PATH | libc::AT_SYMLINK_NOFOLLOW,
        )
    })?;
    Ok(())
}

pub fn fgetxattr(fd: BorrowedFd<'_>, name: &[u8]) -> io::Result<Vec<u8>> {
    let name = cstr(name)?;
    let mut buf = vec![0u8; 64 * 1024 - 64];
    // SAFETY: name is NUL-terminated; buf is valid for its length.
    let n = unsafe {
        libc::fgetxattr(
            fd.as_raw_fd(),
            name.as_ptr(),
            buf.as_mut_ptr().cast(),
            buf.len(),
        )
    };
    let n = usize::try_from(n).map_err(|_| io::Error::last_os_error())?;
    buf.truncate(n);
    Ok(buf)
}

pub fn flistxattr(fd: BorrowedFd<'_>) -> io::Result<Vec<u8>> {
    let mut buf = vec![0u8; 64 * 1024 - 64];
    // SAFETY: buf is valid for its length.
    let n = unsafe { libc::flistxattr(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
    let n = usize::try_from(n).map_err(|_| io::Error::last_os_error())?;
    buf.truncate(n);
    Ok(buf)
}

pub fn fsetxattr(fd: BorrowedFd<'_>, name: &[u8], value: &[u8], flags: i32) -> io::Result<()> {
    let name = cstr(name)?;
    // SAFETY: name is NUL-terminated; value is valid for its length.
    check(unsafe {
        libc::fsetxattr(
            fd.as_raw_fd(),
            name.as_ptr(),
            value.as_ptr().cast(),
            value.len(),
            flags,
        )
    })?;
    Ok(())
}

pub fn fremovexattr(fd: BorrowedFd<'_>, name: &[u8]) -> io::Result<()> {
    let name = cstr(name)?;
    // SAFETY: name is NUL-terminated.
    check(unsafe { libc::fremovexattr(fd.as_raw_fd(), name.as_ptr()) })?;
    Ok(())
}

/// Whether the calling process has one thread (`/proc/self/stat`'s num_threads).
fn single_threaded() -> bool {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return false;
    };
    // The fields after the command name (which may hold spaces) start at the last ')'.
    stat.rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().nth(17))
        .is_some_and(|n| n == "1")
}

/// Starts `serve` in a child process that is a fork of this one, with `stdin` and `stdout` as
/// its fds 0 and 1, its fd 2 inherited and every other fd closed, in a process group of its
/// own; the child exits with `serve`'s result and never returns here. The child is named
/// `name` where ps and /proc look (its comm, and its command line becomes `ARGV0 NAME`), as if
/// exec'd as `ARGV0 NAME`. A fork without an exec saves the child the runrs executable's start
/// (~1.5 ms of dynamic linking and argument parsing here).
///
/// Only where the caller has one thread (no other thread can hold a lock the child would then
/// wait on for ever): otherwise `Ok(None)`, and the caller starts the child another way.
pub fn fork_child(
    name: &str,
    stdin: OwnedFd,
    stdout: OwnedFd,
    serve: impl FnOnce() -> i32,
) -> io::Result<Option<libc::pid_t>> {
    if !single_threaded() {
        return Ok(None);
    }
    // The process has one thread, so the child's copy of every lock is free; the child runs
    // `serve` and exits without returning into the caller's frames.
    // SAFETY: as just said: no lock held, no frame of the caller's returned to.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(io::Error::last_os_error());
    }
    if pid > 0 {
        return Ok(Some(pid));
    }
    // The child. The caller's tracing subscriber may write to an fd closed below: nothing is
    // logged here (the exec'd Gofer logged nothing either).
    let _quiet = tracing::subscriber::set_default(tracing::subscriber::NoSubscriber::default());
    let code = child_setup(stdin, stdout, name).map_or(126, |()| serve());
    // No destructor or atexit handler of the parent's state runs (buffered output the parent
    // holds is not written twice).
    // SAFETY: _exit ends the process at once.
    unsafe { libc::_exit(code) }
}

/// Rewrites the process's command line (the argument strings on its initial stack, which
/// /proc/PID/cmdline shows) to `argv0 NUL arg NUL`, padded with NULs, where it fits; and its
/// comm to `arg`. Written through /proc/self/mem, as setproctitle does.
fn set_process_name(arg: &str) -> io::Result<()> {
    let short: Vec<u8> = arg.bytes().take(15).collect();
    let comm = cstr(&short)?;
    // SAFETY: PR_SET_NAME reads a NUL-terminated string of at most 16 bytes.
    unsafe { libc::prctl(libc::PR_SET_NAME, comm.as_ptr()) };
    let stat = std::fs::read_to_string("/proc/self/stat")?;
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or(Vec::new(), |(_, rest)| rest.split_whitespace().collect());
    // arg_start and arg_end are fields 48 and 49; `fields` starts at field 3.
    let field = |n: usize| fields.get(n - 3).and_then(|f| f.parse::<u64>().ok());
    let (Some(start), Some(end)) = (field(48), field(49)) else {
        return Ok(());
    };
    let old = std::fs::read("/proc/self/cmdline")?;
    let argv0 = old.split(|&b| b == 0).next().unwrap_or_default();
    let mut line = Vec::with_capacity(usize::try_from(end - start).unwrap_or(0));
    line.extend_from_slice(argv0);
    line.push(0);
    line.extend_from_slice(arg.as_bytes());
    line.push(0);
    let Some(pad) = usize::try_from(end.saturating_sub(start))
        .ok()
        .and_then(|len| len.checked_sub(line.len()))
    else {
        return Ok(());
    };
    line.resize(line.len() + pad, 0);
    let mem = std::fs::OpenOptions::new()
        .write(true)
        .open("/proc/self/mem")?;
    std::os::unix::fs::FileExt::write_all_at(&mem, &line, start)
}

/// In a forked child: fds 0 and 1, every fd past 2 closed, a process group of its own, no
/// blocked signals, its name.
fn child_setup(stdin: OwnedFd, stdout: OwnedFd, name: &str) -> io::Result<()> {
    // Cosmetic (ps, /proc): a host that forbids writing /proc/self/mem leaves runrs's own.
    let _ = set_process_name(name);
    // Either may be fd 0 or 1 itself (runrs started with its stdin closed): both go clear of
    // 0 to 2 first, then onto 0 and 1. The copies above 2 close with the rest below.
    let (stdin, stdout) = (stdin.into_raw_fd(), stdout.into_raw_fd());
    // SAFETY: plain fd and process calls on fds this child now owns by number.
    unsafe {
        let i = check(libc::fcntl(stdin, libc::F_DUPFD, 3))?;
        let o = check(libc::fcntl(stdout, libc::F_DUPFD, 3))?;
        check(libc::dup2(i, 0))?;
        check(libc::dup2(o, 1))?;
        check(libc::setpgid(0, 0))?;
        let mut empty: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut empty);
        libc::sigprocmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut());
    }
    // Nothing else of the caller's: not its close-on-exec fds (as an exec would close them),
    // nor any other it inherited (a jobserver pipe, say), which an exec would have kept.
    // SAFETY: the fds are the caller's, which this child never returns to.
    check(unsafe { libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32) } as libc::c_int)?;
    Ok(())
}
