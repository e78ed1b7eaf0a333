//! Terminals end to end, through real ptys: a host tmux drives an interactive bash running in
//! `runrs do -t` (line editing, Ctrl-C, Ctrl-Z and fg, a resize, the host terminal restored at
//! the end), and a tmux server inside the sandbox stays idle when nothing happens.

use runrs_tests::{root, runrs_bin};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A host tmux server of its own (its socket in a fresh directory), killed when dropped.
struct Tmux {
    socket: PathBuf,
}

impl Tmux {
    fn new(name: &str) -> Tmux {
        let dir = root().join("target/tmp/terminal-tests");
        std::fs::create_dir_all(&dir).unwrap();
        let socket = dir.join(format!("{name}-{}", std::process::id()));
        let _ = std::fs::remove_file(&socket);
        Tmux { socket }
    }

    fn cmd(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .args(args)
            .env_remove("TMUX")
            .output()
            .expect("tmux runs");
        assert!(
            out.status.success(),
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn pane(&self) -> String {
        self.cmd(&["capture-pane", "-p", "-t", "t"])
    }

    /// Waits until the pane shows `want` (the pane's text, trailing blanks ignored).
    fn wait_for(&self, want: &str) -> String {
        let end = Instant::now() + Duration::from_secs(20);
        loop {
            let p = self.pane();
            if p.contains(want) {
                return p;
            }
            assert!(Instant::now() < end, "pane never showed {want:?}:\n{p}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "t"];
        args.extend_from_slice(keys);
        self.cmd(&args);
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .arg("kill-server")
            .stderr(Stdio::null())
            .status();
        let _ = std::fs::remove_file(&self.socket);
    }
}

/// Runs an interactive bash in a tmux pane (natively, or under `runrs do -t` when `runrs` is
/// given) and drives it: every check holds in both.
fn drive_bash(runrs: Option<&Path>) {
    let t = Tmux::new(if runrs.is_some() { "runrs" } else { "native" });
    let dir = t.socket.with_extension("d");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let bash = "env PS1='P$ ' TERM=xterm bash --norc --noprofile -i";
    let inner = match runrs {
        Some(r) => format!("{} do -t {bash}", r.display()),
        None => bash.to_string(),
    };
    // The pane's shell records the host terminal's modes before and after, and the status.
    let script = format!(
        "stty -g > {d}/before; {inner}; echo $? > {d}/status; stty -g > {d}/after; echo DONE; sleep 60",
        d = dir.display()
    );
    t.cmd(&[
        "new-session",
        "-d",
        "-s",
        "t",
        "-x",
        "100",
        "-y",
        "30",
        "sh",
        "-c",
        &script,
    ]);
    t.wait_for("P$");
    t.keys(&["stty size; tty", "Enter"]);
    let p = t.wait_for("/dev/pts/");
    assert!(p.contains("30 100"), "the size is the pane's:\n{p}");
    // Line editing: erase two characters, type others.
    t.keys(&["echo abcxy", "BSpace", "BSpace", "de", "Enter"]);
    t.wait_for("abcde\n");
    // Ctrl-C ends the foreground job, not the shell.
    t.keys(&["sleep 100", "Enter"]);
    std::thread::sleep(Duration::from_millis(700));
    t.keys(&["C-c"]);
    t.keys(&["echo status=$?", "Enter"]);
    t.wait_for("status=130");
    // Ctrl-Z stops it; fg continues it (then Ctrl-C ends it).
    t.keys(&["sleep 100", "Enter"]);
    std::thread::sleep(Duration::from_millis(700));
    t.keys(&["C-z"]);
    t.wait_for("Stopped");
    t.keys(&["jobs -l | wc -l", "Enter"]);
    t.keys(&["fg", "Enter"]);
    t.wait_for("sleep 100\n");
    std::thread::sleep(Duration::from_millis(500));
    t.keys(&["C-c"]);
    t.keys(&["echo fg=$?", "Enter"]);
    t.wait_for("fg=130");
    // A resize reaches the program (SIGWINCH, and the new size).
    t.cmd(&["resize-window", "-t", "t", "-x", "120", "-y", "40"]);
    std::thread::sleep(Duration::from_millis(500));
    t.keys(&["stty size", "Enter"]);
    t.wait_for("40 120");
    t.keys(&["exit 7", "Enter"]);
    t.wait_for("DONE");
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap_or_default();
    assert_eq!(read("status").trim(), "7", "bash's exit status comes back");
    assert_eq!(
        read("before"),
        read("after"),
        "the host terminal's modes are restored"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn interactive_bash_natively() {
    // The checks themselves hold natively.
    drive_bash(None);
}

#[test]
fn interactive_bash_in_runrs_do_tty() {
    drive_bash(Some(&runrs_bin()));
}

/// CPU time (user + system, seconds) of `pid` and its descendants.
fn cpu_of_tree(pid: u32) -> f64 {
    let tick = 100.0;
    let mut total = 0.0;
    let mut todo = vec![pid];
    while let Some(p) = todo.pop() {
        if let Ok(stat) = std::fs::read_to_string(format!("/proc/{p}/stat")) {
            let rest = stat.rsplit_once(')').map_or("", |r| r.1);
            let f: Vec<&str> = rest.split_whitespace().collect();
            // Fields 14 and 15 (utime, stime) are the 12th and 13th after the name.
            let n = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
            total += (n(11) + n(12)) / tick;
        }
        if let Ok(tasks) = std::fs::read_dir(format!("/proc/{p}/task")) {
            for t in tasks.flatten() {
                if let Ok(c) = std::fs::read_to_string(t.path().join("children")) {
                    todo.extend(c.split_whitespace().filter_map(|c| c.parse::<u32>().ok()));
                }
            }
        }
    }
    total
}

#[test]
fn tmux_inside_the_sandbox_works_and_idles() {
    // A tmux server and a bash in its pane, inside one sandbox: keys sent, the pane captured;
    // then five idle seconds cost (nearly) no CPU, the trap gVisor fell into.
    let script = r#"
        S=/tmp/tmux.sock
        tmux -S $S new-session -d -x 80 -y 24 "env PS1='in-pane$ ' bash --norc -i" || exit 1
        for i in $(seq 50); do tmux -S $S capture-pane -p | grep -q 'in-pane' && break; sleep 0.1; done
        tmux -S $S send-keys "echo sum=\$((40+2))" Enter
        for i in $(seq 50); do tmux -S $S capture-pane -p | grep -q 'sum=42' && break; sleep 0.1; done
        tmux -S $S capture-pane -p | grep 'sum='
        echo IDLE-START
        sleep 5
        echo IDLE-END
        tmux -S $S kill-server
    "#;
    let mut child = Command::new(runrs_bin())
        .args(["do", "/bin/sh", "-c", script])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("runrs starts");
    let pid = child.id();
    let stdout = child.stdout.take().unwrap();
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stdout));
    let mut seen = Vec::new();
    let mut cpu_start = None;
    let mut idle_cpu = None;
    for line in lines.by_ref() {
        let line = line.unwrap();
        if line == "IDLE-START" {
            cpu_start = Some(cpu_of_tree(pid));
        } else if line == "IDLE-END" {
            idle_cpu = Some(cpu_of_tree(pid) - cpu_start.unwrap_or(0.0));
        }
        seen.push(line);
    }
    let status = child.wait().unwrap();
    assert!(status.success(), "sandbox status {status}; output {seen:?}");
    assert!(
        seen.iter().any(|l| l.contains("echo sum=$((40+2))")) && seen.iter().any(|l| l == "sum=42"),
        "the pane shows the command and its output: {seen:?}"
    );
    let idle = idle_cpu.expect("the idle markers came");
    eprintln!("idle tmux in the sandbox: {idle:.3}s of CPU over 5s");
    assert!(
        idle < 0.25,
        "an idle tmux (server, client gone, bash waiting) used {idle:.2}s of CPU in 5s"
    );
}
