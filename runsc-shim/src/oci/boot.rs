//! The container's Sentry (`runrs boot`, started by `runrs create`): sets up the sandbox from
//! the bundle, tells `create` it is ready (or why not) on an inherited pipe, locks itself down
//! and serves its control socket until the container's process ends; its exit status is the
//! process's (128+N for signal N).

use super::{spec, state, Failure, Globals, Res};
use sentry::kernel::{Identity, VolumeConfig};
use sentry::{Config, Overlay, Program, Sandbox};
use std::io::{Read as _, Write as _};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct BootArgs {
    #[arg(long)]
    pub bundle: std::path::PathBuf,
    /// The pipe to `runrs create`: one line, `ok` or the error.
    #[arg(long)]
    pub ready_fd: i32,
    /// Our stdio is a pty made for the container (its master went to the console socket).
    #[arg(long)]
    pub console: bool,
    pub id: String,
}

/// Starts the Sentry of container `id` and waits until it is ready; returns it, its PID and
/// start time.
pub fn spawn(
    g: &Globals,
    id: &str,
    bundle: &Path,
    tty: Option<OwnedFd>,
) -> Res<(std::process::Child, i32, u64)> {
    let (rd, wr, mut cmd) = super::child_with_ready_pipe(g)?;
    cmd.arg("boot")
        .arg("--bundle")
        .arg(bundle)
        .arg("--ready-fd")
        .arg(wr.as_raw_fd().to_string());
    if tty.is_some() {
        cmd.arg("--console");
    }
    cmd.arg(id);
    if let Some(t) = tty {
        cmd.stdin(t.try_clone()?).stdout(t.try_clone()?).stderr(t);
    }
    let mut child = cmd.spawn()?;
    drop(wr);
    let msg = read_line(rd);
    if msg != "ok" {
        let _ = child.kill();
        let _ = child.wait();
        return Err(Failure(if msg.is_empty() {
            "the sandbox failed to start".into()
        } else {
            msg
        }));
    }
    let pid = i32::try_from(child.id()).map_err(|e| Failure(e.to_string()))?;
    let start_time = state::proc_stat(pid)
        .map(|(_, t)| t)
        .ok_or_else(|| Failure("the sandbox died at start".into()))?;
    Ok((child, pid, start_time))
}

/// Reads one line (without its newline) from a ready pipe; empty if it closed first.
pub fn read_line(fd: OwnedFd) -> String {
    let mut f = std::fs::File::from(fd);
    let mut out = Vec::new();
    let mut b = [0u8; 1];
    while out.len() < 65536 {
        match f.read(&mut b) {
            Ok(1) if b[0] != b'\n' => out.push(b[0]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The inherited fd `fd` (a ready pipe), reopened as a file of our own and closed.
pub fn inherited_fd(fd: i32) -> Option<std::fs::File> {
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(format!("/proc/self/fd/{fd}"))
        .ok();
    let _ = nix::unistd::close(fd);
    f
}

pub fn boot(g: &Globals, a: &BootArgs) -> ExitCode {
    let mut ready = inherited_fd(a.ready_fd);
    let mut tell = |msg: &str| {
        if let Some(mut f) = ready.take() {
            let _ = writeln!(f, "{msg}");
        }
    };
    match setup(g, a) {
        Ok(sandbox) => {
            tell("ok");
            match sandbox.run() {
                Ok(status) => {
                    tracing::info!(?status, "container process exited");
                    ExitCode::from(u8::try_from(status.shell_code()).unwrap_or(255))
                }
                Err(e) => {
                    tracing::error!("running the sandbox: {e}");
                    ExitCode::from(255)
                }
            }
        }
        Err(Failure(msg)) => {
            tell(&msg);
            ExitCode::from(1)
        }
    }
}

fn setup(g: &Globals, a: &BootArgs) -> Res<Sandbox> {
    // `run` and `exec` block the signals they pass on; ours are the guest's.
    nix::sys::signal::SigSet::all().thread_unblock()?;
    init_logging(g)?;
    let bundle = a.bundle.as_path();
    let spec = spec::load(bundle)?;
    spec::validate(&spec)?;
    let process = spec.process().clone().unwrap_or_default();
    if a.console {
        // Our stdio is the container's pty: its Ctrl-C and resizes come to us, for the guest.
        nix::unistd::setsid()?;
        sentry::host::set_controlling_terminal(std::io::stdin().as_fd())
            .map_err(|e| Failure(format!("controlling terminal: {e}")))?;
    }
    // CPU limits: the Sentry joins its host cgroup before it makes any process (its Gofers and
    // stubs are born inside).
    if let Some(cpu) = super::cgroup::Cpu::from_spec(&spec) {
        let dir = super::cgroup::path_for(&spec, &a.id).ok_or_else(|| {
            Failure("linux.resources.cpu: no cpu cgroup controller on this host".into())
        })?;
        super::cgroup::join(&dir, &cpu).map_err(Failure)?;
    }
    let rootfs = spec::rootfs(&spec, bundle);
    let readonly = spec::root_readonly(&spec);
    let mounts = spec::mounts(&spec, bundle);
    for s in &mounts.skipped {
        tracing::warn!("mount {s}");
    }
    // The control socket, in the state directory (bound by a relative name).
    let dir = state::dir(&g.root, &a.id);
    std::env::set_current_dir(&dir)?;
    let listener = sentry::control::listen(Path::new(sentry::control::SOCKET_NAME))
        .map_err(|e| Failure(format!("control socket: {e}")))?;
    std::env::set_current_dir("/")?;
    let gofer_mounts = mounts.gofer_mounts(&rootfs);
    let cpu = nix::sched::sched_getcpu().unwrap_or(0);
    // The net gofer, if the annotations ask for a network (it dies with us, as the Gofer).
    let net = match spec::network_policy(&spec)? {
        Some(p) => Some(
            crate::netgofer::start(&p)
                .map_err(|e| Failure(format!("{e:#}")))?
                .0,
        ),
        None => None,
    };
    let (channel, gofer) = crate::start_gofer(&gofer_mounts, Some(cpu), true)
        .map_err(|e| Failure(format!("{e:#}")))?;
    // The Gofer dies with us (PDEATHSIG); nobody waits for it but the shim, which reaps.
    drop(gofer);
    let config = Config {
        sysctl: spec::sysctl(&spec)?,
        masked: spec::masked_paths(&spec),
        store: None,
        hostname: spec.hostname().clone().unwrap_or_else(|| "runrs".into()),
        strace: None,
        placement: platform::CpuPlacement::SameCore(cpu),
        memory_size: 256 << 30,
        gofer: channel,
        overlay: if readonly {
            Overlay::None
        } else {
            Overlay::Memory
        },
        tmpfs_size: 2 << 30,
        host_vdso: true,
        volumes: mounts
            .binds
            .iter()
            .map(|b| VolumeConfig {
                guest_path: b.guest.clone(),
                readonly: b.readonly,
                overlay: false,
            })
            .collect(),
        tmpfs_mounts: mounts.tmpfs.clone(),
        files: mounts.files.clone(),
        controlled: true,
        net,
        limits: spec::limits(&spec),
        audit: None,
        lock_down: true,
        net_ns_of: None,
    };
    let user = process.user();
    let args = process.args().clone().unwrap_or_default();
    let rlimits = spec::rlimits(&process)?
        .into_iter()
        .map(|(i, cur, max)| (i, abi::Rlimit { cur, max }))
        .collect();
    let program = Program {
        path: args.first().cloned().unwrap_or_default().into_bytes(),
        argv: args.iter().map(|a| a.clone().into_bytes()).collect(),
        envp: process
            .env()
            .iter()
            .flatten()
            .map(|e| e.clone().into_bytes())
            .collect(),
        cwd: process.cwd().as_os_str().as_bytes().to_vec(),
        stdio: [
            std::io::stdin().as_fd_owned(),
            std::io::stdout().as_fd_owned(),
            std::io::stderr().as_fd_owned(),
        ],
        stdio_names: None,
        identity: Some(Identity {
            ruid: user.uid(),
            euid: user.uid(),
            suid: user.uid(),
            rgid: user.gid(),
            egid: user.gid(),
            sgid: user.gid(),
            groups: user.additional_gids().clone().unwrap_or_default(),
        }),
        rlimits,
        umask: user.umask(),
        // The container's pty is relayed to a terminal of the sandbox (its line discipline,
        // job control and /dev/pts are the sandbox's).
        terminal: a.console,
    };
    // Before the lockdown (in Sandbox::new): the serving thread is made with clone3.
    sentry::control::serve(listener)?;
    let sandbox = Sandbox::new(config, program).map_err(|e| match e {
        sentry::kernel::StartError::Exec { path, errno } => {
            let msg = if errno.code == libc::ENOENT && !path.contains('/') {
                "executable file not found in $PATH".to_string()
            } else {
                errno.description().to_lowercase()
            };
            Failure(format!(
                "unable to start container process: exec: {path:?}: {msg}"
            ))
        }
        e => Failure(format!("unable to start container process: {e}")),
    })?;
    Ok(sandbox)
}

trait AsFdOwned {
    fn as_fd_owned(&self) -> Option<OwnedFd>;
}

impl<T: std::os::fd::AsFd> AsFdOwned for T {
    fn as_fd_owned(&self) -> Option<OwnedFd> {
        self.as_fd().try_clone_to_owned().ok()
    }
}

/// The Sentry's log: JSON lines into `--log` (warnings and up), else errors to stderr.
fn init_logging(g: &Globals) -> Res<()> {
    use tracing_subscriber::{fmt, EnvFilter};
    let filter = EnvFilter::try_from_env("RUNRS_LOG")
        .unwrap_or_else(|_| EnvFilter::new(if g.log.is_some() { "warn" } else { "error" }));
    match &g.log {
        Some(p) => {
            let f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)?;
            let _ = fmt()
                .json()
                .with_env_filter(filter)
                .with_writer(std::sync::Mutex::new(f))
                .try_init();
        }
        None => {
            let _ = fmt()
                .with_env_filter(filter)
                .with_writer(std::io::stderr)
                .try_init();
        }
    }
    Ok(())
}
