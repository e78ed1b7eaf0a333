//! Extended attributes: the lower layer's are read through the Gofer; the first change copies
//! them into the inode, where they live from then on (in memory, like the file's other changes).
//! Names need a known namespace prefix (`user.`, `trusted.`, `security.`, `system.`). A
//! `--volume`'s files are the host's: their attributes are read and changed on the host, through
//! the Gofer, every time.

/// Whether `inode` is a file of a read-write volume (its attributes live on the host).
fn on_volume(inode: &Inode) -> bool {
    inode.fs.kind == crate::vfs::FsKind::Volume && inode.lower.is_some()
}

/// Sets or removes (`value` None) an attribute of a volume file on the host.
fn volume_change(inode: &Inode, name: Vec<u8>, value: Option<Vec<u8>>, flags: i32) -> SysResult {
    let lower = inode.lower.as_ref().ok_or_else(|| errno!(EIO))?;
    let req = match value {
        Some(value) => Request::SetXattr {
            fid: lower.fid,
            name,
            value,
            flags,
        },
        None => Request::RemoveXattr {
            fid: lower.fid,
            name,
        },
    };
    lower.gofer.call(&req).map_err(gofer_err)?;
    inode.touch_changed();
    Ok(0)
}

use super::fd_arg;
use super::fs::file;
use crate::errors::{Errno, SysResult};
use crate::kernel::Task;
use crate::mm::UserAddr;
use crate::vfs::walk::Walker;
use crate::vfs::{gofer_err, may_modify, Inode};
use crate::{bail, errno};
use gofer::proto::{Reply, Request};
use std::collections::BTreeMap;
use std::rc::Rc;

const XATTR_NAME_MAX: usize = 255;
const XATTR_SIZE_MAX: usize = 65536;
const XATTR_CREATE: u64 = 1;
const XATTR_REPLACE: u64 = 2;

fn name_arg(t: &Task, addr: u64) -> Result<Vec<u8>, Errno> {
    let name =
        t.mm.read_cstr(UserAddr(addr), XATTR_NAME_MAX + 1)
            .map_err(|e| {
                if e.code == libc::ENAMETOOLONG {
                    errno!(ERANGE)
                } else {
                    e
                }
            })?;
    if name.is_empty() || name.len() > XATTR_NAME_MAX {
        bail!(ERANGE);
    }
    let prefixes = [&b"user."[..], b"trusted.", b"security.", b"system."];
    if prefixes.iter().any(|p| name == *p) {
        bail!(EINVAL, "empty attribute name");
    }
    if !prefixes.iter().any(|p| name.starts_with(p)) {
        bail!(EOPNOTSUPP, "unknown xattr namespace");
    }
    Ok(name)
}

fn inode_of(t: &Task, a0: u64, follow: bool, by_fd: bool) -> Result<Rc<Inode>, Errno> {
    if by_fd {
        let f = file(t, fd_arg(a0))?;
        if f.vfs().is_some_and(|o| o.is_path()) {
            bail!(EBADF);
        }
        let inode = f
            .inode()
            .ok_or_else(|| errno!(EOPNOTSUPP, "host stdio fd"))?;
        no_xattrs_here(&inode)?;
        return Ok(inode);
    }
    let path = t.mm.read_cstr(UserAddr(a0), abi::PATH_MAX)?;
    let start = if path.first() == Some(&b'/') {
        t.fs.root.clone()
    } else {
        t.fs.cwd.clone()
    };
    let inode = Walker::new(t).lookup(&start, &path, follow)?;
    no_xattrs_here(&inode)?;
    Ok(inode)
}

/// procfs and sysfs keep no extended attributes (EOPNOTSUPP, as Linux).
fn no_xattrs_here(inode: &Inode) -> Result<(), Errno> {
    if matches!(
        inode.fs.kind,
        crate::vfs::FsKind::Proc | crate::vfs::FsKind::Sys
    ) {
        bail!(EOPNOTSUPP, "no extended attributes on this filesystem");
    }
    Ok(())
}

/// The lower layer's attributes, read once into the inode.
fn materialize(inode: &Inode) -> Result<(), Errno> {
    if inode.xattrs.borrow().is_some() {
        return Ok(());
    }
    let mut map = BTreeMap::new();
    if let Some(lower) = &inode.lower {
        let names = match lower.gofer.call(&Request::ListXattr { fid: lower.fid }) {
            Ok((Reply::Xattr(v), _)) => v,
            Ok(_) => Vec::new(),
            Err(gofer::CallError::Errno(_)) => Vec::new(),
            Err(e) => return Err(gofer_err(e)),
        };
        for name in names.split(|&c| c == 0).filter(|n| !n.is_empty()) {
            if let Ok((Reply::Xattr(v), _)) = lower.gofer.call(&Request::GetXattr {
                fid: lower.fid,
                name: name.to_vec(),
            }) {
                map.insert(name.to_vec(), v);
            }
        }
    }
    *inode.xattrs.borrow_mut() = Some(map);
    Ok(())
}

fn get(t: &mut Task, a: [u64; 6], follow: bool, by_fd: bool) -> SysResult {
    let inode = inode_of(t, a[0], follow, by_fd)?;
    let name = name_arg(t, a[1])?;
    let cached = if on_volume(&inode) {
        None
    } else {
        inode.xattrs.borrow().clone()
    };
    let value = if let Some(map) = cached {
        map.get(&name).cloned().ok_or_else(|| errno!(ENODATA))?
    } else if let Some(lower) = &inode.lower {
        match lower.gofer.call(&Request::GetXattr {
            fid: lower.fid,
            name,
        }) {
            Ok((Reply::Xattr(v), _)) => v,
            Ok(_) => bail!(EIO),
            // Files the Gofer does not open (FIFOs, devices) have none we show.
            Err(gofer::CallError::Errno(libc::ENXIO)) => bail!(ENODATA),
            Err(e) => return Err(gofer_err(e)),
        }
    } else {
        bail!(ENODATA);
    };
    let size = usize::try_from(a[3]).unwrap_or(usize::MAX);
    if size == 0 {
        return Ok(value.len() as u64);
    }
    if size < value.len() {
        bail!(ERANGE);
    }
    t.mm.copy_out(UserAddr(a[2]), &value)?;
    Ok(value.len() as u64)
}

fn list(t: &mut Task, a: [u64; 6], follow: bool, by_fd: bool) -> SysResult {
    let inode = inode_of(t, a[0], follow, by_fd)?;
    if on_volume(&inode) {
        // Read afresh from the host each time.
        *inode.xattrs.borrow_mut() = None;
    }
    if inode.xattrs.borrow().is_none() && inode.lower.is_some() {
        materialize(&inode)?;
    }
    let mut out = Vec::new();
    if let Some(map) = &*inode.xattrs.borrow() {
        for k in map.keys() {
            out.extend_from_slice(k);
            out.push(0);
        }
    }
    let size = usize::try_from(a[2]).unwrap_or(usize::MAX);
    if size == 0 {
        return Ok(out.len() as u64);
    }
    if size < out.len() {
        bail!(ERANGE);
    }
    t.mm.copy_out(UserAddr(a[1]), &out)?;
    Ok(out.len() as u64)
}

fn set(t: &mut Task, a: [u64; 6], follow: bool, by_fd: bool) -> SysResult {
    let inode = inode_of(t, a[0], follow, by_fd)?;
    let flags = a[4];
    if flags & !(XATTR_CREATE | XATTR_REPLACE) != 0 {
        bail!(EINVAL);
    }
    let name = name_arg(t, a[1])?;
    let size = usize::try_from(a[3]).unwrap_or(usize::MAX);
    if size > XATTR_SIZE_MAX {
        bail!(E2BIG);
    }
    let mut value = vec![0u8; size];
    t.mm.copy_in(UserAddr(a[2]), &mut value)?;
    may_modify(&inode)?;
    let uid = t.creds.euid;
    if name.starts_with(b"user.") {
        if !(inode.is_dir() || matches!(inode.kind, crate::vfs::Kind::Regular(_))) {
            bail!(EPERM);
        }
        crate::vfs::permission(&inode, crate::vfs::MAY_WRITE, &t.cred())?;
    } else if uid != 0 {
        bail!(EPERM);
    }
    if on_volume(&inode) {
        return volume_change(&inode, name, Some(value), flags as i32);
    }
    materialize(&inode)?;
    let mut x = inode.xattrs.borrow_mut();
    let map = x.get_or_insert_with(BTreeMap::new);
    let exists = map.contains_key(&name);
    if flags & XATTR_CREATE != 0 && exists {
        bail!(EEXIST);
    }
    if flags & XATTR_REPLACE != 0 && !exists {
        bail!(ENODATA);
    }
    map.insert(name, value);
    drop(x);
    inode.touch_changed();
    Ok(0)
}

fn remove(t: &mut Task, a: [u64; 6], follow: bool, by_fd: bool) -> SysResult {
    let inode = inode_of(t, a[0], follow, by_fd)?;
    let name = name_arg(t, a[1])?;
    may_modify(&inode)?;
    if name.starts_with(b"user.") {
        crate::vfs::permission(&inode, crate::vfs::MAY_WRITE, &t.cred())?;
    } else if t.creds.euid != 0 {
        bail!(EPERM);
    }
    if on_volume(&inode) {
        return volume_change(&inode, name, None, 0);
    }
    materialize(&inode)?;
    let removed = inode
        .xattrs
        .borrow_mut()
        .as_mut()
        .and_then(|m| m.remove(&name));
    if removed.is_none() {
        bail!(ENODATA);
    }
    inode.touch_changed();
    Ok(0)
}

pub fn getxattr(t: &mut Task, a: [u64; 6]) -> SysResult {
    get(t, a, true, false)
}
pub fn lgetxattr(t: &mut Task, a: [u64; 6]) -> SysResult {
    get(t, a, false, false)
}
pub fn fgetxattr(t: &mut Task, a: [u64; 6]) -> SysResult {
    get(t, a, true, true)
}
pub fn listxattr(t: &mut Task, a: [u64; 6]) -> SysResult {
    list(t, a, true, false)
}
pub fn llistxattr(t: &mut Task, a: [u64; 6]) -> SysResult {
    list(t, a, false, false)
}
pub fn flistxattr(t: &mut Task, a: [u64; 6]) -> SysResult {
    list(t, a, true, true)
}
pub fn setxattr(t: &mut Task, a: [u64; 6]) -> SysResult {
    set(t, a, true, false)
}
pub fn lsetxattr(t: &mut Task, a: [u64; 6]) -> SysResult {
    set(t, a, false, false)
}
pub fn fsetxattr(t: &mut Task, a: [u64; 6]) -> SysResult {
    set(t, a, true, true)
}
pub fn removexattr(t: &mut Task, a: [u64; 6]) -> SysResult {
    remove(t, a, true, false)
}
pub fn lremovexattr(t: &mut Task, a: [u64; 6]) -> SysResult {
    remove(t, a, false, false)
}
pub fn fremovexattr(t: &mut Task, a: [u64; 6]) -> SysResult {
    remove(t, a, true, true)
}
