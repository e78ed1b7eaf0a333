//! Locking the Sentry down once the sandbox is set up: from then on it reaches the host only
//! through the fds it holds (the memory file, the Gofer channel, donated files, inherited stdio)
//! and the stub processes it traces.
//!
//! In order: new mount, IPC, UTS and network namespaces with the root moved to an empty tmpfs
//! (when the Sentry may: as root), `PR_SET_NO_NEW_PRIVS`, every capability dropped, and a seccomp
//! allow-list of the host syscalls the run loop makes (anything else kills the Sentry). The
//! filter is applied to every thread, and inherited by processes the Sentry would start later.
//!
//! docs/security.md lists the allow-list and why each call is there.

use seccompiler::BpfProgram;

/// Why the lockdown failed.
#[derive(Debug, thiserror::Error)]
pub enum LockdownError {
    #[error("{op}: {source}")]
    Host {
        op: &'static str,
        source: std::io::Error,
    },
    #[error("building the seccomp filter: {0}")]
    Filter(String),
}

/// What the lockdown did (for the debug log and tests).
#[derive(Debug, Default)]
pub struct Report {
    /// Entered a user namespace of its own (when not root).
    pub user_namespace: bool,
    pub namespaces: bool,
    pub empty_root: bool,
}

/// The host syscalls the Sentry makes after setup, with why.
const ALLOWED: &[(i64, &str)] = &[
    // Guest I/O: the memory file, donated files, stdio.
    (libc::SYS_read, "reads of donated files and stdio"),
    (libc::SYS_write, "writes to stdio, the memory file, logs"),
    (libc::SYS_readv, "guest readv on host fds"),
    (libc::SYS_writev, "guest writev on host fds"),
    (libc::SYS_pread64, "reads of files and the memory file"),
    (libc::SYS_pwrite64, "writes of the memory file"),
    (libc::SYS_preadv, "file reads into guest memory"),
    (libc::SYS_pwritev, "volume writes from guest memory"),
    (libc::SYS_lseek, "stdio and volume file positions"),
    (libc::SYS_fstat, "stdio fstat"),
    (
        libc::SYS_fstatfs,
        "noexec check of a host file mapped into guests",
    ),
    (libc::SYS_statx, "std's read_to_end size hint"),
    (libc::SYS_close, "closing donated fds"),
    (libc::SYS_fallocate, "punching holes in the memory file"),
    (
        libc::SYS_sendfile,
        "filling the memory file from donated files (mapped files, executables)",
    ),
    // The Gofer channel.
    (libc::SYS_sendmsg, "Gofer requests"),
    (libc::SYS_recvmsg, "Gofer replies and donated fds"),
    (libc::SYS_accept4, "the control socket of an OCI container"),
    // Sockets the net gofer connected outside the sandbox (the Sentry creates none).
    (
        libc::SYS_recvfrom,
        "data from a connection outside the sandbox",
    ),
    (libc::SYS_sendto, "data to a connection outside the sandbox"),
    (
        libc::SYS_getsockopt,
        "SO_ERROR of a connection outside the sandbox",
    ),
    (
        libc::SYS_shutdown,
        "shutdown of a connection outside the sandbox",
    ),
    // The platform.
    (libc::SYS_ptrace, "running the guest"),
    (libc::SYS_wait4, "stub stops"),
    (
        libc::SYS_kill,
        "killing a stub at teardown, preemption kicks",
    ),
    (libc::SYS_timer_settime, "the preemption timer"),
    // (No fork or exec: every stub made after the lockdown is a clone of a template stub made
    // before it, by a call injected into the template, which runs under the stubs' own filter.)
    // Memory of the Sentry itself.
    (libc::SYS_mmap, "allocator"),
    (libc::SYS_munmap, "allocator"),
    (libc::SYS_mremap, "allocator"),
    (libc::SYS_mprotect, "allocator"),
    (
        libc::SYS_madvise,
        "allocator, populating memory-file ranges",
    ),
    (libc::SYS_brk, "allocator"),
    (
        libc::SYS_mincore,
        "whether a page of the memory store is there (guard pages around large writes)",
    ),
    // Time, randomness, scheduling.
    (libc::SYS_clock_gettime, "clocks (when the vDSO falls back)"),
    (libc::SYS_clock_nanosleep, "guest sleeps"),
    (libc::SYS_clock_getres, "guest clock_getres"),
    (libc::SYS_sched_getaffinity, "guest sched_getaffinity"),
    (
        libc::SYS_sched_rr_get_interval,
        "guest sched_rr_get_interval",
    ),
    (libc::SYS_poll, "guest poll on inherited stdio"),
    (libc::SYS_nanosleep, "guest sleeps"),
    (libc::SYS_getrandom, "guest getrandom, layout randomisation"),
    (libc::SYS_sched_yield, "guest sched_yield"),
    (libc::SYS_getcpu, "guest getcpu (when the vDSO falls back)"),
    (libc::SYS_futex, "std locks"),
    // Process plumbing of the Sentry's own runtime.
    (libc::SYS_rt_sigaction, "std"),
    (libc::SYS_rt_sigprocmask, "std"),
    (libc::SYS_rt_sigreturn, "signal return"),
    (libc::SYS_sigaltstack, "std's stack overflow handler"),
    (libc::SYS_getpid, "std, abort"),
    (libc::SYS_gettid, "std, abort"),
    (libc::SYS_tgkill, "abort (panic = abort)"),
    (libc::SYS_exit, "thread exit"),
    (libc::SYS_exit_group, "exit"),
];

fn filter() -> Result<BpfProgram, LockdownError> {
    // fcntl: only what std and the Sentry use on fds (duplicating, flags); ioctl: only the
    // terminal queries passed through to inherited stdio.
    let fcntl = [
        libc::F_GETFD,
        libc::F_SETFD,
        libc::F_GETFL,
        libc::F_SETFL,
        libc::F_DUPFD_CLOEXEC,
        // An exec'd process's console: its host input sends the Sentry SIGIO.
        libc::F_SETOWN,
    ]
    .map(|c| c as u64);
    // TCSETSW: a console gives the host terminal its modes back at the end.
    let ioctl = [
        libc::TCGETS,
        libc::TCSETSW,
        libc::TIOCGWINSZ,
        libc::FIONREAD,
    ];
    // No executable memory: the Sentry maps its heap and the memory file read-write only
    // (guest code is mapped in the stubs, by calls injected there).
    let exec = libc::PROT_EXEC as u64;
    gofer::lockdown::allow_list_filter_masked(
        ALLOWED,
        &[(libc::SYS_fcntl, 1, &fcntl), (libc::SYS_ioctl, 1, &ioctl)],
        &[(libc::SYS_mmap, 2, exec), (libc::SYS_mprotect, 2, exec)],
    )
    .map_err(|e| LockdownError::Filter(e.to_string()))
}

/// Locks the calling process down. Call on the Sentry's thread after the sandbox is set up.
///
/// `net_ns_of`: a process whose network namespace, if it is already a new one, the Sentry joins
/// instead of making its own.
pub fn lock_down(net_ns_of: Option<i32>) -> Result<Report, LockdownError> {
    let mut report = Report::default();
    // Namespaces and an empty root need CAP_SYS_ADMIN. Without it (not root), a user namespace
    // of its own gives it, over nothing but the Sentry itself. Where the host forbids that, or
    // the Sentry already runs a thread (a control socket's), the rest still holds: the seccomp
    // filter admits no call that names a path.
    let admin = || {
        caps::has_cap(
            None,
            caps::CapSet::Effective,
            caps::Capability::CAP_SYS_ADMIN,
        )
        .unwrap_or(false)
    };
    if !admin() {
        match gofer::lockdown::enter_user_namespace() {
            Ok(()) => report.user_namespace = true,
            Err(e) => tracing::warn!(
                "no user namespace for the Sentry ({e}): it keeps the host's root and network"
            ),
        }
    }
    if admin() {
        crate::host::enter_empty_root(net_ns_of).map_err(|source| LockdownError::Host {
            op: "namespaces and empty root",
            source,
        })?;
        report.namespaces = true;
        report.empty_root = true;
    }
    // No privilege can be regained (also required for an unprivileged seccomp filter).
    nix::sys::prctl::set_no_new_privs().map_err(|e| LockdownError::Host {
        op: "PR_SET_NO_NEW_PRIVS",
        source: e.into(),
    })?;
    for set in [
        caps::CapSet::Ambient,
        caps::CapSet::Inheritable,
        caps::CapSet::Effective,
        caps::CapSet::Permitted,
    ] {
        caps::clear(None, set).map_err(|e| LockdownError::Host {
            op: "dropping capabilities",
            source: std::io::Error::other(e.to_string()),
        })?;
    }
    let prog = filter()?;
    seccompiler::apply_filter_all_threads(&prog).map_err(|e| LockdownError::Host {
        op: "seccomp",
        source: std::io::Error::other(e.to_string()),
    })?;
    Ok(report)
}

/// The allow-list as Markdown (docs/security.md).
pub fn allow_list_markdown() -> String {
    let mut s = String::from("| host syscall | why |\n|---|---|\n");
    for (nr, why) in ALLOWED {
        let name = usize::try_from(*nr)
            .ok()
            .and_then(|n| abi::sysno::SYSCALL_NAMES.get(n).copied())
            .unwrap_or("?");
        s.push_str(&format!("| {name} | {why} |\n"));
    }
    s.push_str(
        "| fcntl | only F_GETFD, F_SETFD, F_GETFL, F_SETFL, F_DUPFD_CLOEXEC, F_SETOWN (a \
         console's host input sends the Sentry SIGIO) |\n",
    );
    s.push_str(
        "| ioctl | only TCGETS, TIOCGWINSZ, FIONREAD (inherited stdio); TCSETSW (a console's \
         host terminal gets its modes back) |\n",
    );
    s.push_str("| mmap, mprotect | only without PROT_EXEC (no executable memory) |\n");
    s
}

#[cfg(test)]
mod tests {
    #[test]
    fn filter_builds() {
        assert!(super::filter().is_ok());
    }

    #[test]
    fn no_socket_is_created_or_connected_by_the_sentry() {
        // Outbound connections are made by the net gofer; the Sentry only moves their data.
        for nr in [
            libc::SYS_socket,
            libc::SYS_socketpair,
            libc::SYS_connect,
            libc::SYS_bind,
            libc::SYS_listen,
            libc::SYS_open,
            libc::SYS_openat,
            libc::SYS_execve,
        ] {
            assert!(super::ALLOWED.iter().all(|(n, _)| *n != nr), "{nr} allowed");
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
            "docs/security.md does not hold the current allow-list:\n{}",
            super::allow_list_markdown()
        );
    }
}
