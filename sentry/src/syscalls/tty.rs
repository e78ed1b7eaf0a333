//! Pseudo-terminals as files: /dev/ptmx opens a master, /dev/pts/N its slave, /dev/tty the
//! caller's controlling terminal; reads, writes, poll and the terminal ioctls; controlling
//! terminals, foreground process groups and job control (SIGTTIN, SIGTTOU, SIGHUP on hangup).
//! The line discipline itself is [`crate::vfs::tty`].

use crate::errors::{Errno, SysResult, EBLOCK};
use crate::kernel::fd::{Anon, File};
use crate::kernel::signal::{SigInfo, SI_KERNEL, SI_USER};
use crate::kernel::{Kernel, Task};
use crate::mm::{Access, UserAddr};
use crate::vfs::tty::{Terminal, Termios, Winsize, ICANON, TOSTOP, VMIN, VTIME};
use crate::vfs::{self, Device, Inode, Kind, Meta, S_IFCHR};
use crate::{bail, errno};
use abi::MAX_RW_COUNT;
use std::cell::{Cell, RefCell};
use std::rc::Rc;

/// At most this many terminals at once (/proc/sys/kernel/pty/max).
pub const MAX_PTYS: u32 = 4096;
/// The group that owns /dev/pts/N (tty).
const TTY_GID: u32 = 5;

const TCGETS: u64 = 0x5401;
const TCSETS: u64 = 0x5402;
const TCSETSW: u64 = 0x5403;
const TCSETSF: u64 = 0x5404;
const TCSBRK: u64 = 0x5409;
const TCXONC: u64 = 0x540a;
const TCFLSH: u64 = 0x540b;
const TIOCEXCL: u64 = 0x540c;
const TIOCNXCL: u64 = 0x540d;
const TIOCSCTTY: u64 = 0x540e;
const TIOCGPGRP: u64 = 0x540f;
const TIOCSPGRP: u64 = 0x5410;
const TIOCOUTQ: u64 = 0x5411;
const TIOCSTI: u64 = 0x5412;
const TIOCGWINSZ: u64 = 0x5413;
const TIOCSWINSZ: u64 = 0x5414;
const TIOCMGET: u64 = 0x5415;
const FIONREAD: u64 = 0x541b;
const TIOCNOTTY: u64 = 0x5422;
const TIOCSETD: u64 = 0x5423;
const TIOCGETD: u64 = 0x5424;
const TCSBRKP: u64 = 0x5425;
const TIOCGSID: u64 = 0x5429;
const TCGETS2: u64 = 0x802c_542a;
const TCSETS2: u64 = 0x402c_542b;
const TCSETSW2: u64 = 0x402c_542c;
const TCSETSF2: u64 = 0x402c_542d;
const TIOCGPTN: u64 = 0x8004_5430;
const TIOCSPTLCK: u64 = 0x4004_5431;
const TIOCGDEV: u64 = 0x8004_5432;
const TIOCSIG: u64 = 0x4004_5436;
const TIOCGPKT: u64 = 0x8004_5438;
const TIOCGPTLCK: u64 = 0x8004_5439;
const TIOCGEXCL: u64 = 0x8004_5440;
const TIOCGPTPEER: u64 = 0x5441;
const TIOCPKT: u64 = 0x5420;

fn makedev(major: u64, minor: u64) -> u64 {
    ((major & 0xfff) << 8) | (minor & 0xff) | ((minor & !0xff) << 12) | ((major & !0xfff) << 32)
}

/// The master side of a terminal.
#[derive(Debug)]
pub struct PtyMaster {
    pub term: Rc<Terminal>,
    flags: Cell<u32>,
    /// /dev/pts/ptmx (fstat) and the devpts root its slave's node is in.
    ptmx: Rc<Inode>,
    pts: Rc<Inode>,
}

impl Drop for PtyMaster {
    fn drop(&mut self) {
        // The last master fd is gone: the slave hangs up and its node goes.
        let t = &self.term;
        t.master_open.set(false);
        t.generation.set(t.generation.get() + 1);
        self.pts.unlink_child(t.index.to_string().as_bytes());
        HANGUPS.with(|h| h.borrow_mut().push(t.clone()));
    }
}

thread_local! {
    /// Terminals whose master closed, for the scheduler to signal their sessions
    /// ([`hang_up_sessions`]): a file is dropped where the process table may be borrowed.
    static HANGUPS: RefCell<Vec<Rc<Terminal>>> = const { RefCell::new(Vec::new()) };
}

/// The slave side of a terminal.
#[derive(Debug)]
pub struct PtySlave {
    pub term: Rc<Terminal>,
    flags: Cell<u32>,
    /// The node it was opened by (/dev/pts/N, or /dev/tty) and that path.
    node: Rc<Inode>,
    name: Vec<u8>,
}

impl Drop for PtySlave {
    fn drop(&mut self) {
        let t = &self.term;
        t.slaves.set(t.slaves.get().saturating_sub(1));
        if t.slaves.get() == 0 {
            t.other_closed.set(true);
        }
        t.generation.set(t.generation.get() + 1);
    }
}

/// Bytes from the guest ranges `iov`, skipping `skip` and taking at most `max`; stops at the
/// first inaccessible byte.
fn gather(t: &Task, iov: &[(u64, usize)], skip: usize, max: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut skipped = 0usize;
    for &(addr, len) in iov {
        let (mut addr, mut len) = (addr, len);
        if skipped < skip {
            let s = (skip - skipped).min(len);
            skipped += s;
            addr += s as u64;
            len -= s;
        }
        let len = len.min(max - out.len());
        if len == 0 {
            if out.len() >= max {
                break;
            }
            continue;
        }
        let ranges = t.mm.prefix_ranges(UserAddr(addr), len, Access::Read);
        let mut got = 0;
        for (off, n) in ranges {
            let at = out.len();
            out.resize(at + n, 0);
            t.mm.memory().file.read(off, &mut out[at..]);
            got += n;
        }
        if got < len {
            break;
        }
    }
    out
}

/// The writable prefix of the guest ranges `iov` (at most `max` bytes) as memory-file ranges.
fn writable(t: &Task, iov: &[(u64, usize)], max: usize) -> Vec<(u64, usize)> {
    let mut out = Vec::new();
    let mut total = 0usize;
    for &(addr, len) in iov {
        let len = len.min(max - total);
        if len == 0 {
            continue;
        }
        let pre = t.mm.prefix_ranges(UserAddr(addr), len, Access::Write);
        let got: usize = pre.iter().map(|r| r.1).sum();
        out.extend(pre);
        total += got;
        if got < len {
            break;
        }
    }
    out
}

fn put(t: &Task, ranges: &[(u64, usize)], data: &[u8]) {
    let mut done = 0;
    for &(off, n) in ranges {
        let k = n.min(data.len() - done);
        if k == 0 {
            break;
        }
        t.mm.memory().file.write(off, &data[done..done + k]);
        done += k;
    }
}

fn total(iov: &[(u64, usize)]) -> usize {
    iov.iter()
        .fold(0usize, |a, r| a.saturating_add(r.1))
        .min(MAX_RW_COUNT)
}

/// Sends `sig` to every live process of group `pgid`, from the kernel.
pub fn signal_group(k: &Kernel, pgid: i32, sig: i32) {
    if pgid <= 0 {
        return;
    }
    signal_group_info(
        k,
        pgid,
        sig,
        SigInfo {
            code: SI_KERNEL,
            ..SigInfo::default()
        },
    );
}

/// [`signal_group`] with the siginfo given.
fn signal_group_info(k: &Kernel, pgid: i32, sig: i32, info: SigInfo) {
    if pgid <= 0 {
        return;
    }
    for p in k.procs.borrow_mut().procs.values_mut() {
        if p.pgid == pgid && p.zombie.is_none() {
            p.pending.push((sig, info));
        }
    }
}

/// Whether `term` is the caller's controlling terminal.
fn is_ctty(t: &Task, term: &Terminal) -> bool {
    let procs = t.k.procs.borrow();
    procs
        .get(t.tgid)
        .is_some_and(|p| p.tty == Some(term.index) && term.session.get() == p.sid)
}

/// Job control (Linux's tty_check_change): a process of a background group touching its
/// controlling terminal gets `sig` (SIGTTIN for reads, SIGTTOU for writes with TOSTOP and for
/// changes) and waits to be continued; EIO where nobody could continue it. Ignoring or blocking
/// SIGTTOU lets the change through; ignoring or blocking SIGTTIN makes the read fail.
fn job_control(t: &mut Task, term: &Terminal, sig: i32) -> Result<(), Errno> {
    if !is_ctty(t, term) {
        return Ok(());
    }
    let (pgid, fg) = {
        let procs = t.k.procs.borrow();
        (procs.get(t.tgid).map_or(0, |p| p.pgid), term.pgrp.get())
    };
    if fg == 0 || fg == pgid {
        return Ok(());
    }
    let bit = abi::signal::bit(sig);
    let ignored = t.signals.mask & bit != 0 || t.signals.action(sig).handler == 1;
    if ignored {
        return if sig == libc::SIGTTIN {
            Err(errno!(EIO, "background read with SIGTTIN ignored"))
        } else {
            Ok(())
        };
    }
    if t.k.procs.borrow().pgrp_orphaned(t.tgid) {
        bail!(EIO, "an orphaned background group");
    }
    // Sent once per wait: the stop (or a handler) ends it; after SIGCONT the call is tried
    // again.
    let queued = t.signals.pending & bit != 0
        || t.k
            .procs
            .borrow()
            .get(t.tgid)
            .is_some_and(|p| p.pending.iter().any(|&(s, _)| s == sig));
    if !queued {
        signal_group(&t.k, pgid, sig);
    }
    Err(Errno::new(EBLOCK))
}

/// A file's access mode allows reading / writing.
fn can(flags: u32, write: bool) -> bool {
    let acc = flags & libc::O_ACCMODE as u32;
    acc == libc::O_RDWR as u32 || (acc == libc::O_WRONLY as u32) == write
}

/// Terminal writes copy at most this much at a time: a bad buffer past the first chunk ends
/// the write short, within it fails it (EFAULT), as Linux's tty_write.
const WRITE_CHUNK: usize = 2048;

/// The bytes of a write from the guest ranges (from `done`, at most `max`), cut as Linux's
/// chunked copy cuts them at a bad buffer. Err(EFAULT) if nothing is accessible; the flag
/// says the write must end after these.
fn gather_chunks(
    t: &Task,
    iov: &[(u64, usize)],
    done: usize,
    max: usize,
) -> Result<(Vec<u8>, bool), Errno> {
    let mut data = gather(t, iov, done, max);
    if data.len() == max {
        return Ok((data, false));
    }
    let good = data.len() / WRITE_CHUNK * WRITE_CHUNK;
    if good == 0 {
        bail!(EFAULT);
    }
    data.truncate(good);
    Ok((data, true))
}

/// A bad read buffer: Linux takes the bytes off the terminal into a kernel buffer (at most 64
/// at a time) before failing to copy them out, so they are lost.
const READ_CHUNK: usize = 64;

impl PtyMaster {
    fn read(&self, t: &mut Task, iov: &[(u64, usize)]) -> SysResult {
        if !can(self.flags.get(), false) {
            bail!(EBADF, "not open for reading");
        }
        let want = total(iov);
        if want == 0 {
            return Ok(0);
        }
        let term = &self.term;
        if term.master_available() == 0 {
            if term.other_closed.get() {
                bail!(EIO, "the slave is closed");
            }
            if self.nonblocking() {
                bail!(EAGAIN);
            }
            return Err(Errno::new(EBLOCK));
        }
        let ranges = writable(t, iov, want);
        let cap: usize = ranges.iter().map(|r| r.1).sum();
        if cap == 0 {
            term.master_read(READ_CHUNK.min(want));
            bail!(EFAULT);
        }
        let data = term.master_read(cap);
        put(t, &ranges, &data);
        Ok(data.len() as u64)
    }

    fn write(&self, t: &mut Task, iov: &[(u64, usize)]) -> SysResult {
        if !can(self.flags.get(), true) {
            bail!(EBADF, "not open for writing");
        }
        let term = self.term.clone();
        write_through(t, iov, self.nonblocking(), term.input_room(), |t, data| {
            let (n, sigs) = term.master_write(data);
            for sig in sigs {
                signal_group(&t.k, term.pgrp.get(), sig);
            }
            n
        })
    }
}

/// A terminal write of `iov` into a side with `room` bytes free (`push` takes what it can):
/// the whole of it, waiting while there is no room (the bytes done so far kept in the wait's
/// progress), unless non-blocking; a bad buffer ends it as Linux's chunked copy does.
fn write_through(
    t: &mut Task,
    iov: &[(u64, usize)],
    nonblocking: bool,
    room: usize,
    push: impl FnOnce(&mut Task, &[u8]) -> usize,
) -> SysResult {
    let want = total(iov);
    let done = t.wait.progress;
    if room == 0 && done < want {
        if nonblocking {
            return if done == 0 {
                Err(errno!(EAGAIN))
            } else {
                Ok(done as u64)
            };
        }
        return Err(Errno::new(EBLOCK));
    }
    let (data, cut) = match gather_chunks(t, iov, done, room.min(want - done)) {
        Ok(d) => d,
        Err(e) if done == 0 => return Err(e),
        Err(_) => return Ok(done as u64),
    };
    let done = done + push(t, &data);
    if done >= want || cut || nonblocking {
        return Ok(done as u64);
    }
    t.wait.progress = done;
    Err(Errno::new(EBLOCK))
}

impl Anon for PtyMaster {
    fn name(&self) -> Vec<u8> {
        b"/dev/pts/ptmx".to_vec()
    }

    fn stat(&self, _uid: u32, _gid: u32) -> abi::Stat {
        self.ptmx.stat()
    }

    fn flags(&self) -> &Cell<u32> {
        &self.flags
    }

    fn poll(&self, _t: &Task) -> i16 {
        let term = &self.term;
        let mut ev = 0;
        if term.master_available() > 0 {
            ev |= libc::POLLIN | libc::POLLRDNORM;
        }
        if term.input_room() > 0 {
            ev |= libc::POLLOUT | libc::POLLWRNORM;
        }
        if term.other_closed.get() {
            ev |= libc::POLLHUP;
        }
        ev
    }

    fn read(&self, t: &mut Task, iov: &[(u64, usize)]) -> SysResult {
        PtyMaster::read(self, t, iov)
    }

    fn write(&self, t: &mut Task, iov: &[(u64, usize)]) -> SysResult {
        PtyMaster::write(self, t, iov)
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn generation(&self) -> u64 {
        self.term.generation.get()
    }

    fn readable_bytes(&self) -> Option<usize> {
        Some(self.term.master_available())
    }
}

impl PtySlave {
    fn read(&self, t: &mut Task, iov: &[(u64, usize)]) -> SysResult {
        if !can(self.flags.get(), false) {
            bail!(EBADF, "not open for reading");
        }
        let term = self.term.clone();
        job_control(t, &term, libc::SIGTTIN)?;
        let want = total(iov);
        if want == 0 {
            return Ok(0);
        }
        let tio = term.termios.get();
        let avail = term.slave_available();
        let canonical = tio.lflag & ICANON != 0;
        let (vmin, vtime) = (usize::from(tio.cc[VMIN]), tio.cc[VTIME]);
        let ready = if canonical {
            term.slave_readable()
        } else {
            avail >= vmin.min(want).max(1)
        };
        let take = |t: &mut Task| -> SysResult {
            let ranges = writable(t, iov, want);
            let cap: usize = ranges.iter().map(|r| r.1).sum();
            if cap == 0 {
                term.slave_read(READ_CHUNK.min(want));
                bail!(EFAULT);
            }
            let data = term.slave_read(cap).unwrap_or_default();
            put(t, &ranges, &data);
            Ok(data.len() as u64)
        };
        if term.hung_up() {
            // A read that was waiting when the master went fails; later ones read nothing.
            return if t.wait.waited {
                Err(errno!(EIO, "hung up"))
            } else {
                Ok(0)
            };
        }
        if ready {
            return take(t);
        }
        if !canonical {
            if vmin == 0 && vtime == 0 {
                return take(t);
            }
            if vtime > 0 && (vmin == 0 || avail > 0) {
                let ms = i64::from(vtime) * 100;
                t.wait.start_timeout(abi::Timespec {
                    tv_sec: ms / 1000,
                    tv_nsec: (ms % 1000) * 1_000_000,
                });
                if t.wait.expired() {
                    return take(t);
                }
            }
            if self.nonblocking() {
                return if avail > 0 {
                    take(t)
                } else {
                    Err(errno!(EAGAIN))
                };
            }
        } else if self.nonblocking() {
            bail!(EAGAIN);
        }
        t.wait.waited = true;
        Err(Errno::new(EBLOCK))
    }

    fn write(&self, t: &mut Task, iov: &[(u64, usize)]) -> SysResult {
        if !can(self.flags.get(), true) {
            bail!(EBADF, "not open for writing");
        }
        let term = self.term.clone();
        if term.termios.get().lflag & TOSTOP != 0 {
            job_control(t, &term, libc::SIGTTOU)?;
        }
        if term.hung_up() {
            bail!(EIO, "the terminal hung up");
        }
        write_through(t, iov, self.nonblocking(), term.output_room(), |_, data| {
            term.slave_write(data)
        })
    }
}

impl Anon for PtySlave {
    fn name(&self) -> Vec<u8> {
        self.name.clone()
    }

    fn stat(&self, _uid: u32, _gid: u32) -> abi::Stat {
        self.node.stat()
    }

    fn flags(&self) -> &Cell<u32> {
        &self.flags
    }

    fn poll(&self, _t: &Task) -> i16 {
        let term = &self.term;
        if term.hung_up() {
            return libc::POLLIN
                | libc::POLLOUT
                | libc::POLLERR
                | libc::POLLHUP
                | libc::POLLRDNORM
                | libc::POLLWRNORM;
        }
        let mut ev = 0;
        let tio = term.termios.get();
        let readable = if tio.lflag & ICANON != 0 {
            term.slave_readable()
        } else {
            let min = if tio.cc[VTIME] == 0 { tio.cc[VMIN] } else { 1 };
            term.slave_available() >= usize::from(min.max(1))
        };
        if readable {
            ev |= libc::POLLIN | libc::POLLRDNORM;
        }
        if term.output_room() > 0 {
            ev |= libc::POLLOUT | libc::POLLWRNORM;
        }
        ev
    }

    fn read(&self, t: &mut Task, iov: &[(u64, usize)]) -> SysResult {
        PtySlave::read(self, t, iov)
    }

    fn write(&self, t: &mut Task, iov: &[(u64, usize)]) -> SysResult {
        PtySlave::write(self, t, iov)
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn generation(&self) -> u64 {
        self.term.generation.get()
    }

    fn readable_bytes(&self) -> Option<usize> {
        Some(self.term.slave_available())
    }
}

// ---- opening ------------------------------------------------------------------------------

/// The devpts root, with its `ptmx` node: made when the sandbox's tree is built.
pub fn populate_devpts(root: &Rc<Inode>) {
    let mut meta = Meta::new(S_IFCHR | 0o666, 0, 0);
    meta.rdev = makedev(5, 2);
    let n = Inode::new_memory(&root.fs, meta, Kind::Device(Device::Ptmx));
    root.link_child(b"ptmx", n);
}

/// A new terminal: its master (for a guest fd, or a console) and /dev/pts/N.
pub fn new_pty(k: &Kernel, owner: (u32, u32)) -> Result<PtyMaster, Errno> {
    let pts = k
        .pts_root
        .borrow()
        .clone()
        .ok_or_else(|| errno!(ENODEV, "no devpts"))?;
    let ptmx = pts
        .dir()
        .and_then(|d| d.entries.borrow().get(&b"ptmx"[..]).cloned())
        .and_then(|e| match e {
            vfs::Entry::Node(n) => Some(n),
            _ => None,
        })
        .ok_or_else(|| errno!(ENODEV, "no ptmx"))?;
    let mut ttys = k.ttys.borrow_mut();
    ttys.retain(|_, w| w.strong_count() > 0);
    let index = (0..MAX_PTYS)
        .find(|i| !ttys.contains_key(i))
        .ok_or_else(|| errno!(ENOSPC, "no free terminal"))?;
    let term = Rc::new(Terminal::new(index, owner));
    ttys.insert(index, Rc::downgrade(&term));
    let mut meta = Meta::new(S_IFCHR | 0o620, owner.0, TTY_GID);
    meta.rdev = makedev(136, u64::from(index));
    let node = Inode::new_memory(&pts.fs, meta, Kind::Device(Device::Pty(index)));
    pts.link_child(index.to_string().as_bytes(), node);
    Ok(PtyMaster {
        term,
        flags: Cell::new(libc::O_RDWR as u32),
        ptmx,
        pts,
    })
}

/// Opens a slave of `term` (its node `node`) with open flags `flags`; it becomes the caller's
/// controlling terminal if the caller leads a session without one and `noctty` is not set.
fn open_slave_file(
    t: &Task,
    term: &Rc<Terminal>,
    node: Rc<Inode>,
    flags: u32,
    noctty: bool,
) -> Result<PtySlave, Errno> {
    if term.locked.get() {
        bail!(EIO, "locked (unlockpt not called)");
    }
    if term.hung_up() {
        bail!(EIO, "the master is closed");
    }
    if term.exclusive.get() && t.creds.euid != 0 {
        bail!(EBUSY, "TIOCEXCL");
    }
    term.slaves.set(term.slaves.get() + 1);
    term.other_closed.set(false);
    if !noctty {
        let mut procs = t.k.procs.borrow_mut();
        if let Some(p) = procs.procs.get_mut(&t.tgid) {
            if p.sid == t.tgid && p.tty.is_none() && term.session.get() == 0 {
                p.tty = Some(term.index);
                term.session.set(p.sid);
                term.pgrp.set(p.pgid);
            }
        }
    }
    Ok(PtySlave {
        term: term.clone(),
        flags: Cell::new(flags),
        node,
        name: format!("/dev/pts/{}", term.index).into_bytes(),
    })
}

/// The node of /dev/pts/N.
fn pts_node(k: &Kernel, index: u32) -> Option<Rc<Inode>> {
    let pts = k.pts_root.borrow().clone()?;
    let e = pts
        .dir()?
        .entries
        .borrow()
        .get(index.to_string().as_bytes())
        .cloned()?;
    match e {
        vfs::Entry::Node(n) => Some(n),
        _ => None,
    }
}

fn terminal(k: &Kernel, index: u32) -> Option<Rc<Terminal>> {
    k.ttys.borrow().get(&index).and_then(std::rc::Weak::upgrade)
}

/// open of a terminal device node: /dev/ptmx (a new master), /dev/pts/N (a slave), /dev/tty
/// (the caller's controlling terminal). `flags` are the description's flags.
pub fn open_device(
    t: &mut Task,
    dev: Device,
    node: &Rc<Inode>,
    flags: u32,
    noctty: bool,
    cloexec: bool,
) -> SysResult {
    let file: Box<dyn Anon> = match dev {
        Device::Ptmx => {
            let m = new_pty(&t.k, (t.creds.euid, t.creds.egid))?;
            m.flags.set(flags);
            Box::new(m)
        }
        Device::Pty(n) => {
            let term = terminal(&t.k, n).ok_or_else(|| errno!(EIO, "no such terminal"))?;
            Box::new(open_slave_file(t, &term, node.clone(), flags, noctty)?)
        }
        Device::Tty => {
            let index =
                t.k.procs
                    .borrow()
                    .get(t.tgid)
                    .and_then(|p| p.tty)
                    .ok_or_else(|| errno!(ENXIO, "no controlling terminal"))?;
            let term = terminal(&t.k, index).ok_or_else(|| errno!(ENXIO))?;
            // fstat and /proc/PID/fd show /dev/tty itself (5:0), as Linux.
            let mut f = open_slave_file(t, &term, node.clone(), flags, true)?;
            f.name = b"/dev/tty".to_vec();
            Box::new(f)
        }
        _ => bail!(ENXIO),
    };
    super::eventfd::install(t, file, cloexec)
}

// ---- ioctls -------------------------------------------------------------------------------

/// The terminal ioctls, for a master or slave file (None: not a terminal).
pub fn ioctl(t: &mut Task, f: &File, req: u64, arg: u64) -> Option<SysResult> {
    let File::Anon(an) = f else {
        return None;
    };
    let any = an.as_any();
    let (term, master) = if let Some(m) = any.downcast_ref::<PtyMaster>() {
        (m.term.clone(), Some(m))
    } else if let Some(s) = any.downcast_ref::<PtySlave>() {
        (s.term.clone(), None)
    } else {
        return None;
    };
    Some(term_ioctl(t, &term, master, req, arg))
}

fn term_ioctl(
    t: &mut Task,
    term: &Rc<Terminal>,
    master: Option<&PtyMaster>,
    req: u64,
    arg: u64,
) -> SysResult {
    let out = UserAddr(arg);
    let is_master = master.is_some();
    // A hung-up slave answers nothing but EIO (TIOCGSID and friends too, as hung_up_tty_ioctl).
    if !is_master && term.hung_up() && req != TIOCSPGRP {
        bail!(EIO, "the terminal hung up");
    }
    match req {
        TCGETS | TCGETS2 => {
            t.mm.copy_out(out, &term.termios.get().to_bytes(req == TCGETS2))?;
        }
        TCSETS | TCSETSW | TCSETSF | TCSETS2 | TCSETSW2 | TCSETSF2 => {
            let len = if matches!(req, TCSETS | TCSETSW | TCSETSF) {
                36
            } else {
                44
            };
            let mut b = vec![0u8; len];
            t.mm.copy_in(out, &mut b)?;
            if !is_master {
                job_control(t, term, libc::SIGTTOU)?;
            }
            if matches!(req, TCSETSF | TCSETSF2) {
                term.flush(true, false);
            }
            term.set_termios(Termios::from_bytes(&b, &term.termios.get()));
        }
        TIOCGWINSZ => t.mm.copy_out(out, &term.winsize.get().to_bytes())?,
        TIOCSWINSZ => {
            let b: [u8; 8] = t.mm.read_obj(out)?;
            let ws = Winsize::from_bytes(b);
            if term.winsize.replace(ws) != ws {
                signal_group(&t.k, term.pgrp.get(), libc::SIGWINCH);
            }
        }
        FIONREAD => {
            let n = if is_master {
                term.master_available()
            } else {
                term.slave_available()
            };
            t.mm.write_obj(out, &i32::try_from(n).unwrap_or(i32::MAX))?;
        }
        // A pty holds no output of its own: what was written is the other side's input.
        TIOCOUTQ => t.mm.write_obj(out, &0i32)?,
        TCFLSH => {
            let (input, output) = match arg {
                0 => (true, false),
                1 => (false, true),
                2 => (true, true),
                _ => bail!(EINVAL, "TCFLSH {arg}"),
            };
            if !is_master {
                job_control(t, term, libc::SIGTTOU)?;
            }
            // Only what this side would read goes: written output is already the other
            // side's input (Linux's pty has no output queue to flush).
            let _ = output;
            if input {
                if is_master {
                    term.flush(false, true);
                } else {
                    term.flush(true, false);
                }
            }
        }
        // Output is never held back: draining and breaks have nothing to wait for.
        TCSBRK | TCSBRKP => {}
        TCXONC => {
            if arg > 3 {
                bail!(EINVAL, "TCXONC {arg}");
            }
        }
        TIOCEXCL => term.exclusive.set(true),
        TIOCNXCL => term.exclusive.set(false),
        TIOCGEXCL => t.mm.write_obj(out, &i32::from(term.exclusive.get()))?,
        TIOCGETD => t.mm.write_obj(out, &0i32)?,
        TIOCSETD => {
            let ld: i32 = t.mm.read_obj(out)?;
            if ld != 0 {
                bail!(EINVAL, "only N_TTY");
            }
        }
        TIOCSCTTY => set_ctty(t, term, is_master, arg)?,
        TIOCNOTTY => {
            if is_master || !is_ctty(t, term) {
                bail!(ENOTTY, "not the controlling terminal");
            }
            let leader =
                t.k.procs
                    .borrow()
                    .get(t.tgid)
                    .is_some_and(|p| p.sid == t.tgid);
            if leader {
                disassociate(&t.k, term, Some((t.tgid, t.creds.ruid)));
            } else if let Some(p) = t.k.procs.borrow_mut().procs.get_mut(&t.tgid) {
                p.tty = None;
            }
        }
        TIOCGPGRP => {
            if !is_master && !is_ctty(t, term) {
                bail!(ENOTTY, "not the controlling terminal");
            }
            t.mm.write_obj(out, &term.pgrp.get())?;
        }
        TIOCSPGRP => {
            // On the master too: the slave must be the caller's controlling terminal.
            if !is_ctty(t, term) {
                bail!(ENOTTY, "not the controlling terminal");
            }
            match job_control(t, term, libc::SIGTTOU) {
                // Linux's tiocspgrp turns tty_check_change's EIO into ENOTTY.
                Err(e) if e.code == libc::EIO => bail!(ENOTTY, "an orphaned background group"),
                r => r?,
            }
            let pgrp: i32 = t.mm.read_obj(out)?;
            if pgrp < 0 {
                bail!(EINVAL, "negative process group");
            }
            // The group, or else the process, of that number (find_vpid and session_of_pgrp).
            let procs = t.k.procs.borrow();
            let live = |p: &&crate::kernel::process::Proc| p.zombie.is_none();
            let sid = procs
                .procs
                .values()
                .filter(live)
                .find(|p| p.pgid == pgrp)
                .or_else(|| procs.get(pgrp).filter(live))
                .map(|p| p.sid)
                .ok_or_else(|| errno!(ESRCH, "no process group {pgrp}"))?;
            if sid != term.session.get() {
                bail!(EPERM, "process group {pgrp} is in another session");
            }
            drop(procs);
            term.pgrp.set(pgrp);
        }
        TIOCGSID => {
            if !is_master && !is_ctty(t, term) {
                bail!(ENOTTY, "not the controlling terminal");
            }
            if term.session.get() == 0 {
                bail!(ENOTTY, "no session");
            }
            t.mm.write_obj(out, &term.session.get())?;
        }
        TIOCSTI => {
            // Only into one's own controlling terminal (as Linux without CAP_SYS_ADMIN).
            if !is_ctty(t, term) {
                bail!(EPERM, "TIOCSTI on a terminal that is not the caller's");
            }
            let c: u8 = t.mm.read_obj(out)?;
            let (_, sigs) = term.master_write(&[c]);
            for sig in sigs {
                signal_group(&t.k, term.pgrp.get(), sig);
            }
        }
        TIOCGDEV => {
            // The slave's device on either side, in new_encode_dev's encoding (glibc's).
            let dev = makedev(136, u64::from(term.index));
            t.mm.write_obj(out, &(dev as u32))?;
        }
        TIOCMGET => bail!(ENOTTY, "no modem lines"),
        TIOCGPTN if is_master => t.mm.write_obj(out, &term.index)?,
        TIOCSPTLCK if is_master => {
            let lock: i32 = t.mm.read_obj(out)?;
            term.locked.set(lock != 0);
        }
        TIOCGPTLCK if is_master => t.mm.write_obj(out, &i32::from(term.locked.get()))?,
        TIOCGPKT if is_master => t.mm.write_obj(out, &0i32)?,
        TIOCPKT if is_master => {
            let on: i32 = t.mm.read_obj(out)?;
            if on != 0 {
                t.k.log_partial("TIOCPKT (packet mode)".into());
                bail!(EINVAL, "packet mode is not implemented");
            }
        }
        TIOCSIG if is_master => {
            let sig = i32::try_from(arg).unwrap_or(0);
            if ![libc::SIGINT, libc::SIGQUIT, libc::SIGTSTP].contains(&sig) {
                bail!(EINVAL, "TIOCSIG sends only SIGINT, SIGQUIT or SIGTSTP");
            }
            signal_group(&t.k, term.pgrp.get(), sig);
        }
        TIOCGPTPEER if is_master => {
            // The flags are open's (Linux checks none of them).
            let flags = arg as u32;
            let node = pts_node(&t.k, term.index).ok_or_else(|| errno!(EIO))?;
            let f = open_slave_file(
                t,
                term,
                node,
                flags & !(libc::O_CLOEXEC | libc::O_NOCTTY) as u32,
                flags & libc::O_NOCTTY as u32 != 0,
            )?;
            return super::eventfd::install(t, Box::new(f), flags & libc::O_CLOEXEC as u32 != 0);
        }
        // ptm_open_peer checks the driver after the generic ioctl took the request.
        TIOCGPTPEER => bail!(EIO, "TIOCGPTPEER on a slave"),
        TIOCGPTN | TIOCSPTLCK | TIOCGPTLCK | TIOCGPKT | TIOCPKT | TIOCSIG => {
            bail!(ENOTTY, "a master's ioctl on a slave")
        }
        _ => {
            t.k.log_partial(format!("terminal ioctl {req:#x}"));
            bail!(ENOTTY, "terminal ioctl {req:#x} not implemented");
        }
    }
    Ok(0)
}

/// TIOCSCTTY: the caller, a session leader without a controlling terminal, takes `term`; one
/// that is another session's is taken only with `arg` 1 by root.
fn set_ctty(t: &mut Task, term: &Rc<Terminal>, is_master: bool, arg: u64) -> Result<(), Errno> {
    if is_master {
        t.k.log_partial("TIOCSCTTY on a pty master".into());
        bail!(EINVAL, "a master cannot be a controlling terminal here");
    }
    let (sid, pgid, tty) = {
        let procs = t.k.procs.borrow();
        let p = procs.get(t.tgid).ok_or_else(|| errno!(ESRCH))?;
        (p.sid, p.pgid, p.tty)
    };
    if sid == t.tgid && tty == Some(term.index) && term.session.get() == sid {
        return Ok(());
    }
    if sid != t.tgid || tty.is_some() {
        bail!(EPERM, "not a session leader without a controlling terminal");
    }
    let owner = term.session.get();
    if owner != 0 {
        if arg == 1 && t.creds.euid == 0 {
            // Stolen: the old session loses it.
            for p in t.k.procs.borrow_mut().procs.values_mut() {
                if p.sid == owner && p.tty == Some(term.index) {
                    p.tty = None;
                }
            }
        } else {
            bail!(EPERM, "the controlling terminal of another session");
        }
    }
    if let Some(p) = t.k.procs.borrow_mut().procs.get_mut(&t.tgid) {
        p.tty = Some(term.index);
    }
    term.session.set(sid);
    term.pgrp.set(pgid);
    Ok(())
}

/// The session of `term` loses it (its leader exited, or gave it up with TIOCNOTTY, `by` the
/// caller): the foreground group gets SIGHUP (and SIGCONT unless the leader exited), as Linux's
/// disassociate_ctty.
pub fn disassociate(k: &Kernel, term: &Terminal, by: Option<(i32, u32)>) {
    let sid = term.session.get();
    let fg = term.pgrp.get();
    match by {
        // TIOCNOTTY: sent as by the caller (SI_USER), and continued.
        Some((pid, uid)) => {
            let info = SigInfo {
                code: SI_USER,
                pid,
                uid,
                ..SigInfo::default()
            };
            signal_group_info(k, fg, libc::SIGHUP, info);
            signal_group_info(k, fg, libc::SIGCONT, info);
        }
        None => signal_group(k, fg, libc::SIGHUP),
    }
    for p in k.procs.borrow_mut().procs.values_mut() {
        if p.sid == sid && p.tty == Some(term.index) {
            p.tty = None;
        }
    }
    term.session.set(0);
    term.pgrp.set(0);
}

/// A session leader exited: its controlling terminal (if any) is let go.
pub fn leader_exited(k: &Kernel, tty: u32) {
    if let Some(term) = terminal(k, tty) {
        disassociate(k, &term, None);
    }
}

/// Terminals whose master closed: the session leader gets SIGHUP and SIGCONT, and the session
/// loses its controlling terminal (Linux's tty_vhangup of the slave). Called by the scheduler.
pub fn hang_up_sessions(k: &Kernel) {
    let gone = HANGUPS.with(|h| std::mem::take(&mut *h.borrow_mut()));
    for term in gone {
        let sid = term.session.get();
        if sid == 0 {
            continue;
        }
        let leader_alive = k
            .procs
            .borrow()
            .get(sid)
            .is_some_and(|p| p.zombie.is_none());
        if leader_alive {
            let info = SigInfo {
                code: SI_KERNEL,
                ..SigInfo::default()
            };
            if let Some(p) = k.procs.borrow_mut().procs.get_mut(&sid) {
                p.pending.push((libc::SIGHUP, info));
                p.pending.push((libc::SIGCONT, info));
            }
        }
        for p in k.procs.borrow_mut().procs.values_mut() {
            if p.sid == sid && p.tty == Some(term.index) {
                p.tty = None;
            }
        }
        term.session.set(0);
        term.pgrp.set(0);
    }
}

/// Whether a hangup waits to be handled.
pub fn hangups_pending() -> bool {
    HANGUPS.with(|h| !h.borrow().is_empty())
}

/// A slave of `term` for a console's process (opened by the Sentry itself: no controlling
/// terminal is taken here, see [`crate::kernel::console::attach`]).
pub fn console_slave(k: &Kernel, term: &Rc<Terminal>) -> Result<PtySlave, Errno> {
    let node = pts_node(k, term.index).ok_or_else(|| errno!(EIO, "no /dev/pts node"))?;
    term.slaves.set(term.slaves.get() + 1);
    term.other_closed.set(false);
    Ok(PtySlave {
        term: term.clone(),
        flags: Cell::new(libc::O_RDWR as u32),
        node,
        name: format!("/dev/pts/{}", term.index).into_bytes(),
    })
}
