//! File locks: flock(2) locks and OFD locks belong to an open file description, POSIX record
//! locks (F_SETLK) to the process; locks of different owners conflict when they overlap and one
//! is a write lock. The table lives on the inode.
//!
//! With one task, a conflicting lock can only be released by the task itself, so a blocking
//! request that conflicts waits for ever, as it would on Linux.

use crate::errno;
use crate::errors::Errno;

/// Who holds a lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Owner {
    /// An open file description (flock and OFD locks), by its id.
    Description(u64),
    /// A process (POSIX record locks), by its PID.
    Process(i32),
}

/// The lock families, which do not replace one another.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    Flock,
    /// fcntl record locks (POSIX or OFD: told apart by the owner).
    Record,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lock {
    pub owner: Owner,
    pub family: Family,
    pub write: bool,
    pub start: u64,
    /// One past the last byte (u64::MAX: to the end of the file, whatever it becomes).
    pub end: u64,
}

impl Lock {
    fn conflicts(&self, other: &Lock) -> bool {
        self.owner != other.owner
            && self.family == other.family
            && (self.write || other.write)
            && self.start < other.end
            && other.start < self.end
    }
}

/// An inode's locks.
#[derive(Debug, Default)]
pub struct Locks(Vec<Lock>);

impl Locks {
    /// The first lock that would conflict with `want`.
    pub fn conflict(&self, want: &Lock) -> Option<Lock> {
        self.0.iter().find(|l| l.conflicts(want)).copied()
    }

    /// Takes `want` (or releases the range when `unlock`): the owner's locks of the family over
    /// the range are replaced. EAGAIN on a conflict.
    pub fn set(&mut self, want: Lock, unlock: bool) -> Result<(), Errno> {
        if !unlock && self.conflict(&want).is_some() {
            return Err(errno!(EAGAIN));
        }
        let mut kept = Vec::with_capacity(self.0.len() + 2);
        for l in self.0.drain(..) {
            let same = l.owner == want.owner && l.family == want.family;
            if !same || l.end <= want.start || want.end <= l.start {
                kept.push(l);
                continue;
            }
            // Keep the parts outside the new range.
            if l.start < want.start {
                kept.push(Lock {
                    end: want.start,
                    ..l
                });
            }
            if want.end < l.end {
                kept.push(Lock {
                    start: want.end,
                    ..l
                });
            }
        }
        if !unlock {
            kept.push(want);
        }
        self.0 = kept;
        Ok(())
    }

    /// Drops every lock of `owner` in `family` (a description's last close, a process closing
    /// any fd of the file).
    pub fn release(&mut self, owner: Owner, family: Option<Family>) {
        self.0
            .retain(|l| l.owner != owner || family.is_some_and(|f| f != l.family));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lock(owner: u64, write: bool, start: u64, end: u64) -> Lock {
        Lock {
            owner: Owner::Description(owner),
            family: Family::Record,
            write,
            start,
            end,
        }
    }

    #[test]
    fn conflicts_and_splits() {
        let mut t = Locks::default();
        t.set(lock(1, true, 0, 10), false).unwrap();
        assert!(t.set(lock(2, false, 5, 6), false).is_err());
        assert!(t.set(lock(2, false, 10, 20), false).is_ok());
        // Unlocking the middle of 1's lock leaves two pieces.
        t.set(lock(1, false, 3, 5), true).unwrap();
        assert!(t.conflict(&lock(3, true, 3, 5)).is_none());
        assert!(t.conflict(&lock(3, true, 0, 1)).is_some());
        assert!(t.conflict(&lock(3, true, 7, 8)).is_some());
        t.release(Owner::Description(1), None);
        assert!(t.conflict(&lock(3, false, 0, 10)).is_none());
    }
}
