//! futex(2) for a process with one thread (threads come with the tasks issue). With no other
//! thread, nothing can wake a waiter: FUTEX_WAIT checks the value (EAGAIN if it differs), then
//! sleeps until its timeout (ETIMEDOUT) or, without one, for ever, as Linux would; wakes find no
//! waiters and return 0. FUTEX_WAKE_OP still applies its operation. PI futexes are not
//! implemented (ENOSYS, logged).

use super::int_arg;
use crate::errors::SysResult;
use crate::kernel::Task;
use crate::mm::UserAddr;
use crate::{bail, errno};

const FUTEX_WAIT: u32 = 0;
const FUTEX_WAKE: u32 = 1;
const FUTEX_REQUEUE: u32 = 3;
const FUTEX_CMP_REQUEUE: u32 = 4;
const FUTEX_WAKE_OP: u32 = 5;
const FUTEX_WAIT_BITSET: u32 = 9;
const FUTEX_WAKE_BITSET: u32 = 10;
const FUTEX_PRIVATE_FLAG: u32 = 128;
const FUTEX_CLOCK_REALTIME: u32 = 256;

fn word(t: &Task, addr: u64) -> Result<u32, crate::errors::Errno> {
    if !addr.is_multiple_of(4) {
        bail!(EINVAL, "futex address not aligned");
    }
    t.mm.read_obj::<u32>(UserAddr(addr))
}

pub fn futex(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (uaddr, op, val) = (a[0], a[1] as u32, a[2] as u32);
    let cmd = op & !(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
    if op & FUTEX_CLOCK_REALTIME != 0 && cmd != FUTEX_WAIT && cmd != FUTEX_WAIT_BITSET {
        bail!(ENOSYS, "FUTEX_CLOCK_REALTIME with this operation");
    }
    match cmd {
        FUTEX_WAIT | FUTEX_WAIT_BITSET => {
            if cmd == FUTEX_WAIT_BITSET && a[5] as u32 == 0 {
                bail!(EINVAL, "empty bitset");
            }
            let timeout = if a[3] != 0 {
                let ts: abi::Timespec = t.mm.read_obj(UserAddr(a[3]))?;
                if ts.tv_sec < 0 || !(0..1_000_000_000).contains(&ts.tv_nsec) {
                    bail!(EINVAL, "bad timeout");
                }
                Some(ts)
            } else {
                None
            };
            if word(t, uaddr)? != val {
                bail!(EAGAIN);
            }
            // Nobody else can wake us: sleep until the timeout.
            match timeout {
                Some(ts) => {
                    let (clock, flags) = if cmd == FUTEX_WAIT {
                        (libc::CLOCK_MONOTONIC, 0)
                    } else if op & FUTEX_CLOCK_REALTIME != 0 {
                        (libc::CLOCK_REALTIME, libc::TIMER_ABSTIME)
                    } else {
                        (libc::CLOCK_MONOTONIC, libc::TIMER_ABSTIME)
                    };
                    let _ = crate::host::clock_nanosleep(clock, flags, ts);
                    Err(errno!(ETIMEDOUT))
                }
                None => {
                    t.k.log_partial(
                        "FUTEX_WAIT with no other thread to wake it: blocks for ever".into(),
                    );
                    loop {
                        let _ = crate::host::clock_nanosleep(
                            libc::CLOCK_MONOTONIC,
                            0,
                            abi::Timespec {
                                tv_sec: 3600,
                                tv_nsec: 0,
                            },
                        );
                    }
                }
            }
        }
        FUTEX_WAKE | FUTEX_WAKE_BITSET => {
            if cmd == FUTEX_WAKE_BITSET && a[5] as u32 == 0 {
                bail!(EINVAL, "empty bitset");
            }
            if !uaddr.is_multiple_of(4) {
                bail!(EINVAL);
            }
            Ok(0)
        }
        FUTEX_REQUEUE | FUTEX_CMP_REQUEUE => {
            if int_arg(a[2]) < 0 || int_arg(a[3]) < 0 {
                bail!(EINVAL);
            }
            if cmd == FUTEX_CMP_REQUEUE {
                if word(t, uaddr)? != a[5] as u32 {
                    bail!(EAGAIN);
                }
            } else if !uaddr.is_multiple_of(4) {
                bail!(EINVAL);
            }
            Ok(0)
        }
        FUTEX_WAKE_OP => {
            let (uaddr2, encoded) = (a[4], a[5] as u32);
            if !uaddr2.is_multiple_of(4) || !uaddr.is_multiple_of(4) {
                bail!(EINVAL);
            }
            let opcode = (encoded >> 28) & 7;
            let mut oparg = (encoded >> 12) & 0xfff;
            if encoded & (8 << 28) != 0 {
                if oparg > 31 {
                    oparg &= 31;
                }
                oparg = 1 << oparg;
            }
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
            Ok(0)
        }
        _ => {
            t.k.log_partial(format!("futex operation {cmd} (PI futexes: tasks issue)"));
            Err(errno!(ENOSYS, "futex operation {cmd}"))
        }
    }
}
