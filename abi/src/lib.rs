//! Linux x86-64 ABI definitions for runrs: syscall numbers, errnos, flags and the `#[repr(C)]`
//! structs the guest exchanges with the kernel. Pure data, no I/O. Every struct derives zerocopy's
//! traits so it can be copied to and from guest memory without `unsafe`, and asserts its size (and
//! the offsets that matter) against Linux at compile time.

#![forbid(unsafe_code)]

pub mod errno;
pub mod sysno;

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// Size of a page on x86-64.
pub const PAGE_SIZE: u64 = 4096;

/// Lowest address user space may map (vm.mmap_min_addr default).
pub const MMAP_MIN_ADDR: u64 = 0x10000;

/// One past the highest user address with 4-level paging (47-bit user half, minus the guard page).
pub const TASK_SIZE: u64 = 0x7fff_ffff_f000;

/// `struct user_regs_struct` from `<sys/user.h>`: the registers ptrace reads and writes.
#[repr(C)]
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
pub struct UserRegs {
    pub r15: u64,
    pub r14: u64,
    pub r13: u64,
    pub r12: u64,
    pub rbp: u64,
    pub rbx: u64,
    pub r11: u64,
    pub r10: u64,
    pub r9: u64,
    pub r8: u64,
    pub rax: u64,
    pub rcx: u64,
    pub rdx: u64,
    pub rsi: u64,
    pub rdi: u64,
    pub orig_rax: u64,
    pub rip: u64,
    pub cs: u64,
    pub eflags: u64,
    pub rsp: u64,
    pub ss: u64,
    pub fs_base: u64,
    pub gs_base: u64,
    pub ds: u64,
    pub es: u64,
    pub fs: u64,
    pub gs: u64,
}
const _: () = assert!(core::mem::size_of::<UserRegs>() == 27 * 8);

impl UserRegs {
    /// The six syscall argument registers, in ABI order.
    pub fn syscall_args(&self) -> [u64; 6] {
        [self.rdi, self.rsi, self.rdx, self.r10, self.r8, self.r9]
    }
}

/// `struct timespec`.
#[repr(C)]
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
pub struct Timespec {
    pub tv_sec: i64,
    pub tv_nsec: i64,
}
const _: () = assert!(core::mem::size_of::<Timespec>() == 16);

impl Timespec {
    /// Whether `tv_nsec` is in `[0, 1e9)` and `tv_sec` is not negative, as nanosleep requires.
    pub fn is_valid(&self) -> bool {
        self.tv_sec >= 0 && (0..1_000_000_000).contains(&self.tv_nsec)
    }
}

/// `struct timeval`.
#[repr(C)]
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
pub struct Timeval {
    pub tv_sec: i64,
    pub tv_usec: i64,
}

/// `struct timezone` (obsolete, always zero on Linux unless settimeofday set it).
#[repr(C)]
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
pub struct Timezone {
    pub tz_minuteswest: i32,
    pub tz_dsttime: i32,
}

/// `struct new_utsname`: six fields of 65 bytes.
#[repr(C)]
#[derive(Clone, Copy, Debug, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct Utsname {
    pub sysname: [u8; 65],
    pub nodename: [u8; 65],
    pub release: [u8; 65],
    pub version: [u8; 65],
    pub machine: [u8; 65],
    pub domainname: [u8; 65],
}
const _: () = assert!(core::mem::size_of::<Utsname>() == 390);

/// `struct rlimit64`.
#[repr(C)]
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
pub struct Rlimit {
    pub cur: u64,
    pub max: u64,
}

/// `RLIM_INFINITY`.
pub const RLIM_INFINITY: u64 = u64::MAX;
/// Number of resource limits (`RLIM_NLIMITS`).
pub const RLIM_NLIMITS: usize = 16;
pub const RLIMIT_CPU: usize = 0;
pub const RLIMIT_STACK: usize = 3;
pub const RLIMIT_NOFILE: usize = 7;
pub const RLIMIT_AS: usize = 9;

/// `struct iovec`.
#[repr(C)]
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
pub struct Iovec {
    pub base: u64,
    pub len: u64,
}
/// `UIO_MAXIOV`.
pub const UIO_MAXIOV: usize = 1024;

/// The kernel's `struct sigaction` for rt_sigaction (not glibc's).
#[repr(C)]
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
pub struct KernelSigaction {
    pub handler: u64,
    pub flags: u64,
    pub restorer: u64,
    pub mask: u64,
}
const _: () = assert!(core::mem::size_of::<KernelSigaction>() == 32);

/// `struct stat` as x86-64 fstat/newfstatat write it.
#[repr(C)]
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
pub struct Stat {
    pub dev: u64,
    pub ino: u64,
    pub nlink: u64,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub pad0: u32,
    pub rdev: u64,
    pub size: i64,
    pub blksize: i64,
    pub blocks: i64,
    pub atime: Timespec,
    pub mtime: Timespec,
    pub ctime: Timespec,
    pub unused: [i64; 3],
}
const _: () = assert!(core::mem::size_of::<Stat>() == 144);
const _: () = assert!(core::mem::offset_of!(Stat, size) == 48);

/// `struct rseq` (the fixed part registered by rseq(2); the kernel writes `cpu_id_start`, `cpu_id`,
/// `node_id` and `mm_cid`).
#[repr(C)]
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
pub struct Rseq {
    pub cpu_id_start: u32,
    pub cpu_id: u32,
    pub rseq_cs: u64,
    pub flags: u32,
    pub node_id: u32,
    pub mm_cid: u32,
    pub pad: u32,
}
const _: () = assert!(core::mem::size_of::<Rseq>() == 32);

/// `struct getcpu_cache` is opaque; getcpu writes two `u32`s.
pub const RSEQ_FLAG_UNREGISTER: u32 = 1;
/// `RSEQ_CPU_ID_UNINITIALIZED`.
pub const RSEQ_CPU_ID_UNINITIALIZED: u32 = u32::MAX;

/// Memory protection and mapping flags.
pub mod mman {
    pub const PROT_READ: u64 = 1;
    pub const PROT_WRITE: u64 = 2;
    pub const PROT_EXEC: u64 = 4;
    pub const PROT_SEM: u64 = 8;
    pub const PROT_GROWSDOWN: u64 = 0x0100_0000;
    pub const PROT_GROWSUP: u64 = 0x0200_0000;
    pub const MAP_SHARED: u64 = 0x01;
    pub const MAP_PRIVATE: u64 = 0x02;
    pub const MAP_SHARED_VALIDATE: u64 = 0x03;
    pub const MAP_TYPE: u64 = 0x0f;
    pub const MAP_FIXED: u64 = 0x10;
    pub const MAP_ANONYMOUS: u64 = 0x20;
    pub const MAP_32BIT: u64 = 0x40;
    pub const MAP_GROWSDOWN: u64 = 0x0100;
    pub const MAP_DENYWRITE: u64 = 0x0800;
    pub const MAP_EXECUTABLE: u64 = 0x1000;
    pub const MAP_LOCKED: u64 = 0x2000;
    pub const MAP_NORESERVE: u64 = 0x4000;
    pub const MAP_POPULATE: u64 = 0x8000;
    pub const MAP_NONBLOCK: u64 = 0x10000;
    pub const MAP_STACK: u64 = 0x20000;
    pub const MAP_HUGETLB: u64 = 0x40000;
    pub const MAP_SYNC: u64 = 0x80000;
    pub const MAP_FIXED_NOREPLACE: u64 = 0x100000;
    pub const MAP_UNINITIALIZED: u64 = 0x4000000;
    pub const MREMAP_MAYMOVE: u64 = 1;
    pub const MREMAP_FIXED: u64 = 2;
    pub const MREMAP_DONTUNMAP: u64 = 4;
    pub const MADV_NORMAL: u64 = 0;
    pub const MADV_RANDOM: u64 = 1;
    pub const MADV_SEQUENTIAL: u64 = 2;
    pub const MADV_WILLNEED: u64 = 3;
    pub const MADV_DONTNEED: u64 = 4;
    pub const MADV_FREE: u64 = 8;
    pub const MADV_REMOVE: u64 = 9;
    pub const MADV_DONTFORK: u64 = 10;
    pub const MADV_DOFORK: u64 = 11;
    pub const MADV_MERGEABLE: u64 = 12;
    pub const MADV_UNMERGEABLE: u64 = 13;
    pub const MADV_HUGEPAGE: u64 = 14;
    pub const MADV_NOHUGEPAGE: u64 = 15;
    pub const MADV_DONTDUMP: u64 = 16;
    pub const MADV_DODUMP: u64 = 17;
    pub const MADV_WIPEONFORK: u64 = 18;
    pub const MADV_KEEPONFORK: u64 = 19;
    pub const MADV_COLD: u64 = 20;
    pub const MADV_PAGEOUT: u64 = 21;
    pub const MADV_POPULATE_READ: u64 = 22;
    pub const MADV_POPULATE_WRITE: u64 = 23;
    pub const MADV_DONTNEED_LOCKED: u64 = 24;
    pub const MADV_COLLAPSE: u64 = 25;
}

/// Clock ids.
pub mod clock {
    pub const CLOCK_REALTIME: i32 = 0;
    pub const CLOCK_MONOTONIC: i32 = 1;
    pub const CLOCK_PROCESS_CPUTIME_ID: i32 = 2;
    pub const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
    pub const CLOCK_MONOTONIC_RAW: i32 = 4;
    pub const CLOCK_REALTIME_COARSE: i32 = 5;
    pub const CLOCK_MONOTONIC_COARSE: i32 = 6;
    pub const CLOCK_BOOTTIME: i32 = 7;
    pub const CLOCK_REALTIME_ALARM: i32 = 8;
    pub const CLOCK_BOOTTIME_ALARM: i32 = 9;
    pub const CLOCK_TAI: i32 = 11;
    pub const TIMER_ABSTIME: i32 = 1;
}

/// arch_prctl codes.
pub mod arch_prctl {
    pub const ARCH_SET_GS: u64 = 0x1001;
    pub const ARCH_SET_FS: u64 = 0x1002;
    pub const ARCH_GET_FS: u64 = 0x1003;
    pub const ARCH_GET_GS: u64 = 0x1004;
    pub const ARCH_GET_CPUID: u64 = 0x1011;
    pub const ARCH_SET_CPUID: u64 = 0x1012;
}

/// fcntl commands and fd flags.
pub mod fcntl {
    pub const F_DUPFD: u64 = 0;
    pub const F_GETFD: u64 = 1;
    pub const F_SETFD: u64 = 2;
    pub const F_GETFL: u64 = 3;
    pub const F_SETFL: u64 = 4;
    pub const F_DUPFD_CLOEXEC: u64 = 1030;
    pub const F_GETLK: u64 = 5;
    pub const F_SETLK: u64 = 6;
    pub const F_SETLKW: u64 = 7;
    pub const F_SETOWN: u64 = 8;
    pub const F_GETOWN: u64 = 9;
    pub const F_SETSIG: u64 = 10;
    pub const F_GETSIG: u64 = 11;
    pub const F_OFD_GETLK: u64 = 36;
    pub const F_OFD_SETLK: u64 = 37;
    pub const F_OFD_SETLKW: u64 = 38;
    pub const F_SETPIPE_SZ: u64 = 1031;
    pub const F_GETPIPE_SZ: u64 = 1032;
    pub const F_ADD_SEALS: u64 = 1033;
    pub const F_GET_SEALS: u64 = 1034;
    pub const O_RDONLY: u32 = 0;
    pub const O_WRONLY: u32 = 1;
    pub const O_RDWR: u32 = 2;
    pub const O_CREAT: u32 = 0o100;
    pub const O_EXCL: u32 = 0o200;
    pub const O_NOCTTY: u32 = 0o400;
    pub const O_TRUNC: u32 = 0o1000;
    pub const O_DSYNC: u32 = 0o10000;
    pub const O_ASYNC: u32 = 0o20000;
    pub const O_DIRECT: u32 = 0o40000;
    pub const O_LARGEFILE: u32 = 0o100000;
    pub const O_DIRECTORY: u32 = 0o200000;
    pub const O_NOFOLLOW: u32 = 0o400000;
    pub const O_NOATIME: u32 = 0o1000000;
    pub const O_SYNC: u32 = 0o4010000;
    pub const O_PATH: u32 = 0o10000000;
    pub const O_TMPFILE: u32 = 0o20200000;
    pub const AT_FDCWD: i32 = -100;
    pub const AT_REMOVEDIR: u64 = 0x200;
    pub const AT_SYMLINK_FOLLOW: u64 = 0x400;
    pub const AT_EACCESS: u64 = 0x200;
    pub const AT_STATX_SYNC_TYPE: u64 = 0x6000;
    pub const FD_CLOEXEC: u64 = 1;
    pub const O_ACCMODE: u32 = 0o3;
    pub const O_APPEND: u32 = 0o2000;
    pub const O_NONBLOCK: u32 = 0o4000;
    pub const O_CLOEXEC: u32 = 0o2000000;
    pub const AT_EMPTY_PATH: u64 = 0x1000;
    pub const AT_SYMLINK_NOFOLLOW: u64 = 0x100;
    pub const AT_NO_AUTOMOUNT: u64 = 0x800;
}

/// Terminal ioctls the foundation passes through to the caller's terminal.
pub mod ioctl {
    pub const TCGETS: u64 = 0x5401;
    pub const TIOCGWINSZ: u64 = 0x5413;
    pub const FIONREAD: u64 = 0x541b;
    pub const FIONBIO: u64 = 0x5421;
    pub const FIONCLEX: u64 = 0x5450;
    pub const FIOCLEX: u64 = 0x5451;
    /// `struct termios` as TCGETS writes it (kernel layout, 36 bytes + padding is not added).
    pub const TERMIOS_SIZE: usize = 36;
    /// `struct winsize`.
    pub const WINSIZE_SIZE: usize = 8;
}

/// getrandom flags.
pub mod random {
    pub const GRND_NONBLOCK: u64 = 1;
    pub const GRND_RANDOM: u64 = 2;
    pub const GRND_INSECURE: u64 = 4;
}

/// Signals.
pub mod signal {
    pub const SIGHUP: i32 = 1;
    pub const SIGINT: i32 = 2;
    pub const SIGQUIT: i32 = 3;
    pub const SIGILL: i32 = 4;
    pub const SIGTRAP: i32 = 5;
    pub const SIGABRT: i32 = 6;
    pub const SIGBUS: i32 = 7;
    pub const SIGFPE: i32 = 8;
    pub const SIGKILL: i32 = 9;
    pub const SIGSEGV: i32 = 11;
    pub const SIGPIPE: i32 = 13;
    pub const SIGALRM: i32 = 14;
    pub const SIGTERM: i32 = 15;
    pub const SIGCHLD: i32 = 17;
    pub const SIGCONT: i32 = 18;
    pub const SIGSTOP: i32 = 19;
    pub const SIGTSTP: i32 = 20;
    pub const SIGTTIN: i32 = 21;
    pub const SIGTTOU: i32 = 22;
    pub const SIGSYS: i32 = 31;
    /// Highest signal number (`_NSIG - 1`).
    pub const SIGRTMAX: i32 = 64;
    pub const SIG_BLOCK: u64 = 0;
    pub const SIG_UNBLOCK: u64 = 1;
    pub const SIG_SETMASK: u64 = 2;
    pub const SA_SIGINFO: u64 = 0x4;
    pub const SA_RESTORER: u64 = 0x0400_0000;
    pub const SA_ONSTACK: u64 = 0x0800_0000;
    pub const SA_RESTART: u64 = 0x1000_0000;
    pub const SA_NODEFER: u64 = 0x4000_0000;
    pub const SA_RESETHAND: u64 = 0x8000_0000;
    pub const SA_NOCLDSTOP: u64 = 0x1;
    pub const SA_NOCLDWAIT: u64 = 0x2;
    pub const SA_UNSUPPORTED: u64 = 0x400;
    pub const SA_EXPOSE_TAGBITS: u64 = 0x800;

    /// The bit for `sig` in a 64-bit signal set.
    pub const fn bit(sig: i32) -> u64 {
        1u64 << (sig - 1)
    }

    /// Name of a signal, for logs and `--strace`.
    pub fn name(sig: i32) -> &'static str {
        const NAMES: [&str; 32] = [
            "0",
            "SIGHUP",
            "SIGINT",
            "SIGQUIT",
            "SIGILL",
            "SIGTRAP",
            "SIGABRT",
            "SIGBUS",
            "SIGFPE",
            "SIGKILL",
            "SIGUSR1",
            "SIGSEGV",
            "SIGUSR2",
            "SIGPIPE",
            "SIGALRM",
            "SIGTERM",
            "SIGSTKFLT",
            "SIGCHLD",
            "SIGCONT",
            "SIGSTOP",
            "SIGTSTP",
            "SIGTTIN",
            "SIGTTOU",
            "SIGURG",
            "SIGXCPU",
            "SIGXFSZ",
            "SIGVTALRM",
            "SIGPROF",
            "SIGWINCH",
            "SIGIO",
            "SIGPWR",
            "SIGSYS",
        ];
        usize::try_from(sig)
            .ok()
            .and_then(|i| NAMES.get(i))
            .copied()
            .unwrap_or("SIGRT")
    }
}

/// Auxiliary vector keys.
pub mod auxv {
    pub const AT_NULL: u64 = 0;
    pub const AT_SYSINFO_EHDR: u64 = 33;
    pub const AT_PHDR: u64 = 3;
    pub const AT_PHENT: u64 = 4;
    pub const AT_PHNUM: u64 = 5;
    pub const AT_PAGESZ: u64 = 6;
    pub const AT_BASE: u64 = 7;
    pub const AT_FLAGS: u64 = 8;
    pub const AT_ENTRY: u64 = 9;
    pub const AT_UID: u64 = 11;
    pub const AT_EUID: u64 = 12;
    pub const AT_GID: u64 = 13;
    pub const AT_EGID: u64 = 14;
    pub const AT_PLATFORM: u64 = 15;
    pub const AT_HWCAP: u64 = 16;
    pub const AT_CLKTCK: u64 = 17;
    pub const AT_SECURE: u64 = 23;
    pub const AT_RANDOM: u64 = 25;
    pub const AT_HWCAP2: u64 = 26;
    pub const AT_EXECFN: u64 = 31;
    pub const AT_MINSIGSTKSZ: u64 = 51;
}

/// Linux caps one read, write or getrandom at `MAX_RW_COUNT`: INT_MAX rounded down to a page.
pub const MAX_RW_COUNT: usize = 0x7fff_f000;

/// The most fds a process may have (`fs.nr_open`'s default).
pub const NR_OPEN: u64 = 1 << 20;

/// Maximum length of a path, including the NUL.
pub const PATH_MAX: usize = 4096;
/// Maximum length of one argv/envp string (`MAX_ARG_STRLEN`).
pub const MAX_ARG_STRLEN: usize = 32 * 4096;
