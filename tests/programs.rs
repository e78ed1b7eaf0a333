//! End-to-end tests of `runrs do`: real programs (busybox-static), a hostile fuzzing guest,
//! --strace, the unsupported-syscall log, exit statuses, and cleanup after the Sentry dies.

use runrs_tests::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn guest(name: &str) -> PathBuf {
    compile(
        &root().join("tests/guest").join(format!("{name}.c")),
        Variant::Static,
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

const BUSYBOX: &str = "/bin/busybox";

fn busybox() -> &'static Path {
    let p = Path::new(BUSYBOX);
    assert!(
        p.exists(),
        "{BUSYBOX} missing: install busybox-static (make deps)"
    );
    p
}

#[test]
fn busybox_applets_match_native() {
    let cases: &[&[&str]] = &[
        &["echo", "hello", "world"],
        &["true"],
        &["false"],
        &["seq", "1", "20"],
        &["seq", "-s", ",", "5", "-1", "-5"],
        &["expr", "3", "+", "4"],
        &["expr", "length", "hello"],
        &["expr", "1", "=", "2"],
        &["printf", "%s-%d\\n", "a", "42"],
        &["basename", "/usr/lib/x.so", ".so"],
        &["dirname", "/usr/lib/x.so"],
        &["test", "5", "-gt", "3"],
        &["[", "a", "=", "b", "]"],
        &["factor", "360"],
        &["sleep", "0.05"],
        &["id", "-u"],
        &["uname", "-m"],
        &["nonexistent-applet"],
    ];
    let mut failures = Vec::new();
    for args in cases {
        if let Err(e) = differential(busybox(), args, None) {
            failures.push(e);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn busybox_reads_stdin() {
    differential(
        busybox(),
        &["wc", "-c"],
        Some(b"some input\nover two lines\n"),
    )
    .unwrap();
    differential(busybox(), &["cat"], Some(b"cat copies stdin to stdout\n")).unwrap();
}

/// /dev/stdin, /dev/fd/N and bash's process substitution reopen pipes (the host's stdin pipe,
/// and the sandbox's own) through /proc/self/fd.
#[test]
fn dev_stdin_and_process_substitution() {
    let script = "cat /dev/stdin; diff <(echo a) <(echo b); cat <(echo substituted) /dev/fd/0 </dev/null; \
                  echo inner | cat /proc/self/fd/0; echo to stdout >/dev/stdout; test -r /dev/stdin && echo readable";
    differential(
        Path::new("/bin/bash"),
        &["-c", script],
        Some(b"from the host's pipe\n"),
    )
    .unwrap();
}

#[test]
fn hostile_guest_never_crashes_the_sentry() {
    hostile("fuzz_syscalls");
}

#[test]
fn hostile_terminal_guest_never_crashes_the_sentry() {
    // Random terminal ioctls, settings, reads and writes on ptys of its own.
    hostile("fuzz_tty");
}

/// Runs the fuzzing guest `name` from three seeds: each must end with its exit(0).
fn hostile(name: &str) {
    let fuzz = guest(name);
    for seed in ["1", "7", "12345"] {
        let mut cmd = Command::new(runrs_bin());
        cmd.args(["do", "--"]).arg(&fuzz).args(["2", seed]);
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let start = Instant::now();
        let mut child = cmd.spawn().expect("spawn runrs");
        let status = loop {
            if let Some(st) = child.try_wait().expect("wait") {
                break st;
            }
            if start.elapsed() > Duration::from_secs(60) {
                let _ = child.kill();
                panic!("seed {seed}: the sandbox hung");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        assert_eq!(
            status.code(),
            Some(0),
            "seed {seed}: fuzzing guest ended with {status:?}"
        );
    }
}

#[test]
fn strace_prints_decoded_syscalls() {
    let prog = guest("nodename");
    let out = sandboxed(&["--strace", "--hostname", "box"], &prog, &[], None).unwrap();
    assert_eq!(out.code, 0);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("] uname(0x"),
        "no decoded uname line in:\n{err}"
    );
    assert!(
        err.contains("] write(1, \"box\\n6.1.0\\n\", 10) = 10"),
        "no decoded write line in:\n{err}"
    );
    assert!(
        err.contains("] exit_group(0) = ?"),
        "no exit_group line in:\n{err}"
    );
}

#[test]
fn strace_goes_to_the_debug_log_when_given() {
    let prog = guest("nodename");
    let log = build_dir().join("strace-debug.log");
    let out = sandboxed(
        &["--strace", "--debug-log", log.to_str().unwrap()],
        &prog,
        &[],
        None,
    )
    .unwrap();
    assert_eq!(out.code, 0);
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("uname("),
        "strace went to stderr"
    );
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.lines()
            .any(|l| l.contains("\"target\":\"strace\"") && l.contains("uname(")),
        "{text}"
    );
}

#[test]
fn unsupported_syscall_is_enosys_and_logged_once() {
    let prog = guest("enosys");
    let log = build_dir().join("enosys-debug.log");
    let out = sandboxed(&["--debug-log", log.to_str().unwrap()], &prog, &[], None).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "acct: -1 ENOSYS\n".repeat(3)
    );
    let text = std::fs::read_to_string(&log).unwrap();
    let lines = text
        .lines()
        .filter(|l| l.contains("unsupported syscall acct"))
        .count();
    assert_eq!(lines, 1, "expected one log line for acct in:\n{text}");
}

#[test]
fn hostname_option_sets_nodename() {
    let prog = guest("nodename");
    let out = sandboxed(&["--hostname", "sandbox-7"], &prog, &[], None).unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "sandbox-7\n6.1.0\n");
    let out = sandboxed(&[], &prog, &[], None).unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "runrs\n6.1.0\n");
}

#[test]
fn programs_that_cannot_start_get_shell_statuses() {
    let out = sandboxed(&[], Path::new("/nonexistent/program"), &[], None).unwrap();
    assert_eq!(out.code, 127);
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/program"));
    let out = sandboxed(&[], Path::new("no-such-command-anywhere"), &[], None).unwrap();
    assert_eq!(out.code, 127);
    assert!(String::from_utf8_lossy(&out.stderr).contains("command not found"));
    // A dynamically linked program runs (its interpreter comes through the Gofer).
    let out = sandboxed(&[], Path::new("/bin/true"), &[], None).unwrap();
    assert_eq!(out.code, 0, "{out:?}");
    let out = sandboxed(&[], Path::new("/bin/false"), &[], None).unwrap();
    assert_eq!(out.code, 1, "{out:?}");
    // Not executable (no execute bit), and a directory: 126 with the reason.
    let out = sandboxed(&[], &root().join("README.md"), &[], None).unwrap();
    assert_eq!(out.code, 126);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("Permission denied"),
        "{out:?}"
    );
    let out = sandboxed(&[], Path::new("/usr"), &[], None).unwrap();
    assert_eq!(out.code, 126);
    // Executable but neither ELF nor a script.
    // (Under target/: the sandbox's /tmp is its own tmpfs, not the host's.)
    let dir = root().join(format!("target/tmp/noexec-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let junk = dir.join("junk");
    std::fs::write(&junk, b"\x01\x02 not a program\n").unwrap();
    std::fs::set_permissions(&junk, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let out = sandboxed(&[], &junk, &[], None).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(out.code, 126);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("Exec format error"),
        "{out:?}"
    );
}

/// Children of `pid`, from /proc.
fn children(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(p) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{p}/stat")) else {
            continue;
        };
        // pid (comm) state ppid ...: comm may hold spaces, so split after the last ')'.
        let rest = &stat[stat.rfind(')').map_or(0, |i| i + 2)..];
        if rest.split(' ').nth(1).and_then(|s| s.parse::<u32>().ok()) == Some(pid) {
            out.push(p);
        }
    }
    out
}

#[test]
fn no_stub_or_gofer_survives_a_killed_sentry() {
    // A shell with a forked child: the stubs made by cloning the template die too.
    let mut child = Command::new(runrs_bin())
        .args(["do", "--", "/bin/busybox", "sh", "-c"])
        .arg("/bin/busybox sleep 30 & echo ready; wait")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut buf = [0u8; 6];
    std::io::Read::read_exact(&mut out, &mut buf).unwrap();
    assert_eq!(&buf, b"ready\n");
    // The Gofer, the template stub, and the stubs of the shell and of its child.
    let kids = children(child.id());
    assert_eq!(
        kids.len(),
        4,
        "expected the Gofer, the template stub and two stubs under the Sentry"
    );
    child.kill().unwrap();
    child.wait().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    for pid in kids {
        while Path::new(&format!("/proc/{pid}")).exists() {
            // A zombie reparented to init is gone once reaped; a live process is a failure.
            let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            if state.contains(") Z") {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "process {pid} outlived the Sentry: {state}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Starts `runrs do` with `args`, waits for the guest to print "ready", sends `sig` to runrs
/// and returns its exit code and the rest of stdout.
fn signal_runrs(args: &[&str], sig: i32) -> (i32, String) {
    let mut child = Command::new(runrs_bin())
        .arg("do")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut buf = [0u8; 6];
    std::io::Read::read_exact(&mut out, &mut buf).unwrap();
    assert_eq!(&buf, b"ready\n");
    // SAFETY: kill takes no pointers; the pid is our child's.
    assert_eq!(unsafe { libc::kill(child.id() as i32, sig) }, 0);
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
    let status = child.wait().unwrap();
    (status.code().unwrap_or(-1), rest)
}

#[test]
fn host_signals_reach_the_guest() {
    // Ctrl-C (SIGINT) reaches a Python program's handler: KeyboardInterrupt, normal exit. (It
    // says "ready" inside the try: a KeyboardInterrupt just before it would end Python with
    // SIGINT, natively too.)
    let (code, out) = signal_runrs(
        &[
            "/usr/bin/python3",
            "-c",
            "import time\ntry:\n    print('ready', flush=True)\n    time.sleep(30)\nexcept KeyboardInterrupt:\n    print('interrupted')",
        ],
        libc::SIGINT,
    );
    assert_eq!((code, out.as_str()), (0, "interrupted\n"));
    // SIGTERM ends a shell busy in a loop that makes no syscalls: 128 + 15, as natively.
    let (code, _) = signal_runrs(
        &["/bin/sh", "-c", "echo ready; while :; do :; done"],
        libc::SIGTERM,
    );
    assert_eq!(code, 143);
    // SIGINT goes to the foreground group: a pipeline's processes all end.
    let (code, _) = signal_runrs(
        &["/bin/sh", "-c", "echo ready; sleep 30 | cat"],
        libc::SIGINT,
    );
    assert_eq!(code, 130);
}

#[test]
fn syscall_docs_are_current() {
    let out = Command::new(runrs_bin()).arg("syscalls").output().unwrap();
    assert!(out.status.success());
    let doc = std::fs::read_to_string(root().join("docs/syscalls.md")).unwrap_or_default();
    assert!(
        doc == String::from_utf8_lossy(&out.stdout),
        "docs/syscalls.md is stale: run `make docs`"
    );
}

/// Runs `cmd` on a real pty (util-linux `script`), returning what it printed.
fn on_pty(cmd: &str) -> String {
    let out = Command::new("script")
        .args(["-qec", cmd, "/dev/null"])
        .env("COLUMNS", "100")
        .env("LINES", "30")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .expect("script (util-linux) runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn terminal_queries_reach_the_real_pty() {
    let prog = guest("tty");
    let native = on_pty(&format!("stty rows 30 cols 100; {}", prog.display()));
    let sandboxed = on_pty(&format!(
        "stty rows 30 cols 100; {} do -- {}",
        runrs_bin().display(),
        prog.display()
    ));
    assert!(
        native.contains("isatty(0) = 1") && native.contains("30 rows 100 cols"),
        "not a pty natively:\n{native}"
    );
    assert_eq!(native, sandboxed);
}

/// Starts `runrs do sleeper 30` (after `prefix`: a program that execs its arguments) and
/// returns it once the guest runs.
fn sleeping_sandbox(prefix: &[&str]) -> std::process::Child {
    let prog = guest("sleeper");
    let mut cmd = match prefix.split_first() {
        Some((p, args)) => {
            let mut c = Command::new(p);
            c.args(args).arg(runrs_bin());
            c
        }
        None => Command::new(runrs_bin()),
    };
    let mut child = cmd
        .args(["do", "--"])
        .arg(&prog)
        .arg("30")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut buf = [0u8; 6];
    std::io::Read::read_exact(&mut out, &mut buf).unwrap();
    assert_eq!(&buf, b"ready\n");
    child
}

#[test]
fn the_sentry_is_locked_down_while_the_guest_runs() {
    let mut child = sleeping_sandbox(&[]);
    let pid = child.id();
    let sentry = confinement(pid);
    let gofer_pid = child_with_arg(pid, b"gofer").expect("the Gofer process");
    let gofer = confinement(gofer_pid);
    // The Gofer (a fork of runrs) holds its channel (fd 0), /dev/null (fd 1), the inherited
    // stderr (fd 2) and the directories it serves: none of the Sentry's fds.
    let gofer_fds: Vec<(i32, String)> = std::fs::read_dir(format!("/proc/{gofer_pid}/fd"))
        .unwrap()
        .flatten()
        .filter_map(|e| {
            let fd = e.file_name().to_str()?.parse().ok()?;
            Some((fd, std::fs::read_link(e.path()).ok()?.display().to_string()))
        })
        .collect();
    let sentry_net = std::fs::read_link(format!("/proc/{pid}/ns/net")).ok();
    let gofer_net = std::fs::read_link(format!("/proc/{gofer_pid}/ns/net")).ok();
    let stubs: Vec<_> = stubs_of(pid).into_iter().map(confinement).collect();
    let is_root = euid_from_proc() == 0;
    child.kill().unwrap();
    child.wait().unwrap();
    // The guest's stub has its own filter (only the calls the Sentry injects).
    assert!(!stubs.is_empty(), "no stub found");
    for s in &stubs {
        assert_eq!(s.seccomp, "2", "a stub's seccomp filter mode");
        assert_eq!(s.no_new_privs, "1");
    }
    let channel = gofer_fds.iter().find(|f| f.0 == 0).map(|f| f.1.clone());
    assert!(
        channel.as_ref().is_some_and(|c| c.starts_with("socket:")),
        "the Gofer's fd 0: {gofer_fds:?}"
    );
    for (fd, what) in &gofer_fds {
        match fd {
            0 | 2 => {}
            1 => assert_eq!(what, "/dev/null", "the Gofer's fd 1"),
            // Sockets: only its channel (which it also holds as a second fd).
            _ => assert!(
                (!what.starts_with("socket:") || Some(what) == channel.as_ref())
                    && !what.starts_with("memfd:")
                    && !what.starts_with("anon_inode:")
                    && !what.starts_with("pipe:")
                    && what != "/dev/null",
                "the Gofer holds fd {fd}: {what} ({gofer_fds:?})"
            ),
        }
    }
    assert_eq!(gofer.seccomp, "2", "the Gofer's seccomp filter mode");
    assert_eq!(gofer.no_new_privs, "1");
    if is_root {
        // CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER, CAP_FSETID: bits 0-4.
        assert_eq!(gofer.cap_eff, "000000000000001f");
        assert_eq!(gofer.cap_bnd, "000000000000001f");
        assert_eq!(gofer.root_entries, 0, "the Gofer's root is not empty");
    }
    assert_eq!(sentry.seccomp, "2", "seccomp filter mode");
    assert_eq!(sentry.no_new_privs, "1");
    assert_eq!(sentry.cap_eff, "0000000000000000");
    assert_eq!(sentry.cap_prm, "0000000000000000");
    if is_root {
        // An empty root: no host path resolves in the Sentry.
        assert_eq!(sentry.root_entries, 0, "the Sentry's root is not empty");
    }
    // The Sentry has no network, not even the host's loopback: it is in the network namespace
    // the Gofer made first thing, on the other CPU while the Sentry started, or, where the Gofer
    // had not got that far when the Sentry locked down (a loaded host), in one of its own. The
    // Gofer, serving by now, has made its new one either way (its filter admits no socket call
    // either).
    if is_root {
        let host_net = std::fs::read_link("/proc/self/ns/net").ok();
        assert_ne!(sentry_net, host_net, "the Sentry's network namespace");
        assert_ne!(gofer_net, host_net, "the Gofer's network namespace");
    }
}

/// Not root: the Sentry enters a user namespace of its own (its uid mapped to itself), and from
/// there the same empty root and new network namespace as root gets; the guest still sees the
/// host's file owners (the Gofer, which reads them, stays in the host's user namespace).
#[test]
fn the_sentry_is_locked_down_in_its_own_user_namespace_when_not_root() {
    if euid_from_proc() != 0 {
        eprintln!("skipped: needs root to switch to uid 65534");
        return;
    }
    let nobody = ["--reuid=65534", "--regid=65534", "--clear-groups"];
    let mut child = sleeping_sandbox(&[&["setpriv"][..], &nobody[..]].concat());
    let pid = child.id();
    let ns = |p: &str, which: &str| std::fs::read_link(format!("/proc/{p}/ns/{which}")).unwrap();
    let sentry = confinement(pid);
    let (user, net) = (ns(&pid.to_string(), "user"), ns(&pid.to_string(), "net"));
    let uid_map = std::fs::read_to_string(format!("/proc/{pid}/uid_map")).unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    assert_ne!(
        user,
        ns("self", "user"),
        "the Sentry shares our user namespace"
    );
    assert_ne!(
        net,
        ns("self", "net"),
        "the Sentry shares our network namespace"
    );
    assert_eq!(
        uid_map.split_whitespace().collect::<Vec<_>>(),
        ["65534", "65534", "1"]
    );
    assert_eq!(sentry.root_entries, 0, "the Sentry's root is not empty");
    assert_eq!(sentry.seccomp, "2");
    assert_eq!(sentry.no_new_privs, "1");
    assert_eq!(sentry.cap_eff, "0000000000000000");
    assert_eq!(sentry.cap_prm, "0000000000000000");

    // What the guest sees of files and itself is what uid 65534 sees natively.
    let script = "id; ls -ln /usr/bin/env /etc/passwd | cut -c1-30; echo x > /tmp/f; ls -ln /tmp/f | cut -c1-30";
    let run = |sandboxed: bool| {
        let mut c = Command::new("setpriv");
        c.args(nobody);
        if sandboxed {
            c.arg(runrs_bin()).arg("do");
        }
        let o = c
            .args(["/bin/sh", "-c", script])
            .current_dir("/")
            .output()
            .unwrap();
        (
            String::from_utf8_lossy(&o.stdout).into_owned(),
            o.status.code(),
        )
    };
    assert_eq!(run(true), run(false));
}

#[test]
fn shells_run_pipelines_and_subshells_as_natively() {
    let script = "for i in 1 2 3; do echo $i | cat; done; \
                  echo hello | tr a-z A-Z | cat; \
                  x=$(echo sub; echo shell); echo \"[$x]\"; \
                  (cd /usr && ls | head -3); \
                  yes | head -2; \
                  seq 1 200 | sort -rn | head -1; \
                  /bin/false || echo \"false gave $?\"; \
                  echo to-file > /tmp/f && cat /tmp/f && rm /tmp/f; \
                  exit 3";
    // dash (Debian's /bin/sh) and busybox sh.
    differential(Path::new("/bin/sh"), &["-c", script], None).unwrap_or_else(|e| panic!("{e}"));
    differential(busybox(), &["sh", "-c", script], None).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn python_subprocess_matches_native() {
    let code = "import subprocess, sys\n\
                r = subprocess.run(['echo', 'from child'], capture_output=True, text=True)\n\
                print(r.returncode, r.stdout.strip())\n\
                print(subprocess.check_output('ls /usr | head -3', shell=True, text=True).split())\n\
                print(subprocess.call(['false']))\n\
                p = subprocess.Popen([sys.executable, '-c', 'import sys; print(sys.stdin.read().upper())'],\n\
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)\n\
                print(p.communicate('piped through')[0].strip(), p.returncode)\n\
                sys.exit(subprocess.call(['sh', '-c', 'exit 5']))";
    differential(Path::new("/usr/bin/python3"), &["-c", code], None)
        .unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn python_signal_handlers_and_timers_match_native() {
    // Handlers run for kill and for timers (also in a loop that makes no syscalls), a child
    // killed by SIGTERM reports it, SIGCHLD wakes signal.pause-style waits, and the last
    // uncaught SIGTERM is the exit status.
    let code = r#"import os, signal, subprocess, sys, time
got = []
signal.signal(signal.SIGUSR1, lambda s, f: got.append(s))
os.kill(os.getpid(), signal.SIGUSR1)
print('usr1', got)
signal.signal(signal.SIGALRM, lambda s, f: got.append('alrm'))
signal.setitimer(signal.ITIMER_REAL, 0.05)
time.sleep(0.3)
print('after sleep', got)
done = []
signal.signal(signal.SIGALRM, lambda s, f: done.append(s))
signal.setitimer(signal.ITIMER_REAL, 0.1)
n = 0
while not done:
    n += 1
print('loop interrupted', n > 0, done)
p = subprocess.Popen(['sleep', '10'])
p.terminate()
print('child', p.wait())
print('sigwait', signal.sigtimedwait([signal.SIGUSR2], 0.01))
signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGUSR2])
os.kill(os.getpid(), signal.SIGUSR2)
print('pending', signal.sigpending() == {signal.SIGUSR2})
print('waited', signal.sigwait([signal.SIGUSR2]))
sys.stdout.flush()
os.kill(os.getpid(), signal.SIGTERM)"#;
    // The script itself must run to its end natively (a Python error would match too).
    let n = native(Path::new("/usr/bin/python3"), &["-c", code], None).unwrap();
    assert!(
        String::from_utf8_lossy(&n.stdout).contains("waited 12"),
        "{n:?}"
    );
    differential(Path::new("/usr/bin/python3"), &["-c", code], None)
        .unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn gcc_and_make_build_a_project_inside_the_sandbox() {
    let dir = root().join(format!("target/tmp/make-project-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("a.c"),
        "#include <stdio.h>\nint b(void);\nint c(void);\nint main(void) { printf(\"%d\\n\", b() + c()); return 0; }\n",
    )
    .unwrap();
    std::fs::write(dir.join("b.c"), "int b(void) { return 40; }\n").unwrap();
    std::fs::write(dir.join("c.c"), "int c(void) { return 2; }\n").unwrap();
    std::fs::write(
        dir.join("Makefile"),
        "prog: a.o b.o c.o\n\tgcc -o prog a.o b.o c.o\n%.o: %.c\n\tgcc -c -O1 $< -o $@\n",
    )
    .unwrap();
    // Parallel make: it waits for its jobs' SIGCHLD in pselect with the signal unblocked.
    let script = format!("cd {} && make -s -j2 && ./prog && ls", dir.display());
    let out = sandboxed(&[], Path::new("/bin/sh"), &["-c", &script], None).unwrap();
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "42\nMakefile\na.c\na.o\nb.c\nb.o\nc.c\nc.o\nprog\n"
    );
    // Built in the sandbox's memory: the host directory is unchanged.
    let mut host: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    host.sort();
    assert_eq!(host, ["Makefile", "a.c", "b.c", "c.c"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_sandbox_network_is_its_own_loopback() {
    // A TCP and a UDP server on the host's loopback, which the guest must not reach: its
    // 127.0.0.1 is the sandbox's own. Addresses outside the sandbox are unreachable
    // (--network=none), and no guest port shows up on the host.
    let tcp = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    udp.set_nonblocking(true).unwrap();
    let (tp, up) = (
        tcp.local_addr().unwrap().port(),
        udp.local_addr().unwrap().port(),
    );
    let code = format!(
        r#"import errno, socket
def attempt(what, f):
    try:
        f(); print(what, "ok")
    except OSError as e:
        print(what, errno.errorcode[e.errno])
attempt("host tcp port", lambda: socket.create_connection(("127.0.0.1", {tp})))
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.sendto(b"escape", ("127.0.0.1", {up}))
attempt("outside v4", lambda: socket.create_connection(("192.0.2.1", 80)))
attempt("outside v6", lambda: socket.create_connection(("2001:db8::1", 80)))
attempt("outside udp", lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", ("192.0.2.1", 5353)))
attempt("bind outside", lambda: socket.socket().bind(("192.0.2.1", 0)))
# Names: the sandbox's own resolves to its loopback; others do not resolve at all.
print("own name", socket.gethostbyname(socket.gethostname()))
try:
    socket.getaddrinfo("example.com", 80)
    print("example.com resolved")
except socket.gaierror as e:
    print("example.com", e.args[0] == socket.EAI_NONAME)
l = socket.create_server(("127.0.0.1", 0))
print("listening on", l.getsockname()[1] > 0)
"#
    );
    let out = sandboxed(&[], Path::new("/usr/bin/python3"), &["-c", &code], None).unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        stdout,
        "host tcp port ECONNREFUSED\noutside v4 ENETUNREACH\noutside v6 ENETUNREACH\n\
         outside udp ENETUNREACH\nbind outside EADDRNOTAVAIL\nown name 127.0.0.1\n\
         example.com True\nlistening on True\n",
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.code, 0);
    tcp.set_nonblocking(true).unwrap();
    assert!(
        tcp.accept().is_err(),
        "the guest reached the host's listener"
    );
    let mut buf = [0u8; 16];
    assert!(
        udp.recv_from(&mut buf).is_err(),
        "a guest datagram reached the host"
    );
}

/// runrs started with its stdin (or all of its stdio) closed still starts its Gofer on a
/// channel of its own: the fds the channel gets may be 0 to 2.
#[test]
fn a_sandbox_starts_with_runrs_stdio_closed() {
    for redirect in ["<&-", "<&- >&- 2>&-"] {
        let script = format!(
            "exec {} do /bin/busybox sh -c 'exit 7' {redirect}",
            runrs_bin().display()
        );
        let status = Command::new("/bin/sh")
            .args(["-c", &script])
            .status()
            .unwrap();
        assert_eq!(status.code(), Some(7), "with {redirect}");
    }
}
