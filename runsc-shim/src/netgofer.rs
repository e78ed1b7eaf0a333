//! The net gofer (`runrs netgofer`, hidden): the only runrs process that creates host sockets.
//! The Sentry asks it for an outbound TCP connection (address and port); it checks the egress
//! policy and, if the policy allows, creates a non-blocking host socket, starts connecting, and
//! donates the fd over its channel. The Sentry then moves the data itself. A denial comes back
//! with the errno the guest gets (EACCES) and a reason a person or a model can read.
//!
//! The policy (`--network`):
//! - `none` (the default): no net gofer runs; the guest reaches only its own loopback.
//! - `host-open`: every outbound TCP connection is allowed (trusted use).
//! - `sandbox`: deny by default; `--allow-cidr NET[:PORT]` allows a network (one port of it, or
//!   every port). Names are not resolved yet (no in-sandbox DNS resolver): give addresses.

use anyhow::Context as _;
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

/// The egress policy the net gofer enforces.
#[derive(Clone, Debug, Default)]
pub struct Policy {
    pub open: bool,
    pub allow: Vec<Cidr>,
}

impl Policy {
    /// None if `sa` may be reached, else why not.
    pub fn check(&self, sa: SocketAddr) -> Option<String> {
        if self.open {
            return None;
        }
        if self.allow.iter().any(|c| c.contains(sa)) {
            return None;
        }
        Some(if self.allow.is_empty() {
            format!("{sa} is not allowed: --network=sandbox allows nothing without --allow-cidr")
        } else {
            let rules: Vec<String> = self.allow.iter().map(ToString::to_string).collect();
            format!(
                "{sa} is not allowed: it is in no allowed network (--allow-cidr {})",
                rules.join(", ")
            )
        })
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
    let policy = Policy {
        open: args.open,
        allow: args.allow.clone(),
    };
    lock_down().context("locking the net gofer down")?;
    while let Some((msg, _)) = chan.recv().context("reading a request")? {
        let (reply, fd) = handle(&policy, &msg);
        chan.send(reply.to_string().as_bytes(), fd.as_ref().map(AsFd::as_fd))
            .context("replying")?;
    }
    Ok(())
}

fn handle(policy: &Policy, msg: &[u8]) -> (serde_json::Value, Option<OwnedFd>) {
    let deny =
        |errno: i32, reason: String| (serde_json::json!({"errno": errno, "reason": reason}), None);
    let Ok(req) = serde_json::from_slice::<serde_json::Value>(msg) else {
        return deny(libc::EINVAL, "malformed request".into());
    };
    let addr = req["addr"].as_str().and_then(|a| a.parse::<IpAddr>().ok());
    let port = req["port"].as_u64().and_then(|p| u16::try_from(p).ok());
    let (Some(addr), Some(port), Some("connect")) = (addr, port, req["op"].as_str()) else {
        return deny(libc::EINVAL, "malformed request".into());
    };
    let sa = SocketAddr::new(addr, port);
    if let Some(reason) = policy.check(sa) {
        return deny(libc::EACCES, reason);
    }
    match connect(sa) {
        Ok(fd) => (serde_json::json!({"ok": true}), Some(fd)),
        Err(e) => deny(e as i32, format!("connecting to {sa}: {e}")),
    }
}

/// A non-blocking TCP socket connecting to `sa` (the connection completes later).
fn connect(sa: SocketAddr) -> Result<OwnedFd, nix::errno::Errno> {
    use nix::sys::socket::{socket, AddressFamily, SockFlag, SockType, SockaddrIn, SockaddrIn6};
    let family = if sa.is_ipv4() {
        AddressFamily::Inet
    } else {
        AddressFamily::Inet6
    };
    let fd = socket(
        family,
        SockType::Stream,
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

/// The net gofer's lockdown: an empty root (as root), no new privileges, no capabilities. It
/// needs none to create and connect sockets.
fn lock_down() -> anyhow::Result<()> {
    let admin = nix::unistd::geteuid().is_root();
    if admin {
        gofer::lockdown::enter_empty_root().context("empty root")?;
    }
    nix::sys::prctl::set_no_new_privs().context("PR_SET_NO_NEW_PRIVS")?;
    gofer::lockdown::drop_all_capabilities().context("dropping capabilities")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
            open: false,
            allow: vec![parse_cidr("10.0.0.0/8").unwrap()],
        };
        assert_eq!(p.check("10.9.9.9:80".parse().unwrap()), None);
        let why = p.check("192.0.2.1:80".parse().unwrap()).unwrap();
        assert!(
            why.contains("192.0.2.1:80") && why.contains("10.0.0.0/8"),
            "{why}"
        );
        let open = Policy {
            open: true,
            allow: vec![],
        };
        assert_eq!(open.check("192.0.2.1:80".parse().unwrap()), None);
    }
}
