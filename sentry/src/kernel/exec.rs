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
pub fn open_image(inode: &Inode, path: &[u8]) -> Result<ImageFile, Errno> {
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
    Ok(ImageFile {
        head,
        size,
        source: ImageSource::Host(fd),
        label,
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
        let (inode, abs) = open_exec(t, start, &path)?;
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
                let i = w.lookup(start, &ipath, true)?;
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
