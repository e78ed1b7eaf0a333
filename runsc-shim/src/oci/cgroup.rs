//! CPU limits of `linux.resources.cpu`, enforced by a host cgroup: the container's Sentry joins
//! it before it makes anything (its Gofer, net gofer and stubs are born inside), so the whole
//! sandbox shares the quota and the weight. Memory and pids limits are the Sentry's own (see
//! `sentry::kernel::limits`); the guest sees all of them in its /sys/fs/cgroup.
//!
//! The cgroup is `linux.cgroupsPath` under the host's cpu controller when that path is a
//! cgroupfs path (`/a/b`), else `runrs/ID`; a systemd-style path (`slice:prefix:name`) is not
//! managed by systemd here but mapped to `runrs/ID` too. cgroup v1 (the `cpu` hierarchy) and v2
//! (the unified hierarchy, `cpu.max` and `cpu.weight`) are both handled. `runrs delete` removes it.

use oci_spec::runtime::Spec;
use std::path::{Path, PathBuf};

/// The CPU part of `linux.resources`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cpu {
    /// Microseconds of CPU per period (None or negative: no limit).
    pub quota: Option<i64>,
    pub period: Option<u64>,
    pub shares: Option<u64>,
}

impl Cpu {
    pub fn from_spec(spec: &Spec) -> Option<Cpu> {
        let c = spec
            .linux()
            .as_ref()?
            .resources()
            .as_ref()?
            .cpu()
            .as_ref()?;
        let cpu = Cpu {
            quota: c.quota().filter(|&q| q > 0),
            period: c.period().filter(|&p| p > 0),
            shares: c.shares().filter(|&s| s > 0),
        };
        (cpu != Cpu::default()).then_some(cpu)
    }

    /// cgroup v2's `cpu.max`: "QUOTA PERIOD" or "max PERIOD".
    pub fn max(&self) -> String {
        let period = self.period.unwrap_or(100_000);
        match self.quota {
            Some(q) => format!("{q} {period}"),
            None => format!("max {period}"),
        }
    }

    /// cgroup v2's `cpu.weight` from v1 shares, as runc converts them (2..262144 to 1..10000).
    pub fn weight(&self) -> u64 {
        self.shares
            .map_or(100, |s| 1 + (s.clamp(2, 262_144) - 2) * 9999 / 262_142)
    }
}

/// Where the host's cpu controller is mounted, and whether that is the unified (v2) hierarchy.
fn cpu_controller() -> Option<(PathBuf, bool)> {
    let info = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    let mut unified = None;
    for line in info.lines() {
        // ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTIONS
        let (left, right) = line.split_once(" - ")?;
        let mount = left.split(' ').nth(4)?;
        let mut r = right.split(' ');
        let (fstype, _, superopts) = (r.next()?, r.next(), r.next().unwrap_or(""));
        if fstype == "cgroup" && superopts.split(',').any(|o| o == "cpu") {
            return Some((PathBuf::from(mount), false));
        }
        if fstype == "cgroup2" && unified.is_none() {
            let controllers = std::fs::read_to_string(Path::new(mount).join("cgroup.controllers"))
                .unwrap_or_default();
            if controllers.split_whitespace().any(|c| c == "cpu") {
                unified = Some(PathBuf::from(mount));
            }
        }
    }
    unified.map(|m| (m, true))
}

/// The cgroup directory container `id` gets (whether or not it exists yet).
pub fn path_for(spec: &Spec, id: &str) -> Option<PathBuf> {
    let (mount, _) = cpu_controller()?;
    let rel = spec
        .linux()
        .as_ref()
        .and_then(|l| l.cgroups_path().as_ref())
        .map(|p| p.to_string_lossy().into_owned())
        .filter(|p| p.starts_with('/') && !p.split('/').any(|c| c == ".."))
        .map(|p| p.trim_start_matches('/').to_string())
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| format!("runrs/{id}"));
    Some(mount.join(rel))
}

/// Makes the cgroup `dir` with the limits of `cpu`, and moves the calling process into it.
pub fn join(dir: &Path, cpu: &Cpu) -> Result<(), String> {
    let unified = cpu_controller().is_some_and(|(_, v2)| v2);
    std::fs::create_dir_all(dir).map_err(|e| format!("cgroup {}: {e}", dir.display()))?;
    let write = |file: &str, value: String| {
        std::fs::write(dir.join(file), &value)
            .map_err(|e| format!("cgroup {}: {file} = {value}: {e}", dir.display()))
    };
    if unified {
        if let Some(parent) = dir.parent() {
            // The cpu controller must be enabled for the children of the parent.
            let _ = std::fs::write(parent.join("cgroup.subtree_control"), "+cpu");
        }
        write("cpu.max", cpu.max())?;
        if cpu.shares.is_some() {
            write("cpu.weight", cpu.weight().to_string())?;
        }
    } else {
        if let Some(p) = cpu.period {
            write("cpu.cfs_period_us", p.to_string())?;
        }
        if let Some(q) = cpu.quota {
            write("cpu.cfs_quota_us", q.to_string())?;
        }
        if let Some(s) = cpu.shares {
            write("cpu.shares", s.to_string())?;
        }
    }
    write("cgroup.procs", std::process::id().to_string())
}

/// Removes the cgroup; a missing one is fine. What still runs in it (a Gofer or stub of the
/// Sentry just killed, on its way out) is killed first, as runc's delete does.
pub fn remove(dir: &Path) {
    let t0 = std::time::Instant::now();
    loop {
        let procs = std::fs::read_to_string(dir.join("cgroup.procs")).unwrap_or_default();
        for pid in procs.lines().filter_map(|p| p.trim().parse::<i32>().ok()) {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
        match std::fs::remove_dir(dir) {
            Ok(()) => return,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return,
            Err(e) if t0.elapsed() > std::time::Duration::from_secs(5) => {
                tracing::warn!("removing cgroup {}: {e}", dir.display());
                return;
            }
            // Busy: its last processes are exiting.
            Err(_) => std::thread::sleep(std::time::Duration::from_millis(5)),
        }
    }
}
