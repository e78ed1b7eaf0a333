//! The syscall table (number → name → handler → support status) for x86-64, its dispatcher, and
//! the `--strace` formatter. docs/syscalls.md is generated from [`TABLE`] (`runrs syscalls`).
//!
//! Handlers take the raw argument registers and convert each one at the top (typed addresses,
//! checked integer conversions); they return the value for `rax` or an [`Errno`]. Anything not in
//! the table returns ENOSYS and is logged once by name.

mod fs;
mod ids;
mod misc;
mod mmap;
mod signal;
mod time;

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
    SYS_READ => fs::read, Partial("stdio host fds only"), [Fd, OutBuf, Int];
    SYS_WRITE => fs::write, Partial("stdio host fds only"), [Fd, InBuf(2), Int];
    SYS_READV => fs::readv, Partial("stdio host fds only"), [Fd, Ptr, Int];
    SYS_WRITEV => fs::writev, Partial("stdio host fds only"), [Fd, Ptr, Int];
    SYS_LSEEK => fs::lseek, Partial("stdio host fds only"), [Fd, Int, Int];
    SYS_CLOSE => fs::close, Full, [Fd];
    SYS_DUP => fs::dup, Full, [Fd];
    SYS_DUP2 => fs::dup2, Full, [Fd, Fd];
    SYS_DUP3 => fs::dup3, Full, [Fd, Fd, Hex];
    SYS_FCNTL => fs::fcntl, Partial("F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD, F_SETFD, F_GETFL, F_SETFL only; others EINVAL"), [Fd, Int, Hex];
    SYS_IOCTL => fs::ioctl, Partial("TCGETS, TIOCGWINSZ, FIONREAD passed to the host terminal; others ENOTTY"), [Fd, Hex, Hex];
    SYS_FSTAT => fs::fstat, Full, [Fd, Ptr];
    SYS_NEWFSTATAT => fs::newfstatat, Partial("AT_EMPTY_PATH on an fd only; paths return ENOSYS until the files issue"), [Fd, Str, Ptr, Hex];
    SYS_GETCWD => fs::getcwd, Partial("the caller's cwd; no filesystem yet"), [OutBuf, Int];
    SYS_UMASK => fs::umask, Full, [Oct];
    SYS_EXIT => misc::exit, Partial("ends the whole process (one thread per process so far)"), [Int];
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
    SYS_UNAME => misc::uname, Full, [Ptr];
    SYS_ARCH_PRCTL => misc::arch_prctl, Partial("ARCH_SET/GET_FS/GS and ARCH_GET_CPUID; others EINVAL"), [Hex, Hex];
    SYS_SET_TID_ADDRESS => misc::set_tid_address, Partial("recorded; the clear-and-wake on exit comes with threads"), [Ptr];
    SYS_SET_ROBUST_LIST => misc::set_robust_list, Partial("recorded; walked on exit once futexes exist"), [Ptr, Int];
    SYS_GET_ROBUST_LIST => misc::get_robust_list, Full, [Int, Ptr, Ptr];
    SYS_RSEQ => misc::rseq, Partial("cpu_id/node_id written at registration; critical sections are never aborted (one thread per address space so far)"), [Ptr, Int, Hex, Hex];
    SYS_PRLIMIT64 => misc::prlimit64, Partial("limits are recorded, not yet enforced"), [Int, Int, Ptr, Ptr];
    SYS_GETRLIMIT => misc::getrlimit, Full, [Int, Ptr];
    SYS_SETRLIMIT => misc::setrlimit, Partial("limits are recorded, not yet enforced"), [Int, Ptr];
    SYS_GETRANDOM => misc::getrandom, Full, [OutBuf, Int, Hex];
    SYS_SCHED_YIELD => misc::sched_yield, Full, [];
    SYS_SCHED_GETAFFINITY => misc::sched_getaffinity, Full, [Int, Int, Ptr];
    SYS_GETCPU => misc::getcpu, Full, [Ptr, Ptr, Ptr];
    SYS_CLOCK_GETTIME => time::clock_gettime, Partial("CPU clocks of the calling process only; the thread clock is the process clock"), [Int, Ptr];
    SYS_CLOCK_GETRES => time::clock_getres, Full, [Int, Ptr];
    SYS_GETTIMEOFDAY => time::gettimeofday, Full, [Ptr, Ptr];
    SYS_TIME => time::time, Full, [Ptr];
    SYS_NANOSLEEP => time::nanosleep, Partial("not interruptible until signal delivery lands"), [Ptr, Ptr];
    SYS_CLOCK_NANOSLEEP => time::clock_nanosleep, Partial("not interruptible until signal delivery lands"), [Int, Hex, Ptr, Ptr];
    SYS_RT_SIGACTION => signal::rt_sigaction, Partial("dispositions recorded; delivery comes with the tasks issue"), [Sig, Ptr, Ptr, Int];
    SYS_RT_SIGPROCMASK => signal::rt_sigprocmask, Partial("mask recorded; delivery comes with the tasks issue"), [Int, Ptr, Ptr, Int];
    SYS_MMAP => mmap::mmap, Partial("anonymous mappings only; file mappings ENODEV until the files issue"), [Ptr, Hex, Hex, Hex, Fd, Hex];
    SYS_MUNMAP => mmap::munmap, Full, [Ptr, Hex];
    SYS_MPROTECT => mmap::mprotect, Partial("PROT_GROWSDOWN/GROWSUP refused"), [Ptr, Hex, Hex];
    SYS_BRK => mmap::brk, Full, [Ptr];
    SYS_MREMAP => mmap::mremap, Partial("old_len 0 (duplicating a shared mapping) refused"), [Ptr, Hex, Hex, Hex, Ptr];
    SYS_MADVISE => mmap::madvise, Full, [Ptr, Hex, Int];
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

/// Handles the syscall the task stopped at, writing the result to `rax`.
pub fn dispatch(t: &mut Task) {
    let nr = t.regs.orig_rax;
    let args = t.regs.syscall_args();
    let entry = lookup(nr);
    let result = match entry {
        Some(e) => (e.handler)(t, args),
        None => {
            t.k.log_unsupported(nr, &name(nr));
            Err(crate::errno!(ENOSYS))
        }
    };
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
