//! The unsafe part of the ptrace platform: fork/exec of the stub, ptrace requests, waitpid.
//! Every function here is safe to call; each `unsafe` block says why it is sound.

use crate::{CpuPlacement, Error, SignalInfo};
use abi::UserRegs;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// How to resume a stopped tracee.
#[derive(Clone, Copy, Debug)]
pub enum Resume {
    /// Run until the next syscall (not executed by the host) or signal.
    Sysemu,
    /// Run, executing syscalls, until a signal.
    Continue,
}

/// Why a tracee stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// A `PTRACE_SYSEMU` syscall stop.
    Syscall,
    /// A signal-delivery stop for this signal.
    Signal(i32),
}

fn last_error(op: &'static str) -> Error {
    Error::Host {
        op,
        source: io::Error::last_os_error(),
    }
}

/// Pins the calling thread to `cpu`.
pub fn pin_current_thread(cpu: usize) -> io::Result<()> {
    // SAFETY: cpu_set_t is plain data; CPU_ZERO/CPU_SET only write inside it.
    let set = unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        set
    };
    // SAFETY: the set is a valid cpu_set_t of the size passed; pid 0 is the calling thread.
    if unsafe { libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Creates a sealed, close-on-exec memfd holding `data`.
pub fn sealed_memfd(name: &std::ffi::CStr, data: &[u8]) -> io::Result<OwnedFd> {
    let flags = libc::MFD_CLOEXEC | libc::MFD_ALLOW_SEALING;
    // SAFETY: name is a valid C string and the flags are valid.
    let fd = unsafe { libc::memfd_create(name.as_ptr(), flags) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: memfd_create returned a new fd that nothing else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let file = std::fs::File::from(fd);
    std::io::Write::write_all(&mut &file, data)?;
    let seals = libc::F_SEAL_WRITE | libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_SEAL;
    // SAFETY: F_ADD_SEALS on an fd we own.
    if unsafe { libc::fcntl(file.as_raw_fd(), libc::F_ADD_SEALS, seals) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(file.into())
}

/// What the child of [`spawn_stub`] needs, prepared before the clone: it may only make raw
/// syscalls on this.
struct StubChild {
    parent: libc::pid_t,
    stub_fd: RawFd,
    memory_fd: RawFd,
    store_fd: Option<RawFd>,
    transfer_fd: Option<RawFd>,
    cpu: Option<usize>,
    argv: [*const libc::c_char; 1],
    empty: *const libc::c_char,
}

/// The child of [`spawn_stub`], sharing the parent's memory (which waits, suspended, until the
/// exec): raw syscalls only, no allocation, no Rust state touched, and it never returns.
extern "C" fn stub_child(arg: *mut libc::c_void) -> libc::c_int {
    // The parent is suspended until the exec or the exit.
    // SAFETY: spawn_stub passes a StubChild that outlives the child's use of it (see above).
    let c = unsafe { &*arg.cast::<StubChild>() };
    // SAFETY: every call is a thin wrapper over one syscall on prepared values.
    unsafe {
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
        if libc::getppid() != c.parent {
            libc::_exit(126);
        }
        libc::setsid();
        if let Some(cpu) = c.cpu {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            libc::CPU_SET(cpu, &mut set);
            libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
        }
        // Every signal but SIGTRAP (the exec's stop) stays blocked, as the parent set it: none
        // of the Sentry's handlers can run here, in its memory. The exec resets the handlers;
        // the stub's clean-up unblocks the rest (see `PtraceAddressSpace::queue_cleanup`).
        // The store and the transfer socket first go clear of fds 0 to 2 (they could be
        // any), then the memory file becomes fd 0, the store fd 1, the socket fd 2.
        let store = c.store_fd.map(|s| libc::fcntl(s, libc::F_DUPFD, 3));
        let transfer = c.transfer_fd.map(|s| libc::fcntl(s, libc::F_DUPFD, 3));
        if c.memory_fd != 0 {
            libc::dup2(c.memory_fd, 0);
        } else {
            libc::fcntl(0, libc::F_SETFD, 0);
        }
        let mut keep = 1u32;
        if let Some(s) = store.filter(|&s| s >= 0) {
            libc::dup2(s, 1);
            keep = 2;
        }
        if let Some(t) = transfer.filter(|&t| t >= 0) {
            if keep == 1 {
                // No store: whatever the Sentry has as fd 1 must not stay open.
                libc::close(1);
            }
            libc::dup2(t, 2);
            keep = 3;
        }
        // Everything else closes at exec (the stub image fd is already close-on-exec).
        libc::syscall(
            libc::SYS_close_range,
            keep,
            u32::MAX,
            libc::CLOSE_RANGE_CLOEXEC,
        );
        if libc::ptrace(libc::PTRACE_TRACEME, 0, 0, 0) != 0 {
            libc::_exit(125);
        }
        libc::syscall(
            libc::SYS_execveat,
            c.stub_fd,
            c.empty,
            c.argv.as_ptr(),
            c.argv.as_ptr(),
            libc::AT_EMPTY_PATH,
        );
        libc::_exit(127)
    }
}

/// Starts a stub from `stub_fd`, with `memory_fd` as its fd 0, `store_fd` as its fd 1 and
/// `transfer_fd` as its fd 2 (each if given) and nothing else, traced by the calling thread.
/// Returns its pid, stopped after the exec.
///
/// The child shares the Sentry's memory until its exec (`CLONE_VM | CLONE_VFORK`, as
/// posix_spawn does): a fork would copy the Sentry's page tables and leave its pages
/// copy-on-write.
pub fn spawn_stub(
    stub_fd: RawFd,
    memory_fd: RawFd,
    store_fd: Option<RawFd>,
    transfer_fd: Option<RawFd>,
    placement: CpuPlacement,
) -> Result<i32, Error> {
    let empty = c"";
    let mut child = StubChild {
        // SAFETY: getpid has no preconditions.
        parent: unsafe { libc::getpid() },
        stub_fd,
        memory_fd,
        store_fd,
        transfer_fd,
        cpu: match placement {
            CpuPlacement::SameCore(cpu) => Some(cpu),
            CpuPlacement::Any => None,
        },
        argv: [std::ptr::null()],
        empty: empty.as_ptr(),
    };
    // The child's stack until its exec (the stack grows down from the end).
    let mut stack = vec![0u8; 64 << 10];
    // No signal handler of the Sentry may run in the child: all signals but SIGTRAP (which
    // has none, and which the exec's ptrace stop needs) blocked around the clone (the child's
    // mask starts as this one, and stays so until the exec).
    // SAFETY: sigset_t is plain data; all-zero is a valid value before sigfillset.
    let mut all: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    let mut old: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: valid sigset pointers.
    unsafe {
        libc::sigfillset(&mut all);
        libc::sigdelset(&mut all, libc::SIGTRAP);
        libc::pthread_sigmask(libc::SIG_SETMASK, &all, &mut old);
    }
    // stub_child only makes raw syscalls on `child` and its own stack (the end of `stack`,
    // 16-byte aligned), then execs or exits; with CLONE_VFORK this thread is suspended until
    // then.
    // SAFETY: so `child` and `stack` outlive the child's use of them.
    let pid = unsafe {
        let top = stack.as_mut_ptr().add(stack.len()) as usize & !15;
        libc::clone(
            stub_child,
            top as *mut libc::c_void,
            libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD,
            (&raw mut child).cast(),
        )
    };
    let err = last_error("clone stub");
    // SAFETY: restores the mask saved above.
    unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut()) };
    drop(stack);
    if pid < 0 {
        return Err(err);
    }
    match wait_stop(pid) {
        Ok(Stop::Signal(libc::SIGTRAP)) => {}
        Ok(other) => {
            kill_and_reap(pid, &[]);
            return Err(Error::Unexpected {
                pid,
                what: format!("{other:?} instead of the exec stop"),
            });
        }
        Err(e) => return Err(e),
    }
    let options = libc::PTRACE_O_EXITKILL | libc::PTRACE_O_TRACESYSGOOD;
    // SAFETY: PTRACE_SETOPTIONS on our stopped tracee; the data argument is the option bits.
    if unsafe { libc::ptrace(libc::PTRACE_SETOPTIONS, pid, 0, options) } != 0 {
        let err = last_error("PTRACE_SETOPTIONS");
        kill_and_reap(pid, &[]);
        return Err(err);
    }
    Ok(pid)
}

/// Waits for `pid` to stop. A stub that exits or is killed is an error.
pub fn wait_stop(pid: i32) -> Result<Stop, Error> {
    let mut status = 0;
    loop {
        // SAFETY: status is a valid out pointer.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::__WALL) };
        if r == pid {
            break;
        }
        let err = io::Error::last_os_error();
        if err.raw_os_error() != Some(libc::EINTR) {
            return Err(Error::Host {
                op: "waitpid stub",
                source: err,
            });
        }
    }
    decode_stop(pid, status)
}

fn decode_stop(pid: i32, status: i32) -> Result<Stop, Error> {
    if libc::WIFSTOPPED(status) {
        let sig = libc::WSTOPSIG(status);
        return Ok(if sig == libc::SIGTRAP | 0x80 {
            Stop::Syscall
        } else {
            Stop::Signal(sig)
        });
    }
    let status = if libc::WIFEXITED(status) {
        format!("exited with {}", libc::WEXITSTATUS(status))
    } else if libc::WIFSIGNALED(status) {
        format!("killed by signal {}", libc::WTERMSIG(status))
    } else {
        format!("wait status {status:#x}")
    };
    Err(Error::StubDied { pid, status })
}

/// Resumes a stopped tracee, delivering `sig` (0 for none).
pub fn resume(pid: i32, how: Resume, sig: i32) -> Result<(), Error> {
    let req = match how {
        Resume::Sysemu => libc::PTRACE_SYSEMU,
        Resume::Continue => libc::PTRACE_CONT,
    };
    // SAFETY: a resume request on our stopped tracee; data is a signal number.
    if unsafe { libc::ptrace(req, pid, 0, sig) } != 0 {
        return Err(last_error("ptrace resume"));
    }
    Ok(())
}

/// Reads a stopped tracee's registers.
pub fn get_regs(pid: i32) -> Result<UserRegs, Error> {
    let mut regs = UserRegs::default();
    // SAFETY: UserRegs has the layout of user_regs_struct (asserted in abi), and is writable.
    if unsafe { libc::ptrace(libc::PTRACE_GETREGS, pid, 0, &mut regs as *mut UserRegs) } != 0 {
        return Err(last_error("PTRACE_GETREGS"));
    }
    Ok(regs)
}

/// Reads a stopped tracee's extended FP state (the XSAVE area, NT_X86_XSTATE).
pub fn get_xstate(pid: i32) -> Result<Vec<u8>, Error> {
    let mut buf = vec![0u8; 16384];
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // SAFETY: iov describes buf, which is valid for its length; the kernel shrinks iov_len.
    let r = unsafe {
        libc::ptrace(
            libc::PTRACE_GETREGSET,
            pid,
            0x202 as *mut libc::c_void,
            &mut iov,
        )
    };
    if r != 0 {
        return Err(last_error("PTRACE_GETREGSET NT_X86_XSTATE"));
    }
    buf.truncate(iov.iov_len);
    Ok(buf)
}

/// Writes a stopped tracee's extended FP state.
pub fn set_xstate(pid: i32, state: &[u8]) -> Result<(), Error> {
    let mut copy = state.to_vec();
    let mut iov = libc::iovec {
        iov_base: copy.as_mut_ptr().cast(),
        iov_len: copy.len(),
    };
    // SAFETY: iov describes copy, valid for its length; the kernel only reads it.
    let r = unsafe {
        libc::ptrace(
            libc::PTRACE_SETREGSET,
            pid,
            0x202 as *mut libc::c_void,
            &mut iov,
        )
    };
    if r != 0 {
        return Err(last_error("PTRACE_SETREGSET NT_X86_XSTATE"));
    }
    Ok(())
}

/// Fills `buf` from the host's random source.
pub fn getrandom(buf: &mut [u8]) -> io::Result<()> {
    // SAFETY: buf is valid for buf.len() bytes.
    let r = unsafe { libc::getrandom(buf.as_mut_ptr().cast(), buf.len(), 0) };
    if usize::try_from(r).ok() != Some(buf.len()) {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Reads a word of a stopped tracee's memory.
pub fn peek(pid: i32, addr: u64) -> Result<u64, Error> {
    let mut word: u64 = 0;
    // PTRACE_PEEKDATA through the raw syscall stores the word at the out pointer.
    // SAFETY: the out pointer is a valid u64.
    let r = unsafe {
        libc::syscall(
            libc::SYS_ptrace,
            libc::PTRACE_PEEKDATA,
            libc::c_long::from(pid),
            addr,
            &mut word as *mut u64,
        )
    };
    if r != 0 {
        return Err(last_error("PTRACE_PEEKDATA"));
    }
    Ok(word)
}

/// Writes a stopped tracee's registers.
pub fn set_regs(pid: i32, regs: &UserRegs) -> Result<(), Error> {
    // SAFETY: UserRegs has the layout of user_regs_struct; the kernel only reads it.
    if unsafe { libc::ptrace(libc::PTRACE_SETREGS, pid, 0, regs as *const UserRegs) } != 0 {
        return Err(last_error("PTRACE_SETREGS"));
    }
    Ok(())
}

/// Sets only `rax` of a stopped tracee (`PTRACE_POKEUSER`): the one register a syscall's return
/// changes. About 1.3 us cheaper here than `PTRACE_SETREGS`, which stores all 27 one by one.
pub fn set_rax(pid: i32, rax: u64) -> Result<(), Error> {
    let offset = std::mem::offset_of!(UserRegs, rax);
    // SAFETY: POKEUSER writes one word of the tracee's saved registers at a valid offset of
    // struct user (whose first member is user_regs_struct, the layout of UserRegs).
    if unsafe { libc::ptrace(libc::PTRACE_POKEUSER, pid, offset, rax) } != 0 {
        return Err(last_error("PTRACE_POKEUSER"));
    }
    Ok(())
}

/// Reads the siginfo of a tracee in a signal-delivery stop.
pub fn get_siginfo(pid: i32) -> Result<SignalInfo, Error> {
    // SAFETY: siginfo_t is plain data; all-zero is a valid value.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    // SAFETY: info is a writable siginfo_t.
    if unsafe {
        libc::ptrace(
            libc::PTRACE_GETSIGINFO,
            pid,
            0,
            &mut info as *mut libc::siginfo_t,
        )
    } != 0
    {
        return Err(last_error("PTRACE_GETSIGINFO"));
    }
    // For signals that are not faults the bytes read are still initialised (zeroed above).
    // SAFETY: si_addr reads the union member the kernel fills for fault signals.
    let addr = unsafe { info.si_addr() } as u64;
    // SAFETY: si_pid reads the union member kill/tgkill fill (si_code <= 0).
    let from_sentry = info.si_code <= 0 && unsafe { info.si_pid() } == std::process::id() as i32;
    Ok(SignalInfo {
        signo: info.si_signo,
        code: info.si_code,
        addr,
        synchronous: info.si_code > 0,
        from_sentry,
    })
}

/// Kills a stub and reaps it.
/// Kills a stub and reaps it: its other threads first (a traced thread group's leader is
/// reported only once they are reaped).
pub fn kill_and_reap(pid: i32, threads: &[i32]) {
    // SAFETY: kill and waitpid on our own child and its threads; errors (already gone) are fine.
    unsafe {
        libc::kill(pid, libc::SIGKILL);
        for &tid in threads.iter().chain(std::iter::once(&pid)) {
            let mut status = 0;
            while libc::waitpid(tid, &mut status, libc::__WALL) < 0
                && *libc::__errno_location() == libc::EINTR
            {}
        }
    }
}

/// The host signal the preemption timer sends the Sentry: its only effect is to interrupt the
/// wait for a stub stop.
const TIMER_SIGNAL: i32 = 40;
/// The signal that kicks a guest out to the Sentry when its time is up (suppressed at the stop:
/// the guest never sees it).
pub const KICK_SIGNAL: i32 = libc::SIGURG;

/// The preemption timer (a `timer_t`; `NO_TIMER` before it is made), and the absolute
/// CLOCK_MONOTONIC time in nanoseconds it is armed for (0: not armed, or fired).
const NO_TIMER: usize = usize::MAX;
static TIMER: AtomicUsize = AtomicUsize::new(NO_TIMER);
static TIMER_ARMED: AtomicU64 = AtomicU64::new(0);

extern "C" fn on_timer(_: libc::c_int) {
    TIMER_ARMED.store(0, Ordering::Relaxed);
    // The kick is sent from here, not after waitpid returns EINTR: the Sentry may not be in
    // waitpid yet (a guest resumed on the Sentry's CPU runs first), and would then wait for ever.
    let deadline = RUN_DEADLINE.load(Ordering::Relaxed);
    if deadline == 0 {
        return;
    }
    if monotonic_ns() >= deadline {
        kick_running();
    } else {
        // Armed for an earlier deadline (a guest that stopped on its own before it): arm again
        // for this one. Without it, a timer firing between set_running and waitpid (no EINTR to
        // re-arm from) left a guest that makes no syscalls running for ever.
        arm_timer(deadline);
    }
}

/// The deadline of the guest running now (CLOCK_MONOTONIC ns; 0: none).
static RUN_DEADLINE: AtomicU64 = AtomicU64::new(0);

/// Creates the preemption timer: a CLOCK_MONOTONIC POSIX timer signalling the Sentry with a
/// handler installed without SA_RESTART, so that it interrupts waitpid.
pub fn preempt_timer_init() -> Result<(), Error> {
    if TIMER.load(Ordering::Relaxed) != NO_TIMER {
        return Ok(());
    }
    // No SA_RESTART, so a wait the handler interrupts returns EINTR. The handler only touches
    // atomics and calls clock_gettime, timer_settime and tgkill, all async-signal-safe.
    // SAFETY: installs an async-signal-safe handler (above) with an empty mask.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_timer as extern "C" fn(libc::c_int) as usize;
        libc::sigemptyset(&mut sa.sa_mask);
        if libc::sigaction(TIMER_SIGNAL, &sa, std::ptr::null_mut()) != 0 {
            return Err(last_error("sigaction (preemption timer)"));
        }
    }
    // SAFETY: sigevent is plain data; timer_create writes the id into `id`.
    unsafe {
        let mut sev: libc::sigevent = std::mem::zeroed();
        sev.sigev_notify = libc::SIGEV_SIGNAL;
        sev.sigev_signo = TIMER_SIGNAL;
        let mut id: libc::timer_t = std::ptr::null_mut();
        if libc::timer_create(libc::CLOCK_MONOTONIC, &mut sev, &mut id) != 0 {
            return Err(last_error("timer_create (preemption timer)"));
        }
        TIMER.store(id as usize, Ordering::Relaxed);
    }
    Ok(())
}

/// The CLOCK_MONOTONIC time in nanoseconds.
pub fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: ts is a valid out pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    (ts.tv_sec as u64).saturating_mul(1_000_000_000) + ts.tv_nsec as u64
}

/// Makes sure the preemption timer fires no later than `deadline_ns` (CLOCK_MONOTONIC).
fn arm_timer(deadline_ns: u64) {
    let armed = TIMER_ARMED.load(Ordering::Relaxed);
    if armed != 0 && armed <= deadline_ns {
        return;
    }
    let id = TIMER.load(Ordering::Relaxed);
    if id == NO_TIMER {
        return;
    }
    let spec = libc::itimerspec {
        it_interval: libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        },
        it_value: libc::timespec {
            tv_sec: (deadline_ns / 1_000_000_000) as libc::time_t,
            tv_nsec: (deadline_ns % 1_000_000_000) as libc::c_long,
        },
    };
    TIMER_ARMED.store(deadline_ns, Ordering::Relaxed);
    // SAFETY: id is the timer timer_create made; spec is valid.
    unsafe {
        libc::timer_settime(
            id as libc::timer_t,
            libc::TIMER_ABSTIME,
            &spec,
            std::ptr::null_mut(),
        )
    };
}

/// The stub thread running guest code now (thread group << 32 | thread), 0 when none.
static RUNNING: AtomicU64 = AtomicU64::new(0);

/// Stops the guest thread running now, if one is (a no-op otherwise; a kick that arrives after
/// the thread stopped on its own is dropped at its next stop). Async-signal-safe: the Sentry's
/// handlers for host signals to forward call it.
pub fn kick_running() {
    let r = RUNNING.load(Ordering::Relaxed);
    if r != 0 {
        // SAFETY: a signal to a thread of our own traced child.
        unsafe {
            libc::syscall(
                libc::SYS_tgkill,
                (r >> 32) as i32,
                (r & 0xffff_ffff) as i32,
                KICK_SIGNAL,
            )
        };
    }
}

/// Records which stub thread runs guest code (None: none) and until when, for [`kick_running`]
/// and the preemption timer. Set before the thread is resumed, so that a kick never misses it;
/// the timer is armed here too.
pub fn set_running(thread: Option<(i32, i32)>, deadline_ns: Option<u64>) {
    let v = thread.map_or(0, |(tgid, tid)| {
        (u64::from(tgid.cast_unsigned()) << 32) | u64::from(tid.cast_unsigned())
    });
    RUNNING.store(v, Ordering::Relaxed);
    RUN_DEADLINE.store(deadline_ns.unwrap_or(0), Ordering::Relaxed);
    if let Some(d) = deadline_ns {
        arm_timer(d);
    }
}

/// Waits for `pid` to stop; once `deadline_ns` (CLOCK_MONOTONIC) has passed, kicks it out with
/// [`KICK_SIGNAL`] (the timer's handler does; this checks again at each interruption).
pub fn wait_stop_until(tgid: i32, pid: i32, deadline_ns: Option<u64>) -> Result<Stop, Error> {
    let Some(deadline) = deadline_ns else {
        return wait_stop(pid);
    };
    let mut kicked = false;
    let mut status = 0;
    loop {
        // SAFETY: status is a valid out pointer.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::__WALL) };
        if r == pid {
            break;
        }
        let err = io::Error::last_os_error();
        if err.raw_os_error() != Some(libc::EINTR) {
            return Err(Error::Host {
                op: "waitpid stub",
                source: err,
            });
        }

        if !kicked && monotonic_ns() >= deadline {
            kicked = true;
            // SAFETY: a signal to a thread of our own traced child.
            unsafe { libc::syscall(libc::SYS_tgkill, tgid, pid, KICK_SIGNAL) };
        } else if !kicked {
            arm_timer(deadline);
        }
    }
    decode_stop(pid, status)
}

/// A page of a file mapped shared and writable into the Sentry (the batch page of injected
/// syscalls, which every stub maps read-only).
pub struct SharedPage {
    ptr: *mut u8,
}

impl SharedPage {
    pub const LEN: usize = 4096;

    /// Maps the page at `offset` of `fd`.
    pub fn map(fd: RawFd, offset: u64) -> io::Result<SharedPage> {
        let off = libc::off_t::try_from(offset)
            .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
        // SAFETY: a new shared mapping chosen by the kernel; nothing else refers to that range.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                Self::LEN,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd,
                off,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        Ok(SharedPage { ptr: p.cast() })
    }

    /// Reads `buf.len()` bytes at byte `at` (bounds checked: what lies past the page is left
    /// as it was in `buf`).
    pub fn read(&self, at: usize, buf: &mut [u8]) {
        if at >= Self::LEN {
            return;
        }
        let n = buf.len().min(Self::LEN - at);
        // Read while the stub that wrote it is stopped (see write).
        // SAFETY: [at, at + n) lies inside the page we mapped.
        unsafe { std::ptr::copy_nonoverlapping(self.ptr.add(at), buf.as_mut_ptr(), n) };
    }

    /// Writes `data` at byte `at` (bounds checked: a write past the page is cut).
    pub fn write(&self, at: usize, data: &[u8]) {
        if at >= Self::LEN {
            return;
        }
        let n = data.len().min(Self::LEN - at);
        // Only this (single-threaded) Sentry writes the page, and stubs only read it while the
        // Sentry waits for them.
        // SAFETY: [at, at + n) lies inside the page we mapped.
        unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), self.ptr.add(at), n) };
    }
}

impl Drop for SharedPage {
    fn drop(&mut self) {
        // SAFETY: our own mapping, unmapped once.
        unsafe { libc::munmap(self.ptr.cast(), Self::LEN) };
    }
}

/// A connected pair of Unix datagram sockets (close-on-exec): the Sentry's end and the stubs'.
pub fn transfer_pair() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: socketpair writes two fds into the array we pass.
    let r = unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_DGRAM | libc::SOCK_CLOEXEC,
            0,
            fds.as_mut_ptr(),
        )
    };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: socketpair succeeded: both are fresh fds we own.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Sends `fd` over the datagram socket `sock` (SCM_RIGHTS) with `tag` as the data.
pub fn send_fd(sock: RawFd, fd: RawFd, tag: u32) -> io::Result<()> {
    let mut data = tag.to_ne_bytes();
    let mut iov = libc::iovec {
        iov_base: data.as_mut_ptr().cast(),
        iov_len: data.len(),
    };
    // Room for one cmsghdr and one int, 8-byte aligned.
    let mut control = [0u64; 4];
    // SAFETY: a zeroed msghdr is a valid empty one; we fill the fields we use.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    // SAFETY: CMSG_SPACE only computes a size.
    msg.msg_controllen = unsafe { libc::CMSG_SPACE(4) } as usize;
    // msg_control points at `control`, CMSG_SPACE(4) bytes long.
    // SAFETY: so the first header and its data, all written here, lie inside `control`.
    unsafe {
        let c = libc::CMSG_FIRSTHDR(&msg);
        (*c).cmsg_level = libc::SOL_SOCKET;
        (*c).cmsg_type = libc::SCM_RIGHTS;
        (*c).cmsg_len = libc::CMSG_LEN(4) as usize;
        std::ptr::write_unaligned(libc::CMSG_DATA(c).cast::<i32>(), fd);
    }
    // SAFETY: msg and everything it points to live across the call.
    let r = unsafe { libc::sendmsg(sock, &msg, libc::MSG_DONTWAIT) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
