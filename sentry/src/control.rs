//! The control channel of a sandbox run by the OCI runtime (`runrs create`): a Unix
//! SOCK_SEQPACKET socket in the container's state directory, through which `runrs start`,
//! `kill`, `exec`, `ps`, `pause` and `resume` reach the Sentry.
//!
//! One message per request and per reply, JSON; an exec request carries the new process's stdio
//! as SCM_RIGHTS. A thread of the Sentry accepts connections and reads requests (so a busy guest
//! does not delay them); it queues each with its connection and wakes the scheduler, which acts
//! on it between two guest steps and replies on the connection. The socket is made before the
//! lockdown; afterwards the thread needs only accept4, recvmsg, sendmsg and close.

use nix::sys::socket::{self, AddressFamily, MsgFlags, SockFlag, SockType, UnixAddr};
use serde::{Deserialize, Serialize};
use std::io::{IoSlice, IoSliceMut};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

/// The largest request or reply (an exec's arguments and environment).
pub const MAX_MESSAGE: usize = 192 << 10;

/// What a client asks of the Sentry.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Request {
    /// Run the container's process (`runrs start`).
    Start,
    /// Send a signal to the container's init, or to every process (`runrs kill --all`).
    Kill {
        signal: i32,
        all: bool,
    },
    /// Send a signal to one process of the sandbox (by its PID inside).
    Signal {
        pid: i32,
        signal: i32,
    },
    /// Start a new process in the running sandbox (`runrs exec`); its stdio travel with the
    /// request.
    Exec(ExecRequest),
    /// The sandbox's processes.
    Ps,
    /// Stop running guest code until `Resume`.
    Pause,
    Resume,
    /// Replace the egress policy (`runrs policy`): the net gofer's policy document.
    Policy(serde_json::Value),
    /// Create another container of the pod in this sandbox (`runrs create` of a container whose
    /// annotations name this sandbox): its root from the Gofer channel that comes after the
    /// stdio fds, its process made but not run until `StartContainer`.
    CreateContainer(ContainerRequest),
    /// Run a pod container's process.
    StartContainer {
        id: String,
    },
    /// Send a signal to a pod container's process, or to every process of its session.
    KillContainer {
        id: String,
        signal: i32,
        all: bool,
    },
}

/// Another container of the pod: its process, and its filesystem tree.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ContainerRequest {
    pub id: String,
    pub process: ExecRequest,
    /// The root is read-only (`root.readonly`).
    pub readonly: bool,
    /// Its bind mounts (the Gofer's mounts 1...), tmpfs mounts and single-file binds.
    pub volumes: Vec<(String, bool)>,
    pub tmpfs_mounts: Vec<String>,
    pub files: Vec<(String, Vec<u8>, u32)>,
    /// OCI `maskedPaths`.
    #[serde(default)]
    pub masked: Vec<String>,
}

/// A process to start in a running sandbox.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ExecRequest {
    pub args: Vec<String>,
    pub env: Vec<String>,
    pub cwd: String,
    pub uid: u32,
    pub gid: u32,
    pub groups: Vec<u32>,
    pub umask: Option<u32>,
    /// Which of fds 0, 1, 2 come with the request (in that order).
    pub stdio: [bool; 3],
    /// What the host calls them (for /proc/PID/fd).
    pub stdio_names: [String; 3],
    /// stdio is a host pty: the process gets a terminal of the sandbox relayed to it.
    #[serde(default)]
    pub terminal: bool,
    /// The pod container whose root it starts in (None: the sandbox's own).
    #[serde(default)]
    pub container: Option<String>,
}

/// A process, as `Ps` reports it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ProcInfo {
    pub pid: i32,
    pub ppid: i32,
    pub comm: String,
    /// Its session (a pod container's processes are its process's session).
    #[serde(default)]
    pub sid: i32,
}

/// The Sentry's answer.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Reply {
    Ok,
    Error(String),
    /// An exec'd process started, with this PID inside the sandbox.
    Started {
        pid: i32,
    },
    /// An exec'd process ended: its exit code, or the signal that killed it.
    Exited {
        code: i32,
        signal: i32,
    },
    Procs(Vec<ProcInfo>),
}

/// A request and the connection to answer on.
pub struct Pending {
    pub request: Request,
    pub fds: Vec<OwnedFd>,
    pub conn: Conn,
}

/// A client connection.
pub struct Conn(OwnedFd);

impl Conn {
    /// The socket, for polling.
    pub fn raw(&self) -> RawFd {
        self.0.as_raw_fd()
    }

    /// Sends one reply; a client that went away is not an error of the Sentry's.
    pub fn reply(&self, r: &Reply) {
        let Ok(bytes) = serde_json::to_vec(r) else {
            return;
        };
        let iov = [IoSlice::new(&bytes)];
        if let Err(e) =
            socket::sendmsg::<UnixAddr>(self.0.as_raw_fd(), &iov, &[], MsgFlags::MSG_NOSIGNAL, None)
        {
            tracing::debug!("control reply not delivered: {e}");
        }
    }
}

static QUEUE: Mutex<Vec<Pending>> = Mutex::new(Vec::new());
static QUEUED: AtomicBool = AtomicBool::new(false);

/// Whether requests wait (cheap: one atomic load, checked at every scheduling round).
pub fn pending() -> bool {
    QUEUED.load(Ordering::Acquire)
}

/// The requests received since the last call.
pub fn take() -> Vec<Pending> {
    QUEUED.store(false, Ordering::Release);
    std::mem::take(&mut *QUEUE.lock().unwrap_or_else(|e| e.into_inner()))
}

/// Makes the listening socket `name` in the working directory (a relative name: state
/// directories can be deeper than a socket path may be long).
pub fn listen(name: &Path) -> nix::Result<OwnedFd> {
    let fd = socket::socket(
        AddressFamily::Unix,
        SockType::SeqPacket,
        SockFlag::SOCK_CLOEXEC,
        None,
    )?;
    let addr = UnixAddr::new(name)?;
    socket::bind(fd.as_raw_fd(), &addr)?;
    socket::listen(&fd, socket::Backlog::new(16)?)?;
    Ok(fd)
}

/// Spawns thread `name` running `f`, and returns once it has started: the host syscalls a new
/// thread makes before its code runs (glibc registers `rseq`) must come before the lockdown's
/// seccomp filter, which admits none of them and would kill the Sentry.
fn spawn_started(name: &str, f: impl FnOnce() + Send + 'static) -> std::io::Result<()> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            let _ = tx.send(());
            f()
        })?;
    rx.recv()
        .map_err(|_| std::io::Error::other(format!("thread {name} ended at once")))
}

/// Serves the listening socket on a new thread for the rest of the Sentry's life.
pub fn serve(listener: OwnedFd) -> std::io::Result<()> {
    spawn_started("control", move || loop {
        match socket::accept4(listener.as_raw_fd(), SockFlag::SOCK_CLOEXEC) {
            // SAFETY: accept4 returned a new fd that nothing else owns.
            Ok(fd) => receive(unsafe { OwnedFd::from_raw_fd(fd) }),
            Err(nix::errno::Errno::EINTR | nix::errno::Errno::ECONNABORTED) => {}
            Err(e) => {
                tracing::warn!("control socket: {e}");
                return;
            }
        }
    })
}

/// Serves requests on an inherited, already connected socket (`runrs do --control-fd N`: the
/// caller holds the other end), on a new thread, until the caller closes it. Replies go back on
/// the same socket, in order.
pub fn serve_inherited(fd: RawFd) -> std::io::Result<()> {
    if fd <= 2 {
        return Err(std::io::Error::other(
            "the control fd cannot be stdin, stdout or stderr",
        ));
    }
    // It must be an open socket.
    let st = nix::sys::stat::fstat(fd).map_err(std::io::Error::from)?;
    if st.st_mode & libc::S_IFMT != libc::S_IFSOCK {
        return Err(std::io::Error::other(format!("fd {fd} is not a socket")));
    }
    // The caller handed this fd number to runrs for this purpose alone (checked open and a
    // socket above).
    // SAFETY: nothing else in the process owns the fd.
    let conn = unsafe { OwnedFd::from_raw_fd(fd) };
    let _ = nix::fcntl::fcntl(
        fd,
        nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::FD_CLOEXEC),
    );
    spawn_started("control-fd", move || loop {
        let (request, fds) = match recv_message(conn.as_fd()) {
            Ok(Some((bytes, fds))) => match serde_json::from_slice::<Request>(&bytes) {
                Ok(r) => (r, fds),
                Err(e) => {
                    Conn(conn.try_clone().unwrap_or_else(|_| std::process::abort()))
                        .reply(&Reply::Error(format!("bad request: {e}")));
                    continue;
                }
            },
            Ok(None) => return,
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => {
                tracing::warn!("control fd: {e}");
                return;
            }
        };
        let Ok(reply_to) = conn.try_clone() else {
            return;
        };
        QUEUE
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Pending {
                request,
                fds,
                conn: Conn(reply_to),
            });
        QUEUED.store(true, Ordering::Release);
        crate::host::wake_scheduler();
    })
}

/// How long a client has to send its request once connected.
const REQUEST_TIMEOUT_MS: u16 = 5000;

/// Reads one request from a new connection and queues it.
fn receive(conn: OwnedFd) {
    // A client that connects and sends nothing must not hold the channel.
    let mut pfd = [nix::poll::PollFd::new(
        conn.as_fd(),
        nix::poll::PollFlags::POLLIN,
    )];
    if nix::poll::poll(&mut pfd, nix::poll::PollTimeout::from(REQUEST_TIMEOUT_MS)) != Ok(1) {
        tracing::debug!("control client sent no request");
        return;
    }
    let conn = Conn(conn);
    let (request, fds) = match recv_message(conn.0.as_fd()) {
        Ok(Some((bytes, fds))) => match serde_json::from_slice::<Request>(&bytes) {
            Ok(r) => (r, fds),
            Err(e) => {
                conn.reply(&Reply::Error(format!("bad request: {e}")));
                return;
            }
        },
        Ok(None) => return,
        Err(e) => {
            tracing::debug!("control request: {e}");
            return;
        }
    };
    QUEUE
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(Pending { request, fds, conn });
    QUEUED.store(true, Ordering::Release);
    crate::host::wake_scheduler();
}

/// Receives one message and the fds that came with it; None at end of file.
pub fn recv_message(
    fd: std::os::fd::BorrowedFd<'_>,
) -> nix::Result<Option<(Vec<u8>, Vec<OwnedFd>)>> {
    let mut buf = vec![0u8; MAX_MESSAGE];
    // stdio, and for a pod container its Gofer channel.
    let mut cmsg = nix::cmsg_space!([RawFd; 4]);
    let (n, raw) = {
        let mut iov = [IoSliceMut::new(&mut buf)];
        let msg = socket::recvmsg::<UnixAddr>(
            fd.as_raw_fd(),
            &mut iov,
            Some(&mut cmsg),
            MsgFlags::MSG_CMSG_CLOEXEC,
        )?;
        let mut raw = Vec::new();
        for c in msg.cmsgs()? {
            if let socket::ControlMessageOwned::ScmRights(fds) = c {
                raw.extend(fds);
            }
        }
        (msg.bytes, raw)
    };
    let fds = raw
        .into_iter()
        // SAFETY: SCM_RIGHTS installed these fds in this process for us alone.
        .map(|f| unsafe { OwnedFd::from_raw_fd(f) })
        .collect();
    if n == 0 {
        return Ok(None);
    }
    buf.truncate(n);
    Ok(Some((buf, fds)))
}

/// The client side: connects to the control socket in state directory `dir`, sends `request` with
/// `fds`, and returns the connection to read replies from.
pub fn connect(dir: &Path, request: &Request, fds: &[RawFd]) -> std::io::Result<OwnedFd> {
    let fd = socket::socket(
        AddressFamily::Unix,
        SockType::SeqPacket,
        SockFlag::SOCK_CLOEXEC,
        None,
    )?;
    // Through /proc/self/fd of an O_PATH handle of the directory: the path of a deep state
    // directory would not fit in a socket address.
    let dirfd = {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_PATH | libc::O_DIRECTORY)
            .open(dir)?
    };
    let addr =
        UnixAddr::new(format!("/proc/self/fd/{}/{}", dirfd.as_raw_fd(), SOCKET_NAME).as_str())?;
    socket::connect(fd.as_raw_fd(), &addr)?;
    let bytes = serde_json::to_vec(request).map_err(std::io::Error::other)?;
    let iov = [IoSlice::new(&bytes)];
    let rights = [socket::ControlMessage::ScmRights(fds)];
    let cmsgs: &[socket::ControlMessage<'_>] = if fds.is_empty() { &[] } else { &rights };
    socket::sendmsg::<UnixAddr>(fd.as_raw_fd(), &iov, cmsgs, MsgFlags::MSG_NOSIGNAL, None)?;
    Ok(fd)
}

/// Reads the next reply on a client connection (None: the Sentry went away).
pub fn read_reply(conn: &OwnedFd) -> std::io::Result<Option<Reply>> {
    match recv_message(conn.as_fd())? {
        Some((bytes, _)) => Ok(Some(
            serde_json::from_slice(&bytes).map_err(std::io::Error::other)?,
        )),
        None => Ok(None),
    }
}

/// The control socket's name in the container's state directory.
pub const SOCKET_NAME: &str = "sentry.sock";
