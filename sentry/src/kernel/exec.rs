//! Finding and reading what execve runs: the file through the VFS (execute permission, regular
//! file, EACCES/ENOEXEC as Linux), `#!` scripts (nested up to Linux's 4 levels, ELOOP past that),
//! and an ELF's interpreter.

use super::Task;
use crate::errno;
use crate::errors::{from_host, Errno};
use crate::loader::{ImageFile, ImageSource};
use crate::vfs::walk::Walker;
use crate::vfs::{permission, Data, Inode, Kind, MAY_EXEC};
use std::io::Read as _;
use std::rc::Rc;

/// Linux's BINPRM_BUF_SIZE: how much of a `#!` line is read.
const BINPRM_BUF_SIZE: usize = 256;
/// Linux's limit of nested interpreters.
const MAX_RECURSION: usize = 4;

/// A program ready to load.
pub struct Prepared {
    /// The file executed and its absolute path (for /proc/PID/exe).
    pub exe: Rc<Inode>,
    pub exe_path: Vec<u8>,
    pub image: ImageFile,
    pub interp: Option<ImageFile>,
    /// argv after `#!` rewriting.
    pub argv: Vec<Vec<u8>>,
}

/// Opens an executable: its head (headers, or a `#!` line) read, the rest left in the file.
/// `path` names its mappings in /proc/PID/maps.
pub fn open_image(inode: &Rc<Inode>, path: &[u8]) -> Result<ImageFile, Errno> {
    let label = Some(std::sync::Arc::new(crate::mm::FileLabel {
        name: path.to_vec(),
        dev: inode.fs.dev,
        ino: inode.ino,
    }));
    if let Kind::Regular(d) = &inode.kind {
        if let Data::Memory(v) = &*d.borrow() {
            let mut image = ImageFile::from_bytes(v.to_vec());
            image.label = label;
            return Ok(image);
        }
    }
    if !matches!(inode.kind, Kind::Regular(_)) {
        return Err(errno!(EACCES));
    }
    let fd = inode.lower_ro_fd()?;
    let size = inode.meta.borrow().size;
    let mut head = pread_head(&fd, 4096, size)?;
    if let Some(need) = crate::loader::head_needed(&head) {
        if need > head.len() && need <= crate::loader::MAX_HEAD {
            head = pread_head(&fd, need, size)?;
        }
    }
    // An ELF file's segments map its cached pages (a `#!` script's are never mapped).
    let pages = if head.starts_with(b"\x7fELF") {
        inode.file_pages()?
    } else {
        None
    };
    Ok(ImageFile {
        head,
        size,
        source: ImageSource::Host(fd),
        label,
        pages,
    })
}

/// Reads up to `want` bytes from the start of a host file.
fn pread_head(fd: &crate::vfs::CachedFd, want: usize, size: u64) -> Result<Vec<u8>, Errno> {
    use std::os::unix::fs::FileExt;
    let want = want.min(usize::try_from(size).unwrap_or(usize::MAX));
    let f = std::fs::File::from(
        std::os::fd::AsFd::as_fd(fd)
            .try_clone_to_owned()
            .map_err(from_host)?,
    );
    let mut v = vec![0u8; want];
    let mut got = 0;
    while got < want {
        match f.read_at(&mut v[got..], got as u64) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(from_host(e)),
        }
    }
    v.truncate(got);
    Ok(v)
}

/// Reads a whole regular file.
pub fn read_file(inode: &Inode) -> Result<Vec<u8>, Errno> {
    match &inode.kind {
        Kind::Regular(d) => {
            if let Data::Memory(v) = &*d.borrow() {
                return Ok(v.to_vec());
            }
            let fd = inode.open_lower(libc::O_RDONLY)?;
            let mut f = std::fs::File::from(fd);
            let mut v = Vec::new();
            f.read_to_end(&mut v).map_err(from_host)?;
            Ok(v)
        }
        Kind::Dir(_) => Err(errno!(EISDIR)),
        _ => Err(errno!(EACCES)),
    }
}

/// Resolves an executable the way execve does, from `start`; returns it and its absolute path.
fn open_exec(t: &Task, start: &Rc<Inode>, path: &[u8]) -> Result<(Rc<Inode>, Vec<u8>), Errno> {
    let mut w = Walker::new(t);
    let inode = w.lookup(start, path, true)?;
    if !matches!(inode.kind, Kind::Regular(_)) {
        return Err(errno!(EACCES, "not a regular file"));
    }
    permission(&inode, MAY_EXEC, &t.cred())?;
    let abs = w.path_of(&inode);
    Ok((inode, abs))
}

/// Prepares `path` with `argv` for loading: follows `#!` lines and reads the interpreter.
pub fn prepare(
    t: &Task,
    start: &Rc<Inode>,
    path: &[u8],
    argv: Vec<Vec<u8>>,
) -> Result<Prepared, Errno> {
    let mut argv = argv;
    let mut path = path.to_vec();
    for _ in 0..=MAX_RECURSION {
        // The executable's fd comes with its walk.
        let (inode, abs) = crate::vfs::for_reading(|| open_exec(t, start, &path))?;
        let image = open_image(&inode, &abs)?;
        let head = &image.head;
        if head.starts_with(b"#!") {
            let line = &head[2..head.len().min(BINPRM_BUF_SIZE)];
            let line = match line.iter().position(|&c| c == b'\n') {
                Some(n) => &line[..n],
                None if image.size > BINPRM_BUF_SIZE as u64 => {
                    return Err(errno!(ENOEXEC, "#! line too long"))
                }
                None => line,
            };
            let line = trim(line);
            let (interp, arg) = match line.iter().position(|&c| c == b' ' || c == b'\t') {
                Some(n) => (&line[..n], Some(trim(&line[n..]))),
                None => (line, None),
            };
            if interp.is_empty() {
                return Err(errno!(ENOEXEC, "empty #! line"));
            }
            let mut new = vec![interp.to_vec()];
            if let Some(a) = arg.filter(|a| !a.is_empty()) {
                new.push(a.to_vec());
            }
            new.push(path.clone());
            new.extend(argv.into_iter().skip(1));
            argv = new;
            path = interp.to_vec();
            continue;
        }
        if !head.starts_with(b"\x7fELF") {
            return Err(errno!(ENOEXEC));
        }
        let interp = match crate::loader::interpreter(head) {
            Some(ipath) => {
                // A missing interpreter is ENOENT, as on Linux.
                let mut w = Walker::new(t);
                let i = crate::vfs::for_reading(|| w.lookup(start, &ipath, true))?;
                let ipath_abs = w.path_of(&i);
                if !matches!(i.kind, Kind::Regular(_)) {
                    return Err(errno!(EACCES));
                }
                Some(open_image(&i, &ipath_abs)?)
            }
            None => None,
        };
        return Ok(Prepared {
            exe: inode,
            exe_path: abs,
            image,
            interp,
            argv,
        });
    }
    Err(errno!(ELOOP, "too many nested #! interpreters"))
}

fn trim(s: &[u8]) -> &[u8] {
    let start = s
        .iter()
        .position(|&c| c != b' ' && c != b'\t')
        .unwrap_or(s.len());
    let end = s
        .iter()
        .rposition(|&c| c != b' ' && c != b'\t')
        .map_or(start, |e| e + 1);
    &s[start..end.max(start)]
}

/// Reads a NULL-terminated array of string pointers (argv or envp) from the guest, checking the
/// total against `limit` (E2BIG) and each string against MAX_ARG_STRLEN.
fn read_strings(t: &Task, addr: u64, limit: &mut u64) -> Result<Vec<Vec<u8>>, Errno> {
    let mut out = Vec::new();
    if addr == 0 {
        return Ok(out);
    }
    for i in 0u64.. {
        let p: u64 = t.mm.read_obj(crate::mm::UserAddr(addr + i * 8))?;
        if p == 0 {
            break;
        }
        if i >= 0x7fff_ffff {
            return Err(errno!(E2BIG));
        }
        let s =
            t.mm.read_cstr(crate::mm::UserAddr(p), abi::MAX_ARG_STRLEN)
                .map_err(|e| {
                    if e.code == libc::ENAMETOOLONG {
                        errno!(E2BIG, "argument longer than MAX_ARG_STRLEN")
                    } else {
                        e
                    }
                })?;
        let cost = s.len() as u64 + 1 + 8;
        *limit = limit.checked_sub(cost).ok_or_else(|| errno!(E2BIG))?;
        out.push(s);
    }
    Ok(out)
}

/// execve/execveat: the program replaces the process's image in its address space. Past the
/// point of no return (the old mappings gone) a failure kills the task with SIGSEGV, as Linux.
pub fn do_execve(
    t: &mut Task,
    dirfd: i32,
    path_addr: u64,
    argv: u64,
    envp: u64,
    flags: u64,
) -> crate::errors::SysResult {
    if flags & !(libc::AT_EMPTY_PATH as u64 | libc::AT_SYMLINK_NOFOLLOW as u64) != 0 {
        return Err(errno!(EINVAL));
    }
    let path =
        t.mm.read_cstr(crate::mm::UserAddr(path_addr), abi::PATH_MAX)?;
    // Arguments and environment may take a quarter of the stack limit (at least 128 KiB).
    let mut limit = (t.rlimits[abi::RLIMIT_STACK].cur / 4).clamp(128 << 10, 6 << 30);
    let argv = read_strings(t, argv, &mut limit)?;
    let envp = read_strings(t, envp, &mut limit)?;
    let start = if path.first() == Some(&b'/') {
        t.fs.root.clone()
    } else if dirfd == libc::AT_FDCWD {
        t.fs.cwd.clone()
    } else {
        let f = t.fds.get(dirfd).ok_or_else(|| errno!(EBADF))?;
        f.inode().ok_or_else(|| errno!(ENOTDIR))?
    };
    if path.is_empty() && flags & libc::AT_EMPTY_PATH as u64 == 0 {
        return Err(errno!(ENOENT));
    }
    let prepared = if path.is_empty() {
        // execveat(fd, "", AT_EMPTY_PATH): the file itself.
        prepare_inode(t, start, argv)?
    } else {
        prepare(t, &start, &path, argv)?
    };
    let execfn = String::from_utf8_lossy(&path).into_owned();
    // The point of no return.
    t.mm.reset()?;
    let stack_limit = t.rlimits[abi::RLIMIT_STACK].cur;
    let aux = crate::loader::HostAux {
        hwcap: crate::host::getauxval(abi::auxv::AT_HWCAP),
        hwcap2: crate::host::getauxval(abi::auxv::AT_HWCAP2),
        minsigstksz: crate::host::getauxval(abi::auxv::AT_MINSIGSTKSZ),
    };
    let creds = crate::loader::Creds {
        uid: t.creds.ruid,
        euid: t.creds.euid,
        gid: t.creds.rgid,
        egid: t.creds.egid,
    };
    let loaded = crate::loader::load(
        &mut t.mm.state_mut(),
        &execfn,
        &prepared.image,
        prepared.interp.as_ref(),
        &crate::loader::ExecArgs {
            argv: &prepared.argv,
            envp: &envp,
            stack_limit,
            creds,
            aux,
        },
    );
    let loaded = match loaded {
        Ok(l) => l,
        Err(e) => {
            tracing::info!("exec of {execfn} failed past the point of no return: {e}");
            t.kill(abi::signal::SIGSEGV);
            return Ok(0);
        }
    };
    t.regs = loaded.regs;
    // rax is what the syscall returns: 0 in the new image.
    t.regs.rax = 0;
    t.fds.close_on_exec();
    // Handlers go back to the default; ignored signals stay ignored; the mask is kept.
    t.signals.reset_handlers();
    t.altstack = (0, 0, 0);
    t.sigframes.clear();
    // The other threads of the process end; the one that exec'd takes the process's id.
    {
        let mut procs = t.k.procs.borrow_mut();
        if t.tid != t.tgid || procs.threads.values().any(|&g| g == t.tgid) {
            procs.exec_kill.push((t.tgid, t.ctx.host_tid()));
            procs.threads.remove(&t.tid);
            t.tid = t.tgid;
        }
    }
    // POSIX timers go; interval timers stay.
    t.timers.borrow_mut().posix.clear();
    t.signals.saved_mask = None;
    t.rseq = None;
    t.robust_list = (0, 0);
    t.clear_child_tid = 0;
    let base = path.rsplit(|&c| c == b'/').next().unwrap_or(&path);
    t.comm = base[..base.len().min(15)].to_vec();
    t.exe = Some((prepared.exe, prepared.exe_path));
    if let Some(p) = t.k.procs.borrow_mut().procs.get_mut(&t.tgid) {
        p.vforking = false;
        p.execed = true;
    }
    let exe_path = t.exe.as_ref().map(|e| e.1.clone()).unwrap_or_default();
    t.k.audit(&serde_json::json!({
        "event": "exec",
        "pid": t.tgid,
        "path": String::from_utf8_lossy(&exe_path),
        "argv": prepared.argv.iter().map(|a| String::from_utf8_lossy(a)).collect::<Vec<_>>(),
        "uid": t.creds.euid,
    }));
    Ok(0)
}

/// [`prepare`] for a file already open (execveat with AT_EMPTY_PATH).
fn prepare_inode(t: &Task, inode: Rc<Inode>, argv: Vec<Vec<u8>>) -> Result<Prepared, Errno> {
    if !matches!(inode.kind, Kind::Regular(_)) {
        return Err(errno!(EACCES));
    }
    permission(&inode, MAY_EXEC, &t.cred())?;
    let path = crate::vfs::path_of(&inode, &t.fs.root).unwrap_or_default();
    let image = open_image(&inode, &path)?;
    if !image.head.starts_with(b"\x7fELF") {
        return Err(errno!(ENOEXEC));
    }
    let interp = match crate::loader::interpreter(&image.head) {
        Some(ipath) => {
            let mut w = Walker::new(t);
            let i = w.lookup(&t.fs.root.clone(), &ipath, true)?;
            let ipath_abs = w.path_of(&i);
            Some(open_image(&i, &ipath_abs)?)
        }
        None => None,
    };
    Ok(Prepared {
        exe: inode,
        exe_path: path,
        image,
        interp,
        argv,
    })
}

pub fn execve(t: &mut Task, a: [u64; 6]) -> crate::errors::SysResult {
    do_execve(t, libc::AT_FDCWD, a[0], a[1], a[2], 0)
}

pub fn execveat(t: &mut Task, a: [u64; 6]) -> crate::errors::SysResult {
    do_execve(
        t,
        (a[0] as u32).cast_signed(),
        a[1],
        a[2],
        a[3],
        a[4] & 0xffff_ffff,
    )
}
