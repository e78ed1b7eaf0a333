//! `runrs install`: links `containerd-shim-runrs-v1` (the runrs binary under that name, which
//! serves containerd's shim v2 protocol: see the `task` module) and registers runrs with Docker.

use super::{fail, Res};
use std::path::PathBuf;

pub const NAME: &str = "containerd-shim-runrs-v1";

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
