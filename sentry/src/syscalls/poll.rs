//! poll, ppoll, select and pselect6, over the readiness every file reports ([`poll_file`], also
//! used by epoll). A wait is a task waiting at its syscall: retried by the scheduler after other
//! tasks' syscalls, woken by its deadline, or by the inherited host fds it watches (the scheduler
//! polls them while it sleeps).

use super::int_arg;
use crate::bail;
use crate::errors::{Errno, SysResult};
use crate::kernel::fd::File;
use crate::kernel::Task;
use crate::mm::UserAddr;
use std::os::fd::AsRawFd;

const POLLIN: i16 = 0x001;
const POLLPRI: i16 = 0x002;
const POLLOUT: i16 = 0x004;
const POLLERR: i16 = 0x008;
const POLLHUP: i16 = 0x010;
const POLLNVAL: i16 = 0x020;
const POLLRDNORM: i16 = 0x040;
const POLLWRNORM: i16 = 0x100;

/// What a file of the sandbox always reports (DEFAULT_POLLMASK).
const ALWAYS: i16 = POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM;

#[derive(Clone, Copy)]
struct Entry {
    fd: i32,
    events: i16,
    revents: i16,
}

/// The events `f` reports now: files of the sandbox's filesystem are always ready (as regular
/// files are on Linux), pipes, event fds and sockets say, inherited host fds are asked with a
/// zero-timeout host poll.
pub fn poll_file(t: &Task, f: &File) -> i16 {
    match f {
        File::Vfs(_) => ALWAYS,
        File::Pipe(p) => p.poll_events(),
        File::Anon(a) => a.poll(t),
        File::Host(h) => {
            let mut fds = [libc::pollfd {
                fd: h.fd.as_raw_fd(),
                events: POLLIN | POLLOUT | POLLPRI | POLLRDNORM | POLLWRNORM,
                revents: 0,
            }];
            match crate::host::poll(&mut fds, 0) {
                Ok(_) => fds[0].revents,
                Err(_) => POLLERR,
            }
        }
    }
}

/// A number that changes whenever something happens to `f` (for EPOLLET); 0 for files whose
/// readiness never changes or is not tracked.
pub fn file_generation(f: &File) -> u64 {
    match f {
        File::Pipe(p) => p.pipe.generation.get(),
        File::Anon(a) => a.generation(),
        File::Vfs(_) | File::Host(_) => 0,
    }
}

/// The inherited host fds among `files`, with the events wanted: what the scheduler watches
/// while the task waits.
pub fn host_fds_of(files: &[(std::rc::Rc<File>, i16)]) -> Vec<(i32, i16)> {
    files
        .iter()
        .flat_map(|(f, ev)| match &**f {
            File::Host(h) => vec![(h.fd.as_raw_fd(), *ev)],
            // A socket connected outside the sandbox: its host socket (or UDP relays).
            File::Anon(a) => a
                .as_any()
                .downcast_ref::<super::socket::inet::InetSocket>()
                .map(|s| s.host_wait(*ev))
                .unwrap_or_default(),
            _ => Vec::new(),
        })
        .collect()
}

/// Fills in `revents`; returns how many entries are ready. With none ready and a timeout, the
/// task waits (EBLOCK, with the timeout as its deadline and the host fds for the scheduler to
/// watch) until a retry finds one ready.
fn scan(t: &mut Task, entries: &mut [Entry], timeout_ms: i32) -> Result<usize, Errno> {
    let mut files = Vec::new();
    for e in entries.iter_mut() {
        e.revents = 0;
        if e.fd < 0 {
            continue;
        }
        match t.fds.get(e.fd) {
            None => e.revents = POLLNVAL,
            Some(f) => {
                e.revents = poll_file(t, &f) & (e.events | POLLERR | POLLHUP);
                files.push((f, e.events));
            }
        }
    }
    let ready = entries.iter().filter(|e| e.revents != 0).count();
    if ready > 0 || timeout_ms == 0 {
        return Ok(ready);
    }
    if timeout_ms > 0 {
        t.wait.start_timeout(abi::Timespec {
            tv_sec: i64::from(timeout_ms / 1000),
            tv_nsec: i64::from(timeout_ms % 1000) * 1_000_000,
        });
    }
    if t.wait.expired() {
        return Ok(0);
    }
    t.wait.host_fds = host_fds_of(&files);
    Err(Errno::new(crate::errors::EBLOCK))
}

fn timeout_from_ts(t: &Task, addr: u64) -> Result<i32, Errno> {
    if addr == 0 {
        return Ok(-1);
    }
    let ts: abi::Timespec = t.mm.read_obj(UserAddr(addr))?;
    if ts.tv_sec < 0 || !(0..1_000_000_000).contains(&ts.tv_nsec) {
        bail!(EINVAL, "bad timeout");
    }
    let ms = ts
        .tv_sec
        .saturating_mul(1000)
        .saturating_add((ts.tv_nsec + 999_999) / 1_000_000);
    Ok(i32::try_from(ms).unwrap_or(i32::MAX))
}

fn do_poll(t: &mut Task, addr: u64, nfds: u64, timeout_ms: i32) -> SysResult {
    let n = usize::try_from(nfds & 0xffff_ffff).unwrap_or(usize::MAX);
    if n > usize::try_from(t.rlimits[abi::RLIMIT_NOFILE].cur).unwrap_or(usize::MAX) {
        bail!(EINVAL, "more fds than RLIMIT_NOFILE");
    }
    let raw: Vec<[u8; 8]> = t.mm.read_objs(UserAddr(addr), n)?;
    let mut entries: Vec<Entry> = raw
        .iter()
        .map(|r| Entry {
            fd: i32::from_ne_bytes([r[0], r[1], r[2], r[3]]),
            events: i16::from_ne_bytes([r[4], r[5]]) | POLLERR | POLLHUP,
            revents: 0,
        })
        .collect();
    let ready = scan(t, &mut entries, timeout_ms)?;
    for (i, e) in entries.iter().enumerate() {
        t.mm.write_obj(UserAddr(addr + i as u64 * 8 + 6), &e.revents)?;
    }
    Ok(ready as u64)
}

pub fn poll(t: &mut Task, a: [u64; 6]) -> SysResult {
    do_poll(t, a[0], a[1], int_arg(a[2]))
}

pub fn ppoll(t: &mut Task, a: [u64; 6]) -> SysResult {
    if a[3] != 0 && a[4] != 8 {
        bail!(EINVAL, "sigsetsize");
    }
    let timeout = timeout_from_ts(t, a[2])?;
    if a[3] != 0 {
        crate::kernel::signal::wait_mask(t, a[3])?;
        // A signal the new mask lets through ends the call first (EINTR, even with a zero
        // timeout), its handler running with the old mask back.
        if crate::kernel::signal::deliverable(t) {
            return Err(Errno::new(crate::errors::EBLOCK));
        }
    }
    do_poll(t, a[0], a[1], timeout)
}

/// select's three fd sets, as poll entries and back.
fn do_select(t: &mut Task, nfds: i32, sets: [u64; 3], timeout_ms: i32) -> Result<u64, Errno> {
    if nfds < 0 {
        bail!(EINVAL);
    }
    let n = usize::try_from(nfds).unwrap_or(0).min(1 << 20);
    let bytes = n.div_ceil(64) * 8;
    let mut bits: [Vec<u8>; 3] = [vec![0; bytes], vec![0; bytes], vec![0; bytes]];
    for (k, &addr) in sets.iter().enumerate() {
        if addr != 0 {
            t.mm.copy_in(UserAddr(addr), &mut bits[k])?;
        }
    }
    let is_set = |b: &[u8], fd: usize| b[fd / 8] & (1 << (fd % 8)) != 0;
    let mut entries = Vec::new();
    for fd in 0..n {
        let mut ev = 0;
        if is_set(&bits[0], fd) {
            ev |= POLLIN;
        }
        if is_set(&bits[1], fd) {
            ev |= POLLOUT;
        }
        if is_set(&bits[2], fd) {
            ev |= POLLPRI;
        }
        if ev != 0 {
            if t.fds.get(fd as i32).is_none() {
                bail!(EBADF, "fd {fd} in a set is not open");
            }
            entries.push(Entry {
                fd: fd as i32,
                events: ev,
                revents: 0,
            });
        }
    }
    scan(t, &mut entries, timeout_ms)?;
    let mut out: [Vec<u8>; 3] = [vec![0; bytes], vec![0; bytes], vec![0; bytes]];
    let mut count = 0u64;
    for e in &entries {
        let fd = usize::try_from(e.fd).unwrap_or(0);
        let mut set = |k: usize| {
            out[k][fd / 8] |= 1 << (fd % 8);
            count += 1;
        };
        if e.events & POLLIN != 0 && e.revents & (POLLIN | POLLHUP | POLLERR) != 0 {
            set(0);
        }
        if e.events & POLLOUT != 0 && e.revents & (POLLOUT | POLLERR) != 0 {
            set(1);
        }
        if e.events & POLLPRI != 0 && e.revents & POLLPRI != 0 {
            set(2);
        }
    }
    for (k, &addr) in sets.iter().enumerate() {
        if addr != 0 {
            t.mm.copy_out(UserAddr(addr), &out[k])?;
        }
    }
    Ok(count)
}

pub fn select(t: &mut Task, a: [u64; 6]) -> SysResult {
    let timeout = if a[4] == 0 {
        -1
    } else {
        let tv: abi::Timeval = t.mm.read_obj(UserAddr(a[4]))?;
        if tv.tv_sec < 0 || !(0..1_000_000).contains(&tv.tv_usec) {
            bail!(EINVAL, "bad timeout");
        }
        let ms = tv
            .tv_sec
            .saturating_mul(1000)
            .saturating_add((tv.tv_usec + 999) / 1000);
        i32::try_from(ms).unwrap_or(i32::MAX)
    };
    let start = std::time::Instant::now();
    let r = do_select(t, int_arg(a[0]), [a[1], a[2], a[3]], timeout)?;
    if a[4] != 0 {
        // Linux writes back the time left.
        let left = u64::try_from(timeout)
            .unwrap_or(0)
            .saturating_mul(1000)
            .saturating_sub(u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX));
        let tv = abi::Timeval {
            tv_sec: (left / 1_000_000) as i64,
            tv_usec: (left % 1_000_000) as i64,
        };
        t.mm.write_obj(UserAddr(a[4]), &tv)?;
    }
    Ok(r)
}

pub fn pselect6(t: &mut Task, a: [u64; 6]) -> SysResult {
    if a[5] != 0 {
        // struct { const sigset_t *ss; size_t ss_len; }
        let sig: [u64; 2] = t.mm.read_obj(UserAddr(a[5]))?;
        if sig[0] != 0 && sig[1] != 8 {
            bail!(EINVAL, "sigsetsize");
        }
        if sig[0] != 0 {
            crate::kernel::signal::wait_mask(t, sig[0])?;
            if crate::kernel::signal::deliverable(t) {
                return Err(Errno::new(crate::errors::EBLOCK));
            }
        }
    }
    let timeout = timeout_from_ts(t, a[4])?;
    do_select(t, int_arg(a[0]), [a[1], a[2], a[3]], timeout)
}
