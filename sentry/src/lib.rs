//! The runrs Sentry: a user-space Linux kernel. It runs a guest program on a [`platform`],
//! handling every syscall the guest makes: memory ([`mm`]), tasks ([`kernel`]), and the syscall
//! table ([`syscalls`]).
//!
//! unsafe code lives only in `mm::memfile` (the memory file mapping), `host` (host calls with
//! out-pointers) and `control` (taking ownership of fds the host gave us); everything else is
//! safe Rust over typed guest addresses.

pub mod control;
pub mod errors;
pub mod host;
pub mod kernel;
pub mod loader;
pub mod lockdown;
pub mod mm;
pub mod syscalls;
pub mod vfs;

pub use kernel::{Config, ExitStatus, Overlay, Program, Sandbox, StraceSink};
