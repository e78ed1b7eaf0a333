//! Pipes: a buffer in the Sentry shared by a read end and a write end. Reads wait while the pipe
//! is empty and has writers; writes wait while it is full and has readers (PIPE_BUF-sized writes
//! are atomic); the last reader gone makes writes fail with EPIPE (and SIGPIPE); the last writer
//! gone makes reads return end of file.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

/// A pipe's bytes: a ring over one allocation that grows as needed (never past what the pipe
/// lets in). Writers fill it in place ([`Ring::push_with`]): one copy from guest memory.
#[derive(Debug, Default)]
pub struct Ring {
    data: Vec<u8>,
    head: usize,
    len: usize,
}

impl Ring {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The bytes in order, as two slices.
    pub fn as_slices(&self) -> (&[u8], &[u8]) {
        let cap = self.data.len();
        if self.head + self.len <= cap {
            (&self.data[self.head..self.head + self.len], &[])
        } else {
            (
                &self.data[self.head..],
                &self.data[..self.head + self.len - cap],
            )
        }
    }

    /// Discards the first `n` bytes.
    pub fn drain_front(&mut self, n: usize) {
        let n = n.min(self.len);
        self.len -= n;
        self.head = if self.len == 0 || self.data.is_empty() {
            0
        } else {
            (self.head + n) % self.data.len()
        };
    }

    pub fn clear(&mut self) {
        self.head = 0;
        self.len = 0;
    }

    /// Room for `extra` more bytes, in order (the ring is laid out again when it grows).
    fn reserve(&mut self, extra: usize) {
        let need = self.len + extra;
        if need <= self.data.len() {
            return;
        }
        let mut new = vec![0u8; need.max(self.data.len() * 2).max(4096)];
        let (a, b) = self.as_slices();
        new[..a.len()].copy_from_slice(a);
        new[a.len()..a.len() + b.len()].copy_from_slice(b);
        self.data = new;
        self.head = 0;
    }

    /// Appends `n` bytes that `fill` writes in place, in one or two pieces (each call gets the
    /// next piece).
    pub fn push_with(&mut self, n: usize, mut fill: impl FnMut(&mut [u8])) {
        self.reserve(n);
        let cap = self.data.len();
        let tail = (self.head + self.len) % cap;
        let first = n.min(cap - tail);
        fill(&mut self.data[tail..tail + first]);
        if first < n {
            fill(&mut self.data[..n - first]);
        }
        self.len += n;
    }

    pub fn extend_from_slice(&mut self, s: &[u8]) {
        let mut at = 0;
        self.push_with(s.len(), |dst| {
            dst.copy_from_slice(&s[at..at + dst.len()]);
            at += dst.len();
        });
    }

    /// The first `n` bytes (or fewer), copied.
    pub fn front(&self, n: usize) -> Vec<u8> {
        let (a, b) = self.as_slices();
        let mut v = Vec::with_capacity(n.min(self.len));
        v.extend_from_slice(&a[..a.len().min(n)]);
        if n > a.len() {
            v.extend_from_slice(&b[..b.len().min(n - a.len())]);
        }
        v
    }
}

#[cfg(test)]
mod ring_tests {
    use super::Ring;

    #[test]
    fn wraps_grows_and_keeps_order() {
        let mut r = Ring::default();
        r.extend_from_slice(&[1; 3000]);
        r.extend_from_slice(&[2; 1000]);
        r.drain_front(2500);
        // Wraps around the 4096-byte allocation.
        r.extend_from_slice(&[3; 2000]);
        assert_eq!(r.len(), 3500);
        let all = r.front(usize::MAX);
        assert_eq!(&all[..500], &[1; 500][..]);
        assert_eq!(&all[500..1500], &[2; 1000][..]);
        assert_eq!(&all[1500..], &[3; 2000][..]);
        // Grows past it, order kept.
        r.push_with(10_000, |d| d.fill(4));
        let all = r.front(usize::MAX);
        assert_eq!(all.len(), 13_500);
        assert_eq!(&all[1500..3500], &[3; 2000][..]);
        assert!(all[3500..].iter().all(|&b| b == 4));
        r.drain_front(13_500);
        assert!(r.is_empty());
    }
}

/// Writes up to this size are atomic.
pub const PIPE_BUF: usize = 4096;
/// The default capacity (16 pages).
pub const DEFAULT_CAPACITY: usize = 65536;
/// /proc/sys/fs/pipe-max-size.
pub const MAX_CAPACITY: usize = 1 << 20;

#[derive(Debug)]
pub struct Pipe {
    pub buf: RefCell<Ring>,
    pub capacity: Cell<usize>,
    pub readers: Cell<usize>,
    pub writers: Cell<usize>,
    pub ino: u64,
    /// Counts the transfers in and out (EPOLLET sees each as an event).
    pub generation: Cell<u64>,
    /// FIFOs: how many times a reader and a writer opened it (an open waiting for the other
    /// side ends when the other's count moves).
    pub r_opens: Cell<u64>,
    pub w_opens: Cell<u64>,
    /// Packet mode (writers with O_DIRECT): the packets in the buffer, as (stream position of
    /// their first byte, length); a read takes at most one, and the rest of it goes.
    pub packets: RefCell<std::collections::VecDeque<(u64, usize)>>,
    /// Bytes read and written so far (stream positions, for the packets).
    pub read_pos: Cell<u64>,
    pub write_pos: Cell<u64>,
}

impl Pipe {
    /// `n` bytes left the front of the buffer (by a read or a splice).
    pub fn consumed(&self, n: usize) {
        let end = self.read_pos.get() + n as u64;
        self.read_pos.set(end);
        let mut p = self.packets.borrow_mut();
        while p
            .front()
            .is_some_and(|&(start, len)| start + len as u64 <= end)
        {
            p.pop_front();
        }
    }

    /// Room for another packet: Linux's pipe has a slot per page of its capacity, and a packet
    /// takes one whatever its size.
    pub fn packet_slots_left(&self) -> usize {
        (self.capacity.get() / PIPE_BUF).saturating_sub(self.packets.borrow().len())
    }
}

/// One end of a pipe (an open file description).
#[derive(Debug)]
pub struct PipeEnd {
    pub pipe: Rc<Pipe>,
    pub write: bool,
    /// A FIFO opened O_RDWR: both a reader and a writer.
    pub both: bool,
    /// O_NONBLOCK and the access mode, as F_GETFL shows them.
    pub flags: Cell<u32>,
    /// A FIFO's node and the path it was opened by (fstat, /proc/PID/fd).
    pub fifo: Option<(Rc<super::Inode>, Vec<u8>)>,
}

impl Drop for PipeEnd {
    fn drop(&mut self) {
        let p = &self.pipe;
        if self.write || self.both {
            p.writers.set(p.writers.get().saturating_sub(1));
        }
        if !self.write || self.both {
            p.readers.set(p.readers.get().saturating_sub(1));
        }
        p.generation.set(p.generation.get() + 1);
    }
}

static NEXT_INO: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(100_000);

/// A pipe with no ends yet (a FIFO's, made at its first open).
pub fn new_buffer() -> Rc<Pipe> {
    Rc::new(Pipe {
        buf: RefCell::new(Ring::default()),
        capacity: Cell::new(DEFAULT_CAPACITY),
        readers: Cell::new(0),
        writers: Cell::new(0),
        ino: NEXT_INO.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        generation: Cell::new(0),
        r_opens: Cell::new(0),
        w_opens: Cell::new(0),
        packets: RefCell::default(),
        read_pos: Cell::new(0),
        write_pos: Cell::new(0),
    })
}

/// A new end of `pipe` for `flags` (the access mode: O_RDONLY, O_WRONLY or O_RDWR), counted as
/// a reader and/or writer.
pub fn new_end(pipe: &Rc<Pipe>, flags: u32, fifo: Option<(Rc<super::Inode>, Vec<u8>)>) -> PipeEnd {
    let acc = flags & libc::O_ACCMODE as u32;
    let (write, both) = (acc == libc::O_WRONLY as u32, acc == libc::O_RDWR as u32);
    if write || both {
        pipe.writers.set(pipe.writers.get() + 1);
        pipe.w_opens.set(pipe.w_opens.get() + 1);
    }
    if !write || both {
        pipe.readers.set(pipe.readers.get() + 1);
        pipe.r_opens.set(pipe.r_opens.get() + 1);
    }
    pipe.generation.set(pipe.generation.get() + 1);
    PipeEnd {
        pipe: pipe.clone(),
        write,
        both,
        flags: Cell::new(flags),
        fifo,
    }
}

/// A new pipe's two ends (read, write).
pub fn new_pipe(nonblock: bool) -> (PipeEnd, PipeEnd) {
    let pipe = new_buffer();
    let nb = if nonblock { libc::O_NONBLOCK as u32 } else { 0 };
    (
        new_end(&pipe, libc::O_RDONLY as u32 | nb, None),
        new_end(&pipe, libc::O_WRONLY as u32 | nb, None),
    )
}

impl PipeEnd {
    pub fn nonblocking(&self) -> bool {
        self.flags.get() & libc::O_NONBLOCK as u32 != 0
    }

    /// Bytes waiting to be read.
    pub fn available(&self) -> usize {
        self.pipe.buf.borrow().len()
    }

    /// poll's answer for this end.
    pub fn poll_events(&self) -> i16 {
        let p = &self.pipe;
        let len = p.buf.borrow().len();
        if self.both {
            // Both ends at once: a FIFO opened O_RDWR never sees a hangup.
            let mut ev = 0;
            if len > 0 {
                ev |= 0x001 | 0x040;
            }
            if p.capacity.get() - len >= PIPE_BUF.min(p.capacity.get()) {
                ev |= 0x004 | 0x100;
            }
            return ev;
        }
        if self.write {
            let mut ev = 0;
            if p.capacity.get() - len >= PIPE_BUF.min(p.capacity.get()) {
                ev |= 0x004 | 0x100; // POLLOUT | POLLWRNORM
            }
            if p.readers.get() == 0 {
                ev |= 0x008; // POLLERR
            }
            ev
        } else {
            let mut ev = 0;
            if len > 0 {
                ev |= 0x001 | 0x040; // POLLIN | POLLRDNORM
            }
            if p.writers.get() == 0 {
                ev |= 0x010; // POLLHUP
            }
            ev
        }
    }
}
