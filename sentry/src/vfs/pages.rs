//! The contents of a file held in the sandbox (tmpfs, the overlay's upper layer): fixed-size
//! chunks of the memory file, so that a `MAP_SHARED` mapping of the file maps the very pages
//! `read` and `write` use, and stays coherent with them. Chunks are ranges of the (sparse) memory
//! file: only the pages written hold memory, and a chunk goes back to the host when the file and
//! every mapping of it are gone.

use crate::errors::Errno;
use crate::mm::{Memory, SharedObject};
use std::sync::Arc;

/// Bytes per chunk.
pub const CHUNK: u64 = 1 << 20;

/// A file's contents.
pub struct Pages {
    memory: Arc<Memory>,
    chunks: Vec<Arc<SharedObject>>,
    /// Which pages of each chunk have been written (hold memory): what the filesystem's size
    /// limit counts, and st_blocks. A file extended by truncate is sparse, as on tmpfs.
    written: Vec<[u64; 4]>,
    pages: u64,
    len: u64,
}

const PAGE: u64 = abi::PAGE_SIZE;

impl std::fmt::Debug for Pages {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Pages(len {}, {} chunks)", self.len, self.chunks.len())
    }
}

/// A part of a file as a range of one chunk: (chunk, offset in the memory file, length).
pub type View = (Arc<SharedObject>, u64, u64);

impl Pages {
    pub fn new(memory: &Arc<Memory>) -> Pages {
        Pages {
            memory: memory.clone(),
            chunks: Vec::new(),
            written: Vec::new(),
            pages: 0,
            len: 0,
        }
    }

    /// A file holding `bytes`, charged to `fs` if given.
    pub fn with_bytes(
        memory: &Arc<Memory>,
        bytes: &[u8],
        fs: Option<&super::Fs>,
    ) -> Result<Pages, Errno> {
        let mut p = Pages::new(memory);
        p.write_bytes(0, bytes, fs)?;
        Ok(p)
    }

    /// Bytes of memory the file holds (written pages).
    pub fn charged(&self) -> u64 {
        self.pages * PAGE
    }

    fn page_bit(&self, page: u64) -> bool {
        let (c, i) = ((page / 256) as usize, page % 256);
        self.written
            .get(c)
            .is_some_and(|w| w[(i / 64) as usize] & (1 << (i % 64)) != 0)
    }

    /// Pages of `[pos, pos + len)` not written yet.
    fn unwritten(&self, pos: u64, len: u64) -> u64 {
        if len == 0 {
            return 0;
        }
        (pos / PAGE..(pos + len).div_ceil(PAGE))
            .filter(|&p| !self.page_bit(p))
            .count() as u64
    }

    /// Marks `[pos, pos + len)` written.
    fn mark(&mut self, pos: u64, len: u64) {
        if len == 0 {
            return;
        }
        for page in pos / PAGE..(pos + len).div_ceil(PAGE) {
            let (c, i) = ((page / 256) as usize, page % 256);
            if self.written.len() <= c {
                self.written.resize(c + 1, [0; 4]);
            }
            let w = &mut self.written[c][(i / 64) as usize];
            if *w & (1 << (i % 64)) == 0 {
                *w |= 1 << (i % 64);
                self.pages += 1;
            }
        }
    }

    /// Forgets the whole pages of `[pos, end)` (punched or cut off); returns how many were
    /// written.
    fn unmark(&mut self, pos: u64, end: u64) -> u64 {
        let mut n = 0;
        for page in pos.div_ceil(PAGE)..end / PAGE {
            let (c, i) = ((page / 256) as usize, page % 256);
            if let Some(ws) = self.written.get_mut(c) {
                let w = &mut ws[(i / 64) as usize];
                if *w & (1 << (i % 64)) != 0 {
                    *w &= !(1 << (i % 64));
                    n += 1;
                }
            }
        }
        self.pages -= n;
        n
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The memory-file ranges holding `[pos, pos + len)` (which must be within the chunks).
    fn spans(&self, mut pos: u64, mut len: u64) -> Vec<(u64, usize)> {
        let mut out = Vec::new();
        while len > 0 {
            let i = usize::try_from(pos / CHUNK).unwrap_or(usize::MAX);
            let Some(c) = self.chunks.get(i) else { break };
            let in_chunk = pos % CHUNK;
            let n = (CHUNK - in_chunk).min(len);
            out.push((c.file_off() + in_chunk, usize::try_from(n).unwrap_or(0)));
            pos += n;
            len -= n;
        }
        out
    }

    /// Makes sure chunks cover `[0, end)`.
    fn cover(&mut self, end: u64) -> Result<(), Errno> {
        while (self.chunks.len() as u64) * CHUNK < end {
            self.chunks.push(SharedObject::new(&self.memory, CHUNK)?);
        }
        Ok(())
    }

    /// Copies `[pos, ...)` into the memory-file ranges `dst` (guest buffers); returns the bytes
    /// copied (short at end of file).
    pub fn read(&self, dst: &[(u64, usize)], pos: u64) -> usize {
        let want: u64 = dst.iter().map(|r| r.1 as u64).sum();
        let n = want.min(self.len.saturating_sub(pos));
        let file = &self.memory.file;
        let mut src = self.spans(pos, n).into_iter();
        let mut cur = src.next();
        let mut done = 0usize;
        for &(mut d, mut dl) in dst {
            while dl > 0 {
                let Some((s, sl)) = cur.as_mut() else {
                    return done;
                };
                let k = dl.min(*sl);
                // pread, not a copy through the Sentry's mapping: a fault there on a hole would
                // allocate a page (shmem read faults do), where a read of a sparse file must not.
                if file.read_within(*s, d, k).is_err() {
                    file.copy_within(*s, d, k);
                }
                *s += k as u64;
                *sl -= k;
                d += k as u64;
                dl -= k;
                done += k;
                if *sl == 0 {
                    cur = src.next();
                }
            }
        }
        done
    }

    /// Copies the memory-file ranges `src` (guest buffers) to `[pos, ...)`, growing the file.
    pub fn write(
        &mut self,
        src: &[(u64, usize)],
        pos: u64,
        fs: &super::Fs,
    ) -> Result<usize, Errno> {
        let n: u64 = src.iter().map(|r| r.1 as u64).sum();
        let end = pos.checked_add(n).ok_or_else(|| crate::errno!(EFBIG))?;
        let new = self.unwritten(pos, n);
        fs.charge(new * PAGE)?;
        if let Err(e) = self.cover(end) {
            fs.uncharge(new * PAGE);
            return Err(e);
        }
        self.mark(pos, n);
        let file = &self.memory.file;
        let spans = self.spans(pos, n);
        let mut dst = spans.into_iter();
        let mut cur = dst.next();
        for &(mut s, mut sl) in src {
            while sl > 0 {
                let Some((d, dl)) = cur.as_mut() else { break };
                let k = sl.min(*dl);
                file.write_within(s, *d, k)
                    .map_err(crate::errors::from_host)?;
                *d += k as u64;
                *dl -= k;
                s += k as u64;
                sl -= k;
                if *dl == 0 {
                    cur = dst.next();
                }
            }
        }
        self.len = self.len.max(end);
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }

    /// Writes `bytes` at `pos` (charged to `fs` if given).
    pub fn write_bytes(
        &mut self,
        pos: u64,
        bytes: &[u8],
        fs: Option<&super::Fs>,
    ) -> Result<(), Errno> {
        let end = pos
            .checked_add(bytes.len() as u64)
            .ok_or_else(|| crate::errno!(EFBIG))?;
        let new = self.unwritten(pos, bytes.len() as u64);
        if let Some(fs) = fs {
            fs.charge(new * PAGE)?;
        }
        self.cover(end)?;
        self.mark(pos, bytes.len() as u64);
        let mut at = 0usize;
        for (off, len) in self.spans(pos, bytes.len() as u64) {
            self.memory.file.write(off, &bytes[at..at + len]);
            at += len;
        }
        self.len = self.len.max(end);
        Ok(())
    }

    /// Reads up to `buf.len()` bytes at `pos`; returns how many.
    pub fn read_bytes(&self, pos: u64, buf: &mut [u8]) -> usize {
        let n = (buf.len() as u64).min(self.len.saturating_sub(pos));
        let mut at = 0usize;
        for (off, len) in self.spans(pos, n) {
            self.memory.file.read(off, &mut buf[at..at + len]);
            at += len;
        }
        at
    }

    /// The whole contents.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut v = vec![0u8; usize::try_from(self.len).unwrap_or(0)];
        let n = self.read_bytes(0, &mut v);
        v.truncate(n);
        v
    }

    /// Truncates or extends (sparsely, with zeroes) to `len`.
    pub fn set_len(&mut self, len: u64, fs: &super::Fs) -> Result<(), Errno> {
        if len < self.len {
            let freed = self.unmark(len, self.len.next_multiple_of(PAGE));
            fs.uncharge(freed * PAGE);
        }
        if len > self.len {
            self.cover(len)?;
        } else if len < self.len {
            // What is cut off reads as zeroes if the file grows again. The chunks stay (holes
            // punched): a shared mapping of the file keeps seeing the file's pages.
            for (off, n) in self.spans(len, self.len - len) {
                let n = n as u64;
                let first_page = off.next_multiple_of(abi::PAGE_SIZE);
                let end = off + n;
                let last_page = end & !(abi::PAGE_SIZE - 1);
                if last_page > first_page {
                    self.memory
                        .file
                        .zero(off, usize::try_from(first_page - off).unwrap_or(0));
                    let _ = self
                        .memory
                        .file
                        .punch_hole(first_page, last_page - first_page);
                    self.memory
                        .file
                        .zero(last_page, usize::try_from(end - last_page).unwrap_or(0));
                } else {
                    self.memory.file.zero(off, usize::try_from(n).unwrap_or(0));
                }
            }
        }
        self.len = len;
        Ok(())
    }

    /// Allocates `[off, off + len)`: its pages count as written (zeroes where nothing was).
    pub fn allocate(&mut self, off: u64, len: u64, fs: &super::Fs) -> Result<(), Errno> {
        let end = off.checked_add(len).ok_or_else(|| crate::errno!(EFBIG))?;
        let new = self.unwritten(off, len);
        fs.charge(new * PAGE)?;
        if let Err(e) = self.cover(end) {
            fs.uncharge(new * PAGE);
            return Err(e);
        }
        self.mark(off, len);
        Ok(())
    }

    /// Punches `[off, off + len)` (within the file): reads as zeroes, its whole pages freed.
    pub fn punch(&mut self, off: u64, len: u64, fs: &super::Fs) {
        let end = (off + len).min(self.len);
        if off >= end {
            return;
        }
        for (o, n) in self.spans(off, end - off) {
            let n = n as u64;
            let first_page = o.next_multiple_of(PAGE);
            let e = o + n;
            let last_page = e & !(PAGE - 1);
            if last_page > first_page {
                self.memory
                    .file
                    .zero(o, usize::try_from(first_page - o).unwrap_or(0));
                let _ = self
                    .memory
                    .file
                    .punch_hole(first_page, last_page - first_page);
                self.memory
                    .file
                    .zero(last_page, usize::try_from(e - last_page).unwrap_or(0));
            } else {
                self.memory.file.zero(o, usize::try_from(n).unwrap_or(0));
            }
        }
        let freed = self.unmark(off, end);
        fs.uncharge(freed * PAGE);
    }

    /// lseek's SEEK_DATA / SEEK_HOLE from `off` (< len): where the next page holding data, or the
    /// next hole, starts (the memory file knows which pages were never written).
    pub fn seek_data_hole(&self, off: u64, hole: bool) -> u64 {
        let mut pos = off;
        while pos < self.len {
            let i = usize::try_from(pos / CHUNK).unwrap_or(usize::MAX);
            let Some(c) = self.chunks.get(i) else {
                // No chunk: a hole to the end.
                return if hole { pos } else { self.len };
            };
            let in_chunk = pos % CHUNK;
            let r = self
                .memory
                .file
                .seek_data_hole(c.file_off() + in_chunk, hole);
            match r {
                Some(at) if at < c.file_off() + CHUNK => {
                    return (i as u64 * CHUNK + (at - c.file_off())).min(self.len);
                }
                _ => pos = (i as u64 + 1) * CHUNK,
            }
        }
        self.len
    }

    /// The chunks holding `[off, off + len)` of the file (extending the chunks to cover it), for
    /// a shared mapping: each view is part of one chunk.
    pub fn views(&mut self, off: u64, len: u64) -> Result<Vec<View>, Errno> {
        let end = off
            .checked_add(len)
            .ok_or_else(|| crate::errno!(EOVERFLOW))?;
        self.cover(end)?;
        let mut out = Vec::new();
        let mut pos = off;
        while pos < end {
            let c = &self.chunks[usize::try_from(pos / CHUNK).unwrap_or(0)];
            let in_chunk = pos % CHUNK;
            let n = (CHUNK - in_chunk).min(end - pos);
            out.push((c.clone(), c.file_off() + in_chunk, n));
            pos += n;
        }
        Ok(out)
    }
}
