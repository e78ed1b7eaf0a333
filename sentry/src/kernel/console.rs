//! Consoles: a sandbox terminal whose master side is a host terminal (`runrs do -t`, or the pty
//! of an OCI container with `terminal: true`). The guest's stdio is the slave of a terminal of
//! the sandbox's own devpts; the Sentry moves bytes between its master and the host fds, with
//! the host terminal in raw mode so that the sandbox's line discipline does the editing, echo
//! and signals (Ctrl-C is a byte here, turned into SIGINT for the foreground process group).
//! A resize of the host terminal (SIGWINCH to the Sentry) becomes the sandbox terminal's window
//! size and a SIGWINCH to its foreground group.

use super::Kernel;
use crate::syscalls::tty::{self, PtyMaster};
use crate::vfs::tty::Winsize;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::rc::Rc;

/// One console.
#[derive(Debug)]
pub struct Console {
    /// The sandbox terminal's master (None once the host side hung up).
    master: Option<PtyMaster>,
    term: Rc<crate::vfs::tty::Terminal>,
    /// Where typed input comes from (None after its end of file).
    input: Option<OwnedFd>,
    output: OwnedFd,
    /// Input was seen but the terminal had no room: read again when it has.
    input_waiting: bool,
    /// The host terminal's modes before it was made raw, restored at the end.
    saved: Option<nix::sys::termios::Termios>,
    /// The input is a terminal: its end (EIO, or 0) is a hangup (the user's terminal closed,
    /// or an OCI console's master), not just the end of typed input.
    hangup_on_eof: bool,
}

impl Drop for Console {
    fn drop(&mut self) {
        self.flush_output();
        if let Some(i) = &self.input {
            crate::host::unwatch_input(i.as_fd());
            if let Some(saved) = &self.saved {
                let _ = nix::sys::termios::tcsetattr(
                    i.as_fd(),
                    nix::sys::termios::SetArg::TCSADRAIN,
                    saved,
                );
            }
        }
    }
}

/// The window size of a host terminal, if `fd` is one.
fn host_winsize(fd: std::os::fd::BorrowedFd<'_>) -> Option<Winsize> {
    crate::host::ioctl_read::<8>(fd, libc::TIOCGWINSZ)
        .ok()
        .map(Winsize::from_bytes)
}

impl Console {
    /// A console over the host fds `input` (typed input) and `output`. A terminal `input` is put
    /// in raw mode (restored when the console ends) and watched for input.
    pub fn new(
        k: &Kernel,
        input: Option<OwnedFd>,
        output: OwnedFd,
        owner: (u32, u32),
    ) -> Result<Console, crate::errors::Errno> {
        let master = tty::new_pty(k, owner)?;
        let term = master.term.clone();
        term.locked.set(false);
        let mut saved = None;
        let hangup_on_eof = input
            .as_ref()
            .is_some_and(|i| nix::unistd::isatty(i.as_raw_fd()).unwrap_or(false));
        if let Some(i) = &input {
            if let Ok(old) = nix::sys::termios::tcgetattr(i.as_fd()) {
                let mut raw = old.clone();
                nix::sys::termios::cfmakeraw(&mut raw);
                if nix::sys::termios::tcsetattr(
                    i.as_fd(),
                    nix::sys::termios::SetArg::TCSADRAIN,
                    &raw,
                )
                .is_ok()
                {
                    saved = Some(old);
                }
            }
            if let Err(e) = crate::host::watch_input(i.as_fd()) {
                tracing::warn!("console input will only be read between guest syscalls: {e}");
            }
        }
        let ws = host_winsize(output.as_fd())
            .or_else(|| input.as_ref().and_then(|i| host_winsize(i.as_fd())));
        if let Some(ws) = ws {
            term.winsize.set(ws);
        }
        Ok(Console {
            master: Some(master),
            term,
            input,
            output,
            input_waiting: false,
            saved,
            hangup_on_eof,
        })
    }

    pub fn terminal(&self) -> &Rc<crate::vfs::tty::Terminal> {
        &self.term
    }

    /// The host fd to poll while every task waits, if input is wanted.
    pub fn input_fd(&self) -> Option<i32> {
        match (&self.input, &self.master) {
            (Some(i), Some(_)) if self.term.input_room() > 0 => Some(i.as_raw_fd()),
            _ => None,
        }
    }

    /// Writes what the guest wrote to the terminal to the host.
    fn flush_output(&mut self) {
        while self.term.master_available() > 0 {
            let data = self.term.master_read(1 << 16);
            if let Err(e) = write_all(self.output.as_fd(), &data) {
                tracing::debug!("console output: {e}");
                // Nobody reads it any more: what the guest writes is dropped.
                while self.term.master_available() > 0 {
                    self.term.master_read(usize::MAX);
                }
                return;
            }
        }
    }

    /// Moves output to the host and, if `check_input` (or input was left waiting), typed input
    /// from it into the terminal.
    fn pump(&mut self, k: &Kernel, check_input: bool) {
        self.flush_output();
        if !(check_input || self.input_waiting) || self.master.is_none() {
            return;
        }
        self.input_waiting = false;
        let mut buf = [0u8; 4096];
        while let Some(i) = &self.input {
            let room = self.term.input_room();
            if room == 0 {
                self.input_waiting = true;
                return;
            }
            if !crate::host::readable_now(i.as_fd()) {
                return;
            }
            let want = room.min(buf.len());
            let r = nix::unistd::read(i.as_raw_fd(), &mut buf[..want]);
            match r {
                Ok(0) | Err(nix::errno::Errno::EIO) => {
                    if let Some(i) = self.input.take() {
                        crate::host::unwatch_input(i.as_fd());
                        if let Some(saved) = self.saved.take() {
                            let _ = nix::sys::termios::tcsetattr(
                                i.as_fd(),
                                nix::sys::termios::SetArg::TCSADRAIN,
                                &saved,
                            );
                        }
                    }
                    if self.hangup_on_eof {
                        // The master (and with it the slave's session) goes.
                        self.master = None;
                    }
                    return;
                }
                Ok(n) => {
                    let (taken, sigs) = self.term.master_write(&buf[..n]);
                    debug_assert_eq!(taken, n);
                    for sig in sigs {
                        tty::signal_group(k, self.term.pgrp.get(), sig);
                    }
                    // Echo goes out at once.
                    self.flush_output();
                }
                Err(nix::errno::Errno::EINTR | nix::errno::Errno::EAGAIN) => return,
                Err(e) => {
                    tracing::debug!("console input: {e}");
                    self.input = None;
                    return;
                }
            }
        }
    }

    /// The host terminal was resized: the sandbox terminal follows, and its foreground group
    /// gets SIGWINCH.
    fn resized(&mut self, k: &Kernel) {
        let ws = host_winsize(self.output.as_fd())
            .or_else(|| self.input.as_ref().and_then(|i| host_winsize(i.as_fd())));
        if let Some(ws) = ws {
            if self.term.winsize.replace(ws) != ws {
                tty::signal_group(k, self.term.pgrp.get(), libc::SIGWINCH);
            }
        }
    }
}

fn write_all(fd: std::os::fd::BorrowedFd<'_>, mut data: &[u8]) -> nix::Result<()> {
    while !data.is_empty() {
        match nix::unistd::write(fd, data) {
            Ok(n) => data = &data[n..],
            Err(nix::errno::Errno::EINTR) => {}
            Err(nix::errno::Errno::EAGAIN) => {
                let mut p = [libc::pollfd {
                    fd: fd.as_raw_fd(),
                    events: libc::POLLOUT,
                    revents: 0,
                }];
                let _ = crate::host::poll(&mut p, -1);
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Moves bytes between every console and its host fds (called by the scheduler each round;
/// `force` checks for input even if no SIGIO said so).
pub fn pump(k: &Kernel, force: bool) {
    if tty::hangups_pending() {
        tty::hang_up_sessions(k);
    }
    if k.consoles.borrow().is_empty() {
        return;
    }
    let check = crate::host::take_input_ready() || force;
    for c in k.consoles.borrow_mut().iter_mut() {
        c.pump(k, check);
    }
}

/// The host fds the idle scheduler should wake for.
pub fn input_fds(k: &Kernel) -> Vec<(i32, i16)> {
    k.consoles
        .borrow()
        .iter()
        .filter_map(Console::input_fd)
        .map(|fd| (fd, libc::POLLIN))
        .collect()
}

/// A host SIGWINCH: every console follows its host terminal's size. Returns whether there is a
/// console (which then takes the signal's place).
pub fn host_resized(k: &Kernel) -> bool {
    let mut cs = k.consoles.borrow_mut();
    for c in cs.iter_mut() {
        c.resized(k);
    }
    !cs.is_empty()
}

/// The foreground process group of the first console's terminal, if there is one: where the
/// host's terminal signals (SIGINT sent to `runrs do` itself) go.
pub fn foreground(k: &Kernel) -> Option<i32> {
    k.consoles
        .borrow()
        .first()
        .map(|c| c.term.pgrp.get())
        .filter(|&p| p > 0)
}

/// Everything the guest wrote goes out, and the consoles end (host terminals restored).
pub fn close_all(k: &Kernel) {
    let cs = std::mem::take(&mut *k.consoles.borrow_mut());
    drop(cs);
}

/// A new console for process `pid` (about to be made): the slave files for its stdio, and the
/// console registered with the kernel. The process becomes the terminal's session once it is
/// in the process table ([`attach`]).
pub fn open_for(
    k: &Kernel,
    input: Option<OwnedFd>,
    output: OwnedFd,
    owner: (u32, u32),
) -> Result<(Rc<crate::vfs::tty::Terminal>, [Rc<super::fd::File>; 3]), crate::errors::Errno> {
    let c = Console::new(k, input, output, owner)?;
    let term = c.term.clone();
    let mut files = Vec::new();
    for _ in 0..3 {
        let s = tty::console_slave(k, &term)?;
        files.push(Rc::new(super::fd::File::Anon(Box::new(s))));
    }
    let files: [Rc<super::fd::File>; 3] = files
        .try_into()
        .map_err(|_| crate::errno!(EIO, "console files"))?;
    k.consoles.borrow_mut().push(c);
    Ok((term, files))
}

/// Makes `term` the controlling terminal of process `pid`, a session leader, with its group in
/// the foreground.
pub fn attach(k: &Kernel, term: &crate::vfs::tty::Terminal, pid: i32) {
    let mut procs = k.procs.borrow_mut();
    if let Some(p) = procs.procs.get_mut(&pid) {
        p.tty = Some(term.index);
        term.session.set(p.sid);
        term.pgrp.set(p.pgid);
    }
}
