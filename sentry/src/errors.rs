//! The guest-visible error type. Handlers return `Result<T, Errno>`; the errno carries where it
//! was raised and an optional context string, both printed by `--strace` so a failure explains
//! itself.

use std::fmt;
use std::panic::Location;

/// Not a Linux errno: a handler's way of saying "this task must wait; try again later".
pub const EBLOCK: i32 = 100_000;

/// A Linux errno with the place that raised it.
#[derive(Clone)]
pub struct Errno {
    pub code: i32,
    pub location: &'static Location<'static>,
    pub context: Option<String>,
}

impl Errno {
    /// An errno raised at the caller's location.
    #[track_caller]
    pub fn new(code: i32) -> Errno {
        Errno {
            code,
            location: Location::caller(),
            context: None,
        }
    }

    /// An errno with a context message.
    #[track_caller]
    pub fn with_context(code: i32, context: String) -> Errno {
        Errno {
            code,
            location: Location::caller(),
            context: Some(context),
        }
    }

    /// The errno's message, as strerror gives it ("No such file or directory").
    pub fn description(&self) -> String {
        let s = std::io::Error::from_raw_os_error(self.code).to_string();
        match s.find(" (os error") {
            Some(i) => s[..i].to_string(),
            None => s,
        }
    }

    /// The errno's name, e.g. `EFAULT`.
    pub fn name(&self) -> &'static str {
        abi::errno::name(self.code).unwrap_or("E?")
    }
}

impl fmt::Debug for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.name())?;
        if let Some(context) = &self.context {
            write!(f, " ({context})")?;
        }
        write!(f, " at {}:{}", self.location.file(), self.location.line())
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.context {
            Some(context) => write!(f, "{} ({context})", self.name()),
            None => write!(f, "{}", self.name()),
        }
    }
}

/// `errno!(EINVAL)` or `errno!(EINVAL, "offset {off}")`.
#[macro_export]
macro_rules! errno {
    ($code:ident) => {
        $crate::errors::Errno::new(abi::errno::$code)
    };
    ($code:ident, $($fmt:tt)+) => {
        $crate::errors::Errno::with_context(abi::errno::$code, format!($($fmt)+))
    };
}

/// Returns early with an errno.
#[macro_export]
macro_rules! bail {
    ($($t:tt)+) => {
        return Err($crate::errno!($($t)+))
    };
}

/// The result of a syscall handler: the value for `rax`, or an errno.
pub type SysResult = Result<u64, Errno>;

/// Maps a host I/O error to the same errno for the guest.
#[track_caller]
pub fn from_host(err: std::io::Error) -> Errno {
    Errno::new(err.raw_os_error().unwrap_or(abi::errno::EIO))
}
