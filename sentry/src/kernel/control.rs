//! The scheduler's side of the control channel ([`crate::control`]): starting the container's
//! process, signals from `runrs kill`, processes from `runrs exec`, `ps`, pause and resume.

use super::signal::{self, SigInfo};
use super::{ExitStatus, Identity, Kernel, Program, Task};
use crate::control::{Conn, ContainerRequest, ExecRequest, Pending, ProcInfo, Reply, Request};
use crate::vfs::Inode;
use std::collections::{HashMap, VecDeque};
use std::os::fd::OwnedFd;
use std::rc::Rc;

/// Whether guest code runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hold {
    Running,
    /// Created, waiting for `Start`.
    Created,
    Paused,
}

/// What the control channel changes in the kernel.
pub struct State {
    pub hold: Hold,
    /// The sandbox's root, where exec'd processes start.
    pub root: Option<Rc<Inode>>,
    /// Connections of `runrs exec` waiting for their process's exit, by PID.
    pub exec_waiters: HashMap<i32, Conn>,
    /// When the waiters were last checked for a hang-up ([`waiters_gone`]).
    waiters_checked: std::time::Instant,
    /// The pod's other containers, by id.
    pub containers: HashMap<String, Container>,
    /// Pod containers whose process has exited, each waiting until its filesystem tree is
    /// released (its last process gone): then its `runrs container-wait` hears of the exit, and
    /// its image may be unmounted on the host (the Sentry holds no fd of it any more).
    pub releasing: Vec<Releasing>,
}

pub struct Releasing {
    root: std::rc::Weak<Inode>,
    conn: Conn,
    status: ExitStatus,
}

/// Another container of the pod in this sandbox: its own root (its image, through its own
/// Gofer), its process (held until `StartContainer`), and that process's PID here.
pub struct Container {
    pub root: Rc<Inode>,
    pub pid: i32,
    pub held: Option<Task>,
}

impl State {
    pub fn new(controlled: bool) -> State {
        State {
            hold: if controlled {
                Hold::Created
            } else {
                Hold::Running
            },
            root: None,
            exec_waiters: HashMap::new(),
            waiters_checked: std::time::Instant::now(),
            containers: HashMap::new(),
            releasing: Vec::new(),
        }
    }
}

/// Acts on the queued requests. Returns the sandbox's status if one ended it (a signal to a
/// container that never started).
pub fn handle(k: &Rc<Kernel>, tasks: &mut VecDeque<Task>) -> Option<ExitStatus> {
    for Pending { request, fds, conn } in crate::control::take() {
        tracing::debug!(?request, "control request");
        let hold = k.control.borrow().hold;
        match request {
            Request::Start => {
                if hold == Hold::Created {
                    k.control.borrow_mut().hold = Hold::Running;
                    conn.reply(&Reply::Ok);
                } else {
                    conn.reply(&Reply::Error(
                        "cannot start an already running container".into(),
                    ));
                }
            }
            Request::Kill { signal, all } => {
                if !(1..=abi::signal::SIGRTMAX).contains(&signal) {
                    conn.reply(&Reply::Error(format!("invalid signal {signal}")));
                    continue;
                }
                if hold == Hold::Created {
                    // The process never ran: a signal whose default action ends it ends the
                    // container, as it ends runc's waiting init.
                    conn.reply(&Reply::Ok);
                    if ends_unstarted(signal) {
                        return Some(ExitStatus::Signaled {
                            signo: signal,
                            core: false,
                        });
                    }
                    continue;
                }
                send(k, None, signal, all);
                conn.reply(&Reply::Ok);
            }
            Request::Signal { pid, signal } => {
                let live = k
                    .procs
                    .borrow()
                    .get(pid)
                    .is_some_and(|p| p.zombie.is_none());
                let has_tty = k.procs.borrow().get(pid).is_some_and(|p| p.tty.is_some());
                if !live || !(1..=abi::signal::SIGRTMAX).contains(&signal) {
                    conn.reply(&Reply::Error(format!("no process {pid}")));
                } else if signal == libc::SIGWINCH && has_tty && super::console::host_resized(k) {
                    // A resize of an exec'd process's pty (its `runrs exec` has it as its
                    // terminal): the console follows it and signals its foreground group.
                    conn.reply(&Reply::Ok);
                } else {
                    send(k, Some(pid), signal, false);
                    conn.reply(&Reply::Ok);
                }
            }
            Request::Exec(req) => {
                if hold == Hold::Created {
                    conn.reply(&Reply::Error("cannot exec in a created container".into()));
                    continue;
                }
                match exec(k, req, fds, None) {
                    Ok(task) => {
                        let pid = task.tgid;
                        conn.reply(&Reply::Started { pid });
                        k.control.borrow_mut().exec_waiters.insert(pid, conn);
                        tasks.push_back(task);
                    }
                    Err(e) => conn.reply(&Reply::Error(e)),
                }
            }
            Request::Ps => {
                let procs = k.procs.borrow();
                let list = procs
                    .procs
                    .iter()
                    .filter(|(_, p)| p.zombie.is_none())
                    .map(|(&pid, p)| ProcInfo {
                        pid,
                        sid: p.sid,
                        ppid: p.ppid,
                        comm: tasks
                            .iter()
                            .find(|t| t.tgid == pid)
                            .map(|t| String::from_utf8_lossy(&t.comm).into_owned())
                            .unwrap_or_default(),
                    })
                    .collect();
                conn.reply(&Reply::Procs(list));
            }
            Request::Policy(p) => {
                conn.reply(&match crate::syscalls::socket::inet::replace_policy(k, p) {
                    Ok(()) => Reply::Ok,
                    Err(e) => Reply::Error(e),
                });
            }
            Request::Pause => {
                if hold == Hold::Running {
                    k.control.borrow_mut().hold = Hold::Paused;
                    conn.reply(&Reply::Ok);
                } else {
                    conn.reply(&Reply::Error("container not running".into()));
                }
            }
            Request::CreateContainer(req) => {
                let id = req.id.clone();
                if k.control.borrow().containers.contains_key(&id) {
                    conn.reply(&Reply::Error(
                        "container with given ID already exists".into(),
                    ));
                    continue;
                }
                match create_container(k, req, fds) {
                    Ok(c) => {
                        let pid = c.pid;
                        conn.reply(&Reply::Started { pid });
                        k.control.borrow_mut().exec_waiters.insert(pid, conn);
                        k.control.borrow_mut().containers.insert(id, c);
                    }
                    Err(e) => conn.reply(&Reply::Error(e)),
                }
            }
            Request::StartContainer { id } => {
                let held = match k.control.borrow_mut().containers.get_mut(&id) {
                    None => Err(format!("container {id} does not exist")),
                    Some(c) => c
                        .held
                        .take()
                        .ok_or_else(|| "cannot start an already running container".to_string()),
                };
                match held {
                    Ok(task) => {
                        tasks.push_back(task);
                        conn.reply(&Reply::Ok);
                    }
                    Err(e) => conn.reply(&Reply::Error(e)),
                }
            }
            Request::KillContainer { id, signal, all } => {
                if !(1..=abi::signal::SIGRTMAX).contains(&signal) {
                    conn.reply(&Reply::Error(format!("invalid signal {signal}")));
                    continue;
                }
                let mut control = k.control.borrow_mut();
                let Some(c) = control.containers.get_mut(&id) else {
                    drop(control);
                    conn.reply(&Reply::Error(format!("container {id} does not exist")));
                    continue;
                };
                let pid = c.pid;
                if let Some(task) = c.held.take_if(|_| ends_unstarted(signal)) {
                    // Never started: the signal ends it before it runs (its default action),
                    // as it ends runc's waiting init.
                    tasks.push_back(task);
                } else if c.held.is_some() {
                    drop(control);
                    conn.reply(&Reply::Ok);
                    continue;
                }
                drop(control);
                send_container(k, pid, signal, all);
                conn.reply(&Reply::Ok);
            }
            Request::Resume => {
                if hold == Hold::Paused {
                    k.control.borrow_mut().hold = Hold::Running;
                    conn.reply(&Reply::Ok);
                } else {
                    conn.reply(&Reply::Error("container not paused".into()));
                }
            }
        }
    }
    None
}

/// Signals whose default action ends a process.
fn ends_unstarted(sig: i32) -> bool {
    !matches!(
        sig,
        libc::SIGCHLD
            | libc::SIGCONT
            | libc::SIGURG
            | libc::SIGWINCH
            | libc::SIGSTOP
            | libc::SIGTSTP
            | libc::SIGTTIN
            | libc::SIGTTOU
    )
}

/// How often a running sandbox checks its exec waiters for a hang-up.
const WAITER_CHECK: std::time::Duration = std::time::Duration::from_millis(50);

/// The `runrs exec` waiters' sockets, for the scheduler's sleep to wake on their hang-up.
pub fn waiter_fds(k: &Kernel) -> Vec<(i32, i16)> {
    k.control
        .borrow()
        .exec_waiters
        .values()
        .map(|c| (c.raw(), libc::POLLRDHUP))
        .collect()
}

/// A `runrs exec` waiter (or a pod container's `container-wait`) that went away without its
/// process's exit, killed by SIGKILL as containerd's shim kills an exec it gives up on: the
/// process it stood for is killed too, as runc's exec'd process is when its PID is. Checked at
/// most every [`WAITER_CHECK`] unless `now` (after a sleep a hang-up may have ended): one poll
/// of the waiters' sockets, nothing without waiters.
pub fn waiters_gone(k: &Kernel, now: bool) {
    let gone: Vec<i32> = {
        let mut c = k.control.borrow_mut();
        if c.exec_waiters.is_empty() || (!now && c.waiters_checked.elapsed() < WAITER_CHECK) {
            return;
        }
        c.waiters_checked = std::time::Instant::now();
        let pids: Vec<i32> = c.exec_waiters.keys().copied().collect();
        let mut fds: Vec<libc::pollfd> = pids
            .iter()
            .map(|p| libc::pollfd {
                fd: c.exec_waiters[p].raw(),
                events: libc::POLLRDHUP,
                revents: 0,
            })
            .collect();
        if crate::host::poll(&mut fds, 0).is_err() {
            return;
        }
        let hup = libc::POLLHUP | libc::POLLRDHUP | libc::POLLERR;
        let gone: Vec<i32> = pids
            .into_iter()
            .zip(&fds)
            .filter(|(_, f)| f.revents & hup != 0)
            .map(|(p, _)| p)
            .collect();
        for p in &gone {
            c.exec_waiters.remove(p);
        }
        gone
    };
    for pid in gone {
        tracing::info!("the waiter of process {pid} went away: killing it");
        send(k, Some(pid), libc::SIGKILL, false);
    }
}

/// Queues `signal` for `pid` (None: the container's init), or for every process.
fn send(k: &Kernel, pid: Option<i32>, sig: i32, all: bool) {
    let info = SigInfo {
        code: signal::SI_USER,
        ..SigInfo::default()
    };
    let mut procs = k.procs.borrow_mut();
    let target = pid.unwrap_or(1);
    for (&p, proc) in procs.procs.iter_mut() {
        if proc.zombie.is_none() && (all || p == target) {
            proc.pending.push((sig, info));
            if sig == libc::SIGCONT {
                proc.stopped = None;
            }
        }
    }
}

/// Queues `sig` for a pod container's process `pid`, or with `all` for every process of its
/// session (what it started, unless they made sessions of their own).
fn send_container(k: &Kernel, pid: i32, sig: i32, all: bool) {
    let info = SigInfo {
        code: signal::SI_USER,
        ..SigInfo::default()
    };
    for (&p, proc) in k.procs.borrow_mut().procs.iter_mut() {
        if proc.zombie.is_none() && (p == pid || (all && proc.sid == pid)) {
            proc.pending.push((sig, info));
            if sig == libc::SIGCONT {
                proc.stopped = None;
            }
        }
    }
}

/// Another container of the pod: its tree from its own Gofer (the fd after its stdio), its
/// process made now and held until started.
fn create_container(
    k: &Rc<Kernel>,
    req: ContainerRequest,
    mut fds: Vec<OwnedFd>,
) -> Result<Container, String> {
    let want = req.process.stdio.iter().filter(|&&b| b).count() + 1;
    if fds.len() != want {
        return Err(format!("expected {want} fds, got {}", fds.len()));
    }
    let Some(gofer) = fds.pop() else {
        return Err("no Gofer channel".into());
    };
    let root = super::container_tree(k, gofer::Channel::from_fd(gofer), &req)
        .map_err(|e| format!("the container's filesystem: {e}"))?;
    let task = exec(k, req.process, fds, Some(root.clone()))?;
    Ok(Container {
        root,
        pid: task.tgid,
        held: Some(task),
    })
}

/// Starts the process an exec request asks for: a new session of its own, with no parent in
/// the sandbox (as gVisor's exec'd processes), reaped by the Sentry. It starts in `root`, else
/// in its container's root (the sandbox's own, or a pod container's).
fn exec(
    k: &Rc<Kernel>,
    req: ExecRequest,
    fds: Vec<OwnedFd>,
    root: Option<Rc<Inode>>,
) -> Result<Task, String> {
    let root = match (root, &req.container) {
        (Some(r), _) => r,
        (None, Some(id)) => k
            .control
            .borrow()
            .containers
            .get(id)
            .map(|c| c.root.clone())
            .ok_or_else(|| format!("container {id} does not exist"))?,
        (None, None) => k
            .control
            .borrow()
            .root
            .clone()
            .ok_or("the sandbox has no root")?,
    };
    let mut fds = fds.into_iter();
    let stdio = req
        .stdio
        .map(|present| if present { fds.next() } else { None });
    let Some(path) = req.args.first().cloned() else {
        return Err("no program to exec".into());
    };
    let pid = k.procs.borrow_mut().alloc().map_err(|e| e.to_string())?;
    let program = Program {
        path: path.clone().into_bytes(),
        argv: req.args.into_iter().map(String::into_bytes).collect(),
        envp: req.env.into_iter().map(String::into_bytes).collect(),
        cwd: req.cwd.into_bytes(),
        stdio,
        stdio_names: Some(req.stdio_names.map(String::into_bytes)),
        identity: Some(Identity {
            ruid: req.uid,
            euid: req.uid,
            suid: req.uid,
            rgid: req.gid,
            egid: req.gid,
            sgid: req.gid,
            groups: req.groups,
        }),
        rlimits: Vec::new(),
        umask: req.umask,
        terminal: req.terminal,
    };
    let task = super::new_process(k, &root, program, pid).map_err(|e| match e {
        super::StartError::Exec { path, errno } => {
            let msg = if errno.code == libc::ENOENT && !path.contains('/') {
                "executable file not found in $PATH".to_string()
            } else {
                errno.description().to_lowercase()
            };
            format!("exec failed: unable to start container process: exec: {path:?}: {msg}")
        }
        e => e.to_string(),
    })?;
    Ok(task)
}

/// Tells the `runrs exec` waiting for `pid`, if any, how it ended. When `pid` is a pod
/// container's process, the container ends with it: its other processes (those in its root)
/// are killed, and its waiter hears of the exit once the container's tree is released.
pub fn exited(k: &Kernel, tasks: &VecDeque<Task>, pid: i32, status: ExitStatus) {
    let Some(conn) = k.control.borrow_mut().exec_waiters.remove(&pid) else {
        return;
    };
    let id = k
        .control
        .borrow()
        .containers
        .iter()
        .find(|(_, c)| c.pid == pid && c.held.is_none())
        .map(|(id, _)| id.clone());
    let Some(c) = id.and_then(|id| k.control.borrow_mut().containers.remove(&id)) else {
        reply_exited(&conn, status);
        return;
    };
    for t in tasks.iter().filter(|t| Rc::ptr_eq(&t.fs.root, &c.root)) {
        send_container(k, t.tgid, libc::SIGKILL, false);
    }
    k.control.borrow_mut().releasing.push(Releasing {
        root: Rc::downgrade(&c.root),
        conn,
        status,
    });
    drop(c);
    released(k);
}

/// Answers the waiters of pod containers whose tree is gone.
pub fn released(k: &Kernel) {
    let mut control = k.control.borrow_mut();
    if control.releasing.is_empty() {
        return;
    }
    let (gone, left): (Vec<_>, Vec<_>) = std::mem::take(&mut control.releasing)
        .into_iter()
        .partition(|r| r.root.strong_count() == 0);
    control.releasing = left;
    drop(control);
    for r in gone {
        reply_exited(&r.conn, r.status);
    }
}

fn reply_exited(conn: &Conn, status: ExitStatus) {
    let (code, signal) = match status {
        ExitStatus::Exited(c) => (i32::from(c), 0),
        ExitStatus::Signaled { signo, .. } => (0, signo),
    };
    conn.reply(&Reply::Exited { code, signal });
}
