//! procfs: `/proc/self`, `/proc/PID/...` and the system files, made when looked up or opened,
//! from the sandbox's own state (its PIDs, memory size, CPUs, mounts). `/proc/sys` is a static
//! tree built at mount time.
//!
//! One process so far (PID 1): `/proc/1` is the calling task. Threads and other processes appear
//! with the tasks issue.

use super::{Dir, Inode, Kind, Meta, S_IFDIR, S_IFLNK, S_IFREG};
use crate::errno;
use crate::errors::Errno;
use crate::kernel::Task;
use crate::mm::Role;
use std::fmt::Write as _;
use std::rc::Rc;

/// A directory whose entries are made on demand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DirKind {
    Root,
    Pid(i32),
    Fd(i32),
    FdInfo(i32),
    Tasks(i32),
}

/// A procfs file or link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// A file of /proc itself (`cpuinfo`, `meminfo`, ...).
    System(&'static str),
    /// A file of /proc/PID.
    Pid(i32, &'static str),
    /// /proc/self, /proc/thread-self: symlinks to the caller's PID.
    SelfLink,
    ThreadSelf,
    /// Magic links: followed to the file itself, not by path.
    Exe(i32),
    Cwd(i32),
    Root(i32),
    Fd(i32, i32),
    FdInfo(i32, i32),
}

impl FileKind {
    pub fn is_magic_link(&self) -> bool {
        matches!(
            self,
            FileKind::Exe(_) | FileKind::Cwd(_) | FileKind::Root(_) | FileKind::Fd(..)
        )
    }

    pub fn is_link(&self) -> bool {
        self.is_magic_link() || matches!(self, FileKind::SelfLink | FileKind::ThreadSelf)
    }

    /// The process (or thread) a /proc/PID file is about.
    pub fn pid(&self) -> Option<i32> {
        match *self {
            FileKind::Pid(p, _)
            | FileKind::Exe(p)
            | FileKind::Cwd(p)
            | FileKind::Root(p)
            | FileKind::Fd(p, _)
            | FileKind::FdInfo(p, _) => Some(p),
            _ => None,
        }
    }
}

const SYSTEM_FILES: &[&str] = &[
    "cpuinfo",
    "meminfo",
    "stat",
    "uptime",
    "loadavg",
    "version",
    "filesystems",
    "cmdline",
    "swaps",
];

const PID_FILES: &[&str] = &[
    "stat",
    "status",
    "statm",
    "cmdline",
    "environ",
    "maps",
    "mounts",
    "mountinfo",
    "limits",
    "comm",
    "auxv",
    "cgroup",
    "oom_score_adj",
    "loginuid",
];

fn ino_of(parts: &[u64]) -> u64 {
    // A stable number per node (FNV-1a over its identity).
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.to_le_bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x100_0000_01b3);
        }
    }
    (h & 0xffff_ffff) | 0x1000
}

fn name_id(name: &str) -> u64 {
    ino_of(&name.bytes().map(u64::from).collect::<Vec<_>>())
}

fn dir_node(parent: &Rc<Inode>, name: &[u8], kind: DirKind, id: u64) -> Rc<Inode> {
    // As Linux: fd/ is r-x------; a PID directory counts its subdirectories (9 on 6.x).
    let mut meta = Meta::new(
        S_IFDIR
            | if matches!(kind, DirKind::Fd(_)) {
                0o500
            } else {
                0o555
            },
        0,
        0,
    );
    meta.nlink = match kind {
        DirKind::Pid(_) => 9,
        DirKind::Root => 1,
        _ => 2,
    };
    let d = Inode::new(
        &parent.fs,
        id,
        meta,
        Kind::Dir(Dir {
            synth: Some(kind),
            ..Dir::default()
        }),
        None,
    );
    *d.parent.borrow_mut() = Rc::downgrade(parent);
    *d.name.borrow_mut() = name.to_vec();
    d
}

fn file_node(parent: &Rc<Inode>, kind: FileKind, id: u64) -> Rc<Inode> {
    file_node_mode(parent, kind, id, None)
}

/// An fd link's mode shows how the fd is open (read: r-x, write: -wx), as Linux.
fn fd_link_mode(t: &Task, fd: i32) -> u32 {
    let fl = t.fds.get(fd).map_or(0, |f| f.status_flags());
    if fl & crate::vfs::file::O_PATH != 0 {
        return S_IFLNK;
    }
    let mut mode = S_IFLNK;
    match fl & 3 {
        0 => mode |= 0o500,
        1 => mode |= 0o300,
        2 => mode |= 0o700,
        _ => {}
    }
    mode
}

fn file_node_mode(parent: &Rc<Inode>, kind: FileKind, id: u64, mode: Option<u32>) -> Rc<Inode> {
    let mode = if let Some(m) = mode {
        m
    } else if kind.is_link() {
        S_IFLNK | 0o777
    } else if matches!(kind, FileKind::Pid(_, "environ" | "auxv")) {
        S_IFREG | 0o400
    } else if matches!(kind, FileKind::Pid(_, "oom_score_adj" | "comm")) {
        S_IFREG | 0o644
    } else {
        S_IFREG | 0o444
    };
    Inode::new(
        &parent.fs,
        id,
        Meta::new(mode, 0, 0),
        Kind::Proc(kind),
        None,
    )
}

fn parse_num(name: &[u8]) -> Option<i32> {
    if name.is_empty() || name.len() > 10 || name[0] == b'0' && name.len() > 1 {
        return None;
    }
    std::str::from_utf8(name).ok()?.parse().ok()
}

/// The PIDs that exist (zombies included, as Linux lists them).
fn pids(t: &Task) -> Vec<i32> {
    let procs = t.k.procs.borrow();
    let mut v: Vec<i32> = procs.procs.keys().copied().collect();
    if !v.contains(&t.tgid) {
        v.push(t.tgid);
        v.sort_unstable();
    }
    v
}

/// Runs `f` on the task `pid` names: the caller, or another task of the sandbox (a thread id
/// picks that thread, a process id its first thread). None if there is none.
pub fn with_task<R>(t: &Task, pid: i32, f: impl FnOnce(&Task) -> R) -> Option<R> {
    if pid == t.tid || pid == t.tgid {
        return Some(f(t));
    }
    let others = t.k.others.try_borrow().ok()?;
    let o = others
        .iter()
        .find(|o| o.tid == pid && o.exit.is_none())
        .or_else(|| others.iter().find(|o| o.tgid == pid && o.exit.is_none()))?;
    Some(f(o))
}

/// The threads of process `pid`.
fn threads(t: &Task, pid: i32) -> Vec<i32> {
    let procs = t.k.procs.borrow();
    let mut v: Vec<i32> = procs
        .threads
        .iter()
        .filter(|(_, &g)| g == pid)
        .map(|(&tid, _)| tid)
        .collect();
    v.push(pid);
    v.sort_unstable();
    v
}

/// Looks up `name` in a procfs directory.
pub fn lookup(t: &Task, dir: &Rc<Inode>, kind: &DirKind, name: &[u8]) -> Option<Rc<Inode>> {
    match *kind {
        DirKind::Root => {
            if name == b"self" {
                return Some(file_node(dir, FileKind::SelfLink, 0x10));
            }
            if name == b"thread-self" {
                return Some(file_node(dir, FileKind::ThreadSelf, 0x11));
            }
            if let Some(pid) = parse_num(name) {
                return pids(t)
                    .contains(&pid)
                    .then(|| dir_node(dir, name, DirKind::Pid(pid), ino_of(&[1, pid as u64])));
            }
            let s = std::str::from_utf8(name).ok()?;
            if let Some(f) = SYSTEM_FILES.iter().find(|f| **f == s) {
                return Some(file_node(dir, FileKind::System(f), name_id(f)));
            }
            // The static part (/proc/sys).
            match dir.dir()?.entries.borrow().get(name) {
                Some(super::Entry::Node(n)) => Some(n.clone()),
                _ => None,
            }
        }
        DirKind::Pid(pid) => {
            let s = std::str::from_utf8(name).ok()?;
            let id = |n: u64| ino_of(&[2, pid as u64, n]);
            Some(match s {
                "exe" => file_node(dir, FileKind::Exe(pid), id(1)),
                "cwd" => file_node(dir, FileKind::Cwd(pid), id(2)),
                "root" => file_node(dir, FileKind::Root(pid), id(3)),
                "fd" => dir_node(dir, name, DirKind::Fd(pid), id(4)),
                "fdinfo" => dir_node(dir, name, DirKind::FdInfo(pid), id(5)),
                "task" => dir_node(dir, name, DirKind::Tasks(pid), id(6)),
                _ => {
                    let f = PID_FILES.iter().find(|f| **f == s)?;
                    file_node(dir, FileKind::Pid(pid, f), id(name_id(f)))
                }
            })
        }
        DirKind::Fd(pid) | DirKind::FdInfo(pid) => {
            let fd = parse_num(name)?;
            with_task(t, pid, |o| o.fds.get(fd))??;
            let info = matches!(kind, DirKind::FdInfo(_));
            let k = if info {
                FileKind::FdInfo(pid, fd)
            } else {
                FileKind::Fd(pid, fd)
            };
            let mode = if info {
                None
            } else {
                with_task(t, pid, |o| fd_link_mode(o, fd))
            };
            Some(file_node_mode(
                dir,
                k,
                ino_of(&[3 + u64::from(info), pid as u64, fd as u64]),
                mode,
            ))
        }
        DirKind::Tasks(pid) => {
            let tid = parse_num(name)?;
            threads(t, pid)
                .contains(&tid)
                .then(|| dir_node(dir, name, DirKind::Pid(tid), ino_of(&[7, tid as u64])))
        }
    }
}

/// The entries of a procfs directory.
pub fn list(t: &Task, dir: &Rc<Inode>, kind: &DirKind) -> Vec<(Vec<u8>, u64, u8)> {
    let mut out = Vec::new();
    let mut add = |name: &[u8]| {
        if let Some(n) = lookup(t, dir, kind, name) {
            out.push((name.to_vec(), n.ino, super::dtype(n.file_type())));
        }
    };
    match kind {
        DirKind::Root => {
            for p in pids(t) {
                add(p.to_string().as_bytes());
            }
            for f in SYSTEM_FILES {
                add(f.as_bytes());
            }
            add(b"self");
            add(b"thread-self");
            let statics: Vec<Vec<u8>> = dir
                .dir()
                .map(|d| d.entries.borrow().keys().cloned().collect())
                .unwrap_or_default();
            for s in statics {
                add(&s);
            }
        }
        DirKind::Pid(_) => {
            for f in ["exe", "cwd", "root", "fd", "fdinfo", "task"]
                .iter()
                .chain(PID_FILES)
            {
                add(f.as_bytes());
            }
        }
        DirKind::Fd(pid) | DirKind::FdInfo(pid) => {
            for fd in with_task(t, *pid, |o| o.fds.open_fds()).unwrap_or_default() {
                add(fd.to_string().as_bytes());
            }
        }
        DirKind::Tasks(pid) => {
            for tid in threads(t, *pid) {
                add(tid.to_string().as_bytes());
            }
        }
    }
    out
}

/// The target a procfs link shows (readlink).
pub fn read_link(t: &Task, k: &FileKind) -> Result<Vec<u8>, Errno> {
    if let Some(pid) = k.pid() {
        if pid != t.tgid && pid != t.tid {
            let root = t.fs.root.clone();
            return with_task(t, pid, |o| read_link_of(o, k, &root))
                .ok_or_else(|| errno!(ENOENT))?;
        }
    }
    read_link_of(t, k, &t.fs.root.clone())
}

fn read_link_of(t: &Task, k: &FileKind, root: &Rc<Inode>) -> Result<Vec<u8>, Errno> {
    let path = |n: &Rc<Inode>| super::path_of(n, root).unwrap_or_else(|| b"(unreachable)".to_vec());
    Ok(match *k {
        FileKind::SelfLink => t.tgid.to_string().into_bytes(),
        FileKind::ThreadSelf => format!("{}/task/{}", t.tgid, t.tid).into_bytes(),
        FileKind::Exe(_) => t
            .exe
            .as_ref()
            .map(|e| e.1.clone())
            .ok_or_else(|| errno!(ENOENT))?,
        FileKind::Cwd(_) => path(&t.fs.cwd),
        FileKind::Root(_) => path(root),
        FileKind::Fd(_, fd) => t.fds.get(fd).ok_or_else(|| errno!(ENOENT))?.describe(root),
        _ => return Err(errno!(EINVAL)),
    })
}

/// Where a magic link leads.
pub fn follow_magic(t: &Task, k: &FileKind) -> Result<Rc<Inode>, Errno> {
    if let Some(pid) = k.pid() {
        if pid != t.tgid && pid != t.tid {
            return with_task(t, pid, |o| follow_magic_of(o, k)).ok_or_else(|| errno!(ENOENT))?;
        }
    }
    follow_magic_of(t, k)
}

/// The file /proc/PID/fd/N names when it has no inode in the VFS (a pipe, a socket, an
/// anonymous file, a host fd): open reopens it rather than following the link.
pub fn fd_without_inode(t: &Task, k: &FileKind) -> Option<Rc<crate::kernel::fd::File>> {
    let FileKind::Fd(pid, fd) = *k else {
        return None;
    };
    let get = |o: &Task| o.fds.get(fd).filter(|f| f.inode().is_none());
    if pid != t.tgid && pid != t.tid {
        return with_task(t, pid, get).flatten();
    }
    get(t)
}

fn follow_magic_of(t: &Task, k: &FileKind) -> Result<Rc<Inode>, Errno> {
    match *k {
        FileKind::Exe(_) => t
            .exe
            .as_ref()
            .map(|e| e.0.clone())
            .ok_or_else(|| errno!(ENOENT)),
        FileKind::Cwd(_) => Ok(t.fs.cwd.clone()),
        FileKind::Root(_) => Ok(t.fs.root.clone()),
        FileKind::Fd(_, fd) => t
            .fds
            .get(fd)
            .ok_or_else(|| errno!(ENOENT))?
            .inode()
            .ok_or_else(|| errno!(ENOENT, "fd {fd} is not a file of the VFS")),
        _ => Err(errno!(EINVAL)),
    }
}

/// The contents of a procfs file, made when it is opened.
pub fn contents(t: &Task, k: &FileKind) -> Result<Vec<u8>, Errno> {
    if let Some(pid) = k.pid() {
        if pid != t.tgid && pid != t.tid {
            return match with_task(t, pid, |o| contents_of(o, k)) {
                Some(r) => r,
                None => zombie_file(t, pid, k),
            };
        }
    }
    contents_of(t, k)
}

/// A file of a zombie's /proc/PID: its name, state Z, parent and group, and nothing of the
/// memory or files it no longer has.
fn zombie_file(t: &Task, pid: i32, k: &FileKind) -> Result<Vec<u8>, Errno> {
    let procs = t.k.procs.borrow();
    let p = procs
        .get(pid)
        .filter(|p| p.zombie.is_some())
        .ok_or_else(|| errno!(ESRCH))?;
    let comm = String::from_utf8_lossy(&p.comm).into_owned();
    let (user, sys) = (p.cpu.0 / 10_000_000, p.cpu.1 / 10_000_000);
    let s = match *k {
        FileKind::Pid(_, "stat") => format!(
            "{pid} ({comm}) Z {} {} {} 0 -1 4227084 0 0 0 0 {user} {sys} 0 0 20 0 1 0 {} 0 0 {} 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n",
            p.ppid,
            p.pgid,
            p.sid,
            p.start_ticks,
            u64::MAX
        ),
        FileKind::Pid(_, "status") => format!(
            "Name:\t{comm}\nState:\tZ (zombie)\nTgid:\t{pid}\nPid:\t{pid}\nPPid:\t{}\nThreads:\t1\n",
            p.ppid
        ),
        FileKind::Pid(_, "comm") => format!("{comm}\n"),
        FileKind::Pid(_, "cmdline" | "environ" | "maps" | "statm") => String::new(),
        _ => return Err(errno!(ENOENT, "a zombie has none")),
    };
    Ok(s.into_bytes())
}

fn contents_of(t: &Task, k: &FileKind) -> Result<Vec<u8>, Errno> {
    let mut s = String::new();
    match *k {
        FileKind::System(name) => system_file(t, name, &mut s),
        FileKind::Pid(_, name) => return pid_file(t, name),
        FileKind::FdInfo(_, fd) => {
            let f = t.fds.get(fd).ok_or_else(|| errno!(ENOENT))?;
            let _ = write!(
                s,
                "pos:\t{}\nflags:\t0{:o}\nmnt_id:\t{}\nino:\t{}\n",
                f.position(),
                f.status_flags()
                    | if t.fds.cloexec(fd) == Some(true) {
                        libc::O_CLOEXEC as u32
                    } else {
                        0
                    },
                f.inode().map_or(0, |i| i.fs.dev),
                f.inode().map_or(0, |i| i.ino)
            );
        }
        _ => return Err(errno!(EINVAL)),
    }
    Ok(s.into_bytes())
}

fn system_file(t: &Task, name: &str, s: &mut String) {
    let k = &t.k;
    let ncpu = k.ncpus();
    let uptime = crate::host::clock_gettime(libc::CLOCK_BOOTTIME)
        .map(|ts| ts.tv_sec as f64 + ts.tv_nsec as f64 / 1e9)
        .unwrap_or(0.0);
    let _ = match name {
        "cpuinfo" => write!(s, "{}", k.host.cpuinfo),
        "meminfo" => {
            let total = k.memory_limit / 1024;
            let used = t.mm.mapped_bytes() / 1024;
            let free = total.saturating_sub(used);
            let mut r = Ok(());
            for (n, v) in [
                ("MemTotal", total),
                ("MemFree", free),
                ("MemAvailable", free),
                ("Buffers", 0),
                ("Cached", 0),
                ("SwapCached", 0),
                ("Active", used),
                ("Inactive", 0),
                ("SwapTotal", 0),
                ("SwapFree", 0),
                ("Shmem", 0),
                ("Mapped", used),
                ("CommitLimit", total),
                ("Committed_AS", used),
            ] {
                r = writeln!(s, "{:<16}{:>8} kB", format!("{n}:"), v);
            }
            r
        }
        "stat" => {
            let ticks = (uptime * 100.0) as u64;
            let _ = writeln!(s, "cpu  0 0 0 {} 0 0 0 0 0 0", ticks * ncpu as u64);
            for c in 0..ncpu {
                let _ = writeln!(s, "cpu{c} 0 0 0 {ticks} 0 0 0 0 0 0");
            }
            write!(
                s,
                "intr 0\nctxt 0\nbtime {}\nprocesses 1\nprocs_running 1\nprocs_blocked 0\nsoftirq 0\n",
                k.boot_time
            )
        }
        "uptime" => writeln!(s, "{uptime:.2} {:.2}", uptime * ncpu as f64),
        "loadavg" => writeln!(s, "0.00 0.00 0.00 1/1 {}", t.tgid),
        "version" => writeln!(
            s,
            "Linux version {} (runrs@runrs) (gcc) {}",
            crate::syscalls::RELEASE,
            crate::syscalls::VERSION
        ),
        "filesystems" => write!(
            s,
            "nodev\tsysfs\nnodev\ttmpfs\nnodev\tproc\nnodev\tdevtmpfs\nnodev\tdevpts\nnodev\toverlay\n"
        ),
        "mounts" => write!(s, "{}", mounts(t, false)),
        "cmdline" => writeln!(s, "runrs"),
        "swaps" => writeln!(s, "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority"),
        _ => Ok(()),
    };
}

fn mounts(t: &Task, info: bool) -> String {
    let mut s = String::new();
    for (i, m) in t.k.mounts.borrow().iter().enumerate() {
        let ro = if m.readonly { "ro" } else { "rw" };
        if info {
            let parent = if i == 0 { 1 } else { 1 + 1 };
            let _ = writeln!(
                s,
                "{} {} 0:{} / {} {},nosuid,nodev - {} {} {}",
                i + 1 + 1,
                parent,
                m.dev & 0xff,
                m.path,
                ro,
                m.fstype,
                m.source,
                ro
            );
        } else {
            let _ = writeln!(s, "{} {} {} {} 0 0", m.source, m.path, m.fstype, ro);
        }
    }
    s
}

/// What /proc/PID/stat and status tell of a task's place among the processes.
struct JobInfo {
    state: &'static str,
    ppid: i32,
    pgid: i32,
    sid: i32,
    tty_nr: u64,
    tpgid: i32,
    threads: usize,
    start_ticks: u64,
}

fn job_info(t: &Task) -> JobInfo {
    let procs = t.k.procs.borrow();
    let p = procs.get(t.tgid);
    let tty = p.and_then(|p| p.tty);
    let tpgid = tty
        .and_then(|n| t.k.ttys.borrow().get(&n).and_then(std::rc::Weak::upgrade))
        .map_or(-1, |term| term.pgrp.get());
    let state = if p.is_some_and(|p| p.stopped.is_some()) {
        "T (stopped)"
    } else if t.blocked {
        "S (sleeping)"
    } else {
        "R (running)"
    };
    JobInfo {
        state,
        ppid: p.map_or(0, |p| p.ppid),
        pgid: p.map_or(t.tgid, |p| p.pgid),
        sid: p.map_or(t.tgid, |p| p.sid),
        // The pty major (136) and the minor, as Linux encodes tty_nr.
        tty_nr: tty.map_or(0, |n| {
            (136 << 8) | u64::from(n & 0xff) | (u64::from(n & !0xff) << 12)
        }),
        tpgid,
        threads: 1 + procs.threads.values().filter(|&&g| g == t.tgid).count(),
        start_ticks: p.map_or(0, |p| p.start_ticks),
    }
}

fn pid_file(t: &Task, name: &str) -> Result<Vec<u8>, Errno> {
    let mut s = String::new();
    let comm = t.comm();
    let pid = t.tgid;
    let (vm, rss) = (t.mm.mapped_bytes(), t.mm.mapped_bytes());
    let _ = match name {
        "cmdline" => return Ok(t.mm.read_range(t.mm.state().arg_range).unwrap_or_default()),
        "environ" => return Ok(t.mm.read_range(t.mm.state().env_range).unwrap_or_default()),
        "comm" => writeln!(s, "{comm}"),
        "stat" => {
            let j = job_info(t);
            let (user, sys) = crate::syscalls::resource::cpu_times(t);
            let ticks = |ns: i64| ns / 10_000_000;
            writeln!(
                s,
                "{pid} ({comm}) {} {} {} {} {} {} 4194560 0 0 0 0 {} {} 0 0 20 {} {} 0 {} {vm} {} {} 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0",
                j.state.chars().next().unwrap_or('R'),
                j.ppid,
                j.pgid,
                j.sid,
                j.tty_nr,
                j.tpgid,
                ticks(user),
                ticks(sys),
                t.nice,
                j.threads,
                j.start_ticks,
                rss / 4096,
                u64::MAX
            )
        }
        "statm" => writeln!(s, "{} {} 0 0 0 {} 0", vm / 4096, rss / 4096, vm / 4096),
        "status" => {
            let j = job_info(t);
            let c = &t.creds;
            let groups: Vec<String> = c.groups.iter().map(|g| g.to_string()).collect();
            writeln!(
                s,
                "Name:\t{comm}\nUmask:\t{:04o}\nState:\t{}\nTgid:\t{pid}\nNgid:\t0\nPid:\t{}\nPPid:\t{}\nTracerPid:\t0\n\
                 Uid:\t{}\t{}\t{}\t{}\nGid:\t{}\t{}\t{}\t{}\nFDSize:\t{}\nGroups:\t{}\nNStgid:\t{pid}\nNSpid:\t{}\nNSpgid:\t{}\nNSsid:\t{}\n\
                 VmPeak:\t{:>8} kB\nVmSize:\t{:>8} kB\nVmLck:\t       0 kB\nVmPin:\t       0 kB\nVmHWM:\t{:>8} kB\nVmRSS:\t{:>8} kB\n\
                 VmData:\t{:>8} kB\nVmStk:\t{:>8} kB\nVmExe:\t       0 kB\nVmLib:\t       0 kB\nVmSwap:\t       0 kB\n\
                 Threads:\t{}\nSigQ:\t0/{}\nSigPnd:\t0000000000000000\nShdPnd:\t0000000000000000\nSigBlk:\t{:016x}\n\
                 SigIgn:\t{:016x}\nSigCgt:\t{:016x}\nCapInh:\t0000000000000000\nCapPrm:\t{cap}\nCapEff:\t{cap}\n\
                 CapBnd:\t{cap}\nCapAmb:\t0000000000000000\nNoNewPrivs:\t0\nSeccomp:\t0\nSeccomp_filters:\t0\n\
                 Cpus_allowed:\t{:x}\nCpus_allowed_list:\t0-{}\nMems_allowed_list:\t0\n\
                 voluntary_ctxt_switches:\t0\nnonvoluntary_ctxt_switches:\t0",
                t.umask,
                j.state,
                t.tid,
                j.ppid,
                c.ruid, c.euid, c.suid, c.euid,
                c.rgid, c.egid, c.sgid, c.egid,
                t.fds.table_size().max(64),
                groups.join(" "),
                t.tid,
                j.pgid,
                j.sid,
                vm / 1024, vm / 1024, rss / 1024, rss / 1024,
                vm / 1024, (t.mm.state().stack_top - t.mm.state().stack_bottom) / 1024,
                j.threads,
                t.rlimits[libc::RLIMIT_SIGPENDING as usize].cur,
                t.signals.mask,
                t.signals.ignored(),
                t.signals.caught(),
                (1u64 << t.k.ncpus()) - 1,
                t.k.ncpus() - 1,
                cap = if c.euid == 0 { "000001ffffffffff" } else { "0000000000000000" },
            )
        }
        "maps" => {
            for v in t.mm.vmas() {
                let (name, offset, dev, ino) = match (&v.file, v.role) {
                    (Some((l, off)), _) => (
                        String::from_utf8_lossy(&l.name).into_owned(),
                        *off,
                        l.dev,
                        l.ino,
                    ),
                    (None, Role::Heap) => ("[heap]".to_string(), 0, 0, 0),
                    (None, Role::Stack) => ("[stack]".to_string(), 0, 0, 0),
                    _ => (String::new(), 0, 0, 0),
                };
                let p = |bit: u64, c: char| if v.prot & bit != 0 { c } else { '-' };
                let mut line = format!(
                    "{:08x}-{:08x} {}{}{}{} {:08x} {:02x}:{:02x} {}",
                    v.start,
                    v.end,
                    p(abi::mman::PROT_READ, 'r'),
                    p(abi::mman::PROT_WRITE, 'w'),
                    p(abi::mman::PROT_EXEC, 'x'),
                    if v.shared { 's' } else { 'p' },
                    offset,
                    (dev >> 8) & 0xfff,
                    dev & 0xff,
                    ino
                );
                if !name.is_empty() {
                    // Names start at column 74, as Linux pads them.
                    while line.len() < 73 {
                        line.push(' ');
                    }
                    line.push_str(&name);
                }
                let _ = writeln!(s, "{line}");
            }
            if let Some(v) = t.mm.vdso() {
                let _ = writeln!(
                    s,
                    "{:08x}-{:08x} r--p 00000000 00:00 0                          [vvar]",
                    v.vvar_start, v.base
                );
                let _ = writeln!(
                    s,
                    "{:08x}-{:08x} r-xp 00000000 00:00 0                          [vdso]",
                    v.base, v.end
                );
            }
            Ok(())
        }
        "mounts" => write!(s, "{}", mounts(t, false)),
        "mountinfo" => write!(s, "{}", mounts(t, true)),
        "limits" => {
            let _ = writeln!(
                s,
                "{:<26}{:<21}{:<21}{:<10}",
                "Limit", "Soft Limit", "Hard Limit", "Units"
            );
            let names = [
                ("Max cpu time", "seconds"),
                ("Max file size", "bytes"),
                ("Max data size", "bytes"),
                ("Max stack size", "bytes"),
                ("Max core file size", "bytes"),
                ("Max resident set", "bytes"),
                ("Max processes", "processes"),
                ("Max open files", "files"),
                ("Max locked memory", "bytes"),
                ("Max address space", "bytes"),
                ("Max file locks", "locks"),
                ("Max pending signals", "signals"),
                ("Max msgqueue size", "bytes"),
                ("Max nice priority", ""),
                ("Max realtime priority", ""),
                ("Max realtime timeout", "us"),
            ];
            for (i, (n, unit)) in names.iter().enumerate() {
                let r = t.rlimits[i];
                let v = |x: u64| {
                    if x == u64::MAX {
                        "unlimited".to_string()
                    } else {
                        x.to_string()
                    }
                };
                let _ = writeln!(s, "{:<26}{:<21}{:<21}{:<10}", n, v(r.cur), v(r.max), unit);
            }
            Ok(())
        }
        "auxv" => return Ok(Vec::new()),
        "cgroup" => writeln!(s, "0::/"),
        "oom_score_adj" => writeln!(s, "0"),
        "loginuid" => write!(s, "{}", u32::MAX),
        _ => return Err(errno!(ENOENT)),
    };
    Ok(s.into_bytes())
}

/// Builds the static part of procfs (`/proc/sys`) under `root`.
pub fn populate(root: &Rc<Inode>, k: &crate::kernel::Kernel) {
    use super::{add_file, add_symlink, mkdir_p};
    add_symlink(root, b"mounts", b"self/mounts");
    add_symlink(root, b"net", b"self/net");
    let sys = mkdir_p(root, b"sys", 0o555);
    let kernel = mkdir_p(&sys, b"kernel", 0o555);
    let mut uuid = [0u8; 16];
    crate::host::fill_random(&mut uuid);
    let boot_id = format_uuid(&uuid);
    for name in ["hostname", "domainname"] {
        let mut value = if name == "hostname" {
            k.hostname.borrow().clone()
        } else {
            k.domainname.borrow().clone()
        };
        value.push(b'\n');
        let f = add_file(&kernel, name.as_bytes(), 0o444, &value);
        k.uts_files.borrow_mut().push((name, f));
    }
    for (name, value) in [
        ("osrelease", format!("{}\n", crate::syscalls::RELEASE)),
        ("ostype", "Linux\n".into()),
        ("version", format!("{}\n", crate::syscalls::VERSION)),
        ("pid_max", "4194304\n".into()),
        ("ngroups_max", "65536\n".into()),
        ("cap_last_cap", "40\n".into()),
        ("overflowuid", "65534\n".into()),
        ("overflowgid", "65534\n".into()),
        ("threads-max", "1000000\n".into()),
    ] {
        add_file(&kernel, name.as_bytes(), 0o444, value.as_bytes());
    }
    let random = mkdir_p(&kernel, b"random", 0o555);
    add_file(
        &random,
        b"boot_id",
        0o444,
        format!("{boot_id}\n").as_bytes(),
    );
    // uuid is a new value on each read on Linux; here it is fixed per sandbox (known difference).
    crate::host::fill_random(&mut uuid);
    add_file(
        &random,
        b"uuid",
        0o444,
        format!("{}\n", format_uuid(&uuid)).as_bytes(),
    );
    add_file(&random, b"entropy_avail", 0o444, b"256\n");
    add_file(&random, b"poolsize", 0o444, b"256\n");
    let fs = mkdir_p(&sys, b"fs", 0o555);
    add_file(&fs, b"pipe-max-size", 0o644, b"1048576\n");
    add_file(
        &fs,
        b"nr_open",
        0o444,
        format!("{}\n", abi::NR_OPEN).as_bytes(),
    );
    add_file(&fs, b"file-max", 0o444, b"9223372036854775807\n");
    let net = mkdir_p(&sys, b"net", 0o555);
    let s = &k.sysctl;
    let ipv4 = mkdir_p(&net, b"ipv4", 0o555);
    for (name, value) in [
        (
            "ip_unprivileged_port_start",
            s.unprivileged_port_start.to_string(),
        ),
        ("ping_group_range", s.ping_group_range.clone()),
    ] {
        add_file(
            &ipv4,
            name.as_bytes(),
            0o444,
            format!("{value}\n").as_bytes(),
        );
    }
    let core = mkdir_p(&net, b"core", 0o555);
    add_file(
        &core,
        b"somaxconn",
        0o444,
        format!("{}\n", s.somaxconn).as_bytes(),
    );
    let vm = mkdir_p(&sys, b"vm", 0o555);
    add_file(&vm, b"overcommit_memory", 0o444, b"0\n");
    add_file(&vm, b"max_map_count", 0o444, b"65530\n");
    add_file(
        &vm,
        b"mmap_min_addr",
        0o444,
        format!("{}\n", abi::MMAP_MIN_ADDR).as_bytes(),
    );
}

fn format_uuid(b: &[u8; 16]) -> String {
    let h: Vec<String> = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        h[0..4].concat(),
        h[4..6].concat(),
        h[6..8].concat(),
        h[8..10].concat(),
        h[10..16].concat()
    )
}
