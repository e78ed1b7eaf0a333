//! The OCI runtime, as runc's users drive it: bundles built here (busybox-static in a rootfs and
//! config.json from `runrs spec`), the runc command line with its life cycle, hooks and error
//! paths, and a real containerd started by the tests running containers through
//! `containerd-shim-runrs-v1`.
//!
//! Each test has its own state root; after each, nothing may be left behind: no state
//! directory, no process of the container.

use runrs_tests::{compile, root, runrs_bin, Variant};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A scratch directory for one test (emptied first).
fn scratch(name: &str) -> PathBuf {
    let d = root().join("target/tmp/oci").join(name);
    // Containers an earlier, failed run left.
    for p in processes_mentioning(&d.to_string_lossy()) {
        if let Some(pid) = p.split(':').next() {
            let _ = Command::new("kill").args(["-9", pid]).status();
        }
    }
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("scratch dir");
    d
}

const APPLETS: [&str; 17] = [
    "sh", "echo", "cat", "ls", "sleep", "true", "false", "id", "hostname", "pwd", "rm", "mkdir",
    "touch", "env", "nc", "stty", "tail",
];

/// A rootfs with busybox-static and its applets, /etc/passwd, and the usual empty directories.
fn rootfs(dir: &Path) -> PathBuf {
    let r = dir.join("rootfs");
    for d in ["bin", "etc", "proc", "sys", "dev", "tmp", "root", "data"] {
        std::fs::create_dir_all(r.join(d)).expect("mkdir");
    }
    std::fs::copy("/bin/busybox", r.join("bin/busybox")).expect("busybox-static (make deps)");
    for a in APPLETS {
        std::os::unix::fs::symlink("busybox", r.join("bin").join(a)).expect("symlink");
    }
    std::fs::write(r.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n").expect("passwd");
    r
}

/// A bundle in `dir` whose process runs `args`; `tweak` edits config.json.
fn bundle(dir: &Path, args: &[&str], tweak: impl FnOnce(&mut Value)) -> PathBuf {
    let b = dir.join("bundle");
    std::fs::create_dir_all(&b).expect("bundle dir");
    rootfs(&b);
    let out = Command::new(runrs_bin())
        .args(["spec", "--bundle"])
        .arg(&b)
        .output()
        .expect("runrs spec");
    assert!(out.status.success(), "runrs spec: {out:?}");
    let path = b.join("config.json");
    let mut spec: Value =
        serde_json::from_slice(&std::fs::read(&path).expect("config.json")).expect("json");
    spec["process"]["terminal"] = json!(false);
    spec["process"]["args"] = json!(args);
    spec["root"]["readonly"] = json!(false);
    tweak(&mut spec);
    std::fs::write(&path, serde_json::to_vec_pretty(&spec).expect("json")).expect("write");
    b
}

/// What a runrs command did. Output goes through files, not pipes: a container's Sentry
/// inherits them and outlives `create`.
struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

fn runrs(state: &Path, args: &[&str]) -> Out {
    runrs_in(state, args, None)
}

fn runrs_in(state: &Path, args: &[&str], cwd: Option<&Path>) -> Out {
    let dir = state.parent().expect("state has a parent").join("out");
    std::fs::create_dir_all(&dir).expect("out dir");
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let (o, e) = (dir.join(format!("{n}.out")), dir.join(format!("{n}.err")));
    let mut cmd = Command::new(runrs_bin());
    cmd.arg("--root")
        .arg(state)
        .args(args)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&o).expect("out"))
        .stderr(std::fs::File::create(&e).expect("err"));
    if let Some(c) = cwd {
        cmd.current_dir(c);
    }
    let mut child = cmd.spawn().expect("spawn runrs");
    let t0 = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if t0.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("runrs {args:?} did not finish in 60 s");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    Out {
        code: status.code().unwrap_or(-1),
        stdout: std::fs::read_to_string(&o).unwrap_or_default(),
        stderr: std::fs::read_to_string(&e).unwrap_or_default(),
    }
}

/// The container's state document.
fn state(state_dir: &Path, id: &str) -> Value {
    let o = runrs(state_dir, &["state", id]);
    assert_eq!(o.code, 0, "state {id}: {}", o.stderr);
    serde_json::from_str(&o.stdout).expect("state is JSON")
}

/// Waits until the container's status is `want`.
fn wait_status(state_dir: &Path, id: &str, want: &str) {
    let t0 = Instant::now();
    loop {
        let s = state(state_dir, id);
        if s["status"] == want {
            return;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "{id} never became {want}: {s}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn pid_alive(pid: i64) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            s.rfind(')')
                .and_then(|i| s[i + 1..].split_whitespace().next().map(str::to_string))
        })
        .is_some_and(|st| st != "Z" && st != "X")
}

/// Host processes whose command line mentions `needle` (a container's state directory).
fn processes_mentioning(needle: &str) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        if pid == std::process::id() as i32 {
            continue;
        }
        if let Ok(c) = std::fs::read(format!("/proc/{pid}/cmdline")) {
            let c = String::from_utf8_lossy(&c).replace('\0', " ");
            if c.contains(needle) && pid_alive(i64::from(pid)) {
                out.push(format!("{pid}: {c}"));
            }
        }
    }
    out
}

/// Nothing of `state_dir`'s containers is left: no state, no process.
fn assert_clean(state_dir: &Path) {
    let left: Vec<_> = std::fs::read_dir(state_dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert!(left.is_empty(), "state left behind: {left:?}");
    let t0 = Instant::now();
    loop {
        let procs = processes_mentioning(&state_dir.to_string_lossy());
        if procs.is_empty() {
            return;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "processes left behind: {procs:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn run_reports_output_and_exit_status() {
    let d = scratch("run");
    let b = bundle(
        &d,
        &["sh", "-c", "echo hello; echo oops >&2; exit 3"],
        |_| {},
    );
    let st = d.join("state");
    let o = runrs(&st, &["run", "--bundle", b.to_str().unwrap(), "c1"]);
    assert_eq!(o.code, 3, "{}", o.stderr);
    assert_eq!(o.stdout, "hello\n");
    assert_eq!(o.stderr, "oops\n");
    assert_clean(&st);
}

#[test]
fn create_start_state_delete_life_cycle() {
    let d = scratch("lifecycle");
    let b = bundle(&d, &["sh", "-c", "echo started; sleep 0.3; exit 0"], |_| {});
    let st = d.join("state");
    let pidfile = d.join("pid");
    let o = runrs(
        &st,
        &[
            "create",
            "--bundle",
            b.to_str().unwrap(),
            "--pid-file",
            pidfile.to_str().unwrap(),
            "c1",
        ],
    );
    assert_eq!(o.code, 0, "create: {}", o.stderr);
    assert_eq!(o.stdout, "", "the process must not run before start");
    let s = state(&st, "c1");
    assert_eq!(s["status"], "created");
    assert_eq!(s["id"], "c1");
    assert_eq!(s["bundle"], b.to_str().unwrap());
    assert_eq!(s["rootfs"], b.join("rootfs").to_str().unwrap());
    let pid = s["pid"].as_i64().expect("pid");
    assert_eq!(
        std::fs::read_to_string(&pidfile).expect("pid file"),
        pid.to_string()
    );
    assert!(pid_alive(pid));
    let list = runrs(&st, &["list", "--format", "json"]);
    let list: Value = serde_json::from_str(&list.stdout).expect("list json");
    assert_eq!(list[0]["id"], "c1");
    assert_eq!(list[0]["status"], "created");
    let o = runrs(&st, &["start", "c1"]);
    assert_eq!(o.code, 0, "start: {}", o.stderr);
    wait_status(&st, "c1", "stopped");
    assert_eq!(state(&st, "c1")["pid"], 0);
    assert!(!pid_alive(pid));
    let o = runrs(&st, &["delete", "c1"]);
    assert_eq!(o.code, 0, "delete: {}", o.stderr);
    assert_clean(&st);
}

#[test]
fn errors_are_runcs() {
    let d = scratch("errors");
    let st = d.join("state");
    let b = bundle(&d, &["sleep", "30"], |_| {});
    let bs = b.to_str().unwrap();
    let expect = |args: &[&str], msg: &str| {
        let o = runrs(&st, args);
        assert_eq!(o.code, 1, "{args:?}: {} {}", o.stdout, o.stderr);
        assert!(
            o.stderr.contains(msg) && o.stderr.contains("level=error"),
            "{args:?}: wanted {msg:?}, got {}",
            o.stderr
        );
    };
    for verb in ["state", "start", "kill", "delete", "pause", "resume", "ps"] {
        expect(&[verb, "nosuch"], "container does not exist");
    }
    expect(&["exec", "nosuch", "true"], "container does not exist");
    expect(
        &["create", "--bundle", bs, "bad/id"],
        "invalid container ID format",
    );
    // A bundle without config.json, and one with a malformed one.
    let empty = d.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    expect(
        &["create", "--bundle", empty.to_str().unwrap(), "c2"],
        "JSON specification file config.json not found",
    );
    std::fs::write(empty.join("config.json"), "{bad").unwrap();
    expect(
        &["create", "--bundle", empty.to_str().unwrap(), "c2"],
        "invalid config.json",
    );
    expect(
        &[
            "create",
            "--bundle",
            d.join("nodir").to_str().unwrap(),
            "c2",
        ],
        "no such file or directory",
    );
    // A program that is not there fails create, and leaves nothing.
    let nb = bundle(&d.join("noprog"), &["nosuchprogram"], |_| {});
    expect(
        &["create", "--bundle", nb.to_str().unwrap(), "c3"],
        "executable file not found in $PATH",
    );
    assert_clean(&st);
    // A running container.
    assert_eq!(runrs(&st, &["create", "--bundle", bs, "c1"]).code, 0);
    expect(
        &["create", "--bundle", bs, "c1"],
        "container with given ID already exists",
    );
    expect(
        &["exec", "c1", "true"],
        "cannot exec in a created container",
    );
    assert_eq!(runrs(&st, &["start", "c1"]).code, 0);
    expect(
        &["start", "c1"],
        "cannot start an already running container",
    );
    expect(&["resume", "c1"], "container not paused");
    expect(
        &["delete", "c1"],
        "cannot delete container c1 that is not stopped: running",
    );
    expect(&["kill", "c1", "NOSUCHSIG"], "unknown signal");
    assert_eq!(runrs(&st, &["kill", "c1", "KILL"]).code, 0);
    wait_status(&st, "c1", "stopped");
    expect(
        &["start", "c1"],
        "cannot start a container that has stopped",
    );
    expect(&["kill", "c1"], "container not running");
    expect(&["pause", "c1"], "container not running");
    assert_eq!(runrs(&st, &["delete", "c1"]).code, 0);
    // --force on what is not there succeeds, as runc's.
    assert_eq!(runrs(&st, &["delete", "--force", "c1"]).code, 0);
    assert_clean(&st);
}

#[test]
fn foreground_run_with_a_terminal_uses_the_callers() {
    // `runrs spec`'s default asks for a terminal: a foreground run on a terminal gives it ours.
    let d = scratch("tty");
    let b = bundle(
        &d,
        &["sh", "-c", "[ -t 0 ] && [ -t 1 ] && echo on a tty; exit 6"],
        |s| s["process"]["terminal"] = json!(true),
    );
    let st = d.join("state");
    let o = in_pty(&format!(
        "{} --root {} run --bundle {} c1",
        runrs_bin().display(),
        st.display(),
        b.display()
    ));
    assert_eq!(o.status.code(), Some(6), "{o:?}");
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("on a tty"),
        "{o:?}"
    );
    // Detached, a terminal needs a console socket, as with runc.
    let o = runrs(&st, &["run", "-d", "--bundle", b.to_str().unwrap(), "c2"]);
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains("console socket"), "{}", o.stderr);
    assert_clean(&st);
}

#[test]
fn delete_force_kills_a_running_container() {
    let d = scratch("force");
    let b = bundle(&d, &["sh", "-c", "sleep 100 & sleep 100"], |_| {});
    let st = d.join("state");
    let o = runrs(&st, &["run", "-d", "--bundle", b.to_str().unwrap(), "c1"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let pid = state(&st, "c1")["pid"].as_i64().unwrap();
    assert!(pid_alive(pid));
    let o = runrs(&st, &["delete", "--force", "c1"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(!pid_alive(pid));
    assert_clean(&st);
}

#[test]
fn kill_delivers_signals_to_the_guest() {
    let d = scratch("kill");
    let b = bundle(
        &d,
        &[
            "sh",
            "-c",
            "trap 'echo got TERM; exit 7' TERM; echo ready; while true; do sleep 0.05; done",
        ],
        |_| {},
    );
    let st = d.join("state");
    let o = runrs(&st, &["create", "--bundle", b.to_str().unwrap(), "c1"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(runrs(&st, &["start", "c1"]).code, 0);
    // The trap is set once "ready" is out; the create's output file holds it.
    let out_dir = d.join("out");
    let t0 = Instant::now();
    while !std::fs::read_dir(&out_dir)
        .into_iter()
        .flatten()
        .flatten()
        .any(|e| std::fs::read_to_string(e.path()).is_ok_and(|s| s.contains("ready")))
    {
        assert!(t0.elapsed() < Duration::from_secs(20), "never ready");
        std::thread::sleep(Duration::from_millis(20));
    }
    let o = runrs(&st, &["kill", "c1", "TERM"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    wait_status(&st, "c1", "stopped");
    let all: String = std::fs::read_dir(&out_dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .collect();
    assert!(all.contains("got TERM"), "{all}");
    assert_eq!(runrs(&st, &["delete", "c1"]).code, 0);
    assert_clean(&st);
}

#[test]
fn exec_runs_in_the_running_container() {
    let d = scratch("exec");
    let b = bundle(
        &d,
        &["sh", "-c", "echo from init > /tmp/mark; sleep 100"],
        |s| {
            s["process"]["env"] = json!(["PATH=/bin", "FROM_CONFIG=yes"]);
        },
    );
    let st = d.join("state");
    assert_eq!(
        runrs(&st, &["run", "-d", "--bundle", b.to_str().unwrap(), "c1"]).code,
        0
    );
    // The exec'd process sees the init's tmpfs, the config's environment plus -e, and its own
    // exit status comes back.
    let mut o = runrs(
        &st,
        &[
            "exec", "-e", "EXTRA=1", "c1", "sh", "-c",
            "while [ ! -e /tmp/mark ]; do sleep 0.01; done; cat /tmp/mark; echo $FROM_CONFIG $EXTRA; exit 5",
        ],
    );
    assert_eq!(o.code, 5, "{}", o.stderr);
    assert_eq!(o.stdout, "from init\nyes 1\n");
    // A process.json, as containerd's shim passes it, with another user.
    let p = d.join("process.json");
    std::fs::write(
        &p,
        serde_json::to_vec(&json!({
            "args": ["sh", "-c", "id -u; id -g; pwd"],
            "cwd": "/tmp",
            "env": ["PATH=/bin"],
            "user": {"uid": 1000, "gid": 1001}
        }))
        .unwrap(),
    )
    .unwrap();
    o = runrs(&st, &["exec", "--process", p.to_str().unwrap(), "c1"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(o.stdout, "1000\n1001\n/tmp\n");
    // A program that is not there.
    o = runrs(&st, &["exec", "c1", "/bin/nosuch"]);
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains("no such file"), "{}", o.stderr);
    // Detached: the PID file names a host process that ends with the exec'd process.
    let pidfile = d.join("exec.pid");
    let epid = exec_detached(&st, &pidfile, &["sleep", "0.2"]);
    let t0 = Instant::now();
    while pid_alive(epid) {
        assert!(t0.elapsed() < Duration::from_secs(20), "exec never ended");
        std::thread::sleep(Duration::from_millis(20));
    }
    // ps lists the sandbox's processes.
    o = runrs(&st, &["ps", "c1"]);
    assert!(o.stdout.contains("sleep"), "{}", o.stdout);
    // SIGKILL to a detached exec's PID (containerd's shim giving up on an exec, a timed-out
    // probe) kills the exec'd process too, as with runc, whose PID is the process's own.
    let epid = exec_detached(&st, &pidfile, &["sh", "-c", "exec sleep 313"]);
    // The exec returns once the process exists, maybe before its shell has exec'd sleep.
    wait_for_sleeps(&st, 2, "the exec'd sleep never showed");
    let st9 = Command::new("kill")
        .args(["-9", &epid.to_string()])
        .status()
        .unwrap();
    assert!(st9.success());
    wait_for_sleeps(&st, 1, "the exec'd process outlived its killed waiter");
    assert_eq!(runrs(&st, &["delete", "--force", "c1"]).code, 0);
    assert_clean(&st);
}

/// `runrs exec --detach --pid-file PIDFILE c1 ARGS...`: the host PID it wrote.
fn exec_detached(st: &Path, pidfile: &Path, args: &[&str]) -> i64 {
    let mut a = vec![
        "exec",
        "--detach",
        "--pid-file",
        pidfile.to_str().unwrap(),
        "c1",
    ];
    a.extend_from_slice(args);
    let o = runrs(st, &a);
    assert_eq!(o.code, 0, "{}", o.stderr);
    std::fs::read_to_string(pidfile)
        .expect("exec pid file")
        .parse()
        .unwrap()
}

/// Waits until `runrs ps c1` lists `n` sleep processes; fails with `what` after 20 s.
fn wait_for_sleeps(st: &Path, n: usize, what: &str) {
    let t0 = Instant::now();
    loop {
        let o = runrs(st, &["ps", "c1"]);
        if o.stdout.matches("sleep").count() == n {
            return;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "{what}: {}",
            o.stdout
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn exec_with_a_terminal_follows_the_console_size() {
    // `runrs exec -t --console-socket`, as containerd's shim runs it: the pty master goes to the
    // socket's holder, which sets the size and later resizes it; the exec'd shell sees both.
    let d = scratch("exec-tty");
    let b = bundle(&d, &["sleep", "100"], |_| {});
    let st = d.join("state");
    assert_eq!(
        runrs(&st, &["run", "-d", "--bundle", b.to_str().unwrap(), "c1"]).code,
        0
    );
    let sock = d.join("console.sock");
    let receiver = Command::new("python3")
        .arg(root().join("tests/oci/console_receiver.py"))
        .arg(&sock)
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3");
    let t0 = Instant::now();
    while !sock.exists() {
        assert!(t0.elapsed() < Duration::from_secs(10), "no console socket");
        std::thread::sleep(Duration::from_millis(20));
    }
    let o = runrs(
        &st,
        &[
            "exec",
            "-t",
            "--console-socket",
            sock.to_str().unwrap(),
            "c1",
            "sh",
            "-c",
            "stty size; sleep 2.5; stty size; exit 4",
        ],
    );
    assert_eq!(o.code, 4, "{}", o.stderr);
    let seen = receiver.wait_with_output().expect("the receiver");
    let seen = String::from_utf8_lossy(&seen.stdout);
    assert!(
        seen.contains(r"30 100\r\n40 120\r\n"),
        "the sizes the shell saw: {seen}"
    );
    // The container (its Sentry) is still there.
    assert_eq!(state(&st, "c1")["status"], "running");
    assert_eq!(runrs(&st, &["delete", "--force", "c1"]).code, 0);
    assert_clean(&st);
}

/// Containers of a pod (CRI's annotations: type "container", the sandbox's id) run in the pod
/// sandbox's Sentry, each in its own root: one kernel for the pod, so they reach each other on
/// the loopback network, as containers of a Kubernetes pod do. Create, start, state, exec, ps,
/// kill and delete work on each; bind mounts go through the container's own Gofer.
#[test]
fn containers_of_a_pod_share_the_pods_sentry() {
    let d = scratch("pod");
    let st = d.join("state");
    let out = d.join("out");
    std::fs::create_dir_all(&out).unwrap();
    let pod = bundle(&d.join("pod"), &["sleep", "100"], |s| {
        s["annotations"] = json!({"io.kubernetes.cri.container-type": "sandbox"});
    });
    assert_eq!(
        runrs(
            &st,
            &["run", "-d", "--bundle", pod.to_str().unwrap(), "pod"]
        )
        .code,
        0
    );
    let member = |name: &str, args: &[&str]| {
        let b = bundle(&d.join(name), args, |s| {
            s["annotations"] = json!({
                "io.kubernetes.cri.container-type": "container",
                "io.kubernetes.cri.sandbox-id": "pod",
            });
            s["mounts"]
                .as_array_mut()
                .unwrap()
                .push(json!({"destination": "/out", "type": "bind",
                             "source": out.to_str().unwrap(), "options": ["rbind", "rw"]}));
        });
        std::fs::write(b.join("rootfs/etc/which"), format!("{name}\n")).unwrap();
        b
    };
    let web = member(
        "web",
        &["sh", "-c", "echo hello-from-web | nc -l -p 8080; sleep 100"],
    );
    let client = member(
        "client",
        &[
            "sh",
            "-c",
            "cat /etc/which > /out/result; \
             until nc 127.0.0.1 8080 >> /out/result </dev/null; do sleep 0.05; done",
        ],
    );
    for (id, b) in [("web", &web), ("client", &client)] {
        let o = runrs(&st, &["create", "--bundle", b.to_str().unwrap(), id]);
        assert_eq!(o.code, 0, "create {id}: {}", o.stderr);
        assert_eq!(state(&st, id)["status"], "created");
    }
    // One Sentry for the whole pod.
    let sentries = processes_mentioning(&st.to_string_lossy())
        .into_iter()
        .filter(|p| p.contains(" boot "))
        .count();
    assert_eq!(sentries, 1);
    for id in ["web", "client"] {
        let o = runrs(&st, &["start", id]);
        assert_eq!(o.code, 0, "start {id}: {}", o.stderr);
    }
    wait_status(&st, "client", "stopped");
    // The client read its own root, and reached web's listener on the pod's loopback.
    assert_eq!(
        std::fs::read_to_string(out.join("result")).unwrap(),
        "client\nhello-from-web\n"
    );
    // exec runs in the container's own root; ps lists its processes, not the pod's.
    let o = runrs(&st, &["exec", "web", "cat", "/etc/which"]);
    assert_eq!((o.code, o.stdout.as_str()), (0, "web\n"), "{}", o.stderr);
    let o = runrs(&st, &["ps", "web"]);
    assert!(
        o.stdout.contains("sleep") && o.stdout.lines().count() >= 2,
        "{}",
        o.stdout
    );
    let o = runrs(&st, &["ps", "pod"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    // A container of the pod ends alone; the pod goes on.
    assert_eq!(runrs(&st, &["kill", "web", "KILL"]).code, 0);
    wait_status(&st, "web", "stopped");
    assert_eq!(state(&st, "pod")["status"], "running");
    // Deleting: a running one only with --force, as runc.
    let o = runrs(&st, &["create", "--bundle", web.to_str().unwrap(), "web2"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(runrs(&st, &["start", "web2"]).code, 0);
    assert_ne!(runrs(&st, &["delete", "web2"]).code, 0);
    for id in ["client", "web", "web2"] {
        assert_eq!(
            runrs(&st, &["delete", "--force", id]).code,
            0,
            "delete {id}"
        );
    }
    assert_eq!(runrs(&st, &["delete", "--force", "pod"]).code, 0);
    assert_clean(&st);
}

#[test]
fn pause_and_resume() {
    let d = scratch("pause");
    let b = bundle(&d, &["sh", "-c", "sleep 100 & sleep 100"], |_| {});
    let st = d.join("state");
    assert_eq!(
        runrs(&st, &["run", "-d", "--bundle", b.to_str().unwrap(), "c1"]).code,
        0
    );
    // events --stats counts the sandbox's processes: two sleeps (sh execs the last command).
    let t0 = Instant::now();
    loop {
        let o = runrs(&st, &["events", "--stats", "c1"]);
        assert_eq!(o.code, 0, "{}", o.stderr);
        let v: Value = serde_json::from_str(&o.stdout).expect("stats json");
        assert_eq!(v["type"], "stats");
        if v["data"]["pids"]["current"] == 2 {
            break;
        }
        assert!(t0.elapsed() < Duration::from_secs(20), "{v}");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(runrs(&st, &["pause", "c1"]).code, 0);
    assert_eq!(state(&st, "c1")["status"], "paused");
    assert_eq!(runrs(&st, &["resume", "c1"]).code, 0);
    assert_eq!(state(&st, "c1")["status"], "running");
    assert_eq!(runrs(&st, &["delete", "--force", "c1"]).code, 0);
    assert_clean(&st);
}

#[test]
fn config_process_user_env_cwd_hostname() {
    let d = scratch("process");
    let b = bundle(
        &d,
        &[
            "sh",
            "-c",
            "id -u; id -g; id -G; pwd; echo $GREETING; hostname; umask",
        ],
        |s| {
            s["process"]["user"] =
                json!({"uid": 1000, "gid": 100, "additionalGids": [5, 6], "umask": 63});
            s["process"]["cwd"] = json!("/tmp");
            s["process"]["env"] = json!(["PATH=/bin", "GREETING=hi there"]);
            s["hostname"] = json!("box1");
        },
    );
    let st = d.join("state");
    let o = runrs(&st, &["run", "--bundle", b.to_str().unwrap(), "c1"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(o.stdout, "1000\n100\n100 5 6\n/tmp\nhi there\nbox1\n0077\n");
    assert_clean(&st);
}

#[test]
fn linux_resources_memory_and_pids_limits_are_enforced() {
    let d = scratch("resources");
    // The memory limit shows in /proc/meminfo; with pids.limit 4 the process (the shell, which
    // execs the program) makes three children, and the fourth fork fails with EAGAIN.
    let b = bundle(
        &d,
        &[
            "sh",
            "-c",
            "head -1 /proc/meminfo; exec /bin/fork_until_eagain",
        ],
        |s| {
            s["linux"]["resources"] = json!({"memory": {"limit": 64 << 20}, "pids": {"limit": 4}});
        },
    );
    let prog = compile(
        &root().join("tests/guest/fork_until_eagain.c"),
        Variant::Static,
    )
    .expect("compile");
    std::fs::copy(prog, b.join("rootfs/bin/fork_until_eagain")).expect("copy");
    let st = d.join("state");
    let o = runrs(&st, &["run", "--bundle", b.to_str().unwrap(), "c1"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(
        o.stdout,
        "MemTotal:          65536 kB\nfork failed after 3 children: EAGAIN\nfork after reaping: works\n",
        "{}",
        o.stderr
    );
    assert_clean(&st);
}

/// `linux.resources.cpu` is enforced by a host cgroup the whole sandbox runs in (Sentry, Gofer,
/// stubs): a busy guest gets throttled at its quota. The guest sees its limits as cgroup v2
/// shows them, and `delete` removes the cgroup.
#[test]
fn linux_resources_cpu_quota_is_a_host_cgroup() {
    if !nix_is_root() {
        eprintln!("skipped: cgroups need root");
        return;
    }
    let d = scratch("cpu");
    let st = d.join("state");
    let cpu = |s: &mut Value| {
        s["linux"]["resources"]["cpu"] = json!({"quota": 20000, "period": 100000, "shares": 512});
        s["linux"]["cgroupsPath"] = json!("/runrs-test/cpu-quota");
    };
    let b = bundle(
        &d,
        &["cat", "/sys/fs/cgroup/cpu.max", "/sys/fs/cgroup/cpu.weight"],
        cpu,
    );
    let o = runrs(&st, &["run", "--bundle", b.to_str().unwrap(), "view"]);
    assert_eq!(
        (o.code, o.stdout.as_str()),
        (0, "20000 100000\n20\n"),
        "{}",
        o.stderr
    );
    let b2 = bundle(&d.join("busy"), &["sh", "-c", "while :; do :; done"], cpu);
    assert_eq!(
        runrs(
            &st,
            &["run", "-d", "--bundle", b2.to_str().unwrap(), "busy"]
        )
        .code,
        0
    );
    let mount = std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .find_map(|l| {
            let (left, right) = l.split_once(" - ")?;
            let v1 = right.starts_with("cgroup ")
                && right.split(',').any(|o| o.ends_with("cpu") || o == "cpu");
            let v2 = right.starts_with("cgroup2 ");
            (v1 || v2).then(|| (left.split(' ').nth(4).unwrap().to_string(), v2))
        })
        .filter(|(m, _)| Path::new(m).join("runrs-test/cpu-quota").exists())
        .expect("the container's cgroup");
    let dir = Path::new(&mount.0).join("runrs-test/cpu-quota");
    let sentry = state(&st, "busy")["pid"].as_i64().unwrap();
    let procs = std::fs::read_to_string(dir.join("cgroup.procs")).unwrap();
    assert!(
        procs.lines().any(|p| p == sentry.to_string()) && procs.lines().count() >= 3,
        "the Sentry, its Gofer and stub should be in the cgroup: {procs}"
    );
    // Throttled: the quota holds the busy loop back.
    let t0 = Instant::now();
    loop {
        let stat = std::fs::read_to_string(dir.join("cpu.stat")).unwrap();
        let throttled = stat
            .lines()
            .find_map(|l| l.strip_prefix("nr_throttled "))
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
        if throttled > 0 {
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "never throttled: {stat}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(runrs(&st, &["delete", "--force", "busy"]).code, 0);
    assert!(!dir.exists(), "the cgroup outlived the container");
    let _ = std::fs::remove_dir(dir.parent().unwrap());
    assert_clean(&st);
}

/// `linux.maskedPaths` as runc applies them: a directory gets an empty read-only tmpfs over it,
/// a file becomes a null device, a missing path is left alone; `readonlyPaths` under /proc are
/// the sandbox's own (read-only), and one of the container's own paths is refused at create.
#[test]
fn masked_and_readonly_paths() {
    let d = scratch("masked");
    let st = d.join("state");
    let script = "cat /etc/secret; echo cat=$?; ls -A /data; touch /data/x 2>/dev/null; echo touch=$?; \
                  ls -l /etc/secret | cut -c1; echo hi > /etc/secret; cat /etc/secret; cat /etc/passwd | cut -d: -f1";
    let b = bundle(&d, &["sh", "-c", script], |s| {
        s["linux"]["maskedPaths"] = json!(["/etc/secret", "/data", "/proc/kcore", "/nonexistent"]);
        s["linux"]["readonlyPaths"] = json!(["/proc/sys", "/proc/sysrq-trigger"]);
    });
    std::fs::write(b.join("rootfs/etc/secret"), "top secret\n").unwrap();
    std::fs::write(b.join("rootfs/data/file"), "x\n").unwrap();
    let o = runrs(&st, &["run", "--bundle", b.to_str().unwrap(), "m1"]);
    assert_eq!(
        (o.code, o.stdout.as_str()),
        (0, "cat=0\ntouch=1\nc\nroot\n"),
        "{}",
        o.stderr
    );
    // A read-only path of the container's own root cannot be honoured yet: refused, nothing left.
    let mut spec: Value =
        serde_json::from_slice(&std::fs::read(b.join("config.json")).unwrap()).unwrap();
    spec["linux"]["readonlyPaths"] = json!(["/proc/sys", "/etc"]);
    std::fs::write(b.join("config.json"), serde_json::to_vec(&spec).unwrap()).unwrap();
    let o = runrs(&st, &["create", "--bundle", b.to_str().unwrap(), "m2"]);
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains("readonlyPaths: /etc"), "{}", o.stderr);
    assert_clean(&st);
}

/// `linux.sysctl` as runc takes it: the sandbox's own sysctls are set (and act: a user binds a
/// port below 1024 with ip_unprivileged_port_start 0, as Docker sets it), a sysctl outside the
/// kernel's namespaced ones or one the sandbox does not have fails create with runc's error.
#[test]
fn sysctls_are_the_sandboxs_own() {
    let d = scratch("sysctl");
    let st = d.join("state");
    let script = "cat /proc/sys/net/ipv4/ip_unprivileged_port_start /proc/sys/net/core/somaxconn; \
                  nc -l -p 80 2>/dev/null & sleep 1; kill $! 2>/dev/null && echo listening on 80; true";
    let with = |sysctl: Value| {
        bundle(
            &d.join(sysctl.to_string().len().to_string()),
            &["sh", "-c", script],
            |s| {
                s["process"]["user"] = json!({"uid": 1000, "gid": 1000});
                s["linux"]["sysctl"] = sysctl;
            },
        )
    };
    let b = with(json!({"net.ipv4.ip_unprivileged_port_start": "0", "net.core.somaxconn": "128"}));
    let o = runrs(&st, &["run", "--bundle", b.to_str().unwrap(), "s1"]);
    assert_eq!(
        (o.code, o.stdout.as_str()),
        (0, "0\n128\nlistening on 80\n"),
        "{}",
        o.stderr
    );
    // Linux's defaults without: port 80 needs privilege.
    let b = with(json!({}));
    let o = runrs(&st, &["run", "--bundle", b.to_str().unwrap(), "s2"]);
    assert_eq!(
        (o.code, o.stdout.as_str()),
        (0, "1024\n4096\n"),
        "{}",
        o.stderr
    );
    for (sysctl, err) in [
        (
            json!({"vm.swappiness": "10"}),
            "is not in a separate kernel namespace",
        ),
        (
            json!({"kernel.shmmax": "1"}),
            "open /proc/sys/kernel/shmmax: no such file or directory",
        ),
    ] {
        let b = with(sysctl);
        let o = runrs(&st, &["create", "--bundle", b.to_str().unwrap(), "s3"]);
        assert_eq!(o.code, 1);
        assert!(o.stderr.contains(err), "{}", o.stderr);
    }
    assert_clean(&st);
}

#[test]
fn network_annotations_choose_the_egress_policy() {
    let d = scratch("network");
    // The default: the container's own loopback only.
    let b = bundle(
        &d,
        &[
            "sh",
            "-c",
            "nc -w 2 192.0.2.1 80 </dev/null 2>&1; echo status $?",
        ],
        |_| {},
    );
    let st = d.join("state");
    let o = runrs(&st, &["run", "--bundle", b.to_str().unwrap(), "c1"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.contains("unreachable"), "{}", o.stdout);
    assert!(o.stdout.ends_with("status 1\n"), "{}", o.stdout);
    assert_clean(&st);
    // sandbox without an allowed network: EACCES from the policy, not ENETUNREACH.
    let d2 = scratch("network-sandbox");
    let b = bundle(
        &d2,
        &[
            "sh",
            "-c",
            "nc -w 2 192.0.2.1 80 </dev/null 2>&1; echo status $?",
        ],
        |s| {
            s["annotations"] = json!({"dev.runrs.network": "sandbox",
                                      "dev.runrs.network.allow-cidrs": "10.0.0.0/8:443"});
        },
    );
    let st2 = d2.join("state");
    let o = runrs(&st2, &["run", "--bundle", b.to_str().unwrap(), "c1"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.contains("Permission denied"), "{}", o.stdout);
    assert_clean(&st2);
    // A malformed policy fails create, and leaves nothing behind.
    let d3 = scratch("network-bad");
    let b = bundle(&d3, &["true"], |s| {
        s["annotations"] = json!({"dev.runrs.network": "sandbox",
                                  "dev.runrs.network.allow-cidrs": "10.0.0.0/99"});
    });
    let st3 = d3.join("state");
    let o = runrs(&st3, &["create", "--bundle", b.to_str().unwrap(), "c1"]);
    assert_eq!(o.code, 1);
    assert!(
        o.stderr.contains("dev.runrs.network.allow-cidrs"),
        "{}",
        o.stderr
    );
    assert_clean(&st3);
}

#[test]
fn single_file_binds_are_copies() {
    // Docker binds /etc/hosts, /etc/resolv.conf and /etc/hostname as single files: the guest
    // sees their contents (not the image's), and its writes stay in the sandbox.
    let d = scratch("file-bind");
    let hosts = d.join("hosts");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(&hosts, "127.0.0.1 localhost\n10.1.2.3 mybox\n").unwrap();
    let b = bundle(
        &d,
        &[
            "sh",
            "-c",
            "cat /etc/hosts; echo extra >> /etc/hosts && tail -n 1 /etc/hosts",
        ],
        |s| {
            s["mounts"].as_array_mut().unwrap().push(json!({
                "destination": "/etc/hosts", "type": "bind",
                "source": hosts.to_str().unwrap(), "options": ["rbind", "rprivate"]
            }));
        },
    );
    let st = d.join("state");
    let o = runrs(&st, &["run", "--bundle", b.to_str().unwrap(), "c1"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(o.stdout, "127.0.0.1 localhost\n10.1.2.3 mybox\nextra\n");
    assert_eq!(
        std::fs::read_to_string(&hosts).unwrap(),
        "127.0.0.1 localhost\n10.1.2.3 mybox\n",
        "the host file is unchanged"
    );
    assert_clean(&st);
}

#[test]
fn writes_stay_in_the_sandbox_and_readonly_root_refuses_them() {
    let d = scratch("writes");
    let b = bundle(
        &d,
        &[
            "sh",
            "-c",
            "echo new > /newfile && rm /bin/cat && echo more >> /etc/passwd && ls /newfile",
        ],
        |_| {},
    );
    let st = d.join("state");
    let o = runrs(&st, &["run", "--bundle", b.to_str().unwrap(), "c1"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(o.stdout, "/newfile\n");
    let r = b.join("rootfs");
    assert!(!r.join("newfile").exists());
    assert!(r.join("bin/cat").symlink_metadata().is_ok());
    assert_eq!(
        std::fs::read_to_string(r.join("etc/passwd")).unwrap(),
        "root:x:0:0:root:/root:/bin/sh\n"
    );
    let ro = bundle(&d.join("ro"), &["sh", "-c", "echo x > /newfile"], |s| {
        s["root"]["readonly"] = json!(true);
    });
    let o = runrs(&st, &["run", "--bundle", ro.to_str().unwrap(), "c2"]);
    assert_ne!(o.code, 0);
    assert!(o.stderr.contains("Read-only file system"), "{}", o.stderr);
    assert_clean(&st);
}

#[test]
fn bind_mounts_reach_the_host_directory() {
    let d = scratch("binds");
    let rw = d.join("rw");
    let ro = d.join("ro");
    std::fs::create_dir_all(&rw).unwrap();
    std::fs::create_dir_all(&ro).unwrap();
    std::fs::write(ro.join("in"), "from host\n").unwrap();
    let b = bundle(
        &d,
        &[
            "sh",
            "-c",
            "cat /ro/in; echo out > /rw/out; echo x > /ro/x; echo $?",
        ],
        |s| {
            let m = s["mounts"].as_array_mut().unwrap();
            m.push(json!({"destination": "/rw", "type": "bind", "source": rw, "options": ["rbind", "rw"]}));
            m.push(json!({"destination": "/ro", "type": "bind", "source": ro, "options": ["rbind", "ro"]}));
            m.push(json!({"destination": "/run", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid"]}));
        },
    );
    let st = d.join("state");
    let o = runrs(&st, &["run", "--bundle", b.to_str().unwrap(), "c1"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.starts_with("from host\n"), "{}", o.stdout);
    assert!(o.stdout.ends_with("1\n"), "{}", o.stdout);
    assert!(o.stderr.contains("Read-only file system"), "{}", o.stderr);
    assert_eq!(std::fs::read_to_string(rw.join("out")).unwrap(), "out\n");
    assert!(!ro.join("x").exists());
    assert_clean(&st);
}

#[test]
fn hooks_run_in_runcs_order_with_the_state_on_stdin() {
    let d = scratch("hooks");
    let log = d.join("hooks.log");
    let hook = |name: &str| {
        json!({
            "path": "/bin/sh",
            "args": ["sh", "-c", format!("s=$(cat); echo {name} $(echo \"$s\" | grep -o '\"status\": *\"[a-z]*\"' | tr -d ' ') >> {}", log.display())],
        })
    };
    let b = bundle(&d, &["true"], |s| {
        s["hooks"] = json!({
            "createRuntime": [hook("createRuntime")],
            "createContainer": [hook("createContainer")],
            "startContainer": [hook("startContainer")],
            "poststart": [hook("poststart")],
            "poststop": [hook("poststop")],
        });
    });
    let st = d.join("state");
    assert_eq!(
        runrs(&st, &["create", "--bundle", b.to_str().unwrap(), "c1"]).code,
        0
    );
    assert_eq!(runrs(&st, &["start", "c1"]).code, 0);
    wait_status(&st, "c1", "stopped");
    assert_eq!(runrs(&st, &["delete", "c1"]).code, 0);
    let got = std::fs::read_to_string(&log).expect("hooks ran");
    // poststart sees "running" or, if `true` already ended, "stopped".
    let lines: Vec<&str> = got.lines().collect();
    assert_eq!(lines.len(), 5, "{got}");
    assert_eq!(lines[0], r#"createRuntime "status":"created""#);
    assert_eq!(lines[1], r#"createContainer "status":"created""#);
    assert_eq!(lines[2], r#"startContainer "status":"created""#);
    assert!(lines[3].starts_with("poststart "), "{got}");
    assert_eq!(lines[4], r#"poststop "status":"stopped""#);
    // A failing createRuntime hook fails create and leaves nothing.
    let b2 = bundle(&d.join("bad"), &["true"], |s| {
        s["hooks"] = json!({"createRuntime": [{"path": "/bin/false"}]});
    });
    let o = runrs(&st, &["create", "--bundle", b2.to_str().unwrap(), "c2"]);
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains("error running hook #0"), "{}", o.stderr);
    assert_clean(&st);
}

// ---- containerd ----

/// A containerd of the test's own (config, state, socket), stopped when dropped.
struct Containerd {
    child: std::process::Child,
    sock: PathBuf,
    dir: PathBuf,
}

impl Containerd {
    fn start(dir: &Path) -> Containerd {
        // Socket paths are short: under /tmp, not the build tree.
        let tag = dir
            .parent()
            .and_then(Path::file_name)
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let sock =
            std::env::temp_dir().join(format!("runrs-ctd-{}-{tag}.sock", std::process::id()));
        std::fs::create_dir_all(dir).unwrap();
        let cfg = dir.join("config.toml");
        std::fs::write(
            &cfg,
            format!(
                "version = 2\nroot = \"{}\"\nstate = \"{}\"\n[grpc]\n  address = \"{}\"\n\
                 [plugins.\"io.containerd.grpc.v1.cri\"]\n  disable = true\n",
                dir.join("root").display(),
                dir.join("state").display(),
                sock.display()
            ),
        )
        .unwrap();
        let child = Command::new("containerd")
            .arg("--config")
            .arg(&cfg)
            .stdout(std::fs::File::create(dir.join("containerd.log")).unwrap())
            .stderr(std::fs::File::create(dir.join("containerd.err")).unwrap())
            .spawn()
            .expect("containerd (make deps installs it)");
        let c = Containerd {
            child,
            sock,
            dir: dir.to_path_buf(),
        };
        let t0 = Instant::now();
        while !c.ctr(&["version"]).status.success() {
            assert!(
                t0.elapsed() < Duration::from_secs(30),
                "containerd never answered"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        c
    }

    fn ctr(&self, args: &[&str]) -> std::process::Output {
        Command::new("ctr")
            .arg("--address")
            .arg(&self.sock)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("ctr")
    }
}

impl Drop for Containerd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.sock);
        // containerd leaves its ttrpc socket next to the gRPC one.
        let mut ttrpc = self.sock.clone().into_os_string();
        ttrpc.push(".ttrpc");
        let _ = std::fs::remove_file(ttrpc);
        // containerd's state holds mounts of the snapshots: unmount before cleaning.
        unmount_under(&self.dir);
    }
}

#[test]
fn containerd_runs_containers_through_the_runrs_shim() {
    if !nix_is_root() {
        eprintln!("skipped: containerd needs root");
        return;
    }
    let d = scratch("containerd");
    // The shim is the runrs binary under the shim's name.
    let shim = d.join("containerd-shim-runrs-v1");
    std::os::unix::fs::symlink(runrs_bin(), &shim).unwrap();
    let image = d.join("image.tar");
    let st = Command::new("/usr/bin/python3")
        .arg(root().join("tests/oci/mkimage.py"))
        .arg(&image)
        .arg("docker.io/library/runrs-test:1")
        .status()
        .expect("python3");
    assert!(st.success());
    let ctd = Containerd::start(&d);
    succeeded(ctd.ctr(&["images", "import", image.to_str().unwrap()]));
    let rt = shim.to_str().unwrap();
    let img = "docker.io/library/runrs-test:1";
    // Output and exit status of a foreground run; its writes do not reach the image.
    let o = ctd.ctr(&[
        "run",
        "--rm",
        "--runtime",
        rt,
        img,
        "c1",
        "sh",
        "-c",
        "echo hello from containerd; echo x > /bin/newfile; ls /bin/newfile; exit 4",
    ]);
    assert_eq!(o.status.code(), Some(4), "{o:?}");
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "hello from containerd\n/bin/newfile\n"
    );
    let o = ctd.ctr(&[
        "run",
        "--rm",
        "--runtime",
        rt,
        img,
        "c1b",
        "ls",
        "/bin/newfile",
    ]);
    assert_ne!(o.status.code(), Some(0), "a write reached the image");
    // Standard input through the shim, to its end: the guest sees EOF.
    let mut child = Command::new("ctr")
        .arg("--address")
        .arg(&ctd.sock)
        .args(["run", "--rm", "--runtime", rt, img, "c1c", "sh", "-c"])
        .arg("wc -c; echo stdin ended")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("ctr");
    {
        use std::io::Write as _;
        let mut input = child.stdin.take().unwrap();
        input.write_all(b"twelve bytes").unwrap();
    }
    let o = child.wait_with_output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&o.stdout)
            .split_whitespace()
            .collect::<Vec<_>>(),
        ["12", "stdin", "ended"],
        "{o:?}"
    );
    // Detached, then exec, ps, kill, delete.
    succeeded(ctd.ctr(&[
        "run",
        "-d",
        "--runtime",
        rt,
        img,
        "c2",
        "sh",
        "-c",
        "trap 'exit 9' TERM; while true; do sleep 0.05; done",
    ]));
    let o = ctd.ctr(&[
        "task",
        "exec",
        "--exec-id",
        "e1",
        "c2",
        "sh",
        "-c",
        "echo exec says hi; exit 2",
    ]);
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    assert_eq!(String::from_utf8_lossy(&o.stdout), "exec says hi\n");
    let ps = succeeded(ctd.ctr(&["task", "ps", "c2"]));
    assert!(ps.lines().count() >= 2, "{ps}");
    // Pause and resume through the shim, and its stats (the sandbox's guest processes).
    succeeded(ctd.ctr(&["task", "pause", "c2"]));
    let ls = succeeded(ctd.ctr(&["task", "ls"]));
    assert!(
        ls.lines()
            .any(|l| l.starts_with("c2 ") && l.contains("PAUSED")),
        "{ls}"
    );
    succeeded(ctd.ctr(&["task", "resume", "c2"]));
    let ls = succeeded(ctd.ctr(&["task", "ls"]));
    assert!(
        ls.lines()
            .any(|l| l.starts_with("c2 ") && l.contains("RUNNING")),
        "{ls}"
    );
    let metrics = succeeded(ctd.ctr(&["task", "metrics", "c2"]));
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("pids.current") && !l.trim_end().ends_with(" 0")),
        "{metrics}"
    );
    succeeded(ctd.ctr(&["task", "kill", "-s", "SIGTERM", "c2"]));
    let t0 = Instant::now();
    loop {
        let ls = succeeded(ctd.ctr(&["task", "ls"]));
        if ls
            .lines()
            .any(|l| l.starts_with("c2 ") && l.contains("STOPPED"))
        {
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "c2 never stopped: {ls}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    succeeded(ctd.ctr(&["task", "delete", "c2"]));
    succeeded(ctd.ctr(&["container", "rm", "c2"]));
    // A terminal: `ctr run -t` through a real pty (script(1)); the pty comes over the console
    // socket.
    let o = in_pty(&format!(
            "ctr --address {} run -t --rm --runtime {rt} {img} c3 sh -c '[ -t 0 ] && [ -t 1 ] && echo on a tty; exit 3'",
            ctd.sock.display()
        ));
    assert_eq!(o.status.code(), Some(3), "{o:?}");
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("on a tty"),
        "{o:?}"
    );
    let ls = succeeded(ctd.ctr(&["task", "ls"]));
    assert_eq!(ls.lines().count(), 1, "tasks left: {ls}");
    let procs = processes_mentioning(&d.join("state").to_string_lossy());
    assert!(procs.is_empty(), "{procs:?}");
}

// ---- containerd's CRI plugin, driven as kubelet drives it ----

/// Where the runrs shim keeps runrs's state for CRI's namespace (`--root` of the runrs commands
/// it runs: /run/containerd/runrs/NAMESPACE).
const CRI_RUNRS_ROOT: &str = "/run/containerd/runrs/k8s.io";

impl Containerd {
    /// A containerd of the test's own with its CRI plugin on: runtime handler "runrs"
    /// (`io.containerd.runrs.v1`, whose shim `containerd-shim-runrs-v1` is found on
    /// containerd's PATH, as `runrs install` arranges), runc as the default handler, the pod
    /// sandbox image `sandbox_image` (imported locally: no registry is reachable), and CNI's
    /// directories in `dir` (pods on the host network need no CNI).
    fn start_cri(dir: &Path, sandbox_image: &str) -> Containerd {
        let sock = std::env::temp_dir().join(format!("runrs-cri-{}.sock", std::process::id()));
        let bin = dir.join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        std::os::unix::fs::symlink(runrs_bin(), bin.join("containerd-shim-runrs-v1")).unwrap();
        let cri = "plugins.\"io.containerd.grpc.v1.cri\"";
        let cfg = dir.join("config.toml");
        std::fs::write(
            &cfg,
            format!(
                "version = 2\nroot = \"{root}\"\nstate = \"{state}\"\n[grpc]\n  address = \"{sock}\"\n\
                 [{cri}]\n  sandbox_image = \"{sandbox_image}\"\n  disable_apparmor = true\n\
                 [{cri}.containerd]\n  default_runtime_name = \"runc\"\n\
                 [{cri}.containerd.runtimes.runc]\n  runtime_type = \"io.containerd.runc.v2\"\n\
                 [{cri}.containerd.runtimes.runrs]\n  runtime_type = \"io.containerd.runrs.v1\"\n\
                 [{cri}.cni]\n  bin_dir = \"{cni}/bin\"\n  conf_dir = \"{cni}/net.d\"\n",
                root = dir.join("root").display(),
                state = dir.join("state").display(),
                sock = sock.display(),
                cni = dir.join("cni").display(),
            ),
        )
        .unwrap();
        let path = std::env::var("PATH").unwrap_or_default();
        let child = Command::new("containerd")
            .arg("--config")
            .arg(&cfg)
            .env("PATH", format!("{}:{path}", bin.display()))
            .stdout(std::fs::File::create(dir.join("containerd.log")).unwrap())
            .stderr(std::fs::File::create(dir.join("containerd.err")).unwrap())
            .spawn()
            .expect("containerd (make deps installs it)");
        let c = Containerd {
            child,
            sock,
            dir: dir.to_path_buf(),
        };
        let t0 = Instant::now();
        while let Err(e) = c.try_cri("Version", &json!({})) {
            assert!(
                t0.elapsed() < Duration::from_secs(10),
                "containerd's CRI never answered: {e}\n{}",
                std::fs::read_to_string(dir.join("containerd.err")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        c
    }

    /// One CRI RuntimeService call (tests/cri/cri.py: the request and response as JSON, with
    /// the CRI v1 API's field names).
    fn try_cri(&self, method: &str, request: &Value) -> Result<Value, String> {
        let o = Command::new("/usr/bin/python3")
            .arg(root().join("tests/cri/cri.py"))
            .arg(&self.sock)
            .arg(method)
            .arg(request.to_string())
            .stdin(Stdio::null())
            .output()
            .expect("python3");
        if !o.status.success() {
            let err = String::from_utf8_lossy(&o.stderr);
            let hint = if err.contains("No module named") {
                " (make deps installs python3-grpcio and python3-protobuf)"
            } else {
                ""
            };
            return Err(format!("{}{err}{hint}", String::from_utf8_lossy(&o.stdout)));
        }
        serde_json::from_slice(&o.stdout).map_err(|e| format!("{method}: {e}"))
    }

    fn cri(&self, method: &str, request: &Value) -> Value {
        self.try_cri(method, request)
            .unwrap_or_else(|e| panic!("CRI {method}: {e}"))
    }
}

/// Dropped after the containerd: its ttrpc socket is removed, and if the test failed, what
/// CRI's containerd left is too (its shims, whose command line names containerd's socket; the
/// Sentries, container-waits and Gofers, which name its bundles; runrs's state of the pod's
/// containers; the shims' sockets; mounts).
struct CriLeftovers {
    dir: PathBuf,
    sock: PathBuf,
    ids: Vec<String>,
}

impl Drop for CriLeftovers {
    fn drop(&mut self) {
        let mut ttrpc = self.sock.clone().into_os_string();
        ttrpc.push(".ttrpc");
        let _ = std::fs::remove_file(ttrpc);
        if !std::thread::panicking() {
            return;
        }
        let bundles = self.dir.join("state/io.containerd.runtime.v2.task/k8s.io");
        for b in std::fs::read_dir(&bundles).into_iter().flatten().flatten() {
            if let Ok(a) = std::fs::read_to_string(b.path().join("address")) {
                let _ = std::fs::remove_file(a.trim().trim_start_matches("unix://"));
            }
        }
        for needle in [self.sock.to_string_lossy(), self.dir.to_string_lossy()] {
            for p in processes_mentioning(&needle) {
                if let Some(pid) = p.split(':').next() {
                    let _ = Command::new("kill").args(["-9", pid]).status();
                }
            }
        }
        for id in self.ids.iter().rev() {
            let _ = Command::new(runrs_bin())
                .args(["--root", CRI_RUNRS_ROOT, "delete", "--force", id])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        unmount_under(&self.dir);
    }
}

/// The Sentries (`runrs ... boot`) serving bundles of this containerd, not counting a Sentry's
/// own child between its fork and its exec (a stub being made: same command line).
fn sentries_of(state: &Path) -> Vec<String> {
    let procs: Vec<String> = processes_mentioning(&state.to_string_lossy())
        .into_iter()
        .filter(|p| p.contains(" boot "))
        .collect();
    let pids: Vec<&str> = procs.iter().filter_map(|p| p.split(':').next()).collect();
    procs
        .iter()
        .filter(|p| {
            let ppid = p.split(':').next().and_then(|pid| {
                let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
                let after = &s[s.rfind(')')? + 1..];
                after.split_whitespace().nth(1).map(str::to_string)
            });
            !ppid.is_some_and(|pp| pids.contains(&pp.as_str()))
        })
        .cloned()
        .collect()
}

/// Kubernetes' way in: a real containerd's CRI plugin, called as kubelet calls it
/// (RunPodSandbox with runtime handler "runrs" on the host network, then CreateContainer and
/// StartContainer for each of the pod's containers, ContainerStatus, StopPodSandbox,
/// RemovePodSandbox). The pod's two app containers run in its sandbox's one Sentry and reach
/// each other on the pod's loopback (runrs's own: a container in a Sentry of its own could not
/// reach the other's listener); the client's output arrives in its CRI log file and its exit
/// status in ContainerStatus.
#[test]
fn containerd_cri_runs_a_pods_containers_in_its_sandbox_sentry() {
    if !nix_is_root() {
        eprintln!("skipped: containerd needs root");
        return;
    }
    let d = scratch("cri");
    let img = "docker.io/library/runrs-cri-test:1";
    let image = d.join("image.tar");
    // The image's own command is the pod sandbox's (the pause container's).
    let st = Command::new("/usr/bin/python3")
        .arg(root().join("tests/oci/mkimage.py"))
        .arg(&image)
        .arg(img)
        .args(["/bin/sleep", "1000000"])
        .status()
        .expect("python3");
    assert!(st.success());
    let logs = d.join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    let cdir = d.join("containerd");
    let mut leftovers = CriLeftovers {
        dir: cdir.clone(),
        sock: PathBuf::new(),
        ids: Vec::new(),
    };
    let ctd = Containerd::start_cri(&cdir, img);
    leftovers.sock = ctd.sock.clone();
    let state = cdir.join("state");
    succeeded(ctd.ctr(&["-n", "k8s.io", "images", "import", image.to_str().unwrap()]));

    // As kubelet sends them for a pod with hostNetwork: true.
    let ns = json!({"network": "NODE", "pid": "CONTAINER", "ipc": "POD"});
    let pod_config = json!({
        "metadata": {"name": "web-and-client", "uid": "0b3e6a53-runrs-cri-test",
                     "namespace": "default", "attempt": 0},
        "log_directory": logs.to_str().unwrap(),
        "linux": {"security_context": {"namespace_options": ns}},
    });
    let pod = ctd.cri(
        "RunPodSandbox",
        &json!({"config": pod_config, "runtime_handler": "runrs"}),
    )["pod_sandbox_id"]
        .as_str()
        .expect("pod_sandbox_id")
        .to_string();
    leftovers.ids.push(pod.clone());
    let status = ctd.cri("PodSandboxStatus", &json!({"pod_sandbox_id": pod}));
    assert_eq!(status["status"]["state"], "SANDBOX_READY", "{status}");
    assert_eq!(status["status"]["runtime_handler"], "runrs", "{status}");

    let container = |name: &str, script: &str| {
        ctd.cri(
            "CreateContainer",
            &json!({
                "pod_sandbox_id": pod,
                "config": {
                    "metadata": {"name": name, "attempt": 0},
                    "image": {"image": img},
                    "command": ["sh", "-c", script],
                    "log_path": format!("{name}.log"),
                    "linux": {"security_context": {"namespace_options": ns}},
                },
                "sandbox_config": pod_config,
            }),
        )["container_id"]
            .as_str()
            .expect("container_id")
            .to_string()
    };
    let container_state = |id: &str| {
        let s = ctd.cri("ContainerStatus", &json!({"container_id": id}));
        s["status"].clone()
    };
    let web = container("web", "echo hello-from-web | nc -l -p 8080; sleep 100");
    leftovers.ids.push(web.clone());
    ctd.cri("StartContainer", &json!({"container_id": web}));
    let client = container(
        "client",
        "until nc 127.0.0.1 8080 </dev/null; do sleep 0.05; done",
    );
    leftovers.ids.push(client.clone());
    // Both containers exist (web running, client created): one Sentry, the pod sandbox's.
    assert_eq!(container_state(&web)["state"], "CONTAINER_RUNNING");
    assert_eq!(container_state(&client)["state"], "CONTAINER_CREATED");
    let sentries = sentries_of(&state);
    assert_eq!(sentries.len(), 1, "{sentries:#?}");
    assert!(sentries[0].trim_end().ends_with(&pod), "{sentries:#?}");
    // And one shim: containerd's `start` of each container got the pod shim's address.
    let shims: Vec<String> = processes_mentioning(&ctd.sock.to_string_lossy())
        .into_iter()
        .filter(|p| p.contains("-namespace k8s.io"))
        .collect();
    assert_eq!(shims.len(), 1, "{shims:#?}");
    ctd.cri("StartContainer", &json!({"container_id": client}));

    // The client connects to web on the pod's loopback, prints what web sent, and exits 0.
    let t0 = Instant::now();
    let done = loop {
        let s = container_state(&client);
        if s["state"] == "CONTAINER_EXITED" {
            break s;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(15),
            "the client never exited: {s}\nclient's log: {:?}\n(containerd's log: {})",
            std::fs::read_to_string(logs.join("client.log")),
            cdir.join("containerd.err").display()
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(done["exit_code"], 0, "{done}");
    // CRI's log format: TIME STREAM TAG(F: a full line) TEXT.
    let log = std::fs::read_to_string(logs.join("client.log")).expect("client's CRI log");
    assert!(
        log.lines().any(|l| {
            let f: Vec<&str> = l.splitn(4, ' ').collect();
            f.len() == 4 && f[1] == "stdout" && f[2] == "F" && f[3] == "hello-from-web"
        }),
        "client's log: {log:?}"
    );
    assert_eq!(container_state(&web)["state"], "CONTAINER_RUNNING");
    let sentries = sentries_of(&state);
    assert_eq!(sentries.len(), 1, "{sentries:#?}");
    assert!(sentries[0].trim_end().ends_with(&pod), "{sentries:#?}");

    // Kubelet's teardown; then containerd stops and nothing of the pod is left.
    ctd.cri("StopPodSandbox", &json!({"pod_sandbox_id": pod}));
    ctd.cri("RemovePodSandbox", &json!({"pod_sandbox_id": pod}));
    let sock = ctd.sock.clone();
    drop(ctd);
    let t0 = Instant::now();
    loop {
        let mut procs = processes_mentioning(&cdir.to_string_lossy());
        procs.extend(processes_mentioning(&sock.to_string_lossy()));
        for id in [&pod, &web, &client] {
            procs.extend(processes_mentioning(id));
        }
        if procs.is_empty() {
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "processes left behind: {procs:#?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    for id in [&pod, &web, &client] {
        let s = Path::new(CRI_RUNRS_ROOT).join(id);
        assert!(!s.exists(), "runrs state left behind: {}", s.display());
    }
}

/// The output of a command that succeeded (else the test fails with what it printed).
fn succeeded(o: std::process::Output) -> String {
    assert!(
        o.status.success(),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Runs a shell command line on a real pty (script(1)).
fn in_pty(cmdline: &str) -> std::process::Output {
    Command::new("script")
        .arg("-qec")
        .arg(cmdline)
        .arg("/dev/null")
        .stdin(Stdio::null())
        .output()
        .expect("script (bsdutils)")
}

/// Lazily unmounts what a daemon left mounted under `dir` (snapshots), deepest first.
fn unmount_under(dir: &Path) {
    let _ = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "grep -o ' {}[^ ]*' /proc/mounts | sort -r | xargs -r -n1 umount -l",
            dir.display()
        ))
        .status();
}

fn nix_is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(2) == Some("0"))
        })
        .unwrap_or(false)
}

// ---- Docker ----

/// A dockerd of the test's own (data, exec root, socket), on the test's containerd, with
/// runrs registered as a runtime (as `runrs install` does); stopped when dropped.
struct Dockerd {
    child: std::process::Child,
    sock: PathBuf,
    dir: PathBuf,
    exec_root: PathBuf,
}

impl Dockerd {
    fn start(dir: &Path, containerd: &Containerd) -> Dockerd {
        let sock = std::env::temp_dir().join(format!("runrs-docker-{}.sock", std::process::id()));
        // Short, under /tmp: dockerd puts sockets there (a path under target/ may be too long).
        let exec_root =
            std::env::temp_dir().join(format!("runrs-docker-exec-{}", std::process::id()));
        let cfg = dir.join("daemon.json");
        std::fs::write(
            &cfg,
            serde_json::to_vec(&json!({"runtimes": {"runrs": {"path": runrs_bin()}}})).unwrap(),
        )
        .unwrap();
        let child = Command::new("dockerd")
            .arg("--config-file")
            .arg(&cfg)
            .arg("--data-root")
            .arg(dir.join("data"))
            .arg("--exec-root")
            .arg(&exec_root)
            .arg("--pidfile")
            .arg(dir.join("dockerd.pid"))
            .arg("-H")
            .arg(format!("unix://{}", sock.display()))
            .args([
                "--iptables=false",
                "--ip6tables=false",
                "--bridge=none",
                "--storage-driver=overlay2",
            ])
            .arg(format!("--containerd={}", containerd.sock.display()))
            .stdout(std::fs::File::create(dir.join("dockerd.log")).unwrap())
            .stderr(std::fs::File::create(dir.join("dockerd.err")).unwrap())
            .spawn()
            .expect("dockerd (make deps installs docker.io)");
        let d = Dockerd {
            child,
            sock,
            dir: dir.to_path_buf(),
            exec_root,
        };
        let t0 = Instant::now();
        while !d.docker(&["version"]).status.success() {
            assert!(
                t0.elapsed() < Duration::from_secs(60),
                "dockerd never answered"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        d
    }

    fn cmd(&self) -> Command {
        // Debian's client, matching the daemon (a newer one may be first on PATH).
        let mut c = Command::new("/usr/bin/docker");
        c.arg("-H").arg(format!("unix://{}", self.sock.display()));
        c
    }

    fn docker(&self, args: &[&str]) -> std::process::Output {
        self.cmd()
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("docker")
    }
}

impl Drop for Dockerd {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let t0 = Instant::now();
        while self.child.try_wait().ok().flatten().is_none()
            && t0.elapsed() < Duration::from_secs(15)
        {
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.sock);
        unmount_under(&self.dir);
        unmount_under(&self.exec_root);
        let _ = std::fs::remove_dir_all(&self.exec_root);
    }
}

#[test]
fn docker_runs_containers_with_runtime_runrs() {
    if !nix_is_root() {
        eprintln!("skipped: dockerd needs root");
        return;
    }
    let d = scratch("docker");
    let image = d.join("image.tar");
    let st = Command::new("/usr/bin/python3")
        .arg(root().join("tests/oci/mkimage.py"))
        .arg(&image)
        .arg("docker.io/library/runrs-docker-test:1")
        .status()
        .expect("python3");
    assert!(st.success());
    let ctd = Containerd::start(&d.join("containerd"));
    let dk = Dockerd::start(&d, &ctd);
    succeeded(dk.docker(&["load", "-i", image.to_str().unwrap()]));
    let img = "runrs-docker-test:1";
    let o = dk.docker(&[
        "run",
        "--rm",
        "--runtime=runrs",
        img,
        "sh",
        "-c",
        "echo hello from docker; exit 5",
    ]);
    assert_eq!(o.status.code(), Some(5), "{o:?}");
    assert_eq!(String::from_utf8_lossy(&o.stdout), "hello from docker\n");
    // Detached, exec, stop (SIGTERM reaches the guest's trap).
    let id = succeeded(dk.docker(&[
        "run",
        "-d",
        "--runtime=runrs",
        img,
        "sh",
        "-c",
        "trap 'exit 0' TERM; while true; do sleep 0.05; done",
    ]));
    let id = id.trim();
    let o = dk.docker(&["exec", id, "sh", "-c", "echo exec in docker; exit 3"]);
    assert_eq!(o.status.code(), Some(3), "{o:?}");
    assert_eq!(String::from_utf8_lossy(&o.stdout), "exec in docker\n");
    succeeded(dk.docker(&["stop", "-t", "20", id]));
    let state =
        succeeded(dk.docker(&["inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", id]));
    assert_eq!(state.trim(), "exited 0");
    succeeded(dk.docker(&["rm", id]));
    // A terminal: `docker run -it` through a real pty (script(1)).
    let o = in_pty(&format!(
            "/usr/bin/docker -H unix://{} run -it --rm --runtime=runrs {img} sh -c '[ -t 0 ] && [ -t 1 ] && echo on a tty; exit 2'",
            dk.sock.display()
        ));
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("on a tty"),
        "{o:?}"
    );
    drop(dk);
    drop(ctd);
    let procs = processes_mentioning(&d.to_string_lossy());
    assert!(procs.is_empty(), "{procs:?}");
}
