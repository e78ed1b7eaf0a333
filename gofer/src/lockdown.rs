//! The Gofer's lockdown, applied once its mount roots are open and before it serves: an empty
//! root (new mount, IPC and UTS namespaces; the host's root unmounted, so no absolute path
//! resolves: the Gofer opens everything relative to the mount fds it holds), only the
//! capabilities that serving files needs, no new privileges, and a seccomp allow-list of the
//! host syscalls it makes (no `socket`, `connect`, `execve`, `ptrace`, `mount` or path-based
//! `open`). The Sentry enters the same kind of empty root ([`enter_empty_root`]).

use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule, TargetArch,
};
use std::collections::BTreeMap;
use std::io;

/// What the lockdown did.
#[derive(Debug, Default)]
pub struct Report {
    pub empty_root: bool,
}

/// The host syscalls the Gofer makes while serving, with why.
pub const ALLOWED: &[(i64, &str)] = &[
    // The channel to the Sentry.
    (libc::SYS_recvmsg, "requests"),
    (libc::SYS_sendmsg, "replies and donated fds"),
    // Serving files, always relative to a held fd.
    (
        libc::SYS_openat,
        "opening a name in a held directory (O_NOFOLLOW)",
    ),
    (libc::SYS_close, "closing fds"),
    (libc::SYS_statx, "attributes of a held fd"),
    (libc::SYS_readlinkat, "symlink targets"),
    (libc::SYS_fstatfs, "statfs"),
    (libc::SYS_getdents64, "directory entries"),
    (libc::SYS_lseek, "rewinding a directory"),
    (libc::SYS_mkdirat, "volumes: mkdir"),
    (libc::SYS_mknodat, "volumes: FIFOs and sockets"),
    (libc::SYS_symlinkat, "volumes: symlink"),
    (libc::SYS_linkat, "volumes: link"),
    (libc::SYS_unlinkat, "volumes: unlink, rmdir"),
    (libc::SYS_renameat, "volumes: rename"),
    (libc::SYS_renameat2, "volumes: rename with flags"),
    (libc::SYS_fchmod, "volumes: chmod"),
    (libc::SYS_fchown, "volumes: chown"),
    (libc::SYS_fchownat, "volumes: lchown of a symlink"),
    (libc::SYS_ftruncate, "volumes: truncate"),
    (libc::SYS_utimensat, "volumes: utimes"),
    (libc::SYS_fgetxattr, "extended attributes"),
    (libc::SYS_flistxattr, "extended attributes"),
    (libc::SYS_fsetxattr, "volumes: extended attributes"),
    (libc::SYS_fremovexattr, "volumes: extended attributes"),
    // Its own runtime.
    (libc::SYS_read, "std"),
    (libc::SYS_write, "log lines on stderr"),
    (libc::SYS_mmap, "allocator"),
    (libc::SYS_munmap, "allocator"),
    (libc::SYS_mremap, "allocator"),
    (libc::SYS_mprotect, "allocator"),
    (libc::SYS_madvise, "allocator"),
    (libc::SYS_brk, "allocator"),
    (libc::SYS_futex, "std locks"),
    (libc::SYS_rt_sigaction, "std"),
    (libc::SYS_rt_sigprocmask, "std"),
    (libc::SYS_rt_sigreturn, "signal return"),
    (libc::SYS_sigaltstack, "std's stack overflow handler"),
    (libc::SYS_getpid, "abort"),
    (libc::SYS_gettid, "abort"),
    (libc::SYS_tgkill, "abort (panic = abort)"),
    (libc::SYS_exit, "thread exit"),
    (libc::SYS_exit_group, "exit"),
];

/// The fcntl commands allowed (duplicating fds, their flags).
const FCNTL_ARGS: [u64; 5] = [
    libc::F_GETFD as u64,
    libc::F_SETFD as u64,
    libc::F_GETFL as u64,
    libc::F_SETFL as u64,
    libc::F_DUPFD_CLOEXEC as u64,
];

/// The capabilities the Gofer keeps as root: reading and changing files of any owner in what it
/// serves. Everything else goes (effective, permitted, inheritable, ambient and bounding sets).
const KEEP: &[caps::Capability] = &[
    caps::Capability::CAP_CHOWN,
    caps::Capability::CAP_DAC_OVERRIDE,
    caps::Capability::CAP_DAC_READ_SEARCH,
    caps::Capability::CAP_FOWNER,
    caps::Capability::CAP_FSETID,
];

fn other(op: &str, e: impl std::fmt::Display) -> io::Error {
    io::Error::other(format!("{op}: {e}"))
}

fn filter() -> io::Result<BpfProgram> {
    allow_list_filter(ALLOWED, &[(libc::SYS_fcntl, 1, &FCNTL_ARGS)])
}

/// A seccomp filter that kills the process on any syscall but those in `allowed` and those in
/// `conditional` (syscall, argument index, the values that argument may take).
pub fn allow_list_filter(
    allowed: &[(i64, &str)],
    conditional: &[(i64, u8, &[u64])],
) -> io::Result<BpfProgram> {
    allow_list_filter_masked(allowed, conditional, &[])
}

/// [`allow_list_filter`], and syscalls allowed only without some bits in one argument:
/// `(nr, arg, mask)` allows `nr` when `arg & mask == 0` (mmap without PROT_EXEC).
pub fn allow_list_filter_masked(
    allowed: &[(i64, &str)],
    conditional: &[(i64, u8, &[u64])],
    masked: &[(i64, u8, u64)],
) -> io::Result<BpfProgram> {
    let mut rules: BTreeMap<i64, Vec<SeccompRule>> =
        allowed.iter().map(|&(nr, _)| (nr, vec![])).collect();
    for &(nr, arg, mask) in masked {
        let cond = SeccompCondition::new(
            arg,
            SeccompCmpArgLen::Dword,
            SeccompCmpOp::MaskedEq(mask),
            0,
        )
        .map_err(|e| other("seccomp rule", e))?;
        rules.insert(
            nr,
            vec![SeccompRule::new(vec![cond]).map_err(|e| other("seccomp rule", e))?],
        );
    }
    for &(nr, arg, values) in conditional {
        let mut list = Vec::new();
        for &v in values {
            let cond = SeccompCondition::new(arg, SeccompCmpArgLen::Dword, SeccompCmpOp::Eq, v)
                .map_err(|e| other("seccomp rule", e))?;
            list.push(SeccompRule::new(vec![cond]).map_err(|e| other("seccomp rule", e))?);
        }
        rules.insert(nr, list);
    }
    let f = SeccompFilter::new(
        rules,
        SeccompAction::KillProcess,
        SeccompAction::Allow,
        TargetArch::x86_64,
    )
    .map_err(|e| other("seccomp filter", e))?;
    f.try_into()
        .map_err(|e: seccompiler::BackendError| other("seccomp filter", e))
}

/// Moves the calling process into new mount, IPC and UTS namespaces (and a network namespace if
/// `new_network`) whose root is an empty, read-only tmpfs; the old root is unmounted (fds opened
/// before stay usable). Needs CAP_SYS_ADMIN.
pub fn enter_empty_root(new_network: bool) -> io::Result<()> {
    use nix::mount::{mount, umount2, MntFlags, MsFlags};
    use nix::sched::{unshare, CloneFlags};
    // A network namespace costs ~0.8 ms here (made, then torn down at exit).
    let net = if new_network {
        CloneFlags::CLONE_NEWNET
    } else {
        CloneFlags::empty()
    };
    unshare(CloneFlags::CLONE_NEWNS | CloneFlags::CLONE_NEWIPC | CloneFlags::CLONE_NEWUTS | net)?;
    // Nothing mounted or unmounted here propagates back to the host.
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        None::<&str>,
    )?;
    let dir = "/tmp";
    mount(
        Some("runrs-empty"),
        dir,
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        Some("size=4k,mode=0555"),
    )?;
    nix::unistd::chdir(dir)?;
    // pivot_root(".", "."): the old root ends up stacked on the new one, then goes.
    nix::unistd::pivot_root(".", ".")?;
    umount2(".", MntFlags::MNT_DETACH)?;
    nix::unistd::chdir("/")?;
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REMOUNT
            | MsFlags::MS_BIND
            | MsFlags::MS_RDONLY
            | MsFlags::MS_NOSUID
            | MsFlags::MS_NODEV
            | MsFlags::MS_NOEXEC,
        None::<&str>,
    )?;
    Ok(())
}

/// Moves the calling process (which must be single-threaded) into a new user namespace where
/// its own uid and gid map to themselves: it holds every capability there, over that namespace
/// only, which is what [`enter_empty_root`] needs when not root. Fails where the host forbids
/// unprivileged user namespaces.
///
/// Only the Sentry does this: the Gofer reports file owners, and from inside such a namespace
/// every owner but the caller reads as the overflow uid (65534).
pub fn enter_user_namespace() -> io::Result<()> {
    let (uid, gid) = (nix::unistd::geteuid(), nix::unistd::getegid());
    nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWUSER)?;
    // Without setgroups denied, an unprivileged process may not write its gid map.
    std::fs::write("/proc/self/setgroups", "deny")?;
    std::fs::write("/proc/self/uid_map", format!("{uid} {uid} 1"))?;
    std::fs::write("/proc/self/gid_map", format!("{gid} {gid} 1"))?;
    Ok(())
}

/// Locks the Gofer down (see the module's documentation). Without CAP_SYS_ADMIN the root stays
/// (the filter still admits no call that names a path from the root).
///
/// `serve_on`: the CPU to move to last, before the filter (the Sentry's, for same-core round
/// trips), so that the lockdown itself can run on another CPU while the Sentry starts.
pub fn lock_down(serve_on: Option<usize>) -> io::Result<Report> {
    let mut report = Report::default();
    let admin = caps::has_cap(
        None,
        caps::CapSet::Effective,
        caps::Capability::CAP_SYS_ADMIN,
    )
    .unwrap_or(false);
    if admin {
        // No network namespace made here: the filter admits no socket call. (A Gofer forked by
        // `runrs do` makes one at its very start, for the Sentry to join: see `run_gofer`.)
        enter_empty_root(false).map_err(|e| other("namespaces and empty root", e))?;
        report.empty_root = true;
    }
    nix::sys::prctl::set_no_new_privs().map_err(|e| other("PR_SET_NO_NEW_PRIVS", e))?;
    let keep: caps::CapsHashSet = KEEP.iter().copied().collect();
    let permitted = caps::read(None, caps::CapSet::Permitted).map_err(|e| other("capget", e))?;
    let kept: caps::CapsHashSet = permitted.intersection(&keep).copied().collect();
    for cap in caps::all() {
        if !kept.contains(&cap) {
            // Dropping from the bounding set needs CAP_SETPCAP, which goes last with the rest.
            let _ = caps::drop(None, caps::CapSet::Bounding, cap);
        }
    }
    caps::clear(None, caps::CapSet::Ambient).map_err(|e| other("capset", e))?;
    caps::clear(None, caps::CapSet::Inheritable).map_err(|e| other("capset", e))?;
    caps::set(None, caps::CapSet::Effective, &kept).map_err(|e| other("capset", e))?;
    caps::set(None, caps::CapSet::Permitted, &kept).map_err(|e| other("capset", e))?;
    if let Some(cpu) = serve_on {
        pin_to(&[cpu]).map_err(|e| other("sched_setaffinity", e))?;
    }
    seccompiler::apply_filter_all_threads(&filter()?).map_err(|e| other("seccomp", e))?;
    Ok(report)
}

/// Pins the calling thread to `cpus`.
pub fn pin_to(cpus: &[usize]) -> io::Result<()> {
    let mut set = nix::sched::CpuSet::new();
    for &c in cpus {
        set.set(c)?;
    }
    nix::sched::sched_setaffinity(nix::unistd::Pid::from_raw(0), &set)?;
    Ok(())
}

/// Drops every capability from every set (the net gofer needs none).
pub fn drop_all_capabilities() -> io::Result<()> {
    for cap in caps::all() {
        let _ = caps::drop(None, caps::CapSet::Bounding, cap);
    }
    for set in [
        caps::CapSet::Ambient,
        caps::CapSet::Inheritable,
        caps::CapSet::Effective,
        caps::CapSet::Permitted,
    ] {
        caps::clear(None, set).map_err(|e| other("capset", e))?;
    }
    Ok(())
}

/// The allow-list as Markdown (docs/security.md).
pub fn allow_list_markdown() -> String {
    let mut s = String::from("| host syscall | why |\n|---|---|\n");
    for (nr, why) in ALLOWED {
        s.push_str(&format!("| {} | {why} |\n", syscall_name(*nr)));
    }
    s.push_str("| fcntl | only F_GETFD, F_SETFD, F_GETFL, F_SETFL, F_DUPFD_CLOEXEC |\n");
    s
}

fn syscall_name(nr: i64) -> String {
    usize::try_from(nr)
        .ok()
        .and_then(|n| abi::sysno::SYSCALL_NAMES.get(n).copied())
        .map_or_else(|| nr.to_string(), str::to_string)
}

#[cfg(test)]
mod tests {
    #[test]
    fn filter_builds() {
        assert!(super::filter().is_ok());
    }

    #[test]
    fn every_allowed_syscall_has_a_name() {
        for (nr, _) in super::ALLOWED {
            assert!(
                !super::syscall_name(*nr).starts_with(char::is_numeric),
                "{nr}"
            );
        }
    }

    #[test]
    fn security_doc_lists_the_allow_list() {
        let doc = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/security.md"),
        )
        .unwrap();
        assert!(
            doc.contains(&super::allow_list_markdown()),
            "docs/security.md does not list the Gofer's allow-list as the code has it:\n{}",
            super::allow_list_markdown()
        );
    }
}
