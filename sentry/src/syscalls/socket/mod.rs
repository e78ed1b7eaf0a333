//! Sockets, so far: Unix stream sockets, connected in pairs (socketpair) or through a name (bind,
//! listen, connect, accept on paths and abstract names), each direction a pipe buffer in the
//! Sentry, with send/recv and their msg forms, shutdown, the common socket options, SO_PEERCRED,
//! getsockname/getpeername, and ancillary data: SCM_RIGHTS passes open files (attached to the
//! bytes of the send that carried them; a receive stops at the end of those bytes and takes the
//! files, as Linux's stream receive does), SCM_CREDENTIALS is checked when sent and given with
//! SO_PASSCRED.
//!
//! Datagram and seqpacket sockets are the same connection with message boundaries: every send
//! is recorded as a message over the byte stream (written whole or not at all), and a receive
//! takes one message, discarding what does not fit (MSG_TRUNC). A closed datagram peer gives
//! ECONNREFUSED to senders and no end of file to receivers, as Linux's socketpair does.
//!
//! Internet sockets (TCP and UDP on the sandbox's loopback) are in [`inet`].
//!
//! Unix datagram sockets made by socket(2) (bound, sending to names, connect(2)ed) are in
//! [`unix_dgram`].
//!
//! Not yet: other families (EAFNOSUPPORT),
//! MSG_WAITALL (treated as a plain receive), MSG_OOB (EOPNOTSUPP). SO_PASSCRED gives the
//! credentials of the last sender on the connection, not of each message's sender; a socket sent
//! over itself (a reference cycle) is never freed (Linux has a garbage collector for that).

use super::eventfd::anon_ino;
use super::fs::pipe_io_opts;
use super::{fd_arg, int_arg};
use crate::errors::{Errno, SysResult};
use crate::kernel::fd::{Anon, File};
use crate::kernel::Task;
use crate::mm::{Access, UserAddr};
use crate::vfs::pipe::{new_pipe, PipeEnd};
use crate::{bail, errno};
use std::cell::{Cell, RefCell};
use std::rc::Rc;

pub mod inet;
pub mod netlink;
pub mod unix_dgram;

const AF_UNIX: i32 = 1;
const SOCK_STREAM: i32 = 1;
const SOCK_DGRAM: i32 = 2;
const SOCK_SEQPACKET: i32 = 5;
/// The largest datagram (Linux: the send buffer less overhead); the receive queue holds this much.
const PACKET_QUEUE: usize = 212_992;
const SOCK_TYPE_MASK: i32 = 0xf;
const SOL_SOCKET: i32 = 1;
const MSG_OOB: i32 = 0x1;
const MSG_PEEK: i32 = 0x2;
const MSG_TRUNC: i32 = 0x20;
const MSG_DONTWAIT: i32 = 0x40;
const MSG_WAITALL: i32 = 0x100;
const MSG_NOSIGNAL: i32 = 0x4000;
const MSG_CTRUNC: i32 = 0x8;
const MSG_CMSG_CLOEXEC: i32 = 0x4000_0000;
const POLLRDHUP: i16 = 0x2000;
const SCM_RIGHTS: i32 = 1;
const SCM_CREDENTIALS: i32 = 2;
/// The most files one SCM_RIGHTS message may carry (Linux's SCM_MAX_FD).
const SCM_MAX_FD: usize = 253;
/// sizeof(struct cmsghdr): cmsg_len (size_t), cmsg_level, cmsg_type.
const CMSG_HDR: usize = 16;

/// Files sent together, attached to the stream bytes `[start, end)` of their send.
type FileBatch = (u64, u64, Vec<Rc<File>>);

/// Ancillary state of one direction of a connection: the byte positions sent and received so
/// far, and the files in flight, each batch attached to the bytes `[start, end)` of its send.
#[derive(Default)]
struct Ancillary {
    written: Cell<u64>,
    read: Cell<u64>,
    files: RefCell<std::collections::VecDeque<FileBatch>>,
    /// The last sender's (pid, uid, gid), for SO_PASSCRED.
    cred: Cell<(i32, u32, u32)>,
}

impl std::fmt::Debug for Ancillary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Ancillary({} batches in flight)",
            self.files.borrow().len()
        )
    }
}

impl Ancillary {
    /// How many of `want` bytes a receive may take: up to the end of the first batch of files it
    /// reaches.
    fn limit(&self, want: usize) -> usize {
        let r = self.read.get();
        match self.files.borrow().front() {
            Some(&(start, end, _)) if start < r.saturating_add(want as u64) => {
                usize::try_from(end.saturating_sub(r)).map_or(want, |n| n.min(want))
            }
            _ => want,
        }
    }

    /// Records that `n` bytes were received; returns the files they reached.
    fn consumed(&self, n: usize) -> Vec<Rc<File>> {
        let r = self.read.get() + n as u64;
        self.read.set(r);
        let mut files = self.files.borrow_mut();
        match files.front() {
            Some(&(start, _, _)) if n > 0 && start < r => {
                files.pop_front().map(|b| b.2).unwrap_or_default()
            }
            _ => Vec::new(),
        }
    }
}

/// `iov` cut to its first `n` bytes.
fn cap_iov(iov: &[(u64, usize)], mut n: usize) -> Vec<(u64, usize)> {
    let mut out = Vec::new();
    for &(addr, len) in iov {
        if n == 0 {
            break;
        }
        out.push((addr, len.min(n)));
        n -= len.min(n);
    }
    out
}

/// A Unix socket: unconnected, bound to a name, listening, or one end of a connection. A
/// stream, or (`kind`) a datagram or seqpacket socket: the same with message boundaries.
#[derive(Debug)]
pub struct UnixStream {
    kind: i32,
    /// The read end of the pipe from the peer (None before connecting and after SHUT_RD).
    rx: RefCell<Option<PipeEnd>>,
    /// The write end of the pipe to the peer (None before connecting and after SHUT_WR).
    tx: RefCell<Option<PipeEnd>>,
    connected: Cell<bool>,
    /// SHUT_RD: what is queued can still be read, then end of file; the peer's writes fail.
    shut_rd: Cell<bool>,
    flags: Cell<u32>,
    ino: u64,
    /// The peer's credentials at connection time (pid, uid, gid): SO_PEERCRED.
    peer: Cell<(i32, u32, u32)>,
    passcred: Cell<bool>,
    sndbuf: Cell<u32>,
    rcvbuf: Cell<u32>,
    /// Whether the last message received was cut to fit (datagram, seqpacket): MSG_TRUNC.
    truncated: Cell<bool>,
    /// Ancillary data of the two directions (from the peer, to the peer), once connected.
    anc_rx: RefCell<Option<Rc<Ancillary>>>,
    anc_tx: RefCell<Option<Rc<Ancillary>>>,
    /// The address it is bound to (sun_path bytes; abstract names start with NUL).
    name: RefCell<Option<Vec<u8>>>,
    /// The peer's address, if it had one.
    peer_name: RefCell<Option<Vec<u8>>>,
    /// Set once bound: the queue connections wait in (listening once `listen` ran).
    listener: RefCell<Option<Rc<Listener>>>,
}

/// A bound socket's connection queue.
#[derive(Debug)]
pub struct Listener {
    listening: Cell<bool>,
    backlog: Cell<usize>,
    queue: RefCell<std::collections::VecDeque<UnixStream>>,
    /// The listener's name and credentials, given to its clients.
    name: Vec<u8>,
    cred: Cell<(i32, u32, u32)>,
    /// The listening socket's type: a client of another type is refused (EPROTOTYPE).
    kind: i32,
}

impl UnixStream {
    /// A socket of no connection yet.
    fn new(kind: i32, nonblock: bool, cred: (i32, u32, u32)) -> UnixStream {
        UnixStream {
            kind,
            rx: RefCell::new(None),
            tx: RefCell::new(None),
            connected: Cell::new(false),
            shut_rd: Cell::new(false),
            flags: Cell::new(
                libc::O_RDWR as u32 | if nonblock { libc::O_NONBLOCK as u32 } else { 0 },
            ),
            ino: anon_ino(),
            peer: Cell::new(cred),
            passcred: Cell::new(false),
            sndbuf: Cell::new(212_992),
            rcvbuf: Cell::new(212_992),
            truncated: Cell::new(false),
            anc_rx: RefCell::new(None),
            anc_tx: RefCell::new(None),
            name: RefCell::new(None),
            peer_name: RefCell::new(None),
            listener: RefCell::new(None),
        }
    }

    /// Makes `a` and `b` the two ends of a new connection.
    fn connect_pair(a: &UnixStream, b: &UnixStream) {
        let (r1, w1) = new_pipe(false);
        let (r2, w2) = new_pipe(false);
        if a.packets() {
            r1.pipe.capacity.set(PACKET_QUEUE);
            r2.pipe.capacity.set(PACKET_QUEUE);
        }
        *a.rx.borrow_mut() = Some(r1);
        *a.tx.borrow_mut() = Some(w2);
        *b.rx.borrow_mut() = Some(r2);
        *b.tx.borrow_mut() = Some(w1);
        let (ab, ba) = (Rc::new(Ancillary::default()), Rc::new(Ancillary::default()));
        *a.anc_tx.borrow_mut() = Some(ab.clone());
        *b.anc_rx.borrow_mut() = Some(ab);
        *b.anc_tx.borrow_mut() = Some(ba.clone());
        *a.anc_rx.borrow_mut() = Some(ba);
        a.connected.set(true);
        b.connected.set(true);
    }

    /// Whether sends keep their boundaries (datagram and seqpacket).
    fn packets(&self) -> bool {
        self.kind != SOCK_STREAM
    }

    fn listening(&self) -> bool {
        self.listener
            .borrow()
            .as_ref()
            .is_some_and(|l| l.listening.get())
    }
    fn nonblock(&self, flags: i32) -> bool {
        self.nonblocking() || flags & MSG_DONTWAIT != 0
    }

    /// Receives into `iov`; files that came with the bytes received are dropped (closed), as
    /// Linux does for a receive without a control buffer.
    fn recv(&self, t: &mut Task, iov: &[(u64, usize)], flags: i32) -> SysResult {
        self.recv_with_files(t, iov, flags).map(|(n, _)| n)
    }

    /// Receives into `iov`, stopping at the end of the first bytes files were attached to;
    /// returns the count and those files (copies of them for MSG_PEEK).
    fn recv_with_files(
        &self,
        t: &mut Task,
        iov: &[(u64, usize)],
        flags: i32,
    ) -> Result<(u64, Vec<Rc<File>>), Errno> {
        let anc = self.anc_rx.borrow().clone();
        let want: usize = iov.iter().map(|r| r.1).sum();
        if let (true, Some(a)) = (self.packets(), &anc) {
            return self.recv_packet(t, a, iov, want, flags);
        }
        let limit = anc.as_ref().map_or(want, |a| a.limit(want));
        let iov = cap_iov(iov, limit);
        let n = self.recv_bytes(t, &iov, flags)?;
        let files = match &anc {
            Some(a) if flags & MSG_PEEK == 0 => a.consumed(n as usize),
            Some(a) => {
                let r = a.read.get();
                match a.files.borrow().front() {
                    Some((start, _, files)) if n > 0 && *start < r + n => files.clone(),
                    _ => Vec::new(),
                }
            }
            None => Vec::new(),
        };
        Ok((n, files))
    }

    /// Receives one message (datagram, seqpacket): what does not fit in `iov` is discarded.
    /// Returns the bytes copied (the message's length with MSG_TRUNC) and its files; the
    /// caller learns of truncation from [`UnixStream::last_truncated`].
    fn recv_packet(
        &self,
        t: &mut Task,
        a: &Ancillary,
        iov: &[(u64, usize)],
        want: usize,
        flags: i32,
    ) -> Result<(u64, Vec<Rc<File>>), Errno> {
        if flags & MSG_OOB != 0 {
            bail!(EOPNOTSUPP, "MSG_OOB on a Unix socket");
        }
        self.truncated.set(false);
        let front = a.files.borrow().front().map(|m| (m.0, m.1));
        let Some((start, end)) = front else {
            // No message. A seqpacket peer that is gone (or our SHUT_RD) is end of file; a
            // datagram peer's close is not.
            let rx = self.rx.borrow();
            let closed = rx.as_ref().is_none_or(|r| r.pipe.writers.get() == 0);
            if self.shut_rd.get() || (closed && self.kind == SOCK_SEQPACKET) {
                return Ok((0, Vec::new()));
            }
            if self.nonblock(flags) {
                bail!(EAGAIN);
            }
            return Err(Errno::new(crate::errors::EBLOCK));
        };
        let len = usize::try_from(end - start).unwrap_or(usize::MAX);
        let n = want.min(len);
        let iov = cap_iov(iov, n);
        let rx = self.rx.borrow();
        let Some(rx) = rx.as_ref() else {
            return Ok((0, Vec::new()));
        };
        self.truncated.set(n < len);
        // MSG_TRUNC: the message's real length.
        let got = if flags & MSG_TRUNC != 0 { len } else { n } as u64;
        if flags & MSG_PEEK != 0 {
            if n > 0 {
                peek(t, rx, &iov, true)?;
            }
            let files = a.files.borrow().front().map(|m| m.2.clone());
            return Ok((got, files.unwrap_or_default()));
        }
        if n > 0 {
            let copied = pipe_io_opts(t, rx, &iov, Access::Write, true, false)?;
            if copied as usize != n {
                // The message was written whole: only a bad buffer stops the copy early.
                bail!(EFAULT, "message copied {copied} of {n} bytes");
            }
        }
        // The rest of the message goes.
        {
            let mut buf = rx.pipe.buf.borrow_mut();
            let drop_n = (len - n).min(buf.len());
            buf.drain_front(drop_n);
        }
        rx.pipe.generation.set(rx.pipe.generation.get() + 1);
        a.read.set(end);
        let files = a.files.borrow_mut().pop_front().map(|m| m.2);
        Ok((got, files.unwrap_or_default()))
    }

    fn recv_bytes(&self, t: &mut Task, iov: &[(u64, usize)], flags: i32) -> SysResult {
        if flags & MSG_OOB != 0 {
            bail!(EOPNOTSUPP, "MSG_OOB on a Unix socket");
        }
        if !self.connected.get() {
            bail!(EINVAL, "not connected");
        }
        let rx = self.rx.borrow();
        let Some(rx) = rx.as_ref() else {
            return Ok(0); // shut down for reading
        };
        if self.shut_rd.get() && rx.available() == 0 {
            return Ok(0);
        }
        if flags & MSG_PEEK != 0 {
            return peek(t, rx, iov, self.nonblock(flags));
        }
        pipe_io_opts(t, rx, iov, Access::Write, self.nonblock(flags), false)
    }

    /// Sends `iov` with `files` attached to the bytes sent (none sent: not attached).
    fn send_with_files(
        &self,
        t: &mut Task,
        iov: &[(u64, usize)],
        flags: i32,
        files: Vec<Rc<File>>,
    ) -> SysResult {
        if self.packets() {
            return self.send_packet(t, iov, flags, files);
        }
        let n = self.send(t, iov, flags)?;
        self.record_send(t, n, files, false);
        Ok(n)
    }

    /// Records `n` bytes just sent: their position, the sender's credentials, and the files
    /// sent with them; a `message` (datagram, seqpacket) is recorded even without files, as
    /// its boundaries.
    fn record_send(&self, t: &Task, n: u64, files: Vec<Rc<File>>, message: bool) {
        if let Some(a) = self.anc_tx.borrow().as_ref() {
            let start = a.written.get();
            a.written.set(start + n);
            a.cred.set((t.tgid, t.creds.euid, t.creds.egid));
            if message || (n > 0 && !files.is_empty()) {
                a.files.borrow_mut().push_back((start, start + n, files));
            }
        }
    }

    /// Sends one message (datagram, seqpacket): all of it, or nothing (EMSGSIZE past the queue's
    /// size, EAGAIN or a wait while it does not fit).
    fn send_packet(
        &self,
        t: &mut Task,
        iov: &[(u64, usize)],
        flags: i32,
        files: Vec<Rc<File>>,
    ) -> SysResult {
        let len: usize = iov.iter().map(|r| r.1).sum();
        if len > PACKET_QUEUE {
            bail!(EMSGSIZE, "a {len}-byte message");
        }
        if self.connected.get() && self.kind == SOCK_DGRAM {
            let gone = self
                .tx
                .borrow()
                .as_ref()
                .is_some_and(|w| w.pipe.readers.get() == 0);
            if gone {
                bail!(ECONNREFUSED, "the peer is closed");
            }
        }
        if let Some(w) = self.tx.borrow().as_ref() {
            let p = &w.pipe;
            if p.readers.get() > 0 && p.capacity.get() - p.buf.borrow().len() < len {
                if self.nonblock(flags) {
                    bail!(EAGAIN);
                }
                return Err(Errno::new(crate::errors::EBLOCK));
            }
        }
        // (A zero-length message has no bytes, but is checked and recorded like one.)
        let n = self.send(t, iov, flags)?;
        self.record_send(t, n, files, true);
        Ok(n)
    }

    fn send(&self, t: &mut Task, iov: &[(u64, usize)], flags: i32) -> SysResult {
        if flags & MSG_OOB != 0 {
            bail!(EOPNOTSUPP, "MSG_OOB on a Unix socket");
        }
        if !self.connected.get() {
            bail!(ENOTCONN);
        }
        let tx = self.tx.borrow();
        let Some(tx) = tx.as_ref() else {
            if flags & MSG_NOSIGNAL == 0 {
                raise_sigpipe(t);
            }
            bail!(EPIPE, "shut down for writing");
        };
        pipe_io_opts(
            t,
            tx,
            iov,
            Access::Read,
            self.nonblock(flags),
            flags & MSG_NOSIGNAL != 0,
        )
    }
}

/// Whether `f` is a socket (of any kind the Sentry has).
pub fn is_socket(f: &File) -> bool {
    match f {
        File::Anon(a) => {
            let any = a.as_any();
            any.is::<UnixStream>()
                || any.is::<unix_dgram::UnixDgram>()
                || any.is::<inet::InetSocket>()
                || any.is::<netlink::NetlinkSocket>()
        }
        _ => false,
    }
}

const SIOCGIFNAME: u64 = 0x8910;
const SIOCGIFFLAGS: u64 = 0x8913;
const SIOCGIFMTU: u64 = 0x8921;
const SIOCGIFINDEX: u64 = 0x8933;

/// The interface ioctls the sandbox's one interface answers (on any socket, as Linux's).
pub fn is_interface_ioctl(req: u64) -> bool {
    matches!(req, SIOCGIFNAME | SIOCGIFFLAGS | SIOCGIFMTU | SIOCGIFINDEX)
}

/// SIOCGIFINDEX, SIOCGIFNAME, SIOCGIFFLAGS, SIOCGIFMTU on a `struct ifreq` (a 16-byte name,
/// then the value) for the sandbox's only interface, the loopback `lo` (index 1); ENODEV for any
/// other.
pub fn interface_ioctl(t: &mut Task, req: u64, arg: u64) -> SysResult {
    let mut ifr = [0u8; 40];
    t.mm.copy_in(UserAddr(arg), &mut ifr)?;
    if req == SIOCGIFNAME {
        let index = i32::from_ne_bytes(ifr[16..20].try_into().unwrap_or_default());
        if index != 1 {
            bail!(ENODEV, "no interface {index}");
        }
        let mut name = [0u8; 16];
        name[..2].copy_from_slice(b"lo");
        t.mm.copy_out(UserAddr(arg), &name)?;
        return Ok(0);
    }
    let end = ifr[..16].iter().position(|&c| c == 0).unwrap_or(16);
    if &ifr[..end] != b"lo" {
        bail!(
            ENODEV,
            "no interface {:?}",
            String::from_utf8_lossy(&ifr[..end])
        );
    }
    let v: i32 = match req {
        SIOCGIFINDEX => 1,
        // IFF_UP | IFF_LOOPBACK | IFF_RUNNING (the 16-bit ifr_flags)
        SIOCGIFFLAGS => 0x49,
        _ => 65536,
    };
    if req == SIOCGIFFLAGS {
        t.mm.write_obj(UserAddr(arg + 16), &(v as i16))?;
    } else {
        t.mm.write_obj(UserAddr(arg + 16), &v)?;
    }
    Ok(0)
}

/// Whether sendfile may write to `f`: a connected stream socket (Unix or TCP).
pub fn is_stream_socket(f: &File) -> bool {
    match f {
        File::Anon(a) => {
            let any = a.as_any();
            any.downcast_ref::<UnixStream>()
                .is_some_and(|s| s.kind == SOCK_STREAM)
                || any
                    .downcast_ref::<inet::InetSocket>()
                    .is_some_and(|s| s.is_tcp())
        }
        _ => false,
    }
}

/// Sends `data` (bytes the Sentry holds: sendfile's) on a stream socket: as much as there is
/// room for; waits (EBLOCK) or EAGAIN when there is none.
pub fn send_bytes(t: &mut Task, f: &File, data: &[u8]) -> SysResult {
    let File::Anon(a) = f else {
        bail!(EINVAL);
    };
    if let Some(s) = a.as_any().downcast_ref::<inet::InetSocket>() {
        return s.send_bytes(t, data);
    }
    let Some(s) = a.as_any().downcast_ref::<UnixStream>() else {
        bail!(EINVAL);
    };
    if !s.connected.get() {
        bail!(ENOTCONN);
    }
    let tx = s.tx.borrow();
    let Some(tx) = tx.as_ref() else {
        drop(tx);
        raise_sigpipe(t);
        bail!(EPIPE, "shut down for writing");
    };
    push_bytes(t, tx, data, s.nonblocking())
}

/// Appends `data` to the pipe buffer behind a socket's write end, as room allows.
fn push_bytes(t: &mut Task, tx: &PipeEnd, data: &[u8], nonblock: bool) -> SysResult {
    let p = &tx.pipe;
    if p.readers.get() == 0 {
        raise_sigpipe(t);
        bail!(EPIPE, "the peer is gone");
    }
    let room = p.capacity.get().saturating_sub(p.buf.borrow().len());
    if room == 0 {
        if nonblock {
            bail!(EAGAIN);
        }
        return Err(Errno::new(crate::errors::EBLOCK));
    }
    let n = room.min(data.len());
    p.buf.borrow_mut().extend_from_slice(&data[..n]);
    p.generation.set(p.generation.get() + 1);
    Ok(n as u64)
}

/// fstat of a socket (sockfs: one inode per socket, no size).
fn socket_stat(ino: u64, uid: u32, gid: u32) -> abi::Stat {
    abi::Stat {
        dev: 0x08,
        ino,
        nlink: 1,
        mode: crate::vfs::S_IFSOCK | 0o777,
        uid,
        gid,
        blksize: 4096,
        ..abi::Stat::default()
    }
}

/// SIGPIPE for a write to a connection (or pipe) that cannot take it (EPIPE follows).
pub(crate) fn raise_sigpipe(t: &mut Task) {
    let info = crate::kernel::signal::SigInfo {
        code: crate::kernel::signal::SI_USER,
        pid: t.tgid,
        uid: t.creds.ruid,
        ..Default::default()
    };
    crate::kernel::signal::raise(t, abi::signal::SIGPIPE, info);
}

/// MSG_PEEK: copies what is buffered into `iov` without taking it; waits like a read.
fn peek(t: &mut Task, rx: &PipeEnd, iov: &[(u64, usize)], nonblock: bool) -> SysResult {
    let data: Vec<u8> = {
        let buf = rx.pipe.buf.borrow();
        let want: usize = iov.iter().map(|r| r.1).sum();
        buf.front(want)
    };
    if data.is_empty() {
        if rx.pipe.writers.get() == 0 {
            return Ok(0);
        }
        if nonblock {
            bail!(EAGAIN);
        }
        return Err(Errno::new(crate::errors::EBLOCK));
    }
    let mut done = 0;
    for &(addr, len) in iov {
        if done == data.len() {
            break;
        }
        let n = len.min(data.len() - done);
        t.mm.copy_out(UserAddr(addr), &data[done..done + n])?;
        done += n;
    }
    Ok(done as u64)
}

impl Anon for UnixStream {
    fn name(&self) -> Vec<u8> {
        format!("socket:[{}]", self.ino).into_bytes()
    }

    fn stat(&self, uid: u32, gid: u32) -> abi::Stat {
        socket_stat(self.ino, uid, gid)
    }

    fn flags(&self) -> &Cell<u32> {
        &self.flags
    }

    fn poll(&self, _t: &Task) -> i16 {
        if let Some(l) = self.listener.borrow().as_ref() {
            if l.listening.get() {
                return if l.queue.borrow().is_empty() {
                    0
                } else {
                    libc::POLLIN | libc::POLLRDNORM
                };
            }
        }
        if !self.connected.get() {
            return libc::POLLOUT | libc::POLLWRNORM | libc::POLLHUP;
        }
        let mut ev = 0;
        let rx = self.rx.borrow();
        let tx = self.tx.borrow();
        // A datagram peer's close is no end of file (Linux shuts the survivor down only for
        // stream and seqpacket pairs).
        let peer_gone = self.shut_rd.get()
            || (self.kind != SOCK_DGRAM && rx.as_ref().is_none_or(|r| r.pipe.writers.get() == 0));
        let message = self.packets()
            && self
                .anc_rx
                .borrow()
                .as_ref()
                .is_some_and(|a| !a.files.borrow().is_empty());
        if let Some(r) = rx.as_ref() {
            if r.available() > 0 || message {
                ev |= libc::POLLIN | libc::POLLRDNORM;
            }
        }
        if peer_gone {
            ev |= libc::POLLIN | libc::POLLRDNORM | POLLRDHUP;
        }
        match tx.as_ref() {
            Some(w) if w.pipe.readers.get() > 0 => {
                ev |= w.poll_events() & (libc::POLLOUT | libc::POLLWRNORM);
            }
            // A peer that will never read: writes fail at once (EPIPE), so they do not block.
            _ => ev |= libc::POLLOUT | libc::POLLWRNORM,
        }
        let tx_gone = tx.as_ref().is_none_or(|w| w.pipe.readers.get() == 0);
        if peer_gone && tx_gone {
            ev |= libc::POLLHUP;
        }
        ev
    }

    fn read(&self, t: &mut Task, iov: &[(u64, usize)]) -> SysResult {
        self.recv(t, iov, 0)
    }

    fn write(&self, t: &mut Task, iov: &[(u64, usize)]) -> SysResult {
        self.send_with_files(t, iov, 0, Vec::new())
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn generation(&self) -> u64 {
        let g = |p: &Option<PipeEnd>| p.as_ref().map_or(0, |e| e.pipe.generation.get());
        g(&self.rx.borrow()) + g(&self.tx.borrow())
    }

    fn readable_bytes(&self) -> Option<usize> {
        Some(self.rx.borrow().as_ref().map_or(0, |r| r.available()))
    }
}

/// The type flags of socket/socketpair: (type, nonblock, cloexec).
fn type_flags(ty: i32) -> Result<(i32, bool, bool), Errno> {
    let flags = ty & !SOCK_TYPE_MASK;
    if flags & !(libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC) != 0 {
        bail!(EINVAL, "socket flags {flags:#x}");
    }
    // SOCK_MAX is 11.
    if ty & SOCK_TYPE_MASK >= 11 {
        bail!(EINVAL, "socket type {}", ty & SOCK_TYPE_MASK);
    }
    Ok((
        ty & SOCK_TYPE_MASK,
        flags & libc::SOCK_NONBLOCK != 0,
        flags & libc::SOCK_CLOEXEC != 0,
    ))
}

pub fn socket(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (domain, ty, proto) = (int_arg(a[0]), int_arg(a[1]), int_arg(a[2]));
    if domain == inet::AF_INET || domain == inet::AF_INET6 {
        return inet::socket(t, domain, ty, proto);
    }
    if domain == netlink::AF_NETLINK {
        return netlink::socket(t, ty, proto);
    }
    if domain != AF_UNIX {
        t.k.log_partial(format!(
            "socket(domain {domain}): network sockets are not implemented"
        ));
        bail!(EAFNOSUPPORT, "socket domain {domain}");
    }
    let (kind, nonblock, cloexec) = type_flags(ty)?;
    if proto != 0 && proto != AF_UNIX {
        bail!(EPROTONOSUPPORT, "protocol {proto}");
    }
    match kind {
        SOCK_STREAM | SOCK_SEQPACKET => {}
        SOCK_DGRAM => {
            return super::eventfd::install(t, Box::new(unix_dgram::new(nonblock)), cloexec);
        }
        other => bail!(ESOCKTNOSUPPORT, "socket type {other}"),
    }
    let sock = UnixStream::new(kind, nonblock, (t.tgid, t.creds.euid, t.creds.egid));
    super::eventfd::install(t, Box::new(sock), cloexec)
}

pub fn socketpair(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (domain, ty, proto) = (int_arg(a[0]), int_arg(a[1]), int_arg(a[2]));
    // AF_MAX is 46: beyond it the family does not exist; others have no pairs.
    if !(0..46).contains(&domain) {
        bail!(EAFNOSUPPORT, "socketpair domain {domain}");
    }
    if domain != AF_UNIX {
        bail!(EOPNOTSUPP, "socketpair domain {domain}");
    }
    type_flags(ty)?;
    let flags = ty & !SOCK_TYPE_MASK;
    if proto != 0 && proto != AF_UNIX {
        bail!(EPROTONOSUPPORT, "protocol {proto}");
    }
    let kind = ty & SOCK_TYPE_MASK;
    match kind {
        SOCK_STREAM | SOCK_DGRAM | SOCK_SEQPACKET => {}
        other => bail!(ESOCKTNOSUPPORT, "socket type {other}"),
    }
    // Check the result array is writable first: nothing is left behind on EFAULT.
    if !t.mm.is_writable(a[3], 8) {
        bail!(EFAULT);
    }
    let me = (t.tgid, t.creds.euid, t.creds.egid);
    let nonblock = flags & libc::SOCK_NONBLOCK != 0;
    let a_end = UnixStream::new(kind, nonblock, me);
    let b_end = UnixStream::new(kind, nonblock, me);
    UnixStream::connect_pair(&a_end, &b_end);
    let cloexec = flags & libc::SOCK_CLOEXEC != 0;
    let limit = usize::try_from(t.rlimits[abi::RLIMIT_NOFILE].cur).unwrap_or(usize::MAX);
    let fa = t
        .fds
        .install(Rc::new(File::Anon(Box::new(a_end))), cloexec, 0, limit)
        .ok_or_else(|| errno!(EMFILE))?;
    let Some(fb) = t
        .fds
        .install(Rc::new(File::Anon(Box::new(b_end))), cloexec, 0, limit)
    else {
        t.fds.remove(fa);
        bail!(EMFILE);
    };
    t.mm.write_obj(UserAddr(a[3]), &[fa, fb])?;
    Ok(0)
}

/// The socket behind `fd`: EBADF if not open, ENOTSOCK if not a socket.
fn sock(t: &Task, fd: i32) -> Result<Rc<File>, Errno> {
    let f = t.fds.get(fd).ok_or_else(|| errno!(EBADF))?;
    match &*f {
        File::Anon(a)
            if a.as_any().is::<UnixStream>()
                || a.as_any().is::<unix_dgram::UnixDgram>()
                || a.as_any().is::<inet::InetSocket>()
                || a.as_any().is::<netlink::NetlinkSocket>() =>
        {
            Ok(f)
        }
        _ => Err(errno!(ENOTSOCK)),
    }
}

/// The Unix socket behind a socket file; EOPNOTSUPP for the other kinds (a call Internet and
/// netlink sockets do not handle themselves).
fn unix(f: &File) -> Result<&UnixStream, Errno> {
    match f {
        File::Anon(a) => a.as_any().downcast_ref::<UnixStream>(),
        _ => None,
    }
    .ok_or_else(|| errno!(EOPNOTSUPP, "not supported on this kind of socket"))
}

pub fn sendto(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = sock(t, fd_arg(a[0]))?;
    let len = usize::try_from(a[2])
        .unwrap_or(usize::MAX)
        .min(abi::MAX_RW_COUNT);
    if let Some(s) = netlink::of(&f) {
        return s.send(t, &[(a[1], len)]);
    }
    if let Some(s) = inet::of(&f) {
        let m = MsgHdr {
            name: a[4],
            namelen: a[5] & 0xffff_ffff,
            iov: vec![(a[1], len)],
            control: 0,
            controllen: 0,
        };
        return inet::sendmsg(t, s, &m, int_arg(a[3]));
    }
    if let Some(s) = unix_dgram::of(&f) {
        return unix_dgram::sendto(
            t,
            s,
            &[(a[1], len)],
            int_arg(a[3]),
            a[4],
            a[5] & 0xffff_ffff,
        );
    }
    if a[4] != 0 {
        bail!(EISCONN, "an address given to a connected socket");
    }
    let len = usize::try_from(a[2])
        .unwrap_or(usize::MAX)
        .min(abi::MAX_RW_COUNT);
    unix(&f)?.send_with_files(t, &[(a[1], len)], int_arg(a[3]), Vec::new())
}

pub fn recvfrom(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = sock(t, fd_arg(a[0]))?;
    let flags = int_arg(a[3]);
    let len = usize::try_from(a[2])
        .unwrap_or(usize::MAX)
        .min(abi::MAX_RW_COUNT);
    if let Some(s) = netlink::of(&f) {
        let (n, _) = s.recv(t, &[(a[1], len)], flags)?;
        if a[4] != 0 {
            put_addr(t, a[4], a[5], &netlink::NetlinkSocket::source())?;
        }
        return Ok(n);
    }
    if let Some(s) = inet::of(&f) {
        let (n, addr, _, _) = inet::recvmsg(t, s, &[(a[1], len)], flags & !MSG_WAITALL)?;
        if a[4] != 0 {
            put_addr(t, a[4], a[5], &addr)?;
        }
        return Ok(n);
    }
    if let Some(s) = unix_dgram::of(&f) {
        return unix_dgram::recvfrom(t, s, &[(a[1], len)], flags, a[4], a[5]);
    }
    let n = unix(&f)?.recv(t, &[(a[1], len)], flags & !MSG_WAITALL)?;
    if a[4] != 0 && a[5] != 0 {
        // A connected stream socket reports no source address.
        t.mm.write_obj(UserAddr(a[5]), &0u32)?;
    }
    Ok(n)
}

/// The fields of a `struct msghdr` the Sentry uses.
struct MsgHdr {
    name: u64,
    namelen: u64,
    iov: Vec<(u64, usize)>,
    control: u64,
    controllen: u64,
}

fn msghdr(t: &Task, addr: u64) -> Result<MsgHdr, Errno> {
    // struct msghdr { void *name; socklen_t namelen; struct iovec *iov; size_t iovlen;
    //                 void *control; size_t controllen; int flags; }
    let raw: [u64; 7] = t.mm.read_obj(UserAddr(addr))?;
    Ok(MsgHdr {
        name: raw[0],
        namelen: raw[1] & 0xffff_ffff,
        iov: super::fs::iovecs(t, raw[2], raw[3])?,
        control: raw[4],
        controllen: raw[5],
    })
}

/// A control message: level, type, data.
pub type Cmsg = (i32, i32, Vec<u8>);

/// The control messages of a sendmsg control buffer of `len` bytes: (level, type, data), EINVAL
/// for a malformed header (Linux's __scm_send and cmsg_nxthdr checks).
fn read_cmsgs(t: &Task, control: u64, len: u64) -> Result<Vec<Cmsg>, Errno> {
    if len > 64 << 10 {
        bail!(ENOBUFS, "control buffer of {len} bytes");
    }
    let mut buf = vec![0u8; usize::try_from(len).unwrap_or(0)];
    t.mm.copy_in(UserAddr(control), &mut buf)?;
    let mut out = Vec::new();
    let mut at = 0usize;
    while at + CMSG_HDR <= buf.len() {
        let word = |o: usize| u64::from_ne_bytes(buf[o..o + 8].try_into().unwrap_or_default());
        let int = |o: usize| i32::from_ne_bytes(buf[o..o + 4].try_into().unwrap_or_default());
        let clen = usize::try_from(word(at)).unwrap_or(usize::MAX);
        if clen < CMSG_HDR || clen > buf.len() - at {
            bail!(EINVAL, "control message length {clen}");
        }
        out.push((
            int(at + 8),
            int(at + 12),
            buf[at + CMSG_HDR..at + clen].to_vec(),
        ));
        // CMSG_ALIGN: the next header starts 8-byte aligned.
        at += clen.div_ceil(8) * 8;
    }
    Ok(out)
}

/// Writes control messages the way Linux's put_cmsg does into `control` (`space` bytes): each
/// whole if it fits, else cut to what is left (its header's length says so) and MSG_CTRUNC, and
/// nothing once not even a header fits. Returns the bytes used and whether anything was cut.
fn put_cmsgs(t: &Task, control: u64, space: u64, msgs: &[Cmsg]) -> Result<(u64, bool), Errno> {
    let space = usize::try_from(space).unwrap_or(usize::MAX).min(64 << 10);
    let mut out: Vec<u8> = Vec::new();
    let mut truncated = false;
    for (level, ty, data) in msgs {
        let left = space - out.len();
        if left < CMSG_HDR {
            truncated = true;
            break;
        }
        let mut len = CMSG_HDR + data.len();
        if left < len {
            truncated = true;
            len = left;
        }
        let start = out.len();
        out.extend_from_slice(&(len as u64).to_ne_bytes());
        out.extend_from_slice(&level.to_ne_bytes());
        out.extend_from_slice(&ty.to_ne_bytes());
        out.extend_from_slice(&data[..len - CMSG_HDR]);
        // The next one starts CMSG_SPACE further on, or at the end of the buffer.
        let next = (start + (CMSG_HDR + data.len()).div_ceil(8) * 8).min(space);
        out.resize(next, 0);
    }
    t.mm.copy_out(UserAddr(control), &out)?;
    Ok((out.len() as u64, truncated))
}

/// The files of the SCM_RIGHTS messages in a sendmsg control buffer, after checking every
/// message as Linux's __scm_send does: EINVAL for a malformed header or an unknown type, EBADF
/// for a file that is not open, EPERM for credentials that are not the sender's. Messages of
/// other levels are ignored.
fn control_files(t: &Task, control: u64, len: u64) -> Result<Vec<Rc<File>>, Errno> {
    let mut files = Vec::new();
    for (level, ty, data) in read_cmsgs(t, control, len)? {
        if level != SOL_SOCKET {
            continue;
        }
        let int = |o: usize| i32::from_ne_bytes(data[o..o + 4].try_into().unwrap_or_default());
        match ty {
            SCM_RIGHTS => {
                let n = data.len() / 4;
                if n == 0 || files.len() + n > SCM_MAX_FD {
                    bail!(EINVAL, "SCM_RIGHTS with {n} files");
                }
                for i in 0..n {
                    let fd = int(i * 4);
                    files.push(t.fds.get(fd).ok_or_else(|| errno!(EBADF, "fd {fd}"))?);
                }
            }
            SCM_CREDENTIALS => {
                if data.len() != 12 {
                    bail!(EINVAL, "SCM_CREDENTIALS of {} bytes", data.len());
                }
                let (pid, uid, gid) = (int(0), int(4) as u32, int(8) as u32);
                let c = &t.creds;
                let root = c.euid == 0;
                let own = pid == t.tgid
                    && [c.ruid, c.euid, c.suid].contains(&uid)
                    && [c.rgid, c.egid, c.sgid].contains(&gid);
                if !own && !root {
                    bail!(EPERM, "credentials that are not the sender's");
                }
            }
            _ => bail!(EINVAL, "control message type {ty}"),
        }
    }
    Ok(files)
}

/// Writes the control messages of a receive into `control` (`space` bytes): SCM_CREDENTIALS
/// (with SO_PASSCRED), then SCM_RIGHTS with as many of `files` as fit, installed in the
/// receiver's table. Returns the bytes used and whether anything was cut (MSG_CTRUNC); files that
/// do not fit are closed.
fn put_control(
    t: &mut Task,
    control: u64,
    space: u64,
    cred: Option<(i32, u32, u32)>,
    files: Vec<Rc<File>>,
    cloexec: bool,
) -> Result<(u64, bool), Errno> {
    let space = usize::try_from(space).unwrap_or(usize::MAX).min(64 << 10);
    let mut out: Vec<u8> = Vec::new();
    let mut truncated = false;
    let header = |out: &mut Vec<u8>, len: usize, ty: i32| {
        out.extend_from_slice(&(len as u64).to_ne_bytes());
        out.extend_from_slice(&SOL_SOCKET.to_ne_bytes());
        out.extend_from_slice(&ty.to_ne_bytes());
    };
    if let Some((pid, uid, gid)) = cred {
        if space >= CMSG_HDR + 12 {
            header(&mut out, CMSG_HDR + 12, SCM_CREDENTIALS);
            out.extend_from_slice(&pid.to_ne_bytes());
            out.extend_from_slice(&uid.to_ne_bytes());
            out.extend_from_slice(&gid.to_ne_bytes());
            out.resize(out.len().div_ceil(8) * 8, 0);
        } else {
            truncated = true;
        }
    }
    if !files.is_empty() {
        let room = space.saturating_sub(out.len()).saturating_sub(CMSG_HDR) / 4;
        let fit = files.len().min(room);
        truncated |= fit < files.len();
        if fit > 0 {
            let limit = usize::try_from(t.rlimits[abi::RLIMIT_NOFILE].cur).unwrap_or(usize::MAX);
            let mut fds = Vec::new();
            for f in files.into_iter().take(fit) {
                match t.fds.install(f, cloexec, 0, limit) {
                    Some(fd) => fds.push(fd),
                    None => {
                        truncated = true;
                        break;
                    }
                }
            }
            if !fds.is_empty() {
                header(&mut out, CMSG_HDR + 4 * fds.len(), SCM_RIGHTS);
                for fd in &fds {
                    out.extend_from_slice(&fd.to_ne_bytes());
                }
                // The last message's padding is not counted (Linux's put_cmsg: CMSG_SPACE, cut
                // to what is left).
                let padded = out.len().div_ceil(8) * 8;
                out.resize(padded.min(space), 0);
            }
            if let Err(e) = t.mm.copy_out(UserAddr(control), &out) {
                for fd in fds {
                    t.fds.remove(fd);
                }
                return Err(e);
            }
            return Ok((out.len() as u64, truncated));
        }
    }
    t.mm.copy_out(UserAddr(control), &out)?;
    Ok((out.len() as u64, truncated))
}

pub fn sendmsg(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = sock(t, fd_arg(a[0]))?;
    let m = msghdr(t, a[1])?;
    if let Some(s) = netlink::of(&f) {
        return s.send(t, &m.iov);
    }
    if let Some(s) = inet::of(&f) {
        return inet::sendmsg(t, s, &m, int_arg(a[2]));
    }
    if let Some(s) = unix_dgram::of(&f) {
        return unix_dgram::sendmsg(t, s, &m, int_arg(a[2]));
    }
    let MsgHdr {
        name,
        iov,
        control,
        controllen,
        ..
    } = m;
    if name != 0 {
        bail!(EISCONN, "an address given to a connected socket");
    }
    let files = if controllen >= CMSG_HDR as u64 {
        control_files(t, control, controllen)?
    } else {
        Vec::new()
    };
    unix(&f)?.send_with_files(t, &iov, int_arg(a[2]), files)
}

pub fn recvmsg(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = sock(t, fd_arg(a[0]))?;
    let flags = int_arg(a[2]);
    let MsgHdr {
        name,
        namelen,
        iov,
        control,
        controllen,
    } = msghdr(t, a[1])?;
    if let Some(s) = netlink::of(&f) {
        let (n, truncated) = s.recv(t, &iov, flags & !(MSG_WAITALL | MSG_CMSG_CLOEXEC))?;
        if name != 0 {
            let addr = netlink::NetlinkSocket::source();
            let fit = addr.len().min(usize::try_from(namelen).unwrap_or(0));
            t.mm.copy_out(UserAddr(name), &addr[..fit])?;
            t.mm.write_obj(UserAddr(a[1] + 8), &(addr.len() as u32))?;
        }
        let _ = (control, controllen);
        t.mm.write_obj(UserAddr(a[1] + 40), &0u64)?;
        let out_flags = if truncated { MSG_TRUNC } else { 0 };
        t.mm.write_obj(UserAddr(a[1] + 48), &out_flags)?;
        return Ok(n);
    }
    if let Some(s) = inet::of(&f) {
        let fl = flags & !(MSG_WAITALL | MSG_CMSG_CLOEXEC);
        let (n, addr, truncated, cmsgs) = inet::recvmsg(t, s, &iov, fl)?;
        if name != 0 {
            // recvmsg's address: as much as fits, and its full length in msg_namelen.
            let fit = addr.len().min(usize::try_from(namelen).unwrap_or(0));
            t.mm.copy_out(UserAddr(name), &addr[..fit])?;
            t.mm.write_obj(UserAddr(a[1] + 8), &(addr.len() as u32))?;
        }
        let (used, ctrunc) = if cmsgs.is_empty() {
            (0, false)
        } else if control == 0 {
            (0, true)
        } else {
            put_cmsgs(t, control, controllen, &cmsgs)?
        };
        t.mm.write_obj(UserAddr(a[1] + 40), &used)?;
        let mut out_flags = if truncated { MSG_TRUNC } else { 0 };
        if ctrunc {
            out_flags |= MSG_CTRUNC;
        }
        t.mm.write_obj(UserAddr(a[1] + 48), &out_flags)?;
        return Ok(n);
    }
    if let Some(s) = unix_dgram::of(&f) {
        let m = MsgHdr {
            name,
            namelen,
            iov,
            control,
            controllen,
        };
        return unix_dgram::recvmsg(t, s, a[1], &m, flags);
    }
    let s = unix(&f)?;
    let (n, files) = s.recv_with_files(t, &iov, flags & !(MSG_WAITALL | MSG_CMSG_CLOEXEC))?;
    // No source address (a connected stream socket's peer is known).
    if name != 0 {
        t.mm.write_obj(UserAddr(a[1] + 8), &0u32)?;
    }
    let cred = s
        .passcred
        .get()
        .then(|| s.anc_rx.borrow().as_ref().map(|a| a.cred.get()))
        .flatten()
        .filter(|_| n > 0);
    let (used, truncated) = if control != 0 && controllen > 0 {
        put_control(
            t,
            control,
            controllen,
            cred,
            files,
            flags & MSG_CMSG_CLOEXEC != 0,
        )?
    } else {
        (0, cred.is_some() || !files.is_empty())
    };
    t.mm.write_obj(UserAddr(a[1] + 40), &used)?;
    let mut out_flags = if truncated { MSG_CTRUNC } else { 0 };
    if s.packets() && s.truncated.get() {
        out_flags |= MSG_TRUNC;
    }
    t.mm.write_obj(UserAddr(a[1] + 48), &out_flags)?;
    Ok(n)
}

pub fn shutdown(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = sock(t, fd_arg(a[0]))?;
    let how = int_arg(a[1]);
    if !(0..=2).contains(&how) {
        bail!(EINVAL, "shutdown how {how}");
    }
    if let Some(s) = inet::of(&f) {
        return s.shutdown(how);
    }
    if let Some(s) = unix_dgram::of(&f) {
        return s.shutdown(how);
    }
    unix(&f)?.shutdown_how(how)
}

impl UnixStream {
    /// shutdown(2) of a connected socket, `how` checked.
    fn shutdown_how(&self, how: i32) -> SysResult {
        if !self.connected.get() {
            bail!(ENOTCONN);
        }
        if how != 1 && !self.shut_rd.replace(true) {
            // The peer's writes fail from now on (EPIPE); what is queued stays readable.
            if let Some(rx) = self.rx.borrow().as_ref() {
                rx.pipe.readers.set(rx.pipe.readers.get().saturating_sub(1));
            }
        }
        if how != 0 {
            drop(self.tx.borrow_mut().take());
        }
        Ok(0)
    }
}

/// Writes an option value the getsockopt way: at most `*optlen` bytes, the length back.
fn put_opt(t: &Task, optval: u64, optlen: u64, v: &[u8]) -> SysResult {
    let len: i32 = t.mm.read_obj(UserAddr(optlen))?;
    if len < 0 {
        bail!(EINVAL, "negative optlen");
    }
    let n = v.len().min(usize::try_from(len).unwrap_or(0));
    t.mm.copy_out(UserAddr(optval), &v[..n])?;
    t.mm.write_obj(UserAddr(optlen), &(n as i32))?;
    Ok(0)
}

pub fn getsockopt(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = sock(t, fd_arg(a[0]))?;
    let (level, name) = (int_arg(a[1]), int_arg(a[2]));
    if let Some(s) = inet::of(&f) {
        return s.getsockopt(t, level, name, a[3], a[4]);
    }
    if let Some(s) = netlink::of(&f) {
        return s.getsockopt(t, level, name, a[3], a[4]);
    }
    if let Some(s) = unix_dgram::of(&f) {
        return s.getsockopt(t, level, name, a[3], a[4]);
    }
    let s = unix(&f)?;
    if level != SOL_SOCKET {
        bail!(EOPNOTSUPP, "option level {level}");
    }
    let int = |v: i32| v.to_ne_bytes().to_vec();
    let v = match name {
        libc::SO_TYPE => int(s.kind),
        libc::SO_ERROR => int(0),
        libc::SO_DOMAIN => int(AF_UNIX),
        libc::SO_PROTOCOL => int(0),
        libc::SO_ACCEPTCONN => int(i32::from(s.listening())),
        libc::SO_PASSCRED => int(i32::from(s.passcred.get())),
        libc::SO_SNDBUF => int(s.sndbuf.get().cast_signed()),
        libc::SO_RCVBUF => int(s.rcvbuf.get().cast_signed()),
        libc::SO_PEERCRED => {
            let (pid, uid, gid) = s.peer.get();
            let mut v = pid.to_ne_bytes().to_vec();
            v.extend_from_slice(&uid.to_ne_bytes());
            v.extend_from_slice(&gid.to_ne_bytes());
            v
        }
        _ => {
            t.k.log_partial(format!("getsockopt SOL_SOCKET option {name}"));
            bail!(ENOPROTOOPT, "socket option {name}");
        }
    };
    put_opt(t, a[3], a[4], &v)
}

pub fn setsockopt(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = sock(t, fd_arg(a[0]))?;
    let (level, name) = (int_arg(a[1]), int_arg(a[2]));
    if let Some(s) = inet::of(&f) {
        return s.setsockopt(t, level, name, a[3], a[4] & 0xffff_ffff);
    }
    if let Some(s) = netlink::of(&f) {
        return s.setsockopt(t, level, name);
    }
    if let Some(s) = unix_dgram::of(&f) {
        return s.setsockopt(t, level, name, a[3], a[4] & 0xffff_ffff);
    }
    let s = unix(&f)?;
    if level != SOL_SOCKET {
        bail!(EOPNOTSUPP, "option level {level}");
    }
    if (a[4] as u32) < 4 {
        bail!(EINVAL, "optlen");
    }
    let v: i32 = t.mm.read_obj(UserAddr(a[3]))?;
    // The kernel doubles a buffer size to leave room for its bookkeeping (SOCK_MIN_RCVBUF 2304,
    // SOCK_MIN_SNDBUF 4608), and caps it at net.core.[rw]mem_max (212992).
    let size = |v: i32, min: u32| (v.max(0).cast_unsigned().min(212_992) * 2).max(min);
    match name {
        libc::SO_PASSCRED => s.passcred.set(v != 0),
        libc::SO_SNDBUF => s.sndbuf.set(size(v, 4608)),
        libc::SO_RCVBUF => s.rcvbuf.set(size(v, 2304)),
        libc::SO_REUSEADDR | libc::SO_KEEPALIVE => {}
        _ => {
            t.k.log_partial(format!("setsockopt SOL_SOCKET option {name}"));
            bail!(ENOPROTOOPT, "socket option {name}");
        }
    }
    Ok(0)
}

/// A `struct sockaddr_un` for `name` (family only when unnamed), with Linux's length.
fn sockaddr(name: Option<&[u8]>) -> Vec<u8> {
    let mut v = (AF_UNIX as u16).to_ne_bytes().to_vec();
    if let Some(n) = name {
        v.extend_from_slice(n);
        if n.first() != Some(&0) {
            v.push(0); // a path is NUL-terminated; an abstract name is not
        }
    }
    v
}

/// Writes an address the accept/getsockname way: at most `*len` bytes, the full length back.
fn put_addr(t: &Task, addr: u64, len_addr: u64, v: &[u8]) -> Result<(), Errno> {
    if addr == 0 {
        return Ok(());
    }
    let len: i32 = t.mm.read_obj(UserAddr(len_addr))?;
    if len < 0 {
        bail!(EINVAL, "negative address length");
    }
    let n = v.len().min(usize::try_from(len).unwrap_or(0));
    t.mm.copy_out(UserAddr(addr), &v[..n])?;
    t.mm.write_obj(UserAddr(len_addr), &(v.len() as i32))?;
    Ok(())
}

pub fn getsockname(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = sock(t, fd_arg(a[0]))?;
    if let Some(s) = inet::of(&f) {
        return s.getsockname(t, a[1], a[2]);
    }
    if let Some(s) = netlink::of(&f) {
        return s.getsockname(t, a[1], a[2]);
    }
    if let Some(s) = unix_dgram::of(&f) {
        return s.getsockname(t, a[1], a[2]);
    }
    let name = unix(&f)?.name.borrow().clone();
    put_addr(t, a[1], a[2], &sockaddr(name.as_deref()))?;
    Ok(0)
}

pub fn getpeername(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = sock(t, fd_arg(a[0]))?;
    if let Some(s) = inet::of(&f) {
        return s.getpeername(t, a[1], a[2]);
    }
    if let Some(s) = unix_dgram::of(&f) {
        return s.getpeername(t, a[1], a[2]);
    }
    let s = unix(&f)?;
    if !s.connected.get() {
        bail!(ENOTCONN);
    }
    let name = s.peer_name.borrow().clone();
    put_addr(t, a[1], a[2], &sockaddr(name.as_deref()))?;
    Ok(0)
}

/// The name in a `struct sockaddr_un` of `len` bytes at `addr`: a path (up to its NUL), an
/// abstract name (a leading NUL, then every byte), or None for autobind (family only).
fn read_name(t: &Task, addr: u64, len: u64) -> Result<Option<Vec<u8>>, Errno> {
    let len = usize::try_from(len).unwrap_or(usize::MAX);
    if !(2..=110).contains(&len) {
        bail!(EINVAL, "address length {len}");
    }
    let mut raw = vec![0u8; len];
    t.mm.copy_in(UserAddr(addr), &mut raw)?;
    if u16::from_ne_bytes([raw[0], raw[1]]) != AF_UNIX as u16 {
        bail!(EINVAL, "not AF_UNIX");
    }
    let path = &raw[2..];
    if path.is_empty() {
        return Ok(None);
    }
    if path[0] == 0 {
        return Ok(Some(path.to_vec()));
    }
    let end = path.iter().position(|&c| c == 0).unwrap_or(path.len());
    Ok(Some(path[..end].to_vec()))
}

/// The key a bound name is registered under: an abstract name as is, a path as its socket
/// file's identity.
fn name_key(t: &mut Task, name: &[u8], create: bool) -> Result<Vec<u8>, Errno> {
    if name.first() == Some(&0) {
        return Ok(name.to_vec());
    }
    let node = if create {
        super::path::make_socket_node(t, name)?
    } else {
        super::path::find_socket_node(t, name)?
    };
    Ok(format!("/{}:{}", node.fs.dev, node.ino).into_bytes())
}

static AUTOBIND: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// Autobind: an abstract name of five hex digits.
fn autobind_name() -> Vec<u8> {
    let n = AUTOBIND.fetch_add(1, std::sync::atomic::Ordering::Relaxed) & 0xfffff;
    format!("\0{n:05x}").into_bytes()
}

/// Whether a socket of any type is bound to the abstract `name`.
fn abstract_taken(t: &Task, name: &[u8]) -> bool {
    t.k.unix_names
        .borrow()
        .get(name)
        .is_some_and(|w| w.strong_count() > 0)
        || t.k
            .unix_dgram
            .borrow()
            .get(name)
            .and_then(std::rc::Weak::upgrade)
            .is_some_and(|q| !q.closed_now())
}

pub fn bind(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = sock(t, fd_arg(a[0]))?;
    if let Some(s) = inet::of(&f) {
        return s.bind(t, a[1], a[2] & 0xffff_ffff);
    }
    if let Some(s) = netlink::of(&f) {
        return s.bind(t, a[1], a[2] & 0xffff_ffff);
    }
    if let Some(s) = unix_dgram::of(&f) {
        return s.bind(t, a[1], a[2] & 0xffff_ffff);
    }
    let s = unix(&f)?;
    let name = read_name(t, a[1], a[2])?;
    if s.name.borrow().is_some() || s.connected.get() {
        bail!(EINVAL, "already bound");
    }
    let name = match name {
        Some(n) => n,
        None => autobind_name(),
    };
    if name.first() == Some(&0) && abstract_taken(t, &name) {
        bail!(EADDRINUSE);
    }
    let key = name_key(t, &name, true)?;
    let l = Rc::new(Listener {
        listening: Cell::new(false),
        backlog: Cell::new(0),
        queue: RefCell::new(std::collections::VecDeque::new()),
        name: name.clone(),
        cred: Cell::new((t.tgid, t.creds.euid, t.creds.egid)),
        kind: s.kind,
    });
    t.k.unix_names.borrow_mut().insert(key, Rc::downgrade(&l));
    *s.listener.borrow_mut() = Some(l);
    *s.name.borrow_mut() = Some(name);
    Ok(0)
}

pub fn listen(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = sock(t, fd_arg(a[0]))?;
    if let Some(s) = inet::of(&f) {
        return s.listen(t, int_arg(a[1]));
    }
    if unix_dgram::of(&f).is_some() {
        bail!(EOPNOTSUPP, "listen on a datagram socket");
    }
    let s = unix(&f)?;
    if s.connected.get() {
        bail!(EINVAL, "connected");
    }
    let l = s.listener.borrow().clone();
    let Some(l) = l else {
        bail!(EINVAL, "not bound");
    };
    // net.core.somaxconn caps the backlog.
    let somaxconn = usize::try_from(t.k.sysctl.somaxconn).unwrap_or(usize::MAX);
    let backlog = usize::try_from(int_arg(a[1]).max(0))
        .unwrap_or(0)
        .min(somaxconn);
    l.backlog.set(backlog);
    l.listening.set(true);
    l.cred.set((t.tgid, t.creds.euid, t.creds.egid));
    Ok(0)
}

pub fn connect(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = sock(t, fd_arg(a[0]))?;
    if let Some(s) = inet::of(&f) {
        return s.connect(t, a[1], a[2] & 0xffff_ffff);
    }
    if let Some(s) = unix_dgram::of(&f) {
        return s.connect(t, a[1], a[2] & 0xffff_ffff);
    }
    let s = unix(&f)?;
    if s.connected.get() {
        bail!(EISCONN);
    }
    if s.listening() {
        bail!(EINVAL, "a listening socket");
    }
    let Some(name) = read_name(t, a[1], a[2])? else {
        bail!(EINVAL, "no address");
    };
    let key = match name_key(t, &name, false) {
        Ok(k) => k,
        Err(e) if e.code == libc::ENOENT && name.first() == Some(&0) => bail!(ECONNREFUSED),
        Err(e) => return Err(e),
    };
    let l = t.k.unix_names.borrow().get(&key).and_then(|w| w.upgrade());
    let Some(l) = l.filter(|l| l.listening.get()) else {
        bail!(ECONNREFUSED);
    };
    if l.kind != s.kind {
        // Abstract names are looked up with their type (none found); a socket file is found,
        // and then its type is wrong.
        if name.first() == Some(&0) {
            bail!(ECONNREFUSED, "no socket of this type has that name");
        }
        bail!(EPROTOTYPE, "a socket of another type listens there");
    }
    if l.queue.borrow().len() > l.backlog.get() {
        if s.nonblocking() {
            bail!(EAGAIN, "the listener's backlog is full");
        }
        return Err(Errno::new(crate::errors::EBLOCK));
    }
    let me = (t.tgid, t.creds.euid, t.creds.egid);
    let server = UnixStream::new(s.kind, false, me);
    UnixStream::connect_pair(s, &server);
    *server.name.borrow_mut() = Some(l.name.clone());
    *server.peer_name.borrow_mut() = s.name.borrow().clone();
    s.peer.set(l.cred.get());
    *s.peer_name.borrow_mut() = Some(l.name.clone());
    l.queue.borrow_mut().push_back(server);
    Ok(0)
}

pub fn accept4(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = sock(t, fd_arg(a[0]))?;
    let flags = int_arg(a[3]);
    if flags & !(libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC) != 0 {
        bail!(EINVAL, "accept4 flags {flags:#x}");
    }
    if let Some(s) = inet::of(&f) {
        return s.accept(t, a[1], a[2], flags);
    }
    if unix_dgram::of(&f).is_some() {
        bail!(EOPNOTSUPP, "accept on a datagram socket");
    }
    let s = unix(&f)?;
    let l = s.listener.borrow().clone();
    let Some(l) = l.filter(|l| l.listening.get()) else {
        bail!(EINVAL, "not listening");
    };
    let Some(conn) = l.queue.borrow_mut().pop_front() else {
        if s.nonblocking() {
            bail!(EAGAIN);
        }
        return Err(Errno::new(crate::errors::EBLOCK));
    };
    if flags & libc::SOCK_NONBLOCK != 0 {
        conn.flags.set(conn.flags.get() | libc::O_NONBLOCK as u32);
    }
    let peer = conn.peer_name.borrow().clone();
    let fd = super::eventfd::install(t, Box::new(conn), flags & libc::SOCK_CLOEXEC != 0)?;
    if let Err(e) = put_addr(t, a[1], a[2], &sockaddr(peer.as_deref())) {
        t.fds.remove(fd as i32);
        return Err(e);
    }
    Ok(fd)
}

pub fn accept(t: &mut Task, a: [u64; 6]) -> SysResult {
    accept4(t, [a[0], a[1], a[2], 0, 0, 0])
}

/// `struct mmsghdr`: a msghdr (56 bytes), then msg_len (and padding).
const MMSGHDR: u64 = 64;
/// UIO_MAXIOV: the most messages one call takes.
const MMSG_MAX: u64 = 1024;
const MSG_WAITFORONE: i32 = 0x10000;

/// sendmmsg: sendmsg for each message until one fails; the count sent (the first failure's
/// error if none was).
pub fn sendmmsg(t: &mut Task, a: [u64; 6]) -> SysResult {
    each_message(t, a, |t, hdr, _| sendmsg(t, [a[0], hdr, a[3], 0, 0, 0]))
}

/// recvmmsg: recvmsg for each message; after the first, only what is already there (as with
/// MSG_WAITFORONE: a blocking socket does not wait to fill every slot; the timeout argument is
/// not used).
pub fn recvmmsg(t: &mut Task, a: [u64; 6]) -> SysResult {
    let flags = int_arg(a[3]) & !MSG_WAITFORONE;
    each_message(t, a, |t, hdr, first| {
        let fl = if first { flags } else { flags | MSG_DONTWAIT };
        recvmsg(t, [a[0], hdr, fl as u64, 0, 0, 0])
    })
}

/// Runs `one` on each `struct mmsghdr` of the vector `a[1]` (`a[2]` of them), writing each
/// msg_len, until one fails: the count done, or the first one's error.
fn each_message(
    t: &mut Task,
    a: [u64; 6],
    mut one: impl FnMut(&mut Task, u64, bool) -> SysResult,
) -> SysResult {
    let vlen = (a[2] & 0xffff_ffff).min(MMSG_MAX);
    let mut done = 0;
    for i in 0..vlen {
        let hdr = a[1].wrapping_add(i * MMSGHDR);
        match one(t, hdr, done == 0) {
            Ok(n) => {
                t.mm.write_obj(UserAddr(hdr + 56), &(n as u32))?;
                done += 1;
            }
            Err(e) if done == 0 => return Err(e),
            Err(_) => break,
        }
    }
    Ok(done)
}
