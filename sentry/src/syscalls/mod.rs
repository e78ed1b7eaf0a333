//! The syscall table (number → name → handler → support status) for x86-64, its dispatcher, and
//! the `--strace` formatter. docs/syscalls.md is generated from [`TABLE`] (`runrs syscalls`).
//!
//! Handlers take the raw argument registers and convert each one at the top (typed addresses,
//! checked integer conversions); they return the value for `rax` or an [`Errno`]. Anything not in
//! the table returns ENOSYS and is logged once by name.

pub mod anonfd;
mod copy;
mod epoll;
mod eventfd;
mod fs;
pub mod futex;
mod ids;
mod inotify;
mod misc;
mod mmap;
mod path;
pub mod poll;
pub(crate) mod resource;
mod signal;
pub mod socket;
mod time;
pub mod tty;
mod xattr;

pub use misc::{RELEASE, VERSION};

use crate::kernel::process;
use crate::kernel::signal as ksignal;
use crate::kernel::timer as ktimer;

use crate::errors::SysResult;
use crate::kernel::{StraceSink, Task};
use crate::mm::UserAddr;
use abi::sysno::*;
use std::fmt::Write as _;
use std::sync::LazyLock;

/// A syscall handler.
pub type Handler = fn(&mut Task, [u64; 6]) -> SysResult;

/// How complete a handler is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Support {
    Full,
    /// Works as Linux does except for what the note says.
    Partial(&'static str),
}

/// How `--strace` prints an argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arg {
    Int,
    Hex,
    Oct,
    Fd,
    /// A NUL-terminated string.
    Str,
    /// A buffer the guest passes in; its length is argument `n`.
    InBuf(usize),
    /// A buffer the kernel fills; the result is its length.
    OutBuf,
    Ptr,
    Sig,
}

/// One row of the table.
pub struct Entry {
    pub nr: usize,
    pub handler: Handler,
    pub support: Support,
    pub args: &'static [Arg],
}

use Arg::*;
use Support::*;

macro_rules! table {
    ($( $nr:ident => $h:path, $support:expr, [$($arg:expr),*]; )*) => {
        /// Every implemented syscall.
        pub static TABLE: &[Entry] = &[
            $( Entry { nr: $nr, handler: $h, support: $support, args: &[$($arg),*] }, )*
        ];
    };
}

table! {
    SYS_READ => fs::read, Full, [Fd, OutBuf, Int];
    SYS_WRITE => fs::write, Full, [Fd, InBuf(2), Int];
    SYS_READV => fs::readv, Full, [Fd, Ptr, Int];
    SYS_WRITEV => fs::writev, Full, [Fd, Ptr, Int];
    SYS_PREAD64 => fs::pread64, Full, [Fd, OutBuf, Int, Int];
    SYS_PWRITE64 => fs::pwrite64, Full, [Fd, InBuf(2), Int, Int];
    SYS_PREADV => fs::preadv, Full, [Fd, Ptr, Int, Int];
    SYS_PWRITEV => fs::pwritev, Full, [Fd, Ptr, Int, Int];
    SYS_PREADV2 => fs::preadv2, Partial("RWF_* flags accepted and ignored (memory files never block)"), [Fd, Ptr, Int, Int, Int, Hex];
    SYS_PWRITEV2 => fs::pwritev2, Partial("RWF_* flags accepted and ignored; RWF_APPEND does not append"), [Fd, Ptr, Int, Int, Int, Hex];
    SYS_LSEEK => fs::lseek, Full, [Fd, Int, Int];
    SYS_CLOSE => fs::close, Full, [Fd];
    SYS_PIPE => fs::pipe, Full, [Ptr];
    SYS_PIPE2 => fs::pipe2, Partial("packet mode (O_DIRECT): splice and tee move bytes without their packet boundaries"), [Ptr, Hex];
    SYS_CLOSE_RANGE => fs::close_range, Full, [Fd, Fd, Hex];
    SYS_DUP => fs::dup, Full, [Fd];
    SYS_DUP2 => fs::dup2, Full, [Fd, Fd];
    SYS_DUP3 => fs::dup3, Full, [Fd, Fd, Hex];
    SYS_FCNTL => fs::fcntl, Partial("F_SETOWN/F_SETSIG refused; F_NOTIFY EINVAL; pipe sizes and seals come with pipes and memfd; a blocking lock that conflicts waits for ever (one task)"), [Fd, Int, Hex];
    SYS_FLOCK => fs::flock, Partial("a blocking request that conflicts waits for ever (one task)"), [Fd, Hex];
    SYS_IOCTL => fs::ioctl, Partial("FIOCLEX, FIONCLEX, FIONBIO, FIONREAD on files; SIOCGIFINDEX, SIOCGIFNAME, SIOCGIFFLAGS, SIOCGIFMTU (the loopback) on sockets; TCGETS, TIOCGWINSZ, FIONREAD passed to the host terminal; others ENOTTY"), [Fd, Hex, Hex];
    SYS_FSTAT => fs::fstat, Full, [Fd, Ptr];
    SYS_GETDENTS64 => fs::getdents64, Full, [Fd, Ptr, Int];
    SYS_FTRUNCATE => fs::ftruncate, Full, [Fd, Int];
    SYS_FSYNC => fs::fsync, Full, [Fd];
    SYS_FDATASYNC => fs::fsync, Full, [Fd];
    SYS_SYNC => fs::sync, Full, [];
    SYS_SYNCFS => fs::syncfs, Full, [Fd];
    SYS_FALLOCATE => fs::fallocate, Partial("modes 0, KEEP_SIZE and PUNCH_HOLE|KEEP_SIZE on files of the sandbox; COLLAPSE/INSERT/ZERO_RANGE EOPNOTSUPP (as tmpfs)"), [Fd, Hex, Int, Int];
    SYS_FCHDIR => fs::fchdir, Full, [Fd];
    SYS_OPEN => path::open, Partial("O_TMPFILE EOPNOTSUPP; /proc/PID/fd/N of an inherited host fd is that fd duplicated (its offset and status flags shared; O_TRUNC does not truncate)"), [Str, Hex, Oct];
    SYS_OPENAT => path::openat, Partial("O_TMPFILE EOPNOTSUPP; /proc/PID/fd/N of an inherited host fd is that fd duplicated (its offset and status flags shared; O_TRUNC does not truncate)"), [Fd, Str, Hex, Oct];
    SYS_OPENAT2 => path::openat2, Partial("as openat; RESOLVE_CACHED resolves normally"), [Fd, Str, Ptr, Int];
    SYS_CREAT => path::creat, Full, [Str, Oct];
    SYS_STAT => path::stat, Full, [Str, Ptr];
    SYS_LSTAT => path::lstat, Full, [Str, Ptr];
    SYS_NEWFSTATAT => path::newfstatat, Full, [Fd, Str, Ptr, Hex];
    SYS_STATX => path::statx, Partial("basic stats and mount id; no btime or attributes"), [Fd, Str, Hex, Hex, Ptr];
    SYS_ACCESS => path::access, Full, [Str, Oct];
    SYS_FACCESSAT => path::faccessat, Full, [Fd, Str, Oct];
    SYS_FACCESSAT2 => path::faccessat2, Full, [Fd, Str, Oct, Hex];
    SYS_READLINK => path::readlink, Full, [Str, OutBuf, Int];
    SYS_READLINKAT => path::readlinkat, Full, [Fd, Str, OutBuf, Int];
    SYS_MKDIR => path::mkdir, Full, [Str, Oct];
    SYS_MKDIRAT => path::mkdirat, Full, [Fd, Str, Oct];
    SYS_MKNOD => path::mknod, Partial("regular files, FIFOs and socket nodes; device nodes EPERM"), [Str, Oct, Hex];
    SYS_MKNODAT => path::mknodat, Partial("regular files, FIFOs and socket nodes; device nodes EPERM"), [Fd, Str, Oct, Hex];
    SYS_SYMLINK => path::symlink, Full, [Str, Str];
    SYS_SYMLINKAT => path::symlinkat, Full, [Str, Fd, Str];
    SYS_LINK => path::link, Full, [Str, Str];
    SYS_LINKAT => path::linkat, Full, [Fd, Str, Fd, Str, Hex];
    SYS_UNLINK => path::unlink, Full, [Str];
    SYS_UNLINKAT => path::unlinkat, Full, [Fd, Str, Hex];
    SYS_RMDIR => path::rmdir, Full, [Str];
    SYS_RENAME => path::rename, Full, [Str, Str];
    SYS_RENAMEAT => path::renameat, Full, [Fd, Str, Fd, Str];
    SYS_RENAMEAT2 => path::renameat2, Partial("RENAME_WHITEOUT EINVAL"), [Fd, Str, Fd, Str, Hex];
    SYS_CHMOD => path::chmod, Full, [Str, Oct];
    SYS_FCHMOD => path::fchmod, Full, [Fd, Oct];
    SYS_FCHMODAT => path::fchmodat, Full, [Fd, Str, Oct];
    SYS_CHOWN => path::chown, Full, [Str, Int, Int];
    SYS_LCHOWN => path::lchown, Full, [Str, Int, Int];
    SYS_FCHOWN => path::fchown, Full, [Fd, Int, Int];
    SYS_FCHOWNAT => path::fchownat, Full, [Fd, Str, Int, Int, Hex];
    SYS_UTIMENSAT => path::utimensat, Full, [Fd, Str, Ptr, Hex];
    SYS_UTIMES => path::utimes, Full, [Str, Ptr];
    SYS_FUTIMESAT => path::futimesat, Full, [Fd, Str, Ptr];
    SYS_UTIME => path::utime, Full, [Str, Ptr];
    SYS_TRUNCATE => path::truncate, Full, [Str, Int];
    SYS_CHDIR => path::chdir, Full, [Str];
    SYS_CHROOT => path::chroot, Full, [Str];
    SYS_GETCWD => path::getcwd, Full, [OutBuf, Int];
    SYS_STATFS => path::statfs, Full, [Str, Ptr];
    SYS_FSTATFS => path::fstatfs, Full, [Fd, Ptr];
    SYS_UMASK => fs::umask, Full, [Oct];
    SYS_EXIT => misc::exit, Full, [Int];
    SYS_FORK => crate::kernel::process::fork, Full, [];
    SYS_VFORK => crate::kernel::process::vfork, Partial("the child shares the parent's memory until it execs or exits; its own new mappings, and its mprotect, do not change the parent's"), [];
    SYS_CLONE => crate::kernel::process::clone, Partial("threads and processes (fork, vfork); CLONE_VM without CLONE_THREAD or CLONE_VFORK is ENOSYS; CLONE_FS shares nothing (cwd, root and umask are per thread); a process with CLONE_FILES gets a copy; namespaces ENOSYS"), [Hex, Ptr, Ptr, Ptr, Ptr];
    SYS_CLONE3 => crate::kernel::process::clone3, Partial("as clone"), [Ptr, Int];
    SYS_EXECVE => crate::kernel::exec::execve, Full, [Str, Ptr, Ptr];
    SYS_EXECVEAT => crate::kernel::exec::execveat, Full, [Fd, Str, Ptr, Ptr, Hex];
    SYS_WAIT4 => crate::kernel::process::wait4, Partial("rusage carries CPU times only (other counters 0)"), [Int, Ptr, Hex, Ptr];
    SYS_WAITID => crate::kernel::process::waitid, Partial("rusage carries CPU times only (other counters 0)"), [Int, Int, Ptr, Hex, Ptr];
    SYS_EXIT_GROUP => misc::exit_group, Full, [Int];
    SYS_GETPID => ids::getpid, Full, [];
    SYS_GETTID => ids::gettid, Full, [];
    SYS_GETPPID => ids::getppid, Full, [];
    SYS_GETUID => ids::getuid, Full, [];
    SYS_GETEUID => ids::geteuid, Full, [];
    SYS_GETGID => ids::getgid, Full, [];
    SYS_GETEGID => ids::getegid, Full, [];
    SYS_GETRESUID => ids::getresuid, Full, [Ptr, Ptr, Ptr];
    SYS_GETRESGID => ids::getresgid, Full, [Ptr, Ptr, Ptr];
    SYS_GETGROUPS => ids::getgroups, Full, [Int, Ptr];
    SYS_SETUID => ids::setuid, Partial("CAP_SETUID is an effective uid of 0"), [Int];
    SYS_SETGID => ids::setgid, Partial("CAP_SETGID is an effective uid of 0"), [Int];
    SYS_SETREUID => ids::setreuid, Partial("as setuid"), [Int, Int];
    SYS_SETREGID => ids::setregid, Partial("as setgid"), [Int, Int];
    SYS_SETRESUID => ids::setresuid, Partial("as setuid"), [Int, Int, Int];
    SYS_SETRESGID => ids::setresgid, Partial("as setgid"), [Int, Int, Int];
    SYS_SETGROUPS => ids::setgroups, Partial("as setgid"), [Int, Ptr];
    SYS_UNAME => misc::uname, Full, [Ptr];
    SYS_SETHOSTNAME => misc::sethostname, Full, [Ptr, Int];
    SYS_SETDOMAINNAME => misc::setdomainname, Full, [Ptr, Int];
    SYS_SYSINFO => misc::sysinfo, Partial("the sandbox's uptime and memory; loads 0, no swap"), [Ptr];
    SYS_SENDFILE => copy::sendfile, Partial("input must be a file of the sandbox (not an inherited pipe); output a file, a pipe or a stream socket (Unix or TCP), not an eventfd or the like"), [Fd, Fd, Ptr, Int];
    SYS_COPY_FILE_RANGE => copy::copy_file_range, Full, [Fd, Ptr, Fd, Ptr, Int, Hex];
    SYS_SPLICE => copy::splice, Partial("the other end a file of the sandbox or an inherited regular file (a socket or an inherited pipe is EINVAL); bytes are copied, not moved"), [Fd, Ptr, Fd, Ptr, Int, Hex];
    SYS_TEE => copy::tee, Full, [Fd, Fd, Int, Hex];
    SYS_VMSPLICE => copy::vmsplice, Partial("copies (SPLICE_F_GIFT is not a gift)"), [Fd, Ptr, Int, Hex];
    SYS_MEMFD_CREATE => path::memfd_create, Partial("seals (F_ADD_SEALS) not implemented: EINVAL"), [Str, Hex];
    SYS_ARCH_PRCTL => misc::arch_prctl, Partial("ARCH_SET/GET_FS/GS and ARCH_GET_CPUID; others EINVAL"), [Hex, Hex];
    SYS_SET_TID_ADDRESS => misc::set_tid_address, Full, [Ptr];
    SYS_SET_ROBUST_LIST => misc::set_robust_list, Full, [Ptr, Int];
    SYS_GET_ROBUST_LIST => misc::get_robust_list, Full, [Int, Ptr, Ptr];
    SYS_RSEQ => misc::rseq, Partial("cpu_id/node_id written at registration; critical sections are never aborted (one thread per address space so far)"), [Ptr, Int, Hex, Hex];
    SYS_PRLIMIT64 => misc::prlimit64, Partial("RLIMIT_NOFILE, RLIMIT_AS, RLIMIT_STACK and RLIMIT_CPU are enforced; the others are recorded"), [Int, Int, Ptr, Ptr];
    SYS_GETRLIMIT => misc::getrlimit, Full, [Int, Ptr];
    SYS_SETRLIMIT => misc::setrlimit, Partial("RLIMIT_NOFILE, RLIMIT_AS, RLIMIT_STACK and RLIMIT_CPU are enforced; the others are recorded"), [Int, Ptr];
    SYS_GETRANDOM => misc::getrandom, Full, [OutBuf, Int, Hex];
    SYS_SCHED_YIELD => misc::sched_yield, Full, [];
    SYS_SCHED_GETAFFINITY => misc::sched_getaffinity, Full, [Int, Int, Ptr];
    SYS_GETCPU => misc::getcpu, Full, [Ptr, Ptr, Ptr];
    SYS_CLOCK_GETTIME => time::clock_gettime, Partial("CPU clocks of the calling process only; the thread clock is the process clock"), [Int, Ptr];
    SYS_CLOCK_GETRES => time::clock_getres, Full, [Int, Ptr];
    SYS_GETTIMEOFDAY => time::gettimeofday, Full, [Ptr, Ptr];
    SYS_TIME => time::time, Full, [Ptr];
    SYS_NANOSLEEP => time::nanosleep, Full, [Ptr, Ptr];
    SYS_CLOCK_NANOSLEEP => time::clock_nanosleep, Full, [Int, Hex, Ptr, Ptr];
    SYS_SIGALTSTACK => signal::sigaltstack, Full, [Ptr, Ptr];
    SYS_POLL => poll::poll, Partial("files of the sandbox's filesystem always report ready, as regular files do on Linux"), [Ptr, Int, Int];
    SYS_PPOLL => poll::ppoll, Partial("as poll"), [Ptr, Int, Ptr, Ptr, Int];
    SYS_SELECT => poll::select, Partial("as poll"), [Int, Ptr, Ptr, Ptr, Ptr];
    SYS_PSELECT6 => poll::pselect6, Partial("as poll"), [Int, Ptr, Ptr, Ptr, Ptr, Ptr];
    SYS_TIMES => resource::times, Full, [Ptr];
    SYS_GETRUSAGE => resource::getrusage, Partial("CPU times and maxrss (mapped memory); other counters 0"), [Int, Ptr];
    SYS_GETPRIORITY => resource::getpriority, Full, [Int, Int];
    SYS_SETPRIORITY => resource::setpriority, Partial("recorded; the host priority of the stub is not changed"), [Int, Int, Int];
    SYS_SCHED_GETSCHEDULER => resource::sched_getscheduler, Full, [Int];
    SYS_SCHED_GETPARAM => resource::sched_getparam, Full, [Int, Ptr];
    SYS_SCHED_GET_PRIORITY_MAX => resource::sched_get_priority_max, Full, [Int];
    SYS_SCHED_GET_PRIORITY_MIN => resource::sched_get_priority_min, Full, [Int];
    SYS_SCHED_RR_GET_INTERVAL => resource::sched_rr_get_interval, Full, [Int, Ptr];
    SYS_SCHED_SETAFFINITY => resource::sched_setaffinity, Partial("recorded and reported by sched_getaffinity; the guest stays where the platform placed it"), [Int, Int, Ptr];
    SYS_FADVISE64 => resource::fadvise64, Full, [Fd, Int, Int, Int];
    SYS_CLOCK_SETTIME => resource::settime, Partial("EPERM: the sandbox may not set the host's clock"), [Int, Ptr];
    SYS_SETTIMEOFDAY => resource::settime, Partial("EPERM: the sandbox may not set the host's clock"), [Ptr, Ptr];
    SYS_RT_SIGACTION => signal::rt_sigaction, Full, [Sig, Ptr, Ptr, Int];
    SYS_RT_SIGPROCMASK => signal::rt_sigprocmask, Full, [Int, Ptr, Ptr, Int];
    SYS_FUTEX => futex::futex, Partial("PI locks hand over in arrival order with no priority inheritance (no real-time priorities exist on the host side); WAIT_REQUEUE_PI and CMP_REQUEUE_PI ENOSYS"), [Ptr, Int, Int, Ptr, Ptr, Hex];
    SYS_KILL => signal::kill, Full, [Int, Sig];
    SYS_TGKILL => signal::tgkill, Full, [Int, Int, Sig];
    SYS_TKILL => signal::tkill, Full, [Int, Sig];
    SYS_RT_SIGQUEUEINFO => signal::rt_sigqueueinfo, Partial("as kill"), [Int, Sig, Ptr];
    SYS_RT_TGSIGQUEUEINFO => signal::rt_tgsigqueueinfo, Partial("as kill"), [Int, Int, Sig, Ptr];
    SYS_RT_SIGRETURN => ksignal::rt_sigreturn, Partial("the frame's FP state is restored; segment registers and the sigcontext's mask word are not read back (uc_sigmask is)"), [];
    SYS_RT_SIGPENDING => ksignal::rt_sigpending, Full, [Ptr, Int];
    SYS_RT_SIGSUSPEND => ksignal::rt_sigsuspend, Full, [Ptr, Int];
    SYS_RT_SIGTIMEDWAIT => ksignal::rt_sigtimedwait, Full, [Ptr, Ptr, Ptr, Int];
    SYS_PAUSE => ksignal::pause, Full, [];
    SYS_ALARM => ktimer::alarm, Full, [Int];
    SYS_SCHED_SETSCHEDULER => resource::sched_setscheduler, Partial("policy and priority recorded and reported; the guest's host scheduling does not change"), [Int, Int, Ptr];
    SYS_SCHED_SETPARAM => resource::sched_setparam, Partial("as sched_setscheduler"), [Int, Ptr];
    SYS_EVENTFD => eventfd::eventfd, Full, [Int];
    SYS_TIMERFD_CREATE => anonfd::timerfd_create, Full, [Int, Hex];
    SYS_TIMERFD_SETTIME => anonfd::timerfd_settime, Partial("TFD_TIMER_CANCEL_ON_SET accepted; the clock is never set inside the sandbox, so it never cancels"), [Fd, Hex, Ptr, Ptr];
    SYS_TIMERFD_GETTIME => anonfd::timerfd_gettime, Full, [Fd, Ptr];
    SYS_SIGNALFD => anonfd::signalfd, Full, [Fd, Ptr, Int];
    SYS_SIGNALFD4 => anonfd::signalfd4, Full, [Fd, Ptr, Int, Hex];
    SYS_PIDFD_OPEN => anonfd::pidfd_open, Full, [Int, Hex];
    SYS_PIDFD_GETFD => anonfd::pidfd_getfd, Full, [Fd, Fd, Hex];
    SYS_PIDFD_SEND_SIGNAL => anonfd::pidfd_send_signal, Partial("a given siginfo is not used (SI_USER is sent); /proc/PID directories work for the caller's own PID only (procfs shows only it)"), [Fd, Sig, Ptr, Hex];
    SYS_SOCKET => socket::socket, Partial("AF_UNIX SOCK_STREAM and SOCK_SEQPACKET (unconnected Unix SOCK_DGRAM ESOCKTNOSUPPORT; socketpair has it); AF_INET and AF_INET6 TCP and UDP on the sandbox's loopback, and to addresses outside only through the net gofer under the egress policy (else ENETUNREACH, or EACCES when denied); AF_NETLINK NETLINK_ROUTE (link and address dumps of the loopback); raw and other types ESOCKTNOSUPPORT; other families EAFNOSUPPORT"), [Int, Hex, Int];
    SYS_BIND => socket::bind, Full, [Fd, Ptr, Int];
    SYS_LISTEN => socket::listen, Full, [Fd, Int];
    SYS_CONNECT => socket::connect, Full, [Fd, Ptr, Int];
    SYS_ACCEPT => socket::accept, Full, [Fd, Ptr, Ptr];
    SYS_ACCEPT4 => socket::accept4, Full, [Fd, Ptr, Ptr, Hex];
    SYS_SOCKETPAIR => socket::socketpair, Partial("AF_UNIX only (stream, datagram, seqpacket); other families EOPNOTSUPP"), [Int, Hex, Int, Ptr];
    SYS_SENDTO => socket::sendto, Partial("connected Unix sockets; TCP and UDP on the loopback, and outside under the egress policy (UDP relayed by the net gofer: ICMP errors are not reported); MSG_OOB EOPNOTSUPP"), [Fd, InBuf(2), Int, Hex, Ptr, Int];
    SYS_RECVFROM => socket::recvfrom, Partial("connected Unix sockets; TCP and UDP on the loopback, and outside under the egress policy; MSG_WAITALL returns what is there; MSG_OOB EOPNOTSUPP (Unix), EINVAL (TCP)"), [Fd, OutBuf, Int, Hex, Ptr, Ptr];
    SYS_SENDMSG => socket::sendmsg, Partial("as sendto; SCM_RIGHTS and SCM_CREDENTIALS on Unix sockets (checked, then given to a receiver with SO_PASSCRED); IPV6_HOPLIMIT and IPV6_TCLASS on UDP over IPv6; other control messages on Internet sockets are ignored (logged)"), [Fd, Ptr, Hex];
    SYS_RECVMSG => socket::recvmsg, Partial("as recvfrom; SCM_RIGHTS (MSG_CTRUNC, MSG_CMSG_CLOEXEC, copies with MSG_PEEK); SO_PASSCRED gives the last sender's credentials, not each message's; IPV6_HOPLIMIT and IPV6_TCLASS with IPV6_RECVHOPLIMIT/IPV6_RECVTCLASS on UDP over IPv6; no other control messages on Internet sockets (IP_PKTINFO, IP_RECVERR, IP_TTL...)"), [Fd, Ptr, Hex];
    SYS_SHUTDOWN => socket::shutdown, Full, [Fd, Int];
    SYS_SENDMMSG => socket::sendmmsg, Partial("sendmsg for each message, stopping at the first failure"), [Fd, Ptr, Int, Hex];
    SYS_RECVMMSG => socket::recvmmsg, Partial("recvmsg for each message; after the first only what is there (as MSG_WAITFORONE); the timeout is not used"), [Fd, Ptr, Int, Hex, Ptr];
    SYS_GETSOCKOPT => socket::getsockopt, Partial("Unix: SO_TYPE, SO_ERROR, SO_DOMAIN, SO_PROTOCOL, SO_ACCEPTCONN, SO_PASSCRED, SO_SNDBUF, SO_RCVBUF, SO_PEERCRED; Internet: those that apply, SO_REUSEADDR/REUSEPORT, SO_RCVTIMEO/SNDTIMEO, SO_LINGER, IPV6_V6ONLY, and the TCP_*, IP_*, IPV6_* options recorded by setsockopt"), [Fd, Int, Int, Ptr, Ptr];
    SYS_SETSOCKOPT => socket::setsockopt, Partial("Unix: SO_PASSCRED, SO_SNDBUF, SO_RCVBUF (recorded), SO_REUSEADDR, SO_KEEPALIVE; Internet: SO_REUSEADDR/REUSEPORT, SO_RCVTIMEO/SNDTIMEO, IPV6_V6ONLY, SO_RCVBUF (UDP queue size) take effect; TCP_NODELAY, keepalive, SO_LINGER, IP_TOS, IP_TTL and the like are recorded only (no effect on an in-memory connection); others ENOPROTOOPT"), [Fd, Int, Int, Ptr, Int];
    SYS_GETSOCKNAME => socket::getsockname, Full, [Fd, Ptr, Ptr];
    SYS_GETPEERNAME => socket::getpeername, Full, [Fd, Ptr, Ptr];
    SYS_EVENTFD2 => eventfd::eventfd2, Full, [Int, Hex];
    SYS_INOTIFY_INIT => inotify::inotify_init, Partial("as inotify_init1"), [];
    SYS_INOTIFY_INIT1 => inotify::inotify_init1, Partial("events for changes made in the sandbox (not a volume's host side); IN_DELETE_SELF at the last unlink, not the last close; no event for xattr changes or directory reads"), [Hex];
    SYS_INOTIFY_ADD_WATCH => inotify::inotify_add_watch, Full, [Fd, Str, Hex];
    SYS_INOTIFY_RM_WATCH => inotify::inotify_rm_watch, Full, [Fd, Int];
    SYS_EPOLL_CREATE => epoll::epoll_create, Full, [Int];
    SYS_EPOLL_CREATE1 => epoll::epoll_create1, Full, [Hex];
    SYS_EPOLL_CTL => epoll::epoll_ctl, Partial("EPOLLEXCLUSIVE accepted, no effect"), [Fd, Int, Fd, Ptr];
    SYS_EPOLL_WAIT => epoll::epoll_wait, Full, [Fd, Ptr, Int, Int];
    SYS_EPOLL_PWAIT => epoll::epoll_pwait, Full, [Fd, Ptr, Int, Int, Ptr, Int];
    SYS_EPOLL_PWAIT2 => epoll::epoll_pwait2, Full, [Fd, Ptr, Int, Ptr, Ptr, Int];
    SYS_SETPGID => process::setpgid, Full, [Int, Int];
    SYS_GETPGID => process::getpgid, Full, [Int];
    SYS_GETPGRP => process::getpgrp, Full, [];
    SYS_SETSID => process::setsid, Full, [];
    SYS_GETSID => process::getsid, Full, [Int];
    SYS_PRCTL => process::prctl, Partial("PR_SET/GET_NAME, PDEATHSIG, DUMPABLE, KEEPCAPS, TIMERSLACK, CHILD_SUBREAPER, NO_NEW_PRIVS, GET_SECCOMP, CAPBSET_READ; other options EINVAL (logged)"), [Int, Hex, Hex, Hex, Hex];
    SYS_GETITIMER => ktimer::getitimer, Partial("ITIMER_VIRTUAL counts the process's user and system time, as ITIMER_PROF"), [Int, Ptr];
    SYS_SETITIMER => ktimer::setitimer, Partial("as getitimer; CPU-time timers fire at the first scheduling point after expiry (at most a 10 ms time slice late)"), [Int, Ptr, Ptr];
    SYS_TIMER_CREATE => ktimer::timer_create, Partial("SIGEV_THREAD_ID only to the caller; CPU-clock timers as setitimer's"), [Int, Ptr, Ptr];
    SYS_TIMER_SETTIME => ktimer::timer_settime, Full, [Int, Hex, Ptr, Ptr];
    SYS_TIMER_GETTIME => ktimer::timer_gettime, Full, [Int, Ptr];
    SYS_TIMER_GETOVERRUN => ktimer::timer_getoverrun, Full, [Int];
    SYS_TIMER_DELETE => ktimer::timer_delete, Full, [Int];
    SYS_GETXATTR => xattr::getxattr, Full, [Str, Str, Ptr, Int];
    SYS_LGETXATTR => xattr::lgetxattr, Full, [Str, Str, Ptr, Int];
    SYS_FGETXATTR => xattr::fgetxattr, Full, [Fd, Str, Ptr, Int];
    SYS_LISTXATTR => xattr::listxattr, Full, [Str, Ptr, Int];
    SYS_LLISTXATTR => xattr::llistxattr, Full, [Str, Ptr, Int];
    SYS_FLISTXATTR => xattr::flistxattr, Full, [Fd, Ptr, Int];
    SYS_SETXATTR => xattr::setxattr, Partial("kept in memory; POSIX ACLs are stored but not enforced"), [Str, Str, Ptr, Int, Hex];
    SYS_LSETXATTR => xattr::lsetxattr, Partial("as setxattr"), [Str, Str, Ptr, Int, Hex];
    SYS_FSETXATTR => xattr::fsetxattr, Partial("as setxattr"), [Fd, Str, Ptr, Int, Hex];
    SYS_REMOVEXATTR => xattr::removexattr, Full, [Str, Str];
    SYS_LREMOVEXATTR => xattr::lremovexattr, Full, [Str, Str];
    SYS_FREMOVEXATTR => xattr::fremovexattr, Full, [Fd, Str];
    SYS_MMAP => mmap::mmap, Partial("MAP_SHARED of a file held in the sandbox maps its own pages (coherent with read/write); of a host file, a read-only copy (the root's files: the host file itself, mapped from the host's page cache and shared copy-on-write by all private mappings; a volume's: a copy made at map time); pages past end of file read zero instead of SIGBUS (also after truncation), except for a root file shrunk on the host while mapped: SIGBUS as on Linux, but the Sentry's own copies from such pages (write() from them) read zeroes where Linux gives EFAULT"), [Ptr, Hex, Hex, Hex, Fd, Hex];
    SYS_MUNMAP => mmap::munmap, Full, [Ptr, Hex];
    SYS_MPROTECT => mmap::mprotect, Partial("PROT_GROWSDOWN/GROWSUP refused"), [Ptr, Hex, Hex];
    SYS_BRK => mmap::brk, Full, [Ptr];
    SYS_MREMAP => mmap::mremap, Partial("old_len 0 (duplicating a shared mapping) refused"), [Ptr, Hex, Hex, Hex, Ptr];
    SYS_MADVISE => mmap::madvise, Full, [Ptr, Hex, Int];
    SYS_MSYNC => mmap::msync, Full, [Ptr, Hex, Hex];
    SYS_MINCORE => mmap::mincore, Partial("every mapped page reported resident"), [Ptr, Hex, Ptr];
}

static BY_NUMBER: LazyLock<Vec<Option<&'static Entry>>> = LazyLock::new(|| {
    let mut v = vec![None; NR_SYSCALLS];
    for e in TABLE {
        v[e.nr] = Some(e);
    }
    v
});

/// The name of syscall `nr`.
pub fn name(nr: u64) -> String {
    usize::try_from(nr)
        .ok()
        .and_then(|n| SYSCALL_NAMES.get(n))
        .filter(|n| !n.is_empty())
        .map(|n| n.to_string())
        .unwrap_or_else(|| format!("syscall_{nr:#x}"))
}

/// The table entry for `nr`, if implemented.
pub fn lookup(nr: u64) -> Option<&'static Entry> {
    BY_NUMBER.get(usize::try_from(nr).ok()?).copied().flatten()
}

/// What became of a syscall.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Done: the result is in `rax`.
    Done,
    /// It waits for another task (a child's exit, a pipe): the scheduler tries it again later.
    Blocked,
}

/// Handles the syscall the task stopped at, writing the result to `rax`.
pub fn dispatch(t: &mut Task) -> Outcome {
    let nr = t.regs.orig_rax;
    let args = t.regs.syscall_args();
    let entry = lookup(nr);
    tracing::trace!(target: "runrs::syscall", tid = t.tid, "{}", name(nr));
    let result = match entry {
        Some(e) => (e.handler)(t, args),
        None => {
            t.k.log_unsupported(nr, &name(nr));
            Err(crate::errno!(ENOSYS))
        }
    };
    if matches!(&result, Err(e) if e.code == crate::errors::EBLOCK) {
        return Outcome::Blocked;
    }
    t.wait = crate::kernel::WaitState::default();
    if let Some(mask) = t.signals.saved_mask.take() {
        // A wait that replaced the mask ended without a signal: the old mask is back.
        t.signals.mask = mask;
    }
    if let Some(sink) = t.k.strace {
        let line = strace_line(t, nr, entry, &args, &result);
        match sink {
            StraceSink::Stderr => eprintln!("{line}"),
            StraceSink::Log => tracing::info!(target: "strace", "{line}"),
        }
    }
    t.regs.rax = match result {
        Ok(v) => v,
        Err(e) => (-i64::from(e.code)).cast_unsigned(),
    };
    Outcome::Done
}

fn strace_line(
    t: &Task,
    nr: u64,
    entry: Option<&Entry>,
    args: &[u64; 6],
    result: &SysResult,
) -> String {
    let mut s = format!("[{:>4}] {}(", t.tid, name(nr));
    let specs: &[Arg] = entry
        .map(|e| e.args)
        .unwrap_or(&[Hex, Hex, Hex, Hex, Hex, Hex]);
    for (i, spec) in specs.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        format_arg(&mut s, t, *spec, args[i], args, result);
    }
    s.push_str(") = ");
    match result {
        _ if t.exit.is_some() => s.push('?'),
        Ok(v) if *v > 0xffff => {
            let _ = write!(s, "{v:#x}");
        }
        Ok(v) => {
            let _ = write!(s, "{v}");
        }
        Err(e) => {
            let _ = write!(s, "-1 {e}");
        }
    }
    s
}

fn format_arg(s: &mut String, t: &Task, spec: Arg, v: u64, args: &[u64; 6], result: &SysResult) {
    let _ = match spec {
        Int => write!(s, "{}", v.cast_signed()),
        Fd => write!(s, "{}", (v as u32).cast_signed()),
        Hex => write!(s, "{v:#x}"),
        Oct => write!(s, "{v:#o}"),
        Ptr if v == 0 => write!(s, "NULL"),
        Ptr => write!(s, "{v:#x}"),
        Sig => write!(s, "{}", abi::signal::name(i32::try_from(v).unwrap_or(0))),
        Str => match t.mm.read_cstr(UserAddr(v), 4096) {
            Ok(b) => write!(s, "{}", quote(&b, 64)),
            Err(_) => write!(s, "{v:#x}"),
        },
        InBuf(len_arg) => write!(
            s,
            "{}",
            buffer(t, v, usize::try_from(args[len_arg]).unwrap_or(0))
        ),
        OutBuf => match result {
            Ok(n) => write!(s, "{}", buffer(t, v, usize::try_from(*n).unwrap_or(0))),
            Err(_) => write!(s, "{v:#x}"),
        },
    };
}

fn buffer(t: &Task, addr: u64, len: usize) -> String {
    let mut b = vec![0u8; len.min(32)];
    match t.mm.copy_in(UserAddr(addr), &mut b) {
        Ok(()) => {
            let mut q = quote(&b, 32);
            if len > 32 {
                q.push_str("...");
            }
            q
        }
        Err(_) => format!("{addr:#x}"),
    }
}

fn quote(b: &[u8], max: usize) -> String {
    let mut s = String::from("\"");
    for &c in b.iter().take(max) {
        match c {
            b'\n' => s.push_str("\\n"),
            b'\t' => s.push_str("\\t"),
            b'"' => s.push_str("\\\""),
            b'\\' => s.push_str("\\\\"),
            0x20..=0x7e => s.push(char::from(c)),
            _ => {
                let _ = write!(s, "\\x{c:02x}");
            }
        }
    }
    s.push('"');
    if b.len() > max {
        s.push_str("...");
    }
    s
}

/// The syscall table as Markdown (docs/syscalls.md).
pub fn markdown() -> String {
    let mut s = String::from(
        "# Syscalls\n\nGenerated by `runrs syscalls` from the Sentry's table \
         (`sentry/src/syscalls/mod.rs`); a test checks this file is current.\n\n\
         Every syscall not listed returns ENOSYS to the guest and is logged once by name \
         (`--debug-log`).\n\n| nr | name | support | notes |\n|---:|---|---|---|\n",
    );
    let mut rows: Vec<&Entry> = TABLE.iter().collect();
    rows.sort_by_key(|e| e.nr);
    for e in rows {
        let (support, note) = match e.support {
            Full => ("full", ""),
            Partial(n) => ("partial", n),
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} |",
            e.nr, SYSCALL_NAMES[e.nr], support, note
        );
    }
    let _ = writeln!(
        s,
        "\n{} of {} syscalls implemented.",
        TABLE.len(),
        SYSCALL_NAMES.iter().filter(|n| !n.is_empty()).count()
    );
    s
}

/// Converts an argument to an fd number (the kernel reads it as an `int`).
pub fn fd_arg(v: u64) -> i32 {
    (v as u32).cast_signed()
}

/// Converts an argument the kernel reads as an `int`.
pub fn int_arg(v: u64) -> i32 {
    (v as u32).cast_signed()
}

/// Maps a host I/O error to the same errno, for handlers.
pub use crate::errors::from_host as host_err;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_has_no_duplicates_and_names_exist() {
        let mut seen = std::collections::HashSet::new();
        for e in TABLE {
            assert!(seen.insert(e.nr), "duplicate entry for {}", e.nr);
            assert!(!SYSCALL_NAMES[e.nr].is_empty());
        }
    }

    #[test]
    fn quoting() {
        assert_eq!(quote(b"a\n\x01\"", 10), "\"a\\n\\x01\\\"\"");
        assert_eq!(quote(b"abcdef", 3), "\"abc\"...");
    }
}
