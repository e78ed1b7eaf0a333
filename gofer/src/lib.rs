//! The runrs Gofer: the only process that will open host files, serving the Sentry over a Unix
//! socket and donating opened fds with SCM_RIGHTS (see docs/architecture.md).
//!
//! Not built yet: it lands with the files issue. Until then the Sentry reads only the initial
//! executable, once, during setup, and the guest has no filesystem (file syscalls return ENOSYS).

#![forbid(unsafe_code)]
