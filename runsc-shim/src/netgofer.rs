//! The net gofer (`runrs netgofer`, hidden): the only runrs process that creates host sockets.
//! The Sentry asks it for an outbound TCP connection (address and port); it checks the egress
//! policy and, if the policy allows, creates a non-blocking host socket, starts connecting, and
//! donates the fd over its channel. The Sentry then moves the data itself. A denial comes back
//! with the errno the guest gets (EACCES) and a reason a person or a model can read.
//!
//! Outbound UDP is relayed, not donated: a host UDP socket can be pointed anywhere by a sendmsg
//! with an address (which the Sentry's seccomp filter cannot see into), so the Sentry never holds
//! one. For each destination the policy allows, the net gofer makes a UDP socket connected to it
//! (the host kernel then takes datagrams from that peer only) and a `SOCK_SEQPACKET` pair; the
//! Sentry gets one end, and the net gofer moves datagrams between the other end and the host
//! socket. A datagram that finds the other side full is dropped, as UDP may; ICMP errors
//! (ECONNREFUSED) are not passed on. The relay ends when the Sentry closes its end.
//!
//! The policy (`--network`):
//! - `none` (the default): no net gofer runs; the guest reaches only its own loopback.
//! - `host-open`: every outbound TCP connection and UDP destination is allowed (trusted use).
//! - `sandbox`: deny by default; `--allow-cidr NET[:PORT]` allows a network (one port of it, or
//!   every port); `--allow-host NAME` (or `*.SUFFIX`) allows a name: the guest's DNS queries
//!   (answered by the Sentry's resolver, which asks here) get answers only for allowed names,
//!   from `--add-host NAME:ADDR` or the upstream resolvers (`--dns`, else the host's
//!   /etc/resolv.conf, read before the lockdown); an address is reachable once it was resolved
//!   from an allowed name. Other names get NXDOMAIN.

use anyhow::Context as _;
use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsFd, OwnedFd};

/// An allowed network: an address prefix and, optionally, one port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cidr {
    pub net: IpAddr,
    pub prefix: u8,
    pub port: Option<u16>,
}

impl Cidr {
    fn contains(&self, sa: SocketAddr) -> bool {
        if self.port.is_some_and(|p| p != sa.port()) {
            return false;
        }
        let bits = |ip: IpAddr| -> (u128, u8) {
            match ip {
                IpAddr::V4(v) => (u128::from(u32::from(v)), 32),
                IpAddr::V6(v) => (u128::from(v), 128),
            }
        };
        let ip = match sa.ip() {
            IpAddr::V6(v) => v.to_ipv4_mapped().map_or(sa.ip(), IpAddr::V4),
            v4 => v4,
        };
        let ((a, alen), (n, nlen)) = (bits(ip), bits(self.net));
        if alen != nlen {
            return false;
        }
        let shift = u32::from(nlen - self.prefix.min(nlen));
        let mask = if shift >= 128 { 0 } else { u128::MAX << shift };
        a & mask == n & mask
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.net, self.prefix)?;
        if let Some(p) = self.port {
            write!(f, ":{p}")?;
        }
        Ok(())
    }
}

/// Parses `10.0.0.0/8`, `10.0.0.0/8:443`, `192.0.2.1` (a /32), `[2001:db8::]/32:443`.
pub fn parse_cidr(s: &str) -> Result<Cidr, String> {
    let bad = || format!("bad network {s:?} (want ADDR[/PREFIX][:PORT])");
    let (addr_part, port) = if let Some(rest) = s.strip_prefix('[') {
        // [v6]/prefix:port
        let (a, tail) = rest.split_once(']').ok_or_else(bad)?;
        let (prefix, port) = match tail.split_once(':') {
            Some((p, port)) => (p, Some(port)),
            None => (tail, None),
        };
        (format!("{a}{prefix}"), port)
    } else if s.matches(':').count() == 1 {
        let (a, p) = s.split_once(':').ok_or_else(bad)?;
        (a.to_string(), Some(p))
    } else {
        (s.to_string(), None)
    };
    let (addr, prefix) = match addr_part.split_once('/') {
        Some((a, p)) => (a.to_string(), Some(p.parse::<u8>().map_err(|_| bad())?)),
        None => (addr_part.clone(), None),
    };
    let net: IpAddr = addr.parse().map_err(|_| bad())?;
    let max = if net.is_ipv4() { 32 } else { 128 };
    let prefix = prefix.unwrap_or(max);
    if prefix > max {
        return Err(bad());
    }
    let port = port
        .map(|p| p.parse::<u16>().map_err(|_| bad()))
        .transpose()?;
    Ok(Cidr { net, prefix, port })
}

/// Parses `NAME:ADDR` (an --add-host entry).
pub fn parse_add_host(s: &str) -> Result<(String, IpAddr), String> {
    let (name, addr) = s
        .split_once(':')
        .ok_or_else(|| format!("bad host entry {s:?} (want NAME:ADDR)"))?;
    let addr = addr.trim_start_matches('[').trim_end_matches(']');
    let ip = addr
        .parse()
        .map_err(|_| format!("bad address in host entry {s:?}"))?;
    if name.is_empty() {
        return Err(format!("bad host entry {s:?} (want NAME:ADDR)"));
    }
    Ok((name.to_ascii_lowercase(), ip))
}

/// The egress policy the net gofer enforces.
#[derive(Clone, Debug, Default)]
pub struct Policy {
    pub open: bool,
    pub allow: Vec<Cidr>,
    /// Allowed names (`example.org`, `*.pypi.org`).
    pub hosts: Vec<String>,
    /// Static answers (`--add-host`).
    pub static_hosts: Vec<(String, IpAddr)>,
    /// Upstream resolvers (empty: the host's).
    pub dns: Vec<IpAddr>,
}

impl Policy {
    /// A policy from its JSON document (`runrs policy`): `{"network": "sandbox" | "host-open",
    /// "allow_cidrs": [...], "allow_hosts": [...], "add_hosts": ["NAME:ADDR"], "dns": [...]}`.
    pub fn from_json(v: &serde_json::Value) -> Result<Policy, String> {
        let obj = v.as_object().ok_or("a policy is a JSON object")?;
        for k in obj.keys() {
            if !["network", "allow_cidrs", "allow_hosts", "add_hosts", "dns"].contains(&k.as_str())
            {
                return Err(format!("unknown policy field {k:?}"));
            }
        }
        let list = |k: &str| -> Result<Vec<String>, String> {
            match v.get(k) {
                None => Ok(Vec::new()),
                Some(serde_json::Value::Array(a)) => a
                    .iter()
                    .map(|s| {
                        s.as_str()
                            .map(str::to_string)
                            .ok_or(format!("{k}: strings"))
                    })
                    .collect(),
                Some(_) => Err(format!("{k}: a list of strings")),
            }
        };
        let open = match v.get("network").and_then(|n| n.as_str()) {
            Some("sandbox") => false,
            Some("host-open") => true,
            other => {
                return Err(format!(
                    "network: {other:?} is not \"sandbox\" or \"host-open\""
                ))
            }
        };
        Ok(Policy {
            open,
            allow: list("allow_cidrs")?
                .iter()
                .map(|c| parse_cidr(c))
                .collect::<Result<_, _>>()?,
            hosts: list("allow_hosts")?,
            static_hosts: list("add_hosts")?
                .iter()
                .map(|h| parse_add_host(h))
                .collect::<Result<_, _>>()?,
            dns: list("dns")?
                .iter()
                .map(|d| d.parse().map_err(|_| format!("dns: bad address {d:?}")))
                .collect::<Result<_, _>>()?,
        })
    }

    /// None if `sa` may be reached (`resolved`: the addresses given for allowed names), else
    /// why not.
    pub fn check(&self, sa: SocketAddr, resolved: &HashSet<IpAddr>) -> Option<String> {
        if self.open || self.allow.iter().any(|c| c.contains(sa)) {
            return None;
        }
        let ip = match sa.ip() {
            IpAddr::V6(v) => v.to_ipv4_mapped().map_or(sa.ip(), IpAddr::V4),
            v4 => v4,
        };
        if resolved.contains(&ip) {
            return None;
        }
        let mut rules: Vec<String> = self
            .allow
            .iter()
            .map(|c| format!("--allow-cidr {c}"))
            .collect();
        rules.extend(self.hosts.iter().map(|h| format!("--allow-host {h}")));
        Some(if rules.is_empty() {
            format!(
                "{sa} is not allowed: --network=sandbox allows nothing without --allow-cidr or \
                 --allow-host"
            )
        } else {
            format!(
                "{sa} is not allowed: it is in no allowed network and was not resolved from an \
                 allowed name ({})",
                rules.join(", ")
            )
        })
    }

    /// Whether the guest may resolve `name`.
    pub fn name_allowed(&self, name: &str) -> bool {
        self.open || self.hosts.iter().any(|p| gofer::dns::name_matches(p, name))
    }

    /// The policy as the net gofer's arguments.
    pub fn args(&self) -> Vec<String> {
        let mut v = Vec::new();
        if self.open {
            v.push("--open".to_string());
        }
        for c in &self.allow {
            v.push("--allow-cidr".into());
            v.push(c.to_string());
        }
        for h in &self.hosts {
            v.push("--allow-host".into());
            v.push(h.clone());
        }
        for (n, a) in &self.static_hosts {
            v.push("--add-host".into());
            v.push(format!("{n}:{a}"));
        }
        for d in &self.dns {
            v.push("--dns".into());
            v.push(d.to_string());
        }
        v
    }
}

#[derive(clap::Args)]
pub struct NetGoferArgs {
    /// Allow every destination.
    #[arg(long)]
    open: bool,
    /// An allowed network (repeatable).
    #[arg(long = "allow-cidr", value_parser = parse_cidr)]
    allow: Vec<Cidr>,
    /// An allowed name (repeatable).
    #[arg(long = "allow-host")]
    hosts: Vec<String>,
    /// A static answer, NAME:ADDR (repeatable).
    #[arg(long = "add-host", value_parser = parse_add_host)]
    static_hosts: Vec<(String, IpAddr)>,
    /// An upstream resolver (repeatable; default: the host's).
    #[arg(long)]
    dns: Vec<IpAddr>,
}

/// Starts the net gofer for `policy`, connected by a new channel as its stdin.
pub fn start(policy: &Policy) -> anyhow::Result<(gofer::Channel, std::process::Child)> {
    use std::os::unix::process::CommandExt;
    let (sentry_end, ours) = gofer::channel::pair().context("net gofer channel")?;
    let exe = std::env::current_exe().context("finding the runrs executable")?;
    let child = std::process::Command::new(exe)
        .arg("netgofer")
        .args(policy.args())
        .process_group(0)
        .stdin(std::process::Stdio::from(ours.into_fd()))
        .stdout(std::process::Stdio::null())
        .env_clear()
        .spawn()
        .context("starting the net gofer")?;
    Ok((sentry_end, child))
}

/// `runrs netgofer`: serves connection requests on stdin until the Sentry closes it.
pub fn run(args: &NetGoferArgs) -> anyhow::Result<()> {
    nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL)
        .context("PR_SET_PDEATHSIG")?;
    if nix::unistd::getppid().as_raw() == 1 {
        anyhow::bail!("parent already gone");
    }
    let chan = gofer::Channel::from_fd(
        std::io::stdin()
            .as_fd()
            .try_clone_to_owned()
            .context("channel on stdin")?,
    );
    let mut policy = Policy {
        open: args.open,
        allow: args.allow.clone(),
        hosts: args.hosts.clone(),
        static_hosts: args.static_hosts.clone(),
        dns: args.dns.clone(),
    };
    if policy.dns.is_empty() {
        // Read now: after the lockdown no host path resolves.
        policy.dns = host_resolvers();
    }
    lock_down().context("locking the net gofer down")?;
    let mut resolved = HashMap::new();
    let mut relays: Vec<Relay> = Vec::new();
    loop {
        if !wait_for_request(&chan, &mut relays)? {
            continue;
        }
        let Some((msg, _)) = chan.recv().context("reading a request")? else {
            break;
        };
        if let Some(new) = set_policy_request(&msg) {
            let reply = match new {
                Ok(mut p) => {
                    if p.dns.is_empty() {
                        p.dns.clone_from(&policy.dns);
                    }
                    // Addresses stay reachable only if the name they came from still is.
                    resolved.retain(|_, name: &mut String| p.name_allowed(name));
                    policy = p;
                    serde_json::json!({"ok": true})
                }
                Err(reason) => serde_json::json!({"errno": libc::EINVAL, "reason": reason}),
            };
            chan.send(reply.to_string().as_bytes(), None)
                .context("replying")?;
            continue;
        }
        let (reply, fd) = handle(&policy, &mut resolved, &mut relays, &msg);
        chan.send(reply.to_string().as_bytes(), fd.as_ref().map(AsFd::as_fd))
            .context("replying")?;
    }
    Ok(())
}

/// Relays a sandbox has open at most (each is two host sockets here and one in the Sentry).
const MAX_RELAYS: usize = 512;

/// The largest UDP payload (IPv6 jumbograms aside).
const MAX_DATAGRAM: usize = 65_535;

/// One outbound UDP flow: the host socket connected to the destination, and the net gofer's end
/// of the pair whose other end the Sentry holds.
struct Relay {
    host: OwnedFd,
    sentry: OwnedFd,
}

/// Waits until the channel or a relay has something; moves the relays' datagrams. True when a
/// request is waiting on the channel (or it closed).
fn wait_for_request(chan: &gofer::Channel, relays: &mut Vec<Relay>) -> anyhow::Result<bool> {
    use nix::poll::{PollFd, PollFlags, PollTimeout};
    let (ready, gone) = {
        let mut fds = vec![PollFd::new(chan.fd(), PollFlags::POLLIN)];
        for r in relays.iter() {
            fds.push(PollFd::new(r.sentry.as_fd(), PollFlags::POLLIN));
            fds.push(PollFd::new(r.host.as_fd(), PollFlags::POLLIN));
        }
        match nix::poll::poll(&mut fds, PollTimeout::NONE) {
            Ok(_) => {}
            Err(nix::errno::Errno::EINTR) => return Ok(false),
            Err(e) => return Err(e).context("poll"),
        }
        let ev = |i: usize| fds[i].revents().unwrap_or(PollFlags::empty());
        let mut gone = Vec::new();
        for (i, r) in relays.iter().enumerate() {
            let (out, back) = (ev(1 + 2 * i), ev(2 + 2 * i));
            if out.intersects(PollFlags::POLLHUP | PollFlags::POLLERR) {
                // The Sentry closed its end: what it sent before goes out (a read of 0 bytes
                // is the end now, not an empty datagram), and the flow is over.
                while has_datagram(&r.sentry) && pass(&r.sentry, &r.host) {}
                gone.push(i);
                continue;
            }
            if out.contains(PollFlags::POLLIN) {
                pass(&r.sentry, &r.host);
            }
            if back.contains(PollFlags::POLLIN) {
                pass(&r.host, &r.sentry);
            }
        }
        (!ev(0).is_empty(), gone)
    };
    for i in gone.into_iter().rev() {
        relays.swap_remove(i);
    }
    Ok(ready)
}

/// Whether a packet socket whose peer closed still holds a datagram (a read there would
/// otherwise see the end as an empty one).
fn has_datagram(fd: &OwnedFd) -> bool {
    use nix::sys::socket::{recv, MsgFlags};
    use std::os::fd::AsRawFd;
    let flags = MsgFlags::MSG_DONTWAIT | MsgFlags::MSG_PEEK | MsgFlags::MSG_TRUNC;
    matches!(recv(fd.as_raw_fd(), &mut [0u8; 1], flags), Ok(n) if n > 0)
}

/// Moves one datagram from `from` to `to` (both non-blocking); false if there was none. A
/// datagram `to` has no room for is dropped; so are errors the destination reported (ICMP
/// unreachable).
fn pass(from: &OwnedFd, to: &OwnedFd) -> bool {
    use nix::sys::socket::{recv, send, MsgFlags};
    use std::os::fd::AsRawFd;
    let mut buf = vec![0u8; MAX_DATAGRAM];
    match recv(from.as_raw_fd(), &mut buf, MsgFlags::MSG_DONTWAIT) {
        Ok(n) => {
            let _ = send(
                to.as_raw_fd(),
                &buf[..n],
                MsgFlags::MSG_DONTWAIT | MsgFlags::MSG_NOSIGNAL,
            );
            true
        }
        Err(_) => false,
    }
}

/// The nameservers of the host's /etc/resolv.conf.
fn host_resolvers() -> Vec<IpAddr> {
    std::fs::read_to_string("/etc/resolv.conf")
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().strip_prefix("nameserver"))
        .filter_map(|a| a.trim().parse().ok())
        .collect()
}

/// Answers a name for the guest: NXDOMAIN unless allowed; a static answer, or the upstream
/// resolvers'. The addresses given become reachable.
fn resolve(
    policy: &Policy,
    resolved: &mut HashMap<IpAddr, String>,
    name: &str,
    qtype: u16,
) -> serde_json::Value {
    if !policy.name_allowed(name) {
        return serde_json::json!({
            "rcode": gofer::dns::RCODE_NXDOMAIN,
            "reason": format!("{name} is not an allowed name (--allow-host)"),
        });
    }
    let statics: Vec<IpAddr> = policy
        .static_hosts
        .iter()
        .filter(|(n, _)| n == name)
        .map(|(_, a)| *a)
        .collect();
    let (rcode, addrs) = if statics.is_empty() {
        forward(&policy.dns, name, qtype)
    } else {
        (gofer::dns::RCODE_NOERROR, statics)
    };
    resolved.extend(addrs.iter().map(|a| (*a, name.to_string())));
    serde_json::json!({
        "rcode": rcode,
        "addrs": addrs.iter().map(ToString::to_string).collect::<Vec<_>>(),
    })
}

/// Asks the upstream resolvers (2 s each): their code and addresses, SERVFAIL if none answers.
fn forward(servers: &[IpAddr], name: &str, qtype: u16) -> (u8, Vec<IpAddr>) {
    let fail = (gofer::dns::RCODE_SERVFAIL, Vec::new());
    // A query id no one on the path can guess easily: the clock's nanoseconds.
    let id = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| (d.subsec_nanos() >> 4) as u16);
    let Some(q) = gofer::dns::query(id, name, qtype) else {
        return fail;
    };
    for server in servers {
        let bind = if server.is_ipv4() {
            "0.0.0.0:0"
        } else {
            "[::]:0"
        };
        let Ok(sock) = std::net::UdpSocket::bind(bind) else {
            continue;
        };
        let _ = sock.set_read_timeout(Some(std::time::Duration::from_secs(2)));
        if sock.send_to(&q, SocketAddr::new(*server, 53)).is_err() {
            continue;
        }
        let mut buf = [0u8; 4096];
        while let Ok((n, from)) = sock.recv_from(&mut buf) {
            if from.ip() != *server {
                continue;
            }
            if let Some(r) = gofer::dns::parse_response(&buf[..n], id) {
                return r;
            }
        }
    }
    fail
}

/// A `set_policy` request's new policy, if `msg` is one.
fn set_policy_request(msg: &[u8]) -> Option<Result<Policy, String>> {
    let req = serde_json::from_slice::<serde_json::Value>(msg).ok()?;
    (req["op"] == "set_policy").then(|| Policy::from_json(&req["policy"]))
}

fn handle(
    policy: &Policy,
    resolved: &mut HashMap<IpAddr, String>,
    relays: &mut Vec<Relay>,
    msg: &[u8],
) -> (serde_json::Value, Option<OwnedFd>) {
    let deny =
        |errno: i32, reason: String| (serde_json::json!({"errno": errno, "reason": reason}), None);
    let Ok(req) = serde_json::from_slice::<serde_json::Value>(msg) else {
        return deny(libc::EINVAL, "malformed request".into());
    };
    if req["op"] == "resolve" {
        let name = req["name"].as_str().unwrap_or("");
        let qtype = req["qtype"]
            .as_u64()
            .and_then(|q| u16::try_from(q).ok())
            .unwrap_or(0);
        return (resolve(policy, resolved, name, qtype), None);
    }
    let addr = req["addr"].as_str().and_then(|a| a.parse::<IpAddr>().ok());
    let port = req["port"].as_u64().and_then(|p| u16::try_from(p).ok());
    let op = req["op"].as_str();
    let (Some(addr), Some(port), Some("connect" | "udp")) = (addr, port, op) else {
        return deny(libc::EINVAL, "malformed request".into());
    };
    let sa = SocketAddr::new(addr, port);
    if let Some(reason) = policy.check(sa, &resolved.keys().copied().collect()) {
        return deny(libc::EACCES, reason);
    }
    if op == Some("udp") {
        if relays.len() >= MAX_RELAYS {
            return deny(
                libc::ENOBUFS,
                format!("{MAX_RELAYS} outbound UDP destinations are open already"),
            );
        }
        return match udp_relay(sa) {
            Ok((relay, fd)) => {
                relays.push(relay);
                (serde_json::json!({"ok": true}), Some(fd))
            }
            Err(e) => deny(e as i32, format!("a UDP socket for {sa}: {e}")),
        };
    }
    match connect(sa) {
        Ok(fd) => (serde_json::json!({"ok": true}), Some(fd)),
        Err(e) => deny(e as i32, format!("connecting to {sa}: {e}")),
    }
}

/// A relay to `sa`: a UDP socket connected to it and a packet pair; the Sentry's end of the pair.
fn udp_relay(sa: SocketAddr) -> Result<(Relay, OwnedFd), nix::errno::Errno> {
    use nix::sys::socket::{socketpair, AddressFamily, SockFlag, SockType};
    let host = host_socket(sa, SockType::Datagram)?;
    let (ours, theirs) = socketpair(
        AddressFamily::Unix,
        SockType::SeqPacket,
        None,
        SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC,
    )?;
    Ok((Relay { host, sentry: ours }, theirs))
}

/// A non-blocking TCP socket connecting to `sa` (the connection completes later).
fn connect(sa: SocketAddr) -> Result<OwnedFd, nix::errno::Errno> {
    host_socket(sa, nix::sys::socket::SockType::Stream)
}

/// A non-blocking host socket of type `ty` connected (or, for TCP, connecting) to `sa`.
fn host_socket(
    sa: SocketAddr,
    ty: nix::sys::socket::SockType,
) -> Result<OwnedFd, nix::errno::Errno> {
    use nix::sys::socket::{socket, AddressFamily, SockFlag, SockaddrIn, SockaddrIn6};
    let family = if sa.is_ipv4() {
        AddressFamily::Inet
    } else {
        AddressFamily::Inet6
    };
    let fd = socket(
        family,
        ty,
        SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC,
        None,
    )?;
    let raw = std::os::fd::AsRawFd::as_raw_fd(&fd);
    let r = match sa {
        SocketAddr::V4(a) => nix::sys::socket::connect(raw, &SockaddrIn::from(a)),
        SocketAddr::V6(a) => nix::sys::socket::connect(raw, &SockaddrIn6::from(a)),
    };
    match r {
        Ok(()) | Err(nix::errno::Errno::EINPROGRESS) => Ok(fd),
        Err(e) => Err(e),
    }
}

/// The host syscalls the net gofer makes while serving, with why.
pub const ALLOWED: &[(i64, &str)] = &[
    (libc::SYS_recvmsg, "requests from the Sentry"),
    (libc::SYS_sendmsg, "replies and donated sockets"),
    (libc::SYS_connect, "outbound connections the policy allows"),
    (libc::SYS_poll, "waiting for requests and relayed datagrams"),
    (
        libc::SYS_ppoll,
        "waiting for requests and relayed datagrams",
    ),
    (libc::SYS_bind, "the UDP socket of a DNS query upstream"),
    (
        libc::SYS_sendto,
        "DNS queries upstream; relayed UDP datagrams",
    ),
    (libc::SYS_recvfrom, "DNS answers; relayed UDP datagrams"),
    (libc::SYS_setsockopt, "the DNS query's timeout"),
    (libc::SYS_close, "closing sockets"),
    (libc::SYS_write, "log lines on stderr"),
    (libc::SYS_mmap, "allocator"),
    (libc::SYS_munmap, "allocator"),
    (libc::SYS_mremap, "allocator"),
    (libc::SYS_mprotect, "allocator"),
    (libc::SYS_madvise, "allocator"),
    (libc::SYS_brk, "allocator"),
    (libc::SYS_futex, "std locks"),
    (libc::SYS_getrandom, "hash map seeds"),
    (libc::SYS_rt_sigaction, "std"),
    (libc::SYS_rt_sigprocmask, "std"),
    (libc::SYS_rt_sigreturn, "signal return"),
    (libc::SYS_sigaltstack, "std's stack overflow handler"),
    (libc::SYS_getpid, "abort"),
    (libc::SYS_gettid, "abort"),
    (libc::SYS_tgkill, "abort (panic = abort)"),
    (libc::SYS_exit, "thread exit"),
    (libc::SYS_exit_group, "exit"),
];

/// The seccomp filter: [`ALLOWED`], `socket` only for AF_INET and AF_INET6, `socketpair` only
/// for AF_UNIX (UDP relays), `fcntl` only for flags; anything else kills the net gofer.
fn filter() -> anyhow::Result<seccompiler::BpfProgram> {
    let families = [libc::AF_INET as u64, libc::AF_INET6 as u64];
    let unix = [libc::AF_UNIX as u64];
    let fcntl = [libc::F_GETFD, libc::F_SETFD, libc::F_GETFL, libc::F_SETFL].map(|c| c as u64);
    Ok(gofer::lockdown::allow_list_filter(
        ALLOWED,
        &[
            (libc::SYS_socket, 0, &families),
            (libc::SYS_socketpair, 0, &unix),
            (libc::SYS_fcntl, 1, &fcntl),
        ],
    )?)
}

/// The net gofer's lockdown: an empty root (as root), no new privileges, no capabilities (it
/// needs none to create and connect sockets), and a seccomp allow-list.
fn lock_down() -> anyhow::Result<()> {
    let admin = nix::unistd::geteuid().is_root();
    if admin {
        gofer::lockdown::enter_empty_root(false).context("empty root")?;
    }
    nix::sys::prctl::set_no_new_privs().context("PR_SET_NO_NEW_PRIVS")?;
    gofer::lockdown::drop_all_capabilities().context("dropping capabilities")?;
    seccompiler::apply_filter_all_threads(&filter()?).context("seccomp")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_builds() {
        assert!(filter().is_ok());
    }

    #[test]
    fn cidrs_parse_and_match() {
        let c = parse_cidr("10.0.0.0/8:443").unwrap();
        assert!(c.contains("10.1.2.3:443".parse().unwrap()));
        assert!(!c.contains("10.1.2.3:80".parse().unwrap()));
        assert!(!c.contains("11.0.0.1:443".parse().unwrap()));
        let one = parse_cidr("192.0.2.7").unwrap();
        assert!(one.contains("192.0.2.7:1".parse().unwrap()));
        assert!(!one.contains("192.0.2.8:1".parse().unwrap()));
        let v6 = parse_cidr("[2001:db8::]/32:80").unwrap();
        assert!(v6.contains("[2001:db8:1::5]:80".parse().unwrap()));
        assert!(!v6.contains("10.0.0.1:80".parse().unwrap()));
        assert!(parse_cidr("10.0.0.0/33").is_err());
        assert!(parse_cidr("nonsense").is_err());
        let any = parse_cidr("0.0.0.0/0").unwrap();
        assert!(any.contains("203.0.113.9:5".parse().unwrap()));
    }

    #[test]
    fn policy_denies_by_default_and_says_why() {
        let p = Policy {
            allow: vec![parse_cidr("10.0.0.0/8").unwrap()],
            hosts: vec!["*.example.org".into()],
            ..Policy::default()
        };
        let none = HashSet::new();
        assert_eq!(p.check("10.9.9.9:80".parse().unwrap(), &none), None);
        let why = p.check("192.0.2.1:80".parse().unwrap(), &none).unwrap();
        assert!(
            why.contains("192.0.2.1:80") && why.contains("10.0.0.0/8"),
            "{why}"
        );
        let resolved: HashSet<IpAddr> = ["192.0.2.1".parse().unwrap()].into();
        assert_eq!(p.check("192.0.2.1:443".parse().unwrap(), &resolved), None);
        assert!(p.name_allowed("www.example.org") && !p.name_allowed("example.com"));
        let open = Policy {
            open: true,
            ..Policy::default()
        };
        assert_eq!(open.check("192.0.2.1:80".parse().unwrap(), &none), None);
        assert_eq!(
            parse_add_host("Web.Test:10.0.0.2"),
            Ok(("web.test".into(), "10.0.0.2".parse().unwrap()))
        );
        assert!(parse_add_host("nocolon").is_err());
    }
}
