//! The runrs Gofer: the only process that opens host files. It serves the Sentry over a
//! `SOCK_SEQPACKET` Unix socket ([`proto`] messages) and donates opened fds with `SCM_RIGHTS`;
//! the Sentry then reads and writes them directly. See docs/gofer-protocol.md.

pub mod channel;
pub mod client;
pub mod dns;
pub mod lockdown;
pub mod proto;
pub mod server;
mod sys;
pub use sys::fork_child;

pub use channel::Channel;
pub use client::{CallError, Client};
pub use server::{Mount, Server};
