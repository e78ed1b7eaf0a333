//! The Gofer server: serves the Sentry's requests on one channel until the Sentry closes it.
//!
//! Every node is an `O_PATH|O_NOFOLLOW` fd reached from a mount root one name at a time, so a
//! symlink (or a directory swapped for one on the host mid-walk) never leads anywhere: the Gofer
//! does not follow symlinks at all, it reports them and the Sentry resolves them inside the
//! guest's view. Files are opened again through their parent directory fd and name, with
//! `O_NOFOLLOW`, and checked to be the same inode the fid names (else `ESTALE`). Only regular files
//! and directories are ever opened (a host FIFO or device could block or reach hardware).

use crate::channel::Channel;
use crate::proto::{self, Attr, Fid, Reply, Request};
use crate::sys;
use std::collections::HashMap;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::rc::Rc;

/// A directory the Gofer serves.
#[derive(Debug)]
pub struct Mount {
    /// The mount root, opened `O_PATH|O_DIRECTORY` by the caller at startup.
    pub root: OwnedFd,
    pub writable: bool,
}

struct Node {
    fd: Rc<OwnedFd>,
    /// The directory holding it and its name there (None for a mount root).
    parent: Option<(Rc<OwnedFd>, Vec<u8>)>,
    mount: usize,
    /// Host identity, to detect a file replaced behind a name.
    dev_ino: (u64, u64),
    mode: u32,
}

/// The server state: the fid table.
pub struct Server {
    mounts: Vec<Mount>,
    nodes: HashMap<Fid, Node>,
    next: Fid,
}

type Res<T> = Result<T, i32>;

fn errno(e: io::Error) -> i32 {
    e.raw_os_error().unwrap_or(libc::EIO)
}

const S_IFMT: u32 = libc::S_IFMT;

impl Server {
    pub fn new(mounts: Vec<Mount>) -> io::Result<Server> {
        let mut nodes = HashMap::new();
        for (i, m) in mounts.iter().enumerate() {
            let fd = Rc::new(m.root.try_clone()?);
            let attr = sys::stat(fd.as_fd())?;
            nodes.insert(
                i as Fid,
                Node {
                    fd,
                    parent: None,
                    mount: i,
                    dev_ino: (attr.dev, attr.ino),
                    mode: attr.mode,
                },
            );
        }
        Ok(Server {
            next: mounts.len() as Fid,
            mounts,
            nodes,
        })
    }

    /// Serves `chan` until the peer closes it.
    pub fn serve(&mut self, chan: &Channel) -> io::Result<()> {
        while let Some((msg, _fd)) = chan.recv()? {
            let (reply, fd) = match proto::decode::<Request>(&msg) {
                Some(Request::Clunk { fids }) => {
                    for f in fids {
                        if f >= self.mounts.len() as Fid {
                            self.nodes.remove(&f);
                        }
                    }
                    continue;
                }
                Some(req) => match self.handle(req) {
                    Ok(r) => r,
                    Err(e) => (Reply::Error(e), None),
                },
                None => (Reply::Error(libc::EINVAL), None),
            };
            chan.send(&proto::encode(&reply), fd.as_ref().map(|f| f.as_fd()))?;
        }
        Ok(())
    }

    fn node(&self, fid: Fid) -> Res<&Node> {
        self.nodes.get(&fid).ok_or(libc::EBADF)
    }

    fn dir(&self, fid: Fid) -> Res<&Node> {
        let n = self.node(fid)?;
        if n.mode & S_IFMT != libc::S_IFDIR {
            return Err(libc::ENOTDIR);
        }
        Ok(n)
    }

    fn writable_dir(&self, fid: Fid) -> Res<&Node> {
        let n = self.dir(fid)?;
        if !self.mounts[n.mount].writable {
            return Err(libc::EROFS);
        }
        Ok(n)
    }

    fn add(
        &mut self,
        fd: OwnedFd,
        parent: Option<(Rc<OwnedFd>, Vec<u8>)>,
        mount: usize,
    ) -> Res<(Fid, Attr)> {
        let attr = sys::stat(fd.as_fd()).map_err(errno)?;
        let fid = self.next;
        self.next += 1;
        self.nodes.insert(
            fid,
            Node {
                fd: Rc::new(fd),
                parent,
                mount,
                dev_ino: (attr.dev, attr.ino),
                mode: attr.mode,
            },
        );
        Ok((fid, attr))
    }

    /// Opens `n` for I/O through its parent and name, checking it is still the same file.
    fn reopen(&self, n: &Node, flags: i32) -> Res<OwnedFd> {
        let kind = n.mode & S_IFMT;
        if kind != libc::S_IFREG && kind != libc::S_IFDIR {
            return Err(libc::ENXIO);
        }
        let fd = match &n.parent {
            Some((dir, name)) => sys::openat(dir.as_fd(), name, flags | libc::O_NOFOLLOW, 0),
            None => sys::openat(n.fd.as_fd(), b".", flags, 0),
        }
        .map_err(errno)?;
        let attr = sys::stat(fd.as_fd()).map_err(errno)?;
        if (attr.dev, attr.ino) != n.dev_ino {
            return Err(libc::ESTALE);
        }
        Ok(fd)
    }

    fn handle(&mut self, req: Request) -> Res<(Reply, Option<OwnedFd>)> {
        let reply = match req {
            Request::Walk {
                dir,
                names,
                open_last,
            } => {
                let wanted = names.len();
                let start = self.dir(dir)?;
                let mount = start.mount;
                let mut cur = start.fd.clone();
                let mut nodes = Vec::new();
                let mut missing = false;
                let mut link = None;
                for name in names {
                    if !proto::valid_name(&name) {
                        if nodes.is_empty() {
                            return Err(libc::EINVAL);
                        }
                        break;
                    }
                    let fd =
                        match sys::openat(cur.as_fd(), &name, libc::O_PATH | libc::O_NOFOLLOW, 0) {
                            Ok(fd) => fd,
                            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {
                                missing = true;
                                break;
                            }
                            Err(e) if nodes.is_empty() => return Err(errno(e)),
                            Err(_) => break,
                        };
                    let (fid, attr) = self.add(fd, Some((cur.clone(), name)), mount)?;
                    nodes.push((fid, attr));
                    if attr.mode & S_IFMT == libc::S_IFLNK {
                        // The Sentry resolves it next: its target comes along.
                        link = sys::readlink(self.nodes[&fid].fd.as_fd()).ok();
                    }
                    if attr.mode & S_IFMT != libc::S_IFDIR {
                        break;
                    }
                    cur = self.nodes[&fid].fd.clone();
                }
                // The last name, reached, a regular file: opened for reading if asked (never
                // blocking: O_NONBLOCK, in case it was swapped for a FIFO meanwhile; reopen
                // checks it is still the file walked).
                let opened = match nodes.last() {
                    Some(&(fid, attr))
                        if open_last
                            && nodes.len() == wanted
                            && attr.mode & S_IFMT == libc::S_IFREG =>
                    {
                        self.reopen(&self.nodes[&fid], libc::O_RDONLY | libc::O_NONBLOCK)
                            .ok()
                    }
                    _ => None,
                };
                return Ok((
                    Reply::Walked {
                        nodes,
                        missing,
                        link,
                    },
                    opened,
                ));
            }
            Request::Stat { fid } => {
                Reply::Attr(sys::stat(self.node(fid)?.fd.as_fd()).map_err(errno)?)
            }
            Request::Open { fid, flags } => {
                let n = self.node(fid)?;
                let allowed = libc::O_ACCMODE
                    | libc::O_TRUNC
                    | libc::O_APPEND
                    | libc::O_DIRECTORY
                    | libc::O_NOATIME
                    | libc::O_NONBLOCK
                    | libc::O_DSYNC
                    | libc::O_SYNC
                    | libc::O_DIRECT
                    | libc::O_LARGEFILE;
                if flags & !allowed != 0 {
                    return Err(libc::EINVAL);
                }
                let writes =
                    flags & libc::O_ACCMODE != libc::O_RDONLY || flags & libc::O_TRUNC != 0;
                if writes && !self.mounts[n.mount].writable {
                    return Err(libc::EROFS);
                }
                let fd = self.reopen(n, flags)?;
                return Ok((Reply::Opened, Some(fd)));
            }
            Request::ReadDir { fid, offset } => {
                let n = self.dir(fid)?;
                let fd = self.reopen(n, libc::O_RDONLY | libc::O_DIRECTORY)?;
                let all = sys::read_dir(&fd).map_err(errno)?;
                // Each page reads the whole directory again: as few pages as fit in a message.
                let (page, end) = proto::dirent_page(
                    all.into_iter()
                        .skip(usize::try_from(offset).unwrap_or(usize::MAX)),
                );
                Reply::Dirents(page, end)
            }
            Request::ReadLink { fid } => {
                let n = self.node(fid)?;
                if n.mode & S_IFMT != libc::S_IFLNK {
                    return Err(libc::EINVAL);
                }
                Reply::Link(sys::readlink(n.fd.as_fd()).map_err(errno)?)
            }
            Request::StatFs { fid } => {
                Reply::StatFs(sys::statfs(self.node(fid)?.fd.as_fd()).map_err(errno)?)
            }
            Request::Create {
                dir,
                name,
                flags,
                mode,
            } => {
                let d = self.writable_dir(dir)?;
                check_name(&name)?;
                let allowed = libc::O_ACCMODE | libc::O_APPEND | libc::O_NOATIME | libc::O_NONBLOCK;
                let fd = sys::openat(
                    d.fd.as_fd(),
                    &name,
                    (flags & allowed) | libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW,
                    mode & 0o7777,
                )
                .map_err(errno)?;
                let path = sys::openat(d.fd.as_fd(), &name, libc::O_PATH | libc::O_NOFOLLOW, 0)
                    .map_err(errno)?;
                let (a, b) = (
                    sys::stat(fd.as_fd()).map_err(errno)?,
                    sys::stat(path.as_fd()).map_err(errno)?,
                );
                if (a.dev, a.ino) != (b.dev, b.ino) {
                    return Err(libc::ESTALE);
                }
                let (mount, parent) = (d.mount, d.fd.clone());
                let (fid, attr) = self.add(path, Some((parent, name)), mount)?;
                return Ok((Reply::Created(fid, attr), Some(fd)));
            }
            Request::MkDir { dir, name, mode } => {
                let d = self.writable_dir(dir)?;
                check_name(&name)?;
                sys::mkdirat(d.fd.as_fd(), &name, mode & 0o7777).map_err(errno)?;
                self.walk_new(dir, name)?
            }
            Request::SymLink { dir, name, target } => {
                let d = self.writable_dir(dir)?;
                check_name(&name)?;
                sys::symlinkat(&target, d.fd.as_fd(), &name).map_err(errno)?;
                self.walk_new(dir, name)?
            }
            Request::MkNod {
                dir,
                name,
                mode,
                rdev,
            } => {
                let d = self.writable_dir(dir)?;
                check_name(&name)?;
                // Only FIFOs and sockets: a device node on the host is never made for a guest.
                let kind = mode & S_IFMT;
                if kind != libc::S_IFIFO && kind != libc::S_IFSOCK && kind != libc::S_IFREG {
                    return Err(libc::EPERM);
                }
                sys::mknodat(d.fd.as_fd(), &name, mode, rdev).map_err(errno)?;
                self.walk_new(dir, name)?
            }
            Request::Link { dir, name, target } => {
                let d = self.writable_dir(dir)?;
                check_name(&name)?;
                let t = self.node(target)?;
                if t.mount != d.mount {
                    return Err(libc::EXDEV);
                }
                sys::linkat(t.fd.as_fd(), d.fd.as_fd(), &name).map_err(errno)?;
                self.walk_new(dir, name)?
            }
            Request::Unlink { dir, name, flags } => {
                let d = self.writable_dir(dir)?;
                check_name(&name)?;
                sys::unlinkat(d.fd.as_fd(), &name, flags & libc::AT_REMOVEDIR).map_err(errno)?;
                Reply::Ok
            }
            Request::Rename {
                old_dir,
                old_name,
                new_dir,
                new_name,
                flags,
            } => {
                let od = self.writable_dir(old_dir)?;
                let nd = self.writable_dir(new_dir)?;
                check_name(&old_name)?;
                check_name(&new_name)?;
                if od.mount != nd.mount {
                    return Err(libc::EXDEV);
                }
                let (ofd, nfd) = (od.fd.clone(), nd.fd.clone());
                sys::renameat2(ofd.as_fd(), &old_name, nfd.as_fd(), &new_name, flags)
                    .map_err(errno)?;
                // Nodes reached through the old name now live under the new one.
                for n in self.nodes.values_mut() {
                    if let Some((p, name)) = &mut n.parent {
                        if Rc::ptr_eq(p, &ofd) && *name == old_name {
                            *p = nfd.clone();
                            name.clone_from(&new_name);
                        } else if flags & libc::RENAME_EXCHANGE != 0
                            && Rc::ptr_eq(p, &nfd)
                            && *name == new_name
                        {
                            *p = ofd.clone();
                            name.clone_from(&old_name);
                        }
                    }
                }
                Reply::Ok
            }
            Request::SetAttr { fid, attr } => {
                let n = self.node(fid)?;
                if !self.mounts[n.mount].writable {
                    return Err(libc::EROFS);
                }
                if n.mode & S_IFMT == libc::S_IFLNK {
                    if attr.mode.is_some() || attr.size.is_some() {
                        return Err(libc::EOPNOTSUPP);
                    }
                    sys::chown_path(n.fd.as_fd(), attr.uid, attr.gid).map_err(errno)?;
                } else {
                    let flags = if attr.size.is_some() {
                        libc::O_WRONLY
                    } else {
                        libc::O_RDONLY
                    };
                    let fd = self.reopen(n, flags)?;
                    sys::set_attr(fd.as_fd(), &attr).map_err(errno)?;
                }
                Reply::Attr(sys::stat(n.fd.as_fd()).map_err(errno)?)
            }
            Request::GetXattr { fid, name } => {
                let fd = self.reopen(self.node(fid)?, libc::O_RDONLY)?;
                Reply::Xattr(sys::fgetxattr(fd.as_fd(), &name).map_err(errno)?)
            }
            Request::ListXattr { fid } => {
                let fd = self.reopen(self.node(fid)?, libc::O_RDONLY)?;
                Reply::Xattr(sys::flistxattr(fd.as_fd()).map_err(errno)?)
            }
            Request::SetXattr {
                fid,
                name,
                value,
                flags,
            } => {
                let n = self.node(fid)?;
                if !self.mounts[n.mount].writable {
                    return Err(libc::EROFS);
                }
                let fd = self.reopen(n, libc::O_RDONLY)?;
                sys::fsetxattr(fd.as_fd(), &name, &value, flags).map_err(errno)?;
                Reply::Ok
            }
            Request::RemoveXattr { fid, name } => {
                let n = self.node(fid)?;
                if !self.mounts[n.mount].writable {
                    return Err(libc::EROFS);
                }
                let fd = self.reopen(n, libc::O_RDONLY)?;
                sys::fremovexattr(fd.as_fd(), &name).map_err(errno)?;
                Reply::Ok
            }
            Request::Clunk { .. } => Reply::Ok,
        };
        Ok((reply, None))
    }

    /// A fid for `name`, just made in `dir`.
    fn walk_new(&mut self, dir: Fid, name: Vec<u8>) -> Res<Reply> {
        let d = self.dir(dir)?;
        let (mount, parent) = (d.mount, d.fd.clone());
        let fd = sys::openat(parent.as_fd(), &name, libc::O_PATH | libc::O_NOFOLLOW, 0)
            .map_err(errno)?;
        let (fid, attr) = self.add(fd, Some((parent, name)), mount)?;
        Ok(Reply::Node(fid, attr))
    }
}

fn check_name(name: &[u8]) -> Res<()> {
    if name.len() > proto::NAME_MAX {
        return Err(libc::ENAMETOOLONG);
    }
    if !proto::valid_name(name) {
        return Err(libc::EINVAL);
    }
    Ok(())
}

/// Opens a mount root for [`Mount`]: `O_PATH|O_DIRECTORY`, following nothing but the path the
/// operator gave.
pub fn open_root(path: &std::path::Path) -> io::Result<OwnedFd> {
    use std::os::unix::fs::OpenOptionsExt;
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC)
        .open(path)?;
    Ok(f.into())
}
