//! Sockets, so far: connected pairs of Unix stream sockets (socketpair(AF_UNIX, SOCK_STREAM)),
//! each direction a pipe buffer in the Sentry, with send/recv and their msg forms, shutdown,
//! the common socket options, SO_PEERCRED, getsockname/getpeername.
//!
//! Not yet: socket() itself (every family is EAFNOSUPPORT: no bind, listen, connect or accept),
//! datagram and seqpacket pairs (ESOCKTNOSUPPORT), ancillary data (SCM_RIGHTS,
//! SCM_CREDENTIALS: EOPNOTSUPP), MSG_WAITALL (treated as a plain receive), MSG_OOB (EOPNOTSUPP).

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

const AF_UNIX: i32 = 1;
const SOCK_STREAM: i32 = 1;
const SOCK_TYPE_MASK: i32 = 0xf;
const SOL_SOCKET: i32 = 1;
const MSG_OOB: i32 = 0x1;
const MSG_PEEK: i32 = 0x2;
const MSG_TRUNC: i32 = 0x20;
const MSG_DONTWAIT: i32 = 0x40;
const MSG_WAITALL: i32 = 0x100;
const MSG_NOSIGNAL: i32 = 0x4000;
const MSG_CMSG_CLOEXEC: i32 = 0x4000_0000;
const POLLRDHUP: i16 = 0x2000;

/// One end of a connected Unix stream socket pair.
#[derive(Debug)]
pub struct UnixStream {
    /// The read end of the pipe from the peer (None after SHUT_RD).
    rx: RefCell<Option<PipeEnd>>,
    /// The write end of the pipe to the peer (None after SHUT_WR).
    tx: RefCell<Option<PipeEnd>>,
    flags: Cell<u32>,
    ino: u64,
    /// The peer's credentials at connection time (pid, uid, gid): SO_PEERCRED.
    peer: (i32, u32, u32),
    passcred: Cell<bool>,
    sndbuf: Cell<u32>,
    rcvbuf: Cell<u32>,
}

impl UnixStream {
    fn nonblock(&self, flags: i32) -> bool {
        self.nonblocking() || flags & MSG_DONTWAIT != 0
    }

    fn recv(&self, t: &mut Task, iov: &[(u64, usize)], flags: i32) -> SysResult {
        if flags & MSG_OOB != 0 {
            bail!(EOPNOTSUPP, "MSG_OOB on a Unix socket");
        }
        let rx = self.rx.borrow();
        let Some(rx) = rx.as_ref() else {
            return Ok(0); // shut down for reading
        };
        if flags & MSG_PEEK != 0 {
            return peek(t, rx, iov, self.nonblock(flags));
        }
        pipe_io_opts(t, rx, iov, Access::Write, self.nonblock(flags), false)
    }

    fn send(&self, t: &mut Task, iov: &[(u64, usize)], flags: i32) -> SysResult {
        if flags & MSG_OOB != 0 {
            bail!(EOPNOTSUPP, "MSG_OOB on a Unix socket");
        }
        let tx = self.tx.borrow();
        let Some(tx) = tx.as_ref() else {
            if flags & MSG_NOSIGNAL == 0 {
                let info = crate::kernel::signal::SigInfo {
                    code: crate::kernel::signal::SI_USER,
                    pid: t.tgid,
                    uid: t.creds.ruid,
                    ..Default::default()
                };
                crate::kernel::signal::raise(t, abi::signal::SIGPIPE, info);
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

/// MSG_PEEK: copies what is buffered into `iov` without taking it; waits like a read.
fn peek(t: &mut Task, rx: &PipeEnd, iov: &[(u64, usize)], nonblock: bool) -> SysResult {
    let data: Vec<u8> = {
        let buf = rx.pipe.buf.borrow();
        let want: usize = iov.iter().map(|r| r.1).sum();
        buf.iter().take(want).copied().collect()
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
        abi::Stat {
            dev: 0x08,
            ino: self.ino,
            nlink: 1,
            mode: crate::vfs::S_IFSOCK | 0o777,
            uid,
            gid,
            blksize: 4096,
            ..abi::Stat::default()
        }
    }

    fn flags(&self) -> &Cell<u32> {
        &self.flags
    }

    fn poll(&self, _t: &Task) -> i16 {
        let mut ev = 0;
        let rx = self.rx.borrow();
        let tx = self.tx.borrow();
        let peer_gone = rx.as_ref().is_none_or(|r| r.pipe.writers.get() == 0);
        if let Some(r) = rx.as_ref() {
            if r.available() > 0 {
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
        self.send(t, iov, 0)
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn readable_bytes(&self) -> Option<usize> {
        Some(self.rx.borrow().as_ref().map_or(0, |r| r.available()))
    }
}

pub fn socket(t: &mut Task, a: [u64; 6]) -> SysResult {
    let domain = int_arg(a[0]);
    t.k.log_partial(format!(
        "socket(domain {domain}): sockets by name and network sockets are not implemented"
    ));
    bail!(EAFNOSUPPORT, "socket domain {domain}");
}

pub fn socketpair(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (domain, ty, proto) = (int_arg(a[0]), int_arg(a[1]), int_arg(a[2]));
    if domain != AF_UNIX {
        bail!(EOPNOTSUPP, "socketpair domain {domain}");
    }
    let flags = ty & !SOCK_TYPE_MASK;
    if flags & !(libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC) != 0 {
        bail!(EINVAL, "socket flags {flags:#x}");
    }
    if proto != 0 && proto != AF_UNIX {
        bail!(EPROTONOSUPPORT, "protocol {proto}");
    }
    match ty & SOCK_TYPE_MASK {
        SOCK_STREAM => {}
        2 | 5 => {
            t.k.log_partial("socketpair of datagram or seqpacket Unix sockets".into());
            bail!(
                ESOCKTNOSUPPORT,
                "Unix datagram/seqpacket pairs are not implemented"
            );
        }
        other => bail!(ESOCKTNOSUPPORT, "socket type {other}"),
    }
    // Check the result array is writable first: nothing is left behind on EFAULT.
    if !t.mm.is_writable(a[3], 8) {
        bail!(EFAULT);
    }
    let nonblock = if flags & libc::SOCK_NONBLOCK != 0 {
        libc::O_NONBLOCK as u32
    } else {
        0
    };
    let (r1, w1) = new_pipe(false);
    let (r2, w2) = new_pipe(false);
    let me = (t.tgid, t.creds.euid, t.creds.egid);
    let end = |rx: PipeEnd, tx: PipeEnd| UnixStream {
        rx: RefCell::new(Some(rx)),
        tx: RefCell::new(Some(tx)),
        flags: Cell::new(libc::O_RDWR as u32 | nonblock),
        ino: anon_ino(),
        peer: me,
        passcred: Cell::new(false),
        sndbuf: Cell::new(212_992),
        rcvbuf: Cell::new(212_992),
    };
    let a_end = end(r1, w2);
    let b_end = end(r2, w1);
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
        File::Anon(a) if a.as_any().is::<UnixStream>() => Ok(f),
        _ => Err(errno!(ENOTSOCK)),
    }
}

fn unix(f: &File) -> &UnixStream {
    match f {
        File::Anon(a) => a.as_any().downcast_ref::<UnixStream>(),
        _ => None,
    }
    .unwrap_or_else(|| unreachable!("checked by sock"))
}

pub fn sendto(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = sock(t, fd_arg(a[0]))?;
    if a[4] != 0 {
        bail!(EISCONN, "an address given to a connected socket");
    }
    let len = usize::try_from(a[2])
        .unwrap_or(usize::MAX)
        .min(abi::MAX_RW_COUNT);
    unix(&f).send(t, &[(a[1], len)], int_arg(a[3]))
}

pub fn recvfrom(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = sock(t, fd_arg(a[0]))?;
    let flags = int_arg(a[3]);
    let len = usize::try_from(a[2])
        .unwrap_or(usize::MAX)
        .min(abi::MAX_RW_COUNT);
    let n = unix(&f).recv(t, &[(a[1], len)], flags & !(MSG_WAITALL | MSG_TRUNC))?;
    if a[4] != 0 && a[5] != 0 {
        // A connected stream socket reports no source address.
        t.mm.write_obj(UserAddr(a[5]), &0u32)?;
    }
    Ok(n)
}

/// The fields of a `struct msghdr` the Sentry uses.
struct MsgHdr {
    name: u64,
    iov: Vec<(u64, usize)>,
    controllen: u64,
}

fn msghdr(t: &Task, addr: u64) -> Result<MsgHdr, Errno> {
    // struct msghdr { void *name; socklen_t namelen; struct iovec *iov; size_t iovlen;
    //                 void *control; size_t controllen; int flags; }
    let raw: [u64; 7] = t.mm.read_obj(UserAddr(addr))?;
    Ok(MsgHdr {
        name: raw[0],
        iov: super::fs::iovecs(t, raw[2], raw[3])?,
        controllen: raw[5],
    })
}

pub fn sendmsg(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = sock(t, fd_arg(a[0]))?;
    let MsgHdr {
        name,
        iov,
        controllen,
    } = msghdr(t, a[1])?;
    if name != 0 {
        bail!(EISCONN, "an address given to a connected socket");
    }
    if controllen != 0 {
        t.k.log_partial("sendmsg with ancillary data (SCM_RIGHTS, SCM_CREDENTIALS)".into());
        bail!(EOPNOTSUPP, "ancillary data is not implemented");
    }
    unix(&f).send(t, &iov, int_arg(a[2]))
}

pub fn recvmsg(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = sock(t, fd_arg(a[0]))?;
    let flags = int_arg(a[2]);
    let MsgHdr { name, iov, .. } = msghdr(t, a[1])?;
    let n = unix(&f).recv(
        t,
        &iov,
        flags & !(MSG_WAITALL | MSG_TRUNC | MSG_CMSG_CLOEXEC),
    )?;
    // No source address, no control data, no flags.
    if name != 0 {
        t.mm.write_obj(UserAddr(a[1] + 8), &0u32)?;
    }
    t.mm.write_obj(UserAddr(a[1] + 40), &0u64)?;
    t.mm.write_obj(UserAddr(a[1] + 48), &0i32)?;
    Ok(n)
}

pub fn shutdown(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = sock(t, fd_arg(a[0]))?;
    let s = unix(&f);
    match int_arg(a[1]) {
        0 => drop(s.rx.borrow_mut().take()),
        1 => drop(s.tx.borrow_mut().take()),
        2 => {
            drop(s.rx.borrow_mut().take());
            drop(s.tx.borrow_mut().take());
        }
        how => bail!(EINVAL, "shutdown how {how}"),
    }
    Ok(0)
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
    let s = unix(&f);
    let (level, name) = (int_arg(a[1]), int_arg(a[2]));
    if level != SOL_SOCKET {
        bail!(EOPNOTSUPP, "option level {level}");
    }
    let int = |v: i32| v.to_ne_bytes().to_vec();
    let v = match name {
        libc::SO_TYPE => int(SOCK_STREAM),
        libc::SO_ERROR => int(0),
        libc::SO_DOMAIN => int(AF_UNIX),
        libc::SO_PROTOCOL => int(0),
        libc::SO_ACCEPTCONN => int(0),
        libc::SO_PASSCRED => int(i32::from(s.passcred.get())),
        libc::SO_SNDBUF => int(s.sndbuf.get().cast_signed()),
        libc::SO_RCVBUF => int(s.rcvbuf.get().cast_signed()),
        libc::SO_PEERCRED => {
            let (pid, uid, gid) = s.peer;
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
    let s = unix(&f);
    let (level, name) = (int_arg(a[1]), int_arg(a[2]));
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

/// getsockname/getpeername: the ends of a pair have no names (sa_family only).
fn unnamed(t: &mut Task, a: [u64; 6]) -> SysResult {
    sock(t, fd_arg(a[0]))?;
    put_opt(t, a[1], a[2], &(AF_UNIX as u16).to_ne_bytes())
}

pub fn getsockname(t: &mut Task, a: [u64; 6]) -> SysResult {
    unnamed(t, a)
}

pub fn getpeername(t: &mut Task, a: [u64; 6]) -> SysResult {
    unnamed(t, a)
}
