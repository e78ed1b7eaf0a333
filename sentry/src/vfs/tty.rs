//! Terminals: a pseudo-terminal pair (the master and the slave) with Linux's line discipline
//! (n_tty) between them, all in the Sentry.
//!
//! What the master writes is the slave's input: the line discipline maps carriage returns,
//! raises the terminal's signals (VINTR, VQUIT, VSUSP), edits lines in canonical mode (VERASE,
//! VWERASE, VKILL, VLNEXT, VEOF) and echoes. What the slave writes is output: OPOST maps newlines
//! (ONLCR, OCRNL, ONOCR) and expands tabs (XTABS) before the master reads it. Both sides share
//! one termios and one window size (the master's termios ioctls act on the slave, as Linux's).
//!
//! Left out: parity and break handling (no serial line), XCASE, flow control pausing output
//! (VSTOP/VSTART with IXON are taken out of the input but output is not held), packet mode.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;

// c_iflag
pub const ISTRIP: u32 = 0o40;
pub const INLCR: u32 = 0o100;
pub const IGNCR: u32 = 0o200;
pub const ICRNL: u32 = 0o400;
pub const IUCLC: u32 = 0o1000;
pub const IXON: u32 = 0o2000;
pub const IXANY: u32 = 0o4000;
pub const IMAXBEL: u32 = 0o20000;
pub const IUTF8: u32 = 0o40000;
// c_oflag
pub const OPOST: u32 = 0o1;
pub const OLCUC: u32 = 0o2;
pub const ONLCR: u32 = 0o4;
pub const OCRNL: u32 = 0o10;
pub const ONOCR: u32 = 0o20;
pub const ONLRET: u32 = 0o40;
pub const TABDLY: u32 = 0o14000;
pub const XTABS: u32 = 0o14000;
// c_cflag
pub const B38400: u32 = 0o17;
pub const CS8: u32 = 0o60;
pub const CREAD: u32 = 0o200;
pub const CBAUD: u32 = 0o10017;
pub const BOTHER: u32 = 0o10000;

/// The speed a CBAUD code stands for (B0 .. B4000000).
fn baud(code: u32) -> u32 {
    const RATES: [u32; 31] = [
        0, 50, 75, 110, 134, 150, 200, 300, 600, 1200, 1800, 2400, 4800, 9600, 19200, 38400, 57600,
        115_200, 230_400, 460_800, 500_000, 576_000, 921_600, 1_000_000, 1_152_000, 1_500_000,
        2_000_000, 2_500_000, 3_000_000, 3_500_000, 4_000_000,
    ];
    let i = if code & BOTHER != 0 {
        (code & 0o17) as usize + 15
    } else {
        (code & 0o17) as usize
    };
    RATES.get(i).copied().unwrap_or(0)
}
// c_lflag
pub const ISIG: u32 = 0o1;
pub const ICANON: u32 = 0o2;
pub const ECHO: u32 = 0o10;
pub const ECHOE: u32 = 0o20;
pub const ECHOK: u32 = 0o40;
pub const ECHONL: u32 = 0o100;
pub const NOFLSH: u32 = 0o200;
pub const TOSTOP: u32 = 0o400;
pub const ECHOCTL: u32 = 0o1000;
pub const ECHOPRT: u32 = 0o2000;
pub const ECHOKE: u32 = 0o4000;
pub const IEXTEN: u32 = 0o100000;
// c_cc indices
pub const VINTR: usize = 0;
pub const VQUIT: usize = 1;
pub const VERASE: usize = 2;
pub const VKILL: usize = 3;
pub const VEOF: usize = 4;
pub const VTIME: usize = 5;
pub const VMIN: usize = 6;
pub const VSTART: usize = 8;
pub const VSTOP: usize = 9;
pub const VSUSP: usize = 10;
pub const VEOL: usize = 11;
pub const VREPRINT: usize = 12;
pub const VWERASE: usize = 14;
pub const VLNEXT: usize = 15;
pub const VEOL2: usize = 16;

/// A canonical line holds at most this many bytes (N_TTY_BUF_SIZE - 1); more are dropped.
pub const MAX_LINE: usize = 4095;
/// Input (master to slave) and output (slave to master) each buffer at most this much; writers
/// wait past it.
pub const BUFFER: usize = 65536;

/// The kernel's `struct termios` (TCGETS): 36 bytes. TCGETS2's `struct termios2` adds the two
/// speeds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Termios {
    pub iflag: u32,
    pub oflag: u32,
    pub cflag: u32,
    pub lflag: u32,
    pub line: u8,
    pub cc: [u8; 19],
    pub ispeed: u32,
    pub ospeed: u32,
}

impl Termios {
    /// A new pty slave's termios (tty_std_termios with the pty driver's c_cflag).
    pub fn slave_default() -> Termios {
        Termios {
            iflag: ICRNL | IXON,
            oflag: OPOST | ONLCR,
            cflag: B38400 | CS8 | CREAD,
            lflag: ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHOCTL | ECHOKE | IEXTEN,
            line: 0,
            // INIT_C_CC: ^C ^\ DEL ^U ^D, VTIME 0, VMIN 1, ^Q ^S ^Z, ^R ^O ^W ^V.
            cc: [
                3, 0x1c, 0x7f, 0x15, 4, 0, 1, 0, 0x11, 0x13, 0x1a, 0, 0x12, 0xf, 0x17, 0x16, 0, 0,
                0,
            ],
            ispeed: 38400,
            ospeed: 38400,
        }
    }

    /// The 36 (termios) or 44 (termios2) bytes the ioctls copy.
    pub fn to_bytes(&self, v2: bool) -> Vec<u8> {
        let mut b = Vec::with_capacity(44);
        for f in [self.iflag, self.oflag, self.cflag, self.lflag] {
            b.extend_from_slice(&f.to_ne_bytes());
        }
        b.push(self.line);
        b.extend_from_slice(&self.cc);
        if v2 {
            b.extend_from_slice(&self.ispeed.to_ne_bytes());
            b.extend_from_slice(&self.ospeed.to_ne_bytes());
        }
        b
    }

    /// Parses what TCSETS (36 bytes) or TCSETS2 (44 bytes) gives; the speeds of a plain termios
    /// stay as they were.
    pub fn from_bytes(b: &[u8], old: &Termios) -> Termios {
        let u = |i: usize| u32::from_ne_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        let mut cc = [0u8; 19];
        cc.copy_from_slice(&b[17..36]);
        let (given_i, given_o) = if b.len() >= 44 {
            (u(36), u(40))
        } else {
            (old.ispeed, old.ospeed)
        };
        // The speeds follow the CBAUD and CIBAUD codes (BOTHER: the numbers given), as Linux
        // recomputes them on every set.
        let cflag = u(8);
        let ospeed = match cflag & CBAUD {
            BOTHER => given_o,
            code => baud(code),
        };
        let ispeed = match (cflag >> 16) & CBAUD {
            0 => ospeed,
            BOTHER => given_i,
            code => baud(code),
        };
        Termios {
            iflag: u(0),
            oflag: u(4),
            cflag: u(8),
            lflag: u(12),
            line: b[16],
            cc,
            ispeed,
            ospeed,
        }
    }

    fn l(&self, f: u32) -> bool {
        self.lflag & f != 0
    }

    fn i(&self, f: u32) -> bool {
        self.iflag & f != 0
    }

    /// Whether `c` is the (enabled) control character at `idx`. A zero entry is disabled
    /// (_POSIX_VDISABLE).
    fn is(&self, c: u8, idx: usize) -> bool {
        self.cc[idx] != 0 && self.cc[idx] == c
    }
}

/// `struct winsize`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Winsize {
    pub rows: u16,
    pub cols: u16,
    pub xpixel: u16,
    pub ypixel: u16,
}

impl Winsize {
    pub fn to_bytes(self) -> [u8; 8] {
        let mut b = [0u8; 8];
        for (i, v) in [self.rows, self.cols, self.xpixel, self.ypixel]
            .into_iter()
            .enumerate()
        {
            b[i * 2..i * 2 + 2].copy_from_slice(&v.to_ne_bytes());
        }
        b
    }

    pub fn from_bytes(b: [u8; 8]) -> Winsize {
        let h = |i: usize| u16::from_ne_bytes([b[i], b[i + 1]]);
        Winsize {
            rows: h(0),
            cols: h(2),
            xpixel: h(4),
            ypixel: h(6),
        }
    }
}

/// The slave's input, after the line discipline.
#[derive(Debug, Default)]
struct Input {
    /// Canonical mode: complete lines (an empty one is an end of file, VEOF on an empty line).
    lines: VecDeque<Vec<u8>>,
    /// Canonical mode: the line being edited.
    line: Vec<u8>,
    /// Non-canonical mode: the bytes to read.
    raw: VecDeque<u8>,
    /// The next byte is literal (VLNEXT).
    lnext: bool,
    /// ECHOPRT: a `\\` was echoed for erased characters, and the closing `/` is due.
    erasing: bool,
    /// The output column when the line being edited began (for erasing tabs).
    line_column: usize,
}

impl Input {
    fn len(&self) -> usize {
        self.raw.len() + self.line.len() + self.lines.iter().map(Vec::len).sum::<usize>()
    }
}

/// A pseudo-terminal: the state its master and slave share.
#[derive(Debug)]
pub struct Terminal {
    /// N of /dev/pts/N.
    pub index: u32,
    pub termios: Cell<Termios>,
    pub winsize: Cell<Winsize>,
    input: RefCell<Input>,
    /// Output for the master to read (echo included).
    output: RefCell<VecDeque<u8>>,
    /// Where the output stood when the current master write began: its echo is committed at
    /// its end, so a signal character in it discards the echo before it.
    echo_mark: Cell<usize>,
    column: Cell<usize>,
    /// The session it is the controlling terminal of (0: none), and its foreground group.
    pub session: Cell<i32>,
    pub pgrp: Cell<i32>,
    /// The master is open (false once its last fd is closed: the slave is hung up).
    pub master_open: Cell<bool>,
    /// Open slave file descriptions; `other_closed` once they all closed after one was open
    /// (the master's reads then fail with EIO, as Linux's TTY_OTHER_CLOSED).
    pub slaves: Cell<usize>,
    pub other_closed: Cell<bool>,
    /// unlockpt has not been called yet: the slave cannot be opened.
    pub locked: Cell<bool>,
    /// TIOCEXCL: further opens of the slave fail with EBUSY.
    pub exclusive: Cell<bool>,
    /// Counts changes (for epoll's edge-triggered mode).
    pub generation: Cell<u64>,
    /// The uid and gid of /dev/pts/N (the opener's).
    pub owner: (u32, u32),
}

impl Terminal {
    pub fn new(index: u32, owner: (u32, u32)) -> Terminal {
        Terminal {
            index,
            termios: Cell::new(Termios::slave_default()),
            winsize: Cell::new(Winsize::default()),
            input: RefCell::new(Input::default()),
            output: RefCell::new(VecDeque::new()),
            echo_mark: Cell::new(0),
            column: Cell::new(0),
            session: Cell::new(0),
            pgrp: Cell::new(0),
            master_open: Cell::new(true),
            slaves: Cell::new(0),
            other_closed: Cell::new(false),
            locked: Cell::new(true),
            exclusive: Cell::new(false),
            generation: Cell::new(0),
            owner,
        }
    }

    fn changed(&self) {
        self.generation.set(self.generation.get() + 1);
    }

    /// The slave is hung up: its master is gone.
    pub fn hung_up(&self) -> bool {
        !self.master_open.get()
    }

    // ---- the slave's side ----------------------------------------------------------------

    /// Bytes a read of the slave could take now (canonical: the first complete line; an end of
    /// file counts as readable).
    pub fn slave_readable(&self) -> bool {
        let i = self.input.borrow();
        if self.termios.get().l(ICANON) {
            !i.lines.is_empty()
        } else {
            !i.raw.is_empty()
        }
    }

    /// Bytes waiting for the slave (FIONREAD): canonical mode counts complete lines only.
    pub fn slave_available(&self) -> usize {
        let i = self.input.borrow();
        if self.termios.get().l(ICANON) {
            i.lines.iter().map(Vec::len).sum()
        } else {
            i.raw.len()
        }
    }

    /// Takes up to `max` bytes of input for the slave: canonical mode gives at most one line
    /// (Some(empty) is an end of file), non-canonical what is there. None: nothing yet.
    pub fn slave_read(&self, max: usize) -> Option<Vec<u8>> {
        let mut i = self.input.borrow_mut();
        let got = if self.termios.get().l(ICANON) {
            let first = i.lines.front_mut()?;
            if first.is_empty() {
                i.lines.pop_front();
                Some(Vec::new())
            } else {
                let n = max.min(first.len());
                let out: Vec<u8> = first.drain(..n).collect();
                if first.is_empty() {
                    i.lines.pop_front();
                }
                Some(out)
            }
        } else {
            if i.raw.is_empty() {
                return None;
            }
            let n = max.min(i.raw.len());
            Some(i.raw.drain(..n).collect())
        };
        drop(i);
        self.changed();
        got
    }

    /// Room for the slave's output.
    pub fn output_room(&self) -> usize {
        BUFFER.saturating_sub(self.output.borrow().len())
    }

    /// The slave writes: output processing, as much as there is room for. Returns the bytes
    /// taken.
    pub fn slave_write(&self, data: &[u8]) -> usize {
        let mut taken = 0;
        let mut out = self.output.borrow_mut();
        for &c in data {
            if out.len() >= BUFFER {
                break;
            }
            self.put_output(&mut out, c);
            taken += 1;
        }
        drop(out);
        if taken > 0 {
            self.changed();
        }
        taken
    }

    // ---- the master's side ---------------------------------------------------------------

    /// Bytes the master could read.
    pub fn master_available(&self) -> usize {
        self.output.borrow().len()
    }

    /// Takes up to `max` bytes of output for the master.
    pub fn master_read(&self, max: usize) -> Vec<u8> {
        let mut o = self.output.borrow_mut();
        let n = max.min(o.len());
        let v: Vec<u8> = o.drain(..n).collect();
        drop(o);
        if n > 0 {
            self.changed();
        }
        v
    }

    /// Room for the master's writes (input to the slave).
    pub fn input_room(&self) -> usize {
        BUFFER.saturating_sub(self.input.borrow().len())
    }

    /// The master writes (typed input): the line discipline takes as much as there is room for
    /// (a canonical line past its limit drops bytes, as Linux). Returns the bytes taken and the
    /// signals to send to the foreground process group.
    pub fn master_write(&self, data: &[u8]) -> (usize, Vec<i32>) {
        let mut sigs = Vec::new();
        let mut taken = 0;
        self.echo_mark.set(self.output.borrow().len());
        for &c in data {
            if self.input.borrow().len() >= BUFFER {
                break;
            }
            self.receive(c, &mut sigs);
            taken += 1;
        }
        if taken > 0 {
            self.changed();
        }
        (taken, sigs)
    }

    /// Discards pending input and/or output (TCFLSH, and a signal character without NOFLSH).
    pub fn flush(&self, input: bool, output: bool) {
        if input {
            let mut i = self.input.borrow_mut();
            i.lines.clear();
            i.line.clear();
            i.raw.clear();
            i.lnext = false;
        }
        if output {
            self.output.borrow_mut().clear();
        }
        self.changed();
    }

    /// New termios (TCSETS): leaving canonical mode makes the line being edited and the complete
    /// lines readable as bytes; entering it makes the unread bytes one complete line.
    pub fn set_termios(&self, new: Termios) {
        let old = self.termios.replace(new);
        let (was, is) = (old.l(ICANON), new.l(ICANON));
        let mut i = self.input.borrow_mut();
        if was && !is {
            let lines: Vec<Vec<u8>> = i.lines.drain(..).collect();
            for l in lines {
                i.raw.extend(l);
            }
            let line = std::mem::take(&mut i.line);
            i.raw.extend(line);
        } else if !was && is && !i.raw.is_empty() {
            let raw: Vec<u8> = i.raw.drain(..).collect();
            i.lines.push_back(raw);
        }
        drop(i);
        self.changed();
    }

    /// One byte of input through the line discipline.
    fn receive(&self, c: u8, sigs: &mut Vec<i32>) {
        let tio = self.termios.get();
        let mut c = c;
        {
            let mut i = self.input.borrow_mut();
            if i.lnext {
                i.lnext = false;
                drop(i);
                self.put_input(c, true);
                return;
            }
        }
        if tio.i(ISTRIP) {
            c &= 0x7f;
        }
        if c == b'\r' {
            if tio.i(IGNCR) {
                return;
            }
            if tio.i(ICRNL) {
                c = b'\n';
            }
        } else if c == b'\n' && tio.i(INLCR) {
            c = b'\r';
        }
        if tio.i(IUCLC) && tio.l(IEXTEN) {
            c = c.to_ascii_lowercase();
        }
        if tio.l(ISIG) {
            let sig = if tio.is(c, VINTR) {
                Some(libc::SIGINT)
            } else if tio.is(c, VQUIT) {
                Some(libc::SIGQUIT)
            } else if tio.is(c, VSUSP) {
                Some(libc::SIGTSTP)
            } else {
                None
            };
            if let Some(sig) = sig {
                // Pending input goes, and the echo of this write not yet committed to the
                // master (as Linux's echo buffer); output already there stays.
                if !tio.l(NOFLSH) {
                    self.flush(true, false);
                    let mark = self.echo_mark.get();
                    self.output.borrow_mut().truncate(mark);
                }
                if tio.l(ECHO) {
                    self.echo_char(c);
                }
                sigs.push(sig);
                return;
            }
        }
        if tio.i(IXON) {
            // Flow control characters are taken out of the input (output is not held).
            if tio.is(c, VSTOP) || tio.is(c, VSTART) {
                return;
            }
        }
        if tio.l(ICANON) {
            if tio.is(c, VERASE) || tio.is(c, VKILL) || (tio.l(IEXTEN) && tio.is(c, VWERASE)) {
                self.erase(c, &tio);
                return;
            }
            if tio.l(IEXTEN) && tio.is(c, VLNEXT) {
                self.input.borrow_mut().lnext = true;
                if tio.l(ECHO) && tio.l(ECHOCTL) {
                    self.echo_bytes(b"^\x08");
                }
                return;
            }
            if tio.l(IEXTEN) && tio.is(c, VREPRINT) && tio.l(ECHO) {
                self.echo_char(c);
                self.echo_bytes(b"\n");
                let line = self.input.borrow().line.clone();
                for b in line {
                    self.echo_char(b);
                }
                return;
            }
            if c == b'\n' {
                if tio.l(ECHO) || tio.l(ECHONL) {
                    self.finish_erasing();
                    self.echo_bytes(b"\n");
                }
                self.commit(Some(c));
                return;
            }
            if tio.is(c, VEOF) {
                self.commit(None);
                return;
            }
            if tio.is(c, VEOL) || (tio.l(IEXTEN) && tio.is(c, VEOL2)) {
                if tio.l(ECHO) {
                    self.finish_erasing();
                    self.echo_char(c);
                }
                self.commit(Some(c));
                return;
            }
        }
        self.put_input(c, false);
    }

    /// An ordinary byte of input: echoed, and added to the line (canonical) or the bytes to read.
    fn put_input(&self, c: u8, literal: bool) {
        let tio = self.termios.get();
        let mut i = self.input.borrow_mut();
        if tio.l(ICANON) {
            // Past the longest line the byte is dropped, though still echoed (as Linux).
            if i.line.len() < MAX_LINE {
                if i.line.is_empty() {
                    i.line_column = self.column.get();
                }
                i.line.push(c);
            }
        } else {
            i.raw.push_back(c);
        }
        drop(i);
        if tio.l(ECHO) {
            self.finish_erasing();
            if literal && c == b'\n' {
                self.echo_bytes(b"\n");
            } else {
                self.echo_char(c);
            }
        }
    }

    /// Ends the line being edited: with `end` appended (newline, VEOL), or without (VEOF; an
    /// empty line then reads as end of file).
    fn commit(&self, end: Option<u8>) {
        let mut i = self.input.borrow_mut();
        let mut line = std::mem::take(&mut i.line);
        if let Some(e) = end {
            line.push(e);
        }
        i.lines.push_back(line);
    }

    /// VERASE, VWERASE and VKILL on the line being edited, echoed as Linux's eraser does:
    /// ECHOPRT prints the erased characters between `\\` and `/`, ECHOE backs over them (tabs
    /// by their width), otherwise the erase character itself is echoed.
    fn erase(&self, c: u8, tio: &Termios) {
        let kill = tio.is(c, VKILL);
        let word = !kill && !tio.is(c, VERASE);
        if self.input.borrow().line.is_empty() {
            return;
        }
        if kill {
            if !tio.l(ECHO) {
                self.input.borrow_mut().line.clear();
                return;
            }
            if !(tio.l(ECHOK) && tio.l(ECHOKE) && tio.l(ECHOE)) {
                self.input.borrow_mut().line.clear();
                self.finish_erasing();
                self.echo_char(c);
                if tio.l(ECHOK) {
                    self.echo_bytes(b"\n");
                }
                return;
            }
        }
        let utf8 = tio.i(IUTF8);
        let mut seen_alnum = false;
        loop {
            let (gone, before, start) = {
                let mut i = self.input.borrow_mut();
                let Some(&last) = i.line.last() else {
                    break;
                };
                if word {
                    if last.is_ascii_alphanumeric() || last == b'_' {
                        seen_alnum = true;
                    } else if seen_alnum {
                        break;
                    }
                }
                let n = erase_len(&i.line, utf8);
                let keep = i.line.len() - n;
                let gone: Vec<u8> = i.line.drain(keep..).collect();
                (gone, i.line.clone(), i.line_column)
            };
            if tio.l(ECHO) {
                let lead = gone[0];
                if tio.l(ECHOPRT) {
                    let mut i = self.input.borrow_mut();
                    let first = !i.erasing;
                    i.erasing = true;
                    drop(i);
                    if first {
                        self.echo_bytes(b"\\");
                    }
                    for &b in &gone {
                        self.echo_char(b);
                    }
                } else if !kill && !word && !tio.l(ECHOE) {
                    self.echo_char(c);
                } else {
                    let col = width_after(start, &before, tio);
                    let w = char_width(lead, col, tio);
                    if lead == b'\t' {
                        self.echo_bytes(&vec![b'\x08'; w]);
                    } else {
                        for _ in 0..w {
                            self.echo_bytes(b"\x08 \x08");
                        }
                    }
                }
            }
            if !kill && !word {
                break;
            }
        }
        if self.input.borrow().line.is_empty() && tio.l(ECHO) {
            self.finish_erasing();
        }
    }

    /// Closes an ECHOPRT erase with `/`.
    fn finish_erasing(&self) {
        let was = std::mem::replace(&mut self.input.borrow_mut().erasing, false);
        if was {
            self.echo_bytes(b"/");
        }
    }

    /// Echoes a byte of input as ECHOCTL shows it (^X for control characters but tab and
    /// newline).
    fn echo_char(&self, c: u8) {
        let tio = self.termios.get();
        if tio.l(ECHOCTL) && is_control(c) && c != b'\t' && c != b'\n' {
            self.echo_bytes(&[b'^', c ^ 0x40]);
        } else {
            self.echo_bytes(&[c]);
        }
    }

    /// Echo goes to the output while it has room; past that it is dropped (as Linux's echo
    /// stops when the driver has no room), so the output stays bounded.
    fn echo_bytes(&self, s: &[u8]) {
        let mut out = self.output.borrow_mut();
        for &c in s {
            if out.len() >= BUFFER {
                break;
            }
            self.put_output(&mut out, c);
        }
    }

    /// Output processing of one byte (OPOST).
    fn put_output(&self, out: &mut VecDeque<u8>, c: u8) {
        let tio = self.termios.get();
        let col = self.column.get();
        if tio.oflag & OPOST == 0 {
            out.push_back(c);
            return;
        }
        match c {
            b'\n' => {
                if tio.oflag & ONLCR != 0 {
                    out.extend(b"\r\n");
                    self.column.set(0);
                } else {
                    if tio.oflag & ONLRET != 0 {
                        self.column.set(0);
                    }
                    out.push_back(b'\n');
                }
            }
            b'\r' => {
                if tio.oflag & ONOCR != 0 && col == 0 {
                    return;
                }
                if tio.oflag & OCRNL != 0 {
                    if tio.oflag & ONLRET != 0 {
                        self.column.set(0);
                    }
                    out.push_back(b'\n');
                } else {
                    self.column.set(0);
                    out.push_back(b'\r');
                }
            }
            b'\t' => {
                let next = (col | 7) + 1;
                if tio.oflag & TABDLY == XTABS {
                    out.extend(std::iter::repeat_n(b' ', next - col));
                } else {
                    out.push_back(b'\t');
                }
                self.column.set(next);
            }
            8 => {
                self.column.set(col.saturating_sub(1));
                out.push_back(8);
            }
            _ => {
                let c = if tio.oflag & OLCUC != 0 {
                    c.to_ascii_uppercase()
                } else {
                    c
                };
                // UTF-8 continuation bytes take no column of their own.
                let continuation = tio.i(IUTF8) && c & 0xc0 == 0x80;
                if !(is_control(c) || continuation) {
                    self.column.set(col + 1);
                }
                out.push_back(c);
            }
        }
    }
}

fn is_control(c: u8) -> bool {
    c < 0x20 || c == 0x7f
}

/// How many bytes of `line`'s end one character is (UTF-8 aware with IUTF8): what one erase
/// takes (VWERASE repeats it, see `erase`).
fn erase_len(line: &[u8], utf8: bool) -> usize {
    let mut n = 1;
    if utf8 {
        while n < line.len() && line[line.len() - n] & 0xc0 == 0x80 {
            n += 1;
        }
    }
    n.min(line.len())
}

/// The columns a byte of input took when echoed at column `col`.
fn char_width(c: u8, col: usize, tio: &Termios) -> usize {
    if c == b'\t' {
        (col | 7) + 1 - col
    } else if is_control(c) {
        if tio.l(ECHOCTL) {
            2
        } else {
            0
        }
    } else if tio.i(IUTF8) && c & 0xc0 == 0x80 {
        0
    } else {
        1
    }
}

/// The column after echoing `line` from column `start`.
fn width_after(start: usize, line: &[u8], tio: &Termios) -> usize {
    line.iter()
        .fold(start, |col, &c| col + char_width(c, col, tio))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn term() -> Terminal {
        Terminal::new(0, (0, 0))
    }

    fn output(t: &Terminal) -> Vec<u8> {
        t.master_read(usize::MAX)
    }

    #[test]
    fn canonical_lines_echo_and_onlcr() {
        let t = term();
        assert_eq!(t.master_write(b"ab\r").0, 3);
        assert_eq!(output(&t), b"ab\r\n");
        assert_eq!(t.slave_read(100).unwrap(), b"ab\n");
        assert!(t.slave_read(100).is_none());
    }

    #[test]
    fn erase_kill_and_eof() {
        let t = term();
        t.master_write(b"abc\x7f\x7fx\n");
        assert_eq!(t.slave_read(100).unwrap(), b"ax\n");
        assert_eq!(output(&t), b"abc\x08 \x08\x08 \x08x\r\n");
        t.master_write(b"hello world\x17\x17yo\x04");
        assert_eq!(t.slave_read(100).unwrap(), b"yo");
        t.master_write(b"gone\x15\x04");
        assert_eq!(t.slave_read(100).unwrap(), b"");
    }

    #[test]
    fn signals_flush_and_echo() {
        let t = term();
        t.master_write(b"partial");
        output(&t);
        let (_, sigs) = t.master_write(b"\x03");
        assert_eq!(sigs, vec![libc::SIGINT]);
        assert_eq!(output(&t), b"^C");
        t.master_write(b"\n");
        assert_eq!(t.slave_read(100).unwrap(), b"\n");
        assert_eq!(t.master_write(b"\x1a").1, vec![libc::SIGTSTP]);
    }

    #[test]
    fn raw_mode_and_mode_switch() {
        let t = term();
        t.master_write(b"ab");
        let mut raw = t.termios.get();
        raw.lflag &= !(ICANON | ECHO | ISIG);
        t.set_termios(raw);
        assert_eq!(t.slave_read(1).unwrap(), b"a");
        t.master_write(b"\x03\x7f");
        assert_eq!(t.slave_read(10).unwrap(), b"b\x03\x7f");
    }

    #[test]
    fn output_processing() {
        let t = term();
        assert_eq!(t.slave_write(b"a\tb\n"), 4);
        assert_eq!(output(&t), b"a\tb\r\n");
        let mut tio = t.termios.get();
        tio.oflag |= XTABS;
        t.set_termios(tio);
        t.slave_write(b"ab\tc");
        assert_eq!(output(&t), b"ab      c");
        tio.oflag &= !OPOST;
        t.set_termios(tio);
        t.slave_write(b"\n");
        assert_eq!(output(&t), b"\n");
    }

    #[test]
    fn long_line_is_cut_and_tab_erased() {
        let t = term();
        t.master_write(&[b'x'; 5000]);
        t.master_write(b"\n");
        assert_eq!(t.slave_read(10_000).unwrap().len(), MAX_LINE + 1);
        output(&t);
        t.master_write(b"a\t\x7f");
        assert_eq!(output(&t), b"a\t\x08\x08\x08\x08\x08\x08\x08");
    }

    #[test]
    fn termios_bytes_round_trip() {
        let d = Termios::slave_default();
        let b = d.to_bytes(true);
        assert_eq!(b.len(), 44);
        assert_eq!(Termios::from_bytes(&b, &d), d);
        assert_eq!(Termios::from_bytes(&d.to_bytes(false), &d), d);
    }
}
