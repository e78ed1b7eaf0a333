//! The limits `runrs do` enforces inside the Sentry (--pids, --memory, --disk, --cpu-time,
//! --timeout) and the audit log: the guest gets the errno Linux gives, the sandbox says which
//! limit ended it, and nothing of it is left on the host.

use runrs_tests::*;
use std::path::Path;
use std::time::{Duration, Instant};

const PYTHON: &str = "/usr/bin/python3";

fn guest(name: &str) -> std::path::PathBuf {
    compile(
        &root().join("tests/guest").join(format!("{name}.c")),
        Variant::Static,
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

fn stderr(o: &Outcome) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Outcome) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn pids_limit_fails_fork_with_eagain() {
    let prog = guest("fork_until_eagain");
    let out = sandboxed(&["--pids", "16"], &prog, &[], None).unwrap();
    // The init process is one of the 16.
    assert_eq!(
        stdout(&out),
        "fork failed after 15 children: EAGAIN\nfork after reaping: works\n",
        "{}",
        stderr(&out)
    );
    assert_eq!(out.code, 0);
}

#[test]
fn a_fork_bomb_is_contained_and_leaves_nothing() {
    let dir = build_dir().join("limits");
    std::fs::create_dir_all(&dir).unwrap();
    let src = dir.join("bomb.c");
    std::fs::write(
        &src,
        "#include <unistd.h>\nint main(void) { for (;;) fork(); }\n",
    )
    .unwrap();
    let bomb = compile(&src, Variant::Static).unwrap();
    let t0 = Instant::now();
    let mut child = std::process::Command::new(runrs_bin())
        .args(["do", "--pids", "64", "--timeout", "2s", "--"])
        .arg(&bomb)
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Every stub seen while the bomb runs (each guest process is one).
    let mut seen = std::collections::BTreeSet::new();
    let status = loop {
        seen.extend(stubs_of(child.id()));
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "the bomb was not stopped"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert_eq!(status.code(), Some(137), "{err}");
    assert!(err.contains("(--timeout)"), "{err}");
    assert!(seen.len() >= 10, "the bomb never forked: {seen:?}");
    // At most 64 at once, and none left behind.
    std::thread::sleep(Duration::from_millis(200));
    let alive: Vec<_> = seen.iter().filter(|&&p| is_stub(p)).collect();
    assert!(alive.is_empty(), "stubs survived the sandbox: {alive:?}");
}

#[test]
fn memory_limit_kills_the_largest_process() {
    // The child allocating past the limit is killed (SIGKILL, status 137 to its parent); the
    // shell that started it goes on, as under Linux's OOM killer.
    let script = format!(
        "{PYTHON} -c 'x = bytearray(400 << 20); print(\"not killed\")'; echo child status $?; \
         head -1 /proc/meminfo"
    );
    let out = sandboxed(
        &["--memory", "128M"],
        Path::new("/bin/sh"),
        &["-c", &script],
        None,
    )
    .unwrap();
    assert_eq!(
        stdout(&out),
        "child status 137\nMemTotal:         131072 kB\n",
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("out of memory"), "{}", stderr(&out));
    assert!(stderr(&out).contains("(--memory)"), "{}", stderr(&out));
    assert_eq!(out.code, 0);
    // Within the limit, nothing happens.
    let out = sandboxed(
        &["--memory", "128M"],
        Path::new(PYTHON),
        &["-c", "x = bytearray(64 << 20); print(len(x) >> 20)"],
        None,
    )
    .unwrap();
    assert_eq!(stdout(&out), "64\n", "{}", stderr(&out));
}

#[test]
fn memory_limit_counts_what_an_init_allocates_bit_by_bit() {
    let code = "a = []\nwhile True: a.append(bytearray(1 << 20))";
    let out = sandboxed(&["--memory", "96M"], Path::new(PYTHON), &["-c", code], None).unwrap();
    assert_eq!(out.code, 137, "{}", stderr(&out));
    assert!(stderr(&out).contains("out of memory"), "{}", stderr(&out));
}

#[test]
fn disk_limit_gives_enospc_and_space_comes_back() {
    let code = r#"import errno, os
def fill(path, mib):
    try:
        with open(path, "wb") as f:
            for _ in range(mib):
                f.write(b"x" * (1 << 20))
        return "ok"
    except OSError as e:
        return errno.errorcode[e.errno]
print("/tmp 6 MiB", fill("/tmp/a", 6))
print("/dev/shm 6 MiB more", fill("/dev/shm/b", 6))
print("the root's memory layer, 6 MiB more", fill("/var/c", 6))
os.remove("/dev/shm/b")
print("after removing one", fill("/var/c", 4))
"#;
    let out = sandboxed(&["--disk", "10M"], Path::new(PYTHON), &["-c", code], None).unwrap();
    assert_eq!(
        stdout(&out),
        "/tmp 6 MiB ok\n/dev/shm 6 MiB more ENOSPC\nthe root's memory layer, 6 MiB more ENOSPC\n\
         after removing one ok\n",
        "{}",
        stderr(&out)
    );
}

#[test]
fn cpu_time_limit_ends_the_sandbox() {
    let t0 = Instant::now();
    let out = sandboxed(
        &["--cpu-time", "1s"],
        Path::new("/bin/sh"),
        &["-c", "while :; do :; done"],
        None,
    )
    .unwrap();
    assert_eq!(out.code, 137, "{}", stderr(&out));
    assert!(stderr(&out).contains("(--cpu-time)"), "{}", stderr(&out));
    assert!(t0.elapsed() < Duration::from_secs(30));
    // A sleeping guest uses no CPU time: the limit does not end it.
    let out = sandboxed(
        &["--cpu-time", "1s"],
        Path::new("/bin/sleep"),
        &["1.5"],
        None,
    )
    .unwrap();
    assert_eq!(out.code, 0, "{}", stderr(&out));
}

#[test]
fn timeout_ends_the_sandbox() {
    let t0 = Instant::now();
    let out = sandboxed(&["--timeout", "1s"], Path::new("/bin/sleep"), &["30"], None).unwrap();
    assert_eq!(out.code, 137, "{}", stderr(&out));
    assert!(stderr(&out).contains("(--timeout)"), "{}", stderr(&out));
    let took = t0.elapsed();
    assert!(
        took >= Duration::from_secs(1) && took < Duration::from_secs(10),
        "{took:?}"
    );
}

#[test]
fn bad_limit_values_are_refused() {
    for flags in [
        ["--memory", "lots"],
        ["--timeout", "-1s"],
        ["--cpu-time", "3y"],
        ["--pids", "x"],
    ] {
        let out = sandboxed(&flags, Path::new("/bin/true"), &[], None).unwrap();
        assert_eq!(out.code, 2, "{flags:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(flags[0]), "{}", stderr(&out));
    }
}

#[test]
fn audit_log_records_execs_limits_and_the_exit() {
    let dir = build_dir().join("limits");
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("audit.jsonl");
    let _ = std::fs::remove_file(&log);
    let log_arg = log.to_str().unwrap();
    let out = sandboxed(
        &["--audit", log_arg, "--memory", "64M", "--overlay", "none"],
        Path::new("/bin/sh"),
        &[
            "-c",
            "/bin/true one two; echo x 2>/dev/null > /etc/runrs-audit-test; \
             /usr/bin/python3 -c 'x = bytearray(200 << 20)'; exit 3",
        ],
        None,
    )
    .unwrap();
    assert_eq!(out.code, 3, "{}", stderr(&out));
    let text = std::fs::read_to_string(&log).unwrap();
    let events: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?}: {e}")))
        .collect();
    let kinds: Vec<&str> = events.iter().filter_map(|e| e["event"].as_str()).collect();
    assert_eq!(
        kinds,
        ["exec", "exec", "open_denied", "exec", "limit", "exit"],
        "{text}"
    );
    // The sandbox's first program, then what it runs.
    assert_eq!(events[0]["path"], "/usr/bin/dash", "{text}");
    assert_eq!(events[0]["pid"], 1);
    assert_eq!(events[1]["path"], "/usr/bin/true", "{text}");
    assert_eq!(
        events[1]["argv"],
        serde_json::json!(["/bin/true", "one", "two"])
    );
    assert_eq!(events[2]["path"], "/etc/runrs-audit-test");
    assert_eq!(events[2]["errno"], "EROFS");
    assert_eq!(events[3]["path"], "/usr/bin/python3.11", "{text}");
    assert_eq!(events[4]["limit"], "memory");
    assert_eq!(events[5]["status"], 3);
    assert!(events.iter().all(|e| e["time"].is_number()));
}

/// Host processes left behind by runrs: stubs, Gofers and net gofers whose parent is gone
/// (reparented to PID 1). Other tests' live sandboxes have their Sentry as parent.
fn orphans() -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&p| {
            let stat = std::fs::read_to_string(format!("/proc/{p}/stat")).unwrap_or_default();
            let rest = &stat[stat.rfind(')').map_or(0, |i| i + 2)..];
            let ppid = rest.split(' ').nth(1).and_then(|s| s.parse::<u32>().ok());
            let cmd = std::fs::read(format!("/proc/{p}/cmdline")).unwrap_or_default();
            let ours = is_stub(p)
                || cmd
                    .split(|&b| b == 0)
                    .nth(1)
                    .is_some_and(|a| a == b"gofer" || a == b"netgofer");
            ppid == Some(1) && ours
        })
        .collect()
}

fn fd_count() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

fn mount_count() -> usize {
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .count()
}

#[test]
fn two_hundred_sandboxes_in_a_row_and_twenty_at_once_leave_nothing() {
    let before = (orphans(), mount_count());
    let fds = fd_count();
    for i in 0..200 {
        let o = sandboxed(&[], Path::new("/bin/true"), &[], None).unwrap();
        assert_eq!(o.code, 0, "run {i}: {}", stderr(&o));
    }
    let children: Vec<_> = (0..20)
        .map(|_| {
            std::process::Command::new(runrs_bin())
                .args(["do", "--", "/bin/sh", "-c", "echo $$ | cat"])
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let o = c.wait_with_output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert_eq!(String::from_utf8_lossy(&o.stdout), "1\n");
    }
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        (orphans(), mount_count()),
        before,
        "left behind: orphans, mounts"
    );
    // Our own fds: the same (other tests' threads may hold a few for a moment).
    assert!(fd_count() <= fds + 8, "fds {fds} -> {}", fd_count());
}
