//! Path resolution, as Linux's `namei`: components one at a time from the root or a starting
//! directory, search permission on each directory, `..` that stops at the root and crosses mount
//! points, symlinks followed up to 40 times (ELOOP past that), trailing slashes requiring a
//! directory, and openat2's RESOLVE_* restrictions.

use super::{permission, Inode, Kind, MAY_EXEC};
use crate::errno;
use crate::errors::Errno;
use crate::kernel::Task;
use std::rc::Rc;

/// Linux's MAXSYMLINKS.
const MAX_SYMLINKS: u32 = 40;
const NAME_MAX: usize = 255;

/// openat2 RESOLVE_* flags.
pub const RESOLVE_NO_XDEV: u64 = 0x01;
pub const RESOLVE_NO_MAGICLINKS: u64 = 0x02;
pub const RESOLVE_NO_SYMLINKS: u64 = 0x04;
pub const RESOLVE_BENEATH: u64 = 0x08;
pub const RESOLVE_IN_ROOT: u64 = 0x10;
pub const RESOLVE_CACHED: u64 = 0x20;

/// The result of resolving all but the last component.
pub struct Parent {
    pub dir: Rc<Inode>,
    /// The last component (`.` for a path of only slashes, or `..`).
    pub name: Vec<u8>,
    /// The path ended with a slash.
    pub trailing_slash: bool,
}

/// One resolution in progress.
pub struct Walker<'a> {
    t: &'a Task,
    /// Where absolute paths and `..` stop.
    root: Rc<Inode>,
    links: u32,
    resolve: u64,
    /// The directory and name of the last node reached by name (for the path of a file).
    last: Option<(Rc<Inode>, Vec<u8>)>,
    /// Who searches the directories (the task's effective ids unless set).
    cred: Option<super::Cred<'a>>,
    /// The path ended at a magic link (/proc/PID/fd/N) to a file with no inode (a pipe, a
    /// socket, a host fd): the walk fails, and open reopens this file instead.
    pub reopen: Option<Rc<crate::kernel::fd::File>>,
}

impl<'a> Walker<'a> {
    pub fn new(t: &'a Task) -> Walker<'a> {
        Walker {
            t,
            root: t.fs.root.clone(),
            links: 0,
            resolve: 0,
            last: None,
            cred: None,
            reopen: None,
        }
    }

    /// With openat2's `resolve` flags, starting at `start`.
    pub fn with_resolve(t: &'a Task, start: &Rc<Inode>, resolve: u64) -> Walker<'a> {
        let root = if resolve & (RESOLVE_IN_ROOT | RESOLVE_BENEATH) != 0 {
            start.clone()
        } else {
            t.fs.root.clone()
        };
        Walker {
            t,
            root,
            links: 0,
            resolve,
            last: None,
            cred: None,
            reopen: None,
        }
    }

    /// Searches directories as `cred` (access(2) walks with the real ids).
    pub fn with_cred(mut self, cred: super::Cred<'a>) -> Walker<'a> {
        self.cred = Some(cred);
        self
    }

    /// Resolves `path` from `start` to its parent directory and last component.
    pub fn parent(&mut self, start: &Rc<Inode>, path: &[u8]) -> Result<Parent, Errno> {
        if path.is_empty() {
            return Err(errno!(ENOENT));
        }
        let mut cur = if path[0] == b'/' {
            if self.resolve & RESOLVE_BENEATH != 0 {
                return Err(errno!(EXDEV, "absolute path with RESOLVE_BENEATH"));
            }
            self.root.clone()
        } else {
            start.clone()
        };
        let trailing_slash = path.ends_with(b"/");
        let comps: Vec<&[u8]> = path
            .split(|&c| c == b'/')
            .filter(|c| !c.is_empty())
            .collect();
        let Some((&last, init)) = comps.split_last() else {
            return Ok(Parent {
                dir: cur,
                name: b".".to_vec(),
                trailing_slash,
            });
        };
        for (i, &c) in init.iter().enumerate() {
            cur = self.step(&cur, c, &comps[i + 1..], true)?;
            if !cur.is_dir() {
                return Err(errno!(ENOTDIR));
            }
        }
        if !cur.is_dir() {
            return Err(errno!(ENOTDIR));
        }
        Ok(Parent {
            dir: cur,
            name: last.to_vec(),
            trailing_slash,
        })
    }

    /// Resolves `path` from `start`; the last component is followed if it is a symlink and
    /// `follow` (or the path ends with a slash).
    pub fn lookup(
        &mut self,
        start: &Rc<Inode>,
        path: &[u8],
        follow: bool,
    ) -> Result<Rc<Inode>, Errno> {
        let p = self.parent(start, path)?;
        let node = self.step(&p.dir, &p.name, &[], follow || p.trailing_slash)?;
        if p.trailing_slash && !node.is_dir() {
            return Err(errno!(ENOTDIR));
        }
        Ok(node)
    }

    /// Looks up `name` in `dir` (which is searched: it needs execute permission), follows a
    /// mount on the result, and a symlink if `follow`. `rest` are the components after it (for
    /// batching Gofer walks).
    pub fn step(
        &mut self,
        dir: &Rc<Inode>,
        name: &[u8],
        rest: &[&[u8]],
        follow: bool,
    ) -> Result<Rc<Inode>, Errno> {
        if !dir.is_dir() {
            return Err(errno!(ENOTDIR));
        }
        let cred = self.cred.unwrap_or_else(|| self.t.cred());
        permission(dir, MAY_EXEC, &cred)?;
        if name == b"." {
            return Ok(dir.clone());
        }
        if name == b".." {
            return self.dotdot(dir);
        }
        if name.len() > NAME_MAX {
            return Err(errno!(ENAMETOOLONG));
        }
        let child = dir
            .lookup_child(self.t, name, rest)?
            .ok_or_else(|| errno!(ENOENT))?;
        let child = self.cross_mounts(child)?;
        self.last = Some((dir.clone(), name.to_vec()));
        if !follow {
            return Ok(child);
        }
        let plain_link = match &child.kind {
            Kind::Symlink(_) => true,
            Kind::Proc(k) => k.is_link() && !k.is_magic_link(),
            _ => false,
        };
        match &child.kind {
            _ if plain_link => {
                if self.resolve & RESOLVE_NO_SYMLINKS != 0 {
                    return Err(errno!(ELOOP, "symlink with RESOLVE_NO_SYMLINKS"));
                }
                self.links += 1;
                if self.links > MAX_SYMLINKS {
                    return Err(errno!(ELOOP));
                }
                let target = child.read_link(self.t)?;
                if target.is_empty() {
                    return Err(errno!(ENOENT));
                }
                let r = self.lookup(dir, &target, true);
                if r.is_err() && !rest.is_empty() && self.reopen.take().is_some() {
                    // A link to a pipe or socket with more path after it.
                    return Err(errno!(ENOTDIR));
                }
                r
            }
            Kind::Proc(k) if k.is_magic_link() => {
                if self.resolve & (RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS) != 0 {
                    return Err(errno!(ELOOP, "magic link with RESOLVE_NO_MAGICLINKS"));
                }
                self.links += 1;
                if self.links > MAX_SYMLINKS {
                    return Err(errno!(ELOOP));
                }
                if self.resolve & (RESOLVE_BENEATH | RESOLVE_IN_ROOT) != 0 {
                    return Err(errno!(EXDEV));
                }
                if let Some(f) = super::proc::fd_without_inode(self.t, k) {
                    if !rest.is_empty() {
                        return Err(errno!(ENOTDIR));
                    }
                    self.reopen = Some(f);
                    return Err(errno!(ENXIO, "a file with no inode: reopened by open"));
                }
                super::proc::follow_magic(self.t, k)
            }
            _ => Ok(child),
        }
    }

    /// Where `node`, just resolved by this walker, was found (for the path /proc/PID/fd shows,
    /// made only when asked).
    pub fn origin(&self, node: &Rc<Inode>) -> super::Origin {
        match &self.last {
            Some((dir, name)) if !node.is_dir() => super::Origin {
                dir: Some(dir.clone()),
                name: name.clone(),
            },
            _ => super::Origin::default(),
        }
    }

    /// The absolute path of `node`, just resolved by this walker.
    pub fn path_of(&self, node: &Rc<Inode>) -> Vec<u8> {
        self.origin(node).path(node, &self.t.fs.root)
    }

    fn cross_mounts(&self, mut node: Rc<Inode>) -> Result<Rc<Inode>, Errno> {
        loop {
            let m = node.mounted.borrow().clone();
            match m {
                Some(root) => {
                    if self.resolve & RESOLVE_NO_XDEV != 0 {
                        return Err(errno!(EXDEV, "mount crossing with RESOLVE_NO_XDEV"));
                    }
                    node = root;
                }
                None => return Ok(node),
            }
        }
    }

    fn dotdot(&self, dir: &Rc<Inode>) -> Result<Rc<Inode>, Errno> {
        let mut cur = dir.clone();
        loop {
            if Rc::ptr_eq(&cur, &self.root) {
                if self.resolve & RESOLVE_BENEATH != 0 {
                    return Err(errno!(EXDEV, "'..' above the starting directory"));
                }
                return Ok(cur);
            }
            if cur.is_fs_root() {
                let Some(covered) = cur.covers.borrow().upgrade() else {
                    return Ok(cur);
                };
                if self.resolve & RESOLVE_NO_XDEV != 0 {
                    return Err(errno!(EXDEV));
                }
                cur = covered;
                continue;
            }
            let p = cur.parent();
            return self.cross_mounts(p);
        }
    }
}
