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
    /// Requests made (shown in the debug log when the client goes).
    calls: std::cell::Cell<u64>,
    /// Time spent waiting for replies.
    busy: std::cell::Cell<std::time::Duration>,
}

impl Drop for Client {
    fn drop(&mut self) {
        tracing::debug!(
            calls = self.calls.get(),
            us = self.busy.get().as_micros(),
            "gofer client closed"
        );
    }
}

impl Client {
    pub fn new(chan: Channel) -> Client {
        Client {
            chan,
            clunks: RefCell::new(Vec::new()),
            calls: std::cell::Cell::new(0),
            busy: std::cell::Cell::new(std::time::Duration::ZERO),
        }
    }

    /// Sends `req` and waits for its reply (and the fd attached to it, if any).
    pub fn call(&self, req: &Request) -> Result<(Reply, Option<OwnedFd>), CallError> {
        self.calls.set(self.calls.get() + 1);
        let start = std::time::Instant::now();
        let r = self.call_inner(req);
        let took = start.elapsed();
        self.busy.set(self.busy.get() + took);
        tracing::trace!(target: "runrs::gofer", us = took.as_micros(), "{}", req.name());
        r
    }

    fn call_inner(&self, req: &Request) -> Result<(Reply, Option<OwnedFd>), CallError> {
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
