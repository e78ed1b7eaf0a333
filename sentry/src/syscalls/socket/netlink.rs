//! NETLINK_ROUTE sockets, enough for the sandbox's view of its network: a dump of its links
//! (RTM_GETLINK: the loopback `lo`, index 1) and of its addresses (RTM_GETADDR: 127.0.0.1/8 and
//! ::1/128), what glibc's if_nameindex, getifaddrs and getaddrinfo's AI_ADDRCONFIG ask. Every
//! other request gets an NLMSG_ERROR with EOPNOTSUPP (EPERM for changes, as to an unprivileged
//! caller of the host's). Other netlink protocols are EPROTONOSUPPORT.

use super::put_addr;
use crate::errors::{Errno, SysResult, EBLOCK};
use crate::kernel::fd::{Anon, File};
use crate::kernel::Task;
use crate::mm::UserAddr;
use crate::{bail, errno};
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;

pub const AF_NETLINK: i32 = 16;
const NETLINK_ROUTE: i32 = 0;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const NLM_F_REQUEST: u16 = 1;
const NLM_F_MULTI: u16 = 2;
const NLM_F_DUMP: u16 = 0x300;
const RTM_NEWLINK: u16 = 16;
const RTM_GETLINK: u16 = 18;
const RTM_NEWADDR: u16 = 20;
const RTM_GETADDR: u16 = 22;
const LO_INDEX: i32 = 1;

/// A NETLINK_ROUTE socket: the replies to its requests, queued as datagrams.
#[derive(Debug)]
pub struct NetlinkSocket {
    kind: i32,
    flags: Cell<u32>,
    ino: u64,
    /// The port id (0 until bound or until it sends).
    port: Cell<u32>,
    replies: RefCell<VecDeque<Vec<u8>>>,
    gen: Cell<u64>,
}

pub fn socket(t: &mut Task, ty: i32, proto: i32) -> SysResult {
    let (kind, nonblock, cloexec) = super::type_flags(ty)?;
    if kind != libc::SOCK_RAW && kind != libc::SOCK_DGRAM {
        bail!(ESOCKTNOSUPPORT, "netlink socket type {kind}");
    }
    if proto != NETLINK_ROUTE {
        t.k.log_partial(format!("netlink protocol {proto} (only NETLINK_ROUTE)"));
        bail!(EPROTONOSUPPORT, "netlink protocol {proto}");
    }
    let s = NetlinkSocket {
        kind,
        flags: Cell::new(libc::O_RDWR as u32 | if nonblock { libc::O_NONBLOCK as u32 } else { 0 }),
        ino: super::super::eventfd::anon_ino(),
        port: Cell::new(0),
        replies: RefCell::new(VecDeque::new()),
        gen: Cell::new(0),
    };
    super::super::eventfd::install(t, Box::new(s), cloexec)
}

pub fn of(f: &File) -> Option<&NetlinkSocket> {
    match f {
        File::Anon(a) => a.as_any().downcast_ref::<NetlinkSocket>(),
        _ => None,
    }
}

/// A `struct sockaddr_nl`.
fn sockaddr_nl(port: u32) -> Vec<u8> {
    let mut v = (AF_NETLINK as u16).to_ne_bytes().to_vec();
    v.extend_from_slice(&[0, 0]);
    v.extend_from_slice(&port.to_ne_bytes());
    v.extend_from_slice(&0u32.to_ne_bytes());
    v
}

/// Appends an rtattr (type, payload), padded to 4 bytes.
fn attr(out: &mut Vec<u8>, ty: u16, data: &[u8]) {
    let len = 4 + data.len();
    out.extend_from_slice(&(len as u16).to_ne_bytes());
    out.extend_from_slice(&ty.to_ne_bytes());
    out.extend_from_slice(data);
    out.resize(out.len().div_ceil(4) * 4, 0);
}

/// A netlink message: header then `body`.
fn message(ty: u16, flags: u16, seq: u32, port: u32, body: &[u8]) -> Vec<u8> {
    let mut m = ((16 + body.len()) as u32).to_ne_bytes().to_vec();
    m.extend_from_slice(&ty.to_ne_bytes());
    m.extend_from_slice(&flags.to_ne_bytes());
    m.extend_from_slice(&seq.to_ne_bytes());
    m.extend_from_slice(&port.to_ne_bytes());
    m.extend_from_slice(body);
    m.resize(m.len().div_ceil(4) * 4, 0);
    m
}

/// RTM_NEWLINK for the loopback.
fn link_lo() -> Vec<u8> {
    // struct ifinfomsg: family, pad, type (ARPHRD_LOOPBACK), index, flags, change.
    let mut b = vec![libc::AF_UNSPEC as u8, 0];
    b.extend_from_slice(&772u16.to_ne_bytes());
    b.extend_from_slice(&LO_INDEX.to_ne_bytes());
    // IFF_UP | IFF_LOOPBACK | IFF_RUNNING | IFF_LOWER_UP
    b.extend_from_slice(&0x1_0049u32.to_ne_bytes());
    b.extend_from_slice(&0u32.to_ne_bytes());
    attr(&mut b, 3, b"lo\0"); // IFLA_IFNAME
    attr(&mut b, 4, &65536u32.to_ne_bytes()); // IFLA_MTU
    attr(&mut b, 1, &[0; 6]); // IFLA_ADDRESS
    attr(&mut b, 2, &[0; 6]); // IFLA_BROADCAST
    attr(&mut b, 13, &1000u32.to_ne_bytes()); // IFLA_TXQLEN
    attr(&mut b, 16, &[0]); // IFLA_OPERSTATE: unknown, as lo's
    b
}

/// RTM_NEWADDR bodies for the loopback's addresses of `family` (0: both).
fn addrs_lo(family: u8) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let v4 = [127u8, 0, 0, 1];
    let v6 = std::net::Ipv6Addr::LOCALHOST.octets();
    for (fam, prefix, addr) in [
        (libc::AF_INET as u8, 8u8, &v4[..]),
        (libc::AF_INET6 as u8, 128, &v6[..]),
    ] {
        if family != 0 && family != fam {
            continue;
        }
        // struct ifaddrmsg: family, prefixlen, flags (IFA_F_PERMANENT), scope (host), index.
        let mut b = vec![fam, prefix, 0x80, 254];
        b.extend_from_slice(&(LO_INDEX as u32).to_ne_bytes());
        attr(&mut b, 1, addr); // IFA_ADDRESS
        if fam == libc::AF_INET as u8 {
            attr(&mut b, 2, addr); // IFA_LOCAL
            attr(&mut b, 3, b"lo\0"); // IFA_LABEL
        }
        attr(&mut b, 8, &0x80u32.to_ne_bytes()); // IFA_FLAGS
        out.push(b);
    }
    out
}

impl NetlinkSocket {
    fn port_id(&self, t: &Task) -> u32 {
        if self.port.get() == 0 {
            self.port.set(t.tgid.cast_unsigned());
        }
        self.port.get()
    }

    fn queue(&self, m: Vec<u8>) {
        self.replies.borrow_mut().push_back(m);
        self.gen.set(self.gen.get() + 1);
    }

    pub fn bind(&self, t: &mut Task, addr: u64, len: u64) -> SysResult {
        if len < 12 {
            bail!(EINVAL, "address length {len}");
        }
        let raw: [u32; 3] = t.mm.read_obj(UserAddr(addr))?;
        if raw[0] & 0xffff != AF_NETLINK as u32 {
            bail!(EINVAL, "not AF_NETLINK");
        }
        if raw[2] != 0 {
            t.k.log_partial("netlink multicast groups (none are delivered)".into());
        }
        self.port.set(if raw[1] == 0 {
            t.tgid.cast_unsigned()
        } else {
            raw[1]
        });
        Ok(0)
    }

    pub fn getsockname(&self, t: &Task, addr: u64, len_addr: u64) -> SysResult {
        put_addr(t, addr, len_addr, &sockaddr_nl(self.port.get()))?;
        Ok(0)
    }

    /// A request from the guest: the answers are queued for its next receive.
    pub fn send(&self, t: &mut Task, iov: &[(u64, usize)]) -> SysResult {
        let total: usize = iov.iter().map(|r| r.1).sum();
        if total > 64 << 10 {
            bail!(EMSGSIZE);
        }
        let mut buf = vec![0u8; total];
        let mut at = 0;
        for &(a, l) in iov {
            t.mm.copy_in(UserAddr(a), &mut buf[at..at + l])?;
            at += l;
        }
        let port = self.port_id(t);
        let mut off = 0;
        while off + 16 <= buf.len() {
            let u32_at =
                |o: usize| u32::from_ne_bytes(buf[o..o + 4].try_into().unwrap_or_default());
            let u16_at =
                |o: usize| u16::from_ne_bytes(buf[o..o + 2].try_into().unwrap_or_default());
            let len = usize::try_from(u32_at(off)).unwrap_or(0);
            if len < 16 || off + len > buf.len() {
                break;
            }
            let (ty, flags, seq) = (u16_at(off + 4), u16_at(off + 6), u32_at(off + 8));
            let body = &buf[off + 16..off + len];
            if flags & NLM_F_REQUEST != 0 {
                self.answer(t, ty, flags, seq, port, body);
            }
            off += len.div_ceil(4) * 4;
        }
        Ok(total as u64)
    }

    fn answer(&self, t: &Task, ty: u16, flags: u16, seq: u32, port: u32, body: &[u8]) {
        let dump = flags & NLM_F_DUMP == NLM_F_DUMP;
        let parts: Option<Vec<(u16, Vec<u8>)>> = match ty {
            RTM_GETLINK if dump => Some(vec![(RTM_NEWLINK, link_lo())]),
            RTM_GETADDR if dump => {
                let family = body.first().copied().unwrap_or(0);
                Some(
                    addrs_lo(family)
                        .into_iter()
                        .map(|b| (RTM_NEWADDR, b))
                        .collect(),
                )
            }
            _ => None,
        };
        match parts {
            Some(parts) => {
                for (t2, b) in parts {
                    self.queue(message(t2, NLM_F_MULTI, seq, port, &b));
                }
                self.queue(message(
                    NLMSG_DONE,
                    NLM_F_MULTI,
                    seq,
                    port,
                    &0i32.to_ne_bytes(),
                ));
            }
            None => {
                // Changes (RTM_NEW*, RTM_DEL*, RTM_SET*) are refused as to an unprivileged
                // process; queries other than the dumps above are not built.
                let code = if matches!(ty % 4, 0 | 1) {
                    libc::EPERM
                } else {
                    t.k.log_partial(format!("netlink route request type {ty}"));
                    libc::EOPNOTSUPP
                };
                // struct nlmsgerr: -errno, then the request's header.
                let mut b = (-code).to_ne_bytes().to_vec();
                let req = message(ty, flags, seq, port, &[]);
                b.extend_from_slice(&req[..16]);
                self.queue(message(NLMSG_ERROR, 0, seq, port, &b));
            }
        }
    }

    /// Receives one reply into `iov`: the bytes copied (the reply's length with MSG_TRUNC) and
    /// whether it was cut.
    pub fn recv(
        &self,
        t: &mut Task,
        iov: &[(u64, usize)],
        flags: i32,
    ) -> Result<(u64, bool), Errno> {
        let front = self.replies.borrow().front().cloned();
        let Some(m) = front else {
            if self.nonblocking() || flags & libc::MSG_DONTWAIT != 0 {
                bail!(EAGAIN);
            }
            return Err(Errno::new(EBLOCK));
        };
        let mut done = 0;
        for &(a, l) in iov {
            if done == m.len() {
                break;
            }
            let n = l.min(m.len() - done);
            t.mm.copy_out(UserAddr(a), &m[done..done + n])?;
            done += n;
        }
        if flags & libc::MSG_PEEK == 0 {
            self.replies.borrow_mut().pop_front();
            self.gen.set(self.gen.get() + 1);
        }
        let got = if flags & libc::MSG_TRUNC != 0 {
            m.len()
        } else {
            done
        };
        Ok((got as u64, done < m.len()))
    }

    /// The kernel's address, which every reply comes from.
    pub fn source() -> Vec<u8> {
        sockaddr_nl(0)
    }

    pub fn getsockopt(&self, t: &mut Task, level: i32, name: i32, val: u64, len: u64) -> SysResult {
        let v = match (level, name) {
            (super::SOL_SOCKET, libc::SO_TYPE) => self.kind,
            (super::SOL_SOCKET, libc::SO_DOMAIN) => AF_NETLINK,
            (super::SOL_SOCKET, libc::SO_PROTOCOL) => NETLINK_ROUTE,
            (super::SOL_SOCKET, libc::SO_RCVBUF | libc::SO_SNDBUF) => 212_992,
            (super::SOL_SOCKET, libc::SO_ERROR) => 0,
            _ => {
                t.k.log_partial(format!("netlink socket option {level}/{name}"));
                bail!(ENOPROTOOPT);
            }
        };
        super::put_opt(t, val, len, &v.to_ne_bytes())
    }

    pub fn setsockopt(&self, t: &mut Task, level: i32, name: i32) -> SysResult {
        match (level, name) {
            // Buffer sizes and the extended-ack and strict-check flags change nothing here.
            (super::SOL_SOCKET, libc::SO_RCVBUF | libc::SO_SNDBUF | libc::SO_RCVBUFFORCE) => Ok(0),
            (270, 11 | 12) => Ok(0), // SOL_NETLINK: NETLINK_EXT_ACK, NETLINK_GET_STRICT_CHK
            _ => {
                t.k.log_partial(format!("netlink socket option {level}/{name}"));
                Err(errno!(ENOPROTOOPT))
            }
        }
    }
}

impl Anon for NetlinkSocket {
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
        let r = if self.replies.borrow().is_empty() {
            0
        } else {
            libc::POLLIN | libc::POLLRDNORM
        };
        r | libc::POLLOUT | libc::POLLWRNORM
    }

    fn read(&self, t: &mut Task, iov: &[(u64, usize)]) -> SysResult {
        self.recv(t, iov, 0).map(|r| r.0)
    }

    fn write(&self, t: &mut Task, iov: &[(u64, usize)]) -> SysResult {
        self.send(t, iov)
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn generation(&self) -> u64 {
        self.gen.get()
    }

    fn readable_bytes(&self) -> Option<usize> {
        Some(self.replies.borrow().front().map_or(0, Vec::len))
    }
}
