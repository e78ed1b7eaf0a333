//! The Sentry's side of the protocol: blocking request/reply calls on one channel.

use crate::channel::Channel;
use crate::proto::{self, Reply, Request};
use std::cell::RefCell;
use std::os::fd::OwnedFd;

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// The host operation failed with this errno (as the guest should see it).
    #[error("errno {0}")]
    Errno(i32),
    /// The channel broke or the Gofer replied nonsense: the sandbox has lost its filesystem.
    #[error("gofer channel: {0}")]
    Channel(String),
}

/// A connection to the Gofer.
#[derive(Debug)]
pub struct Client {
    chan: Channel,
    /// Fids to forget, sent with the next request.
    clunks: RefCell<Vec<proto::Fid>>,
}

impl Client {
    pub fn new(chan: Channel) -> Client {
        Client {
            chan,
            clunks: RefCell::new(Vec::new()),
        }
    }

    /// Sends `req` and waits for its reply (and the fd attached to it, if any).
    pub fn call(&self, req: &Request) -> Result<(Reply, Option<OwnedFd>), CallError> {
        let clunks = std::mem::take(&mut *self.clunks.borrow_mut());
        if !clunks.is_empty() {
            self.chan
                .send(&proto::encode(&Request::Clunk { fids: clunks }), None)
                .map_err(|e| CallError::Channel(e.to_string()))?;
        }
        self.chan
            .send(&proto::encode(req), None)
            .map_err(|e| CallError::Channel(e.to_string()))?;
        let (msg, fd) = self
            .chan
            .recv()
            .map_err(|e| CallError::Channel(e.to_string()))?
            .ok_or_else(|| CallError::Channel("the Gofer closed the channel".into()))?;
        match proto::decode::<Reply>(&msg) {
            Some(Reply::Error(e)) => Err(CallError::Errno(e)),
            Some(r) => Ok((r, fd)),
            None => Err(CallError::Channel("malformed reply".into())),
        }
    }

    /// Forgets `fid` (sent lazily with the next request).
    pub fn clunk(&self, fid: proto::Fid) {
        self.clunks.borrow_mut().push(fid);
    }
}
