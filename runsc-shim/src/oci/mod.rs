//! The OCI runtime: runc's command line (`create`, `start`, `run`, `state`, `kill`, `delete`,
//! `exec`, `list`, `ps`, `pause`, `resume`, `spec`, `features`, `events`), so that containerd's
//! runc shim and Docker drive runrs as they drive runc.
//!
//! A container is a Sentry process (`runrs boot`, hidden): `create` starts it, and it sets up
//! the sandbox (its Gofer serving the bundle's root filesystem, the process loaded), locks
//! itself down and waits on its control socket; its host PID is the container's PID. `start`,
//! `kill`, `exec`, `pause`, `resume` and `ps` are requests on that socket
//! ([`sentry::control`]). State lives in `--root`/ID/state.json.

pub mod boot;
pub mod cgroup;
pub mod shim;
pub mod spec;
pub mod state;
pub mod task;

use clap::{Args, ValueEnum};
use sentry::control::{self, Reply, Request};
use state::{Saved, Status};
use std::io::Write as _;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

/// runc's global flags.
#[derive(Args, Clone, Debug)]
pub struct Globals {
    /// Root directory for the containers' state.
    #[arg(long, default_value = "/run/runrs")]
    pub root: PathBuf,
    /// Where errors and the Sentry's log go (default: stderr).
    #[arg(long)]
    pub log: Option<PathBuf>,
    /// The log's format.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Accepted for runc compatibility (cgroups are not managed yet).
    #[arg(long)]
    pub systemd_cgroup: bool,
    /// Accepted for runc compatibility.
    #[arg(long, hide = true)]
    pub rootless: Option<String>,
    /// Accepted for runc compatibility.
    #[arg(long, hide = true)]
    pub criu: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// A failed command: its message, reported as runc reports errors.
#[derive(Debug)]
pub struct Failure(pub String);

impl<E: std::fmt::Display> From<E> for Failure {
    fn from(e: E) -> Failure {
        Failure(e.to_string())
    }
}

type Res<T> = Result<T, Failure>;

fn fail<T>(msg: impl Into<String>) -> Res<T> {
    Err(Failure(msg.into()))
}

/// Reports an error as runc does (logrus): to the log if one is given, else stderr.
pub fn report(g: &Globals, level: &str, msg: &str) {
    let time = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    let line = match g.log_format {
        LogFormat::Json => {
            serde_json::json!({ "level": level, "msg": msg, "time": time }).to_string()
        }
        LogFormat::Text => format!(
            "time=\"{time}\" level={level} msg={}",
            serde_json::Value::String(msg.to_string())
        ),
    };
    let to_file = g.log.as_ref().and_then(|p| {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(p)
            .ok()
    });
    match to_file {
        Some(mut f) => {
            let _ = writeln!(f, "{line}");
        }
        None => eprintln!("{line}"),
    }
}

/// Runs a command; errors become runc's error line and exit status 1.
pub fn finish(g: &Globals, r: Res<u8>) -> ExitCode {
    match r {
        Ok(c) => ExitCode::from(c),
        Err(Failure(msg)) => {
            report(g, "error", &msg);
            // As runc: with a log file the message also goes to stderr, plain (containerd's
            // shim matches "container not running", "does not exist" there).
            if g.log.is_some() {
                eprintln!("{msg}");
            }
            ExitCode::from(1)
        }
    }
}

/// runc's rule for container ids.
fn check_id(id: &str) -> Res<()> {
    let ok = !id.is_empty()
        && id != "."
        && id != ".."
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '+' | '-' | '.'));
    if ok {
        Ok(())
    } else {
        fail("invalid container ID format")
    }
}

fn load(g: &Globals, id: &str) -> Res<Saved> {
    check_id(id).or_else(|_| fail("container does not exist"))?;
    state::load(&g.root, id).ok_or_else(|| Failure("container does not exist".into()))
}

/// Sends a request to the Sentry of container `id` (a pod's sandbox for its containers: see
/// [`Saved::sentry_id`]) and waits for its reply.
fn request_to(g: &Globals, id: &str, r: &Request) -> Res<Reply> {
    let conn = control::connect(&state::dir(&g.root, id), r, &[])
        .map_err(|e| Failure(format!("connecting to the sandbox: {e}")))?;
    match control::read_reply(&conn)? {
        Some(Reply::Error(e)) => fail(e),
        Some(r) => Ok(r),
        None => fail("the sandbox went away"),
    }
}

// ---- create, start, run ----

#[derive(Args, Debug, Clone)]
pub struct CreateArgs {
    /// Path to the bundle (default: the current directory).
    #[arg(long, short = 'b')]
    pub bundle: Option<PathBuf>,
    /// Where to send the pty master when config.json asks for a terminal.
    #[arg(long)]
    pub console_socket: Option<PathBuf>,
    /// File to write the container's PID (the Sentry's) to.
    #[arg(long)]
    pub pid_file: Option<PathBuf>,
    /// Accepted for runc compatibility.
    #[arg(long)]
    pub no_pivot: bool,
    /// Accepted for runc compatibility.
    #[arg(long)]
    pub no_new_keyring: bool,
    /// Pass N more fds (3..3+N) to the container: not supported (must be 0).
    #[arg(long, default_value_t = 0)]
    pub preserve_fds: u32,
    pub id: String,
}

#[derive(Args, Debug)]
pub struct RunArgs {
    #[command(flatten)]
    pub create: CreateArgs,
    /// Return once the container has started.
    #[arg(long, short = 'd')]
    pub detach: bool,
    /// Keep the container's state after it exits.
    #[arg(long)]
    pub keep: bool,
}

/// A created container: its Sentry, our child until we exit.
struct Created {
    child: std::process::Child,
    saved: Saved,
}

pub fn create(g: &Globals, a: &CreateArgs, verb: &str) -> Res<u8> {
    let c = do_create(g, a, false)
        .map_err(|Failure(m)| Failure(format!("runrs {verb} failed: {m}")))?;
    // The Sentry lives on (reparented when we exit).
    drop(c.child);
    Ok(0)
}

/// Creates the container; `foreground` (a `run` without --detach) lets a terminal process use
/// our own stdio as its terminal, as runc's foreground run does.
fn do_create(g: &Globals, a: &CreateArgs, foreground: bool) -> Res<Created> {
    check_id(&a.id)?;
    if a.preserve_fds != 0 {
        return fail("--preserve-fds is not supported");
    }
    let bundle = match &a.bundle {
        Some(b) => b.clone(),
        None => std::env::current_dir()?,
    };
    let bundle = std::path::absolute(&bundle)?;
    if !bundle.is_dir() {
        return fail(format!(
            "chdir {}: no such file or directory",
            bundle.display()
        ));
    }
    let spec = spec::load(&bundle)?;
    spec::validate(&spec)?;
    let process = spec.process().clone().unwrap_or_default();
    let terminal = process.terminal().unwrap_or(false);
    if terminal && a.console_socket.is_none() && !foreground {
        return fail("cannot allocate tty if runc will detach without setting console socket");
    }
    if !terminal && a.console_socket.is_some() {
        return fail("cannot use console socket if runc will not detach or allocate tty");
    }
    let rootfs = spec::rootfs(&spec, &bundle);
    if !rootfs.is_dir() {
        return fail(format!("rootfs ({}) does not exist", rootfs.display()));
    }
    spec::check_readonly_paths(&spec, &rootfs)?;
    spec::sysctl(&spec)?;
    std::fs::create_dir_all(&g.root)?;
    let dir = state::dir(&g.root, &a.id);
    match std::fs::create_dir(&dir) {
        Ok(()) => {
            // Only root may reach the control socket (connecting needs write access to it).
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))?;
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return fail("container with given ID already exists")
        }
        Err(e) => return fail(format!("creating {}: {e}", dir.display())),
    }
    let cleanup = |e: Failure| {
        let _ = std::fs::remove_dir_all(&dir);
        e
    };
    let pod = pod_sandbox(g, &a.id, &spec);
    let (child, pid, start_time, sandbox_pid) = if let Some(s) = &pod {
        spawn_container_wait(g, a, &bundle, s).map_err(cleanup)?
    } else {
        let stdio = if terminal && a.console_socket.is_some() {
            Some(
                console(
                    a.console_socket.as_deref().unwrap_or(Path::new("")),
                    &process,
                )
                .map_err(cleanup)?,
            )
        } else {
            None
        };
        let (child, pid, start_time) = boot::spawn(g, &a.id, &bundle, stdio).map_err(cleanup)?;
        (child, pid, start_time, None)
    };
    let saved = Saved {
        id: a.id.clone(),
        pid,
        start_time,
        bundle: bundle.to_string_lossy().into_owned(),
        rootfs: rootfs.to_string_lossy().into_owned(),
        created: state::now_rfc3339(),
        owner: String::new(),
        annotations: spec
            .annotations()
            .clone()
            .unwrap_or_default()
            .into_iter()
            .collect(),
        started: false,
        paused: false,
        hooks: spec.hooks().clone(),
        cgroup: pod
            .is_none()
            .then(|| cgroup::Cpu::from_spec(&spec).and(cgroup::path_for(&spec, &a.id)))
            .flatten()
            .map(|p| p.to_string_lossy().into_owned()),
        sandbox: pod,
        sandbox_pid,
    };
    let mut created = Created { child, saved };
    let undo = |c: &mut Created, e: Failure| {
        let _ = c.child.kill();
        let _ = c.child.wait();
        let _ = std::fs::remove_dir_all(&dir);
        e
    };
    if let Err(e) = state::save(&g.root, &created.saved) {
        return Err(undo(&mut created, e.into()));
    }
    if let Some(p) = &a.pid_file {
        if let Err(e) = write_pid_file(p, pid) {
            return Err(undo(&mut created, e));
        }
    }
    // runc runs prestart (deprecated) and createRuntime hooks once the runtime environment
    // exists, then createContainer ones: here, once the sandbox is ready.
    let hooks = created.saved.hooks.clone().unwrap_or_default();
    for list in [
        hooks.prestart(),
        hooks.create_runtime(),
        hooks.create_container(),
    ] {
        if let Err(e) = run_hooks(list, &created.saved) {
            return Err(undo(&mut created, e));
        }
    }
    Ok(created)
}

/// The pod sandbox a container joins: under CRI (containerd's or CRI-O's annotations), a
/// container of type "container" runs in the Sentry of its pod's sandbox container, when that
/// is a live runrs container here; the pod's containers then share one kernel (its loopback
/// network, IPC, hostname), each with its own root. Anything else gets a Sentry of its own.
fn pod_sandbox(g: &Globals, id: &str, spec: &oci_spec::runtime::Spec) -> Option<String> {
    let ann = spec.annotations().as_ref()?;
    let (kind, sandbox) = [
        (
            "io.kubernetes.cri.container-type",
            "io.kubernetes.cri.sandbox-id",
        ),
        (
            "io.kubernetes.cri-o.ContainerType",
            "io.kubernetes.cri-o.SandboxID",
        ),
    ]
    .iter()
    .find_map(|(k, s)| Some((ann.get(*k)?, ann.get(*s)?)))?;
    if kind != "container" || sandbox == id || check_id(sandbox).is_err() {
        return None;
    }
    let saved = state::load(&g.root, sandbox)?;
    if saved.sandbox.is_some() || saved.status() == Status::Stopped {
        report(
            g,
            "warning",
            &format!("pod sandbox {sandbox} is not a running runrs sandbox: {id} gets its own"),
        );
        return None;
    }
    Some(sandbox.clone())
}

/// Starts `runrs container-wait` for a container of pod sandbox `sandbox`; returns it with its
/// host PID and start time, and the container's PID inside the sandbox, once it is created
/// there.
fn spawn_container_wait(
    g: &Globals,
    a: &CreateArgs,
    bundle: &Path,
    sandbox: &str,
) -> Res<(std::process::Child, i32, u64, Option<i32>)> {
    let (rd, wr, mut cmd) = child_with_ready_pipe(g)?;
    cmd.arg("container-wait")
        .arg("--bundle")
        .arg(bundle)
        .arg("--sandbox")
        .arg(sandbox)
        .arg("--ready-fd")
        .arg(wr.as_raw_fd().to_string());
    if let Some(s) = &a.console_socket {
        cmd.arg("--console-socket").arg(s);
    }
    cmd.arg(&a.id);
    let mut child = cmd.spawn()?;
    drop(wr);
    let msg = boot::read_line(rd);
    let Some(spid) = msg
        .trim()
        .strip_prefix("ok ")
        .and_then(|p| p.parse::<i32>().ok())
    else {
        let _ = child.kill();
        let _ = child.wait();
        return fail(if msg.is_empty() {
            "creating the container in its pod's sandbox failed".to_string()
        } else {
            msg.trim().to_string()
        });
    };
    let pid = child.id() as i32;
    let start_time = state::proc_stat(pid).map_or(0, |s| s.1);
    Ok((child, pid, start_time, Some(spid)))
}

#[derive(Args, Debug, Clone)]
pub struct ContainerWaitArgs {
    #[arg(long)]
    pub bundle: PathBuf,
    /// The pod's sandbox container.
    #[arg(long)]
    pub sandbox: String,
    #[arg(long)]
    pub ready_fd: Option<i32>,
    #[arg(long)]
    pub console_socket: Option<PathBuf>,
    pub id: String,
}

/// A container of a pod: its own Gofer (its image and mounts), its process created in the
/// pod's sandbox; then, as `runrs exec` does, signals passed on and its exit status ours.
pub fn container_wait(g: &Globals, a: &ContainerWaitArgs) -> Res<u8> {
    let fail_ready = |msg: String| {
        if let Some(mut f) = a.ready_fd.and_then(boot::inherited_fd) {
            let _ = writeln!(f, "{msg}");
        }
        Failure(msg)
    };
    let spec = spec::load(&a.bundle).map_err(|spec::SpecError(m)| fail_ready(m))?;
    let process = spec.process().clone().unwrap_or_default();
    let rootfs = spec::rootfs(&spec, &a.bundle);
    let readonly = spec::root_readonly(&spec);
    let mounts = spec::mounts(&spec, &a.bundle);
    let gofer_mounts = mounts.gofer_mounts(&rootfs);
    let pty = match (&a.console_socket, process.terminal().unwrap_or(false)) {
        (Some(s), true) => Some(console(s, &process).map_err(|Failure(m)| fail_ready(m))?),
        _ => None,
    };
    // The Gofer is our child: it dies with us (PDEATHSIG), when the container has ended.
    let cpu = nix::sched::sched_getcpu().ok();
    let (channel, _gofer) =
        crate::start_gofer(&gofer_mounts, cpu, true).map_err(|e| fail_ready(format!("{e:#}")))?;
    let (exec, stdio) = exec_request(&process, pty.as_ref())?;
    let req = control::ContainerRequest {
        masked: spec::masked_paths(&spec),
        id: a.id.clone(),
        process: exec,
        readonly,
        volumes: mounts
            .binds
            .iter()
            .map(|b| (b.guest.clone(), b.readonly))
            .collect(),
        tmpfs_mounts: mounts.tmpfs.clone(),
        files: mounts.files.clone(),
    };
    let mut fds: Vec<OwnedFd> = stdio;
    fds.push(channel.into_fd());
    wait_in_sandbox(
        g,
        &a.sandbox,
        &Request::CreateContainer(req),
        fds,
        pty,
        a.ready_fd,
    )
}

/// Writes the PID file as runc does: to a temporary name, then renamed.
fn write_pid_file(p: &Path, pid: i32) -> Res<()> {
    let p = std::path::absolute(p)?;
    let tmp = p.with_file_name(format!(
        ".{}",
        p.file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default()
    ));
    std::fs::write(&tmp, pid.to_string())?;
    std::fs::rename(&tmp, &p)?;
    Ok(())
}

/// A pty for a container's terminal: the master goes to the console socket, the slave is the
/// process's stdio.
fn console(socket: &Path, process: &oci_spec::runtime::Process) -> Res<OwnedFd> {
    let ws = process.console_size().map(|b| nix::pty::Winsize {
        ws_row: u16::try_from(b.height()).unwrap_or(u16::MAX),
        ws_col: u16::try_from(b.width()).unwrap_or(u16::MAX),
        ws_xpixel: 0,
        ws_ypixel: 0,
    });
    let pty = nix::pty::openpty(ws.as_ref(), None)?;
    let conn = nix::sys::socket::socket(
        nix::sys::socket::AddressFamily::Unix,
        nix::sys::socket::SockType::Stream,
        nix::sys::socket::SockFlag::SOCK_CLOEXEC,
        None,
    )?;
    let addr = nix::sys::socket::UnixAddr::new(socket)?;
    nix::sys::socket::connect(conn.as_raw_fd(), &addr)
        .map_err(|e| Failure(format!("connecting to the console socket: {e}")))?;
    let fds = [pty.master.as_raw_fd()];
    let name = b"/dev/ptmx";
    nix::sys::socket::sendmsg::<nix::sys::socket::UnixAddr>(
        conn.as_raw_fd(),
        &[std::io::IoSlice::new(name)],
        &[nix::sys::socket::ControlMessage::ScmRights(&fds)],
        nix::sys::socket::MsgFlags::empty(),
        None,
    )?;
    Ok(pty.slave)
}

pub fn start(g: &Globals, id: &str) -> Res<u8> {
    let mut saved = load(g, id)?;
    match saved.status() {
        Status::Created => {}
        Status::Stopped => return fail("cannot start a container that has stopped"),
        Status::Running | Status::Paused => {
            return fail("cannot start an already running container")
        }
    }
    let hooks = saved.hooks.clone().unwrap_or_default();
    run_hooks(hooks.start_container(), &saved)?;
    match &saved.sandbox {
        Some(s) => request_to(g, s, &Request::StartContainer { id: id.to_string() })?,
        None => request_to(g, id, &Request::Start)?,
    };
    saved.started = true;
    state::save(&g.root, &saved)?;
    if let Err(e) = run_hooks(hooks.poststart(), &saved) {
        // As runc: a failed poststart hook ends the container.
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(saved.pid),
            nix::sys::signal::Signal::SIGKILL,
        );
        return Err(e);
    }
    Ok(0)
}

pub fn run(g: &Globals, a: &RunArgs) -> Res<u8> {
    let mut c = do_create(g, &a.create, !a.detach)
        .map_err(|Failure(m)| Failure(format!("runrs run failed: {m}")))?;
    if let Err(e) = start(g, &a.create.id) {
        let _ = c.child.kill();
        let _ = c.child.wait();
        let _ = destroy(g, &c.saved);
        return Err(e);
    }
    if a.detach {
        return Ok(0);
    }
    // Signals to us are for the container (runc forwards them to its init).
    let fwd = Forwarder::new()?;
    let status = loop {
        if let Some(s) = c.child.try_wait()? {
            break s;
        }
        if let Some((sig, code)) = fwd.next(None, Some(Duration::from_millis(200)))? {
            // A terminal's signals (SI_KERNEL) went to the Sentry too: it is in our process
            // group.
            if sig != libc::SIGCHLD && code != SI_KERNEL {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(c.saved.pid),
                    nix::sys::signal::Signal::try_from(sig).ok(),
                );
            }
        }
    };
    if !a.keep {
        destroy(g, &c.saved)?;
    }
    use std::os::unix::process::ExitStatusExt;
    Ok(match (status.code(), status.signal()) {
        (Some(c), _) => u8::try_from(c).unwrap_or(1),
        (None, Some(s)) => u8::try_from(128 + s).unwrap_or(1),
        _ => 1,
    })
}

/// si_code of a signal the kernel sent (a terminal's Ctrl-C).
const SI_KERNEL: i32 = 0x80;

/// Blocks the signals a foreground `run` or `exec` passes on, and reads them from a signalfd.
struct Forwarder {
    fd: nix::sys::signalfd::SignalFd,
}

const FORWARDED: [nix::sys::signal::Signal; 9] = {
    use nix::sys::signal::Signal::*;
    [
        SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCHLD, SIGCONT,
    ]
};

impl Forwarder {
    fn new() -> Res<Forwarder> {
        let mut set = nix::sys::signal::SigSet::empty();
        for s in FORWARDED {
            set.add(s);
        }
        set.thread_block()?;
        let fd = nix::sys::signalfd::SignalFd::with_flags(
            &set,
            nix::sys::signalfd::SfdFlags::SFD_CLOEXEC | nix::sys::signalfd::SfdFlags::SFD_NONBLOCK,
        )?;
        Ok(Forwarder { fd })
    }

    /// Waits up to `timeout` for a signal (its number and si_code), or for `other` to be
    /// readable (then None).
    fn next(
        &self,
        other: Option<std::os::fd::BorrowedFd<'_>>,
        timeout: Option<Duration>,
    ) -> Res<Option<(i32, i32)>> {
        use nix::poll::{PollFd, PollFlags, PollTimeout};
        let mut fds = vec![PollFd::new(self.fd.as_fd(), PollFlags::POLLIN)];
        if let Some(o) = other {
            fds.push(PollFd::new(o, PollFlags::POLLIN));
        }
        let t = timeout.map_or(PollTimeout::NONE, |d| {
            PollTimeout::try_from(d.as_millis().min(60_000) as i32).unwrap_or(PollTimeout::NONE)
        });
        match nix::poll::poll(&mut fds, t) {
            Ok(_) | Err(nix::errno::Errno::EINTR) => {}
            Err(e) => return Err(e.into()),
        }
        match self.fd.read_signal() {
            Ok(Some(info)) => Ok(Some((info.ssi_signo as i32, info.ssi_code))),
            Ok(None) | Err(nix::errno::Errno::EAGAIN) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}

// ---- state, list, kill, delete ----

pub fn state_cmd(g: &Globals, id: &str) -> Res<u8> {
    let saved = load(g, id)?;
    let v = saved.oci_state();
    print!("{}", serde_json::to_string_pretty(&v)?);
    Ok(0)
}

pub fn list(g: &Globals, format: &str, quiet: bool) -> Res<u8> {
    let all = state::list(&g.root);
    if quiet {
        for s in &all {
            println!("{}", s.id);
        }
        return Ok(0);
    }
    match format {
        "json" => {
            let v: Vec<serde_json::Value> = all
                .iter()
                .map(|s| {
                    let mut v = s.oci_state();
                    v["owner"] = serde_json::json!(owner());
                    v
                })
                .collect();
            if v.is_empty() {
                println!("null");
            } else {
                println!("{}", serde_json::to_string(&v)?);
            }
        }
        "table" => {
            let mut rows = vec![[
                "ID".to_string(),
                "PID".into(),
                "STATUS".into(),
                "BUNDLE".into(),
                "CREATED".into(),
                "OWNER".into(),
            ]];
            for s in &all {
                let st = s.status();
                rows.push([
                    s.id.clone(),
                    if st == Status::Stopped { 0 } else { s.pid }.to_string(),
                    st.name().into(),
                    s.bundle.clone(),
                    s.created.clone(),
                    owner(),
                ]);
            }
            let widths: Vec<usize> = (0..6)
                .map(|i| rows.iter().map(|r| r[i].len()).max().unwrap_or(0))
                .collect();
            for r in rows {
                let mut line = String::new();
                for (i, cell) in r.iter().enumerate() {
                    line.push_str(cell);
                    if i < 5 {
                        line.push_str(&" ".repeat(widths[i].max(9) + 3 - cell.len()));
                    }
                }
                println!("{}", line.trim_end());
            }
        }
        f => return fail(format!("invalid format option {f:?}")),
    }
    Ok(0)
}

fn owner() -> String {
    let uid = nix::unistd::getuid();
    nix::unistd::User::from_uid(uid)
        .ok()
        .flatten()
        .map_or_else(|| uid.to_string(), |u| u.name)
}

/// A signal given as a number, a name, or a name without SIG.
pub fn parse_signal(s: &str) -> Res<i32> {
    if let Ok(n) = s.parse::<i32>() {
        if (1..=64).contains(&n) {
            return Ok(n);
        }
        return fail(format!("invalid signal {s:?}"));
    }
    let up = s.to_ascii_uppercase();
    let name = if up.starts_with("SIG") {
        up
    } else {
        format!("SIG{up}")
    };
    name.parse::<nix::sys::signal::Signal>()
        .map(|s| s as i32)
        .map_err(|_| Failure(format!("unknown signal {s:?}")))
}

pub fn kill(g: &Globals, id: &str, sig: &str, all: bool) -> Res<u8> {
    let saved = load(g, id)?;
    let sig = parse_signal(sig)?;
    if saved.status() == Status::Stopped {
        return fail("container not running");
    }
    if let Some(s) = &saved.sandbox {
        // A container of a pod: its processes are in the pod's Sentry. (If that Sentry is
        // gone, so are they: the waiting process ends with it.)
        let r = Request::KillContainer {
            id: id.to_string(),
            signal: sig,
            all,
        };
        if request_to(g, s, &r).is_err() && sig == libc::SIGKILL {
            nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(saved.pid),
                nix::sys::signal::Signal::SIGKILL,
            )?;
        }
        return Ok(0);
    }
    if sig == libc::SIGKILL {
        // Everything in the sandbox dies with the Sentry (its stubs and Gofer die with it).
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(saved.pid),
            nix::sys::signal::Signal::SIGKILL,
        )?;
        return Ok(0);
    }
    request_to(g, id, &Request::Kill { signal: sig, all })?;
    Ok(0)
}

pub fn delete(g: &Globals, id: &str, force: bool) -> Res<u8> {
    let saved = match load(g, id) {
        Ok(s) => s,
        // As runc: deleting what is not there succeeds with --force.
        Err(_) if force => {
            if check_id(id).is_ok() {
                let _ = std::fs::remove_dir_all(state::dir(&g.root, id));
            }
            return Ok(0);
        }
        Err(e) => return Err(e),
    };
    match saved.status() {
        Status::Stopped | Status::Created => {}
        s if !force => {
            return fail(format!(
                "cannot delete container {id} that is not stopped: {}",
                s.name()
            ))
        }
        _ => {}
    }
    destroy(g, &saved)?;
    Ok(0)
}

/// Kills the container if it still runs, waits for it, runs poststop hooks, removes its state.
fn destroy(g: &Globals, saved: &Saved) -> Res<()> {
    if let Some(s) = &saved.sandbox {
        if state::alive(saved.pid, saved.start_time) {
            // Its process goes (in the pod's Sentry); then its waiting process ends.
            let r = Request::KillContainer {
                id: saved.id.clone(),
                signal: libc::SIGKILL,
                all: true,
            };
            let _ = request_to(g, s, &r);
            if !state::wait_gone(saved.pid, saved.start_time, Duration::from_secs(5)) {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(saved.pid),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
        }
    }
    if state::alive(saved.pid, saved.start_time) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(saved.pid),
            nix::sys::signal::Signal::SIGKILL,
        );
        if !state::wait_gone(saved.pid, saved.start_time, Duration::from_secs(10)) {
            return fail(format!("container {} did not die", saved.id));
        }
    }
    if let Some(cg) = &saved.cgroup {
        cgroup::remove(Path::new(cg));
    }
    let hooks = saved.hooks.clone().unwrap_or_default();
    if let Err(Failure(e)) = run_hooks(hooks.poststop(), saved) {
        report(g, "warning", &e);
    }
    std::fs::remove_dir_all(state::dir(&g.root, &saved.id))?;
    Ok(())
}

// ---- policy ----

pub fn policy(g: &Globals, id: &str, file: &Path) -> Res<u8> {
    let saved = load(g, id)?;
    if saved.status() == Status::Stopped {
        return fail("container not running");
    }
    let text = std::fs::read_to_string(file)
        .map_err(|e| Failure(format!("reading {}: {e}", file.display())))?;
    let doc: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| Failure(format!("{}: {e}", file.display())))?;
    crate::netgofer::Policy::from_json(&doc)
        .map_err(|e| Failure(format!("{}: {e}", file.display())))?;
    // A pod's containers share their sandbox's network.
    request_to(g, saved.sentry_id(), &Request::Policy(doc))?;
    Ok(0)
}

// ---- pause, resume, ps ----

pub fn pause(g: &Globals, id: &str, pause: bool) -> Res<u8> {
    let mut saved = load(g, id)?;
    let st = saved.status();
    if pause && st != Status::Running {
        return fail("container not running");
    }
    if !pause && st != Status::Paused {
        return fail("container not paused");
    }
    if saved.sandbox.is_some() {
        return fail("pausing one container of a pod is not supported (pause its sandbox)");
    }
    request_to(
        g,
        id,
        if pause {
            &Request::Pause
        } else {
            &Request::Resume
        },
    )?;
    saved.paused = pause;
    state::save(&g.root, &saved)?;
    Ok(0)
}

pub fn ps(g: &Globals, id: &str, format: &str) -> Res<u8> {
    let saved = load(g, id)?;
    if saved.status() == Status::Stopped {
        if format == "json" {
            println!("[]");
            return Ok(0);
        }
        return fail("container not running");
    }
    let Reply::Procs(mut list) = request_to(g, saved.sentry_id(), &Request::Ps)? else {
        return fail("unexpected reply from the sandbox");
    };
    if let Some(pid) = saved.sandbox_pid {
        // A container of a pod: the processes of its process's session.
        list.retain(|p| p.pid == pid || p.sid == pid);
    }
    match format {
        // The host processes of the container: its Sentry (as runsc reports its sandbox).
        "json" => println!("[{}]", saved.pid),
        "table" => {
            println!("{:<8} {:<8} CMD", "PID", "PPID");
            for p in list {
                println!("{:<8} {:<8} {}", p.pid, p.ppid, p.comm);
            }
        }
        f => return fail(format!("invalid format option {f:?}")),
    }
    Ok(0)
}

// ---- exec ----

#[derive(Args, Debug)]
pub struct ExecArgs {
    /// Path to a process.json (instead of the command line).
    #[arg(long, short = 'p')]
    pub process: Option<PathBuf>,
    /// Return once the process has started (its PID goes to --pid-file).
    #[arg(long, short = 'd')]
    pub detach: bool,
    #[arg(long)]
    pub pid_file: Option<PathBuf>,
    #[arg(long)]
    pub console_socket: Option<PathBuf>,
    /// Allocate a pseudo-terminal.
    #[arg(long, short = 't')]
    pub tty: bool,
    #[arg(long)]
    pub cwd: Option<String>,
    /// Set an environment variable (repeatable).
    #[arg(long, short = 'e')]
    pub env: Vec<String>,
    /// UID[:GID].
    #[arg(long, short = 'u')]
    pub user: Option<String>,
    #[arg(long = "additional-gids", short = 'g')]
    pub additional_gids: Vec<u32>,
    /// Accepted for runc compatibility.
    #[arg(long)]
    pub no_new_privs: bool,
    /// Accepted for runc compatibility.
    #[arg(long = "cap", short = 'c')]
    pub caps: Vec<String>,
    /// Accepted for runc compatibility.
    #[arg(long)]
    pub process_label: Option<String>,
    /// Accepted for runc compatibility.
    #[arg(long)]
    pub apparmor: Option<String>,
    /// Accepted for runc compatibility.
    #[arg(long)]
    pub cgroup: Option<String>,
    /// Allow exec in a paused container (it runs once resumed).
    #[arg(long)]
    pub ignore_paused: bool,
    #[arg(long, default_value_t = 0)]
    pub preserve_fds: u32,
    /// Internal: tell this fd once the process has started (the detached exec's child).
    #[arg(long, hide = true)]
    pub ready_fd: Option<i32>,
    pub id: String,
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}

pub fn exec(g: &Globals, a: &ExecArgs) -> Res<u8> {
    let saved = load(g, &a.id)?;
    match saved.status() {
        Status::Running => {}
        Status::Paused if a.ignore_paused => {}
        Status::Paused => return fail("cannot exec in a paused container"),
        Status::Created | Status::Stopped => {
            return fail(format!(
                "cannot exec in a {} container",
                saved.status().name()
            ))
        }
    }
    let process = exec_process(&saved, a)?;
    let terminal = process.terminal().unwrap_or(false);
    if terminal && a.console_socket.is_none() && a.detach {
        return fail("cannot allocate tty if runc will detach without setting console socket");
    }
    if a.detach {
        return exec_detached(g, a, &saved, &process);
    }
    let pty = match (&a.console_socket, terminal) {
        (Some(s), true) => Some(console(s, &process)?),
        _ => None,
    };
    exec_wait(g, &saved, &process, pty, a.ready_fd)
}

/// The process an exec runs: from --process, or from the command line over config.json's.
fn exec_process(saved: &Saved, a: &ExecArgs) -> Res<oci_spec::runtime::Process> {
    if let Some(p) = &a.process {
        let bytes = std::fs::read(p)?;
        let process: oci_spec::runtime::Process = serde_json::from_slice(&bytes)
            .map_err(|e| Failure(format!("parsing {}: {e}", p.display())))?;
        spec::check_process(&process)?;
        return Ok(process);
    }
    if a.command.is_empty() {
        return fail("exec: command must not be empty");
    }
    let spec = spec::load(Path::new(&saved.bundle))?;
    let mut process = spec.process().clone().unwrap_or_default();
    process.set_args(Some(a.command.clone()));
    process.set_terminal(Some(a.tty));
    if let Some(cwd) = &a.cwd {
        process.set_cwd(PathBuf::from(cwd));
    }
    let mut env = process.env().clone().unwrap_or_default();
    for e in &a.env {
        let key = e.split('=').next().unwrap_or("");
        env.retain(|x| x.split('=').next() != Some(key));
        env.push(e.clone());
    }
    process.set_env(Some(env));
    let mut user = process.user().clone();
    if let Some(u) = &a.user {
        let (uid, gid) = match u.split_once(':') {
            Some((u, g)) => (u, Some(g)),
            None => (u.as_str(), None),
        };
        user.set_uid(
            uid.parse()
                .map_err(|_| Failure(format!("invalid user {u:?}")))?,
        );
        if let Some(g) = gid {
            user.set_gid(
                g.parse()
                    .map_err(|_| Failure(format!("invalid user {u:?}")))?,
            );
        }
    }
    if !a.additional_gids.is_empty() {
        user.set_additional_gids(Some(a.additional_gids.clone()));
    }
    process.set_user(user);
    spec::check_process(&process)?;
    Ok(process)
}

/// `exec --detach`: a child `runrs exec` holds the process (its PID is the one containerd's
/// shim waits for), and we return once the process has started.
fn exec_detached(
    g: &Globals,
    a: &ExecArgs,
    saved: &Saved,
    process: &oci_spec::runtime::Process,
) -> Res<u8> {
    let dir = state::dir(&g.root, &saved.id);
    let pfile = tempfile_in(&dir, "exec-", ".json")?;
    std::fs::write(&pfile, serde_json::to_vec(process)?)?;
    let (rd, wr, mut cmd) = child_with_ready_pipe(g)?;
    cmd.arg("exec")
        .arg("--process")
        .arg(&pfile)
        .arg("--ready-fd")
        .arg(wr.as_raw_fd().to_string());
    if let Some(s) = &a.console_socket {
        cmd.arg("--console-socket").arg(s);
    }
    cmd.arg(&saved.id);
    let child = cmd.spawn()?;
    drop(wr);
    let msg = boot::read_line(rd);
    let _ = std::fs::remove_file(&pfile);
    if !msg.trim().starts_with("ok ") {
        let mut child = child;
        let _ = child.wait();
        return fail(if msg.is_empty() {
            "exec failed".to_string()
        } else {
            msg
        });
    }
    if let Some(p) = &a.pid_file {
        write_pid_file(p, child.id() as i32)?;
    }
    Ok(0)
}

/// A pipe whose write end a child runrs inherits (to say it is ready), and the command for that
/// child with our global flags.
fn child_with_ready_pipe(g: &Globals) -> Res<(OwnedFd, OwnedFd, std::process::Command)> {
    let (rd, wr) = nix::unistd::pipe()?;
    nix::fcntl::fcntl(
        rd.as_raw_fd(),
        nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::FD_CLOEXEC),
    )?;
    let mut cmd = std::process::Command::new(std::env::current_exe()?);
    cmd.arg("--root").arg(&g.root);
    if let Some(l) = &g.log {
        cmd.arg("--log").arg(l);
    }
    if g.log_format == LogFormat::Json {
        cmd.arg("--log-format").arg("json");
    }
    Ok((rd, wr, cmd))
}

fn tempfile_in(dir: &Path, prefix: &str, suffix: &str) -> Res<PathBuf> {
    for i in 0..1000u32 {
        let p = dir.join(format!("{prefix}{}-{i}{suffix}", std::process::id()));
        if std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&p)
            .is_ok()
        {
            return Ok(p);
        }
    }
    fail("cannot make a temporary file")
}

/// Runs `process` in the sandbox and waits for it, passing signals on; exits with its status.
fn exec_wait(
    g: &Globals,
    saved: &Saved,
    process: &oci_spec::runtime::Process,
    pty: Option<OwnedFd>,
    ready_fd: Option<i32>,
) -> Res<u8> {
    let (mut req, stdio) = exec_request(process, pty.as_ref())?;
    if saved.sandbox.is_some() {
        // A container of a pod: its processes start in its own root.
        req.container = Some(saved.id.clone());
    }
    wait_in_sandbox(
        g,
        saved.sentry_id(),
        &Request::Exec(req),
        stdio,
        pty,
        ready_fd,
    )
}

/// The request for `process`, with our stdio (or the pty) to send with it.
fn exec_request(
    process: &oci_spec::runtime::Process,
    pty: Option<&OwnedFd>,
) -> Res<(control::ExecRequest, Vec<OwnedFd>)> {
    let stdio: Vec<OwnedFd> = match pty {
        Some(p) => (0..3).map(|_| p.try_clone()).collect::<Result<_, _>>()?,
        None => [
            std::io::stdin().as_fd().try_clone_to_owned()?,
            std::io::stdout().as_fd().try_clone_to_owned()?,
            std::io::stderr().as_fd().try_clone_to_owned()?,
        ]
        .into(),
    };
    let names = [0, 1, 2].map(|i| {
        std::fs::read_link(format!("/proc/self/fd/{}", stdio[i].as_raw_fd()))
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default()
    });
    let user = process.user();
    let req = control::ExecRequest {
        args: process.args().clone().unwrap_or_default(),
        env: process.env().clone().unwrap_or_default(),
        cwd: process.cwd().to_string_lossy().into_owned(),
        uid: user.uid(),
        gid: user.gid(),
        groups: user.additional_gids().clone().unwrap_or_default(),
        umask: user.umask(),
        stdio: [true; 3],
        stdio_names: names,
        terminal: pty.is_some(),
        container: None,
    };
    Ok((req, stdio))
}

/// Sends `request` (which starts a process) with `fds` to the Sentry of container `sentry_id`,
/// says "ok PID" on `ready_fd` once the process exists, then waits for it, passing our signals
/// on; returns its status as an exit code.
fn wait_in_sandbox(
    g: &Globals,
    sentry_id: &str,
    request: &Request,
    fds: Vec<OwnedFd>,
    pty: Option<OwnedFd>,
    ready_fd: Option<i32>,
) -> Res<u8> {
    let fwd = Forwarder::new()?;
    let raw: Vec<i32> = fds.iter().map(AsRawFd::as_raw_fd).collect();
    let ready_file = std::cell::RefCell::new(ready_fd.and_then(boot::inherited_fd));
    let ready = |msg: &str| {
        // Once, then closed: our parent waits for one line.
        if let Some(mut f) = ready_file.borrow_mut().take() {
            let _ = writeln!(f, "{msg}");
        }
    };
    // With a pty, this process takes it as its controlling terminal: a resize of the pty (the
    // console socket's holder sets the master's size) then sends us SIGWINCH, passed on to the
    // sandbox, whose console for the process follows the new size. Before the request: the
    // console reads the size when the process is made, and every resize after that point must
    // reach us (one in between was lost, and the guest saw 0x0 until the next).
    let _ctty = pty.filter(|p| {
        nix::unistd::setsid().is_ok() && sentry::host::set_controlling_terminal(p.as_fd()).is_ok()
    });
    let conn = match control::connect(&state::dir(&g.root, sentry_id), request, &raw) {
        Ok(c) => c,
        Err(e) => {
            let msg = format!("connecting to the sandbox: {e}");
            ready(&msg);
            return fail(msg);
        }
    };
    drop(fds);
    let pid = match control::read_reply(&conn)? {
        Some(Reply::Started { pid }) => pid,
        Some(Reply::Error(e)) => {
            ready(&e);
            return fail(e);
        }
        _ => {
            ready("the sandbox went away");
            return fail("the sandbox went away");
        }
    };
    ready(&format!("ok {pid}"));
    loop {
        if let Some((sig, _)) = fwd.next(Some(conn.as_fd()), None)? {
            if sig != libc::SIGCHLD {
                let _ = request_to(g, sentry_id, &Request::Signal { pid, signal: sig });
            }
            continue;
        }
        match control::read_reply(&conn) {
            Ok(Some(Reply::Exited { code, signal })) => {
                return Ok(if signal != 0 {
                    u8::try_from(128 + signal).unwrap_or(1)
                } else {
                    u8::try_from(code).unwrap_or(1)
                })
            }
            // The sandbox ended under the process.
            Ok(None) => return Ok(128 + 9),
            Ok(Some(_)) => {}
            Err(e) if e.raw_os_error() == Some(libc::EAGAIN) => {}
            Err(e) => return Err(e.into()),
        }
    }
}

// ---- hooks ----

/// Runs hooks in order with the container's state on stdin; the first failure stops them.
fn run_hooks(hooks: &Option<Vec<oci_spec::runtime::Hook>>, saved: &Saved) -> Res<()> {
    let state = saved.oci_state().to_string();
    for (i, h) in hooks.iter().flatten().enumerate() {
        run_hook(h, &state).map_err(|e| Failure(format!("error running hook #{i}: {e}")))?;
    }
    Ok(())
}

fn run_hook(h: &oci_spec::runtime::Hook, state: &str) -> Result<(), String> {
    use std::os::unix::process::CommandExt;
    use std::process::Stdio;
    let args = h.args().clone().unwrap_or_default();
    let mut cmd = std::process::Command::new(h.path());
    if let Some(a0) = args.first() {
        cmd.arg0(a0);
    }
    cmd.args(args.iter().skip(1))
        .env_clear()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for e in h.env().iter().flatten() {
        if let Some((k, v)) = e.split_once('=') {
            cmd.env(k, v);
        }
    }
    let mut child = cmd.spawn().map_err(|e| e.to_string())?;
    if let Some(mut stdin) = child.stdin.take() {
        // A hook that does not read its state is not an error.
        let _ = stdin.write_all(state.as_bytes());
    }
    let timeout = h
        .timeout()
        .and_then(|t| u64::try_from(t).ok())
        .filter(|&t| t > 0)
        .map(Duration::from_secs);
    let t0 = std::time::Instant::now();
    loop {
        if child.try_wait().map_err(|e| e.to_string())?.is_some() {
            break;
        }
        if timeout.is_some_and(|t| t0.elapsed() > t) {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "timeout after {} seconds",
                timeout.map_or(0, |t| t.as_secs())
            ));
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "{}, stdout: {}, stderr: {}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(())
}

// ---- spec, features, events ----

pub fn spec_cmd(bundle: Option<&Path>, rootless: bool) -> Res<u8> {
    let dir = bundle.map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let path = dir.join("config.json");
    if path.exists() {
        return fail("File config.json exists. Remove it first.");
    }
    let mut spec = oci_spec::runtime::Spec::default();
    spec.set_hostname(Some("runrs".into()));
    if let Some(p) = spec.process_mut() {
        p.set_terminal(Some(true));
        p.set_args(Some(vec!["sh".into()]));
    }
    if rootless {
        spec.set_uid_mappings(None);
    }
    let mut text = serde_json::to_string_pretty(&spec)?;
    text.push('\n');
    std::fs::write(&path, text)?;
    Ok(0)
}

pub fn features() -> Res<u8> {
    let v = serde_json::json!({
        "ociVersionMin": "1.0.0",
        "ociVersionMax": "1.1.0",
        "hooks": ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"],
        "mountOptions": ["bind", "rbind", "ro", "rw"],
        "linux": {
            "namespaces": ["mount", "pid", "ipc", "uts", "network"],
            "capabilities": [],
            "cgroup": { "v1": false, "v2": false, "systemd": false, "systemdUser": false },
            "seccomp": { "enabled": false },
            "apparmor": { "enabled": false },
            "selinux": { "enabled": false }
        },
        "annotations": {
            "dev.runrs.sandbox": "gVisor-style user-space kernel (runrs)"
        }
    });
    println!("{}", serde_json::to_string_pretty(&v)?);
    Ok(0)
}

/// `events --stats`: one stats document of the container's host processes (the Sentry, its
/// Gofer and stubs); without --stats, one every interval until the container stops.
pub fn events(g: &Globals, id: &str, stats: bool, interval: Duration) -> Res<u8> {
    loop {
        let saved = load(g, id)?;
        if saved.status() == Status::Stopped {
            return fail("container not running");
        }
        let (cpu_ns, rss) = host_usage(saved.pid);
        // The sandbox's own processes (paused or not, the Sentry answers).
        let pids = match request_to(g, saved.sentry_id(), &Request::Ps) {
            Ok(Reply::Procs(list)) => list.len(),
            _ => 0,
        };
        let v = serde_json::json!({
            "type": "stats",
            "id": id,
            "data": {
                "cpu": { "usage": { "total": cpu_ns } },
                "memory": { "usage": { "usage": rss } },
                "pids": { "current": pids }
            }
        });
        println!("{v}");
        if stats {
            return Ok(0);
        }
        std::thread::sleep(interval);
    }
}

/// CPU time (ns) and resident memory (bytes) of `pid` and its host descendants.
fn host_usage(pid: i32) -> (u64, u64) {
    let mut todo = vec![pid];
    let (mut cpu, mut rss) = (0u64, 0u64);
    let tick = 10_000_000u64; // USER_HZ = 100
    while let Some(p) = todo.pop() {
        if let Ok(s) = std::fs::read_to_string(format!("/proc/{p}/stat")) {
            if let Some(rest) = s.rfind(')').map(|i| &s[i + 1..]) {
                let f: Vec<&str> = rest.split_whitespace().collect();
                let n = |i: usize| f.get(i).and_then(|x| x.parse::<u64>().ok()).unwrap_or(0);
                // Fields after the name start at 3: utime 14, stime 15, rss 24.
                cpu += (n(11) + n(12)) * tick;
                rss += n(21) * 4096;
            }
        }
        if let Ok(c) = std::fs::read_to_string(format!("/proc/{p}/task/{p}/children")) {
            todo.extend(c.split_whitespace().filter_map(|x| x.parse::<i32>().ok()));
        }
    }
    (cpu, rss)
}
