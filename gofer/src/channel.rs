//! One end of the Sentry–Gofer socket: a `SOCK_SEQPACKET` Unix socket carrying one message per
//! packet, with at most one fd attached (`SCM_RIGHTS`).

use crate::proto::MAX_MESSAGE;
use nix::sys::socket::{
    recvmsg, sendmsg, socketpair, AddressFamily, ControlMessage, ControlMessageOwned, MsgFlags,
    SockFlag, SockType,
};
use std::io::{self, IoSlice, IoSliceMut};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

/// A connected packet socket.
pub struct Channel {
    sock: OwnedFd,
    /// The receive buffer, kept from one message to the next: a fresh one would be 64 KiB
    /// allocated and zeroed per message, for replies of a few dozen bytes.
    buf: std::sync::Mutex<Vec<u8>>,
}

impl std::fmt::Debug for Channel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Channel").field("sock", &self.sock).finish()
    }
}

/// A pair of connected channels (close-on-exec).
pub fn pair() -> io::Result<(Channel, Channel)> {
    let (a, b) = socketpair(
        AddressFamily::Unix,
        SockType::SeqPacket,
        None,
        SockFlag::SOCK_CLOEXEC,
    )?;
    Ok((Channel::from_fd(a), Channel::from_fd(b)))
}

impl Channel {
    pub fn from_fd(sock: OwnedFd) -> Channel {
        Channel {
            sock,
            buf: std::sync::Mutex::new(Vec::new()),
        }
    }

    pub fn fd(&self) -> BorrowedFd<'_> {
        self.sock.as_fd()
    }

    pub fn into_fd(self) -> OwnedFd {
        self.sock
    }

    /// Sends one message, with `fd` attached if given.
    pub fn send(&self, msg: &[u8], fd: Option<BorrowedFd<'_>>) -> io::Result<()> {
        let iov = [IoSlice::new(msg)];
        let fds;
        let cmsgs: &[ControlMessage<'_>] = match fd {
            Some(fd) => {
                fds = [fd.as_raw_fd()];
                &[ControlMessage::ScmRights(&fds)]
            }
            None => &[],
        };
        loop {
            match sendmsg::<()>(
                self.sock.as_raw_fd(),
                &iov,
                cmsgs,
                MsgFlags::MSG_NOSIGNAL,
                None,
            ) {
                Ok(_) => return Ok(()),
                Err(nix::errno::Errno::EINTR) => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Receives one message and the fd attached to it, if any. `Ok(None)` at end of stream.
    pub fn recv(&self) -> io::Result<Option<(Vec<u8>, Option<OwnedFd>)>> {
        let mut buf = self.buf.lock().unwrap_or_else(|e| e.into_inner());
        if buf.len() < MAX_MESSAGE {
            buf.resize(MAX_MESSAGE, 0);
        }
        let mut cmsg = nix::cmsg_space!([std::os::fd::RawFd; 4]);
        loop {
            let mut iov = [IoSliceMut::new(&mut buf[..])];
            let r = recvmsg::<()>(
                self.sock.as_raw_fd(),
                &mut iov,
                Some(&mut cmsg),
                MsgFlags::MSG_CMSG_CLOEXEC,
            );
            let msg = match r {
                Ok(m) => m,
                Err(nix::errno::Errno::EINTR) => continue,
                Err(e) => return Err(e.into()),
            };
            let len = msg.bytes;
            let mut fd = None;
            for c in msg.cmsgs()? {
                if let ControlMessageOwned::ScmRights(fds) = c {
                    for raw in fds {
                        // The kernel just installed raw in our table for this message.
                        // SAFETY: nothing else owns it.
                        let owned = unsafe { OwnedFd::from_raw_fd(raw) };
                        // Keep the first; extra fds (never sent by a well-behaved peer) close.
                        fd.get_or_insert(owned);
                    }
                }
            }
            if msg.flags.contains(MsgFlags::MSG_TRUNC) {
                return Err(io::Error::from_raw_os_error(libc::EMSGSIZE));
            }
            if len == 0 && fd.is_none() {
                return Ok(None);
            }
            return Ok(Some((buf[..len].to_vec(), fd)));
        }
    }
}
