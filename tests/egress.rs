//! Outbound connections under the egress policy, against a real HTTP server the test starts in a
//! network namespace of its own (a veth pair with addresses it assigns; nothing outside this
//! machine is ever addressed): allowed networks get through, others get EACCES with an audit
//! line naming the rule, `--network=none` (the default) gets ENETUNREACH, `host-open` reaches
//! everything.

use runrs_tests::*;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A network namespace with a veth pair and an HTTP server on two addresses; removed on drop.
struct Net {
    ns: String,
    veth: String,
    server: Option<Child>,
    dns: Option<Child>,
    /// A UDP echo server on both addresses, on the HTTP server's port number.
    echo: Option<Child>,
    dir: PathBuf,
    /// The server's two addresses (both served) and port.
    a: String,
    b: String,
    port: u16,
}

/// `ip args`, whatever it says (cleaning up what may not be there).
fn quiet_ip(args: &[&str]) {
    let _ = Command::new("ip")
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

fn ip(args: &[&str]) {
    let st = Command::new("ip")
        .args(args)
        .status()
        .expect("ip (iproute2)");
    assert!(st.success(), "ip {args:?}");
}

impl Net {
    fn new() -> Net {
        // Distinct per test run and per test (tests run in parallel).
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let id = 20 + (std::process::id() % 25) * 8 + n % 8;
        let ns = format!("runrs-egress-{id}");
        let veth = format!("rre{id}");
        let (host, a, b) = (
            format!("10.213.{id}.1"),
            format!("10.213.{id}.2"),
            format!("10.213.{id}.3"),
        );
        quiet_ip(&["link", "del", &veth]);
        quiet_ip(&["netns", "del", &ns]);
        ip(&["netns", "add", &ns]);
        let peer = format!("{veth}p");
        let mut net = Net {
            ns: ns.clone(),
            veth: veth.clone(),
            server: None,
            dns: None,
            echo: None,
            dir: build_dir().join("egress"),
            a: a.clone(),
            b: b.clone(),
            port: 8000 + u16::try_from(id).unwrap(),
        };
        ip(&["link", "add", &veth, "type", "veth", "peer", "name", &peer]);
        ip(&["link", "set", &peer, "netns", &ns]);
        ip(&["addr", "add", &format!("{host}/24"), "dev", &veth]);
        ip(&["link", "set", &veth, "up"]);
        for addr in [&a, &b] {
            ip(&[
                "-n",
                &ns,
                "addr",
                "add",
                &format!("{addr}/24"),
                "dev",
                &peer,
            ]);
        }
        ip(&["-n", &ns, "link", "set", &peer, "up"]);
        ip(&["-n", &ns, "link", "set", "lo", "up"]);
        std::fs::create_dir_all(&net.dir).unwrap();
        std::fs::write(net.dir.join("hello.txt"), "hello from outside\n").unwrap();
        net.server = Some(
            Command::new("ip")
                .args([
                    "netns",
                    "exec",
                    &ns,
                    "/usr/bin/python3",
                    "-m",
                    "http.server",
                ])
                .args(["--bind", "0.0.0.0", "--directory"])
                .arg(&net.dir)
                .arg(net.port.to_string())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        );
        // A DNS server of its own on the first address: every name is the second address.
        net.dns = Some(
            Command::new("ip")
                .args([
                    "netns",
                    "exec",
                    &ns,
                    "/usr/bin/python3",
                    "-c",
                    DNS_SERVER,
                    &a,
                    &b,
                ])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        );
        net.echo = Some(
            Command::new("ip")
                .args(["netns", "exec", &ns, "/usr/bin/python3", "-c", UDP_ECHO])
                .arg(net.port.to_string())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        );
        // Up when the host reaches it.
        let t0 = Instant::now();
        let target: std::net::SocketAddr = format!("{a}:{}", net.port).parse().unwrap();
        while std::net::TcpStream::connect_timeout(&target, Duration::from_millis(200)).is_err() {
            assert!(
                t0.elapsed() < Duration::from_secs(20),
                "the test server did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let udp = std::net::UdpSocket::bind("0.0.0.0:0").unwrap();
        udp.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        loop {
            let _ = udp.send_to(b"up?", target);
            if udp.recv_from(&mut [0u8; 64]).is_ok() {
                break;
            }
            assert!(
                t0.elapsed() < Duration::from_secs(20),
                "the test's UDP echo server did not start"
            );
        }
        net
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        for mut s in [self.server.take(), self.dns.take(), self.echo.take()]
            .into_iter()
            .flatten()
        {
            let _ = s.kill();
            let _ = s.wait();
        }
        quiet_ip(&["link", "del", &self.veth]);
        quiet_ip(&["netns", "del", &self.ns]);
    }
}

/// A DNS server for the test's upstream: binds argv[1]:53, answers every A query with argv[2].
const DNS_SERVER: &str = r#"import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 53))
addr = socket.inet_aton(sys.argv[2])
while True:
    q, peer = s.recvfrom(512)
    end = 12
    while q[end]:
        end += q[end] + 1
    qtype = q[end + 1:end + 3]
    ans = b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00<\x00\x04" + addr if qtype == b"\x00\x01" else b""
    s.sendto(q[:2] + b"\x81\x80\x00\x01" + (b"\x00\x01" if ans else b"\x00\x00") + b"\x00\x00\x00\x00" + q[12:end + 5] + ans, peer)
"#;

/// A UDP echo server: binds 0.0.0.0:argv[1], answers each datagram with "echo:" and it.
const UDP_ECHO: &str = r#"import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", int(sys.argv[1])))
while True:
    d, peer = s.recvfrom(65535)
    s.sendto(b"echo:" + d, peer)
"#;

const FETCH: &str = r#"import errno, sys, urllib.request, urllib.error
for url in sys.argv[1:]:
    try:
        r = urllib.request.urlopen(url, timeout=10)
        print(r.status, r.read().decode().strip())
    except urllib.error.URLError as e:
        print("error", errno.errorcode.get(getattr(e.reason, "errno", 0), e.reason))
"#;

fn fetch(flags: &[&str], urls: &[String]) -> Outcome {
    let mut args = vec!["-c", FETCH];
    args.extend(urls.iter().map(String::as_str));
    sandboxed(flags, Path::new("/usr/bin/python3"), &args, None).unwrap()
}

fn out(o: &Outcome) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The audit log at `audit`, and its `network_denied` events.
fn network_denials(audit: &Path) -> (String, Vec<serde_json::Value>) {
    let log = std::fs::read_to_string(audit).unwrap();
    let denied = log
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|e| e["event"] == "network_denied")
        .collect();
    (log, denied)
}

fn root_with_ip() -> bool {
    let euid = std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|v| v.split_whitespace().nth(1).map(str::to_string))
        .unwrap_or_default();
    euid == "0" && Path::new("/usr/sbin/ip").exists()
}

#[test]
fn egress_policy_allows_named_networks_and_denies_the_rest() {
    assert!(
        root_with_ip(),
        "the egress tests need root and iproute2 (make deps)"
    );
    let net = Net::new();
    let url = |addr: &str| format!("http://{addr}:{}/hello.txt", net.port);
    let (ua, ub) = (url(&net.a), url(&net.b));
    let audit = build_dir().join("egress/audit.jsonl");
    let _ = std::fs::remove_file(&audit);
    let allow = format!("{}/32:{}", net.a, net.port);
    let o = fetch(
        &[
            "--network",
            "sandbox",
            "--allow-cidr",
            &allow,
            "--audit",
            audit.to_str().unwrap(),
        ],
        &[ua.clone(), ub.clone()],
    );
    assert_eq!(
        out(&o),
        "200 hello from outside\nerror EACCES\n",
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let (log, denied) = network_denials(&audit);
    assert_eq!(denied.len(), 1, "{log}");
    assert_eq!(denied[0]["address"], format!("{}:{}", net.b, net.port));
    assert!(
        denied[0]["reason"].as_str().unwrap().contains(&allow),
        "{log}"
    );
    // The default: nothing outside.
    let o = fetch(&[], std::slice::from_ref(&ua));
    assert_eq!(out(&o), "error ENETUNREACH\n");
    // host-open: everything.
    let o = fetch(&["--network", "host-open"], std::slice::from_ref(&ub));
    assert_eq!(out(&o), "200 hello from outside\n");
    // A port the rule does not name.
    let other = format!("{}/32:1", net.a);
    let o = fetch(&["--network", "sandbox", "--allow-cidr", &other], &[ua]);
    assert_eq!(out(&o), "error EACCES\n");
}

#[test]
fn egress_by_name_through_the_sandbox_resolver() {
    assert!(
        root_with_ip(),
        "the egress tests need root and iproute2 (make deps)"
    );
    let net = Net::new();
    let audit = build_dir().join("egress/audit-names.jsonl");
    let _ = std::fs::remove_file(&audit);
    let code = format!(
        r#"import errno, socket, urllib.request
for name in ["web.test", "up.example", "other.test"]:
    try:
        print(name, sorted({{a[4][0] for a in socket.getaddrinfo(name, 80, socket.AF_INET)}}))
    except socket.gaierror as e:
        print(name, "unknown" if e.args[0] == socket.EAI_NONAME else e)
for host in ["web.test", "up.example"]:
    print(host, urllib.request.urlopen("http://%s:{port}/hello.txt" % host, timeout=10).read().decode().strip())
try:
    socket.create_connection(("{b}", {port}), timeout=5)
    print("connected")
except OSError as e:
    print("{b} unresolved", errno.errorcode[e.errno])
"#,
        port = net.port,
        b = net.b,
    );
    let add = format!("web.test:{}", net.a);
    let o = sandboxed(
        &[
            "--network",
            "sandbox",
            "--allow-host",
            "web.test",
            "--allow-host",
            "*.example",
            "--add-host",
            &add,
            "--dns",
            &net.a,
            "--audit",
            audit.to_str().unwrap(),
        ],
        Path::new("/usr/bin/python3"),
        &["-c", &code],
        None,
    )
    .unwrap();
    // web.test is the fixed answer; up.example comes from the upstream (which answers the
    // second address for every name); other.test is not allowed.
    assert_eq!(
        out(&o),
        format!(
            "web.test ['{a}']\nup.example ['{b}']\nother.test unknown\n\
             web.test hello from outside\nup.example hello from outside\nconnected\n",
            a = net.a,
            b = net.b
        ),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let log = std::fs::read_to_string(&audit).unwrap();
    assert!(
        log.contains(r#""event":"dns_denied""#) && log.contains("other.test"),
        "{log}"
    );
    // Without the upstream's answer first, the second address is not reachable.
    let o = sandboxed(
        &[
            "--network",
            "sandbox",
            "--allow-host",
            "web.test",
            "--add-host",
            &add,
        ],
        Path::new("/usr/bin/python3"),
        &["-c", &code.replace("\"up.example\"", "\"web.test\"")],
        None,
    )
    .unwrap();
    assert!(
        out(&o).ends_with(&format!("{} unresolved EACCES\n", net.b)),
        "{}",
        out(&o)
    );
}

#[test]
fn allow_cidr_without_sandbox_network_is_refused() {
    let o = sandboxed(
        &["--allow-cidr", "10.0.0.0/8"],
        Path::new("/bin/true"),
        &[],
        None,
    )
    .unwrap();
    assert_ne!(o.code, 0);
    assert!(String::from_utf8_lossy(&o.stderr).contains("--network=sandbox"));
    let o = sandboxed(
        &["--network", "sandbox", "--allow-cidr", "10.0.0.0/40"],
        Path::new("/bin/true"),
        &[],
        None,
    )
    .unwrap();
    assert_eq!(o.code, 2, "{}", String::from_utf8_lossy(&o.stderr));
}

/// `runrs --root STATE args...`: (exit code, stdout + stderr).
fn oci(state: &Path, args: &[&str]) -> (i32, String) {
    let o = Command::new(runrs_bin())
        .arg("--root")
        .arg(state)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let mut text = String::from_utf8_lossy(&o.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&o.stderr));
    (o.status.code().unwrap_or(-1), text)
}

#[test]
fn a_containers_policy_is_replaced_while_it_runs() {
    assert!(
        root_with_ip(),
        "the egress tests need root and iproute2 (make deps)"
    );
    let net = Net::new();
    let dir = build_dir().join("egress-oci");
    let _ = std::fs::remove_dir_all(&dir);
    let rootfs = dir.join("bundle/rootfs");
    std::fs::create_dir_all(rootfs.join("bin")).unwrap();
    for d in ["proc", "dev", "tmp", "etc"] {
        std::fs::create_dir_all(rootfs.join(d)).unwrap();
    }
    std::fs::copy("/bin/busybox", rootfs.join("bin/busybox")).unwrap();
    for a in ["sh", "nc", "sleep"] {
        std::os::unix::fs::symlink("busybox", rootfs.join("bin").join(a)).unwrap();
    }
    let bundle = dir.join("bundle");
    let st = dir.join("state");
    let (code, text) = oci(&st, &["spec", "--bundle", bundle.to_str().unwrap()]);
    assert_eq!(code, 0, "{text}");
    let path = bundle.join("config.json");
    let mut spec: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    spec["process"]["terminal"] = serde_json::json!(false);
    spec["process"]["args"] = serde_json::json!(["sleep", "60"]);
    spec["annotations"] = serde_json::json!({"dev.runrs.network": "sandbox"});
    std::fs::write(&path, serde_json::to_vec(&spec).unwrap()).unwrap();
    // Detached: the container's Sentry keeps our stdio, so it gets none to hold.
    let started = Command::new(runrs_bin())
        .arg("--root")
        .arg(&st)
        .args(["run", "-d", "--bundle", bundle.to_str().unwrap(), "c1"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(started.success());
    let port = net.port.to_string();
    let connect = ["exec", "c1", "nc", "-w", "3", &net.a, &port];
    let (code, text) = oci(&st, &connect);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("Permission denied"), "{text}");
    let policy = dir.join("policy.json");
    std::fs::write(
        &policy,
        format!(
            r#"{{"network": "sandbox", "allow_cidrs": ["{}/32:{port}"]}}"#,
            net.a
        ),
    )
    .unwrap();
    let (code, text) = oci(&st, &["policy", "c1", policy.to_str().unwrap()]);
    assert_eq!(code, 0, "{text}");
    let (code, text) = oci(&st, &connect);
    assert_eq!(code, 0, "{text}");
    // A malformed policy is refused, and the one in force stays.
    std::fs::write(
        &policy,
        r#"{"network": "sandbox", "allow_cidrs": ["10.0.0.0/99"]}"#,
    )
    .unwrap();
    let (code, text) = oci(&st, &["policy", "c1", policy.to_str().unwrap()]);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("10.0.0.0/99"), "{text}");
    let (code, text) = oci(&st, &connect);
    assert_eq!(code, 0, "{text}");
    let (code, text) = oci(&st, &["delete", "--force", "c1"]);
    assert_eq!(code, 0, "{text}");
}

#[test]
fn the_net_gofer_is_locked_down() {
    let mut child = Command::new(runrs_bin())
        .args(["do", "--network", "sandbox", "--", "/bin/sleep", "10"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    let net = loop {
        if let Some(p) = child_with_arg(child.id(), b"netgofer") {
            // Give it the moment its lockdown takes.
            std::thread::sleep(Duration::from_millis(300));
            break confinement(p);
        }
        assert!(t0.elapsed() < Duration::from_secs(10), "no net gofer");
        std::thread::sleep(Duration::from_millis(20));
    };
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(net.seccomp, "2");
    assert_eq!(net.no_new_privs, "1");
    assert_eq!(net.cap_eff, "0000000000000000");
    assert_eq!(net.cap_bnd, "0000000000000000");
    if root_with_ip() {
        assert_eq!(net.root_entries, 0, "the net gofer's root is not empty");
    }
}

/// Drives `runrs do --control-fd`: the guest retries a connection the policy first denies; the
/// driver replaces the policy over the control socket, and the next try connects.
const CONTROL_DRIVER: &str = r#"import json, socket, subprocess, sys, time
runrs, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
guest = f"""import socket, time
for i in range(100):
    try:
        socket.create_connection(({addr!r}, {port}), timeout=2)
        print('connected, after a denial:', i > 0)
        break
    except PermissionError:
        if i == 0:
            print('denied', flush=True)
        time.sleep(0.05)
else:
    print('never connected')
"""
a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
p = subprocess.Popen([runrs, "do", "--network", "sandbox", "--control-fd", str(b.fileno()),
                      "--", "/usr/bin/python3", "-c", guest], pass_fds=[b.fileno()],
                     stdout=subprocess.PIPE, text=True)
b.close()
print(p.stdout.readline(), end="")  # the first attempt was denied
a.send(json.dumps({"Policy": {"network": "sandbox", "allow_cidrs": [f"{addr}/32"]}}).encode())
print("policy:", json.loads(a.recv(65536)))
a.send(json.dumps({"Policy": {"network": "bogus"}}).encode())
print("bad policy:", "Error" in json.loads(a.recv(65536)))
print(p.stdout.read(), end="")
print("exit", p.wait())
"#;

#[test]
fn a_runrs_do_sandboxs_policy_is_replaced_through_its_control_fd() {
    assert!(
        root_with_ip(),
        "the egress tests need root and iproute2 (make deps)"
    );
    let net = Net::new();
    let o = Command::new("/usr/bin/python3")
        .args(["-c", CONTROL_DRIVER])
        .arg(runrs_bin())
        .arg(&net.a)
        .arg(net.port.to_string())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "denied\npolicy: Ok\nbad policy: True\nconnected, after a denial: True\nexit 0\n",
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Outbound UDP under the policy: the net gofer relays datagrams to allowed destinations (the
/// Sentry never holds a host UDP socket), answers come back from the destination's address,
/// others get EACCES and an audit line.
#[test]
fn outbound_udp_is_relayed_under_the_policy() {
    assert!(
        root_with_ip(),
        "the egress tests need root and iproute2 (make deps)"
    );
    let net = Net::new();
    let code = r#"import errno, select, socket, sys
port = int(sys.argv[1])
for addr in sys.argv[2:]:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(10)
    try:
        s.sendto(b"ping", (addr, port))
        data, peer = s.recvfrom(100)
        print(data.decode(), peer == (addr, port))
    except OSError as e:
        print("error", errno.errorcode.get(e.errno, e))
    s.close()
# A connected socket: a datagram near the largest, readiness, a cut one, FIONREAD.
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(10)
s.connect((sys.argv[2], port))
s.send(b"x" * 60000)
r, _, _ = select.select([s], [], [], 10)
print("readable", bool(r), len(s.recv(65536)))
s.send(b"abcdef")
select.select([s], [], [], 10)
import fcntl, struct, termios
print("fionread", struct.unpack("i", fcntl.ioctl(s, termios.FIONREAD, b"\0" * 4))[0])
print("cut", s.recv(4))
s.setblocking(False)
try:
    s.recv(10)
except BlockingIOError:
    print("empty")
# Sockets come and go: each closed one's relay ends cleanly (an ended relay once spun and
# flooded the destination with empty datagrams, and answers were lost).
n = 0
for i in range(20):
    c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    c.settimeout(10)
    c.connect((sys.argv[2], port))
    c.send(b"%d" % i)
    n += c.recv(100) == b"echo:%d" % i
    c.close()
print("relays", n)
"#;
    let audit = build_dir().join("egress/audit-udp.jsonl");
    let _ = std::fs::remove_file(&audit);
    let allow = format!("{}/32:{}", net.a, net.port);
    let port = net.port.to_string();
    let args = ["-c", code, &port, &net.a, &net.b];
    let o = sandboxed(
        &[
            "--network",
            "sandbox",
            "--allow-cidr",
            &allow,
            "--audit",
            audit.to_str().unwrap(),
        ],
        Path::new("/usr/bin/python3"),
        &args,
        None,
    )
    .unwrap();
    assert_eq!(
        out(&o),
        "echo:ping True\nerror EACCES\nreadable True 60005\nfionread 11\ncut b'echo'\nempty\nrelays 20\n",
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let (log, denied) = network_denials(&audit);
    assert_eq!(denied.len(), 1, "{log}");
    assert_eq!(denied[0]["address"], format!("{}:{}", net.b, net.port));
    assert_eq!(denied[0]["protocol"], "udp");
    // Without a network, nothing leaves.
    let o = sandboxed(&[], Path::new("/usr/bin/python3"), &args, None).unwrap();
    assert!(
        out(&o).starts_with("error ENETUNREACH\nerror ENETUNREACH\n"),
        "{}",
        out(&o)
    );
}
