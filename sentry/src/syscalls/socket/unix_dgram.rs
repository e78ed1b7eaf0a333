//! Unix datagram sockets made by socket(2): each has a receive queue of messages, each message
//! with its sender's address, credentials and files. A socket sends to the name given
//! (sendto, sendmsg) or to the one it connected to; a socket connected elsewhere refuses other
//! senders (EPERM, as Linux's unix_may_send); a full queue makes senders wait (or EAGAIN).
//! Names are the sandbox's own (paths in its filesystem, abstract names), shared with stream
//! sockets. (socketpair(SOCK_DGRAM) pairs are connections: see the parent module.)

use super::{
    control_files, put_addr, put_control, put_opt, raise_sigpipe, read_name, sockaddr, socket_stat,
    MsgHdr, AF_UNIX, CMSG_HDR, MSG_CMSG_CLOEXEC, MSG_CTRUNC, MSG_DONTWAIT, MSG_NOSIGNAL, MSG_OOB,
    MSG_PEEK, MSG_TRUNC, MSG_WAITALL, SOCK_DGRAM, SOL_SOCKET,
};
use crate::bail;
use crate::errors::{Errno, SysResult, EBLOCK};
use crate::kernel::fd::{Anon, File};
use crate::kernel::Task;
use crate::mm::UserAddr;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::{Rc, Weak};

/// net.unix.max_dgram_qlen: a queue this long makes senders wait.
const MAX_QLEN: usize = 512;
/// The default send buffer; a message must fit in it less 32 bytes (EMSGSIZE).
const SNDBUF: usize = 212_992;

/// One message in a queue.
#[derive(Debug)]
struct Dgram {
    data: Vec<u8>,
    /// The sender's name, if it was bound.
    from: Option<Vec<u8>>,
    cred: (i32, u32, u32),
    files: Vec<Rc<File>>,
}

/// A socket's receive queue: what others hold to send to it.
#[derive(Debug, Default)]
pub struct DgramQueue {
    msgs: RefCell<VecDeque<Dgram>>,
    bytes: Cell<usize>,
    /// The socket is gone (its last fd closed).
    closed: Cell<bool>,
    /// SHUT_RD: senders get EPIPE.
    shut_rd: Cell<bool>,
    /// The queue of the socket it is connected to: only that one may send to it.
    peer: RefCell<Option<Weak<DgramQueue>>>,
    generation: Cell<u64>,
}

impl DgramQueue {
    /// Its socket is gone.
    pub fn closed_now(&self) -> bool {
        self.closed.get()
    }

    fn full(&self, len: usize) -> bool {
        self.msgs.borrow().len() >= MAX_QLEN || self.bytes.get() + len > SNDBUF
    }

    fn changed(&self) {
        self.generation.set(self.generation.get() + 1);
    }
}

/// An unconnected (or connect(2)ed) Unix datagram socket.
#[derive(Debug)]
pub struct UnixDgram {
    q: Rc<DgramQueue>,
    flags: Cell<u32>,
    ino: u64,
    name: RefCell<Option<Vec<u8>>>,
    /// The socket connect(2) named: its queue and name.
    peer: RefCell<Option<(Weak<DgramQueue>, Vec<u8>)>>,
    passcred: Cell<bool>,
    sndbuf: Cell<u32>,
    rcvbuf: Cell<u32>,
    shut_wr: Cell<bool>,
    truncated: Cell<bool>,
}

impl Drop for UnixDgram {
    fn drop(&mut self) {
        self.q.closed.set(true);
        // Files in flight to it are closed.
        self.q.msgs.borrow_mut().clear();
        self.q.changed();
    }
}

/// The datagram socket behind a socket file, if it is one.
pub fn of(f: &File) -> Option<&UnixDgram> {
    match f {
        File::Anon(a) => a.as_any().downcast_ref::<UnixDgram>(),
        _ => None,
    }
}

pub fn new(nonblock: bool) -> UnixDgram {
    UnixDgram {
        q: Rc::default(),
        flags: Cell::new(libc::O_RDWR as u32 | if nonblock { libc::O_NONBLOCK as u32 } else { 0 }),
        ino: super::anon_ino(),
        name: RefCell::new(None),
        peer: RefCell::new(None),
        passcred: Cell::new(false),
        sndbuf: Cell::new(SNDBUF as u32),
        rcvbuf: Cell::new(SNDBUF as u32),
        shut_wr: Cell::new(false),
        truncated: Cell::new(false),
    }
}

/// The queue a name is bound to by a datagram socket: Err(ECONNREFUSED) if nothing is (or it is
/// gone), EPROTOTYPE if a socket of another type has it, ENOENT for a missing path.
fn lookup(t: &mut Task, name: &[u8]) -> Result<Rc<DgramQueue>, Errno> {
    let key = match super::name_key(t, name, false) {
        Ok(k) => k,
        Err(e) if e.code == libc::ENOENT && name.first() == Some(&0) => bail!(ECONNREFUSED),
        Err(e) => return Err(e),
    };
    if let Some(q) = t.k.unix_dgram.borrow().get(&key).and_then(Weak::upgrade) {
        if !q.closed.get() {
            return Ok(q);
        }
    }
    let stream =
        t.k.unix_names
            .borrow()
            .get(&key)
            .is_some_and(|w| w.strong_count() > 0);
    if stream && name.first() != Some(&0) {
        bail!(EPROTOTYPE, "a socket of another type has that name");
    }
    bail!(ECONNREFUSED, "no datagram socket has that name")
}

impl UnixDgram {
    fn nonblock(&self, flags: i32) -> bool {
        self.nonblocking() || flags & MSG_DONTWAIT != 0
    }

    pub fn bind(&self, t: &mut Task, addr: u64, len: u64) -> SysResult {
        let name = read_name(t, addr, len)?;
        if self.name.borrow().is_some() {
            // A path that exists is EADDRINUSE first (Linux makes the node before it looks).
            if let Some(n) = name.as_ref().filter(|n| n.first() != Some(&0)) {
                if super::super::path::find_socket_node(t, n).is_ok() {
                    bail!(EADDRINUSE);
                }
            }
            bail!(EINVAL, "already bound");
        }
        let name = match name {
            Some(n) => n,
            None => super::autobind_name(),
        };
        if name.first() == Some(&0) && super::abstract_taken(t, &name) {
            bail!(EADDRINUSE);
        }
        let key = super::name_key(t, &name, true)?;
        t.k.unix_dgram
            .borrow_mut()
            .insert(key, Rc::downgrade(&self.q));
        *self.name.borrow_mut() = Some(name);
        Ok(0)
    }

    pub fn connect(&self, t: &mut Task, addr: u64, len: u64) -> SysResult {
        // AF_UNSPEC dissolves the association.
        let family: u16 = t.mm.read_obj(UserAddr(addr))?;
        if family == libc::AF_UNSPEC as u16 && len >= 2 {
            *self.peer.borrow_mut() = None;
            *self.q.peer.borrow_mut() = None;
            return Ok(0);
        }
        let Some(name) = read_name(t, addr, len)? else {
            bail!(EINVAL, "no address");
        };
        let target = lookup(t, &name)?;
        if !may_send(&self.q, &target) {
            bail!(EPERM, "that socket is connected to another");
        }
        *self.q.peer.borrow_mut() = Some(Rc::downgrade(&target));
        *self.peer.borrow_mut() = Some((Rc::downgrade(&target), name));
        Ok(0)
    }

    /// sendmsg: to `to` (a name), or to the connected peer.
    fn send(
        &self,
        t: &mut Task,
        iov: &[(u64, usize)],
        to: Option<Vec<u8>>,
        flags: i32,
        files: Vec<Rc<File>>,
    ) -> SysResult {
        if flags & MSG_OOB != 0 {
            bail!(EOPNOTSUPP, "MSG_OOB on a datagram socket");
        }
        let len: usize = iov.iter().map(|r| r.1).sum();
        let target = match &to {
            Some(name) => lookup(t, name)?,
            None => {
                let peer = self.peer.borrow().as_ref().map(|p| p.0.clone());
                let Some(w) = peer else {
                    bail!(ENOTCONN);
                };
                match w.upgrade().filter(|q| !q.closed.get()) {
                    Some(q) => q,
                    None => {
                        // The peer is gone: the association dissolves (unix_dgram_disconnected).
                        *self.peer.borrow_mut() = None;
                        *self.q.peer.borrow_mut() = None;
                        bail!(ECONNREFUSED, "the peer is closed");
                    }
                }
            }
        };
        if self.shut_wr.get() {
            if flags & MSG_NOSIGNAL == 0 {
                raise_sigpipe(t);
            }
            bail!(EPIPE, "shut down for writing");
        }
        if len > self.sndbuf.get() as usize - 32 {
            bail!(EMSGSIZE, "a {len}-byte datagram");
        }
        if !may_send(&self.q, &target) {
            bail!(EPERM, "the receiver is connected to another socket");
        }
        if target.shut_rd.get() {
            bail!(EPIPE, "the receiver shut down reading");
        }
        if target.full(len) {
            if self.nonblock(flags) {
                bail!(EAGAIN);
            }
            return Err(Errno::new(EBLOCK));
        }
        let mut data = Vec::with_capacity(len);
        for &(addr, n) in iov {
            let at = data.len();
            data.resize(at + n, 0);
            t.mm.copy_in(UserAddr(addr), &mut data[at..])?;
        }
        target.bytes.set(target.bytes.get() + data.len());
        target.msgs.borrow_mut().push_back(Dgram {
            data,
            from: self.name.borrow().clone(),
            cred: (t.tgid, t.creds.euid, t.creds.egid),
            files,
        });
        target.changed();
        Ok(len as u64)
    }

    /// Takes (or with MSG_PEEK, looks at) the next message into `iov`: the bytes copied (the
    /// message's length with MSG_TRUNC), its sender's name, credentials and files.
    #[allow(clippy::type_complexity)]
    fn recv(
        &self,
        t: &mut Task,
        iov: &[(u64, usize)],
        flags: i32,
    ) -> Result<(u64, Option<Vec<u8>>, (i32, u32, u32), Vec<Rc<File>>), Errno> {
        if flags & MSG_OOB != 0 {
            bail!(EOPNOTSUPP, "MSG_OOB on a datagram socket");
        }
        let peek = flags & MSG_PEEK != 0;
        let (len, n) = {
            let msgs = self.q.msgs.borrow();
            let Some(m) = msgs.front() else {
                drop(msgs);
                // Not waiting comes first: a shut-down socket still says EAGAIN then.
                if self.nonblock(flags) {
                    bail!(EAGAIN);
                }
                if self.q.shut_rd.get() {
                    return Ok((0, None, (0, 0, 0), Vec::new()));
                }
                return Err(Errno::new(EBLOCK));
            };
            let want: usize = iov.iter().map(|r| r.1).sum();
            (m.data.len(), want.min(m.data.len()))
        };
        // Copy first: a bad buffer leaves the message queued.
        {
            let msgs = self.q.msgs.borrow();
            let data = msgs.front().map(|m| &m.data[..n]).unwrap_or_default();
            let mut done = 0;
            for &(addr, l) in iov {
                if done == n {
                    break;
                }
                let k = l.min(n - done);
                t.mm.copy_out(UserAddr(addr), &data[done..done + k])?;
                done += k;
            }
        }
        self.truncated.set(n < len);
        let got = if flags & MSG_TRUNC != 0 { len } else { n } as u64;
        let m = if peek {
            let msgs = self.q.msgs.borrow();
            let m = msgs
                .front()
                .map(|m| (m.from.clone(), m.cred, m.files.clone()));
            m.unwrap_or((None, (0, 0, 0), Vec::new()))
        } else {
            let m = self.q.msgs.borrow_mut().pop_front();
            match m {
                Some(m) => {
                    self.q
                        .bytes
                        .set(self.q.bytes.get().saturating_sub(m.data.len()));
                    (m.from, m.cred, m.files)
                }
                None => (None, (0, 0, 0), Vec::new()),
            }
        };
        self.q.changed();
        Ok((got, m.0, m.1, m.2))
    }

    pub fn shutdown(&self, how: i32) -> SysResult {
        if how != 1 {
            self.q.shut_rd.set(true);
        }
        if how != 0 {
            self.shut_wr.set(true);
        }
        self.q.changed();
        Ok(0)
    }

    pub fn getsockopt(&self, t: &mut Task, level: i32, name: i32, val: u64, len: u64) -> SysResult {
        if level != SOL_SOCKET {
            bail!(EOPNOTSUPP, "option level {level}");
        }
        let int = |v: i32| v.to_ne_bytes().to_vec();
        let v = match name {
            libc::SO_TYPE => int(SOCK_DGRAM),
            libc::SO_ERROR => int(0),
            libc::SO_DOMAIN => int(AF_UNIX),
            libc::SO_PROTOCOL | libc::SO_ACCEPTCONN => int(0),
            libc::SO_PASSCRED => int(i32::from(self.passcred.get())),
            libc::SO_SNDBUF => int(self.sndbuf.get().cast_signed()),
            libc::SO_RCVBUF => int(self.rcvbuf.get().cast_signed()),
            // A datagram socket has no peer credentials: pid 0, uid and gid -1.
            libc::SO_PEERCRED => {
                let mut v = 0i32.to_ne_bytes().to_vec();
                v.extend_from_slice(&u32::MAX.to_ne_bytes());
                v.extend_from_slice(&u32::MAX.to_ne_bytes());
                v
            }
            _ => {
                t.k.log_partial(format!("getsockopt SOL_SOCKET option {name}"));
                bail!(ENOPROTOOPT, "socket option {name}");
            }
        };
        put_opt(t, val, len, &v)
    }

    pub fn setsockopt(&self, t: &mut Task, level: i32, name: i32, val: u64, len: u64) -> SysResult {
        if level != SOL_SOCKET {
            bail!(EOPNOTSUPP, "option level {level}");
        }
        if len < 4 {
            bail!(EINVAL, "optlen");
        }
        let v: i32 = t.mm.read_obj(UserAddr(val))?;
        let size = |v: i32, min: u32| (v.max(0).cast_unsigned().min(212_992) * 2).max(min);
        match name {
            libc::SO_PASSCRED => self.passcred.set(v != 0),
            libc::SO_SNDBUF => self.sndbuf.set(size(v, 4608)),
            libc::SO_RCVBUF => self.rcvbuf.set(size(v, 2304)),
            libc::SO_REUSEADDR => {}
            _ => {
                t.k.log_partial(format!("setsockopt SOL_SOCKET option {name}"));
                bail!(ENOPROTOOPT, "socket option {name}");
            }
        }
        Ok(0)
    }

    pub fn getsockname(&self, t: &mut Task, addr: u64, len: u64) -> SysResult {
        let name = self.name.borrow().clone();
        put_addr(t, addr, len, &sockaddr(name.as_deref()))?;
        Ok(0)
    }

    pub fn getpeername(&self, t: &mut Task, addr: u64, len: u64) -> SysResult {
        let peer = self.peer.borrow().as_ref().map(|p| p.1.clone());
        let Some(name) = peer else {
            bail!(ENOTCONN);
        };
        put_addr(t, addr, len, &sockaddr(Some(&name)))?;
        Ok(0)
    }
}

/// Whether `from` may send to `to`: `to` is connected to nobody or to `from` (unix_may_send).
fn may_send(from: &Rc<DgramQueue>, to: &Rc<DgramQueue>) -> bool {
    match to.peer.borrow().as_ref().and_then(Weak::upgrade) {
        Some(p) => Rc::ptr_eq(&p, from) || p.closed.get(),
        None => true,
    }
}

pub(super) fn sendto(
    t: &mut Task,
    s: &UnixDgram,
    iov: &[(u64, usize)],
    flags: i32,
    name: u64,
    len: u64,
) -> SysResult {
    let to = if name != 0 {
        match read_name(t, name, len)? {
            Some(n) => Some(n),
            None => bail!(EINVAL, "no address"),
        }
    } else {
        None
    };
    s.send(t, iov, to, flags, Vec::new())
}

pub(super) fn sendmsg(t: &mut Task, s: &UnixDgram, m: &MsgHdr, flags: i32) -> SysResult {
    let files = if m.controllen >= CMSG_HDR as u64 {
        control_files(t, m.control, m.controllen)?
    } else {
        Vec::new()
    };
    let to = if m.name != 0 && m.namelen != 0 {
        match read_name(t, m.name, m.namelen)? {
            Some(n) => Some(n),
            None => bail!(EINVAL, "no address"),
        }
    } else {
        None
    };
    s.send(t, &m.iov, to, flags, files)
}

/// recvfrom: the bytes, and the sender's address written to `name` (length 0 for an unbound
/// sender).
pub(super) fn recvfrom(
    t: &mut Task,
    s: &UnixDgram,
    iov: &[(u64, usize)],
    flags: i32,
    name: u64,
    len: u64,
) -> SysResult {
    let (n, from, _, _) = s.recv(t, iov, flags & !MSG_WAITALL)?;
    if name != 0 {
        match from {
            Some(f) => put_addr(t, name, len, &sockaddr(Some(&f)))?,
            None => t.mm.write_obj(UserAddr(len), &0u32)?,
        }
    }
    Ok(n)
}

/// recvmsg into the `struct msghdr` at `hdr` (already read as `m`).
pub(super) fn recvmsg(t: &mut Task, s: &UnixDgram, hdr: u64, m: &MsgHdr, flags: i32) -> SysResult {
    let (n, from, cred, files) = s.recv(t, &m.iov, flags & !(MSG_WAITALL | MSG_CMSG_CLOEXEC))?;
    if m.name != 0 {
        let addr = from
            .as_deref()
            .map(|f| sockaddr(Some(f)))
            .unwrap_or_default();
        let fit = addr.len().min(usize::try_from(m.namelen).unwrap_or(0));
        t.mm.copy_out(UserAddr(m.name), &addr[..fit])?;
        t.mm.write_obj(UserAddr(hdr + 8), &(addr.len() as u32))?;
    }
    let cred = s.passcred.get().then_some(cred);
    let (used, ctrunc) = if m.control != 0 && m.controllen > 0 {
        put_control(
            t,
            m.control,
            m.controllen,
            cred,
            files,
            flags & MSG_CMSG_CLOEXEC != 0,
        )?
    } else {
        (0, cred.is_some() || !files.is_empty())
    };
    t.mm.write_obj(UserAddr(hdr + 40), &used)?;
    let mut out_flags = if ctrunc { MSG_CTRUNC } else { 0 };
    if s.truncated.get() {
        out_flags |= MSG_TRUNC;
    }
    t.mm.write_obj(UserAddr(hdr + 48), &out_flags)?;
    Ok(n)
}

impl Anon for UnixDgram {
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
        let mut ev = 0;
        if !self.q.msgs.borrow().is_empty() || self.q.shut_rd.get() {
            ev |= libc::POLLIN | libc::POLLRDNORM;
        }
        if self.q.shut_rd.get() {
            ev |= super::POLLRDHUP;
        }
        if self.q.shut_rd.get() && self.shut_wr.get() {
            ev |= libc::POLLHUP;
        }
        // Writable unless the connected peer's queue is full (unconnected: always).
        let peer = self.peer.borrow().as_ref().and_then(|p| p.0.upgrade());
        if peer.is_none_or(|q| q.closed.get() || !q.full(1)) {
            ev |= libc::POLLOUT | libc::POLLWRNORM | libc::POLLWRBAND;
        }
        ev
    }

    fn read(&self, t: &mut Task, iov: &[(u64, usize)]) -> SysResult {
        self.recv(t, iov, 0).map(|r| r.0)
    }

    fn write(&self, t: &mut Task, iov: &[(u64, usize)]) -> SysResult {
        self.send(t, iov, None, 0, Vec::new())
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn generation(&self) -> u64 {
        let peer = self.peer.borrow().as_ref().and_then(|p| p.0.upgrade());
        self.q.generation.get() + peer.map_or(0, |q| q.generation.get())
    }

    /// FIONREAD: the size of the next message.
    fn readable_bytes(&self) -> Option<usize> {
        Some(self.q.msgs.borrow().front().map_or(0, |m| m.data.len()))
    }
}
