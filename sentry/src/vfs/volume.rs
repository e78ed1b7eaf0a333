//! Changes to a `--volume` (a host directory bound into the sandbox): each goes to the host
//! through the Gofer, and the cache follows what the host did.

use super::{gofer_err, Entry, Inode};
use crate::errno;
use crate::errors::Errno;
use gofer::proto::{Reply, Request, SetAttr};
use std::os::fd::OwnedFd;
use std::rc::Rc;

fn lower(dir: &Inode) -> Result<(&gofer::Client, u64), Errno> {
    let l = dir
        .lower
        .as_ref()
        .ok_or_else(|| errno!(EIO, "volume node without a gofer fid"))?;
    Ok((&l.gofer, l.fid))
}

/// Inserts the node the Gofer just made as `name` in `dir`.
fn adopt(dir: &Rc<Inode>, name: &[u8], reply: Reply) -> Result<Rc<Inode>, Errno> {
    let (fid, attr) = match reply {
        Reply::Node(f, a) | Reply::Created(f, a) => (f, a),
        _ => return Err(errno!(EIO, "unexpected gofer reply")),
    };
    let gofer = dir
        .lower
        .as_ref()
        .map(|l| l.gofer.clone())
        .ok_or_else(|| errno!(EIO))?;
    let node = Inode::from_lower(dir, name, fid, &attr, &gofer);
    if let Some(d) = dir.dir() {
        d.entries
            .borrow_mut()
            .insert(name.to_vec(), Entry::Node(node.clone()));
    }
    Ok(node)
}

/// Creates and opens a regular file; returns the node and the host fd.
pub fn create(
    dir: &Rc<Inode>,
    name: &[u8],
    flags: i32,
    mode: u32,
) -> Result<(Rc<Inode>, OwnedFd), Errno> {
    let (g, fid) = lower(dir)?;
    let (reply, fd) = g
        .call(&Request::Create {
            dir: fid,
            name: name.to_vec(),
            flags,
            mode,
        })
        .map_err(gofer_err)?;
    let fd = fd.ok_or_else(|| errno!(EIO, "gofer create returned no fd"))?;
    Ok((adopt(dir, name, reply)?, fd))
}

/// Makes a directory, FIFO/socket node, symlink or hard link through the Gofer.
pub fn make(dir: &Rc<Inode>, name: &[u8], req: Request) -> Result<Rc<Inode>, Errno> {
    let (g, _) = lower(dir)?;
    let (reply, _) = g.call(&req).map_err(gofer_err)?;
    adopt(dir, name, reply)
}

pub fn mkdir(dir: &Rc<Inode>, name: &[u8], mode: u32) -> Result<Rc<Inode>, Errno> {
    let fid = lower(dir)?.1;
    make(
        dir,
        name,
        Request::MkDir {
            dir: fid,
            name: name.to_vec(),
            mode,
        },
    )
}

pub fn mknod(dir: &Rc<Inode>, name: &[u8], mode: u32) -> Result<Rc<Inode>, Errno> {
    let fid = lower(dir)?.1;
    make(
        dir,
        name,
        Request::MkNod {
            dir: fid,
            name: name.to_vec(),
            mode,
            rdev: 0,
        },
    )
}

pub fn symlink(dir: &Rc<Inode>, name: &[u8], target: &[u8]) -> Result<Rc<Inode>, Errno> {
    let fid = lower(dir)?.1;
    make(
        dir,
        name,
        Request::SymLink {
            dir: fid,
            name: name.to_vec(),
            target: target.to_vec(),
        },
    )
}

pub fn link(dir: &Rc<Inode>, name: &[u8], target: &Inode) -> Result<Rc<Inode>, Errno> {
    let fid = lower(dir)?.1;
    let tfid = lower(target)?.1;
    make(
        dir,
        name,
        Request::Link {
            dir: fid,
            name: name.to_vec(),
            target: tfid,
        },
    )
}

pub fn unlink(dir: &Rc<Inode>, name: &[u8], rmdir: bool) -> Result<(), Errno> {
    let (g, fid) = lower(dir)?;
    g.call(&Request::Unlink {
        dir: fid,
        name: name.to_vec(),
        flags: if rmdir { libc::AT_REMOVEDIR } else { 0 },
    })
    .map_err(gofer_err)?;
    Ok(())
}

pub fn rename(
    old_dir: &Inode,
    old: &[u8],
    new_dir: &Inode,
    new: &[u8],
    flags: u32,
) -> Result<(), Errno> {
    let (g, ofid) = lower(old_dir)?;
    let nfid = lower(new_dir)?.1;
    g.call(&Request::Rename {
        old_dir: ofid,
        old_name: old.to_vec(),
        new_dir: nfid,
        new_name: new.to_vec(),
        flags,
    })
    .map_err(gofer_err)?;
    Ok(())
}

/// Applies attribute changes on the host and takes the host's attributes back.
pub fn set_attr(inode: &Inode, attr: SetAttr) -> Result<(), Errno> {
    let (g, fid) = lower(inode)?;
    let (reply, _) = g.call(&Request::SetAttr { fid, attr }).map_err(gofer_err)?;
    if let Reply::Attr(a) = reply {
        *inode.meta.borrow_mut() = super::Meta::from_attr(&a);
    }
    Ok(())
}

/// Opens a volume file on the host with `flags` (access mode, O_APPEND, O_TRUNC).
pub fn open(inode: &Inode, flags: i32) -> Result<OwnedFd, Errno> {
    inode.open_lower(flags)
}
