//! A container's state on the host: one directory per container under the runtime's root
//! (`--root`, default `/run/runrs`), holding `state.json` and the Sentry's control socket.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// What `runrs create` records (and `start`, `pause`, `resume` update).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Saved {
    pub id: String,
    /// The Sentry's host PID: the container's init, as runc's.
    pub pid: i32,
    /// Its start time (field 22 of /proc/PID/stat), so a reused PID is not taken for it.
    pub start_time: u64,
    pub bundle: String,
    pub rootfs: String,
    pub created: String,
    pub owner: String,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    pub started: bool,
    pub paused: bool,
    /// The hooks still to run (poststart at start, poststop at delete), as in config.json.
    #[serde(default)]
    pub hooks: Option<oci_spec::runtime::Hooks>,
    /// For a container of a pod: the pod's sandbox (the container whose Sentry runs it). `pid`
    /// is then the process that waits for it on the host (`runrs container-wait`).
    #[serde(default)]
    pub sandbox: Option<String>,
    /// For a container of a pod: its process's PID inside the sandbox.
    #[serde(default)]
    pub sandbox_pid: Option<i32>,
    /// The host cgroup enforcing its CPU limits, removed at delete.
    #[serde(default)]
    pub cgroup: Option<String>,
}

impl Saved {
    /// The container whose Sentry runs this one (itself, unless it is a pod's container).
    pub fn sentry_id(&self) -> &str {
        self.sandbox.as_deref().unwrap_or(&self.id)
    }
}

/// A container's status, as runc reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Created,
    Running,
    Paused,
    Stopped,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::Running => "running",
            Status::Paused => "paused",
            Status::Stopped => "stopped",
        }
    }
}

impl Saved {
    pub fn status(&self) -> Status {
        if !alive(self.pid, self.start_time) {
            Status::Stopped
        } else if self.paused {
            Status::Paused
        } else if self.started {
            Status::Running
        } else {
            Status::Created
        }
    }

    /// The state document of the OCI runtime spec (what `runrs state` prints and hooks read).
    pub fn oci_state(&self) -> serde_json::Value {
        let status = self.status();
        let mut v = serde_json::json!({
            "ociVersion": "1.0.2-dev",
            "id": self.id,
            "pid": if status == Status::Stopped { 0 } else { self.pid },
            "status": status.name(),
            "bundle": self.bundle,
            "rootfs": self.rootfs,
            "created": self.created,
            "owner": "",
        });
        if !self.annotations.is_empty() {
            v["annotations"] = serde_json::json!(self.annotations);
        }
        v
    }
}

/// The directory of container `id`.
pub fn dir(root: &Path, id: &str) -> PathBuf {
    root.join(id)
}

/// Reads container `id`'s state; None if there is no such container.
pub fn load(root: &Path, id: &str) -> Option<Saved> {
    let bytes = std::fs::read(dir(root, id).join("state.json")).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Writes the state (atomically: a reader sees the old or the new file, whole).
pub fn save(root: &Path, s: &Saved) -> std::io::Result<()> {
    let d = dir(root, &s.id);
    let tmp = d.join("state.json.tmp");
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(&serde_json::to_vec(s).map_err(std::io::Error::other)?)?;
    f.sync_all()?;
    std::fs::rename(tmp, d.join("state.json"))
}

/// The containers under `root`, by id.
pub fn list(root: &Path) -> Vec<Saved> {
    let mut out: Vec<Saved> = std::fs::read_dir(root)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| load(root, &e.file_name().to_string_lossy()))
        .collect();
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out
}

/// Whether `pid` is the live process that started at `start_time` (a zombie is not live).
pub fn alive(pid: i32, start_time: u64) -> bool {
    match proc_stat(pid) {
        Some((state, st)) => st == start_time && state != 'Z' && state != 'X',
        None => false,
    }
}

/// The state letter and start time of `pid`, from /proc/PID/stat.
pub fn proc_stat(pid: i32) -> Option<(char, u64)> {
    if pid <= 0 {
        return None;
    }
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces and parentheses: the fields start after the last ')'.
    let rest = &s[s.rfind(')')? + 1..];
    let mut f = rest.split_whitespace();
    let state = f.next()?.chars().next()?;
    // Fields 3.. follow; the start time is field 22.
    let start = f.nth(18)?.parse().ok()?;
    Some((state, start))
}

/// Waits up to `timeout` for `pid` (started at `start_time`) to be gone.
pub fn wait_gone(pid: i32, start_time: u64, timeout: std::time::Duration) -> bool {
    let t0 = std::time::Instant::now();
    while alive(pid, start_time) {
        if t0.elapsed() > timeout {
            return false;
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    true
}

/// The current time as RFC 3339 with nanoseconds, UTC (as runc's `created`).
pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_nanos(std::time::SystemTime::now()).to_string()
}
