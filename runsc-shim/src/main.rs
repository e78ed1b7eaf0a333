//! `runrs`: run a program in a fresh sandbox (`runrs do`), the OCI runtime verbs (runc's command
//! line: [`oci`]), and the syscall table (`runrs syscalls`).

#![forbid(unsafe_code)]

use anyhow::Context as _;
use clap::{Parser, Subcommand, ValueEnum};
use platform::CpuPlacement;
use sentry::kernel::limits::Limits;
use sentry::kernel::VolumeConfig;
use sentry::{Config, Overlay, Program, Sandbox, StraceSink};
use std::ffi::OsString;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

mod netgofer;
mod oci;

/// Exit status of `runrs` itself failing (not the guest's).
const RUNTIME_FAILURE: u8 = 125;

#[derive(Parser)]
#[command(
    name = "runrs",
    version,
    about = "A user-space Linux kernel sandbox, in the spirit of gVisor"
)]
struct Cli {
    #[command(flatten)]
    globals: oci::Globals,
    /// Accepted for runc compatibility (the Sentry's log level follows RUNRS_LOG).
    #[arg(long)]
    debug: bool,
    #[command(subcommand)]
    command: Command,
}

/// `runrs do ARGS`, parsed on its own (see `main`).
#[derive(Parser)]
#[command(
    name = "runrs do",
    bin_name = "runrs do",
    about = "Run PROGRAM in a fresh sandbox; exits with its status (128+N if signal N killed it)"
)]
struct DoCli {
    #[command(flatten)]
    args: DoArgs,
}

/// `runrs gofer ARGS`, parsed on its own (see `main`).
#[derive(Parser)]
#[command(name = "runrs gofer", bin_name = "runrs gofer")]
struct GoferCli {
    #[command(flatten)]
    args: GoferArgs,
}

// Parsed once per run: the size of the largest variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Run PROGRAM in a fresh sandbox; exits with its status (128+N if signal N killed it).
    Do(DoArgs),
    /// Print the syscall table as Markdown (docs/syscalls.md).
    Syscalls,
    /// Serve host directories to a Sentry (started by runrs itself; the channel is stdin).
    #[command(hide = true)]
    Gofer(GoferArgs),
    /// Internal: the net gofer, which makes the sandbox's outbound connections.
    #[command(hide = true)]
    Netgofer(netgofer::NetGoferArgs),
    /// Create a container from a bundle (the process waits for `start`).
    Create(oci::CreateArgs),
    /// Start the process of a created container.
    Start { id: String },
    /// Create and start a container, and wait for it (unless --detach).
    Run(oci::RunArgs),
    /// Print a container's state (JSON).
    State { id: String },
    /// Send a signal (default SIGTERM) to a container's init, or to all its processes.
    Kill {
        /// Send it to every process of the container.
        #[arg(long, short = 'a')]
        all: bool,
        id: String,
        #[arg(default_value = "SIGTERM")]
        signal: String,
    },
    /// Delete a container (running ones only with --force).
    Delete {
        #[arg(long, short = 'f')]
        force: bool,
        id: String,
    },
    /// Run a new process in a running container.
    Exec(oci::ExecArgs),
    /// List containers.
    #[command(alias = "ls")]
    List {
        #[arg(long, short = 'f', default_value = "table")]
        format: String,
        #[arg(long, short = 'q')]
        quiet: bool,
    },
    /// List a container's processes.
    Ps {
        #[arg(long, short = 'f', default_value = "table")]
        format: String,
        id: String,
        /// Options for ps(1): accepted, not used.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        ps_args: Vec<String>,
    },
    /// Internal: runs a container of a pod in the pod's sandbox and waits for it (its PID is
    /// the container's on the host).
    #[command(hide = true)]
    ContainerWait(oci::ContainerWaitArgs),
    /// Stop every process of a container from running.
    Pause { id: String },
    /// Let a paused container run again.
    Resume { id: String },
    /// Replace a running container's egress policy with the JSON document in FILE
    /// (`{"network": "sandbox", "allow_cidrs": [...], "allow_hosts": [...], "add_hosts":
    /// [...], "dns": [...]}`): from its next connection and name on.
    Policy { id: String, file: PathBuf },
    /// Write a default config.json.
    Spec {
        #[arg(long, short = 'b')]
        bundle: Option<PathBuf>,
        #[arg(long)]
        rootless: bool,
    },
    /// Print what this runtime supports (JSON).
    Features,
    /// Print a container's resource usage (once with --stats, else every interval).
    Events {
        #[arg(long)]
        stats: bool,
        #[arg(long, default_value = "5s", value_parser = humantime::parse_duration)]
        interval: std::time::Duration,
        id: String,
    },
    /// Register runrs with Docker (daemon.json) and install the containerd shim; prints the
    /// containerd configuration.
    Install(oci::shim::InstallArgs),
    /// The Sentry of a container (started by `runrs create`).
    #[command(hide = true)]
    Boot(oci::boot::BootArgs),
}

#[derive(Parser)]
struct GoferArgs {
    /// A directory to serve, read-only; `PATH:rw` for read-write. Mount N is fid N.
    #[arg(long = "mount", value_name = "PATH[:rw]", required = true)]
    mounts: Vec<String>,
    /// Run on this CPU (the Sentry's, so a request and its reply need no cross-core wakeup).
    #[arg(long)]
    cpu: Option<usize>,
    /// Do not lock the Gofer down (for debugging runrs itself only).
    #[arg(long, hide = true)]
    no_lockdown: bool,
    /// Make the Sentry's network namespace first thing (a forked Gofer, on another CPU while
    /// the Sentry starts): the Sentry joins it rather than making one on its own critical path.
    #[arg(skip)]
    make_netns: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum VdsoArg {
    Host,
    None,
}

/// `--overlay`: how the root filesystem takes writes.
#[derive(Clone, PartialEq, Eq)]
enum OverlayArg {
    /// Host root read-only below, writes kept in the sandbox's memory.
    Memory,
    /// Host root read-only; writes fail with EROFS.
    None,
    /// As `Memory`, but what files hold is kept in a host file in this directory (unlinked at
    /// once: nothing remains there after the sandbox), not in memory.
    Dir(PathBuf),
}

fn parse_overlay(s: &str) -> Result<OverlayArg, String> {
    match s {
        "memory" => Ok(OverlayArg::Memory),
        "none" => Ok(OverlayArg::None),
        _ => match s.strip_prefix("dir=") {
            Some(p) if !p.is_empty() => Ok(OverlayArg::Dir(PathBuf::from(p))),
            _ => Err("expected memory, none or dir=PATH".into()),
        },
    }
}

/// Makes the store of `--overlay=dir=PATH`: an unlinked file in `dir`, readable and writable
/// by the caller only.
fn open_store(dir: &Path) -> anyhow::Result<OwnedFd> {
    use std::os::unix::fs::OpenOptionsExt;
    let tmpfile = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .mode(0o600)
        .custom_flags(libc::O_TMPFILE | libc::O_CLOEXEC)
        .open(dir);
    match tmpfile {
        Ok(f) => Ok(OwnedFd::from(f)),
        // A filesystem without O_TMPFILE: a named file, unlinked at once.
        Err(e) if e.raw_os_error() == Some(libc::EOPNOTSUPP) => {
            let path = dir.join(format!(".runrs-store-{}", std::process::id()));
            let f = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create_new(true)
                .mode(0o600)
                .custom_flags(libc::O_CLOEXEC)
                .open(&path)
                .with_context(|| format!("--overlay=dir: {}", path.display()))?;
            std::fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))?;
            Ok(OwnedFd::from(f))
        }
        Err(e) => Err(anyhow::Error::new(e).context(format!("--overlay=dir: {}", dir.display()))),
    }
}

#[derive(Parser)]
struct DoArgs {
    /// Give the program a terminal of the sandbox, relayed to this one (put in raw mode while
    /// it runs): line editing, job control, Ctrl-C and window size as on a real terminal.
    #[arg(short = 't', long = "tty")]
    tty: bool,
    /// Print each guest syscall with its decoded arguments and result (to stderr, or to the
    /// debug log if --debug-log is given).
    #[arg(long)]
    strace: bool,
    /// Write the Sentry's log (JSON lines, debug level) to FILE.
    #[arg(long, value_name = "FILE")]
    debug_log: Option<PathBuf>,
    /// Log warnings (such as unsupported syscalls) to stderr.
    #[arg(long)]
    debug: bool,
    /// The sandbox's hostname.
    #[arg(long, default_value = "runrs")]
    hostname: String,
    /// How the root filesystem takes writes: `memory` (a copy-on-write layer in the sandbox's
    /// memory, gone with it), `none` (read-only: EROFS), or `dir=PATH` (that layer's file
    /// contents, and /tmp's, kept in a host file in PATH rather than in memory: not counted by
    /// --memory, bounded by PATH's free space; the file is unlinked at once, so nothing remains).
    #[arg(long, value_name = "memory|none|dir=PATH", default_value = "memory", value_parser = parse_overlay)]
    overlay: OverlayArg,
    /// Bind host directory HOST at GUEST in the sandbox (repeatable): read-write (changes go to
    /// the host through the Gofer), `:ro`, or `:overlay` (copy-on-write: the host directory
    /// read-only below, changes kept in the sandbox's memory, like the root).
    #[arg(long = "volume", short = 'v', value_name = "HOST:GUEST[:ro|:overlay]", value_parser = parse_volume)]
    volumes: Vec<Volume>,
    /// Size limit of /tmp, /dev/shm and the root overlay's memory layer (each), e.g. 512M, 2G.
    #[arg(long, value_name = "SIZE", default_value = "2G", value_parser = parse_size)]
    tmpfs_size: u64,
    /// Memory limit of the sandbox (guest memory and in-memory files), e.g. 512M: past it the
    /// largest process is killed with SIGKILL, as Linux's OOM killer does.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    memory: Option<u64>,
    /// Most tasks (processes and threads) at once: fork and clone fail with EAGAIN past it.
    #[arg(long, value_name = "N")]
    pids: Option<usize>,
    /// Most bytes of file data in the sandbox's in-memory filesystems together (the root's
    /// memory layer, /tmp, /dev/shm): ENOSPC past it.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    disk: Option<u64>,
    /// CPU time of all the sandbox's processes together, e.g. 30s, 2m: the sandbox is killed
    /// past it.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    cpu_time: Option<std::time::Duration>,
    /// Wall-clock time, e.g. 60s: the sandbox is killed when it runs out.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    timeout: Option<std::time::Duration>,
    /// What the sandbox may reach beyond its own loopback: nothing (`none`), the networks
    /// `--allow-cidr` names (`sandbox`), or everything (`host-open`, for trusted use). Outbound
    /// TCP connections go through the net gofer, which checks the policy.
    #[arg(long, value_enum, default_value_t = NetworkArg::None)]
    network: NetworkArg,
    /// With --network=sandbox: a network outbound connections may reach, ADDR[/PREFIX][:PORT]
    /// (repeatable), e.g. 10.0.0.0/8:443.
    #[arg(long = "allow-cidr", value_name = "NET", value_parser = netgofer::parse_cidr)]
    allow_cidr: Vec<netgofer::Cidr>,
    /// With --network=sandbox: a host name the guest may resolve and reach, `example.org` or
    /// `*.example.org` (repeatable). The sandbox's resolver answers only allowed names, and an
    /// address is reachable once resolved from one.
    #[arg(long = "allow-host", value_name = "NAME")]
    allow_host: Vec<String>,
    /// A fixed answer of the sandbox's resolver, NAME:ADDR (repeatable), as Docker's --add-host.
    #[arg(long = "add-host", value_name = "NAME:ADDR", value_parser = netgofer::parse_add_host)]
    add_host: Vec<(String, std::net::IpAddr)>,
    /// An upstream resolver the sandbox's resolver asks for allowed names (repeatable; default:
    /// the nameservers of the host's /etc/resolv.conf).
    #[arg(long, value_name = "ADDR")]
    dns: Vec<std::net::IpAddr>,
    /// A connected SOCK_SEQPACKET Unix socket the caller passes as fd N: runrs serves the control
    /// protocol on it (JSON requests such as `{"Policy": {"network": "sandbox", "allow_cidrs":
    /// [...]}}` to replace the egress policy, `"Ps"`, `{"Kill": {"signal": 15, "all": true}}`),
    /// replying on the same socket.
    #[arg(long, value_name = "N")]
    control_fd: Option<i32>,
    /// Append one JSON line per exec, limit reached, denied connection and the sandbox's exit
    /// to FILE.
    #[arg(long, value_name = "FILE")]
    audit: Option<PathBuf>,
    /// Do not lock the Sentry down (no seccomp filter, namespaces or capability drop): for
    /// debugging runrs itself only.
    #[arg(long, hide = true)]
    no_lockdown: bool,
    /// Give the guest the host's vDSO (`host`, the default: clock_gettime, gettimeofday, time and
    /// getcpu run without a syscall) or none (`none`: every clock read is a syscall, shown by
    /// --strace).
    #[arg(long, value_enum, default_value_t = VdsoArg::Host)]
    vdso: VdsoArg,
    /// Where the Sentry and the guest run: on one CPU (cheaper ptrace stops) or anywhere.
    #[arg(long, value_enum, default_value_t = Placement::SameCore, env = "RUNRS_CPU_PLACEMENT")]
    cpu_placement: Placement,
    /// The program and its arguments.
    #[arg(
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "PROGRAM"
    )]
    command: Vec<OsString>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum NetworkArg {
    None,
    Sandbox,
    HostOpen,
}

#[derive(Clone, Copy, ValueEnum)]
enum Placement {
    SameCore,
    Any,
}

fn main() -> ExitCode {
    if std::env::args_os()
        .next()
        .and_then(|a| Path::new(&a).file_name().map(|n| n == oci::shim::NAME))
        .unwrap_or(false)
        || std::env::var_os(oci::task::SHIM_ENV).is_some()
    {
        // containerd runs the link; the shim daemon it starts is this executable again, told
        // by the environment (which its own runrs commands do not inherit).
        return oci::task::main();
    }
    // `runrs do` alone skips building the whole command line (every OCI verb's flags: ~0.5 ms
    // here, a twentieth of a sandbox's start).
    let mut argv = std::env::args_os();
    if argv.nth(1).is_some_and(|a| a == "do") {
        let cli = DoCli::parse_from(std::iter::once("runrs do".into()).chain(argv));
        return do_main(cli.args);
    }
    let mut argv = std::env::args_os();
    if argv.nth(1).is_some_and(|a| a == "gofer") {
        let cli = GoferCli::parse_from(std::iter::once("runrs gofer".into()).chain(argv));
        return gofer_main(&cli.args);
    }
    let cli = Cli::parse();
    let _ = cli.debug;
    let g = &cli.globals;
    match cli.command {
        Command::Create(a) => oci::finish(g, oci::create(g, &a, "create")),
        Command::Start { id } => oci::finish(g, oci::start(g, &id)),
        Command::Run(a) => oci::finish(g, oci::run(g, &a)),
        Command::State { id } => oci::finish(g, oci::state_cmd(g, &id)),
        Command::Kill { all, id, signal } => oci::finish(g, oci::kill(g, &id, &signal, all)),
        Command::Delete { force, id } => oci::finish(g, oci::delete(g, &id, force)),
        Command::Exec(a) => oci::finish(g, oci::exec(g, &a)),
        Command::List { format, quiet } => oci::finish(g, oci::list(g, &format, quiet)),
        Command::Ps { format, id, .. } => oci::finish(g, oci::ps(g, &id, &format)),
        Command::Pause { id } => oci::finish(g, oci::pause(g, &id, true)),
        Command::Policy { id, file } => oci::finish(g, oci::policy(g, &id, &file)),
        Command::Resume { id } => oci::finish(g, oci::pause(g, &id, false)),
        Command::Spec { bundle, rootless } => {
            oci::finish(g, oci::spec_cmd(bundle.as_deref(), rootless))
        }
        Command::Features => oci::finish(g, oci::features()),
        Command::Events {
            stats,
            interval,
            id,
        } => oci::finish(g, oci::events(g, &id, stats, interval)),
        Command::Boot(a) => oci::boot::boot(g, &a),
        Command::ContainerWait(a) => oci::finish(g, oci::container_wait(g, &a)),
        Command::Install(a) => oci::finish(g, oci::shim::install(&a)),
        Command::Syscalls => {
            print!("{}", sentry::syscalls::markdown());
            ExitCode::SUCCESS
        }
        Command::Netgofer(args) => match netgofer::run(&args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("runrs netgofer: {e:#}");
                ExitCode::from(RUNTIME_FAILURE)
            }
        },
        Command::Gofer(args) => gofer_main(&args),
        Command::Do(args) => do_main(args),
    }
}

/// A program that cannot be started, with the shell's status for it (127 not found, 126 not
/// executable).
#[derive(Debug, thiserror::Error)]
#[error("{msg}")]
struct ExecError {
    msg: String,
    code: u8,
}

/// `runrs do`, with its exit status.
fn do_main(args: DoArgs) -> ExitCode {
    match run_do(args) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("runrs: {e:#}");
            ExitCode::from(
                e.downcast_ref::<ExecError>()
                    .map_or(RUNTIME_FAILURE, |e| e.code),
            )
        }
    }
}

fn run_do(args: DoArgs) -> anyhow::Result<u8> {
    init_logging(&args)?;
    let argv: Vec<Vec<u8>> = args.command.iter().map(|a| a.as_bytes().to_vec()).collect();
    let envp: Vec<Vec<u8>> = std::env::vars_os()
        .map(|(k, v)| {
            let mut kv = k.into_vec();
            kv.push(b'=');
            kv.extend(v.into_vec());
            kv
        })
        .collect();
    let cwd = std::env::current_dir()
        .context("current directory")?
        .into_os_string()
        .into_vec();
    let stdio = [
        dup_stdio(std::io::stdin().as_fd()),
        dup_stdio(std::io::stdout().as_fd()),
        dup_stdio(std::io::stderr().as_fd()),
    ];
    let placement = match args.cpu_placement {
        Placement::SameCore => CpuPlacement::SameCore(current_cpu()),
        Placement::Any => CpuPlacement::Any,
    };
    let strace = args.strace.then_some(if args.debug_log.is_some() {
        StraceSink::Log
    } else {
        StraceSink::Stderr
    });
    let gofer_cpu = match placement {
        CpuPlacement::SameCore(c) => Some(c),
        CpuPlacement::Any => None,
    };
    // The sandbox has its own /tmp and /dev/shm: a working directory or program under them on
    // the host would be hidden. Such a directory comes in as a copy-on-write volume at the same
    // path (the host unchanged, as for the root).
    let mut volumes = args.volumes.clone();
    let masked = |p: &Path| p.starts_with("/tmp") || p.starts_with("/dev/shm");
    let cwd_path = PathBuf::from(std::ffi::OsStr::from_bytes(&cwd));
    let prog_dir = Path::new(&args.command[0]).parent().map(Path::to_path_buf);
    for dir in [Some(cwd_path), prog_dir.filter(|d| d.is_absolute())]
        .into_iter()
        .flatten()
    {
        let covered = volumes.iter().any(|v| dir.starts_with(&v.guest));
        if masked(&dir)
            && !covered
            && dir.is_dir()
            && dir != Path::new("/tmp")
            && dir != Path::new("/dev/shm")
        {
            volumes.push(Volume {
                guest: dir.to_string_lossy().into_owned(),
                host: dir,
                readonly: false,
                overlay: true,
            });
        }
    }
    // With --overlay=none, copy-on-write volumes are read-only too (they stand for parts of the
    // root).
    if args.overlay == OverlayArg::None {
        for v in volumes.iter_mut().filter(|v| v.overlay) {
            v.readonly = true;
        }
    }
    let mut gofer_mounts = vec!["/".to_string()];
    for v in &volumes {
        let mut m = v.host.to_string_lossy().into_owned();
        m.push_str(if v.readonly || v.overlay {
            ":ro"
        } else {
            ":rw"
        });
        gofer_mounts.push(m);
    }
    let audit = match &args.audit {
        Some(p) => Some(OwnedFd::from(
            std::fs::OpenOptions::new()
                .append(true)
                .create(true)
                .open(p)
                .with_context(|| format!("opening the audit log {}", p.display()))?,
        )),
        None => None,
    };
    if args.network != NetworkArg::Sandbox
        && !(args.allow_cidr.is_empty() && args.allow_host.is_empty())
    {
        anyhow::bail!("--allow-cidr and --allow-host need --network=sandbox");
    }
    if args.network == NetworkArg::None && !(args.add_host.is_empty() && args.dns.is_empty()) {
        anyhow::bail!("--add-host and --dns need --network=sandbox or host-open");
    }
    let net = match args.network {
        NetworkArg::None => None,
        n => Some(netgofer::start(&netgofer::Policy {
            open: n == NetworkArg::HostOpen,
            allow: args.allow_cidr.clone(),
            hosts: args.allow_host.clone(),
            static_hosts: args.add_host.clone(),
            dns: args.dns.clone(),
        })?),
    };
    let (net_channel, net_gofer) = match net {
        Some((c, p)) => (Some(c), Some(p)),
        None => (None, None),
    };
    let store = match &args.overlay {
        OverlayArg::Dir(d) => Some(open_store(d)?),
        _ => None,
    };
    let (channel, mut gofer) = start_gofer(&gofer_mounts, gofer_cpu, !args.no_lockdown)?;
    let config = Config {
        store,
        hostname: args.hostname.clone(),
        strace,
        placement,
        memory_size: 256 << 30,
        gofer: channel,
        overlay: match args.overlay {
            OverlayArg::Memory | OverlayArg::Dir(_) => Overlay::Memory,
            OverlayArg::None => Overlay::None,
        },
        tmpfs_size: args.tmpfs_size,
        host_vdso: args.vdso == VdsoArg::Host,
        volumes: volumes
            .iter()
            .map(|v| VolumeConfig {
                guest_path: v.guest.clone(),
                readonly: v.readonly,
                overlay: v.overlay,
            })
            .collect(),
        tmpfs_mounts: Vec::new(),
        masked: Vec::new(),
        sysctl: Default::default(),
        files: Vec::new(),
        controlled: false,
        net: net_channel,
        limits: Limits {
            memory: args.memory,
            pids: args.pids,
            disk: args.disk,
            cpu_ns: args
                .cpu_time
                .map(|d| d.as_nanos().try_into().unwrap_or(u64::MAX)),
            timeout_ns: args
                .timeout
                .map(|d| d.as_nanos().try_into().unwrap_or(u64::MAX)),
            ..Limits::default()
        },
        audit,
        lock_down: !args.no_lockdown,
        // The forked Gofer made it first thing (on another CPU meanwhile).
        net_ns_of: match &gofer {
            GoferProcess::Forked(pid) if !args.no_lockdown => Some(pid.as_raw()),
            _ => None,
        },
    };
    let program = Program {
        path: args.command[0].as_bytes().to_vec(),
        argv,
        envp,
        cwd,
        stdio,
        stdio_names: None,
        identity: None,
        rlimits: Vec::new(),
        umask: None,
        terminal: args.tty,
    };
    // Before the lockdown (in Sandbox::new): the serving thread is made with clone3.
    if let Some(fd) = args.control_fd {
        sentry::control::serve_inherited(fd).context("the control fd")?;
    }
    let result = Sandbox::new(config, program)
        .map_err(|e| match e {
            sentry::kernel::StartError::Load(e) => anyhow::Error::new(ExecError {
                msg: e.to_string(),
                code: 126,
            }),
            sentry::kernel::StartError::Exec { path, errno } => {
                let searched = errno.code == libc::ENOENT && !path.contains('/');
                anyhow::Error::new(ExecError {
                    msg: if searched {
                        format!("{path}: command not found")
                    } else {
                        format!("{path}: {}", errno.description())
                    },
                    code: if errno.code == libc::ENOENT { 127 } else { 126 },
                })
            }
            e => anyhow::Error::new(e).context("starting the sandbox"),
        })
        .and_then(|sandbox| sandbox.run().context("running the guest"));
    tracing::debug!("sandbox gone");
    // The sandbox (and its end of the channel) is gone: the Gofer sees EOF and exits.
    gofer.wait();
    tracing::debug!("gofer exited");
    if let Some(mut n) = net_gofer {
        let _ = n.wait();
    }
    let status = result?;
    tracing::info!(?status, "guest exited");
    Ok(u8::try_from(status.shell_code()).unwrap_or(RUNTIME_FAILURE))
}

/// The Gofer's process.
pub(crate) enum GoferProcess {
    /// A fork of this process (see [`gofer::fork_child`]).
    Forked(nix::unistd::Pid),
    /// `runrs gofer`, exec'd where this process already runs threads.
    Spawned(std::process::Child),
}

impl GoferProcess {
    /// Waits for the Gofer to exit.
    pub(crate) fn wait(&mut self) {
        match self {
            GoferProcess::Forked(pid) => {
                let _ = nix::sys::wait::waitpid(*pid, None);
            }
            GoferProcess::Spawned(child) => {
                let _ = child.wait();
            }
        }
    }
}

/// Starts the Gofer serving `mounts` (read-only), connected by a new channel as its stdin.
pub(crate) fn start_gofer(
    mounts: &[String],
    cpu: Option<usize>,
    lockdown: bool,
) -> anyhow::Result<(gofer::Channel, GoferProcess)> {
    let (sentry_end, gofer_end) = gofer::channel::pair().context("gofer channel")?;
    let args = GoferArgs {
        mounts: mounts.to_vec(),
        cpu,
        no_lockdown: !lockdown,
        make_netns: lockdown && std::env::var_os("RUNRS_GOFER_NETNS").is_none_or(|v| v != "off"),
    };
    let null = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/null")
        .context("opening /dev/null")?;
    // A fork of this process where it can be (single-threaded), which saves the Gofer the
    // executable's start; it runs what `runrs gofer` runs.
    let gofer_end = gofer_end.into_fd();
    let forked = gofer::fork_child(
        "gofer",
        gofer_end.try_clone().context("gofer channel")?,
        null.into(),
        || match run_gofer(&args) {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("runrs gofer: {e:#}");
                i32::from(RUNTIME_FAILURE)
            }
        },
    )
    .context("starting the gofer")?;
    if let Some(pid) = forked {
        return Ok((
            sentry_end,
            GoferProcess::Forked(nix::unistd::Pid::from_raw(pid)),
        ));
    }
    let exe = std::env::current_exe().context("finding the runrs executable")?;
    let mut cmd = std::process::Command::new(exe);
    cmd.arg("gofer");
    for m in mounts {
        cmd.arg("--mount").arg(m);
    }
    if let Some(c) = cpu {
        cmd.arg("--cpu").arg(c.to_string());
    }
    if !lockdown {
        cmd.arg("--no-lockdown");
    }
    // Its own process group: a terminal's Ctrl-C is for the guest (through the Sentry), not
    // for the Gofer.
    let child = cmd
        .process_group(0)
        .stdin(std::process::Stdio::from(gofer_end))
        .stdout(std::process::Stdio::null())
        .env_clear()
        .spawn()
        .context("starting the gofer")?;
    Ok((sentry_end, GoferProcess::Spawned(child)))
}

/// `runrs gofer`, with its exit status.
fn gofer_main(args: &GoferArgs) -> ExitCode {
    match run_gofer(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("runrs gofer: {e:#}");
            ExitCode::from(RUNTIME_FAILURE)
        }
    }
}

fn run_gofer(args: &GoferArgs) -> anyhow::Result<()> {
    // The Gofer lives only as long as the runrs that started it.
    nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL)
        .context("PR_SET_PDEATHSIG")?;
    if nix::unistd::getppid().as_raw() == 1 {
        anyhow::bail!("parent already gone");
    }
    // It serves from the Sentry's CPU, but starts (opens its mounts, locks itself down) on the
    // others where there are any: meanwhile the Sentry starts on its own.
    if let Some(c) = args.cpu {
        let others: Vec<usize> = nix::sched::sched_getaffinity(nix::unistd::Pid::from_raw(0))
            .map(|set| {
                (0..nix::sched::CpuSet::count())
                    .filter(|&o| o != c && set.is_set(o).unwrap_or(false))
                    .collect()
            })
            .unwrap_or_default();
        let start_on = if others.is_empty() || args.no_lockdown {
            vec![c]
        } else {
            others
        };
        gofer::lockdown::pin_to(&start_on).context("sched_setaffinity")?;
    }
    if args.make_netns {
        // Where the host refuses (not root), the Sentry makes its own (in a user namespace).
        let _ = nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET);
    }
    let chan = gofer::Channel::from_fd(
        std::io::stdin()
            .as_fd()
            .try_clone_to_owned()
            .context("channel on stdin")?,
    );
    let mounts = args
        .mounts
        .iter()
        .map(|m| {
            let (path, writable) = match m.strip_suffix(":rw") {
                Some(p) => (p, true),
                None => (m.strip_suffix(":ro").unwrap_or(m), false),
            };
            let root = gofer::server::open_root(Path::new(path))
                .with_context(|| format!("opening {path}"))?;
            Ok(gofer::Mount { root, writable })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut server = gofer::Server::new(mounts).context("gofer setup")?;
    if !args.no_lockdown {
        gofer::lockdown::lock_down(args.cpu).context("locking the Gofer down")?;
    }
    server.serve(&chan).context("serving")?;
    Ok(())
}

/// A `--volume` argument.
#[derive(Clone, Debug)]
struct Volume {
    host: PathBuf,
    guest: String,
    readonly: bool,
    overlay: bool,
}

fn parse_volume(s: &str) -> Result<Volume, String> {
    let (rest, readonly, overlay) = if let Some(r) = s.strip_suffix(":ro") {
        (r, true, false)
    } else if let Some(r) = s.strip_suffix(":overlay") {
        (r, false, true)
    } else {
        (s.strip_suffix(":rw").unwrap_or(s), false, false)
    };
    let (host, guest) = rest
        .split_once(':')
        .ok_or_else(|| format!("{s:?}: expected HOST:GUEST[:ro]"))?;
    if !host.starts_with('/') || !guest.starts_with('/') {
        return Err(format!("{s:?}: both paths must be absolute"));
    }
    if guest == "/" || guest.split('/').any(|c| c == ".." || c == ".") {
        return Err(format!("{s:?}: bad guest path"));
    }
    let meta = std::fs::metadata(host).map_err(|e| format!("{host}: {e}"))?;
    if !meta.is_dir() {
        return Err(format!("{host}: not a directory"));
    }
    Ok(Volume {
        host: PathBuf::from(host),
        guest: guest.trim_end_matches('/').to_string(),
        readonly,
        overlay,
    })
}

/// Parses a size like `512M`, `2G`, `1048576`.
fn parse_size(s: &str) -> Result<u64, String> {
    let (num, mult) = match s.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let m: u64 = match c.to_ascii_uppercase() {
                'K' => 1 << 10,
                'M' => 1 << 20,
                'G' => 1 << 30,
                'T' => 1 << 40,
                _ => return Err(format!("unknown size suffix in {s:?}")),
            };
            (&s[..i], m)
        }
        _ => (s, 1),
    };
    num.parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .ok_or_else(|| format!("bad size {s:?}"))
}

/// Parses a duration like `30s`, `2m`, `1h`, `500ms` or `45` (seconds).
fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let split = s.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num
        .parse()
        .ok()
        .filter(|n: &f64| n.is_finite() && *n > 0.0)
        .ok_or_else(|| format!("bad duration {s:?}"))?;
    let secs = match unit {
        "" | "s" => n,
        "ms" => n / 1000.0,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(format!("unknown unit in {s:?} (ms, s, m, h)")),
    };
    Ok(std::time::Duration::from_secs_f64(secs))
}

/// A close-on-exec duplicate of one of the caller's stdio fds for the guest. Known difference:
/// Rust's runtime reopens a closed fd 0-2 as /dev/null before `main`, so a guest whose caller had
/// stdin closed sees /dev/null instead of EBADF. None only if the duplication itself fails.
fn dup_stdio(fd: std::os::fd::BorrowedFd<'_>) -> Option<OwnedFd> {
    fd.try_clone_to_owned().ok()
}

fn current_cpu() -> usize {
    nix::sched::sched_getcpu().unwrap_or(0)
}

fn init_logging(args: &DoArgs) -> anyhow::Result<()> {
    use tracing_subscriber::{fmt, EnvFilter};
    if let Some(file) = &args.debug_log {
        let f = std::fs::File::create(file)
            .with_context(|| format!("creating debug log {}", file.display()))?;
        let filter =
            EnvFilter::try_from_env("RUNRS_LOG").unwrap_or_else(|_| EnvFilter::new("debug"));
        fmt()
            .json()
            .with_writer(std::sync::Mutex::new(f))
            .with_env_filter(filter)
            .init();
    } else {
        let default = if args.debug { "warn" } else { "error" };
        let filter =
            EnvFilter::try_from_env("RUNRS_LOG").unwrap_or_else(|_| EnvFilter::new(default));
        fmt()
            .with_writer(std::io::stderr)
            .with_env_filter(filter)
            .with_target(false)
            .init();
    }
    Ok(())
}
