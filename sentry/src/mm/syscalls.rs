//! mmap, munmap, mprotect, brk, mremap and madvise on an [`Mm`], with Linux's argument checks in
//! Linux's order (mm/mmap.c, mm/mremap.c, mm/madvise.c).

use super::{is_page_aligned, page_down, page_up, MmState, Role};
use crate::errors::{Errno, SysResult};
use crate::{bail, errno};
use abi::mman::*;

/// The arguments of mmap(2), raw.
#[derive(Clone, Copy, Debug)]
pub struct MmapArgs {
    pub addr: u64,
    pub len: u64,
    pub prot: u64,
    pub flags: u64,
    pub fd: i32,
    pub offset: u64,
}

const PROT_VALID: u64 = PROT_READ | PROT_WRITE | PROT_EXEC;
/// Flags Linux accepts with MAP_SHARED_VALIDATE (LEGACY_MAP_MASK plus MAP_SYNC).
pub const MAP_VALIDATE_KNOWN: u64 = MAP_SHARED
    | MAP_PRIVATE
    | MAP_FIXED
    | MAP_ANONYMOUS
    | MAP_DENYWRITE
    | MAP_EXECUTABLE
    | MAP_UNINITIALIZED
    | MAP_GROWSDOWN
    | MAP_LOCKED
    | MAP_NORESERVE
    | MAP_POPULATE
    | MAP_NONBLOCK
    | MAP_STACK
    | MAP_HUGETLB
    | MAP_32BIT
    | MAP_FIXED_NOREPLACE;

impl MmState {
    /// mmap(2). Only anonymous mappings exist so far: a file mapping's fd is checked by the
    /// caller (EBADF) and anything else gets ENODEV, as for a file that cannot be mapped.
    pub fn mmap(&mut self, a: MmapArgs) -> SysResult {
        self.mmap_with(a, |mm, addr, len, prot, shared, role| {
            mm.map_anon(addr, len, prot, shared, role)
        })
    }

    /// mmap(2) with the mapping made by `map(mm, addr, len, prot, shared, role)` once the
    /// arguments are checked and the address chosen (a shared file mapping maps the file's
    /// pages instead of fresh memory).
    pub fn mmap_with(
        &mut self,
        a: MmapArgs,
        map: impl FnOnce(&mut MmState, u64, u64, u64, bool, Role) -> Result<(), Errno>,
    ) -> SysResult {
        if a.offset & (abi::PAGE_SIZE - 1) != 0 {
            bail!(EINVAL, "offset not page aligned");
        }
        if a.len == 0 {
            bail!(EINVAL, "zero length");
        }
        let len = page_up(a.len)
            .filter(|&l| l != 0 && l <= self.max_addr)
            .ok_or_else(|| errno!(ENOMEM))?;
        let shared = match a.flags & MAP_TYPE {
            MAP_PRIVATE => false,
            MAP_SHARED => true,
            // Linux's anonymous path knows only MAP_SHARED and MAP_PRIVATE.
            MAP_SHARED_VALIDATE if a.flags & MAP_ANONYMOUS != 0 => {
                bail!(EINVAL, "MAP_SHARED_VALIDATE on anonymous memory")
            }
            MAP_SHARED_VALIDATE => {
                if a.flags & !MAP_VALIDATE_KNOWN & !MAP_TYPE != 0 {
                    bail!(
                        EOPNOTSUPP,
                        "unknown flags {:#x}",
                        a.flags & !MAP_VALIDATE_KNOWN
                    );
                }
                true
            }
            _ => bail!(EINVAL, "bad mapping type {:#x}", a.flags & MAP_TYPE),
        };
        if shared && a.flags & MAP_GROWSDOWN != 0 {
            bail!(EINVAL, "MAP_GROWSDOWN on shared memory");
        }
        // mmap ignores protection bits it does not know (mprotect does not).
        if a.flags & MAP_HUGETLB != 0 {
            // No huge page pool in the sandbox, as on a host with vm.nr_hugepages = 0.
            bail!(ENOMEM, "no huge pages");
        }
        let fixed = a.flags & (MAP_FIXED | MAP_FIXED_NOREPLACE) != 0;
        let addr = if fixed {
            if !is_page_aligned(a.addr) {
                bail!(EINVAL, "fixed address not page aligned");
            }
            if a.addr
                .checked_add(len)
                .is_none_or(|end| end > self.max_addr)
            {
                bail!(ENOMEM, "beyond the address space");
            }
            if a.addr < abi::MMAP_MIN_ADDR {
                bail!(EPERM, "below mmap_min_addr");
            }
            // MAP_FIXED_NOREPLACE wins over MAP_FIXED.
            if a.flags & MAP_FIXED_NOREPLACE != 0 && self.overlaps(a.addr, a.addr + len) {
                bail!(EEXIST);
            }
            a.addr
        } else {
            self.place(a.addr, len, a.flags & MAP_32BIT != 0)?
        };
        if !self.may_expand(len - self.mapped_in(addr, addr + len)) {
            bail!(ENOMEM, "RLIMIT_AS");
        }
        let role = if a.flags & MAP_GROWSDOWN != 0 {
            Role::Stack
        } else {
            Role::Anon
        };
        map(self, addr, len, a.prot & PROT_VALID, shared, role)?;
        Ok(addr)
    }

    /// Picks an address for a non-fixed mapping: the hint if it is free, else top down.
    fn place(&self, hint: u64, len: u64, low_2g: bool) -> Result<u64, Errno> {
        // x86 rounds an unaligned hint down to its page.
        let hint = page_down(hint);
        if hint >= abi::MMAP_MIN_ADDR
            && hint
                .checked_add(len)
                .is_some_and(|end| end <= self.max_addr)
            && !self.overlaps(hint, hint + len)
        {
            return Ok(hint);
        }
        let below = if low_2g { 0x8000_0000 } else { self.mmap_base };
        // Linux falls back to a bottom-up search when top-down fails; search the whole space.
        self.find_free(len, below, abi::PAGE_SIZE)
            .or_else(|| {
                if low_2g {
                    None
                } else {
                    self.find_free(len, self.max_addr, abi::PAGE_SIZE)
                }
            })
            .ok_or_else(|| errno!(ENOMEM, "no free range of {len:#x} bytes"))
    }

    /// munmap(2).
    pub fn munmap(&mut self, addr: u64, len: u64) -> SysResult {
        if !is_page_aligned(addr) {
            bail!(EINVAL, "address not page aligned");
        }
        let len = page_up(len).ok_or_else(|| errno!(EINVAL))?;
        if len == 0 || addr.checked_add(len).is_none_or(|end| end > abi::TASK_SIZE) {
            bail!(EINVAL);
        }
        let end = (addr + len).min(self.max_addr);
        if addr < end {
            self.unmap(addr, end - addr)?;
        }
        Ok(0)
    }

    /// mprotect(2). PROT_GROWSDOWN/GROWSUP are refused (stacks do not grow yet).
    pub fn mprotect(&mut self, addr: u64, len: u64, prot: u64) -> SysResult {
        // Linux's order (do_mprotect_pkey): both grow flags, alignment, zero length, wrap, bits.
        if prot & (PROT_GROWSDOWN | PROT_GROWSUP) == PROT_GROWSDOWN | PROT_GROWSUP {
            bail!(EINVAL);
        }
        if !is_page_aligned(addr) {
            bail!(EINVAL, "address not page aligned");
        }
        if len == 0 {
            return Ok(0);
        }
        let len = page_up(len).ok_or_else(|| errno!(ENOMEM))?;
        let end = addr.checked_add(len).ok_or_else(|| errno!(ENOMEM))?;
        if prot & !(PROT_VALID | PROT_SEM | PROT_GROWSDOWN | PROT_GROWSUP) != 0 {
            bail!(EINVAL, "bad prot {prot:#x}");
        }
        if prot & (PROT_GROWSDOWN | PROT_GROWSUP) != 0 {
            bail!(EINVAL, "PROT_GROWSDOWN/UP: not supported on these mappings");
        }
        // Linux changes the mappings up to the first hole, then fails with ENOMEM.
        let mapped = self.mapped_prefix_end(addr, end);
        if mapped > addr {
            self.protect(addr, mapped - addr, prot & PROT_VALID)?;
        }
        if mapped < end {
            bail!(ENOMEM, "hole at {mapped:#x}");
        }
        Ok(0)
    }

    /// brk(2): never fails; returns the new break, or the old one if it cannot move. Like Linux,
    /// the heap keeps one free page below the next mapping.
    pub fn sys_brk(&mut self, new: u64) -> SysResult {
        if new < self.brk_start {
            return Ok(self.brk);
        }
        let (Some(old_top), Some(new_top)) = (page_up(self.brk), page_up(new)) else {
            return Ok(self.brk);
        };
        if new_top > old_top {
            if new_top > self.max_addr
                || !self.may_expand(new_top - old_top)
                || self.overlaps(old_top, new_top + abi::PAGE_SIZE)
            {
                return Ok(self.brk);
            }
            if self
                .map_anon(
                    old_top,
                    new_top - old_top,
                    PROT_READ | PROT_WRITE,
                    false,
                    Role::Heap,
                )
                .is_err()
            {
                return Ok(self.brk);
            }
        } else if new_top < old_top && self.unmap(new_top, old_top - new_top).is_err() {
            return Ok(self.brk);
        }
        self.brk = new;
        Ok(new)
    }

    /// mremap(2).
    pub fn mremap(
        &mut self,
        old: u64,
        old_len: u64,
        new_len: u64,
        flags: u64,
        new_addr: u64,
    ) -> SysResult {
        if flags & !(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP) != 0 {
            bail!(EINVAL, "bad flags {flags:#x}");
        }
        if flags & MREMAP_FIXED != 0 && flags & MREMAP_MAYMOVE == 0 {
            bail!(EINVAL, "MREMAP_FIXED without MREMAP_MAYMOVE");
        }
        if flags & MREMAP_DONTUNMAP != 0 && (flags & MREMAP_MAYMOVE == 0 || old_len != new_len) {
            bail!(EINVAL, "MREMAP_DONTUNMAP needs MAYMOVE and equal lengths");
        }
        if !is_page_aligned(old) {
            bail!(EINVAL, "address not page aligned");
        }
        let (Some(old_len), Some(new_len)) = (page_up(old_len), page_up(new_len)) else {
            bail!(EINVAL)
        };
        if new_len == 0 || new_len > abi::TASK_SIZE || old_len > abi::TASK_SIZE {
            bail!(EINVAL, "length beyond the address space");
        }
        if old_len == 0 {
            return self.mremap_alias(old, new_len, flags, new_addr);
        }
        // Linux looks the old address up before anything else (mremap_to included).
        if self.segment_at(old).is_none() {
            bail!(EFAULT, "{old:#x} not mapped");
        }
        if flags & MREMAP_FIXED != 0 {
            return self.mremap_fixed(old, old_len, new_len, new_addr, flags);
        }
        // Shrinking only unmaps the excess: the range need not be one mapping.
        if new_len <= old_len && flags & MREMAP_DONTUNMAP == 0 {
            if new_len < old_len {
                self.unmap(old + new_len, old_len - new_len)?;
            }
            return Ok(old);
        }
        let vma = self.vma_of_range(old, old_len)?;
        if new_len > old_len && !self.may_expand(new_len - old_len) {
            bail!(ENOMEM, "RLIMIT_AS");
        }
        // Grow in place if the space after the old range is free and the range is a VMA's tail.
        let grow_end = old.checked_add(new_len).filter(|&e| e <= self.max_addr);
        if let Some(grow_end) = grow_end.filter(|_| flags & MREMAP_DONTUNMAP == 0) {
            if vma.1 == old + old_len && !self.overlaps(old + old_len, grow_end) {
                self.extend(old + old_len, grow_end)?;
                return Ok(old);
            }
        }
        if flags & MREMAP_MAYMOVE == 0 {
            bail!(ENOMEM, "cannot grow in place");
        }
        let dest = self
            .find_free(new_len, self.mmap_base, abi::PAGE_SIZE)
            .ok_or_else(|| errno!(ENOMEM))?;
        self.move_and_grow(old, old_len, new_len, dest, flags)
    }

    fn mremap_fixed(
        &mut self,
        old: u64,
        old_len: u64,
        new_len: u64,
        new_addr: u64,
        flags: u64,
    ) -> SysResult {
        if !is_page_aligned(new_addr) {
            bail!(EINVAL, "new address not page aligned");
        }
        if new_addr < abi::MMAP_MIN_ADDR {
            bail!(EPERM, "below mmap_min_addr");
        }
        if new_addr
            .checked_add(new_len)
            .is_none_or(|e| e > self.max_addr)
        {
            bail!(EINVAL, "new range beyond the address space");
        }
        // An old range that wraps cannot be mapped (Linux finds no VMA: EFAULT).
        let Some(old_end) = old.checked_add(old_len) else {
            bail!(EFAULT, "old range wraps")
        };
        // The ranges may not overlap.
        if new_addr < old_end && old < new_addr + new_len {
            bail!(EINVAL, "ranges overlap");
        }
        self.unmap(new_addr, new_len)?;
        let mut old_len = old_len;
        if old_len > new_len {
            // Linux unmaps the excess of the old range before checking it.
            self.unmap(old + new_len, old_len - new_len)?;
            old_len = new_len;
        }
        self.vma_of_range(old, old_len)?;
        if new_len > old_len && !self.may_expand(new_len - old_len) {
            bail!(ENOMEM, "RLIMIT_AS");
        }
        self.move_and_grow(old, old_len, new_len, new_addr, flags)
    }

    /// The VMA containing all of `[addr, addr + len)`, or EFAULT.
    fn vma_of_range(&self, addr: u64, len: u64) -> Result<(u64, u64), Errno> {
        let vma = self
            .vma_covering(addr)
            .ok_or_else(|| errno!(EFAULT, "{addr:#x} not mapped"))?;
        if addr.checked_add(len).is_none_or(|end| end > vma.1) {
            bail!(EFAULT, "range spans more than one mapping");
        }
        Ok(vma)
    }

    /// mremap with old_len 0: a second view of the shared object mapped at `old`, at a new place.
    fn mremap_alias(&mut self, old: u64, new_len: u64, flags: u64, new_addr: u64) -> SysResult {
        if !self.overlaps(old, old + 1) {
            bail!(EFAULT, "{old:#x} not mapped");
        }
        let Some((object, file_off, prot, role)) = self.shared_view_at(old) else {
            bail!(EINVAL, "old_len 0 on a private mapping");
        };
        if flags & MREMAP_MAYMOVE == 0 {
            // The alias cannot be made in place.
            bail!(ENOMEM, "old_len 0 without MREMAP_MAYMOVE");
        }
        if !self.may_expand(new_len) {
            bail!(ENOMEM, "RLIMIT_AS");
        }
        let dest = if flags & MREMAP_FIXED != 0 {
            if !is_page_aligned(new_addr)
                || new_addr
                    .checked_add(new_len)
                    .is_none_or(|e| e > self.max_addr)
            {
                bail!(EINVAL, "bad new address");
            }
            self.unmap(new_addr, new_len)?;
            new_addr
        } else {
            self.find_free(new_len, self.mmap_base, abi::PAGE_SIZE)
                .ok_or_else(|| errno!(ENOMEM))?
        };
        self.map_shared_view(dest, new_len, prot, role, object, file_off)?;
        Ok(dest)
    }

    /// Maps `[at, at + len)` continuing the mapping that ends at `from` (`at` may be elsewhere,
    /// after a move): fresh memory after private memory, the object's next pages after shared
    /// memory.
    fn continue_mapping(&mut self, from: u64, at: u64, len: u64) -> Result<(), Errno> {
        if let Some((object, file_off, prot, role)) = self.shared_view_at(from - abi::PAGE_SIZE) {
            return self.map_shared_view(at, len, prot, role, object, file_off + abi::PAGE_SIZE);
        }
        let (_, seg) = self.segment_at(from - 1).ok_or_else(|| errno!(EFAULT))?;
        let (prot, role) = (seg.prot, seg.role);
        self.map_anon(at, len, prot, false, role)
    }

    /// Adds `[from, to)` continuing the mapping that ends at `from`.
    fn extend(&mut self, from: u64, to: u64) -> Result<(), Errno> {
        self.continue_mapping(from, from, to - from)
    }

    fn move_and_grow(
        &mut self,
        old: u64,
        old_len: u64,
        new_len: u64,
        dest: u64,
        flags: u64,
    ) -> SysResult {
        let (_, seg) = self.segment_at(old).ok_or_else(|| errno!(EFAULT))?;
        let (prot, shared, role) = (seg.prot, seg.shared(), seg.role);
        let moved = old_len.min(new_len);
        let dontunmap = flags & MREMAP_DONTUNMAP != 0;
        if dontunmap && !self.may_expand(old_len) {
            bail!(ENOMEM, "RLIMIT_AS");
        }
        // Reserve what the new tail and a kept old range need before anything moves: a failed
        // mremap leaves the mapping where it was, as Linux does.
        let tail_len = new_len - moved;
        let tail = if tail_len > 0 && !shared {
            Some(self.reserve(tail_len)?)
        } else {
            None
        };
        let kept = if dontunmap {
            match self.reserve(old_len) {
                Ok(off) => Some(off),
                Err(e) => {
                    if let Some(off) = tail {
                        self.unreserve(off, tail_len);
                    }
                    return Err(e);
                }
            }
        } else {
            None
        };
        if let Err(e) = self.move_range(old, moved, dest) {
            if let Some(off) = tail {
                self.unreserve(off, tail_len);
            }
            if let Some(off) = kept {
                self.unreserve(off, old_len);
            }
            return Err(e);
        }
        if old_len > moved {
            self.unmap(old + moved, old_len - moved)?;
        }
        match tail {
            Some(off) => self.map_fresh(dest + moved, tail_len, prot, false, role, off)?,
            None if tail_len > 0 => self.continue_mapping(dest + moved, dest + moved, tail_len)?,
            None => {}
        }
        if let Some(off) = kept {
            // The old range stays mapped, with fresh empty pages.
            self.map_fresh(old, old_len, prot, shared, role, off)?;
        }
        Ok(dest)
    }

    /// madvise(2). MADV_DONTNEED/MADV_FREE discard private pages (shared anonymous memory keeps
    /// its contents, as shmem does), MADV_REMOVE discards shared pages; hints are accepted.
    pub fn madvise(&mut self, addr: u64, len: u64, advice: u64) -> SysResult {
        let known = matches!(
            advice,
            MADV_NORMAL
                | MADV_RANDOM
                | MADV_SEQUENTIAL
                | MADV_WILLNEED
                | MADV_DONTNEED
                | MADV_FREE
                | MADV_REMOVE
                | MADV_DONTFORK
                | MADV_DOFORK
                | MADV_MERGEABLE
                | MADV_UNMERGEABLE
                | MADV_HUGEPAGE
                | MADV_NOHUGEPAGE
                | MADV_DONTDUMP
                | MADV_DODUMP
                | MADV_WIPEONFORK
                | MADV_KEEPONFORK
                | MADV_COLD
                | MADV_PAGEOUT
                | MADV_POPULATE_READ
                | MADV_POPULATE_WRITE
                | MADV_DONTNEED_LOCKED
                | MADV_COLLAPSE
        );
        if !known {
            bail!(EINVAL, "unknown advice {advice}");
        }
        if !is_page_aligned(addr) {
            bail!(EINVAL, "address not page aligned");
        }
        let Some(len) = page_up(len).filter(|&l| l != 0 || len == 0) else {
            bail!(EINVAL, "length wraps")
        };
        if len == 0 {
            return Ok(0);
        }
        let end = addr
            .checked_add(len)
            .ok_or_else(|| errno!(EINVAL, "range wraps"))?;
        // Like Linux's VMA walk: apply to each mapped piece, then report a hole with ENOMEM.
        let mut at = addr;
        let mut hole = false;
        while at < end {
            let Some((start, seg)) = self.segment_at(at) else {
                hole = true;
                match self.segments.range(at..end).next() {
                    Some((&next, _)) => {
                        at = next;
                        continue;
                    }
                    None => break,
                }
            };
            let to = end.min(seg.end);
            let (shared, writable, file_off) = (
                seg.shared(),
                seg.prot & PROT_WRITE != 0,
                seg.file_off + (at - start),
            );
            let beyond = self.is_beyond_object(at);
            match advice {
                _ if beyond => {}
                MADV_DONTNEED | MADV_DONTNEED_LOCKED if !shared => self.discard_private(at, to)?,
                MADV_FREE if shared => bail!(EINVAL, "MADV_FREE on shared memory"),
                MADV_FREE => self.discard_private(at, to)?,
                MADV_REMOVE if !shared => bail!(EINVAL, "MADV_REMOVE on private memory"),
                MADV_REMOVE => self.discard_backing(file_off, to - at),
                MADV_WIPEONFORK if shared => bail!(EINVAL, "MADV_WIPEONFORK on shared memory"),
                MADV_POPULATE_WRITE if !writable => {
                    bail!(ENOMEM, "MADV_POPULATE_WRITE on memory that is not writable")
                }
                _ => {}
            }
            at = to;
        }
        if hole {
            bail!(ENOMEM, "range not fully mapped");
        }
        Ok(0)
    }
}
