//! Process and user identity. The guest is PID 1 of its own PID space (its parent is outside:
//! getppid returns 0, as for a container's init) and keeps the caller's uids, gids and groups.

use crate::errors::SysResult;
use crate::kernel::Task;
use crate::mm::UserAddr;
use crate::{bail, errno};

pub fn getpid(t: &mut Task, _a: [u64; 6]) -> SysResult {
    Ok(t.tgid as u64)
}

pub fn gettid(t: &mut Task, _a: [u64; 6]) -> SysResult {
    Ok(t.tid as u64)
}

pub fn getppid(t: &mut Task, _a: [u64; 6]) -> SysResult {
    Ok(t.k.procs.borrow().ppid(t.tgid) as u64)
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

// ---- Changing identity -------------------------------------------------------------------------
//
// As kernel/sys.c, inside the sandbox's own identity space. CAP_SETUID and CAP_SETGID are held
// while the effective uid is 0 (the Sentry does not model capabilities separately): an
// unprivileged caller may only move among its real, effective and saved ids.

const UNCHANGED: u32 = u32::MAX;

fn privileged(t: &Task) -> bool {
    t.creds.euid == 0
}

fn id_arg(v: u64) -> u32 {
    v as u32
}

/// Whether an unprivileged caller may take `id` (one of its current three).
fn ours(id: u32, three: [u32; 3]) -> bool {
    three.contains(&id)
}

pub fn setresuid(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (r, e, s) = (id_arg(a[0]), id_arg(a[1]), id_arg(a[2]));
    let c = &t.creds;
    let cur = [c.ruid, c.euid, c.suid];
    if !privileged(t) && [r, e, s].iter().any(|&v| v != UNCHANGED && !ours(v, cur)) {
        bail!(EPERM);
    }
    let c = &mut t.creds;
    if r != UNCHANGED {
        c.ruid = r;
    }
    if e != UNCHANGED {
        c.euid = e;
    }
    if s != UNCHANGED {
        c.suid = s;
    }
    Ok(0)
}

pub fn setresgid(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (r, e, s) = (id_arg(a[0]), id_arg(a[1]), id_arg(a[2]));
    let c = &t.creds;
    let cur = [c.rgid, c.egid, c.sgid];
    if !privileged(t) && [r, e, s].iter().any(|&v| v != UNCHANGED && !ours(v, cur)) {
        bail!(EPERM);
    }
    let c = &mut t.creds;
    if r != UNCHANGED {
        c.rgid = r;
    }
    if e != UNCHANGED {
        c.egid = e;
    }
    if s != UNCHANGED {
        c.sgid = s;
    }
    Ok(0)
}

pub fn setreuid(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (r, e) = (id_arg(a[0]), id_arg(a[1]));
    let c = &t.creds;
    let (ruid, euid, suid) = (c.ruid, c.euid, c.suid);
    if !privileged(t)
        && ((r != UNCHANGED && r != ruid && r != euid)
            || (e != UNCHANGED && e != ruid && e != euid && e != suid))
    {
        bail!(EPERM);
    }
    let c = &mut t.creds;
    if r != UNCHANGED {
        c.ruid = r;
    }
    if e != UNCHANGED {
        c.euid = e;
    }
    // The saved uid follows the effective one when the real one is set, or the effective one
    // is set to something other than the old real uid.
    if r != UNCHANGED || (e != UNCHANGED && e != ruid) {
        c.suid = c.euid;
    }
    Ok(0)
}

pub fn setregid(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (r, e) = (id_arg(a[0]), id_arg(a[1]));
    let c = &t.creds;
    let (rgid, egid, sgid) = (c.rgid, c.egid, c.sgid);
    if !privileged(t)
        && ((r != UNCHANGED && r != rgid && r != egid)
            || (e != UNCHANGED && e != rgid && e != egid && e != sgid))
    {
        bail!(EPERM);
    }
    let c = &mut t.creds;
    if r != UNCHANGED {
        c.rgid = r;
    }
    if e != UNCHANGED {
        c.egid = e;
    }
    if r != UNCHANGED || (e != UNCHANGED && e != rgid) {
        c.sgid = c.egid;
    }
    Ok(0)
}

pub fn setuid(t: &mut Task, a: [u64; 6]) -> SysResult {
    let u = id_arg(a[0]);
    if u == UNCHANGED {
        bail!(EINVAL);
    }
    if privileged(t) {
        let c = &mut t.creds;
        (c.ruid, c.euid, c.suid) = (u, u, u);
        return Ok(0);
    }
    if u != t.creds.ruid && u != t.creds.suid {
        bail!(EPERM);
    }
    t.creds.euid = u;
    Ok(0)
}

pub fn setgid(t: &mut Task, a: [u64; 6]) -> SysResult {
    let g = id_arg(a[0]);
    if g == UNCHANGED {
        bail!(EINVAL);
    }
    if privileged(t) {
        let c = &mut t.creds;
        (c.rgid, c.egid, c.sgid) = (g, g, g);
        return Ok(0);
    }
    if g != t.creds.rgid && g != t.creds.sgid {
        bail!(EPERM);
    }
    t.creds.egid = g;
    Ok(0)
}

pub fn setgroups(t: &mut Task, a: [u64; 6]) -> SysResult {
    let n = super::int_arg(a[0]);
    if !(0..=65536).contains(&n) {
        bail!(EINVAL);
    }
    let n = usize::try_from(n).unwrap_or(0);
    let groups: Vec<u32> = t.mm.read_objs(UserAddr(a[1]), n)?;
    if !privileged(t) {
        bail!(EPERM);
    }
    let mut groups = groups;
    groups.sort_unstable();
    t.creds.groups = groups;
    Ok(0)
}
