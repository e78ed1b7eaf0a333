//! Process and user identity. The guest is PID 1 of its own PID space (its parent is outside:
//! getppid returns 0, as for a container's init) and keeps the caller's uids, gids and groups.

use crate::errors::SysResult;
use crate::kernel::Task;
use crate::mm::UserAddr;
use crate::{bail, errno};

pub fn getpid(_t: &mut Task, _a: [u64; 6]) -> SysResult {
    Ok(1)
}

pub fn gettid(t: &mut Task, _a: [u64; 6]) -> SysResult {
    Ok(t.tid as u64)
}

pub fn getppid(_t: &mut Task, _a: [u64; 6]) -> SysResult {
    Ok(0)
}

pub fn getuid(t: &mut Task, _a: [u64; 6]) -> SysResult {
    Ok(u64::from(t.creds.ruid))
}

pub fn geteuid(t: &mut Task, _a: [u64; 6]) -> SysResult {
    Ok(u64::from(t.creds.euid))
}

pub fn getgid(t: &mut Task, _a: [u64; 6]) -> SysResult {
    Ok(u64::from(t.creds.rgid))
}

pub fn getegid(t: &mut Task, _a: [u64; 6]) -> SysResult {
    Ok(u64::from(t.creds.egid))
}

fn put_three(t: &Task, a: [u64; 6], v: [u32; 3]) -> SysResult {
    for (addr, val) in a.iter().zip(v) {
        t.mm.write_obj(UserAddr(*addr), &val)?;
    }
    Ok(0)
}

pub fn getresuid(t: &mut Task, a: [u64; 6]) -> SysResult {
    let c = &t.creds;
    put_three(t, a, [c.ruid, c.euid, c.suid])
}

pub fn getresgid(t: &mut Task, a: [u64; 6]) -> SysResult {
    let c = &t.creds;
    put_three(t, a, [c.rgid, c.egid, c.sgid])
}

pub fn getgroups(t: &mut Task, a: [u64; 6]) -> SysResult {
    let size = super::int_arg(a[0]);
    let n = t.creds.groups.len();
    if size < 0 {
        bail!(EINVAL);
    }
    if size == 0 {
        return Ok(n as u64);
    }
    if usize::try_from(size).unwrap_or(0) < n {
        bail!(EINVAL, "list of {size} too small for {n} groups");
    }
    let bytes: Vec<u8> = t
        .creds
        .groups
        .iter()
        .flat_map(|g| g.to_ne_bytes())
        .collect();
    t.mm.copy_out(UserAddr(a[1]), &bytes)
        .map_err(|_| errno!(EFAULT))?;
    Ok(n as u64)
}
