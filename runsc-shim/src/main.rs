//! `runrs`: run a program in a fresh sandbox (`runrs do`), and print the syscall table
//! (`runrs syscalls`). The OCI verbs and the containerd shim come with the OCI issue.

#![forbid(unsafe_code)]

use anyhow::Context as _;
use clap::{Parser, Subcommand, ValueEnum};
use platform::CpuPlacement;
use sentry::{Config, Program, Sandbox, StraceSink};
use std::ffi::OsString;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Exit status of `runrs` itself failing (not the guest's).
const RUNTIME_FAILURE: u8 = 125;

#[derive(Parser)]
#[command(
    name = "runrs",
    version,
    about = "A user-space Linux kernel sandbox, in the spirit of gVisor"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run PROGRAM in a fresh sandbox; exits with its status (128+N if signal N killed it).
    Do(DoArgs),
    /// Print the syscall table as Markdown (docs/syscalls.md).
    Syscalls,
}

#[derive(Parser)]
struct DoArgs {
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

#[derive(Clone, Copy, ValueEnum)]
enum Placement {
    SameCore,
    Any,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Syscalls => {
            print!("{}", sentry::syscalls::markdown());
            ExitCode::SUCCESS
        }
        Command::Do(args) => match run_do(args) {
            Ok(code) => ExitCode::from(code),
            Err(e) => {
                eprintln!("runrs: {e:#}");
                ExitCode::from(
                    e.downcast_ref::<ExecError>()
                        .map_or(RUNTIME_FAILURE, |e| e.code),
                )
            }
        },
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

fn run_do(args: DoArgs) -> anyhow::Result<u8> {
    init_logging(&args)?;
    let program = &args.command[0];
    let path = resolve(Path::new(program)).ok_or_else(|| ExecError {
        msg: format!("{}: command not found", program.to_string_lossy()),
        code: 127,
    })?;
    // Setup-time read of the executable: the Sentry opens no host path once the guest runs
    // (the Gofer takes this over with the files issue).
    let image = std::fs::read(&path).map_err(|e| ExecError {
        msg: format!("{}: {e}", path.display()),
        code: if e.kind() == std::io::ErrorKind::NotFound {
            127
        } else {
            126
        },
    })?;
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
    let config = Config {
        hostname: args.hostname.clone(),
        strace,
        placement,
        memory_size: 256 << 30,
    };
    let path_str = path.to_string_lossy().into_owned();
    let sandbox = Sandbox::new(
        config,
        Program {
            path: &path_str,
            image: &image,
            argv,
            envp,
            cwd,
            stdio,
        },
    )
    .map_err(|e| match e {
        sentry::kernel::StartError::Load(e) => anyhow::Error::new(ExecError {
            msg: e.to_string(),
            code: 126,
        }),
        e => anyhow::Error::new(e).context("starting the sandbox"),
    })?;
    let status = sandbox.run().context("running the guest")?;
    tracing::info!(?status, "guest exited");
    Ok(u8::try_from(status.shell_code()).unwrap_or(RUNTIME_FAILURE))
}

/// Finds PROGRAM as execvp would: a path if it has a slash, else the first match in $PATH.
fn resolve(program: &Path) -> Option<PathBuf> {
    if program.as_os_str().as_bytes().contains(&b'/') {
        return Some(program.to_path_buf());
    }
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".into());
    std::env::split_paths(&path)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
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
