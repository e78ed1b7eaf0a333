//! Shared helpers for the differential and end-to-end tests: build a guest program, run it
//! natively and under `runrs do`, and compare.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// The `runrs` binary of the same build as this test (`target/<profile>/runrs`), or `$RUNRS_BIN`.
pub fn runrs_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("RUNRS_BIN") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().expect("current_exe");
    // target/<profile>/deps/<test>-<hash>
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("test binary under target/<profile>/deps");
    let bin = profile_dir.join("runrs");
    assert!(
        bin.exists(),
        "{} not built: run `cargo build` (make test does)",
        bin.display()
    );
    bin
}

/// Scratch directory for built test programs.
pub fn build_dir() -> PathBuf {
    // target/<profile>/deps/<test> → target/tmp/guest-programs
    let exe = std::env::current_exe().expect("current_exe");
    let target = exe
        .ancestors()
        .nth(3)
        .expect("test binary under target/<profile>/deps");
    let d = target.join("tmp/guest-programs");
    std::fs::create_dir_all(&d).expect("create build dir");
    d
}

/// How to build a C test program.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    Static,
    StaticPie,
}

impl Variant {
    pub fn name(self) -> &'static str {
        match self {
            Variant::Static => "static",
            Variant::StaticPie => "static-pie",
        }
    }
}

/// Compiles `src` with gcc; returns the binary's path.
pub fn compile(src: &Path, variant: Variant) -> Result<PathBuf, String> {
    // Named after the source's directory too: tests/c/x.c and tests/guest/x.c are different programs.
    let dir = src
        .parent()
        .and_then(|d| d.file_name())
        .and_then(|s| s.to_str())
        .unwrap_or("src");
    let name = src
        .file_stem()
        .and_then(|s| s.to_str())
        .ok_or("bad file name")?;
    let stem = format!("{dir}-{name}");
    let out = build_dir().join(format!("{stem}.{}", variant.name()));
    let flag = match variant {
        Variant::Static => "-static",
        Variant::StaticPie => "-static-pie",
    };
    let fresh = out
        .metadata()
        .and_then(|m| m.modified())
        .ok()
        .zip(src.metadata().and_then(|m| m.modified()).ok())
        .is_some_and(|(o, s)| o >= s);
    if fresh {
        return Ok(out);
    }
    // A name of this call's own: tests of one process compile the same program at once.
    static CALLS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = build_dir().join(format!(
        "{stem}.{}.tmp{}-{call}",
        variant.name(),
        std::process::id()
    ));
    let r = Command::new("gcc")
        .args([flag, "-O1", "-Wall", "-Werror", "-o"])
        .arg(&tmp)
        .arg(src)
        .output()
        .map_err(|e| format!("running gcc: {e}"))?;
    if !r.status.success() {
        return Err(format!(
            "gcc failed for {}:\n{}",
            src.display(),
            String::from_utf8_lossy(&r.stderr)
        ));
    }
    std::fs::rename(&tmp, &out).map_err(|e| e.to_string())?;
    Ok(out)
}

/// What a run produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// Exit status as a shell reports it (128+N for signal N).
    pub code: i32,
}

/// Longest a single guest run may take before the test fails (and kills it).
pub const RUN_TIMEOUT: Duration = Duration::from_secs(120);

/// Runs `cmd` with `stdin` (None: /dev/null), capturing output, killing it after `RUN_TIMEOUT`.
pub fn run(mut cmd: Command, stdin: Option<&[u8]>) -> Result<Outcome, String> {
    use std::os::unix::process::ExitStatusExt;
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let desc = format!("{cmd:?}");
    let mut child = cmd.spawn().map_err(|e| format!("spawning {desc}: {e}"))?;
    if let Some(input) = stdin {
        let mut w = child.stdin.take().expect("piped stdin");
        let input = input.to_vec();
        std::thread::spawn(move || {
            let _ = w.write_all(&input);
        });
    }
    let mut out = child.stdout.take().expect("piped stdout");
    let mut err = child.stderr.take().expect("piped stderr");
    let t_out = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let t_err = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    let start = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().map_err(|e| e.to_string())? {
            break st;
        }
        if start.elapsed() > RUN_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("{desc} did not finish within {RUN_TIMEOUT:?}"));
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let code = status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(0));
    Ok(Outcome {
        stdout: t_out.join().unwrap_or_default(),
        stderr: t_err.join().unwrap_or_default(),
        code,
    })
}

/// Runs `program args` natively.
pub fn native(program: &Path, args: &[&str], stdin: Option<&[u8]>) -> Result<Outcome, String> {
    let mut cmd = Command::new(program);
    cmd.args(args);
    run(cmd, stdin)
}

/// Runs `program args` under `runrs do` with extra runrs flags.
pub fn sandboxed(
    flags: &[&str],
    program: &Path,
    args: &[&str],
    stdin: Option<&[u8]>,
) -> Result<Outcome, String> {
    let mut cmd = Command::new(runrs_bin());
    cmd.arg("do");
    // The sandbox has its own /tmp: a checkout under the host's /tmp comes in as a
    // copy-on-write volume at the same path (what the tests create there stays visible, and
    // what the guest changes stays in the sandbox).
    let r = root();
    if r.starts_with("/tmp") || r.starts_with("/dev/shm") {
        cmd.arg("--volume")
            .arg(format!("{}:{}:overlay", r.display(), r.display()));
    }
    cmd.args(flags).arg("--").arg(program).args(args);
    run(cmd, stdin)
}

/// Runs natively and under runrs; Ok if stdout and exit status match, else a report of both.
pub fn differential(program: &Path, args: &[&str], stdin: Option<&[u8]>) -> Result<(), String> {
    let n = native(program, args, stdin)?;
    let s = sandboxed(&[], program, args, stdin)?;
    if n.stdout == s.stdout && n.code == s.code {
        return Ok(());
    }
    Err(format!(
        "{} {:?}: native and runrs differ\n--- native (exit {}):\n{}\n--- runrs (exit {}):\n{}\n--- runrs stderr:\n{}\n--- first differing line:\n{}",
        program.display(),
        args,
        n.code,
        String::from_utf8_lossy(&n.stdout),
        s.code,
        String::from_utf8_lossy(&s.stdout),
        String::from_utf8_lossy(&s.stderr),
        first_diff(&n.stdout, &s.stdout),
    ))
}

fn first_diff(a: &[u8], b: &[u8]) -> String {
    let (a, b) = (String::from_utf8_lossy(a), String::from_utf8_lossy(b));
    for (i, (x, y)) in a.lines().zip(b.lines()).enumerate() {
        if x != y {
            return format!("line {}: native {x:?} / runrs {y:?}", i + 1);
        }
    }
    format!(
        "line counts: native {} / runrs {}",
        a.lines().count(),
        b.lines().count()
    )
}

/// The header of a differential C program (see tests/c/README.md).
#[derive(Debug, Default)]
pub struct Header {
    pub variants: Vec<Variant>,
    pub args: Vec<String>,
    pub stdin: Option<Vec<u8>>,
}

/// Parses the `// key: value` lines at the top of a test program.
pub fn parse_header(src: &str) -> Header {
    let mut h = Header::default();
    for line in src.lines().take_while(|l| l.starts_with("//")) {
        let line = line.trim_start_matches('/').trim();
        if let Some(v) = line.strip_prefix("variants:") {
            for w in v.split_whitespace() {
                match w {
                    "static" => h.variants.push(Variant::Static),
                    "static-pie" => h.variants.push(Variant::StaticPie),
                    other => panic!("unknown variant {other}"),
                }
            }
        } else if let Some(v) = line.strip_prefix("args:") {
            h.args = v.split_whitespace().map(String::from).collect();
        } else if let Some(v) = line.strip_prefix("stdin:") {
            let mut s = v.trim_start().as_bytes().to_vec();
            s.push(b'\n');
            h.stdin = Some(s);
        }
    }
    if h.variants.is_empty() {
        h.variants.push(Variant::Static);
    }
    h
}

/// The host children of `pid` that are guest stubs (one per guest process).
pub fn stubs_of(pid: u32) -> Vec<u32> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    tasks
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("children")).ok())
        .flat_map(|s| {
            s.split_whitespace()
                .filter_map(|c| c.parse::<u32>().ok())
                .collect::<Vec<_>>()
        })
        .filter(|c| is_stub(*c))
        .collect()
}

/// Whether host process `pid` is a guest stub (it runs the sealed stub image).
pub fn is_stub(pid: u32) -> bool {
    std::fs::read_link(format!("/proc/{pid}/exe"))
        .is_ok_and(|p| p.to_string_lossy().contains("runrs-stub"))
}

/// How confined a host process is: its /proc/PID/status fields and the entries of its root.
#[derive(Debug)]
pub struct Confinement {
    pub seccomp: String,
    pub no_new_privs: String,
    pub cap_eff: String,
    pub cap_bnd: String,
    pub cap_prm: String,
    pub root_entries: usize,
}

pub fn confinement(pid: u32) -> Confinement {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |k: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(k))
            .map(|v| v.trim().to_string())
            .unwrap_or_default()
    };
    Confinement {
        seccomp: field("Seccomp:"),
        no_new_privs: field("NoNewPrivs:"),
        cap_eff: field("CapEff:"),
        cap_bnd: field("CapBnd:"),
        cap_prm: field("CapPrm:"),
        root_entries: std::fs::read_dir(format!("/proc/{pid}/root"))
            .map(|d| d.count())
            .unwrap_or(usize::MAX),
    }
}

/// The child of host process `pid` whose argv[1] is `arg` (`gofer`, `netgofer`), if any.
pub fn child_with_arg(pid: u32, arg: &[u8]) -> Option<u32> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).ok()?;
    tasks
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("children")).ok())
        .flat_map(|s| {
            s.split_whitespace()
                .filter_map(|c| c.parse::<u32>().ok())
                .collect::<Vec<_>>()
        })
        .find(|c| {
            std::fs::read(format!("/proc/{c}/cmdline"))
                .is_ok_and(|c| c.split(|&b| b == 0).nth(1) == Some(arg))
        })
}

/// The test process's effective uid (read from /proc rather than calling geteuid: no unsafe
/// here).
pub fn euid_from_proc() -> u32 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|v| v.split_whitespace().nth(1).map(|s| s.parse().unwrap()))
        .unwrap()
}
