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
    dir: PathBuf,
    /// The server's two addresses (both served) and port.
    a: String,
    b: String,
    port: u16,
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
        let id = std::process::id() % 200 + 20;
        let ns = format!("runrs-egress-{id}");
        let veth = format!("rre{id}");
        let (host, a, b) = (
            format!("10.213.{id}.1"),
            format!("10.213.{id}.2"),
            format!("10.213.{id}.3"),
        );
        let _ = Command::new("ip").args(["link", "del", &veth]).status();
        let _ = Command::new("ip").args(["netns", "del", &ns]).status();
        ip(&["netns", "add", &ns]);
        let peer = format!("{veth}p");
        let mut net = Net {
            ns: ns.clone(),
            veth: veth.clone(),
            server: None,
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
        net
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        if let Some(mut s) = self.server.take() {
            let _ = s.kill();
            let _ = s.wait();
        }
        let _ = Command::new("ip")
            .args(["link", "del", &self.veth])
            .status();
        let _ = Command::new("ip").args(["netns", "del", &self.ns]).status();
    }
}

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
    let log = std::fs::read_to_string(&audit).unwrap();
    let denied: Vec<serde_json::Value> = log
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|e| e["event"] == "network_denied")
        .collect();
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
