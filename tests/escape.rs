//! Escape tests: guest programs (tests/escape/*.c) that try to get out of the sandbox (host
//! files, `..` and symlinks and hardlinks out of the root or a volume, a symlink swapped on the
//! host while the guest resolves it, openat2, host sockets, host processes, the Sentry's memory,
//! the terminal, the host's disk, memory, CPU and pids, mounts and namespaces, devices), run
//! under `runrs do` only. Each guest prints one line per attempt ("...: contained (ERRNO)",
//! "...: allowed inside the sandbox", or "ESCAPED: ...") and exits 0 only if nothing escaped;
//! each test checks that transcript and, on the host, that nothing outside changed.

use runrs_tests::*;
use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Builds tests/escape/NAME.c (static).
fn guest(name: &str) -> PathBuf {
    // Tests run in parallel: one gcc at a time (compile's temporary name is per process).
    static BUILD: Mutex<()> = Mutex::new(());
    let _lock = BUILD.lock().unwrap_or_else(|e| e.into_inner());
    let dir = root().join("tests/escape");
    let src = dir.join(format!("{name}.c"));
    // compile() compares the binary only with its source: a newer escape.h rebuilds it too.
    let bin = build_dir().join(format!("escape-{name}.static"));
    let mtime = |p: &Path| p.metadata().and_then(|m| m.modified()).ok();
    if let (Some(h), Some(b)) = (mtime(&dir.join("escape.h")), mtime(&bin)) {
        if h > b {
            let _ = std::fs::remove_file(&bin);
        }
    }
    compile(&src, Variant::Static).unwrap_or_else(|e| panic!("{e}"))
}

/// A fresh scratch directory for one test (under target/, never the host's /tmp).
fn scratch(name: &str) -> PathBuf {
    let d = build_dir().join("escape").join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn s(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

fn stdout(o: &Outcome) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Outcome) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs a guest under `runrs do FLAGS`.
fn run_guest(flags: &[String], prog: &Path, args: &[String]) -> Outcome {
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    sandboxed(&flags, prog, &args, None).unwrap_or_else(|e| panic!("{e}"))
}

fn strings<const N: usize>(v: [&str; N]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// The guest exited 0, and no line says it escaped or that its setup failed.
fn assert_contained(o: &Outcome) {
    let out = stdout(o);
    assert!(
        o.code == 0 && !out.contains("ESCAPED") && !out.contains("SETUP FAILED"),
        "the guest got out (exit {}):\n{out}\n--- stderr:\n{}",
        o.code,
        stderr(o)
    );
}

/// Whether a transcript line matches its pattern: the same text; or, for a pattern ending in
/// "(A|B|...)", the text with one of the alternatives; or, for a pattern ending in ": inside",
/// either ": allowed inside the sandbox" (the host side is checked separately) or
/// ": contained (ANYTHING)".
fn line_matches(pattern: &str, line: &str) -> bool {
    if pattern == line {
        return true;
    }
    if let Some(head) = pattern.strip_suffix(": inside") {
        return line == format!("{head}: allowed inside the sandbox")
            || line
                .strip_prefix(head)
                .and_then(|r| r.strip_prefix(": contained ("))
                .is_some_and(|r| r.ends_with(')'));
    }
    if let (Some(open), true) = (pattern.rfind('('), pattern.ends_with(')')) {
        let head = &pattern[..open];
        let alts = &pattern[open + 1..pattern.len() - 1];
        return alts.contains('|') && alts.split('|').any(|a| line == format!("{head}({a})"));
    }
    false
}

/// The guest's transcript matches `patterns` line by line, and it exited 0 with no escape.
fn assert_transcript<S: AsRef<str>>(o: &Outcome, patterns: &[S]) {
    assert_contained(o);
    let out = stdout(o);
    let lines: Vec<&str> = out.lines().collect();
    let mut bad = Vec::new();
    for (i, p) in patterns.iter().enumerate() {
        let p = p.as_ref();
        match lines.get(i) {
            Some(l) if line_matches(p, l) => {}
            Some(l) => bad.push(format!(
                "line {}: expected {p:?}\n         got      {l:?}",
                i + 1
            )),
            None => bad.push(format!("line {}: expected {p:?}, got nothing", i + 1)),
        }
    }
    if lines.len() > patterns.len() {
        bad.push(format!("extra lines: {:?}", &lines[patterns.len()..]));
    }
    assert!(
        bad.is_empty(),
        "{}\n--- stdout:\n{out}\n--- stderr:\n{}",
        bad.join("\n"),
        stderr(o)
    );
}

/// Every line of the transcript either was contained or stayed inside the sandbox.
fn assert_every_line_contained_or_inside(o: &Outcome, lines: usize) {
    assert_contained(o);
    let out = stdout(o);
    assert_eq!(out.lines().count(), lines, "{out}");
    for l in out.lines() {
        assert!(
            l.ends_with(": allowed inside the sandbox") || l.contains(": contained ("),
            "{l:?} in\n{out}"
        );
    }
}

/// What a guest could change about a host tree: per path its type and mode, owner, size,
/// mtime, inode and link count, and a file's content or a symlink's target.
fn snapshot(top: &Path) -> BTreeMap<PathBuf, String> {
    fn walk(p: &Path, out: &mut BTreeMap<PathBuf, String>) {
        let Ok(m) = std::fs::symlink_metadata(p) else {
            return;
        };
        let mut desc = format!(
            "mode {:o} owner {}:{} size {} mtime {}.{} ino {} nlink {} rdev {}",
            m.mode(),
            m.uid(),
            m.gid(),
            m.size(),
            m.mtime(),
            m.mtime_nsec(),
            m.ino(),
            m.nlink(),
            m.rdev()
        );
        if m.file_type().is_symlink() {
            desc += &format!(" -> {:?}", std::fs::read_link(p).ok());
        } else if m.is_file() {
            let data = std::fs::read(p).unwrap_or_default();
            desc += &format!(" content {:?}", String::from_utf8_lossy(&data));
        }
        out.insert(p.to_path_buf(), desc);
        if m.is_dir() {
            if let Ok(rd) = std::fs::read_dir(p) {
                for e in rd.flatten() {
                    walk(&e.path(), out);
                }
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(top, &mut out);
    out
}

fn assert_unchanged(before: &BTreeMap<PathBuf, String>, after: &BTreeMap<PathBuf, String>) {
    let keys: BTreeSet<&PathBuf> = before.keys().chain(after.keys()).collect();
    let diffs: Vec<String> = keys
        .into_iter()
        .filter(|k| before.get(*k) != after.get(*k))
        .map(|k| {
            format!(
                "{}: before {:?}, after {:?}",
                k.display(),
                before.get(k),
                after.get(k)
            )
        })
        .collect();
    assert!(
        diffs.is_empty(),
        "the guest changed the host:\n{}",
        diffs.join("\n")
    );
}

/// Names in `dir` containing `part`.
fn entries_named(dir: &Path, part: &str) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.contains(part))
                .collect()
        })
        .unwrap_or_default()
}

fn names(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

// 1. Writing host files.

/// The attempts write_host.c makes per existing path (one less for a missing one).
const WRITE_ATTEMPTS: usize = 17;

#[test]
fn host_files_cannot_be_written() {
    let prog = guest("write_host");
    let dir = scratch("write");
    let host_file = dir.join("host-file");
    std::fs::write(&host_file, "original\n").unwrap();
    let ro = dir.join("ro");
    std::fs::create_dir(&ro).unwrap();
    std::fs::write(ro.join("ro-file"), "read-only\n").unwrap();
    let etc = Path::new("/etc/runrs-escape-test");
    assert!(!etc.exists(), "{} left over", etc.display());
    let before = snapshot(&dir);
    let passwd = snapshot(Path::new("/etc/passwd"));

    // The root with its memory overlay: writes are accepted and kept in the sandbox.
    let out = run_guest(
        &[],
        &prog,
        &strings(["overlay", "/etc/runrs-escape-test", s(&host_file)]),
    );
    assert_every_line_contained_or_inside(&out, 2 * WRITE_ATTEMPTS);
    assert!(
        stdout(&out).contains(&format!(
            "open(O_CREAT|O_TRUNC)+write {}: allowed inside the sandbox",
            host_file.display()
        )),
        "{}",
        stdout(&out)
    );

    // A read-only root and a :ro volume: every change fails.
    let ro_file = ro.join("ro-file");
    let new_file = ro.join("new-file");
    let runs = [
        (
            strings(["--overlay", "none"]),
            strings(["ro", "/etc/runrs-escape-test", s(&host_file)]),
            host_file.clone(),
        ),
        (
            vec![
                "--volume".to_string(),
                format!("{}:{}:ro", ro.display(), ro.display()),
            ],
            strings(["ro", s(&ro_file), s(&new_file)]),
            ro_file.clone(),
        ),
    ];
    for (flags, args, existing) in &runs {
        let out = run_guest(flags, &prog, args);
        // A path that does not exist has no read-only fd to ftruncate: one line less.
        assert_every_line_contained_or_inside(&out, 2 * WRITE_ATTEMPTS - 1);
        let text = stdout(&out);
        assert!(!text.contains("allowed inside"), "{flags:?}: {text}");
        let p = existing.display();
        for attempt in [
            format!("open(O_CREAT|O_TRUNC)+write {p}: contained (EROFS)"),
            format!("open(O_APPEND)+write {p}: contained (EROFS)"),
            format!("reopen a read-only fd for writing via /proc/self/fd: {p}: contained (EROFS)"),
            format!("truncate {p}: contained (EROFS)"),
            format!("chmod 4777 {p}: contained (EROFS)"),
            format!("unlink {p}: contained (EROFS)"),
        ] {
            assert!(
                text.lines().any(|l| l == attempt),
                "{flags:?}: no {attempt:?} in\n{text}"
            );
        }
    }

    // Nothing changed on the host.
    assert_unchanged(&before, &snapshot(&dir));
    assert_unchanged(&passwd, &snapshot(Path::new("/etc/passwd")));
    assert_eq!(
        entries_named(Path::new("/etc"), "runrs-escape"),
        Vec::<String>::new()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

// 2. ".." above the root and out of a volume.

#[test]
fn dotdot_never_leaves_the_root_or_a_volume() {
    let prog = guest("dotdot");
    let dir = scratch("dotdot");
    let vol = dir.join("vol");
    std::fs::create_dir(&vol).unwrap();
    let before = snapshot(&dir);
    // The volume at its host path: VOLUME/.. names the same directory in the guest and on
    // the host, so a ".." the Gofer walked on the host would write into it.
    let out = run_guest(
        &[
            "--volume".to_string(),
            format!("{}:{}", vol.display(), vol.display()),
        ],
        &prog,
        &[s(&vol).to_string()],
    );
    assert_every_line_contained_or_inside(&out, 43);
    let text = stdout(&out);
    for l in text.lines().filter(|l| l.starts_with("stat ")) {
        assert!(l.ends_with("contained (the sandbox's own)"), "{l}");
    }
    assert!(
        text.contains("create VOLUME/../runrs-escape-dotdot-1: allowed inside the sandbox"),
        "{text}"
    );
    // What the guest created through ".." is in its overlay, not on the host.
    assert_unchanged(&before, &snapshot(&dir));
    assert_eq!(
        entries_named(Path::new("/"), "runrs-escape"),
        Vec::<String>::new()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

// 3. Symlinks and hardlinks in a volume, and a symlink swapped on the host.

#[test]
fn symlinks_and_hardlinks_do_not_lead_out_of_a_volume() {
    let prog = guest("links");
    let dir = scratch("links");
    let (vol, outside) = (dir.join("vol"), dir.join("outside"));
    std::fs::create_dir(&vol).unwrap();
    std::fs::create_dir(&outside).unwrap();
    std::fs::write(outside.join("target.txt"), "target\n").unwrap();
    std::fs::write(outside.join("hardlink-source"), "source\n").unwrap();
    std::os::unix::fs::symlink(&outside, vol.join("hostlink")).unwrap();
    let before = snapshot(&outside);
    let passwd = snapshot(Path::new("/etc/passwd"));
    let out = run_guest(
        &[
            "--volume".to_string(),
            format!("{}:{}", vol.display(), vol.display()),
        ],
        &prog,
        &[s(&vol).to_string(), s(&outside).to_string()],
    );
    assert_transcript(
        &out,
        &[
            "create OUTSIDE/created-via-rootlink through VOLUME/rootlink -> /: inside",
            "create /etc/runrs-escape-via-rootlink through VOLUME/rootlink -> /: inside",
            "open(O_TRUNC)+write through VOLUME/targetlink -> OUTSIDE/target.txt: inside",
            "open(O_WRONLY|O_APPEND) through VOLUME/passwdlink -> /etc/passwd (nothing written): inside",
            "create through VOLUME/uplink -> ../outside: inside",
            "create through the host-made VOLUME/hostlink -> OUTSIDE: inside",
            "unlink OUTSIDE/target.txt through VOLUME/rootlink: inside",
            "mkdir OUTSIDE/mkdir-via-rootlink through VOLUME/rootlink: inside",
            "link OUTSIDE/hardlink-source into the volume: contained (EXDEV)",
            "link /etc/passwd into the volume: contained (EXDEV)",
            "linkat(AT_SYMLINK_FOLLOW) of VOLUME/sourcelink -> OUTSIDE/hardlink-source into the volume: contained (EXDEV)",
            "linkat(AT_EMPTY_PATH) of an fd of OUTSIDE/hardlink-source into the volume: contained (EXDEV|ENOENT)",
            "linkat(/proc/self/fd/N, AT_SYMLINK_FOLLOW) of OUTSIDE/hardlink-source into the volume: contained (EXDEV)",
            "link VOLUME/inside.txt to OUTSIDE: contained (EXDEV)",
            "rename OUTSIDE/hardlink-source into the volume: contained (EXDEV)",
            "rename VOLUME/inside.txt to OUTSIDE: contained (EXDEV)",
            "mknod c 1 3 in the volume: contained (EPERM)",
            "mknod b 8 0 in the volume: contained (EPERM)",
        ],
    );
    // Outside the volume nothing changed; in it, only the guest's symlinks and its own file.
    assert_unchanged(&before, &snapshot(&outside));
    assert_unchanged(&passwd, &snapshot(Path::new("/etc/passwd")));
    assert_eq!(
        entries_named(Path::new("/etc"), "runrs-escape"),
        Vec::<String>::new()
    );
    assert_eq!(
        names(&vol),
        [
            "hostlink",
            "inside.txt",
            "passwdlink",
            "rootlink",
            "sourcelink",
            "targetlink",
            "uplink"
        ]
        .iter()
        .map(|s| s.to_string())
        .collect::<BTreeSet<_>>()
    );
    let outside_inodes: BTreeSet<u64> = ["target.txt", "hardlink-source"]
        .iter()
        .map(|n| outside.join(n).metadata().unwrap().ino())
        .collect();
    for e in std::fs::read_dir(&vol).unwrap().flatten() {
        let m = e.path().symlink_metadata().unwrap();
        if m.is_file() {
            assert_eq!(m.nlink(), 1, "{} is a hardlink", e.path().display());
            assert!(!outside_inodes.contains(&m.ino()), "{}", e.path().display());
        }
        assert!(
            m.is_file() || m.is_symlink(),
            "{}: {:?}",
            e.path().display(),
            m.file_type()
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Swaps two names atomically (renameat2 RENAME_EXCHANGE).
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let a = std::ffi::CString::new(a.as_os_str().as_bytes()).unwrap();
    let b = std::ffi::CString::new(b.as_os_str().as_bytes()).unwrap();
    // SAFETY: both are valid NUL-terminated strings that outlive the call.
    let r = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[test]
fn a_symlink_swapped_on_the_host_never_leads_out() {
    let prog = guest("race");
    let dir = scratch("race");
    let (vol, masked, empty) = (dir.join("vol"), dir.join("masked"), dir.join("empty"));
    for d in [&vol, &masked, &empty] {
        std::fs::create_dir(d).unwrap();
    }
    // On the host: FLIP is a directory with the volume's marker, ALT a symlink to MASKED,
    // where the host's marker is. In the guest MASKED is covered by an empty volume.
    std::fs::create_dir(vol.join("flip")).unwrap();
    std::fs::write(vol.join("flip/escape-marker-host"), "volume\n").unwrap();
    std::fs::write(masked.join("escape-marker-host"), "host\n").unwrap();
    std::os::unix::fs::symlink(&masked, vol.join("alt")).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let flips = Arc::new(AtomicUsize::new(0));
    let flipper = {
        let (stop, flips, vol, masked) = (stop.clone(), flips.clone(), vol.clone(), masked.clone());
        std::thread::spawn(move || {
            let (flip, alt, tmp) = (vol.join("flip"), vol.join("alt"), vol.join("alt.tmp"));
            let (mut n, mut absolute) = (0usize, false);
            while !stop.load(Ordering::Relaxed) {
                // FLIP becomes the symlink for a moment, then the directory again.
                exchange(&flip, &alt).expect("RENAME_EXCHANGE");
                for _ in 0..3 {
                    let _ = std::fs::symlink_metadata(&flip);
                }
                exchange(&flip, &alt).expect("RENAME_EXCHANGE");
                n += 2;
                flips.store(n, Ordering::Relaxed);
                // ALT is the symlink again: point it elsewhere (absolute, or relative
                // "../masked", which only a resolution on the host would follow there).
                absolute = !absolute;
                let target = if absolute {
                    masked.clone()
                } else {
                    PathBuf::from("../masked")
                };
                std::os::unix::fs::symlink(&target, &tmp).unwrap();
                std::fs::rename(&tmp, &alt).unwrap();
            }
        })
    };
    std::thread::sleep(Duration::from_millis(50));
    let out = run_guest(
        &[
            "--volume".to_string(),
            format!("{}:{}", vol.display(), vol.display()),
            "--volume".to_string(),
            format!("{}:{}:ro", empty.display(), masked.display()),
        ],
        &prog,
        &[
            s(&vol.join("flip")).to_string(),
            s(&masked).to_string(),
            "2000".to_string(),
        ],
    );
    stop.store(true, Ordering::Relaxed);
    flipper.join().unwrap();
    let n = flips.load(Ordering::Relaxed);
    assert!(n > 100, "the host swapped the symlink only {n} times");
    // Both sides of the race were seen: the test exercised it.
    assert_transcript(
        &out,
        &[
            "race: at least 2000 rounds: saw the volume's marker yes, none yes, other 0; created files yes",
            "open through a symlink swapped on the host: contained (never the host's marker)",
            "stat through a symlink swapped on the host: contained (never the host's marker)",
        ],
    );
    // The files the guest created went into the volume, never through to the host's MASKED.
    assert_eq!(
        names(&masked),
        ["escape-marker-host".to_string()]
            .into_iter()
            .collect::<BTreeSet<_>>()
    );
    assert_eq!(
        std::fs::read_to_string(masked.join("escape-marker-host")).unwrap(),
        "host\n"
    );
    assert!(names(&empty).is_empty(), "{:?}", names(&empty));
    std::fs::remove_dir_all(&dir).unwrap();
}

// 4. openat2.

#[test]
fn openat2_stays_beneath_and_in_root() {
    let prog = guest("openat2");
    let dir = scratch("openat2");
    let vol = dir.join("vol");
    std::fs::create_dir(&vol).unwrap();
    let out = run_guest(
        &[
            "--volume".to_string(),
            format!("{}:{}", vol.display(), vol.display()),
        ],
        &prog,
        &[s(&vol).to_string()],
    );
    // As Linux gives them.
    assert_transcript(
        &out,
        &[
            "openat2(VOLUME/jail, \"../../(x13)\", no RESOLVE flags) is the guest's /: contained (the sandbox's own)",
            "openat2(\"/proc/self/root/../..\", no RESOLVE flags) is the guest's /: contained (the sandbox's own)",
            "openat2(VOLUME/jail, \"..\", RESOLVE_BENEATH): contained (EXDEV)",
            "openat2(VOLUME/jail, \"../../etc/passwd\", RESOLVE_BENEATH): contained (EXDEV)",
            "openat2(VOLUME/jail, \"/etc/passwd\", RESOLVE_BENEATH): contained (EXDEV)",
            "openat2(VOLUME/jail, \"rootlink/etc/passwd\", RESOLVE_BENEATH): contained (EXDEV)",
            "openat2(VOLUME/jail, \"uplink/jail\", RESOLVE_BENEATH): contained (EXDEV)",
            "openat2(VOLUME/jail, \"magiclink/etc/passwd\", RESOLVE_BENEATH): contained (EXDEV)",
            "openat2(VOLUME/jail, \"../runrs-escape-beneath\", O_CREAT|RESOLVE_BENEATH): contained (EXDEV)",
            "openat2(VOLUME/jail, \"uplink/runrs-escape-beneath\", O_CREAT|RESOLVE_BENEATH): contained (EXDEV)",
            "openat2(/proc/self, \"root/etc/passwd\", RESOLVE_BENEATH): contained (EXDEV)",
            "openat2(/proc/self, \"fd/N/..\", RESOLVE_BENEATH): contained (EXDEV)",
            "openat2(VOLUME/jail, \"/etc/passwd\", RESOLVE_IN_ROOT): contained (ENOENT)",
            "openat2(VOLUME/jail, \"../../../../etc/passwd\", RESOLVE_IN_ROOT): contained (ENOENT)",
            "openat2(VOLUME/jail, \"rootlink/etc/passwd\", RESOLVE_IN_ROOT): contained (ENOENT)",
            "openat2(VOLUME/jail, \"uplink/uplink/etc/passwd\", RESOLVE_IN_ROOT): contained (ENOENT)",
            "openat2(VOLUME/jail, \"magiclink/etc/passwd\", RESOLVE_IN_ROOT): contained (ENOENT)",
            "openat2(VOLUME/jail, \"uplink/../rootlink\", RESOLVE_IN_ROOT) is the jail: contained (the jail itself)",
            "openat2(O_CREAT, \"../../runrs-escape-in-root-1\", RESOLVE_IN_ROOT): allowed inside the sandbox",
            "openat2(O_CREAT, \"rootlink/runrs-escape-in-root-2\", RESOLVE_IN_ROOT): allowed inside the sandbox",
            "the RESOLVE_IN_ROOT file is in the jail: contained (created in the jail)",
            "openat2(\"/proc/self/root\", RESOLVE_NO_MAGICLINKS): contained (ELOOP)",
            "openat2(VOLUME/jail, \"magiclink\", RESOLVE_NO_MAGICLINKS): contained (ELOOP)",
            "openat2(VOLUME/jail, \"rootlink\", RESOLVE_NO_SYMLINKS): contained (ELOOP)",
            "openat2(VOLUME/jail, \"uplink\", RESOLVE_NO_SYMLINKS): contained (ELOOP)",
            "openat2(VOLUME/jail, \"../..\", RESOLVE_NO_XDEV): contained (EXDEV)",
            "openat2(\"/proc/self/status\", RESOLVE_NO_XDEV): contained (EXDEV)",
        ],
    );
    // The RESOLVE_IN_ROOT files are in the jail on the host; nothing got above it.
    let jail = vol.join("jail");
    for f in ["runrs-escape-in-root-1", "runrs-escape-in-root-2"] {
        assert_eq!(std::fs::read_to_string(jail.join(f)).unwrap(), "jail\n");
    }
    assert_eq!(
        names(&dir),
        ["vol".to_string()].into_iter().collect::<BTreeSet<_>>()
    );
    assert_eq!(
        names(&vol),
        ["jail".to_string()].into_iter().collect::<BTreeSet<_>>()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

// 5. Host sockets.

/// Listeners on the host the guest tries to reach.
struct HostSockets {
    stream: std::os::unix::net::UnixListener,
    dgram: std::os::unix::net::UnixDatagram,
    abstract_: std::os::unix::net::UnixListener,
    abstract_name: String,
    tcp: std::net::TcpListener,
    udp: std::net::UdpSocket,
}

impl HostSockets {
    fn bind(dir: &Path, tag: &str) -> HostSockets {
        use std::os::linux::net::SocketAddrExt;
        use std::os::unix::net::{SocketAddr, UnixDatagram, UnixListener};
        let stream = UnixListener::bind(dir.join("s.sock")).unwrap();
        let dgram = UnixDatagram::bind(dir.join("d.sock")).unwrap();
        let abstract_name = format!("runrs-escape-{}-{tag}", std::process::id());
        let addr = SocketAddr::from_abstract_name(abstract_name.as_bytes()).unwrap();
        let abstract_ = UnixListener::bind_addr(&addr).unwrap();
        let tcp = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        stream.set_nonblocking(true).unwrap();
        dgram.set_nonblocking(true).unwrap();
        abstract_.set_nonblocking(true).unwrap();
        tcp.set_nonblocking(true).unwrap();
        udp.set_nonblocking(true).unwrap();
        HostSockets {
            stream,
            dgram,
            abstract_,
            abstract_name,
            tcp,
            udp,
        }
    }

    fn args(&self, dir: &Path) -> Vec<String> {
        vec![
            s(&dir.join("s.sock")).to_string(),
            s(&dir.join("d.sock")).to_string(),
            self.abstract_name.clone(),
            self.tcp.local_addr().unwrap().port().to_string(),
            self.udp.local_addr().unwrap().port().to_string(),
        ]
    }

    /// Nothing reached any of them.
    fn assert_untouched(&self) {
        let mut buf = [0u8; 64];
        assert!(
            self.stream.accept().is_err(),
            "a guest connected to the host's Unix socket"
        );
        assert!(
            self.abstract_.accept().is_err(),
            "a guest connected to the host's abstract socket"
        );
        assert!(
            self.tcp.accept().is_err(),
            "a guest connected to the host's TCP port"
        );
        assert!(
            self.dgram.recv(&mut buf).is_err(),
            "a guest datagram reached the host's Unix socket"
        );
        assert!(
            self.udp.recv(&mut buf).is_err(),
            "a guest datagram reached the host's UDP port"
        );
    }
}

const SOCKET_TRANSCRIPT: &[&str] = &[
    "the host's socket shows as: contained (a socket file)",
    "open() the host's Unix socket file: contained (ENXIO)",
    "connect SOCK_STREAM to the host's pathname Unix socket: contained (ECONNREFUSED|ENOENT)",
    "connect SOCK_SEQPACKET to the host's pathname Unix socket: contained (ECONNREFUSED|ENOENT|EPROTOTYPE|ESOCKTNOSUPPORT)",
    "sendto the host's pathname datagram Unix socket: contained (ECONNREFUSED|ENOENT|ESOCKTNOSUPPORT)",
    "connect SOCK_DGRAM to the host's pathname Unix socket: contained (ECONNREFUSED|ENOENT|ESOCKTNOSUPPORT)",
    "connect SOCK_STREAM to the host's abstract Unix socket: contained (ECONNREFUSED)",
    "sendto the host's abstract datagram Unix socket: contained (ECONNREFUSED|ESOCKTNOSUPPORT)",
    "bind the host's abstract name: inside",
    "connect to the host's TCP port at 127.0.0.1: contained (ECONNREFUSED)",
    "connect to the host's TCP port at ::ffff:127.0.0.1: contained (ECONNREFUSED)",
    "connect to the host's TCP port at ::1: contained (ECONNREFUSED|ENETUNREACH|EADDRNOTAVAIL)",
    "connect to the host's TCP port at 127.0.0.2: contained (ECONNREFUSED|ENETUNREACH)",
    "connect to the host's TCP port at 0.0.0.0: contained (ECONNREFUSED)",
    "sendto the host's UDP port at 127.0.0.1: inside",
];

#[test]
fn host_sockets_are_out_of_reach() {
    let prog = guest("sockets");
    let dir = scratch("sockets");
    // Sockets in a directory the guest sees through the read-only root.
    let host = HostSockets::bind(&dir, "root");
    let out = run_guest(&[], &prog, &host.args(&dir));
    assert_transcript(&out, SOCKET_TRANSCRIPT);
    host.assert_untouched();
    // And in a read-write volume.
    let vol = dir.join("vol");
    std::fs::create_dir(&vol).unwrap();
    let in_vol = HostSockets::bind(&vol, "vol");
    let out = run_guest(
        &[
            "--volume".to_string(),
            format!("{}:{}", vol.display(), vol.display()),
        ],
        &prog,
        &in_vol.args(&vol),
    );
    assert_transcript(&out, SOCKET_TRANSCRIPT);
    in_vol.assert_untouched();
    host.assert_untouched();
    drop((host, in_vol));
    std::fs::remove_dir_all(&dir).unwrap();
}

// 6. Host processes.

#[test]
fn host_processes_cannot_be_signalled_or_traced() {
    let prog = guest("signals");
    let mut sleeper = Command::new("sleep")
        .arg("30")
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let (hp, tp) = (sleeper.id().to_string(), std::process::id().to_string());
    let out = sandboxed(&[], &prog, &[&hp, &tp], None).unwrap_or_else(|e| panic!("{e}"));
    let alive = sleeper.try_wait().unwrap().is_none();
    let _ = sleeper.kill();
    let _ = sleeper.wait();
    assert!(alive, "the host's sleep was killed");
    let mut expected = vec![
        "the guest's pid: contained (1)".to_string(),
        "the guest's parent pid: contained (0)".to_string(),
        "kill(-1, 0) with no other process in the sandbox: contained (ESRCH)".to_string(),
        "kill(-1, SIGKILL) with no other process in the sandbox: contained (ESRCH)".to_string(),
        "kill(-1, SIGKILL) with a child in the sandbox: contained (killed the sandbox's own child only)"
            .to_string(),
    ];
    for who in ["HOSTPID", "TESTPID"] {
        for line in [
            format!("kill({who}, 0): contained (ESRCH)"),
            format!("kill({who}, SIGKILL): contained (ESRCH)"),
            format!("kill(-{who}, 0) (its process group): contained (ESRCH)"),
            format!("tgkill({who}, {who}, 0): contained (ESRCH)"),
            format!("rt_sigqueueinfo({who}, 0): contained (ESRCH)"),
            format!("pidfd_open({who}): contained (ESRCH)"),
            format!("ptrace(PTRACE_ATTACH, {who}): contained (ESRCH|ENOSYS|EPERM)"),
            format!("ptrace(PTRACE_SEIZE, {who}): contained (ESRCH|ENOSYS|EPERM)"),
            format!("process_vm_readv({who}): contained (ESRCH|ENOSYS|EPERM)"),
            format!("getpgid({who}): contained (ESRCH)"),
            format!("getsid({who}): contained (ESRCH)"),
            format!("getpriority({who}): contained (ESRCH)"),
            format!("prlimit({who}): contained (ESRCH)"),
            format!("sched_getaffinity({who}): contained (ESRCH)"),
            format!("waitpid({who}): contained (ECHILD)"),
        ] {
            expected.push(line);
        }
    }
    expected.push("processes found by kill(2..32768, 0): contained (none)".to_string());
    assert_transcript(&out, &expected);
}

// 7. The Sentry's and the Gofer's memory.

#[test]
fn proc_shows_only_the_guests_own_memory_and_pids() {
    let prog = guest("procmem");
    let tp = std::process::id().to_string();
    let out = sandboxed(&[], &prog, &[&tp], None).unwrap_or_else(|e| panic!("{e}"));
    assert_contained(&out);
    let text = stdout(&out);
    // /proc/PID/mem is either the guest's own memory or not there at all.
    for mem in ["/proc/1/mem", "/proc/self/mem"] {
        let own = [
            format!("read {mem} at a guest address: contained (its own memory)"),
            format!("read {mem} at the stub's code page 0x7ff000000000: contained (EIO)"),
        ];
        let absent = format!("open {mem}: contained (ENOENT)");
        assert!(
            own.iter().all(|l| text.lines().any(|t| t == l)) || text.lines().any(|t| t == absent),
            "{mem}:\n{text}"
        );
    }
    for l in [
        "pids listed in /proc: contained (only 1)",
        "/proc/N/{mem,maps,environ,root,cwd,exe,fd,status} of pids 2..1001 and TESTPID-20..TESTPID+980: contained (ENOENT)",
        "/proc/self/maps: contained (only the guest's mappings)",
        "/proc/self/fd/0: contained (readable)",
    ] {
        assert!(text.lines().any(|t| t == l), "no {l:?} in\n{text}");
    }
    assert!(
        text.contains("/proc/self/fd lists only stdio and the listing's own fd: contained ("),
        "{text}"
    );
}

// 8. The terminal.

#[test]
fn tiocsti_cannot_inject_into_the_terminal() {
    let prog = guest("tiocsti");
    // A comment to a shell, should it ever get there.
    let marker = format!("#runrs-escape-injected-{}", std::process::id());
    let out = Command::new("script")
        .args(["-qec"])
        .arg(format!(
            "{} do -- {} '{marker}'",
            runrs_bin().display(),
            prog.display()
        ))
        .arg("/dev/null")
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .expect("script (util-linux) runs");
    let text = String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n");
    assert!(
        out.status.success() && !text.contains("ESCAPED") && !text.contains(&marker),
        "{text}\n--- stderr:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // It ran on a real terminal, and every attempt failed.
    for fd in 0..3 {
        assert!(
            text.contains(&format!("fd {fd} is a terminal: yes")),
            "{text}"
        );
        assert!(
            text.contains(&format!("TIOCSTI on fd {fd}: contained (")),
            "{text}"
        );
    }
    for l in [
        "TIOCCONS on fd 1: contained (",
        "TIOCLINUX paste on fd 0: contained (",
        "stdin after the injections: contained (no input)",
    ] {
        assert!(text.contains(l), "no {l:?} in\n{text}");
    }
}

// 9. Limits: disk, pids, memory, CPU.

/// Entries of the host's /tmp and /dev/shm.
fn host_tmp() -> BTreeSet<PathBuf> {
    ["/tmp", "/dev/shm"]
        .iter()
        .filter_map(|d| std::fs::read_dir(d).ok())
        .flat_map(|rd| rd.flatten().map(|e| e.path()).collect::<Vec<_>>())
        .collect()
}

/// Runs a guest that a limit ends, watching its stubs: the outcome, the most stubs seen at
/// once; fails if a stub outlives the sandbox or the host's /tmp or /dev/shm got something.
fn run_limited(flags: &[&str], prog: &Path, args: &[&str]) -> (Outcome, usize) {
    let tmp_before = host_tmp();
    let t0 = Instant::now();
    let mut child = Command::new(runrs_bin())
        .arg("do")
        .args(flags)
        .arg("--")
        .arg(prog)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out_pipe = child.stdout.take().unwrap();
    let mut err_pipe = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = std::io::Read::read_to_end(&mut out_pipe, &mut v);
        v
    });
    let t_err = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = std::io::Read::read_to_end(&mut err_pipe, &mut v);
        v
    });
    let mut seen = BTreeSet::new();
    let mut most = 0;
    let status = loop {
        let now = stubs_of(child.id());
        most = most.max(now.len());
        seen.extend(now);
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if t0.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{flags:?} {}: the sandbox was not stopped", prog.display());
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    use std::os::unix::process::ExitStatusExt;
    let out = Outcome {
        stdout: t_out.join().unwrap_or_default(),
        stderr: t_err.join().unwrap_or_default(),
        code: status
            .code()
            .unwrap_or_else(|| 128 + status.signal().unwrap_or(0)),
    };
    // No guest process is left on the host.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let alive: Vec<u32> = seen.iter().copied().filter(|p| is_stub(*p)).collect();
        if alive.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{flags:?}: stubs outlived the sandbox: {alive:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // Nothing of the guest's in the host's /tmp or /dev/shm. (Other programs on the machine
    // may create files there meanwhile: the check is on names the guests use and on size.)
    let new: Vec<PathBuf> = host_tmp().difference(&tmp_before).cloned().collect();
    let ours: Vec<&PathBuf> = new
        .iter()
        .filter(|p| {
            p.to_string_lossy().contains("runrs")
                || p.symlink_metadata().is_ok_and(|m| m.len() >= 1 << 20)
        })
        .collect();
    assert!(
        ours.is_empty(),
        "{flags:?}: new in the host's /tmp or /dev/shm: {ours:?} (all new: {new:?})"
    );
    (out, most)
}

#[test]
fn filling_the_disk_ends_in_enospc() {
    let prog = guest("fill_disk");
    let (out, _) = run_limited(&["--disk", "16M"], &prog, &["16"]);
    assert_transcript(
        &out,
        &[
            "fill /tmp/runrs-escape-fill up to the --disk limit: contained (ENOSPC)",
            "fill /dev/shm/runrs-escape-fill up to the --disk limit: contained (ENOSPC)",
            "fill /runrs-escape-fill up to the --disk limit: contained (ENOSPC)",
            "wrote 16 MiB in all, 16 MiB of it in /tmp",
            "fallocate 1 GiB in /tmp: contained (ENOSPC)",
            "ftruncate a /tmp file to 100 GiB (sparse): allowed inside the sandbox",
            "write into the sparse file past the limit: contained (ENOSPC)",
            "write after freeing /tmp: contained (space came back)",
        ],
    );
    assert_eq!(
        entries_named(Path::new("/"), "runrs-escape"),
        Vec::<String>::new()
    );
}

#[test]
fn a_fork_bomb_hits_the_pids_limit_and_leaves_nothing() {
    let prog = guest("forkbomb");
    let t0 = Instant::now();
    let (out, most) = run_limited(&["--pids", "32", "--timeout", "3s"], &prog, &[]);
    assert_eq!(out.code, 137, "{}", stderr(&out));
    assert!(stderr(&out).contains("(--timeout)"), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "fork bomb started\nfork bomb: fork failed with EAGAIN\n",
        "{}",
        stderr(&out)
    );
    // 32 guest processes and the template stub at most.
    assert!(most <= 33, "{most} stubs at once under --pids 32");
    assert!(t0.elapsed() < Duration::from_secs(20), "{:?}", t0.elapsed());
}

#[test]
fn allocating_100_gib_is_killed_at_the_memory_limit() {
    let prog = guest("bigalloc");
    let (out, _) = run_limited(&["--memory", "256M"], &prog, &[]);
    assert_eq!(out.code, 137, "{}", stderr(&out));
    assert!(stderr(&out).contains("(--memory)"), "{}", stderr(&out));
    assert_eq!(stdout(&out), "mapped 100 GiB, touching it\n");
}

#[test]
fn spinning_the_cpu_ends_at_the_cpu_time_limit() {
    let prog = guest("spin");
    let t0 = Instant::now();
    let (out, most) = run_limited(&["--cpu-time", "1s"], &prog, &[]);
    assert_eq!(out.code, 137, "{}", stderr(&out));
    assert!(stderr(&out).contains("(--cpu-time)"), "{}", stderr(&out));
    assert!(most >= 2, "the spinner never forked ({most} stubs)");
    assert!(t0.elapsed() < Duration::from_secs(20), "{:?}", t0.elapsed());
}

// 10. Mounts, namespaces and other host-wide state.

#[test]
fn mounts_and_namespaces_change_nothing_on_the_host() {
    let prog = guest("mounts");
    let dir = scratch("mounts");
    let ro = dir.join("ro");
    std::fs::create_dir(&ro).unwrap();
    std::fs::write(ro.join("ro-file"), "read-only\n").unwrap();
    let before = snapshot(&dir);
    let mountinfo = || std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let hostname = || std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let (mounts_before, host_before) = (mountinfo(), hostname());
    let out = run_guest(
        &[
            "--volume".to_string(),
            format!("{}:{}:ro", ro.display(), ro.display()),
        ],
        &prog,
        &[s(&ro).to_string()],
    );
    let mut expected: Vec<String> = [
        "mount tmpfs: inside",
        "bind-mount / on /tmp/m2: inside",
        "mount proc: inside",
        "mount /dev/sda (ext4): contained (ENOSYS|EPERM|ENOENT|ENODEV|ENOTBLK|EACCES)",
        "mount /dev/vda (ext4): contained (ENOSYS|EPERM|ENOENT|ENODEV|ENOTBLK|EACCES)",
        "remount the :ro volume read-write: inside",
        "bind-mount the :ro volume elsewhere: inside",
        "remount that bind read-write: inside",
        "create a file in the remounted :ro volume: contained (EROFS)",
        "open ro-file of the remounted :ro volume for writing: contained (EROFS)",
        "create a file through the bind of the :ro volume: contained (EROFS|no bind)",
        "umount /proc: inside",
        "umount the :ro volume: inside",
        "umount /: inside",
        "chroot /tmp: inside",
        "chroot . after climbing out of the chroot: inside",
        "the root after the chroot break-out is the guest's /: contained (the sandbox's own)",
        "its .. is itself: contained (the sandbox's own)",
        "pivot_root: inside",
    ]
    .iter()
    .map(|l| l.to_string())
    .collect();
    for ns in [
        "CLONE_NEWNS",
        "CLONE_NEWUSER",
        "CLONE_NEWNET",
        "CLONE_NEWPID",
        "CLONE_NEWUTS",
        "CLONE_NEWIPC",
        "CLONE_NEWCGROUP",
        "CLONE_NEWTIME",
    ] {
        expected.push(format!("unshare({ns}): inside"));
    }
    expected.extend(
        [
            "setns(/proc/1/ns/mnt): inside",
            "setns(pidfd of 1): inside",
            "sethostname: inside",
        ]
        .iter()
        .map(|l| l.to_string()),
    );
    for knob in [
        "/proc/sys/kernel/hostname",
        "/proc/sys/kernel/core_pattern",
        "/proc/sys/kernel/modprobe",
        "/proc/sysrq-trigger",
        "/sys/kernel/uevent_helper",
        "/sys/fs/cgroup/cgroup.procs",
        "/dev/kmsg",
    ] {
        expected.push(format!("open {knob} for writing (nothing written): inside"));
    }
    expected.extend(
        [
            "clock_settime(CLOCK_REALTIME) to now: contained (EPERM|ENOSYS)",
            "ioperm(0x80): contained (EPERM|ENOSYS)",
            "iopl(3): contained (EPERM|ENOSYS)",
            "finit_module: contained (EPERM|ENOSYS)",
            "delete_module: contained (EPERM|ENOSYS)",
            "swapoff: contained (EPERM|ENOSYS|ENOENT)",
            "open_tree(OPEN_TREE_CLONE): inside",
            "fsopen(tmpfs): inside",
        ]
        .iter()
        .map(|l| l.to_string()),
    );
    assert_transcript(&out, &expected);
    assert_eq!(mountinfo(), mounts_before, "the host's mounts changed");
    assert_eq!(hostname(), host_before, "the host's hostname changed");
    assert_unchanged(&before, &snapshot(&dir));
    std::fs::remove_dir_all(&dir).unwrap();
}

// Devices.

#[test]
fn host_devices_are_out_of_reach() {
    let prog = guest("devices");
    let dir = scratch("devices");
    let vol = dir.join("vol");
    std::fs::create_dir(&vol).unwrap();
    // A device node (needs root on the host; without it the guest gets ENOENT, contained
    // too) and a FIFO the host reads.
    let _ = Command::new("mknod")
        .arg(vol.join("hostzero"))
        .args(["c", "1", "5"])
        .status();
    let mk = Command::new("mkfifo")
        .arg(vol.join("hostfifo"))
        .status()
        .unwrap();
    assert!(mk.success());
    let mut fifo = {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(vol.join("hostfifo"))
            .unwrap()
    };
    let out = run_guest(
        &[
            "--volume".to_string(),
            format!("{}:{}", vol.display(), vol.display()),
        ],
        &prog,
        &[s(&vol).to_string()],
    );
    let mut expected: Vec<String> = [
        "/dev/mem",
        "/dev/kmem",
        "/dev/port",
        "/dev/sda",
        "/dev/vda",
        "/dev/nvme0n1",
        "/dev/kmsg",
        "/dev/tty0",
        "/dev/console",
        "/dev/fuse",
        "/dev/kvm",
        "/sys/firmware/efi/efivars",
        "/proc/kcore",
        "/proc/kallsyms",
    ]
    .iter()
    .map(|d| format!("open+read {d}: contained (ENOENT|EACCES|EPERM|ENXIO|EISDIR)"))
    .collect();
    for (name, kind) in [
        ("mem", "c 1 1"),
        ("port", "c 1 4"),
        ("kmsg", "c 1 11"),
        ("vda", "b 254 0"),
        ("sda", "b 8 0"),
    ] {
        expected.push(format!(
            "mknod+open+read /tmp/runrs-escape-{name} {kind}: contained (EPERM|ENXIO|EACCES)"
        ));
    }
    expected.push(format!(
        "open+read {}: contained (ENXIO|ENOENT|EPERM|EACCES)",
        vol.join("hostzero").display()
    ));
    expected.push(
        "open+write the host's FIFO in the volume: contained (ENXIO|ENOENT|EPERM|EACCES)"
            .to_string(),
    );
    assert_transcript(&out, &expected);
    let mut buf = [0u8; 64];
    match std::io::Read::read(&mut fifo, &mut buf) {
        Ok(0) => {}
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        other => panic!(
            "the host's FIFO got something from the guest: {other:?} {:?}",
            &buf[..8]
        ),
    }
    drop(fifo);
    std::fs::remove_dir_all(&dir).unwrap();
}
