//! futex(2): WAIT, WAKE, REQUEUE, CMP_REQUEUE, WAKE_OP, WAIT_BITSET, WAKE_BITSET, private and
//! shared alike.
//!
//! A futex is named by the memory-file offset backing its word: threads of a process see the
//! same private memory, and processes sharing a mapping see the same shared object, so one key
//! serves both (a private futex of a forked child is another offset: its memory is a copy). A
//! waiter is a task blocked at its syscall ([`EBLOCK`](crate::errors::EBLOCK)) and registered in
//! the kernel's [`FutexTable`]; a wake marks it woken, and the scheduler's retry completes its
//! wait with 0. A signal that interrupts the wait removes the registration.
//!
//! PI futexes: LOCK_PI, LOCK_PI2, TRYLOCK_PI and UNLOCK_PI keep the owner's TID in the word
//! and hand the lock to waiters in arrival order (no priority inheritance to do: the sandbox's
//! threads have no host real-time priorities). WAIT_REQUEUE_PI and CMP_REQUEUE_PI are not
//! implemented (ENOSYS, logged). Robust lists are walked when a thread ends.

use super::int_arg;
use crate::errors::{Errno, SysResult, EBLOCK};
use crate::kernel::Task;
use crate::mm::UserAddr;
use crate::{bail, errno};
use std::collections::HashSet;

const FUTEX_WAIT: u32 = 0;
const FUTEX_WAKE: u32 = 1;
const FUTEX_REQUEUE: u32 = 3;
const FUTEX_CMP_REQUEUE: u32 = 4;
const FUTEX_WAKE_OP: u32 = 5;
const FUTEX_WAIT_BITSET: u32 = 9;
const FUTEX_WAKE_BITSET: u32 = 10;
const FUTEX_LOCK_PI: u32 = 6;
const FUTEX_UNLOCK_PI: u32 = 7;
const FUTEX_TRYLOCK_PI: u32 = 8;
const FUTEX_LOCK_PI2: u32 = 13;
const FUTEX_PRIVATE_FLAG: u32 = 128;
const FUTEX_CLOCK_REALTIME: u32 = 256;
const BITSET_ALL: u32 = u32::MAX;

/// One waiting task.
#[derive(Clone, Copy, Debug)]
struct Waiter {
    key: Key,
    tid: i32,
    bitset: u32,
    /// Waiting in FUTEX_LOCK_PI: only an unlock hands it the lock.
    pi: bool,
}

/// The sandbox's futex waiters, in the order they started waiting.
#[derive(Debug, Default)]
pub struct FutexTable {
    waiters: Vec<Waiter>,
    /// Tasks woken whose wait has not returned yet.
    woken: HashSet<i32>,
}

impl FutexTable {
    /// Wakes up to `n` waiters on `key` whose bitset meets `bitset`; returns how many.
    pub fn wake(&mut self, key: Key, n: usize, bitset: u32) -> usize {
        let mut woken = 0;
        let mut i = 0;
        while i < self.waiters.len() && woken < n {
            let w = self.waiters[i];
            if w.key == key && w.bitset & bitset != 0 && !w.pi {
                self.waiters.remove(i);
                self.woken.insert(w.tid);
                woken += 1;
            } else {
                i += 1;
            }
        }
        woken
    }

    /// Wakes up to `wake` waiters on `from` and moves up to `requeue` more to `to`; returns
    /// how many were woken and moved.
    fn requeue(&mut self, from: Key, to: Key, wake: usize, requeue: usize) -> usize {
        let woken = self.wake(from, wake, BITSET_ALL);
        let mut moved = 0;
        for w in self.waiters.iter_mut() {
            if moved == requeue {
                break;
            }
            if w.key == from && !w.pi {
                w.key = to;
                moved += 1;
            }
        }
        woken + moved
    }

    /// Forgets a task's wait (a signal interrupted it, or the task ended).
    pub fn cancel(&mut self, tid: i32) {
        self.waiters.retain(|w| w.tid != tid);
        self.woken.remove(&tid);
    }

    fn is_waiting(&self, tid: i32) -> bool {
        self.waiters.iter().any(|w| w.tid == tid)
    }
}

/// The key of the futex word at `addr` (EFAULT if unmapped, EINVAL if misaligned): a private
/// futex is its address in its address space; a shared one in shared memory the memory-file
/// offset backing it, which every process mapping that memory sees. A shared futex in private
/// memory is keyed like a private one, as Linux keys it by (mm, address): its backing moves when
/// copy-on-write copies the page, and before that it is shared with processes forked since.
pub fn key(t: &Task, addr: u64, private: bool) -> Result<Key, Errno> {
    if !addr.is_multiple_of(4) {
        bail!(EINVAL, "futex address not aligned");
    }
    match t.mm.backing_ranges(addr, 4).first() {
        Some(&(_, 4)) if private || t.mm.shared_view_at(addr).is_none() => Ok((t.mm.id(), addr)),
        Some(&(off, 4)) => Ok((0, off)),
        _ => bail!(EFAULT, "futex word not mapped"),
    }
}

/// A futex: (address space, address) for private ones, (0, memory-file offset) for shared.
pub type Key = (u64, u64);

fn word(t: &Task, addr: u64) -> Result<u32, Errno> {
    if !addr.is_multiple_of(4) {
        bail!(EINVAL, "futex address not aligned");
    }
    t.mm.read_obj::<u32>(UserAddr(addr))
}

/// Wakes up to `n` waiters of the futex at `addr` (thread exit's clear_child_tid).
pub fn wake_addr(t: &Task, addr: u64, n: usize) {
    // glibc waits on it with a shared-or-private futex as it pleases: wake both.
    let private = key(t, addr, true).ok();
    if let Some(k) = private {
        t.k.futex.borrow_mut().wake(k, n, BITSET_ALL);
    }
    // (In private memory both keys are the same futex.)
    if let Some(k) = key(t, addr, false).ok().filter(|&k| Some(k) != private) {
        t.k.futex.borrow_mut().wake(k, n, BITSET_ALL);
    }
}

/// A wake count (an int): Linux wakes at least one waiter even for 0 or a negative count.
fn count(v: u64) -> usize {
    usize::try_from(int_arg(v)).unwrap_or(0).max(1)
}

pub fn futex(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (uaddr, op) = (a[0], a[1] as u32);
    let cmd = op & !(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
    let private = op & FUTEX_PRIVATE_FLAG != 0;
    if op & FUTEX_CLOCK_REALTIME != 0
        && cmd != FUTEX_WAIT
        && cmd != FUTEX_WAIT_BITSET
        && cmd != FUTEX_LOCK_PI2
    {
        bail!(ENOSYS, "FUTEX_CLOCK_REALTIME with this operation");
    }
    match cmd {
        FUTEX_WAIT | FUTEX_WAIT_BITSET => wait(t, a, cmd, op),
        FUTEX_WAKE | FUTEX_WAKE_BITSET => {
            let bitset = if cmd == FUTEX_WAKE_BITSET {
                a[5] as u32
            } else {
                BITSET_ALL
            };
            if bitset == 0 {
                bail!(EINVAL, "empty bitset");
            }
            let k = key(t, uaddr, private)?;
            Ok(t.k.futex.borrow_mut().wake(k, count(a[2]), bitset) as u64)
        }
        FUTEX_REQUEUE | FUTEX_CMP_REQUEUE => {
            if int_arg(a[2]) < 0 || int_arg(a[3]) < 0 {
                bail!(EINVAL);
            }
            let from = key(t, uaddr, private)?;
            let to = key(t, a[4], private)?;
            if cmd == FUTEX_CMP_REQUEUE && word(t, uaddr)? != a[5] as u32 {
                bail!(EAGAIN);
            }
            // val: how many to wake; the timeout argument's slot: how many to move.
            let n =
                t.k.futex
                    .borrow_mut()
                    .requeue(from, to, count(a[2]), count(a[3]));
            Ok(n as u64)
        }
        FUTEX_WAKE_OP => {
            let (uaddr2, encoded) = (a[4], a[5] as u32);
            let k1 = key(t, uaddr, private)?;
            let k2 = key(t, uaddr2, private)?;
            let opcode = (encoded >> 28) & 7;
            let cmp = (encoded >> 24) & 15;
            // A signed 12-bit operand.
            let mut oparg = (((encoded << 8).cast_signed()) >> 20).cast_unsigned();
            let cmparg = encoded & 0xfff;
            if encoded & (8 << 28) != 0 {
                if oparg > 31 {
                    oparg &= 31;
                }
                oparg = 1 << oparg;
            }
            let oparg = oparg;
            let old: u32 = t.mm.read_obj(UserAddr(uaddr2))?;
            let new = match opcode {
                0 => oparg,
                1 => old.wrapping_add(oparg),
                2 => old | oparg,
                3 => old & !oparg,
                4 => old ^ oparg,
                _ => bail!(ENOSYS, "unknown FUTEX_OP"),
            };
            if !t.mm.is_writable(uaddr2, 4) {
                bail!(EFAULT);
            }
            t.mm.write_obj(UserAddr(uaddr2), &new)?;
            let mut table = t.k.futex.borrow_mut();
            let mut n = table.wake(k1, count(a[2]), BITSET_ALL);
            // Sign-extended 12-bit comparison argument against the old value, as Linux.
            let (o, c) = (old.cast_signed(), ((cmparg << 20).cast_signed()) >> 20);
            let hit = match cmp {
                0 => o == c,
                1 => o != c,
                2 => o < c,
                3 => o <= c,
                4 => o > c,
                5 => o >= c,
                _ => bail!(ENOSYS, "unknown FUTEX_OP comparison"),
            };
            if hit {
                n += table.wake(k2, count(a[3]), BITSET_ALL);
            }
            Ok(n as u64)
        }
        FUTEX_LOCK_PI | FUTEX_LOCK_PI2 | FUTEX_TRYLOCK_PI => lock_pi(t, a, cmd, private),
        FUTEX_UNLOCK_PI => unlock_pi(t, a[0], private),
        _ => {
            t.k.log_partial(format!("futex operation {cmd} (requeue to PI futexes)"));
            Err(errno!(ENOSYS, "futex operation {cmd}"))
        }
    }
}

/// FUTEX_WAIT(_BITSET): registered on the first try (if the word still holds `val`), then
/// retried by the scheduler until woken (0), timed out (ETIMEDOUT) or interrupted (EINTR).
fn wait(t: &mut Task, a: [u64; 6], cmd: u32, op: u32) -> SysResult {
    let tid = t.tid;
    if t.k.futex.borrow_mut().woken.remove(&tid) {
        return Ok(0);
    }
    if t.k.futex.borrow().is_waiting(tid) {
        if t.wait.expired() {
            t.k.futex.borrow_mut().cancel(tid);
            bail!(ETIMEDOUT);
        }
        return Err(Errno::new(EBLOCK));
    }
    let bitset = if cmd == FUTEX_WAIT_BITSET {
        a[5] as u32
    } else {
        BITSET_ALL
    };
    if bitset == 0 {
        bail!(EINVAL, "empty bitset");
    }
    if a[3] != 0 {
        let ts: abi::Timespec = t.mm.read_obj(UserAddr(a[3]))?;
        if ts.tv_sec < 0 || !(0..1_000_000_000).contains(&ts.tv_nsec) {
            bail!(EINVAL, "bad timeout");
        }
        // FUTEX_WAIT's timeout is relative (CLOCK_MONOTONIC); WAIT_BITSET's is absolute, on
        // CLOCK_REALTIME if asked.
        if cmd == FUTEX_WAIT {
            t.wait.start_timeout(ts);
        } else if op & FUTEX_CLOCK_REALTIME != 0 {
            t.wait.deadline = Some((libc::CLOCK_REALTIME, ts));
        } else {
            t.wait.deadline = Some((libc::CLOCK_MONOTONIC, ts));
        }
    }
    let k = key(t, a[0], op & FUTEX_PRIVATE_FLAG != 0)?;
    if word(t, a[0])? != a[2] as u32 {
        t.wait.deadline = None;
        bail!(EAGAIN);
    }
    if t.wait.expired() {
        t.wait.deadline = None;
        bail!(ETIMEDOUT);
    }
    t.k.futex.borrow_mut().waiters.push(Waiter {
        key: k,
        tid,
        bitset,
        pi: false,
    });
    Err(Errno::new(EBLOCK))
}

const FUTEX_TID_MASK: u32 = 0x3fff_ffff;
const FUTEX_WAITERS: u32 = 0x8000_0000;
const FUTEX_OWNER_DIED: u32 = 0x4000_0000;
/// Entries of a robust list walked at most (Linux's ROBUST_LIST_LIMIT).
const ROBUST_LIST_LIMIT: usize = 2048;

/// A thread that ends holding robust mutexes gives them up: each futex word on its robust list
/// (and the one in `list_op_pending`) that names it as the owner gets FUTEX_OWNER_DIED, and a
/// waiter is woken, as Linux's exit_robust_list. A bad list just ends the walk.
pub fn exit_robust_list(t: &Task) {
    let head = t.robust_list.0;
    if head == 0 {
        return;
    }
    // struct robust_list_head { struct robust_list *next; long futex_offset;
    //                           struct robust_list *list_op_pending; }
    let Ok([first, offset, pending]) = t.mm.read_obj::<[u64; 3]>(UserAddr(head)) else {
        return;
    };
    let offset = offset.cast_signed();
    let death = |entry: u64| {
        // The low bit marks a PI futex; the entry is the rest.
        let addr = (entry & !1).wrapping_add_signed(offset);
        handle_death(t, addr);
    };
    let mut entry = first;
    let mut seen = 0;
    while entry != head && seen < ROBUST_LIST_LIMIT {
        let Ok(next) = t.mm.read_obj::<u64>(UserAddr(entry & !1)) else {
            break;
        };
        if entry != pending {
            death(entry);
        }
        entry = next;
        seen += 1;
    }
    if pending != 0 {
        death(pending);
    }
}

fn handle_death(t: &Task, addr: u64) {
    if !addr.is_multiple_of(4) {
        return;
    }
    let Ok(word) = t.mm.read_obj::<u32>(UserAddr(addr)) else {
        return;
    };
    if word & FUTEX_TID_MASK != t.tid.cast_unsigned() {
        return;
    }
    let new = (word & FUTEX_WAITERS) | FUTEX_OWNER_DIED;
    if t.mm.write_obj(UserAddr(addr), &new).is_ok() {
        wake_addr(t, addr, 1);
    }
}

/// Whether thread `tid` is alive in the sandbox.
fn thread_alive(t: &Task, tid: i32) -> bool {
    let procs = t.k.procs.borrow();
    procs.threads.contains_key(&tid) || procs.get(tid).is_some_and(|p| p.zombie.is_none())
}

/// FUTEX_LOCK_PI(2)/TRYLOCK_PI: takes the lock word (owner's TID) if free; otherwise marks it
/// FUTEX_WAITERS and waits until an unlock hands the lock over (or the timeout, absolute on
/// CLOCK_REALTIME for LOCK_PI, on the chosen clock for LOCK_PI2). No priority inheritance: the
/// sandbox's threads have no real-time priorities on the host to lend.
fn lock_pi(t: &mut Task, a: [u64; 6], cmd: u32, private: bool) -> SysResult {
    let tid = t.tid;
    if t.k.futex.borrow_mut().woken.remove(&tid) {
        // An unlock made us the owner.
        return Ok(0);
    }
    let k = key(t, a[0], private)?;
    if t.k.futex.borrow().is_waiting(tid) {
        if t.wait.expired() {
            t.k.futex.borrow_mut().cancel(tid);
            bail!(ETIMEDOUT);
        }
        return Err(Errno::new(EBLOCK));
    }
    let word: u32 = t.mm.read_obj(UserAddr(a[0]))?;
    if !t.mm.is_writable(a[0], 4) {
        bail!(EFAULT);
    }
    let owner = word & FUTEX_TID_MASK;
    if owner == 0 {
        // Free (maybe with FUTEX_OWNER_DIED, kept for the new owner to see).
        let new = (word & FUTEX_OWNER_DIED) | tid.cast_unsigned() | (word & FUTEX_WAITERS);
        t.mm.write_obj(UserAddr(a[0]), &new)?;
        return Ok(0);
    }
    if owner == tid.cast_unsigned() {
        bail!(EDEADLK);
    }
    if !thread_alive(t, owner.cast_signed()) {
        bail!(ESRCH, "the lock's owner {owner} does not exist");
    }
    if cmd == FUTEX_TRYLOCK_PI {
        bail!(EAGAIN);
    }
    if a[3] != 0 && t.wait.deadline.is_none() {
        let ts: abi::Timespec = t.mm.read_obj(UserAddr(a[3]))?;
        if ts.tv_sec < 0 || !(0..1_000_000_000).contains(&ts.tv_nsec) {
            bail!(EINVAL, "bad timeout");
        }
        let clock = if cmd == FUTEX_LOCK_PI || a[1] as u32 & FUTEX_CLOCK_REALTIME != 0 {
            libc::CLOCK_REALTIME
        } else {
            libc::CLOCK_MONOTONIC
        };
        t.wait.deadline = Some((clock, ts));
        if t.wait.expired() {
            t.wait.deadline = None;
            bail!(ETIMEDOUT);
        }
    }
    t.mm.write_obj(UserAddr(a[0]), &(word | FUTEX_WAITERS))?;
    t.k.futex.borrow_mut().waiters.push(Waiter {
        key: k,
        tid,
        bitset: BITSET_ALL,
        pi: true,
    });
    Err(Errno::new(EBLOCK))
}

/// FUTEX_UNLOCK_PI: the owner hands the lock to the first waiter (the word becomes its TID, with
/// FUTEX_WAITERS if more wait), or frees it.
fn unlock_pi(t: &mut Task, addr: u64, private: bool) -> SysResult {
    let k = key(t, addr, private)?;
    let word: u32 = t.mm.read_obj(UserAddr(addr))?;
    if word & FUTEX_TID_MASK != t.tid.cast_unsigned() {
        bail!(EPERM, "not the owner");
    }
    let mut table = t.k.futex.borrow_mut();
    let next = table.waiters.iter().position(|w| w.pi && w.key == k);
    let new = match next {
        Some(i) => {
            let w = table.waiters.remove(i);
            table.woken.insert(w.tid);
            let more = table.waiters.iter().any(|w| w.pi && w.key == k);
            w.tid.cast_unsigned() | if more { FUTEX_WAITERS } else { 0 }
        }
        None => 0,
    };
    drop(table);
    t.mm.write_obj(UserAddr(addr), &new)?;
    Ok(0)
}
