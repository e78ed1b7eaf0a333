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

/// Which of the two id triples a call changes.
#[derive(Clone, Copy)]
enum Ids {
    User,
    Group,
}

/// The (real, effective, saved) ids of `which`, to change.
fn triple(t: &mut Task, which: Ids) -> [&mut u32; 3] {
    let c = &mut t.creds;
    match which {
        Ids::User => [&mut c.ruid, &mut c.euid, &mut c.suid],
        Ids::Group => [&mut c.rgid, &mut c.egid, &mut c.sgid],
    }
}

/// The current (real, effective, saved) ids of `which`.
fn current(t: &mut Task, which: Ids) -> [u32; 3] {
    triple(t, which).map(|v| *v)
}

/// setresuid/setresgid.
fn setres(t: &mut Task, a: [u64; 6], which: Ids) -> SysResult {
    let new = [id_arg(a[0]), id_arg(a[1]), id_arg(a[2])];
    let cur = current(t, which);
    if !privileged(t) && new.iter().any(|&v| v != UNCHANGED && !ours(v, cur)) {
        bail!(EPERM);
    }
    for (slot, v) in triple(t, which).into_iter().zip(new) {
        if v != UNCHANGED {
            *slot = v;
        }
    }
    Ok(0)
}

pub fn setresuid(t: &mut Task, a: [u64; 6]) -> SysResult {
    setres(t, a, Ids::User)
}

pub fn setresgid(t: &mut Task, a: [u64; 6]) -> SysResult {
    setres(t, a, Ids::Group)
}

/// setreuid/setregid.
fn setre(t: &mut Task, a: [u64; 6], which: Ids) -> SysResult {
    let (r, e) = (id_arg(a[0]), id_arg(a[1]));
    let [real, eff, saved] = current(t, which);
    if !privileged(t)
        && ((r != UNCHANGED && r != real && r != eff)
            || (e != UNCHANGED && e != real && e != eff && e != saved))
    {
        bail!(EPERM);
    }
    let [cr, ce, cs] = triple(t, which);
    if r != UNCHANGED {
        *cr = r;
    }
    if e != UNCHANGED {
        *ce = e;
    }
    // The saved id follows the effective one when the real one is set, or the effective one
    // is set to something other than the old real id.
    if r != UNCHANGED || (e != UNCHANGED && e != real) {
        *cs = *ce;
    }
    Ok(0)
}

pub fn setreuid(t: &mut Task, a: [u64; 6]) -> SysResult {
    setre(t, a, Ids::User)
}

pub fn setregid(t: &mut Task, a: [u64; 6]) -> SysResult {
    setre(t, a, Ids::Group)
}

/// setuid/setgid: all three ids for a privileged caller, else the effective one (to the real
/// or saved id).
fn set_one(t: &mut Task, a: [u64; 6], which: Ids) -> SysResult {
    let v = id_arg(a[0]);
    if v == UNCHANGED {
        bail!(EINVAL);
    }
    let [real, _, saved] = current(t, which);
    let all = privileged(t);
    if !all && v != real && v != saved {
        bail!(EPERM);
    }
    let [cr, ce, cs] = triple(t, which);
    *ce = v;
    if all {
        (*cr, *cs) = (v, v);
    }
    Ok(0)
}

pub fn setuid(t: &mut Task, a: [u64; 6]) -> SysResult {
    set_one(t, a, Ids::User)
}

pub fn setgid(t: &mut Task, a: [u64; 6]) -> SysResult {
    set_one(t, a, Ids::Group)
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
