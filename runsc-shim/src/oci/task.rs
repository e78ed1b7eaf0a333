//! The containerd shim v2 task service of `containerd-shim-runrs-v1`, on the `containerd-shim`
//! crate (which serves ttrpc, parses the shim's flags, reaps children and publishes events).
//!
//! One shim serves a sandbox: under CRI, containerd calls `start` once per container of a pod,
//! and the shim hands back the address of the pod's shim (grouping by the
//! `io.kubernetes.cri.sandbox-id` annotation), so the pod's containers are tasks of one shim
//! process, and of one Sentry (see `pod_sandbox` in the parent module).
//!
//! Each task operation runs the runrs binary's own OCI verbs (`create`, `start`, `exec`,
//! `kill`, `delete`, `ps`, `pause`, `resume`, `events --stats`) with `--root
//! /run/containerd/runrs/NAMESPACE`, as containerd's runc shim runs runc. The shim is a child
//! subreaper: a container's process (its Sentry, or for a container of a pod its
//! `container-wait`) and an exec's waiting `runrs exec` become its children, and their exit
//! statuses are the tasks' (reaped by the crate, which tells every subscriber of its monitor).
//!
//! I/O: containerd names FIFOs (or nothing). Without a terminal, stdout and stderr are the FIFOs
//! themselves, opened read-write so that the open never waits for containerd's reader; stdin is
//! a pipe the shim fills from the FIFO, so that `close_io` (and the FIFO's end) give the guest
//! EOF. With a terminal, runrs sends the sandbox terminal's master over a console socket and the
//! shim copies between it and the FIFOs; `resize_pty` sets its size.

use containerd_shim as shim;
use shim::monitor::{Subject, Topic};
use shim::protos::cgroups::metrics::Metrics;
use shim::protos::events::task::{
    TaskCreate, TaskDelete, TaskExecAdded, TaskExecStarted, TaskExit, TaskIO, TaskPaused,
    TaskResumed, TaskStart,
};
use shim::protos::protobuf::well_known_types::timestamp::Timestamp;
use shim::protos::protobuf::{EnumOrUnknown, MessageDyn, MessageField};
use shim::protos::topics;
use shim::protos::ttrpc;
use shim::publisher::RemotePublisher;
use shim::{api, DeleteResponse, ExitSignal, Flags, StartOpts, TtrpcContext, TtrpcResult};
use std::collections::{HashMap, VecDeque};
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

pub const RUNTIME_ID: &str = "io.containerd.runrs.v1";

/// Set in the environment of the shim daemon the crate spawns (it runs the current executable,
/// which is runrs itself, not the `containerd-shim-runrs-v1` link).
pub const SHIM_ENV: &str = "RUNRS_CONTAINERD_SHIM";

/// Exits of pids no task claimed yet (kept a while: an exec's process can end before its
/// `runrs exec --detach` has told us its pid).
const UNCLAIMED_MAX: usize = 1024;

/// How long an unclaimed exit is kept (a task claims its pid within milliseconds of learning it).
const UNCLAIMED_FOR: std::time::Duration = std::time::Duration::from_secs(30);

/// The `containerd-shim-runrs-v1` entry point.
pub fn main() -> std::process::ExitCode {
    let config = shim::Config {
        // The crate's logger writes to the `log` FIFO containerd opens in the bundle.
        no_setup_logger: false,
        ..Default::default()
    };
    shim::run::<Service>(RUNTIME_ID, Some(config));
    std::process::ExitCode::SUCCESS
}

#[derive(Clone)]
pub struct Service {
    inner: Arc<Inner>,
}

struct Inner {
    exit: ExitSignal,
    namespace: String,
    runrs: PathBuf,
    root: PathBuf,
    publisher: Mutex<Option<RemotePublisher>>,
    tasks: Mutex<Tasks>,
    changed: Condvar,
}

#[derive(Default)]
struct Tasks {
    containers: HashMap<String, Container>,
    /// (pid, exit code, when): exits no task has claimed yet.
    unclaimed: VecDeque<(u32, i32, std::time::Instant)>,
}

struct Container {
    bundle: PathBuf,
    /// The rootfs the shim mounted (unmounted at delete).
    mounted: Option<PathBuf>,
    init: Proc,
    execs: HashMap<String, Proc>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Created,
    Running,
    Paused,
    Stopped,
}

struct Proc {
    pid: u32,
    state: State,
    exit: Option<(u32, Timestamp)>,
    io: ProcIo,
    /// The write end of the guest's stdin pipe (None: closed, or no stdin).
    stdin: Arc<Mutex<Option<File>>>,
    /// The sandbox terminal's master, with a terminal.
    console: Option<Arc<File>>,
    /// An exec's process spec (a file in the bundle), until it starts.
    spec: Option<PathBuf>,
}

#[derive(Clone, Default)]
struct ProcIo {
    stdin: String,
    stdout: String,
    stderr: String,
    terminal: bool,
}

fn err(code: ttrpc::Code, msg: impl Into<String>) -> ttrpc::Error {
    ttrpc::Error::RpcStatus(ttrpc::get_status(code, msg.into()))
}

fn not_found(id: &str) -> ttrpc::Error {
    err(ttrpc::Code::NOT_FOUND, format!("container {id}: not found"))
}

fn now() -> Timestamp {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let mut t = Timestamp::new();
    t.seconds = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
    t.nanos = i32::try_from(d.subsec_nanos()).unwrap_or(0);
    t
}

impl shim::Shim for Service {
    type T = Service;

    fn new(_runtime_id: &str, args: &Flags, _config: &mut shim::Config) -> Self {
        let runrs = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("runrs"));
        Service {
            inner: Arc::new(Inner {
                exit: ExitSignal::default(),
                namespace: args.namespace.clone(),
                runrs,
                root: Path::new("/run/containerd/runrs").join(&args.namespace),
                publisher: Mutex::new(None),
                tasks: Mutex::new(Tasks::default()),
                changed: Condvar::new(),
            }),
        }
    }

    fn start_shim(&mut self, opts: StartOpts) -> Result<String, shim::Error> {
        // The containers of a pod share the pod's shim (containerd runs this in the bundle).
        let grouping = std::fs::read("config.json")
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .and_then(|spec| {
                let ann = &spec["annotations"];
                [
                    "io.kubernetes.cri.sandbox-id",
                    "io.kubernetes.cri-o.SandboxID",
                ]
                .iter()
                .find_map(|k| ann[*k].as_str().map(str::to_string))
            })
            .unwrap_or_else(|| opts.id.clone());
        let (_pid, address) = shim::spawn(opts, &grouping, vec![(SHIM_ENV, "1")])?;
        Ok(address)
    }

    fn delete_shim(&mut self) -> Result<DeleteResponse, shim::Error> {
        // containerd's cleanup after a shim that died: take down what is left of the container.
        let id = std::env::args()
            .skip_while(|a| a != "-id")
            .nth(1)
            .unwrap_or_default();
        if !id.is_empty() {
            let _ = self.inner.runrs(&["delete", "--force", &id]);
        }
        if let Ok(cwd) = std::env::current_dir() {
            unmount(&cwd.join("rootfs"));
        }
        let mut r = DeleteResponse::new();
        r.exit_status = 128 + 9;
        r.exited_at = MessageField::some(now());
        Ok(r)
    }

    fn wait(&mut self) {
        self.inner.exit.wait();
    }

    fn create_task_service(&self, publisher: RemotePublisher) -> Self::T {
        *lock(&self.inner.publisher) = Some(publisher);
        let inner = self.inner.clone();
        // Subscribed before any task exists: no exit is missed.
        match shim::monitor::monitor_subscribe(Topic::Pid) {
            Ok(sub) => {
                std::thread::spawn(move || {
                    while let Ok(e) = sub.rx.recv() {
                        if let Subject::Pid(pid) = e.subject {
                            inner.exited(u32::try_from(pid).unwrap_or(0), e.exit_code);
                        }
                    }
                });
            }
            Err(e) => log::error!("subscribing to exits: {e}"),
        }
        self.clone()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Inner {
    /// Runs `runrs --root ROOT ARGS` to its end: its stdout, or its error (stderr's last line).
    fn runrs(&self, args: &[&str]) -> Result<String, ttrpc::Error> {
        self.runrs_with(args, None)
    }

    /// As [`Inner::runrs`], handing the command `stdio` (the guest's: runrs's own messages then
    /// go to a JSON log, read back for the error).
    fn runrs_with(&self, args: &[&str], stdio: Option<Stdio3>) -> Result<String, ttrpc::Error> {
        // The crate's reaper takes every child's status: ask its monitor, subscribed first.
        let sub = shim::monitor::monitor_subscribe(Topic::Pid).map_err(internal)?;
        let mut cmd = Command::new(&self.runrs);
        cmd.arg("--root").arg(&self.root);
        let (out_r, out_w) = std::io::pipe().map_err(internal)?;
        let (err_r, err_w) = std::io::pipe().map_err(internal)?;
        let log = stdio.as_ref().map(|_| {
            self.root.join(format!(
                ".log-{}-{}",
                std::process::id(),
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap_or_default()
                    .as_nanos()
            ))
        });
        if let Some(l) = &log {
            std::fs::create_dir_all(&self.root).map_err(internal)?;
            cmd.arg("--log").arg(l).args(["--log-format", "json"]);
        }
        cmd.args(args).env_remove(SHIM_ENV);
        match stdio {
            Some(Stdio3(i, o, e)) => {
                drop((out_w, err_w));
                cmd.stdin(i).stdout(o).stderr(e);
            }
            None => {
                cmd.stdin(Stdio::null()).stdout(out_w).stderr(err_w);
            }
        }
        let child = cmd.spawn().map_err(internal);
        drop(cmd);
        let r = child.and_then(|c| self.finish(c.id(), sub, out_r, err_r, args, log.as_deref()));
        if let Some(l) = &log {
            let _ = std::fs::remove_file(l);
        }
        r
    }

    fn finish(
        &self,
        pid: u32,
        sub: shim::monitor::Subscription,
        mut out_r: std::io::PipeReader,
        mut err_r: std::io::PipeReader,
        args: &[&str],
        log: Option<&Path>,
    ) -> Result<String, ttrpc::Error> {
        let errs = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = err_r.read_to_string(&mut s);
            s
        });
        let mut out = String::new();
        let _ = out_r.read_to_string(&mut out);
        let stderr = errs.join().unwrap_or_default();
        let code = shim::monitor::wait_pid(i32::try_from(pid).unwrap_or(0), sub);
        self.forget(pid);
        if code == 0 {
            return Ok(out);
        }
        let logged = log
            .and_then(|l| std::fs::read_to_string(l).ok())
            .and_then(|text| {
                text.lines()
                    .rev()
                    .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
                    .find(|v| v["level"] == "error")
                    .and_then(|v| v["msg"].as_str().map(str::to_string))
            });
        let msg = logged
            .as_deref()
            .unwrap_or(&stderr)
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("failed")
            .to_string();
        log::warn!("runrs {}: {msg}", args.join(" "));
        let code = if msg.contains("does not exist") || msg.contains("not found") {
            ttrpc::Code::NOT_FOUND
        } else if msg.contains("not running") || msg.contains("running") {
            ttrpc::Code::FAILED_PRECONDITION
        } else {
            ttrpc::Code::UNKNOWN
        };
        Err(err(code, format!("runrs {}: {msg}", args[0])))
    }

    /// A pid's exit the reaper reported: the task's, if one has that pid; else kept a while.
    fn exited(&self, pid: u32, code: i32) {
        let mut tasks = lock(&self.tasks);
        let status = code.cast_unsigned();
        let mut done = None;
        for (cid, c) in &mut tasks.containers {
            let procs = std::iter::once((cid.clone(), &mut c.init))
                .chain(c.execs.iter_mut().map(|(eid, p)| (eid.clone(), p)));
            for (eid, p) in procs {
                if p.pid == pid && p.exit.is_none() && pid != 0 {
                    let at = now();
                    p.exit = Some((status, at.clone()));
                    p.state = State::Stopped;
                    done = Some((cid.clone(), eid, at));
                }
            }
        }
        match done {
            // (When a container's process ends, its execs' waiting `runrs exec` processes end
            // too, each with its own status.)
            Some((cid, eid, at)) => {
                drop(tasks);
                self.publish_exit(cid, eid, pid, status, at);
            }
            None => {
                tasks
                    .unclaimed
                    .push_back((pid, code, std::time::Instant::now()));
                if tasks.unclaimed.len() > UNCLAIMED_MAX {
                    tasks.unclaimed.pop_front();
                }
                drop(tasks);
            }
        }
        self.changed.notify_all();
    }

    /// Drops a pid's unclaimed exit (one of our own runrs commands).
    fn forget(&self, pid: u32) {
        lock(&self.tasks).unclaimed.retain(|(p, ..)| *p != pid);
    }

    /// The exit of `pid` if it ended before a task claimed it (taken).
    fn claim(tasks: &mut Tasks, pid: u32) -> Option<i32> {
        // An old one is a runrs command's whose pid the host has given out again since.
        tasks
            .unclaimed
            .retain(|(_, _, at)| at.elapsed() < UNCLAIMED_FOR);
        let i = tasks.unclaimed.iter().position(|(x, ..)| *x == pid)?;
        tasks.unclaimed.remove(i).map(|(_, code, _)| code)
    }

    /// The `/tasks/exit` event of process `id` (the container's id for its own process) of
    /// container `cid`.
    fn publish_exit(&self, cid: String, id: String, pid: u32, status: u32, at: Timestamp) {
        let mut e = TaskExit::new();
        e.container_id = cid;
        e.id = id;
        e.pid = pid;
        e.exit_status = status;
        e.exited_at = MessageField::some(at);
        self.publish(topics::TASK_EXIT_EVENT_TOPIC, Box::new(e));
    }

    fn publish(&self, topic: &str, event: Box<dyn MessageDyn>) {
        if let Some(p) = lock(&self.publisher).as_ref() {
            if let Err(e) = p.publish(shim::Context::default(), topic, &self.namespace, event) {
                log::warn!("publishing {topic}: {e}");
            }
        }
    }
}

fn internal(e: impl std::fmt::Display) -> ttrpc::Error {
    err(ttrpc::Code::INTERNAL, e.to_string())
}

/// The stdio a runrs command hands its process.
struct Stdio3(Stdio, Stdio, Stdio);

/// A process's stdio from containerd's FIFOs: what runrs hands the guest, and the shim's side
/// (stdin's pipe, and for a terminal the FIFOs it copies to and from).
struct Opened {
    guest: Stdio3,
    stdin: Arc<Mutex<Option<File>>>,
    /// With a terminal: the console socket's directory and listener.
    console: Option<(PathBuf, std::os::unix::net::UnixListener)>,
}

/// Opens `path` (a FIFO or file:// URI) for the guest to write.
fn open_output(path: &str) -> Result<Stdio, ttrpc::Error> {
    Ok(output_file(path)?.map_or_else(Stdio::null, Stdio::from))
}

/// `path` (a FIFO, or a file:// URI: appended to, made if missing) opened for writing; None
/// for no path. A FIFO is opened read-write, so the open does not wait for its reader.
fn output_file(path: &str) -> Result<Option<File>, ttrpc::Error> {
    if path.is_empty() {
        return Ok(None);
    }
    let file_uri = path.starts_with("file://");
    let p = path.strip_prefix("file://").unwrap_or(path);
    if p.contains("://") {
        return Err(err(
            ttrpc::Code::UNIMPLEMENTED,
            format!("{path}: only FIFOs and file:// are supported"),
        ));
    }
    std::fs::OpenOptions::new()
        .read(!file_uri)
        .write(true)
        .append(file_uri)
        .create(file_uri)
        .open(p)
        .map(Some)
        .map_err(|e| internal(format!("{p}: {e}")))
}

/// Copies the stdin FIFO into `to` until it ends (then closes `to`, the guest's EOF).
fn pump_stdin(fifo: String, to: Arc<Mutex<Option<File>>>) {
    std::thread::spawn(move || {
        // Blocks until containerd opens its end.
        let Ok(mut f) = File::open(&fifo) else {
            return;
        };
        let mut buf = vec![0u8; 32 * 1024];
        loop {
            let n = match f.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let mut w = lock(&to);
            let Some(out) = w.as_mut() else { break };
            if out.write_all(&buf[..n]).is_err() {
                break;
            }
        }
        lock(&to).take();
    });
}

fn open_io(io: &ProcIo, dir: &Path) -> Result<Opened, ttrpc::Error> {
    let stdin = Arc::new(Mutex::new(None));
    if io.terminal {
        // Short: a socket's path has at most 107 bytes (bundles' paths are long).
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let sock_dir = dir.join(format!(".c{}-{n}", std::process::id()));
        std::fs::create_dir_all(&sock_dir).map_err(internal)?;
        let l = std::os::unix::net::UnixListener::bind(sock_dir.join("console.sock"))
            .map_err(internal)?;
        return Ok(Opened {
            guest: Stdio3(Stdio::null(), Stdio::null(), Stdio::null()),
            stdin,
            console: Some((sock_dir, l)),
        });
    }
    let guest_in = if io.stdin.is_empty() {
        Stdio::null()
    } else {
        let (r, w) = std::io::pipe().map_err(internal)?;
        *lock(&stdin) = Some(File::from(OwnedFd::from(w)));
        pump_stdin(io.stdin.clone(), stdin.clone());
        r.into()
    };
    Ok(Opened {
        guest: Stdio3(guest_in, open_output(&io.stdout)?, open_output(&io.stderr)?),
        stdin,
        console: None,
    })
}

/// Takes the terminal master runrs sent to the console socket, and copies between it and the
/// FIFOs.
fn take_console(
    io: &ProcIo,
    (dir, l): (PathBuf, std::os::unix::net::UnixListener),
    stdin: &Arc<Mutex<Option<File>>>,
) -> Result<Arc<File>, ttrpc::Error> {
    l.set_nonblocking(true).map_err(internal)?;
    let conn = l.accept();
    let _ = std::fs::remove_dir_all(&dir);
    let (conn, _) = conn.map_err(|e| internal(format!("no terminal from runrs: {e}")))?;
    conn.set_nonblocking(false).map_err(internal)?;
    let (_, fd) = gofer::Channel::from_fd(conn.into())
        .recv()
        .map_err(internal)?
        .ok_or_else(|| internal("runrs sent no terminal"))?;
    let master = Arc::new(File::from(
        fd.ok_or_else(|| internal("runrs sent no terminal"))?,
    ));
    if !io.stdin.is_empty() {
        let w = master.try_clone().map_err(internal)?;
        *lock(stdin) = Some(w);
        pump_stdin(io.stdin.clone(), stdin.clone());
    }
    if let Some(mut out) = output_file(&io.stdout)? {
        let mut from = master.try_clone().map_err(internal)?;
        std::thread::spawn(move || {
            let _ = std::io::copy(&mut from, &mut out);
        });
    }
    Ok(master)
}

/// Mounts containerd's rootfs mounts at `target`.
fn mount_rootfs(
    mounts: &[shim::protos::types::mount::Mount],
    target: &Path,
) -> Result<(), ttrpc::Error> {
    for m in mounts {
        let ty = (!m.type_.is_empty()).then_some(m.type_.as_str());
        let src = (!m.source.is_empty()).then_some(m.source.as_str());
        shim::mount::mount_rootfs(ty, src, &m.options, target)
            .map_err(|e| internal(format!("mounting the rootfs: {e}")))?;
    }
    Ok(())
}

fn unmount(target: &Path) {
    // Lazily, as runc's shim: a process of the image may still hold it.
    while nix::mount::umount2(target, nix::mount::MntFlags::MNT_DETACH).is_ok() {}
}

impl Service {
    fn with_proc<R>(
        &self,
        id: &str,
        exec_id: &str,
        f: impl FnOnce(&mut Container, Option<&str>) -> Result<R, ttrpc::Error>,
    ) -> Result<R, ttrpc::Error> {
        let mut tasks = lock(&self.inner.tasks);
        let c = tasks.containers.get_mut(id).ok_or_else(|| not_found(id))?;
        if !exec_id.is_empty() && !c.execs.contains_key(exec_id) {
            return Err(err(
                ttrpc::Code::NOT_FOUND,
                format!("process {exec_id}: not found"),
            ));
        }
        f(c, (!exec_id.is_empty()).then_some(exec_id))
    }
}

fn proc_of<'a>(c: &'a mut Container, exec: Option<&str>) -> &'a mut Proc {
    match exec {
        Some(e) => c.execs.get_mut(e).unwrap_or(&mut c.init),
        None => &mut c.init,
    }
}

fn status_of(s: State) -> EnumOrUnknown<api::Status> {
    EnumOrUnknown::new(match s {
        State::Created => api::Status::CREATED,
        State::Running => api::Status::RUNNING,
        State::Paused => api::Status::PAUSED,
        State::Stopped => api::Status::STOPPED,
    })
}

impl shim::Task for Service {
    fn create(
        &self,
        _ctx: &TtrpcContext,
        req: api::CreateTaskRequest,
    ) -> TtrpcResult<api::CreateTaskResponse> {
        if !req.checkpoint.is_empty() {
            return Err(err(ttrpc::Code::UNIMPLEMENTED, "checkpoints"));
        }
        let bundle = PathBuf::from(&req.bundle);
        let rootfs = bundle.join("rootfs");
        let mounted = if req.rootfs.is_empty() {
            None
        } else {
            std::fs::create_dir_all(&rootfs).map_err(internal)?;
            if let Err(e) = mount_rootfs(&req.rootfs, &rootfs) {
                unmount(&rootfs);
                return Err(e);
            }
            Some(rootfs.clone())
        };
        let io = ProcIo {
            stdin: req.stdin.clone(),
            stdout: req.stdout.clone(),
            stderr: req.stderr.clone(),
            terminal: req.terminal,
        };
        let result = (|| {
            let opened = open_io(&io, &self.inner.root)?;
            let pid_file = bundle.join("init.pid");
            let pid_arg = pid_file.to_string_lossy().into_owned();
            let bundle_arg = req.bundle.clone();
            let mut args = vec!["create", "--bundle", &bundle_arg, "--pid-file", &pid_arg];
            let sock;
            if let Some((dir, _)) = &opened.console {
                sock = dir.join("console.sock").to_string_lossy().into_owned();
                args.extend(["--console-socket", &sock]);
            }
            args.push(&req.id);
            self.inner.runrs_with(&args, Some(opened.guest))?;
            let pid: u32 = std::fs::read_to_string(&pid_file)
                .ok()
                .and_then(|s| s.trim().parse().ok())
                .ok_or_else(|| internal("runrs create wrote no pid"))?;
            let console = match opened.console {
                Some(c) => Some(take_console(&io, c, &opened.stdin)?),
                None => None,
            };
            Ok::<_, ttrpc::Error>((pid, opened.stdin, console))
        })();
        let (pid, stdin, console) = match result {
            Ok(r) => r,
            Err(e) => {
                if let Some(m) = &mounted {
                    unmount(m);
                }
                return Err(e);
            }
        };
        let mut init = Proc {
            pid,
            state: State::Created,
            exit: None,
            io: io.clone(),
            stdin,
            console,
            spec: None,
        };
        {
            let mut tasks = lock(&self.inner.tasks);
            if let Some(code) = Inner::claim(&mut tasks, pid) {
                // Gone already (a bad spec found by the Sentry): start will find it stopped.
                init.exit = Some((code.cast_unsigned(), now()));
                init.state = State::Stopped;
            }
            tasks.containers.insert(
                req.id.clone(),
                Container {
                    bundle,
                    mounted,
                    init,
                    execs: HashMap::new(),
                },
            );
        }
        let mut e = TaskCreate::new();
        e.container_id = req.id.clone();
        e.bundle = req.bundle.clone();
        e.rootfs = req.rootfs.clone();
        let mut tio = TaskIO::new();
        tio.stdin = io.stdin;
        tio.stdout = io.stdout;
        tio.stderr = io.stderr;
        tio.terminal = io.terminal;
        e.io = MessageField::some(tio);
        e.pid = pid;
        self.inner
            .publish(topics::TASK_CREATE_EVENT_TOPIC, Box::new(e));
        let mut r = api::CreateTaskResponse::new();
        r.pid = pid;
        Ok(r)
    }

    fn start(
        &self,
        _ctx: &TtrpcContext,
        req: api::StartRequest,
    ) -> TtrpcResult<api::StartResponse> {
        let (spec, io, bundle) = self.with_proc(&req.id, &req.exec_id, |c, e| {
            let p = proc_of(c, e);
            if p.state != State::Created {
                return Err(err(
                    ttrpc::Code::FAILED_PRECONDITION,
                    "the process is not in the created state",
                ));
            }
            Ok((p.spec.clone(), p.io.clone(), c.bundle.clone()))
        })?;
        let pid = if req.exec_id.is_empty() {
            self.inner.runrs(&["start", &req.id])?;
            let mut tasks = lock(&self.inner.tasks);
            let c = tasks
                .containers
                .get_mut(&req.id)
                .ok_or_else(|| not_found(&req.id))?;
            if c.init.state == State::Created {
                c.init.state = State::Running;
            }
            c.init.pid
        } else {
            let spec = spec.ok_or_else(|| internal("no process spec"))?;
            let opened = open_io(&io, &self.inner.root)?;
            let pid_file = bundle.join(format!("{}.pid", req.exec_id));
            let (pid_arg, spec_arg) = (
                pid_file.to_string_lossy().into_owned(),
                spec.to_string_lossy().into_owned(),
            );
            let mut args = vec![
                "exec",
                "--detach",
                "--pid-file",
                &pid_arg,
                "--process",
                &spec_arg,
            ];
            let sock;
            if let Some((dir, _)) = &opened.console {
                sock = dir.join("console.sock").to_string_lossy().into_owned();
                args.extend(["--console-socket", &sock]);
            }
            args.push(&req.id);
            let ran = self.inner.runrs_with(&args, Some(opened.guest));
            let _ = std::fs::remove_file(&spec);
            ran?;
            let pid: u32 = std::fs::read_to_string(&pid_file)
                .ok()
                .and_then(|s| s.trim().parse().ok())
                .ok_or_else(|| internal("runrs exec wrote no pid"))?;
            let _ = std::fs::remove_file(&pid_file);
            let console = match opened.console {
                Some(c) => Some(take_console(&io, c, &opened.stdin)?),
                None => None,
            };
            let mut tasks = lock(&self.inner.tasks);
            let exited = Inner::claim(&mut tasks, pid);
            let p = tasks
                .containers
                .get_mut(&req.id)
                .and_then(|c| c.execs.get_mut(&req.exec_id))
                .ok_or_else(|| not_found(&req.exec_id))?;
            p.pid = pid;
            p.stdin = opened.stdin.clone();
            p.console = console;
            p.spec = None;
            p.state = State::Running;
            let exit = exited.map(|code| (code.cast_unsigned(), now()));
            if exit.is_some() {
                p.exit.clone_from(&exit);
                p.state = State::Stopped;
            }
            drop(tasks);
            if let Some((status, at)) = exit {
                self.inner
                    .publish_exit(req.id.clone(), req.exec_id.clone(), pid, status, at);
                self.inner.changed.notify_all();
            }
            pid
        };
        if req.exec_id.is_empty() {
            let mut e = TaskStart::new();
            e.container_id = req.id.clone();
            e.pid = pid;
            self.inner
                .publish(topics::TASK_START_EVENT_TOPIC, Box::new(e));
        } else {
            let mut e = TaskExecStarted::new();
            e.container_id = req.id.clone();
            e.exec_id = req.exec_id.clone();
            e.pid = pid;
            self.inner
                .publish(topics::TASK_EXEC_STARTED_EVENT_TOPIC, Box::new(e));
        }
        let mut r = api::StartResponse::new();
        r.pid = pid;
        Ok(r)
    }

    fn exec(&self, _ctx: &TtrpcContext, req: api::ExecProcessRequest) -> TtrpcResult<api::Empty> {
        let spec = req
            .spec
            .as_ref()
            .map(|a| a.value.clone())
            .ok_or_else(|| err(ttrpc::Code::INVALID_ARGUMENT, "no process spec"))?;
        self.with_proc(&req.id, "", |c, _| {
            if c.execs.contains_key(&req.exec_id) {
                return Err(err(
                    ttrpc::Code::ALREADY_EXISTS,
                    format!("process {}: already exists", req.exec_id),
                ));
            }
            if c.init.state == State::Stopped {
                return Err(err(
                    ttrpc::Code::FAILED_PRECONDITION,
                    "container not running",
                ));
            }
            let path = c.bundle.join(format!("{}.process.json", req.exec_id));
            std::fs::write(&path, &spec).map_err(internal)?;
            c.execs.insert(
                req.exec_id.clone(),
                Proc {
                    pid: 0,
                    state: State::Created,
                    exit: None,
                    io: ProcIo {
                        stdin: req.stdin.clone(),
                        stdout: req.stdout.clone(),
                        stderr: req.stderr.clone(),
                        terminal: req.terminal,
                    },
                    stdin: Arc::default(),
                    console: None,
                    spec: Some(path),
                },
            );
            Ok(())
        })?;
        let mut e = TaskExecAdded::new();
        e.container_id = req.id.clone();
        e.exec_id = req.exec_id.clone();
        self.inner
            .publish(topics::TASK_EXEC_ADDED_EVENT_TOPIC, Box::new(e));
        Ok(api::Empty::new())
    }

    fn kill(&self, _ctx: &TtrpcContext, req: api::KillRequest) -> TtrpcResult<api::Empty> {
        let (pid, stopped) = self.with_proc(&req.id, &req.exec_id, |c, e| {
            let p = proc_of(c, e);
            Ok((p.pid, p.state == State::Stopped))
        })?;
        if req.exec_id.is_empty() {
            let sig = req.signal.to_string();
            let mut args = vec!["kill"];
            if req.all {
                args.push("--all");
            }
            args.extend([req.id.as_str(), sig.as_str()]);
            return match self.inner.runrs(&args) {
                Ok(_) => Ok(api::Empty::new()),
                Err(_) if stopped => Err(err(ttrpc::Code::NOT_FOUND, "process already finished")),
                Err(e) => Err(e),
            };
        }
        if stopped || pid == 0 {
            return Err(err(ttrpc::Code::NOT_FOUND, "process already finished"));
        }
        // An exec: its waiting `runrs exec` passes the signal to the guest process.
        let sig = i32::try_from(req.signal)
            .ok()
            .and_then(|s| nix::sys::signal::Signal::try_from(s).ok())
            .ok_or_else(|| err(ttrpc::Code::INVALID_ARGUMENT, "bad signal"))?;
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid.cast_signed()), sig)
            .map_err(|_| err(ttrpc::Code::NOT_FOUND, "process already finished"))?;
        Ok(api::Empty::new())
    }

    fn delete(&self, _ctx: &TtrpcContext, req: api::DeleteRequest) -> TtrpcResult<DeleteResponse> {
        let (pid, exit) = self.with_proc(&req.id, &req.exec_id, |c, e| {
            let p = proc_of(c, e);
            if p.state != State::Stopped && p.state != State::Created {
                return Err(err(
                    ttrpc::Code::FAILED_PRECONDITION,
                    "cannot delete a running process",
                ));
            }
            Ok((p.pid, p.exit.clone()))
        })?;
        let (status, at) = exit.unwrap_or((0, now()));
        if req.exec_id.is_empty() {
            self.inner.runrs(&["delete", "--force", &req.id])?;
            let c = lock(&self.inner.tasks).containers.remove(&req.id);
            if let Some(c) = c {
                if let Some(m) = &c.mounted {
                    unmount(m);
                }
                for p in c.execs.values() {
                    if let Some(s) = &p.spec {
                        let _ = std::fs::remove_file(s);
                    }
                }
                let _ = std::fs::remove_file(c.bundle.join("init.pid"));
            }
        } else {
            self.with_proc(&req.id, &req.exec_id, |c, _| {
                if let Some(p) = c.execs.remove(&req.exec_id) {
                    if let Some(s) = p.spec {
                        let _ = std::fs::remove_file(s);
                    }
                }
                Ok(())
            })?;
        }
        let mut e = TaskDelete::new();
        e.container_id = req.id.clone();
        e.id = if req.exec_id.is_empty() {
            req.id.clone()
        } else {
            req.exec_id.clone()
        };
        e.pid = pid;
        e.exit_status = status;
        e.exited_at = MessageField::some(at.clone());
        self.inner
            .publish(topics::TASK_DELETE_EVENT_TOPIC, Box::new(e));
        let mut r = DeleteResponse::new();
        r.pid = pid;
        r.exit_status = status;
        r.exited_at = MessageField::some(at);
        Ok(r)
    }

    fn pids(&self, _ctx: &TtrpcContext, req: api::PidsRequest) -> TtrpcResult<api::PidsResponse> {
        let out = self.inner.runrs(&["ps", "--format", "json", &req.id])?;
        let pids: Vec<u32> = serde_json::from_str(out.trim()).unwrap_or_default();
        let mut r = api::PidsResponse::new();
        r.processes = pids
            .into_iter()
            .map(|pid| {
                let mut p = shim::protos::types::task::ProcessInfo::new();
                p.pid = pid;
                p
            })
            .collect();
        Ok(r)
    }

    fn pause(&self, _ctx: &TtrpcContext, req: api::PauseRequest) -> TtrpcResult<api::Empty> {
        self.inner.runrs(&["pause", &req.id])?;
        self.with_proc(&req.id, "", |c, _| {
            c.init.state = State::Paused;
            Ok(())
        })?;
        let mut e = TaskPaused::new();
        e.container_id = req.id.clone();
        self.inner
            .publish(topics::TASK_PAUSED_EVENT_TOPIC, Box::new(e));
        Ok(api::Empty::new())
    }

    fn resume(&self, _ctx: &TtrpcContext, req: api::ResumeRequest) -> TtrpcResult<api::Empty> {
        self.inner.runrs(&["resume", &req.id])?;
        self.with_proc(&req.id, "", |c, _| {
            if c.init.state == State::Paused {
                c.init.state = State::Running;
            }
            Ok(())
        })?;
        let mut e = TaskResumed::new();
        e.container_id = req.id.clone();
        self.inner
            .publish(topics::TASK_RESUMED_EVENT_TOPIC, Box::new(e));
        Ok(api::Empty::new())
    }

    fn state(
        &self,
        _ctx: &TtrpcContext,
        req: api::StateRequest,
    ) -> TtrpcResult<api::StateResponse> {
        self.with_proc(&req.id, &req.exec_id, |c, e| {
            let bundle = c.bundle.to_string_lossy().into_owned();
            let p = proc_of(c, e);
            let mut r = api::StateResponse::new();
            r.id = req.exec_id.clone();
            if r.id.is_empty() {
                r.id = req.id.clone();
            }
            r.bundle = bundle;
            r.pid = p.pid;
            r.status = status_of(p.state);
            r.stdin = p.io.stdin.clone();
            r.stdout = p.io.stdout.clone();
            r.stderr = p.io.stderr.clone();
            r.terminal = p.io.terminal;
            r.exec_id = req.exec_id.clone();
            if let Some((s, at)) = &p.exit {
                r.exit_status = *s;
                r.exited_at = MessageField::some(at.clone());
            }
            Ok(r)
        })
    }

    fn resize_pty(
        &self,
        _ctx: &TtrpcContext,
        req: api::ResizePtyRequest,
    ) -> TtrpcResult<api::Empty> {
        let console = self.with_proc(&req.id, &req.exec_id, |c, e| {
            Ok(proc_of(c, e).console.clone())
        })?;
        let Some(master) = console else {
            return Err(err(ttrpc::Code::FAILED_PRECONDITION, "no terminal"));
        };
        sentry::host::set_window_size(
            std::os::fd::AsFd::as_fd(&*master),
            u16::try_from(req.height).unwrap_or(u16::MAX),
            u16::try_from(req.width).unwrap_or(u16::MAX),
        )
        .map_err(internal)?;
        Ok(api::Empty::new())
    }

    fn close_io(&self, _ctx: &TtrpcContext, req: api::CloseIORequest) -> TtrpcResult<api::Empty> {
        let stdin = self.with_proc(&req.id, &req.exec_id, |c, e| {
            Ok(proc_of(c, e).stdin.clone())
        })?;
        if req.stdin {
            lock(&stdin).take();
        }
        Ok(api::Empty::new())
    }

    fn update(&self, _ctx: &TtrpcContext, _req: api::UpdateTaskRequest) -> TtrpcResult<api::Empty> {
        Err(err(
            ttrpc::Code::UNIMPLEMENTED,
            "runrs does not change a running sandbox's resources",
        ))
    }

    fn wait(&self, _ctx: &TtrpcContext, req: api::WaitRequest) -> TtrpcResult<api::WaitResponse> {
        let mut tasks = lock(&self.inner.tasks);
        loop {
            let c = tasks
                .containers
                .get_mut(&req.id)
                .ok_or_else(|| not_found(&req.id))?;
            let p = if req.exec_id.is_empty() {
                &c.init
            } else {
                c.execs
                    .get(&req.exec_id)
                    .ok_or_else(|| not_found(&req.exec_id))?
            };
            if let Some((s, at)) = &p.exit {
                let mut r = api::WaitResponse::new();
                r.exit_status = *s;
                r.exited_at = MessageField::some(at.clone());
                return Ok(r);
            }
            tasks = self
                .inner
                .changed
                .wait(tasks)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
    }

    fn stats(
        &self,
        _ctx: &TtrpcContext,
        req: api::StatsRequest,
    ) -> TtrpcResult<api::StatsResponse> {
        let out = self.inner.runrs(&["events", "--stats", &req.id])?;
        let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap_or_default();
        let d = &v["data"];
        let mut m = Metrics::new();
        let mut pids = shim::protos::cgroups::metrics::PidsStat::new();
        pids.current = d["pids"]["current"].as_u64().unwrap_or(0);
        m.pids = MessageField::some(pids);
        let mut usage = shim::protos::cgroups::metrics::CPUUsage::new();
        usage.total = d["cpu"]["usage"]["total"].as_u64().unwrap_or(0);
        let mut cpu = shim::protos::cgroups::metrics::CPUStat::new();
        cpu.usage = MessageField::some(usage);
        m.cpu = MessageField::some(cpu);
        let mut mem_usage = shim::protos::cgroups::metrics::MemoryEntry::new();
        mem_usage.usage = d["memory"]["usage"]["usage"].as_u64().unwrap_or(0);
        let mut mem = shim::protos::cgroups::metrics::MemoryStat::new();
        mem.usage = MessageField::some(mem_usage);
        m.memory = MessageField::some(mem);
        let mut r = api::StatsResponse::new();
        r.stats = MessageField::some(shim::util::convert_to_any(Box::new(m)).map_err(internal)?);
        Ok(r)
    }

    fn connect(
        &self,
        _ctx: &TtrpcContext,
        req: api::ConnectRequest,
    ) -> TtrpcResult<api::ConnectResponse> {
        let pid = lock(&self.inner.tasks)
            .containers
            .get(&req.id)
            .map_or(0, |c| c.init.pid);
        let mut r = api::ConnectResponse::new();
        r.shim_pid = std::process::id();
        r.task_pid = pid;
        r.version = env!("CARGO_PKG_VERSION").to_string();
        Ok(r)
    }

    fn shutdown(&self, _ctx: &TtrpcContext, _req: api::ShutdownRequest) -> TtrpcResult<api::Empty> {
        if lock(&self.inner.tasks).containers.is_empty() {
            self.inner.exit.signal();
        }
        Ok(api::Empty::new())
    }
}
