//! config.json → what the sandbox is made of: the root filesystem, mounts, the process.

use oci_spec::runtime::{Process, Spec};
use std::path::{Path, PathBuf};

/// A config.json that cannot be used, with runc's wording where runc has one.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SpecError(pub String);

/// Reads `bundle/config.json`.
pub fn load(bundle: &Path) -> Result<Spec, SpecError> {
    let path = bundle.join("config.json");
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(SpecError(
                "JSON specification file config.json not found".into(),
            ))
        }
        Err(e) => return Err(SpecError(format!("{}: {e}", path.display()))),
    };
    let spec: Spec = serde_json::from_slice(&bytes)
        .map_err(|e| SpecError(format!("invalid config.json: {e}")))?;
    Ok(spec)
}

/// Checks what create needs of a spec, as runc's validation does.
pub fn validate(spec: &Spec) -> Result<(), SpecError> {
    let process = spec
        .process()
        .as_ref()
        .ok_or_else(|| SpecError("process property must not be empty".into()))?;
    check_process(process)?;
    let root = spec
        .root()
        .as_ref()
        .ok_or_else(|| SpecError("root must be specified".into()))?;
    if root.path().as_os_str().is_empty() {
        return Err(SpecError("root.path is empty".into()));
    }
    Ok(())
}

/// Checks a process (of config.json, or of `exec --process`).
pub fn check_process(process: &Process) -> Result<(), SpecError> {
    if process.args().as_ref().is_none_or(Vec::is_empty) {
        return Err(SpecError("args must not be empty".into()));
    }
    if process.cwd().as_os_str().is_empty() {
        return Err(SpecError("cwd property must not be empty".into()));
    }
    if !process.cwd().is_absolute() {
        return Err(SpecError("cwd must be an absolute path".into()));
    }
    Ok(())
}

/// The root filesystem's host path.
pub fn rootfs(spec: &Spec, bundle: &Path) -> PathBuf {
    let p = spec
        .root()
        .as_ref()
        .map(|r| r.path().clone())
        .unwrap_or_default();
    if p.is_absolute() {
        p
    } else {
        bundle.join(p)
    }
}

/// A host directory bound into the container.
#[derive(Clone, Debug)]
pub struct Bind {
    pub host: PathBuf,
    pub guest: String,
    pub readonly: bool,
}

/// What the sandbox mounts, from config.json's mounts.
#[derive(Debug, Default)]
pub struct Mounts {
    pub binds: Vec<Bind>,
    /// Binds of single files: copies (guest path, contents, mode) taken now.
    pub files: Vec<(String, Vec<u8>, u32)>,
    pub tmpfs: Vec<String>,
    /// Mounts the sandbox cannot make (yet), with why: logged at create.
    pub skipped: Vec<String>,
}

impl Mounts {
    /// The Gofer's `--mount` arguments: the root (`rootfs`, read-only below the overlay), then
    /// each bind (the Sentry's volume N is the Gofer's mount N + 1).
    pub fn gofer_mounts(&self, rootfs: &Path) -> Vec<String> {
        let mut m = vec![format!("{}:ro", rootfs.display())];
        for b in &self.binds {
            m.push(format!(
                "{}:{}",
                b.host.display(),
                if b.readonly { "ro" } else { "rw" }
            ));
        }
        m
    }
}

/// `linux.sysctl`, as runc takes it: a sysctl outside the kernel's namespaced ones is refused
/// ("not in a separate kernel namespace"), and so is one the sandbox does not have (runc fails
/// to open its /proc/sys file); the rest are the sandbox's own (see `sentry::kernel::Sysctl`).
pub fn sysctl(spec: &Spec) -> Result<sentry::kernel::Sysctl, SpecError> {
    let mut s = sentry::kernel::Sysctl::default();
    let Some(map) = spec.linux().as_ref().and_then(|l| l.sysctl().as_ref()) else {
        return Ok(s);
    };
    let mut names: Vec<_> = map.iter().collect();
    names.sort();
    for (name, value) in names {
        let namespaced = ["kernel.msg", "kernel.shm", "fs.mqueue.", "net."]
            .iter()
            .any(|p| name.starts_with(p))
            || ["kernel.sem", "kernel.hostname", "kernel.domainname"].contains(&name.as_str());
        if !namespaced {
            return Err(SpecError(format!(
                "sysctl {name:?} is not in a separate kernel namespace"
            )));
        }
        if name == "kernel.hostname" || name == "kernel.domainname" {
            return Err(SpecError(format!(
                "sysctl {name:?}: not supported (the spec's hostname and domainname set them)"
            )));
        }
        s.set(name, value).map_err(SpecError)?;
    }
    Ok(s)
}

/// `linux.maskedPaths` (the Sentry masks those that exist in the container's tree).
pub fn masked_paths(spec: &Spec) -> Vec<String> {
    spec.linux()
        .as_ref()
        .and_then(|l| l.masked_paths().clone())
        .unwrap_or_default()
}

/// `linux.readonlyPaths`: the sandbox's own /proc and /sys are read-only already (Docker's and
/// Kubernetes' defaults are all there); a path of the container's root that exists would need
/// a read-only bind mount, which the sandbox cannot make yet: refused rather than ignored.
pub fn check_readonly_paths(spec: &Spec, rootfs: &Path) -> Result<(), SpecError> {
    let paths = spec
        .linux()
        .as_ref()
        .and_then(|l| l.readonly_paths().clone())
        .unwrap_or_default();
    for p in paths {
        let own = ["/proc", "/sys"]
            .iter()
            .any(|d| p == *d || p.starts_with(&format!("{d}/")));
        let rel = p.trim_start_matches('/');
        if !own && !rel.is_empty() && rootfs.join(rel).symlink_metadata().is_ok() {
            return Err(SpecError(format!(
                "readonlyPaths: {p}: read-only bind mounts of the container's own paths are not supported"
            )));
        }
    }
    Ok(())
}

/// Whether the spec's root is read-only (`root.readonly`).
pub fn root_readonly(spec: &Spec) -> bool {
    spec.root()
        .as_ref()
        .and_then(|r| r.readonly())
        .unwrap_or(false)
}

/// Mount points the sandbox always has, made by the Sentry itself (procfs, devfs, devpts,
/// sysfs, tmpfs for /dev/shm and /tmp; mqueue and cgroup as empty directories).
const BUILT_IN: [&str; 8] = [
    "/proc",
    "/dev",
    "/dev/pts",
    "/dev/shm",
    "/dev/mqueue",
    "/sys",
    "/sys/fs/cgroup",
    "/tmp",
];

pub fn mounts(spec: &Spec, bundle: &Path) -> Mounts {
    let mut out = Mounts::default();
    for m in spec.mounts().iter().flatten() {
        let dest = m
            .destination()
            .to_string_lossy()
            .trim_end_matches('/')
            .to_string();
        let opts = m.options().clone().unwrap_or_default();
        let typ = m.typ().clone().unwrap_or_default();
        let bind = typ == "bind" || opts.iter().any(|o| o == "bind" || o == "rbind");
        if !dest.starts_with('/') || dest.split('/').any(|c| c == "..") {
            out.skipped.push(format!("{dest}: not an absolute path"));
            continue;
        }
        if bind {
            let Some(src) = m.source() else {
                out.skipped
                    .push(format!("{dest}: bind mount without a source"));
                continue;
            };
            let src = if src.is_absolute() {
                src.clone()
            } else {
                bundle.join(src)
            };
            if src.is_dir() {
                out.binds.push(Bind {
                    host: src,
                    guest: dest,
                    readonly: opts.iter().any(|o| o == "ro"),
                });
            } else {
                // A single file (Docker's hosts, resolv.conf, hostname): a copy, read now.
                const MAX: u64 = 1 << 20;
                match std::fs::metadata(&src) {
                    Ok(md) if md.is_file() && md.len() <= MAX => match std::fs::read(&src) {
                        Ok(contents) => {
                            use std::os::unix::fs::PermissionsExt;
                            out.files
                                .push((dest, contents, md.permissions().mode() & 0o7777));
                        }
                        Err(e) => out
                            .skipped
                            .push(format!("{dest}: reading {}: {e}", src.display())),
                    },
                    Ok(md) if md.is_file() => out.skipped.push(format!(
                        "{dest}: a single-file bind of more than 1 MiB is not supported"
                    )),
                    Ok(_) => out.skipped.push(format!(
                        "{dest}: only directories and regular files are bound"
                    )),
                    Err(e) => out.skipped.push(format!("{dest}: {}: {e}", src.display())),
                }
            }
            continue;
        }
        if BUILT_IN.contains(&dest.as_str()) {
            continue;
        }
        if typ == "tmpfs" {
            out.tmpfs.push(dest);
        } else {
            out.skipped
                .push(format!("{dest}: {typ} mounts are not supported"));
        }
    }
    out
}

/// The RLIMIT_* index of a config.json rlimit type.
pub fn rlimit_index(name: &str) -> Option<usize> {
    const NAMES: [&str; 16] = [
        "RLIMIT_CPU",
        "RLIMIT_FSIZE",
        "RLIMIT_DATA",
        "RLIMIT_STACK",
        "RLIMIT_CORE",
        "RLIMIT_RSS",
        "RLIMIT_NPROC",
        "RLIMIT_NOFILE",
        "RLIMIT_MEMLOCK",
        "RLIMIT_AS",
        "RLIMIT_LOCKS",
        "RLIMIT_SIGPENDING",
        "RLIMIT_MSGQUEUE",
        "RLIMIT_NICE",
        "RLIMIT_RTPRIO",
        "RLIMIT_RTTIME",
    ];
    NAMES.iter().position(|&n| n == name)
}

/// The rlimits of a process, as (index, soft, hard).
pub fn rlimits(process: &Process) -> Result<Vec<(usize, u64, u64)>, SpecError> {
    let mut out = Vec::new();
    for r in process.rlimits().iter().flatten() {
        let name = serde_json::to_value(r.typ())
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        let i = rlimit_index(&name)
            .ok_or_else(|| SpecError(format!("unknown rlimit type {name:?}")))?;
        if r.soft() > r.hard() {
            return Err(SpecError(format!(
                "{name}: soft limit {} above hard limit {}",
                r.soft(),
                r.hard()
            )));
        }
        out.push((i, r.soft(), r.hard()));
    }
    Ok(out)
}

/// The limits `linux.resources` asks for, enforced inside the Sentry: memory.limit (bytes; -1
/// or absent is none) and pids.limit (0 or less is none). CPU quota and shares are not
/// enforced (the container's CPU time is not capped).
pub fn limits(spec: &Spec) -> sentry::kernel::limits::Limits {
    let res = spec.linux().as_ref().and_then(|l| l.resources().as_ref());
    let memory = res
        .and_then(|r| r.memory().as_ref())
        .and_then(|m| m.limit())
        .and_then(|l| u64::try_from(l).ok())
        .filter(|&l| l > 0);
    let pids = res
        .and_then(|r| r.pids().as_ref())
        .map(|p| p.limit())
        .and_then(|l| usize::try_from(l).ok())
        .filter(|&l| l > 0);
    let cpu = super::cgroup::Cpu::from_spec(spec);
    sentry::kernel::limits::Limits {
        memory,
        pids,
        cpu_max: cpu.map(|c| c.max()),
        cpu_weight: cpu.and_then(|c| c.shares.map(|_| c.weight())),
        ..Default::default()
    }
}

/// The egress policy the annotations ask for (None: `dev.runrs.network` absent or `none`, the
/// default: the container's own loopback only):
/// - `dev.runrs.network`: `none`, `sandbox` or `host-open`;
/// - `dev.runrs.network.allow-cidrs`, `dev.runrs.network.allow-hosts`,
///   `dev.runrs.network.add-hosts` (NAME:ADDR), `dev.runrs.network.dns`: comma-separated, as
///   `runrs do`'s `--allow-cidr`, `--allow-host`, `--add-host` and `--dns`.
pub fn network_policy(spec: &Spec) -> Result<Option<crate::netgofer::Policy>, SpecError> {
    let empty = std::collections::HashMap::new();
    let ann = spec.annotations().as_ref().unwrap_or(&empty);
    let list = |key: &str| -> Vec<String> {
        ann.get(key)
            .map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    };
    let bad = |key: &str, e: String| SpecError(format!("annotation {key}: {e}"));
    let mut policy = crate::netgofer::Policy::default();
    match ann.get("dev.runrs.network").map(String::as_str) {
        None | Some("none") => {
            let extra = [
                "dev.runrs.network.allow-cidrs",
                "dev.runrs.network.allow-hosts",
                "dev.runrs.network.add-hosts",
                "dev.runrs.network.dns",
            ];
            if let Some(k) = extra.iter().find(|k| ann.contains_key(**k)) {
                return Err(bad(
                    k,
                    "needs dev.runrs.network sandbox or host-open".into(),
                ));
            }
            return Ok(None);
        }
        Some("sandbox") => {}
        Some("host-open") => policy.open = true,
        Some(other) => {
            return Err(bad(
                "dev.runrs.network",
                format!("{other:?} is not none, sandbox or host-open"),
            ))
        }
    }
    for c in list("dev.runrs.network.allow-cidrs") {
        let c =
            crate::netgofer::parse_cidr(&c).map_err(|e| bad("dev.runrs.network.allow-cidrs", e))?;
        policy.allow.push(c);
    }
    policy.hosts = list("dev.runrs.network.allow-hosts");
    for h in list("dev.runrs.network.add-hosts") {
        let h = crate::netgofer::parse_add_host(&h)
            .map_err(|e| bad("dev.runrs.network.add-hosts", e))?;
        policy.static_hosts.push(h);
    }
    for d in list("dev.runrs.network.dns") {
        let d = d
            .parse()
            .map_err(|_| bad("dev.runrs.network.dns", format!("bad address {d:?}")))?;
        policy.dns.push(d);
    }
    Ok(Some(policy))
}
