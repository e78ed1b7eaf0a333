//! The Sentry's own host calls that neither std nor nix wraps: getrandom, clocks of other
//! processes, terminal ioctls on inherited stdio, auxv queries. Each is a thin, safe wrapper.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

/// Fills `buf` from the host's CSPRNG (blocking until it is seeded).
pub fn fill_random(buf: &mut [u8]) {
    let mut done = 0;
    while done < buf.len() {
        let rest = &mut buf[done..];
        // SAFETY: the kernel writes at most rest.len() bytes into rest.
        let n = unsafe { libc::getrandom(rest.as_mut_ptr().cast(), rest.len(), 0) };
        if n > 0 {
            done += usize::try_from(n).unwrap_or(0);
        }
    }
}

/// A uniformly random page-aligned value below `limit` (for layout randomisation).
pub fn random_below(limit: u64) -> u64 {
    let mut b = [0u8; 8];
    fill_random(&mut b);
    if limit < abi::PAGE_SIZE {
        return 0;
    }
    (u64::from_le_bytes(b) % limit) & !(abi::PAGE_SIZE - 1)
}

/// clock_gettime on a host clock id.
pub fn clock_gettime(id: libc::clockid_t) -> io::Result<abi::Timespec> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: ts is a valid out pointer.
    if unsafe { libc::clock_gettime(id, &mut ts) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(abi::Timespec {
        tv_sec: ts.tv_sec,
        tv_nsec: ts.tv_nsec,
    })
}

/// clock_getres on a host clock id.
pub fn clock_getres(id: libc::clockid_t) -> io::Result<abi::Timespec> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: ts is a valid out pointer.
    if unsafe { libc::clock_getres(id, &mut ts) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(abi::Timespec {
        tv_sec: ts.tv_sec,
        tv_nsec: ts.tv_nsec,
    })
}

/// The host clock id of process `pid`'s CPU clock of `kind` (0 PROF, 1 VIRT, 2 SCHED).
pub fn process_cpu_clock(pid: i32, kind: i32) -> libc::clockid_t {
    ((!pid) << 3) | kind
}

/// clock_nanosleep on a host clock (the Sentry thread sleeps for the guest).
pub fn clock_nanosleep(id: libc::clockid_t, flags: i32, ts: abi::Timespec) -> io::Result<()> {
    let req = libc::timespec {
        tv_sec: ts.tv_sec,
        tv_nsec: ts.tv_nsec,
    };
    loop {
        // SAFETY: req is valid; no remaining-time pointer is passed.
        let r = unsafe { libc::clock_nanosleep(id, flags, &req, std::ptr::null_mut()) };
        match r {
            0 => return Ok(()),
            // The Sentry's own signals do not interrupt a guest sleep; an absolute sleep resumes
            // exactly, a relative one is restarted (rare: the Sentry blocks no signals it handles).
            libc::EINTR if flags & libc::TIMER_ABSTIME != 0 => continue,
            libc::EINTR => return Ok(()),
            e => return Err(io::Error::from_raw_os_error(e)),
        }
    }
}

/// An ioctl that reads `N` bytes of a terminal's state (TCGETS, TIOCGWINSZ, FIONREAD).
pub fn ioctl_read<const N: usize>(fd: BorrowedFd<'_>, req: u64) -> io::Result<[u8; N]> {
    // Oversized buffer: the kernel writes the full struct, which may be larger than what the
    // guest ABI exposes (N).
    let mut buf = [0u8; 128];
    // SAFETY: buf is larger than any struct these requests write.
    if unsafe { libc::ioctl(fd.as_raw_fd(), req, buf.as_mut_ptr()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let mut out = [0u8; N];
    out.copy_from_slice(&buf[..N]);
    Ok(out)
}

/// Sets a host terminal's window size (TIOCSWINSZ).
pub fn set_window_size(fd: BorrowedFd<'_>, rows: u16, cols: u16) -> io::Result<()> {
    let ws = libc::winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCSWINSZ reads one winsize from a valid pointer.
    if unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCSWINSZ, &ws) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// fstat on a host fd, in the x86-64 `struct stat` layout.
pub fn fstat(fd: BorrowedFd<'_>) -> io::Result<abi::Stat> {
    let mut st = abi::Stat::default();
    // SAFETY: abi::Stat has the kernel's x86-64 struct stat layout (asserted in abi).
    if unsafe { libc::syscall(libc::SYS_fstat, fd.as_raw_fd(), &mut st as *mut abi::Stat) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(st)
}

/// fcntl with an integer argument on a host fd.
pub fn fcntl(fd: BorrowedFd<'_>, cmd: i32, arg: i64) -> io::Result<i32> {
    // SAFETY: the commands used (F_GETFL, F_SETFL) take an integer argument.
    let r = unsafe { libc::fcntl(fd.as_raw_fd(), cmd, arg) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(r)
}

/// lseek on a host fd.
pub fn lseek(fd: BorrowedFd<'_>, off: i64, whence: i32) -> io::Result<i64> {
    // SAFETY: lseek takes no pointers.
    let r = unsafe { libc::lseek(fd.as_raw_fd(), off, whence) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(r)
}

/// getauxval of the Sentry itself.
pub fn getauxval(key: u64) -> u64 {
    // SAFETY: getauxval takes no pointers.
    unsafe { libc::getauxval(key) }
}

/// The CPU the calling thread runs on.
pub fn current_cpu() -> u32 {
    // SAFETY: sched_getcpu takes no pointers.
    u32::try_from(unsafe { libc::sched_getcpu() }).unwrap_or(0)
}

/// The Sentry's affinity as the host reports it to a buffer of `len` bytes: the byte count the
/// host returns, or its errno. Used to answer the guest with the host's exact size rules.
pub fn sched_getaffinity(len: usize) -> Result<Vec<u8>, i32> {
    let mut buf = vec![0u8; len];
    // SAFETY: the kernel writes at most len bytes into buf.
    let r = unsafe { libc::syscall(libc::SYS_sched_getaffinity, 0, len, buf.as_mut_ptr()) };
    if r < 0 {
        return Err(io::Error::last_os_error()
            .raw_os_error()
            .unwrap_or(libc::EINVAL));
    }
    buf.truncate(usize::try_from(r).unwrap_or(0));
    Ok(buf)
}

/// The calling process's supplementary groups.
pub fn getgroups() -> Vec<u32> {
    // SAFETY: a zero-sized query writes nothing.
    let n = unsafe { libc::getgroups(0, std::ptr::null_mut()) };
    let mut v = vec![0u32; usize::try_from(n).unwrap_or(0)];
    // SAFETY: v has room for n groups.
    let n = unsafe { libc::getgroups(n, v.as_mut_ptr()) };
    v.truncate(usize::try_from(n).unwrap_or(0));
    v
}

/// getrlimit of the Sentry (inherited by the guest at start).
pub fn getrlimit(resource: usize) -> abi::Rlimit {
    let mut r = libc::rlimit64 {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: r is a valid out pointer; an invalid resource just fails.
    unsafe {
        libc::prlimit64(
            0,
            resource as libc::__rlimit_resource_t,
            std::ptr::null(),
            &mut r,
        )
    };
    abi::Rlimit {
        cur: r.rlim_cur,
        max: r.rlim_max,
    }
}

/// Bytes of the Sentry's inaccessible reservation: one read or write never exceeds this.
const UNMAPPED_LEN: usize = abi::MAX_RW_COUNT;

/// The start of a PROT_NONE reservation in the Sentry, made once: host calls given a pointer into
/// it fault (EFAULT) instead of touching anything, like a guest's unmapped buffer.
fn unmapped_reservation() -> Option<usize> {
    static RESERVATION: std::sync::OnceLock<Option<usize>> = std::sync::OnceLock::new();
    *RESERVATION.get_or_init(|| {
        // Nothing else uses the reservation, and it is never unmapped (it lives with the Sentry).
        // SAFETY: a fresh anonymous PROT_NONE mapping at an address the kernel picks.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                UNMAPPED_LEN,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        (p != libc::MAP_FAILED).then_some(p as usize)
    })
}

/// A read or write on a host fd with a buffer that is certainly inaccessible, so the host kernel
/// itself decides what a guest's bad buffer gets: 0 at end of file or from /dev/null, the full
/// count from a write to /dev/null, EFAULT where data would have been copied (and none is
/// consumed). `write` selects write(2), else read(2).
pub fn io_with_unmapped_buffer(fd: BorrowedFd<'_>, len: usize, write: bool) -> io::Result<usize> {
    let base = unmapped_reservation().ok_or_else(|| io::Error::from_raw_os_error(libc::ENOMEM))?;
    let bad = std::ptr::without_provenance_mut::<libc::c_void>(base);
    let len = len.min(UNMAPPED_LEN);
    // The kernel either never touches the buffer or fails with EFAULT.
    // SAFETY: [bad, bad + len) lies in the PROT_NONE reservation: no Sentry memory is reachable.
    let r = unsafe {
        if write {
            libc::write(fd.as_raw_fd(), bad, len)
        } else {
            libc::read(fd.as_raw_fd(), bad, len)
        }
    };
    usize::try_from(r).map_err(|_| io::Error::last_os_error())
}

/// Moves the calling process into new mount, IPC, UTS and network namespaces whose root is an
/// empty, read-only tmpfs, with the old root unmounted: no host path resolves any more, and no
/// network interface exists, not even the host's loopback. Needs CAP_SYS_ADMIN.
pub fn enter_empty_root(net_ns_of: Option<i32>) -> io::Result<()> {
    // The Gofer enters the same kind of root.
    let joined = net_ns_of.is_some_and(|pid| join_new_net_ns(pid).unwrap_or(false));
    gofer::lockdown::enter_empty_root(!joined)
}

/// Joins the network namespace of process `pid` if it is not the caller's (that process made
/// a new one); returns whether it did.
fn join_new_net_ns(pid: i32) -> io::Result<bool> {
    use std::os::unix::fs::MetadataExt;
    let theirs = std::fs::File::open(format!("/proc/{pid}/ns/net"))?;
    let ours = std::fs::metadata("/proc/self/ns/net")?;
    let t = theirs.metadata()?;
    if (t.dev(), t.ino()) == (ours.dev(), ours.ino()) {
        return Ok(false);
    }
    nix::sched::setns(&theirs, nix::sched::CloneFlags::CLONE_NEWNET)?;
    Ok(true)
}

/// sched_rr_get_interval(0) for the calling thread.
pub fn sched_rr_get_interval() -> io::Result<abi::Timespec> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: ts is a valid out pointer.
    if unsafe { libc::sched_rr_get_interval(0, &mut ts) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(abi::Timespec {
        tv_sec: ts.tv_sec,
        tv_nsec: ts.tv_nsec,
    })
}

/// poll(2) on host fds (the inherited stdio) for at most `timeout_ms` (-1: for ever).
pub fn poll(fds: &mut [libc::pollfd], timeout_ms: i32) -> io::Result<usize> {
    loop {
        // SAFETY: fds is a valid array of fds.len() pollfds.
        let r = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout_ms) };
        match usize::try_from(r) {
            Ok(n) => return Ok(n),
            Err(_) => {
                let e = io::Error::last_os_error();
                if e.kind() != io::ErrorKind::Interrupted {
                    return Err(e);
                }
            }
        }
    }
}

/// Host signals `runrs do` passes on to the guest, as a set (bit N-1 for signal N).
static FORWARDED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// The signals passed on: the terminal's (SIGINT, SIGQUIT, SIGHUP, SIGWINCH) and the ones a
/// supervisor sends (SIGTERM, SIGUSR1, SIGUSR2).
pub const FORWARD: [i32; 7] = [
    libc::SIGINT,
    libc::SIGQUIT,
    libc::SIGHUP,
    libc::SIGWINCH,
    libc::SIGTERM,
    libc::SIGUSR1,
    libc::SIGUSR2,
];

/// Makes `fd` (a terminal) the controlling terminal of the caller, which must have just become
/// a session leader: the terminal's signals (Ctrl-C, a resize) then come to the Sentry, which
/// passes them on to the guest's foreground process group.
pub fn set_controlling_terminal(fd: std::os::fd::BorrowedFd<'_>) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: TIOCSCTTY takes an integer argument (0: do not steal another session's terminal).
    if unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCSCTTY, 0) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// The write end of a pipe the handler writes a byte to, waking an idle scheduler (which polls
/// the read end): a signal that arrives just before the scheduler sleeps is not missed.
static WAKE_PIPE: [std::sync::atomic::AtomicI32; 2] = [
    std::sync::atomic::AtomicI32::new(-1),
    std::sync::atomic::AtomicI32::new(-1),
];

extern "C" fn on_forwarded(sig: libc::c_int) {
    if (1..=64).contains(&sig) {
        FORWARDED.fetch_or(1 << (sig - 1), std::sync::atomic::Ordering::Relaxed);
    }
    // Take the CPU back from the guest so the scheduler sees the signal now.
    platform::ptrace::kick_running();
    let w = WAKE_PIPE[1].load(std::sync::atomic::Ordering::Relaxed);
    if w >= 0 {
        // The pipe is non-blocking: a full pipe already wakes the scheduler.
        // SAFETY: a one-byte write from a valid static buffer.
        unsafe { libc::write(w, b"x".as_ptr().cast(), 1) };
    }
}

/// Wakes the scheduler from its idle sleep, and takes the CPU back from a running guest, so
/// that it looks at what another thread of the Sentry queued for it (control requests).
pub fn wake_scheduler() {
    platform::ptrace::kick_running();
    let w = WAKE_PIPE[1].load(std::sync::atomic::Ordering::Relaxed);
    if w >= 0 {
        // SAFETY: a one-byte write from a valid static buffer to our own non-blocking pipe.
        unsafe { libc::write(w, b"x".as_ptr().cast(), 1) };
    }
}

/// Makes the pipe that wakes the Sentry's sleeps for forwarded signals (once; before the
/// lockdown, after which the Sentry may not make pipes).
pub fn make_wake_pipe() -> io::Result<()> {
    if WAKE_PIPE[1].load(std::sync::atomic::Ordering::Relaxed) >= 0 {
        return Ok(());
    }
    let mut fds = [-1; 2];
    // SAFETY: fds has room for the two fds pipe2 writes.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_NONBLOCK | libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    WAKE_PIPE[0].store(fds[0], std::sync::atomic::Ordering::Relaxed);
    WAKE_PIPE[1].store(fds[1], std::sync::atomic::Ordering::Relaxed);
    Ok(())
}

/// Catches [`FORWARD`] signals sent to the Sentry (they no longer end it) for
/// [`take_forwarded`].
pub fn forward_signals() -> io::Result<()> {
    make_wake_pipe()?;
    for sig in FORWARD {
        // No SA_RESTART, so an idle sleep of the scheduler returns early.
        // SAFETY: the handler only does async-signal-safe work (an atomic, a tgkill, a write).
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_forwarded as extern "C" fn(libc::c_int) as usize;
            libc::sigemptyset(&mut sa.sa_mask);
            if libc::sigaction(sig, &sa, std::ptr::null_mut()) != 0 {
                return Err(io::Error::last_os_error());
            }
        }
    }
    Ok(())
}

/// The forwarded signals received since the last call.
pub fn take_forwarded() -> u64 {
    FORWARDED.swap(0, std::sync::atomic::Ordering::Relaxed)
}

/// Sleeps up to `ns` nanoseconds (None: until woken), or until one of `fds` (host fds guests
/// wait on) is ready; a host signal to forward ends the sleep early, even one that arrived just
/// before it.
pub fn sleep_interruptible(ns: Option<u64>, fds: &[(i32, i16)]) {
    let ms = ns.map_or(-1, |ns| {
        i32::try_from(ns.div_ceil(1_000_000)).unwrap_or(i32::MAX)
    });
    let r = WAKE_PIPE[0].load(std::sync::atomic::Ordering::Relaxed);
    let mut p: Vec<libc::pollfd> = fds
        .iter()
        .map(|&(fd, events)| libc::pollfd {
            fd,
            events,
            revents: 0,
        })
        .collect();
    if r >= 0 {
        p.push(libc::pollfd {
            fd: r,
            events: libc::POLLIN,
            revents: 0,
        });
    }
    // SAFETY: p is a valid array of p.len() pollfds.
    let n = unsafe { libc::poll(p.as_mut_ptr(), p.len() as libc::nfds_t, ms) };
    if n > 0 && r >= 0 && p.last().is_some_and(|w| w.revents != 0) {
        let mut buf = [0u8; 64];
        // SAFETY: reads into a valid buffer from our own non-blocking pipe.
        while unsafe { libc::read(r, buf.as_mut_ptr().cast(), buf.len()) } > 0 {}
    }
}

/// The host fd a console reads its terminal's input from (-1: none), and whether input came
/// since [`take_input_ready`] last looked.
static INPUT_FD: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(-1);
static INPUT_READY: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

extern "C" fn on_input(_sig: libc::c_int) {
    let fd = INPUT_FD.load(std::sync::atomic::Ordering::Relaxed);
    if fd < 0 {
        return;
    }
    // SIGIO also comes when output drains: only input takes the CPU back from the guest.
    let mut p = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: poll is async-signal-safe; p is a valid pollfd.
    if unsafe { libc::poll(&mut p, 1, 0) } <= 0 {
        return;
    }
    INPUT_READY.store(true, std::sync::atomic::Ordering::Relaxed);
    wake_scheduler();
}

/// Has the host signal (SIGIO) when `fd` (a console's input) has input, so that typing reaches
/// the guest even while guest code runs. Only one fd is watched (a later call replaces it).
pub fn watch_input(fd: BorrowedFd<'_>) -> io::Result<()> {
    let raw = fd.as_raw_fd();
    INPUT_FD.store(raw, std::sync::atomic::Ordering::Relaxed);
    // SAFETY: the handler only polls, touches atomics and writes to the wake pipe.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_input as extern "C" fn(libc::c_int) as usize;
        libc::sigemptyset(&mut sa.sa_mask);
        if libc::sigaction(libc::SIGIO, &sa, std::ptr::null_mut()) != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    // SAFETY: F_SETOWN and F_GETFL/F_SETFL take integer arguments.
    unsafe {
        if libc::fcntl(raw, libc::F_SETOWN, libc::getpid()) != 0 {
            return Err(io::Error::last_os_error());
        }
        let fl = libc::fcntl(raw, libc::F_GETFL);
        if fl < 0 || libc::fcntl(raw, libc::F_SETFL, fl | libc::O_ASYNC) != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Stops [`watch_input`] on `fd` (the description is the caller's terminal's: O_ASYNC must not
/// stay on it).
pub fn unwatch_input(fd: BorrowedFd<'_>) {
    let raw = fd.as_raw_fd();
    let _ = INPUT_FD.compare_exchange(
        raw,
        -1,
        std::sync::atomic::Ordering::Relaxed,
        std::sync::atomic::Ordering::Relaxed,
    );
    // SAFETY: F_GETFL/F_SETFL take integer arguments.
    unsafe {
        let fl = libc::fcntl(raw, libc::F_GETFL);
        if fl >= 0 {
            libc::fcntl(raw, libc::F_SETFL, fl & !libc::O_ASYNC);
        }
    }
}

/// Whether console input arrived since the last call.
pub fn take_input_ready() -> bool {
    INPUT_READY.swap(false, std::sync::atomic::Ordering::Relaxed)
}

/// Whether `fd` has something to read (or hung up) now.
pub fn readable_now(fd: BorrowedFd<'_>) -> bool {
    let mut p = [libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    }];
    poll(&mut p, 0).is_ok_and(|n| n > 0)
}
