//! `containerd-shim-runrs-v1`: the containerd shim for `runtime_type = "io.containerd.runrs.v1"`,
//! and `runrs install`.
//!
//! As gVisor's shim is containerd's runc v2 shim driving `runsc`, this one is containerd's own
//! runc v2 shim (`containerd-shim-runc-v2`, shipped with containerd) driving `runrs` through
//! the runc command line: the runrs binary, called by that name (a link), puts a directory whose
//! `runc` is runrs first on PATH and executes the runc v2 shim. The shim protocol (ttrpc, task
//! service, events, pod grouping by the sandbox-id annotation under CRI) is that shim's; the
//! containers are runrs sandboxes. The containers of a pod share the pod sandbox's Sentry (see
//! `pod_sandbox` in the parent module, and docs/kubernetes.md).

use super::{fail, Res};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub const NAME: &str = "containerd-shim-runrs-v1";
const RUNC_SHIM: &str = "containerd-shim-runc-v2";
/// Where the `runc` link to runrs lives.
const LINK_DIR: &str = "/run/runrs/shim-bin";

pub fn main() -> ExitCode {
    match exec_runc_shim() {
        Ok(never) => match never {},
        Err(e) => {
            eprintln!("{NAME}: {e}");
            ExitCode::from(1)
        }
    }
}

fn exec_runc_shim() -> Result<std::convert::Infallible, String> {
    let exe = std::env::current_exe().map_err(|e| format!("finding runrs: {e}"))?;
    let dir = Path::new(LINK_DIR);
    std::fs::create_dir_all(dir).map_err(|e| format!("{LINK_DIR}: {e}"))?;
    let link = dir.join("runc");
    if std::fs::read_link(&link).ok().as_deref() != Some(exe.as_path()) {
        // Replaced atomically: shims of other containers may be reading it.
        let tmp = dir.join(format!(".runc-{}", std::process::id()));
        let _ = std::fs::remove_file(&tmp);
        std::os::unix::fs::symlink(&exe, &tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
        std::fs::rename(&tmp, &link).map_err(|e| format!("{}: {e}", link.display()))?;
    }
    let path = std::env::var("PATH")
        .unwrap_or_else(|_| "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into());
    let shim = find_in(&path, RUNC_SHIM)
        .or_else(|| find_in("/usr/bin:/usr/local/bin", RUNC_SHIM))
        .ok_or_else(|| format!("{RUNC_SHIM} not found (it comes with containerd)"))?;
    let err = std::process::Command::new(&shim)
        .args(std::env::args_os().skip(1))
        .env("PATH", format!("{LINK_DIR}:{path}"))
        .exec();
    Err(format!("executing {}: {err}", shim.display()))
}

fn find_in(path: &str, name: &str) -> Option<PathBuf> {
    path.split(':')
        .filter(|d| !d.is_empty() && *d != LINK_DIR)
        .map(|d| Path::new(d).join(name))
        .find(|p| p.is_file())
}

#[derive(clap::Args, Debug)]
pub struct InstallArgs {
    /// Docker's daemon configuration to add the `runrs` runtime to.
    #[arg(long, default_value = "/etc/docker/daemon.json")]
    pub docker_config: PathBuf,
    /// Where to link the containerd shim (a directory on containerd's PATH).
    #[arg(long, default_value = "/usr/local/bin")]
    pub shim_dir: PathBuf,
    /// Leave Docker's configuration alone.
    #[arg(long)]
    pub no_docker: bool,
    /// Extra runtime arguments for Docker's entry (e.g. `--log-format=json`).
    #[arg(long = "runtime-arg")]
    pub runtime_args: Vec<String>,
}

pub fn install(a: &InstallArgs) -> Res<u8> {
    let exe = std::env::current_exe()?;
    std::fs::create_dir_all(&a.shim_dir)?;
    let link = a.shim_dir.join(NAME);
    let tmp = a.shim_dir.join(format!(".{NAME}.tmp"));
    let _ = std::fs::remove_file(&tmp);
    std::os::unix::fs::symlink(&exe, &tmp)?;
    std::fs::rename(&tmp, &link)?;
    println!("installed {} -> {}", link.display(), exe.display());
    if !a.no_docker {
        let mut cfg: serde_json::Value = match std::fs::read(&a.docker_config) {
            Ok(b) if !b.iter().all(u8::is_ascii_whitespace) => serde_json::from_slice(&b)
                .map_err(|e| super::Failure(format!("{}: {e}", a.docker_config.display())))?,
            Ok(_) => serde_json::json!({}),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => serde_json::json!({}),
            Err(e) => return fail(format!("{}: {e}", a.docker_config.display())),
        };
        let Some(obj) = cfg.as_object_mut() else {
            return fail(format!("{}: not a JSON object", a.docker_config.display()));
        };
        let runtimes = obj
            .entry("runtimes")
            .or_insert_with(|| serde_json::json!({}));
        let Some(runtimes) = runtimes.as_object_mut() else {
            return fail(format!(
                "{}: \"runtimes\" is not an object",
                a.docker_config.display()
            ));
        };
        let mut entry = serde_json::json!({ "path": exe });
        if !a.runtime_args.is_empty() {
            entry["runtimeArgs"] = serde_json::json!(a.runtime_args);
        }
        runtimes.insert("runrs".into(), entry);
        if let Some(d) = a.docker_config.parent() {
            std::fs::create_dir_all(d)?;
        }
        let mut text = serde_json::to_string_pretty(&cfg)?;
        text.push('\n');
        std::fs::write(&a.docker_config, text)?;
        println!(
            "added the runrs runtime to {} (reload dockerd: kill -HUP its PID; then docker run --runtime=runrs ...)",
            a.docker_config.display()
        );
    }
    println!(
        "containerd: `ctr run --runtime io.containerd.runrs.v1 ...` works now; for Kubernetes (CRI) add to containerd's config.toml:\n\n\
         [plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runrs]\n  runtime_type = \"io.containerd.runrs.v1\"\n"
    );
    Ok(0)
}
