//! Internet sockets (AF_INET, AF_INET6; TCP and UDP), emulated wholly in the Sentry: the
//! guest reaches no packet stack, the host's or its own. Addresses are the sandbox's loopback
//! (127.0.0.0/8, ::1; 0.0.0.0 and :: as wildcards): a TCP connection is two pipe buffers, as a
//! Unix stream connection (the data path is [`UnixStream`]'s), a UDP socket a queue of datagrams
//! with their source addresses. Ports are the sandbox's own namespace ([`Ports`]), never the
//! host's. Anything else is outside (`--network=none`, the only mode so far): connect and sendto
//! give ENETUNREACH, bind EADDRNOTAVAIL.
//!
//! Linux semantics kept: ephemeral ports (32768-60999) for autobind on connect, listen and
//! sendto; EADDRINUSE with SO_REUSEADDR/SO_REUSEPORT's exceptions; dual-stack AF_INET6 sockets
//! (v4-mapped addresses; IPV6_V6ONLY); a non-blocking connect answers EINPROGRESS and reports
//! through poll and SO_ERROR (ECONNREFUSED); a TCP socket closed with unread data resets its
//! peer (ECONNRESET); a connected UDP socket whose datagram found no one gets ECONNREFUSED on
//! its next call, as Linux's ICMP port-unreachable gives; SO_RCVTIMEO/SO_SNDTIMEO.
//!
//! Ancillary data: UDP over IPv6 carries each datagram's hop limit and traffic class
//! (IPV6_HOPLIMIT and IPV6_TCLASS sent with sendmsg or from the socket's options, received with
//! IPV6_RECVHOPLIMIT and IPV6_RECVTCLASS, cut as Linux's put_cmsg cuts them).
//!
//! Left out: MSG_OOB (EOPNOTSUPP on send, EINVAL on receive, as Linux with no urgent data),
//! other ancillary data (control messages sent are ignored and logged; none other received), a full listen
//! backlog taken by a non-blocking connect (it is queued anyway; a blocking one waits), TIME_WAIT
//! (a closed connection's port is free at once), multicast and broadcast. Socket options with no
//! effect on an in-memory connection (TCP_NODELAY, keepalive, IP_TOS, IP_TTL...) are recorded
//! and read back.

use super::{put_addr, put_opt, raise_sigpipe, MsgHdr, UnixStream};
use super::{MSG_DONTWAIT, MSG_NOSIGNAL, MSG_OOB, MSG_PEEK, MSG_TRUNC, POLLRDHUP, SOCK_STREAM};
use super::{SOCK_DGRAM, SOL_SOCKET};
use crate::errors::{Errno, SysResult, EBLOCK};
use crate::kernel::fd::{Anon, File};
use crate::kernel::Task;
use crate::mm::UserAddr;
use crate::{bail, errno};
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::rc::{Rc, Weak};

pub const AF_INET: i32 = 2;
pub const AF_INET6: i32 = 10;
const AF_UNSPEC: u16 = 0;
const IPPROTO_IP: i32 = 0;
const IPPROTO_TCP: i32 = 6;
const IPPROTO_UDP: i32 = 17;
/// UDP-Lite: UDP with partial checksums (nothing to check in memory), its own port space.
const IPPROTO_UDPLITE: i32 = 136;
const IPPROTO_IPV6: i32 = 41;
const IPV6_V6ONLY: i32 = 26;
const IPV6_RECVHOPLIMIT: i32 = 51;
const IPV6_HOPLIMIT: i32 = 52;
const IPV6_RECVTCLASS: i32 = 66;
/// net.ipv4.ip_local_port_range's default.
const EPHEMERAL: std::ops::RangeInclusive<u16> = 32768..=60999;
/// The largest UDP payload over IPv4 and IPv6 (65535 less the headers).
const UDP_MAX_V4: usize = 65507;
const UDP_MAX_V6: usize = 65527;
/// net.core.[rw]mem_default.
const BUF_DEFAULT: u32 = 212_992;
/// What a TCP connection holds in each direction before a writer waits: Linux's send and
/// receive buffers on the loopback grow (tcp_wmem, tcp_rmem autotuning) to about this much.
const TCP_BUFFER: usize = 4 << 20;
/// Bookkeeping Linux charges a queued datagram beyond its payload (an skb's truesize).
const DGRAM_OVERHEAD: usize = 768;

/// The sandbox's bound ports, by (protocol, port): the bindings on each (several with
/// SO_REUSEADDR/SO_REUSEPORT, or on different addresses).
#[derive(Debug, Default)]
pub struct Ports {
    map: HashMap<(i32, u16), Vec<Weak<Binding>>>,
    next: u16,
}

impl Ports {
    fn live(&mut self, proto: i32, port: u16) -> Vec<Rc<Binding>> {
        let list = self.map.entry((proto, port)).or_default();
        list.retain(|w| w.strong_count() > 0);
        list.iter().filter_map(Weak::upgrade).collect()
    }

    /// The binding that takes what is sent to `dest` (from `src`): one bound to that address
    /// before one bound to a wildcard; a connected UDP socket only from its peer.
    fn lookup(&mut self, proto: i32, dest: SocketAddr, src: SocketAddr) -> Option<Rc<Binding>> {
        let mut best: Option<(u8, Rc<Binding>)> = None;
        for b in self.live(proto, dest.port()) {
            let score = b.accepts(dest.ip());
            if score == 0 {
                continue;
            }
            if let Some(d) = &b.dgram {
                if d.peer.get().is_some_and(|p| p != src) {
                    continue;
                }
            }
            if best.as_ref().is_none_or(|(s, _)| score > *s) {
                best = Some((score, b));
            }
        }
        best.map(|(_, b)| b)
    }
}

/// A socket's claim on a port and address.
#[derive(Debug)]
pub struct Binding {
    /// Canonical (a v4-mapped address as IPv4); unspecified: every address.
    addr: IpAddr,
    family: i32,
    v6only: bool,
    reuse: bool,
    reuseport: bool,
    /// TCP: the connection queue, once listening.
    listener: RefCell<Option<Rc<Backlog>>>,
    /// UDP: the socket's receive queue.
    dgram: Option<Rc<Dgram>>,
}

impl Binding {
    /// How well this binding takes `dest`: 2 for its own address, 1 through a wildcard, 0 not.
    fn accepts(&self, dest: IpAddr) -> u8 {
        if self.addr == dest {
            return 2;
        }
        let v6_any = self.addr == IpAddr::V6(Ipv6Addr::UNSPECIFIED);
        let wild = match dest {
            IpAddr::V4(_) => {
                self.addr == IpAddr::V4(Ipv4Addr::UNSPECIFIED) || (v6_any && !self.v6only)
            }
            IpAddr::V6(_) => v6_any,
        };
        u8::from(wild)
    }

    /// Whether some address would be taken by both bindings.
    fn overlaps(&self, o: &Binding) -> bool {
        let specific = |b: &Binding| !b.addr.is_unspecified();
        match (specific(self), specific(o)) {
            (true, _) => o.accepts(self.addr) > 0,
            (false, true) => self.accepts(o.addr) > 0,
            (false, false) => {
                let v4 = |b: &Binding| b.addr.is_ipv4() || !b.v6only;
                let v6 = |b: &Binding| b.addr.is_ipv6();
                (v4(self) && v4(o)) || (v6(self) && v6(o))
            }
        }
    }

    fn listening(&self) -> bool {
        self.listener.borrow().is_some()
    }
}

/// A listening TCP socket's queue of connections not yet accepted.
#[derive(Debug, Default)]
pub struct Backlog {
    max: Cell<usize>,
    queue: RefCell<VecDeque<InetSocket>>,
    gen: Cell<u64>,
}

impl Drop for Backlog {
    fn drop(&mut self) {
        // Connections never accepted are reset, as Linux's close of a listener does.
        for s in self.queue.get_mut().drain(..) {
            s.reset_peer();
        }
    }
}

/// A queued datagram: its source, bytes, and IPv6 hop limit and traffic class.
type Datagram = (SocketAddr, Vec<u8>, [i32; 2]);

/// A UDP socket's receive queue.
#[derive(Debug, Default)]
pub struct Dgram {
    /// Each datagram with its source and its IPv6 hop limit and traffic class.
    msgs: RefCell<VecDeque<Datagram>>,
    /// Bytes charged for what is queued, against `cap` (SO_RCVBUF).
    bytes: Cell<usize>,
    cap: Cell<usize>,
    /// A connected socket takes datagrams only from its peer.
    peer: Cell<Option<SocketAddr>>,
    shut_rd: Cell<bool>,
    gen: Cell<u64>,
}

/// A socket's pending error and, for TCP, whether its connection was reset.
#[derive(Debug, Default)]
struct Status {
    error: Cell<i32>,
    reset: Cell<bool>,
}

/// Where a TCP socket is in connecting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Connecting {
    Idle,
    /// A non-blocking connect succeeded but has not said so yet: the next connect returns 0.
    InProgress,
    /// A connect failed (the error is in SO_ERROR until read): the next connect says so.
    Failed,
    /// Connecting to an address outside the sandbox, through a host socket the net gofer made.
    Host,
}

/// An AF_INET or AF_INET6 socket: TCP or UDP.
#[derive(Debug)]
pub struct InetSocket {
    family: i32,
    kind: i32,
    /// UDP-Lite rather than UDP.
    lite: bool,
    flags: Cell<u32>,
    ino: u64,
    binding: RefCell<Option<Rc<Binding>>>,
    /// The local address (canonical): the bound one, concrete once connected.
    local: Cell<Option<SocketAddr>>,
    peer: Cell<Option<SocketAddr>>,
    /// The pending error SO_ERROR reports (and the next call returns), shared with the peer's
    /// `peer_st` so that a reset can reach it; and whether the connection was reset.
    st: Rc<Status>,
    /// The peer's, while the peer socket is open (a dead weak reference: it closed).
    peer_st: RefCell<Weak<Status>>,
    connecting: Cell<Connecting>,
    /// Whether bind was given an address and a port (not wildcards): what a UDP disconnect
    /// keeps.
    chosen: Cell<(bool, bool)>,
    reuse: Cell<bool>,
    reuseport: Cell<bool>,
    v6only: Cell<bool>,
    /// SO_LINGER (on, seconds): recorded; a close never waits here (nothing is in flight).
    linger: Cell<(i32, i32)>,
    rcvtimeo: Cell<Option<abi::Timespec>>,
    sndtimeo: Cell<Option<abi::Timespec>>,
    sndbuf: Cell<u32>,
    rcvbuf: Cell<u32>,
    /// Options with no effect here, recorded for getsockopt: (level, name) → value.
    opts: RefCell<BTreeMap<(i32, i32), i32>>,
    /// UDP over IPv6: the hop limit and traffic class of the datagram last received (for
    /// IPV6_RECVHOPLIMIT and IPV6_RECVTCLASS), and those the next send carries (set by its
    /// control messages, else the socket's options).
    last_meta: Cell<[i32; 2]>,
    send_meta: Cell<Option<[i32; 2]>>,
    /// TCP: the connection, once connected.
    stream: RefCell<Option<UnixStream>>,
    /// TCP to an address outside the sandbox: the host socket the net gofer connected (the
    /// Sentry moves the data; it creates no host socket itself).
    host: RefCell<Option<std::os::fd::OwnedFd>>,
    /// UDP to addresses outside the sandbox: per destination, the Sentry's end of the net
    /// gofer's relay (a packet socket pair; the host UDP socket stays in the net gofer), oldest
    /// first.
    relays: RefCell<Vec<(SocketAddr, std::os::fd::OwnedFd)>>,
    /// UDP: the receive queue.
    dgram: Rc<Dgram>,
}

impl Drop for InetSocket {
    fn drop(&mut self) {
        // Closed with data unread: Linux sends a reset, and the peer's next call fails.
        let unread = self
            .stream
            .get_mut()
            .as_ref()
            .and_then(|s| s.rx.borrow().as_ref().map(|r| r.available()))
            .unwrap_or(0);
        if unread > 0 {
            self.reset_peer();
        }
    }
}

/// An address as Linux keeps it: a v4-mapped IPv6 address is the IPv4 one.
fn canon(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}

/// The memory-file ranges behind the guest ranges `iov` (as much as is mapped; EFAULT if none
/// of it is), at most 1 MiB and 64 ranges: one host call's worth.
fn guest_ranges(
    t: &Task,
    iov: &[(u64, usize)],
    access: crate::mm::Access,
) -> Result<Vec<(u64, usize)>, Errno> {
    let want: usize = iov.iter().map(|r| r.1).sum();
    let mut left = want.min(1 << 20);
    let mut out = Vec::new();
    for &(addr, len) in iov {
        if left == 0 || out.len() >= 64 {
            break;
        }
        let len = len.min(left);
        let pre = t.mm.prefix_ranges(UserAddr(addr), len, access);
        let got: usize = pre.iter().map(|r| r.1).sum();
        out.extend(pre);
        left -= got;
        if got < len {
            break;
        }
    }
    out.truncate(64);
    if out.is_empty() && want > 0 {
        bail!(EFAULT);
    }
    Ok(out)
}

/// Replaces the egress policy the net gofer enforces (`runrs policy`): from the next connection
/// and name on.
pub fn replace_policy(k: &crate::kernel::Kernel, policy: serde_json::Value) -> Result<(), String> {
    let Some(net) = k.net.as_ref() else {
        return Err(
            "the sandbox was started without a network (dev.runrs.network none): its policy \
             cannot change"
                .into(),
        );
    };
    let req = serde_json::json!({"op": "set_policy", "policy": policy});
    let reply = net
        .send(req.to_string().as_bytes(), None)
        .and_then(|()| net.recv())
        .map_err(|e| format!("net gofer: {e}"))?
        .ok_or("the net gofer is gone")?;
    let reply: serde_json::Value =
        serde_json::from_slice(&reply.0).map_err(|e| format!("net gofer reply: {e}"))?;
    match reply["reason"].as_str() {
        Some(reason) => Err(reason.to_string()),
        None => {
            tracing::info!(target: "runrs::network", "egress policy replaced: {policy}");
            k.audit(&serde_json::json!({"event": "policy_replaced", "policy": policy}));
            Ok(())
        }
    }
}

/// Whether `ip` is the sandbox's own (its loopback, or a wildcard that means it).
fn is_local(ip: IpAddr) -> bool {
    ip.is_loopback() || ip.is_unspecified()
}

/// The source address for a connection to `dest`, and where it really goes (a wildcard
/// destination is the loopback address): ENETUNREACH for anything outside the sandbox.
fn route(t: &Task, dest: IpAddr) -> Result<(IpAddr, IpAddr), Errno> {
    match dest {
        IpAddr::V4(v4) if v4.is_loopback() => Ok((IpAddr::V4(Ipv4Addr::LOCALHOST), dest)),
        IpAddr::V4(v4) if v4.is_unspecified() => {
            let lo = IpAddr::V4(Ipv4Addr::LOCALHOST);
            Ok((lo, lo))
        }
        IpAddr::V6(v6) if v6.is_loopback() || v6.is_unspecified() => {
            let lo = IpAddr::V6(Ipv6Addr::LOCALHOST);
            Ok((lo, lo))
        }
        _ => {
            tracing::warn!(
                target: "runrs::network",
                tid = t.tid,
                "connection to {dest} refused: the sandbox has no network (--network=none)"
            );
            t.k.audit(&serde_json::json!({
                "event": "network_denied",
                "pid": t.tgid,
                "address": dest.to_string(),
                "reason": "the sandbox has no network (--network=none): only its own loopback",
            }));
            bail!(ENETUNREACH, "{dest} is outside the sandbox (no network)")
        }
    }
}

/// A `struct sockaddr_in` or `sockaddr_in6` for `sa` (all zeros but the family for None).
fn encode(family: i32, sa: Option<SocketAddr>) -> Vec<u8> {
    let (ip, port) = sa.map_or((None, 0), |s| (Some(s.ip()), s.port()));
    let mut v = (family as u16).to_ne_bytes().to_vec();
    v.extend_from_slice(&port.to_be_bytes());
    if family == AF_INET {
        let ip = match ip {
            Some(IpAddr::V4(a)) => a,
            _ => Ipv4Addr::UNSPECIFIED,
        };
        v.extend_from_slice(&ip.octets());
        v.extend_from_slice(&[0; 8]);
    } else {
        let ip = match ip {
            Some(IpAddr::V4(a)) => a.to_ipv6_mapped(),
            Some(IpAddr::V6(a)) => a,
            None => Ipv6Addr::UNSPECIFIED,
        };
        v.extend_from_slice(&0u32.to_ne_bytes()); // flowinfo
        v.extend_from_slice(&ip.octets());
        v.extend_from_slice(&0u32.to_ne_bytes()); // scope id
    }
    v
}

/// An address given to bind, connect or sendto: Ok(None) for AF_UNSPEC (which some calls
/// accept), the address (canonical) otherwise.
fn read_addr(t: &Task, family: i32, addr: u64, len: u64) -> Result<Option<SocketAddr>, Errno> {
    let len = usize::try_from(len).unwrap_or(usize::MAX);
    // sizeof(struct sockaddr_storage) is the most; sockaddr_in6 without its scope id the least.
    if len > 128 {
        bail!(EINVAL, "address length {len}");
    }
    let mut raw = vec![0u8; len];
    t.mm.copy_in(UserAddr(addr), &mut raw)?;
    if len < 2 {
        bail!(EINVAL, "address length {len}");
    }
    let fam = u16::from_ne_bytes([raw[0], raw[1]]);
    let need = if family == AF_INET { 16 } else { 24 };
    if fam == AF_UNSPEC {
        if family == AF_INET && len < 16 {
            bail!(EINVAL, "address length {len}");
        }
        return Ok(None);
    }
    if len < need {
        bail!(EINVAL, "address length {len}");
    }
    if i32::from(fam) != family {
        bail!(
            EAFNOSUPPORT,
            "address family {fam} on a family {family} socket"
        );
    }
    let port = u16::from_be_bytes([raw[2], raw[3]]);
    let ip = if family == AF_INET {
        IpAddr::V4(Ipv4Addr::new(raw[4], raw[5], raw[6], raw[7]))
    } else {
        let mut o = [0u8; 16];
        o.copy_from_slice(&raw[8..24]);
        IpAddr::V6(Ipv6Addr::from(o))
    };
    Ok(Some(SocketAddr::new(canon(ip), port)))
}

/// Copies `data` into the guest ranges `iov`; returns how much fit.
fn scatter(t: &Task, iov: &[(u64, usize)], data: &[u8]) -> Result<usize, Errno> {
    let mut done = 0;
    for &(addr, len) in iov {
        if done == data.len() {
            break;
        }
        let n = len.min(data.len() - done);
        t.mm.copy_out(UserAddr(addr), &data[done..done + n])?;
        done += n;
    }
    Ok(done)
}

/// The bytes of the guest ranges `iov`.
fn gather(t: &Task, iov: &[(u64, usize)]) -> Result<Vec<u8>, Errno> {
    let total: usize = iov.iter().map(|r| r.1).sum();
    let mut out = vec![0u8; total];
    let mut at = 0;
    for &(addr, len) in iov {
        t.mm.copy_in(UserAddr(addr), &mut out[at..at + len])?;
        at += len;
    }
    Ok(out)
}

/// A wait on a socket: EAGAIN when non-blocking or when the timeout (SO_RCVTIMEO,
/// SO_SNDTIMEO) has run out, otherwise blocked until retried.
fn wait(t: &mut Task, nonblock: bool, timeout: Option<abi::Timespec>) -> Errno {
    if nonblock {
        return errno!(EAGAIN);
    }
    if let Some(ts) = timeout {
        t.wait.start_timeout(ts);
        if t.wait.expired() {
            return errno!(EAGAIN);
        }
    }
    Errno::new(EBLOCK)
}

/// Options recorded and read back: (level, name, default, boolean). Booleans read back as 0/1.
const RECORDED: &[(i32, i32, i32, bool)] = &[
    (SOL_SOCKET, libc::SO_KEEPALIVE, 0, true),
    (SOL_SOCKET, libc::SO_BROADCAST, 0, true),
    (SOL_SOCKET, libc::SO_OOBINLINE, 0, true),
    (SOL_SOCKET, libc::SO_PRIORITY, 0, false),
    (SOL_SOCKET, libc::SO_RCVLOWAT, 1, false),
    (SOL_SOCKET, libc::SO_DONTROUTE, 0, true),
    (SOL_SOCKET, libc::SO_TIMESTAMP, 0, true),
    (IPPROTO_TCP, libc::TCP_NODELAY, 0, true),
    (IPPROTO_TCP, libc::TCP_MAXSEG, 536, false),
    (IPPROTO_TCP, libc::TCP_CORK, 0, true),
    (IPPROTO_TCP, libc::TCP_KEEPIDLE, 7200, false),
    (IPPROTO_TCP, libc::TCP_KEEPINTVL, 75, false),
    (IPPROTO_TCP, libc::TCP_KEEPCNT, 9, false),
    (IPPROTO_TCP, libc::TCP_QUICKACK, 1, true),
    (IPPROTO_TCP, libc::TCP_USER_TIMEOUT, 0, false),
    (IPPROTO_TCP, libc::TCP_DEFER_ACCEPT, 0, false),
    (IPPROTO_TCP, libc::TCP_FASTOPEN, 0, false),
    (IPPROTO_UDPLITE, 10, 0, false), // UDPLITE_SEND_CSCOV
    (IPPROTO_UDPLITE, 11, 0, false), // UDPLITE_RECV_CSCOV
    (IPPROTO_IP, libc::IP_TOS, 0, false),
    (IPPROTO_IP, libc::IP_TTL, 64, false),
    (IPPROTO_IP, libc::IP_RECVERR, 0, true),
    (IPPROTO_IP, libc::IP_PKTINFO, 0, true),
    (IPPROTO_IP, libc::IP_MTU_DISCOVER, 1, false),
    (IPPROTO_IP, libc::IP_MULTICAST_TTL, 1, false),
    (IPPROTO_IP, libc::IP_MULTICAST_LOOP, 1, true),
    (IPPROTO_IPV6, libc::IPV6_UNICAST_HOPS, 64, false),
    (IPPROTO_IPV6, libc::IPV6_RECVERR, 0, true),
    (IPPROTO_IPV6, libc::IPV6_TCLASS, 0, false),
    (IPPROTO_IPV6, libc::IPV6_RECVPKTINFO, 0, true),
    (IPPROTO_IPV6, IPV6_RECVHOPLIMIT, 0, true),
    (IPPROTO_IPV6, IPV6_RECVTCLASS, 0, true),
    (IPPROTO_IPV6, libc::IPV6_MULTICAST_HOPS, 1, false),
];

/// Outbound UDP destinations one socket keeps relays to at once.
const MAX_RELAYS_PER_SOCKET: usize = 64;

/// Asks the net gofer for `op` ("connect": a TCP connection; "udp": a UDP relay) to `dest`,
/// outside the sandbox: the fd it donates. A denial is the guest's error (EACCES), logged and
/// audited with the policy's reason.
fn net_request(t: &Task, op: &str, dest: SocketAddr) -> Result<std::os::fd::OwnedFd, Errno> {
    let Some(net) = t.k.net.as_ref() else {
        bail!(ENETUNREACH);
    };
    let req = serde_json::json!({
        "op": op, "addr": dest.ip().to_string(), "port": dest.port(),
    });
    let io = |e: std::io::Error| errno!(EIO, "net gofer: {e}");
    net.send(req.to_string().as_bytes(), None).map_err(io)?;
    let (msg, fd) = net
        .recv()
        .map_err(io)?
        .ok_or_else(|| errno!(EIO, "the net gofer is gone"))?;
    let reply: serde_json::Value =
        serde_json::from_slice(&msg).map_err(|e| errno!(EIO, "net gofer reply: {e}"))?;
    if let Some(code) = reply["errno"].as_i64() {
        let reason = reply["reason"].as_str().unwrap_or("denied");
        let what = if op == "udp" {
            "datagrams"
        } else {
            "connection"
        };
        tracing::warn!(target: "runrs::network", tid = t.tid, "{what} to {dest} refused: {reason}");
        t.k.audit(&serde_json::json!({
            "event": "network_denied", "pid": t.tgid, "address": dest.to_string(),
            "protocol": if op == "udp" { "udp" } else { "tcp" }, "reason": reason,
        }));
        return Err(Errno::new(i32::try_from(code).unwrap_or(libc::EACCES)));
    }
    fd.ok_or_else(|| errno!(EIO, "the net gofer sent no socket"))
}

/// A new socket for socket(2): `family` AF_INET or AF_INET6, `ty` the type with its flags.
pub fn socket(t: &mut Task, family: i32, ty: i32, proto: i32) -> SysResult {
    let (kind, nonblock, cloexec) = super::type_flags(ty)?;
    match (kind, proto) {
        (SOCK_STREAM, 0 | IPPROTO_TCP) | (SOCK_DGRAM, 0 | IPPROTO_UDP | IPPROTO_UDPLITE) => {}
        (SOCK_STREAM | SOCK_DGRAM, _) => bail!(EPROTONOSUPPORT, "protocol {proto}"),
        _ => {
            t.k.log_partial(format!(
                "socket(family {family}, type {kind}): only TCP and UDP sockets"
            ));
            bail!(ESOCKTNOSUPPORT, "socket type {kind}");
        }
    }
    let mut s = InetSocket::new(family, kind, nonblock);
    s.lite = proto == IPPROTO_UDPLITE;
    super::super::eventfd::install(t, Box::new(s), cloexec)
}

/// The Internet socket behind a socket file, if it is one.
pub fn of(f: &File) -> Option<&InetSocket> {
    match f {
        File::Anon(a) => a.as_any().downcast_ref::<InetSocket>(),
        _ => None,
    }
}

impl InetSocket {
    fn new(family: i32, kind: i32, nonblock: bool) -> InetSocket {
        InetSocket {
            family,
            kind,
            lite: false,
            flags: Cell::new(
                libc::O_RDWR as u32 | if nonblock { libc::O_NONBLOCK as u32 } else { 0 },
            ),
            ino: super::super::eventfd::anon_ino(),
            binding: RefCell::new(None),
            local: Cell::new(None),
            peer: Cell::new(None),
            st: Rc::default(),
            peer_st: RefCell::new(Weak::new()),
            connecting: Cell::new(Connecting::Idle),
            chosen: Cell::new((false, false)),
            reuse: Cell::new(false),
            reuseport: Cell::new(false),
            v6only: Cell::new(false),
            linger: Cell::new((0, 0)),
            rcvtimeo: Cell::new(None),
            sndtimeo: Cell::new(None),
            sndbuf: Cell::new(BUF_DEFAULT * 2),
            rcvbuf: Cell::new(BUF_DEFAULT * 2),
            opts: RefCell::new(BTreeMap::new()),
            last_meta: Cell::new([64, 0]),
            send_meta: Cell::new(None),
            stream: RefCell::new(None),
            host: RefCell::new(None),
            relays: RefCell::new(Vec::new()),
            dgram: Rc::new(Dgram {
                cap: Cell::new(BUF_DEFAULT as usize * 2),
                ..Dgram::default()
            }),
        }
    }

    /// poll's events for a connected TCP socket, as Linux's tcp_poll: readable with data or once
    /// the peer finished (RDHUP); writable unless the buffer is full; HUP once both directions
    /// are shut, or the connection was reset.
    fn tcp_poll(&self, s: &UnixStream) -> i16 {
        let (rx, tx) = (s.rx.borrow(), s.tx.borrow());
        let reset = self.st.reset.get();
        let fin = s.shut_rd.get() || rx.as_ref().is_none_or(|r| r.pipe.writers.get() == 0);
        let data = rx.as_ref().is_some_and(|r| r.available() > 0);
        let shut_wr = tx.is_none();
        let mut ev = 0;
        if data || fin || reset {
            ev |= libc::POLLIN | libc::POLLRDNORM;
        }
        if fin || reset {
            ev |= POLLRDHUP;
        }
        let room = tx.as_ref().is_none_or(|w| {
            w.pipe.readers.get() == 0 || w.pipe.buf.borrow().len() < w.pipe.capacity.get()
        });
        if room || reset {
            ev |= libc::POLLOUT | libc::POLLWRNORM;
        }
        if (fin && shut_wr) || reset {
            ev |= libc::POLLHUP;
        }
        ev
    }

    /// The hop limit and traffic class a datagram sent now carries.
    fn meta_for_send(&self) -> [i32; 2] {
        if let Some(m) = self.send_meta.take() {
            return m;
        }
        let opts = self.opts.borrow();
        let hops = opts
            .get(&(IPPROTO_IPV6, libc::IPV6_UNICAST_HOPS))
            .copied()
            .filter(|&h| h >= 0)
            .unwrap_or(64);
        let tclass = opts
            .get(&(IPPROTO_IPV6, libc::IPV6_TCLASS))
            .copied()
            .filter(|&c| c >= 0)
            .unwrap_or(0);
        [hops, tclass]
    }

    /// The control messages a receive gives (IPV6_HOPLIMIT, then IPV6_TCLASS, as Linux orders
    /// them), for a UDP socket over IPv6 that asked for them.
    fn recv_control(&self) -> Vec<super::Cmsg> {
        if self.tcp() || self.family != AF_INET6 {
            return Vec::new();
        }
        let opts = self.opts.borrow();
        let on = |name| opts.get(&(IPPROTO_IPV6, name)).is_some_and(|&v| v != 0);
        let [hops, tclass] = self.last_meta.get();
        let mut out = Vec::new();
        if on(IPV6_RECVHOPLIMIT) {
            out.push((IPPROTO_IPV6, IPV6_HOPLIMIT, hops.to_ne_bytes().to_vec()));
        }
        if on(IPV6_RECVTCLASS) {
            out.push((
                IPPROTO_IPV6,
                libc::IPV6_TCLASS,
                tclass.to_ne_bytes().to_vec(),
            ));
        }
        out
    }

    pub fn is_tcp(&self) -> bool {
        self.tcp()
    }

    /// sendfile's send: `data` on a connected TCP socket, as room allows.
    pub fn send_bytes(&self, t: &mut Task, data: &[u8]) -> SysResult {
        if let Some(e) = self.take_error() {
            if e.code == libc::EPIPE {
                raise_sigpipe(t);
            }
            return Err(e);
        }
        let stream = self.stream.borrow();
        let Some(s) = stream.as_ref().filter(|_| !self.st.reset.get()) else {
            drop(stream);
            raise_sigpipe(t);
            bail!(EPIPE, "not connected, or reset");
        };
        let tx = s.tx.borrow();
        let Some(tx) = tx.as_ref() else {
            drop(tx);
            drop(stream);
            raise_sigpipe(t);
            bail!(EPIPE, "shut down for writing");
        };
        if self.peer_st.borrow().strong_count() == 0 {
            if !data.is_empty() {
                self.st.error.set(libc::EPIPE);
                self.st.reset.set(true);
            }
            return Ok(data.len() as u64);
        }
        super::push_bytes(t, tx, data, self.nonblocking())
    }

    fn proto(&self) -> i32 {
        if self.kind == SOCK_STREAM {
            IPPROTO_TCP
        } else if self.lite {
            IPPROTO_UDPLITE
        } else {
            IPPROTO_UDP
        }
    }

    fn tcp(&self) -> bool {
        self.kind == SOCK_STREAM
    }

    fn nonblock(&self, flags: i32) -> bool {
        self.nonblocking() || flags & MSG_DONTWAIT != 0
    }

    /// Takes the pending error, if any.
    fn take_error(&self) -> Option<Errno> {
        match self.st.error.replace(0) {
            0 => None,
            e => Some(Errno::new(e)),
        }
    }

    /// Makes the peer's next call fail with ECONNRESET (an abortive close).
    fn reset_peer(&self) {
        if let Some(p) = self.peer_st.borrow().upgrade() {
            p.error.set(libc::ECONNRESET);
            p.reset.set(true);
        }
    }

    fn listener(&self) -> Option<Rc<Backlog>> {
        self.binding
            .borrow()
            .as_ref()
            .and_then(|b| b.listener.borrow().clone())
    }

    /// Claims `ip`:`port` (an ephemeral port for 0): EADDRINUSE if another socket has it.
    fn bind_to(&self, t: &Task, ip: IpAddr, port: u16) -> Result<(), Errno> {
        let proto = self.proto();
        let b = Binding {
            addr: ip,
            family: self.family,
            v6only: self.v6only.get(),
            reuse: self.reuse.get(),
            reuseport: self.reuseport.get(),
            listener: RefCell::new(None),
            dgram: (!self.tcp()).then(|| self.dgram.clone()),
        };
        let mut ports = t.k.inet_ports.borrow_mut();
        let port = if port == 0 {
            let span = u32::from(EPHEMERAL.end() - EPHEMERAL.start()) + 1;
            let mut found = None;
            for i in 0..span {
                let off = (u32::from(ports.next) + i) % span;
                let p = EPHEMERAL.start() + u16::try_from(off).unwrap_or(0);
                if ports.live(proto, p).is_empty() {
                    ports.next = u16::try_from((off + 1) % span).unwrap_or(0);
                    found = Some(p);
                    break;
                }
            }
            found.ok_or_else(|| errno!(EADDRINUSE, "no ephemeral port is free"))?
        } else {
            for o in ports.live(proto, port) {
                let shared = (b.reuse && o.reuse && (!self.tcp() || !o.listening()))
                    || (b.reuseport && o.reuseport);
                if o.overlaps(&b) && !shared {
                    bail!(EADDRINUSE, "port {port} is taken");
                }
            }
            port
        };
        let b = Rc::new(b);
        ports
            .map
            .entry((proto, port))
            .or_default()
            .push(Rc::downgrade(&b));
        *self.binding.borrow_mut() = Some(b);
        self.local.set(Some(SocketAddr::new(ip, port)));
        Ok(())
    }

    /// Binds to the wildcard address and an ephemeral port, if not bound yet.
    fn autobind(&self, t: &Task) -> Result<(), Errno> {
        if self.binding.borrow().is_some() {
            return Ok(());
        }
        let any = if self.family == AF_INET {
            IpAddr::V4(Ipv4Addr::UNSPECIFIED)
        } else {
            IpAddr::V6(Ipv6Addr::UNSPECIFIED)
        };
        self.bind_to(t, any, 0)
    }

    pub fn bind(&self, t: &mut Task, addr: u64, len: u64) -> SysResult {
        let sa = match read_addr(t, self.family, addr, len)? {
            Some(sa) => sa,
            // AF_UNSPEC with INADDR_ANY binds an AF_INET socket (Linux's compatibility rule).
            None if self.family == AF_INET => {
                let mut raw = [0u8; 8];
                t.mm.copy_in(UserAddr(addr), &mut raw)?;
                if raw[4..8] != [0; 4] {
                    bail!(EAFNOSUPPORT, "AF_UNSPEC with an address");
                }
                SocketAddr::new(
                    IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                    u16::from_be_bytes([raw[2], raw[3]]),
                )
            }
            None => bail!(EAFNOSUPPORT, "AF_UNSPEC"),
        };
        if self.binding.borrow().is_some() {
            bail!(EINVAL, "already bound");
        }
        let ip = sa.ip();
        if self.family == AF_INET6 && ip.is_ipv4() && self.v6only.get() {
            bail!(EINVAL, "a v4-mapped address on an IPV6_V6ONLY socket");
        }
        if !(ip.is_loopback() || ip.is_unspecified()) {
            bail!(EADDRNOTAVAIL, "{ip} is not an address of the sandbox");
        }
        // Ports below net.ipv4.ip_unprivileged_port_start need CAP_NET_BIND_SERVICE.
        if sa.port() != 0
            && u32::from(sa.port()) < t.k.sysctl.unprivileged_port_start
            && t.creds.euid != 0
        {
            bail!(EACCES, "port {} needs privilege", sa.port());
        }
        self.bind_to(t, ip, sa.port())?;
        if ip.is_ipv6() && !ip.is_unspecified() {
            // A socket bound to one IPv6 address takes only IPv6 (Linux's __inet6_bind).
            self.v6only.set(true);
        }
        self.chosen.set((!ip.is_unspecified(), sa.port() != 0));
        Ok(0)
    }

    pub fn listen(&self, t: &mut Task, backlog: i32) -> SysResult {
        if !self.tcp() {
            bail!(EOPNOTSUPP, "listen on a datagram socket");
        }
        if self.stream.borrow().is_some() {
            bail!(EINVAL, "connected");
        }
        self.autobind(t)?;
        let b = self
            .binding
            .borrow()
            .clone()
            .ok_or_else(|| errno!(EINVAL))?;
        // net.core.somaxconn caps the backlog.
        let somaxconn = usize::try_from(t.k.sysctl.somaxconn).unwrap_or(usize::MAX);
        let max = usize::try_from(backlog.max(0)).unwrap_or(0).min(somaxconn);
        let mut l = b.listener.borrow_mut();
        l.get_or_insert_with(|| Rc::new(Backlog::default()))
            .max
            .set(max);
        Ok(0)
    }

    pub fn connect(&self, t: &mut Task, addr: u64, len: u64) -> SysResult {
        let dest = read_addr(t, self.family, addr, len)?;
        if self.tcp() {
            self.connect_tcp(t, dest)
        } else {
            self.connect_udp(t, dest)
        }
    }

    fn connect_tcp(&self, t: &mut Task, dest: Option<SocketAddr>) -> SysResult {
        if self.host.borrow().is_some() {
            return self.host_connect_progress(t);
        }
        match self.connecting.get() {
            Connecting::InProgress => {
                self.connecting.set(Connecting::Idle);
                return Ok(0);
            }
            Connecting::Failed => {
                self.connecting.set(Connecting::Idle);
                return Err(self.take_error().unwrap_or_else(|| errno!(ECONNABORTED)));
            }
            Connecting::Idle | Connecting::Host => {}
        }
        if self.stream.borrow().is_some() {
            bail!(EISCONN);
        }
        if self.listener().is_some() {
            bail!(EISCONN, "a listening socket");
        }
        let Some(dest) = dest else {
            // AF_UNSPEC disconnects: an unconnected socket has nothing to undo.
            return Ok(0);
        };
        if t.k.net.is_some() && !is_local(dest.ip()) {
            return self.connect_outside(t, dest);
        }
        let (src_ip, dest_ip) = route(t, dest.ip())?;
        let dest = SocketAddr::new(dest_ip, dest.port());
        self.autobind(t)?;
        let local = self.concrete_local(src_ip);
        let nonblock = self.nonblocking();
        let target = t.k.inet_ports.borrow_mut().lookup(IPPROTO_TCP, dest, local);
        let listening = target.and_then(|b| b.listener.borrow().clone().map(|l| (l, b.family)));
        let Some((backlog, target_family)) = listening else {
            if nonblock {
                self.st.error.set(libc::ECONNREFUSED);
                self.connecting.set(Connecting::Failed);
                bail!(EINPROGRESS);
            }
            bail!(ECONNREFUSED, "nothing listens on {dest}");
        };
        if backlog.queue.borrow().len() > backlog.max.get() && !nonblock {
            return Err(wait(t, false, self.sndtimeo.get()));
        }
        let server = InetSocket::new(target_family, SOCK_STREAM, false);
        let me = (t.tgid, t.creds.euid, t.creds.egid);
        let (a, b) = (
            UnixStream::new(SOCK_STREAM, false, me),
            UnixStream::new(SOCK_STREAM, false, me),
        );
        UnixStream::connect_pair(&a, &b);
        for end in [&a, &b] {
            if let Some(rx) = end.rx.borrow().as_ref() {
                rx.pipe.capacity.set(TCP_BUFFER);
            }
        }
        *self.stream.borrow_mut() = Some(a);
        *server.stream.borrow_mut() = Some(b);
        server.local.set(Some(dest));
        server.peer.set(Some(local));
        *server.peer_st.borrow_mut() = Rc::downgrade(&self.st);
        *self.peer_st.borrow_mut() = Rc::downgrade(&server.st);
        self.local.set(Some(local));
        self.peer.set(Some(dest));
        backlog.queue.borrow_mut().push_back(server);
        backlog.gen.set(backlog.gen.get() + 1);
        if nonblock {
            self.connecting.set(Connecting::InProgress);
            bail!(EINPROGRESS);
        }
        Ok(0)
    }

    /// Asks the net gofer for a connection to `dest`, outside the sandbox: a denial is the
    /// guest's error (EACCES), logged and audited with the policy's reason.
    fn connect_outside(&self, t: &mut Task, dest: SocketAddr) -> SysResult {
        let fd = net_request(t, "connect", dest)?;
        *self.host.borrow_mut() = Some(fd);
        self.peer.set(Some(dest));
        self.connecting.set(Connecting::Host);
        if self.nonblocking() {
            bail!(EINPROGRESS);
        }
        self.host_connect_progress(t)
    }

    /// The relay for UDP datagrams to `dest` outside the sandbox (asked of the net gofer the
    /// first time, and kept): its raw fd.
    fn relay_to(&self, t: &mut Task, dest: SocketAddr) -> Result<i32, Errno> {
        use std::os::fd::AsRawFd;
        if let Some((_, fd)) = self.relays.borrow().iter().find(|(d, _)| *d == dest) {
            return Ok(fd.as_raw_fd());
        }
        let fd = net_request(t, "udp", dest)?;
        let raw = fd.as_raw_fd();
        let mut relays = self.relays.borrow_mut();
        if relays.len() >= MAX_RELAYS_PER_SOCKET {
            // The oldest destination's relay ends (a datagram from it now is lost).
            relays.remove(0);
        }
        relays.push((dest, fd));
        Ok(raw)
    }

    /// sendto a UDP destination outside the sandbox: one datagram into its relay.
    fn relay_send(
        &self,
        t: &mut Task,
        iov: &[(u64, usize)],
        flags: i32,
        dest: SocketAddr,
    ) -> SysResult {
        self.autobind(t)?;
        let raw = self.relay_to(t, dest)?;
        let len: usize = iov.iter().map(|r| r.1).sum();
        let ranges = guest_ranges(t, iov, crate::mm::Access::Read)?;
        let sent = {
            let relays = self.relays.borrow();
            let fd = relays
                .iter()
                .find(|(d, _)| *d == dest)
                .map(|(_, f)| f)
                .ok_or_else(|| errno!(EIO))?;
            if ranges.is_empty() {
                // writev of nothing sends nothing on a packet socket; an empty datagram is
                // still one.
                nix::sys::socket::send(raw, &[], nix::sys::socket::MsgFlags::MSG_DONTWAIT)
                    .map_err(|e| std::io::Error::from_raw_os_error(e as i32))
            } else {
                t.mm.memory()
                    .file
                    .write_to_host(std::os::fd::AsFd::as_fd(fd), &ranges)
            }
        };
        match sent {
            Ok(_) => Ok(len as u64),
            Err(e) if e.raw_os_error() == Some(libc::EAGAIN) => {
                t.wait.host_fds = vec![(raw, libc::POLLOUT)];
                Err(wait(t, self.nonblock(flags), self.sndtimeo.get()))
            }
            Err(e) => Err(Errno::new(e.raw_os_error().unwrap_or(libc::EIO))),
        }
    }

    /// A datagram from a relay (from outside the sandbox), if one is waiting: its full length,
    /// its source, and whether it was cut to fit `iov`.
    fn relay_recv(
        &self,
        t: &mut Task,
        iov: &[(u64, usize)],
        flags: i32,
    ) -> Result<Option<(u64, SocketAddr, bool)>, Errno> {
        use nix::sys::socket::MsgFlags;
        use std::os::fd::AsRawFd;
        let relays = self.relays.borrow();
        // A connected socket takes datagrams from its peer only.
        let peer = self.dgram.peer.get();
        let mut fl = MsgFlags::MSG_DONTWAIT;
        if flags & MSG_PEEK != 0 {
            fl |= MsgFlags::MSG_PEEK;
        }
        let mut buf = Vec::new();
        for (src, fd) in relays.iter().filter(|(d, _)| peer.is_none_or(|p| p == *d)) {
            // One buffer for the whole scan, made only if there is a relay to read.
            buf.resize(UDP_MAX_V6 + 1, 0);
            match nix::sys::socket::recv(fd.as_raw_fd(), &mut buf, fl) {
                Ok(n) => {
                    let copied = scatter(t, iov, &buf[..n])?;
                    let got = if flags & MSG_TRUNC != 0 { n } else { copied };
                    return Ok(Some((got as u64, *src, copied < n)));
                }
                Err(nix::errno::Errno::EAGAIN) => {}
                Err(e) => tracing::debug!(target: "runrs::network", "relay from {src}: {e}"),
            }
        }
        Ok(None)
    }

    /// The relays' fds with `events`, for a wait (outbound UDP).
    fn relay_fds(&self, events: i16) -> Vec<(i32, i16)> {
        use std::os::fd::AsRawFd;
        self.relays
            .borrow()
            .iter()
            .map(|(_, f)| (f.as_raw_fd(), events))
            .collect()
    }

    /// Whether a relay has a datagram waiting.
    fn relay_readable(&self) -> bool {
        let mut p: Vec<libc::pollfd> = self
            .relay_fds(libc::POLLIN)
            .into_iter()
            .map(|(fd, events)| libc::pollfd {
                fd,
                events,
                revents: 0,
            })
            .collect();
        !p.is_empty()
            && crate::host::poll(&mut p, 0).is_ok()
            && p.iter().any(|x| x.revents & libc::POLLIN != 0)
    }

    /// A connect call on a socket connecting (or connected) to the outside: 0 when it just
    /// completed, EALREADY or a wait while it goes on, its error if it failed, EISCONN after.
    fn host_connect_progress(&self, t: &mut Task) -> SysResult {
        if self.connecting.get() != Connecting::Host {
            bail!(EISCONN);
        }
        let raw = self.host_raw().ok_or_else(|| errno!(EBADF))?;
        let mut p = [libc::pollfd {
            fd: raw,
            events: libc::POLLOUT,
            revents: 0,
        }];
        crate::host::poll(&mut p, 0).map_err(crate::errors::from_host)?;
        if p[0].revents == 0 {
            if self.nonblocking() {
                bail!(EALREADY);
            }
            t.wait.host_fds = vec![(raw, libc::POLLOUT)];
            return Err(Errno::new(EBLOCK));
        }
        self.connecting.set(Connecting::Idle);
        match self.host_so_error() {
            0 => Ok(0),
            e => {
                self.host.borrow_mut().take();
                self.peer.set(None);
                Err(Errno::new(e))
            }
        }
    }

    fn host_raw(&self) -> Option<i32> {
        use std::os::fd::AsRawFd;
        self.host.borrow().as_ref().map(|f| f.as_raw_fd())
    }

    /// The host socket's pending error (taken).
    fn host_so_error(&self) -> i32 {
        let host = self.host.borrow();
        host.as_ref()
            .and_then(|f| {
                nix::sys::socket::getsockopt(f, nix::sys::socket::sockopt::SocketError).ok()
            })
            .unwrap_or(0)
    }

    /// recv on a socket connected outside: straight from the host socket.
    fn host_recv(&self, t: &mut Task, iov: &[(u64, usize)], flags: i32) -> SysResult {
        use nix::sys::socket::MsgFlags;
        let raw = self.host_raw().ok_or_else(|| errno!(ENOTCONN))?;
        if !self.host_settled() {
            t.wait.host_fds = vec![(raw, libc::POLLOUT)];
            return Err(wait(t, self.nonblock(flags), self.rcvtimeo.get()));
        }
        let want: usize = iov.iter().map(|r| r.1).sum();
        let got = if flags & MSG_PEEK != 0 {
            let mut buf = vec![0u8; want.min(1 << 20)];
            nix::sys::socket::recv(raw, &mut buf, MsgFlags::MSG_DONTWAIT | MsgFlags::MSG_PEEK)
                .and_then(|n| scatter(t, iov, &buf[..n]).map_err(|_| nix::errno::Errno::EFAULT))
        } else {
            // Straight into guest memory (the host socket is non-blocking).
            let ranges = guest_ranges(t, iov, crate::mm::Access::Write)?;
            let fd = self.host.borrow();
            let fd = fd.as_ref().ok_or_else(|| errno!(ENOTCONN))?;
            t.mm.memory()
                .file
                .read_from_host(std::os::fd::AsFd::as_fd(fd), &ranges)
                .map_err(|e| nix::errno::Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)))
        };
        match got {
            Ok(n) => Ok(n as u64),
            Err(nix::errno::Errno::EAGAIN) => {
                t.wait.host_fds = vec![(raw, libc::POLLIN)];
                Err(wait(t, self.nonblock(flags), self.rcvtimeo.get()))
            }
            Err(e) => Err(Errno::new(e as i32)),
        }
    }

    /// send on a socket connected outside: straight to the host socket.
    fn host_send(&self, t: &mut Task, iov: &[(u64, usize)], flags: i32) -> SysResult {
        let raw = self.host_raw().ok_or_else(|| errno!(ENOTCONN))?;
        if !self.host_settled() {
            t.wait.host_fds = vec![(raw, libc::POLLOUT)];
            return Err(wait(t, self.nonblock(flags), self.sndtimeo.get()));
        }
        // Straight from guest memory (the host socket is non-blocking; the Sentry ignores
        // SIGPIPE, so a closed peer is EPIPE here).
        let ranges = guest_ranges(t, iov, crate::mm::Access::Read)?;
        let sent = {
            let fd = self.host.borrow();
            let fd = fd.as_ref().ok_or_else(|| errno!(ENOTCONN))?;
            t.mm.memory()
                .file
                .write_to_host(std::os::fd::AsFd::as_fd(fd), &ranges)
                .map_err(|e| nix::errno::Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)))
        };
        match sent {
            Ok(n) => Ok(n as u64),
            Err(nix::errno::Errno::EAGAIN) => {
                t.wait.host_fds = vec![(raw, libc::POLLOUT)];
                Err(wait(t, self.nonblock(flags), self.sndtimeo.get()))
            }
            Err(nix::errno::Errno::EPIPE) => {
                if flags & MSG_NOSIGNAL == 0 {
                    raise_sigpipe(t);
                }
                bail!(EPIPE)
            }
            Err(e) => Err(Errno::new(e as i32)),
        }
    }

    /// poll's events of a socket connected outside: the host socket's.
    fn host_poll(&self) -> i16 {
        let Some(raw) = self.host_raw() else {
            return 0;
        };
        if self.connecting.get() == Connecting::Host {
            let mut p = [libc::pollfd {
                fd: raw,
                events: libc::POLLOUT,
                revents: 0,
            }];
            let _ = crate::host::poll(&mut p, 0);
            return p[0].revents;
        }
        let mut p = [libc::pollfd {
            fd: raw,
            events: libc::POLLIN | libc::POLLOUT | POLLRDHUP,
            revents: 0,
        }];
        let _ = crate::host::poll(&mut p, 0);
        p[0].revents
    }

    /// Answers a DNS query sent to `server` as that nameserver would, with what the net gofer
    /// allows: the answer lands in this socket's queue from `server`. Not a query: dropped.
    fn resolve(&self, t: &mut Task, query: &[u8], server: SocketAddr) {
        let Some(q) = gofer::dns::parse_query(query) else {
            return;
        };
        let reply = if q
            .name
            .as_bytes()
            .eq_ignore_ascii_case(&t.k.hostname.borrow())
        {
            // The sandbox's own name is its loopback, with or without a network (as a
            // container's /etc/hosts names it).
            Some(serde_json::json!({"rcode": 0, "addrs": ["127.0.0.1", "::1"]}))
        } else if let Some(net) = t.k.net.as_ref() {
            let req = serde_json::json!({"op": "resolve", "name": q.name, "qtype": q.qtype});
            net.send(req.to_string().as_bytes(), None)
                .and_then(|()| net.recv())
                .ok()
                .flatten()
                .and_then(|(msg, _)| serde_json::from_slice::<serde_json::Value>(&msg).ok())
        } else {
            Some(serde_json::json!({
                "rcode": gofer::dns::RCODE_NXDOMAIN,
                "reason": "the sandbox has no network (--network=none): no name resolves",
            }))
        };
        let (rcode, addrs) = match &reply {
            Some(r) => (
                u8::try_from(r["rcode"].as_u64().unwrap_or(2)).unwrap_or(2),
                r["addrs"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|v| v.as_str()?.parse::<IpAddr>().ok())
                            .collect::<Vec<_>>()
                    })
                    .unwrap_or_default(),
            ),
            None => (gofer::dns::RCODE_SERVFAIL, Vec::new()),
        };
        if let Some(reason) = reply.as_ref().and_then(|r| r["reason"].as_str()) {
            tracing::warn!(target: "runrs::network", tid = t.tid, "name {} refused: {reason}", q.name);
            t.k.audit(&serde_json::json!({
                "event": "dns_denied", "pid": t.tgid, "name": q.name, "reason": reason,
            }));
        }
        let answer = gofer::dns::answer(query, &q, rcode, &addrs);
        let d = &self.dgram;
        let charge = answer.len() + DGRAM_OVERHEAD;
        if d.bytes.get() + charge <= d.cap.get() {
            d.bytes.set(d.bytes.get() + charge);
            d.msgs.borrow_mut().push_back((server, answer, [64, 0]));
            d.gen.set(d.gen.get() + 1);
        }
    }

    /// Whether a connection outside has finished connecting (after a non-blocking connect the
    /// guest may go straight to poll and send without calling connect again).
    fn host_settled(&self) -> bool {
        if self.connecting.get() != Connecting::Host {
            return true;
        }
        let Some(raw) = self.host_raw() else {
            return true;
        };
        let mut p = [libc::pollfd {
            fd: raw,
            events: libc::POLLOUT,
            revents: 0,
        }];
        let _ = crate::host::poll(&mut p, 0);
        if p[0].revents != 0 {
            self.connecting.set(Connecting::Idle);
        }
        p[0].revents != 0
    }

    /// The host fds and events a wait on this socket watches (the scheduler polls them).
    pub fn host_wait(&self, events: i16) -> Vec<(i32, i16)> {
        let mut fds = self.relay_fds(events & libc::POLLIN);
        fds.extend(self.host_raw().map(|fd| (fd, events)));
        fds
    }

    /// The local address of a connection from this socket: its bound address, or `src` if
    /// bound to a wildcard.
    fn concrete_local(&self, src: IpAddr) -> SocketAddr {
        let bound = self.local.get().unwrap_or(SocketAddr::new(src, 0));
        if bound.ip().is_unspecified() {
            SocketAddr::new(src, bound.port())
        } else {
            bound
        }
    }

    fn connect_udp(&self, t: &mut Task, dest: Option<SocketAddr>) -> SysResult {
        let Some(dest) = dest else {
            // AF_UNSPEC: the socket takes datagrams from anyone again. As Linux, it gives up
            // a port it did not ask for, and an address that connect chose.
            self.peer.set(None);
            self.dgram.peer.set(None);
            let (addr_chosen, port_chosen) = self.chosen.get();
            if !port_chosen {
                self.binding.borrow_mut().take();
                self.local.set(None);
            } else if !addr_chosen {
                if let Some(b) = self.binding.borrow().as_ref() {
                    self.local
                        .set(self.local.get().map(|l| SocketAddr::new(b.addr, l.port())));
                }
            }
            return Ok(0);
        };
        if !is_local(dest.ip()) && (t.k.net.is_some() || dest.port() == 53) {
            // Outside: only DNS goes there (to the sandbox's resolver); sends check.
            self.autobind(t)?;
            self.peer.set(Some(dest));
            self.dgram.peer.set(Some(dest));
            return Ok(0);
        }
        let (src_ip, dest_ip) = route(t, dest.ip())?;
        self.autobind(t)?;
        let dest = SocketAddr::new(dest_ip, dest.port());
        self.local.set(Some(self.concrete_local(src_ip)));
        self.peer.set(Some(dest));
        self.dgram.peer.set(Some(dest));
        Ok(0)
    }

    pub fn accept(&self, t: &mut Task, addr: u64, len_addr: u64, flags: i32) -> SysResult {
        if !self.tcp() {
            bail!(EOPNOTSUPP, "accept on a datagram socket");
        }
        let Some(l) = self.listener() else {
            bail!(EINVAL, "not listening");
        };
        let conn = l.queue.borrow_mut().pop_front();
        let Some(conn) = conn else {
            return Err(wait(t, self.nonblocking(), self.rcvtimeo.get()));
        };
        l.gen.set(l.gen.get() + 1);
        if flags & libc::SOCK_NONBLOCK != 0 {
            conn.flags.set(conn.flags.get() | libc::O_NONBLOCK as u32);
        }
        let peer = encode(conn.family, conn.peer.get());
        let fd =
            super::super::eventfd::install(t, Box::new(conn), flags & libc::SOCK_CLOEXEC != 0)?;
        if let Err(e) = put_addr(t, addr, len_addr, &peer) {
            t.fds.remove(fd as i32);
            return Err(e);
        }
        Ok(fd)
    }

    /// Receives into `iov`: the byte count (a datagram's full length with MSG_TRUNC), the
    /// sender's address (datagrams), and whether a datagram was cut to fit.
    pub fn recv(
        &self,
        t: &mut Task,
        iov: &[(u64, usize)],
        flags: i32,
    ) -> Result<(u64, Option<SocketAddr>, bool), Errno> {
        if flags & MSG_OOB != 0 {
            t.k.log_partial("MSG_OOB (TCP urgent data)".into());
            bail!(EINVAL, "no urgent data");
        }
        if self.tcp() && self.host.borrow().is_some() {
            return self.host_recv(t, iov, flags).map(|n| (n, None, false));
        }
        if self.tcp() {
            let stream = self.stream.borrow();
            let Some(s) = stream.as_ref() else {
                return Err(self.take_error().unwrap_or_else(|| errno!(ENOTCONN)));
            };
            let (empty, open) = s.rx.borrow().as_ref().map_or((true, false), |r| {
                (r.available() == 0, r.pipe.writers.get() > 0)
            });
            if empty {
                if let Some(e) = self.take_error() {
                    return Err(e);
                }
                // Nothing to read yet: Linux waits before it looks at the buffer (EAGAIN, not
                // EFAULT, for a bad buffer).
                if open && !s.shut_rd.get() {
                    drop(stream);
                    return Err(wait(t, self.nonblock(flags), self.rcvtimeo.get()));
                }
            }
            let fl = flags & (MSG_PEEK)
                | if self.nonblock(flags) {
                    MSG_DONTWAIT
                } else {
                    0
                };
            return match s.recv_bytes(t, iov, fl) {
                Err(e) if e.code == EBLOCK => {
                    drop(stream);
                    Err(wait(t, false, self.rcvtimeo.get()))
                }
                r => r.map(|n| (n, None, false)),
            };
        }
        let front = self.dgram.msgs.borrow().front().cloned();
        let Some((src, data, meta)) = front else {
            if let Some(e) = self.take_error() {
                return Err(e);
            }
            if self.dgram.shut_rd.get() {
                return Ok((0, None, false));
            }
            if let Some((n, src, cut)) = self.relay_recv(t, iov, flags)? {
                self.last_meta.set([64, 0]);
                return Ok((n, Some(src), cut));
            }
            t.wait.host_fds = self.relay_fds(libc::POLLIN);
            return Err(wait(t, self.nonblock(flags), self.rcvtimeo.get()));
        };
        let n = scatter(t, iov, &data)?;
        if flags & MSG_PEEK == 0 {
            self.dgram.msgs.borrow_mut().pop_front();
            let d = &self.dgram;
            d.bytes
                .set(d.bytes.get().saturating_sub(data.len() + DGRAM_OVERHEAD));
            d.gen.set(d.gen.get() + 1);
        }
        let got = if flags & MSG_TRUNC != 0 {
            data.len()
        } else {
            n
        };
        self.last_meta.set(meta);
        Ok((got as u64, Some(src), n < data.len()))
    }

    /// Sends `iov` (to `dest`, for a datagram socket).
    pub fn send(
        &self,
        t: &mut Task,
        iov: &[(u64, usize)],
        flags: i32,
        dest: Option<SocketAddr>,
    ) -> SysResult {
        if flags & MSG_OOB != 0 {
            t.k.log_partial("MSG_OOB (TCP urgent data)".into());
            bail!(EOPNOTSUPP, "urgent data");
        }
        if self.tcp() && self.host.borrow().is_some() {
            return self.host_send(t, iov, flags);
        }
        if self.tcp() {
            if let Some(e) = self.take_error() {
                if e.code == libc::EPIPE && flags & MSG_NOSIGNAL == 0 {
                    raise_sigpipe(t);
                }
                return Err(e);
            }
            let stream = self.stream.borrow();
            let Some(s) = stream.as_ref().filter(|_| !self.st.reset.get()) else {
                drop(stream);
                if flags & MSG_NOSIGNAL == 0 {
                    raise_sigpipe(t);
                }
                bail!(EPIPE, "not connected, or reset");
            };
            let len: usize = iov.iter().map(|r| r.1).sum();
            let open = s.tx.borrow().is_some();
            if open && self.peer_st.borrow().strong_count() == 0 {
                // The peer closed its socket: as over TCP, this send goes out (and is lost),
                // the peer answers with a reset, and the next call fails (EPIPE: the reset of
                // a connection whose peer had finished, Linux's CLOSE_WAIT).
                if len > 0 {
                    self.st.error.set(libc::EPIPE);
                    self.st.reset.set(true);
                }
                return Ok(len as u64);
            }
            let fl = flags & MSG_NOSIGNAL
                | if self.nonblock(flags) {
                    MSG_DONTWAIT
                } else {
                    0
                };
            return match s.send(t, iov, fl) {
                Err(e) if e.code == EBLOCK => {
                    drop(stream);
                    Err(wait(t, false, self.sndtimeo.get()))
                }
                r => r,
            };
        }
        let dest = match dest.or(self.peer.get()) {
            Some(d) => d,
            None => bail!(EDESTADDRREQ),
        };
        if let Some(e) = self.take_error() {
            return Err(e);
        }
        let len: usize = iov.iter().map(|r| r.1).sum();
        let max = if self.family == AF_INET {
            UDP_MAX_V4
        } else {
            UDP_MAX_V6
        };
        if len > max {
            bail!(EMSGSIZE, "a {len}-byte datagram");
        }
        if !self.lite {
            let listened = is_local(dest.ip())
                && t.k
                    .inet_ports
                    .borrow_mut()
                    .lookup(IPPROTO_UDP, dest, SocketAddr::new(dest.ip(), 0))
                    .is_some();
            if dest.port() == 53 && !listened {
                // A DNS query to any nameserver: the sandbox's resolver answers.
                self.autobind(t)?;
                let query = gather(t, iov)?;
                self.resolve(t, &query, dest);
                return Ok(len as u64);
            }
            if t.k.net.is_some() && !is_local(dest.ip()) {
                return self.relay_send(t, iov, flags, dest);
            }
        }
        let (src_ip, dest_ip) = route(t, dest.ip())?;
        let dest = SocketAddr::new(dest_ip, dest.port());
        self.autobind(t)?;
        let src = self.concrete_local(src_ip);
        let data = gather(t, iov)?;
        let meta = self.meta_for_send();
        let target = t.k.inet_ports.borrow_mut().lookup(self.proto(), dest, src);
        match target.and_then(|b| b.dgram.clone()) {
            Some(q) => {
                let charge = data.len() + DGRAM_OVERHEAD;
                // A full receive queue drops the datagram, as UDP does.
                if q.bytes.get() + charge <= q.cap.get() && !q.shut_rd.get() {
                    q.bytes.set(q.bytes.get() + charge);
                    q.msgs.borrow_mut().push_back((src, data, meta));
                    q.gen.set(q.gen.get() + 1);
                }
            }
            // Port unreachable: a connected socket hears of it on its next call.
            None if self.peer.get().is_some() => self.st.error.set(libc::ECONNREFUSED),
            None => {}
        }
        Ok(len as u64)
    }

    pub fn shutdown(&self, how: i32) -> SysResult {
        if let Some(fd) = self.host.borrow().as_ref() {
            use nix::sys::socket::Shutdown;
            let how = match how {
                libc::SHUT_RD => Shutdown::Read,
                libc::SHUT_WR => Shutdown::Write,
                _ => Shutdown::Both,
            };
            nix::sys::socket::shutdown(std::os::fd::AsRawFd::as_raw_fd(fd), how)
                .map_err(|e| Errno::new(e as i32))?;
            return Ok(0);
        }
        if self.tcp() {
            if let Some(l) = self.listener() {
                // SHUT_RD on a listener stops it (accept fails from then on).
                if how != libc::SHUT_WR {
                    drop(l);
                    if let Some(b) = self.binding.borrow().as_ref() {
                        b.listener.borrow_mut().take();
                    }
                    return Ok(0);
                }
            }
            let stream = self.stream.borrow();
            let Some(s) = stream.as_ref() else {
                bail!(ENOTCONN);
            };
            return s.shutdown_how(how);
        }
        if self.peer.get().is_none() {
            bail!(ENOTCONN);
        }
        if how != libc::SHUT_WR {
            self.dgram.shut_rd.set(true);
            self.dgram.gen.set(self.dgram.gen.get() + 1);
        }
        Ok(0)
    }

    pub fn getsockname(&self, t: &Task, addr: u64, len_addr: u64) -> SysResult {
        put_addr(t, addr, len_addr, &encode(self.family, self.local.get()))?;
        Ok(0)
    }

    pub fn getpeername(&self, t: &Task, addr: u64, len_addr: u64) -> SysResult {
        let connected = if self.tcp() {
            self.stream.borrow().is_some()
                || (self.host.borrow().is_some() && self.connecting.get() != Connecting::Host)
        } else {
            self.peer.get().is_some()
        };
        if !connected {
            bail!(ENOTCONN);
        }
        put_addr(t, addr, len_addr, &encode(self.family, self.peer.get()))?;
        Ok(0)
    }

    pub fn getsockopt(&self, t: &mut Task, level: i32, name: i32, val: u64, len: u64) -> SysResult {
        let int = |v: i32| v.to_ne_bytes().to_vec();
        let timeval = |ts: Option<abi::Timespec>| {
            let ts = ts.unwrap_or_default();
            let mut v = ts.tv_sec.to_ne_bytes().to_vec();
            v.extend_from_slice(&(ts.tv_nsec / 1000).to_ne_bytes());
            v
        };
        let v = match (level, name) {
            (SOL_SOCKET, libc::SO_TYPE) => int(self.kind),
            (SOL_SOCKET, libc::SO_DOMAIN) => int(self.family),
            (SOL_SOCKET, libc::SO_PROTOCOL) => int(self.proto()),
            (SOL_SOCKET, libc::SO_ERROR) if self.host.borrow().is_some() => {
                int(self.host_so_error())
            }
            (SOL_SOCKET, libc::SO_ERROR) => int(self.st.error.replace(0)),
            (SOL_SOCKET, libc::SO_ACCEPTCONN) => int(i32::from(self.listener().is_some())),
            (SOL_SOCKET, libc::SO_REUSEADDR) => int(i32::from(self.reuse.get())),
            (SOL_SOCKET, libc::SO_REUSEPORT) => int(i32::from(self.reuseport.get())),
            (SOL_SOCKET, libc::SO_SNDBUF) => int(self.sndbuf.get().cast_signed()),
            (SOL_SOCKET, libc::SO_RCVBUF) => int(self.rcvbuf.get().cast_signed()),
            (SOL_SOCKET, libc::SO_RCVTIMEO) => timeval(self.rcvtimeo.get()),
            (SOL_SOCKET, libc::SO_SNDTIMEO) => timeval(self.sndtimeo.get()),
            (SOL_SOCKET, libc::SO_LINGER) => {
                let (on, secs) = self.linger.get();
                let mut out = int(on);
                out.extend_from_slice(&secs.to_ne_bytes());
                out
            }
            (IPPROTO_IPV6, IPV6_V6ONLY) if self.family == AF_INET6 => {
                int(i32::from(self.v6only.get()))
            }
            _ => match self.recorded(level, name) {
                Some((default, boolean)) => {
                    let v = self
                        .opts
                        .borrow()
                        .get(&(level, name))
                        .copied()
                        .unwrap_or(default);
                    int(if boolean { i32::from(v != 0) } else { v })
                }
                None => return Err(self.unknown_opt(t, level, name)),
            },
        };
        put_opt(t, val, len, &v)
    }

    /// The default and kind of an option that is recorded and read back, if `level` applies to
    /// this socket.
    fn recorded(&self, level: i32, name: i32) -> Option<(i32, bool)> {
        let applies = match level {
            IPPROTO_TCP => self.tcp(),
            IPPROTO_UDPLITE => self.lite,
            IPPROTO_IPV6 => self.family == AF_INET6,
            _ => true,
        };
        RECORDED
            .iter()
            .find(|r| r.0 == level && r.1 == name && applies)
            .map(|r| (r.2, r.3))
    }

    fn unknown_opt(&self, t: &Task, level: i32, name: i32) -> Errno {
        t.k.log_partial(format!("socket option level {level} name {name}"));
        if level == IPPROTO_TCP && !self.tcp() {
            return errno!(EOPNOTSUPP, "a TCP option on a UDP socket");
        }
        errno!(ENOPROTOOPT, "socket option {level}/{name}")
    }

    pub fn setsockopt(&self, t: &mut Task, level: i32, name: i32, val: u64, len: u64) -> SysResult {
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        if matches!(
            (level, name),
            (SOL_SOCKET, libc::SO_RCVTIMEO | libc::SO_SNDTIMEO)
        ) {
            if len < 16 {
                bail!(EINVAL, "optlen {len}");
            }
            let tv: abi::Timeval = t.mm.read_obj(UserAddr(val))?;
            if !(0..1_000_000).contains(&tv.tv_usec) {
                bail!(EDOM, "tv_usec {}", tv.tv_usec);
            }
            // Linux keeps the timeout in jiffies: rounded up to its 4 ms tick (HZ=250).
            let tick = 4000;
            let usec = (tv.tv_usec + tick - 1) / tick * tick;
            let ts = (tv.tv_sec > 0 || usec > 0).then_some(abi::Timespec {
                tv_sec: tv.tv_sec + usec / 1_000_000,
                tv_nsec: usec % 1_000_000 * 1000,
            });
            if name == libc::SO_RCVTIMEO {
                self.rcvtimeo.set(ts);
            } else {
                self.sndtimeo.set(ts);
            }
            return Ok(0);
        }
        if (level, name) == (SOL_SOCKET, libc::SO_LINGER) {
            if len < 8 {
                bail!(EINVAL, "optlen {len}");
            }
            let l: [i32; 2] = t.mm.read_obj(UserAddr(val))?;
            self.linger.set((i32::from(l[0] != 0), l[1]));
            return Ok(0);
        }
        if len < 4 {
            bail!(EINVAL, "optlen {len}");
        }
        let v: i32 = t.mm.read_obj(UserAddr(val))?;
        // The kernel doubles a buffer size for its bookkeeping, within net.core.[rw]mem_max.
        let size = |v: i32, min: u32| (v.max(0).cast_unsigned().min(BUF_DEFAULT) * 2).max(min);
        match (level, name) {
            (SOL_SOCKET, libc::SO_REUSEADDR) => self.reuse.set(v != 0),
            (SOL_SOCKET, libc::SO_REUSEPORT) => self.reuseport.set(v != 0),
            (SOL_SOCKET, libc::SO_SNDBUF) => self.sndbuf.set(size(v, 4608)),
            (SOL_SOCKET, libc::SO_RCVBUF) => {
                self.rcvbuf.set(size(v, 2304));
                self.dgram.cap.set(self.rcvbuf.get() as usize);
            }
            (IPPROTO_IPV6, IPV6_V6ONLY) if self.family == AF_INET6 => {
                if self.binding.borrow().is_some() {
                    bail!(EINVAL, "IPV6_V6ONLY after bind");
                }
                self.v6only.set(v != 0);
            }
            _ => {
                if self.recorded(level, name).is_none() {
                    return Err(self.unknown_opt(t, level, name));
                }
                self.opts.borrow_mut().insert((level, name), v);
            }
        }
        Ok(0)
    }
}

/// sendto/sendmsg on an Internet socket: the destination in `name`/`namelen` (ignored on a
/// connected TCP socket, as Linux does).
pub(super) fn sendmsg(t: &mut Task, s: &InetSocket, m: &MsgHdr, flags: i32) -> SysResult {
    if m.controllen >= 16 {
        let mut meta = None;
        for (level, ty, data) in super::read_cmsgs(t, m.control, m.controllen)? {
            let int = || -> Result<i32, Errno> {
                let b: [u8; 4] = data
                    .get(..4)
                    .and_then(|d| d.try_into().ok())
                    .ok_or_else(|| errno!(EINVAL))?;
                Ok(i32::from_ne_bytes(b))
            };
            match (level, ty) {
                (IPPROTO_IPV6, IPV6_HOPLIMIT | libc::IPV6_TCLASS)
                    if s.family == AF_INET6 && !s.tcp() =>
                {
                    let v = int()?;
                    if !(-1..=255).contains(&v) {
                        bail!(EINVAL, "hop limit or traffic class {v}");
                    }
                    let m: &mut [i32; 2] = meta.get_or_insert_with(|| s.meta_for_send());
                    // -1: the default hop limit; a traffic class of -1 goes out as 0xff, as
                    // Linux sends it.
                    m[usize::from(ty != IPV6_HOPLIMIT)] = match (ty, v) {
                        (IPV6_HOPLIMIT, -1) => 64,
                        (_, -1) => 0xff,
                        _ => v,
                    };
                }
                _ => t.k.log_partial(format!(
                    "control message level {level} type {ty} on an Internet socket (ignored)"
                )),
            }
        }
        s.send_meta.set(meta);
    }
    let dest = if m.name != 0 && !s.tcp() {
        match read_addr(t, s.family, m.name, m.namelen)? {
            Some(d) => Some(d),
            None => bail!(EAFNOSUPPORT, "AF_UNSPEC destination"),
        }
    } else {
        None
    };
    s.send(t, &m.iov, flags, dest)
}

/// recvfrom/recvmsg on an Internet socket: returns the count, and writes the sender's address
/// (datagrams; none for TCP) where `name` says, recvmsg's way when `msg` is its header's address.
pub(super) fn recvmsg(
    t: &mut Task,
    s: &InetSocket,
    iov: &[(u64, usize)],
    flags: i32,
) -> Result<(u64, Vec<u8>, bool, Vec<super::Cmsg>), Errno> {
    let (n, src, truncated) = s.recv(t, iov, flags)?;
    let addr = src.map(|a| encode(s.family, Some(a))).unwrap_or_default();
    Ok((n, addr, truncated, s.recv_control()))
}

impl Anon for InetSocket {
    fn name(&self) -> Vec<u8> {
        format!("socket:[{}]", self.ino).into_bytes()
    }

    fn stat(&self, uid: u32, gid: u32) -> abi::Stat {
        super::socket_stat(self.ino, uid, gid)
    }

    fn flags(&self) -> &Cell<u32> {
        &self.flags
    }

    fn poll(&self, _t: &Task) -> i16 {
        let err = if self.st.error.get() != 0 {
            libc::POLLERR
        } else {
            0
        };
        let out = libc::POLLOUT | libc::POLLWRNORM;
        if !self.tcp() {
            let readable = !self.dgram.msgs.borrow().is_empty()
                || self.dgram.shut_rd.get()
                || self.relay_readable();
            let r = if readable {
                libc::POLLIN | libc::POLLRDNORM
            } else {
                0
            };
            return r | out | libc::POLLWRBAND | err;
        }
        if self.host.borrow().is_some() {
            return self.host_poll();
        }
        if let Some(l) = self.listener() {
            return if l.queue.borrow().is_empty() {
                0
            } else {
                libc::POLLIN | libc::POLLRDNORM
            };
        }
        if let Some(s) = self.stream.borrow().as_ref() {
            return self.tcp_poll(s) | err;
        }
        if self.connecting.get() == Connecting::Failed {
            return libc::POLLIN | libc::POLLRDNORM | POLLRDHUP | out | libc::POLLHUP | err;
        }
        out | libc::POLLHUP | err
    }

    fn read(&self, t: &mut Task, iov: &[(u64, usize)]) -> SysResult {
        self.recv(t, iov, 0).map(|r| r.0)
    }

    fn write(&self, t: &mut Task, iov: &[(u64, usize)]) -> SysResult {
        self.send(t, iov, 0, None)
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn generation(&self) -> u64 {
        let l = self.listener().map_or(0, |l| l.gen.get());
        let s = self.stream.borrow().as_ref().map_or(0, |s| s.generation());
        l + s + self.dgram.gen.get() + u64::from(self.st.error.get() != 0)
    }

    fn readable_bytes(&self) -> Option<usize> {
        if self.tcp() {
            return Some(
                self.stream
                    .borrow()
                    .as_ref()
                    .and_then(|s| s.readable_bytes())
                    .unwrap_or(0),
            );
        }
        // A UDP socket's FIONREAD is the size of the first datagram.
        if let Some(m) = self.dgram.msgs.borrow().front() {
            return Some(m.1.len());
        }
        use std::os::fd::AsRawFd;
        let flags = nix::sys::socket::MsgFlags::MSG_DONTWAIT
            | nix::sys::socket::MsgFlags::MSG_PEEK
            | nix::sys::socket::MsgFlags::MSG_TRUNC;
        let peeked =
            self.relays.borrow().iter().find_map(|(_, fd)| {
                nix::sys::socket::recv(fd.as_raw_fd(), &mut [0u8; 1], flags).ok()
            });
        Some(peeked.unwrap_or(0))
    }
}
