//! exit, uname, arch_prctl, set_tid_address, robust lists, rseq, resource limits, getrandom and
//! scheduler queries.

use super::int_arg;
use crate::errors::SysResult;
use crate::kernel::{ExitStatus, RseqArea, Task};
use crate::mm::UserAddr;
use crate::{bail, errno, host};
use abi::arch_prctl::*;
use abi::random::*;

/// The kernel release runrs reports: the Linux ABI it emulates.
pub const RELEASE: &str = "6.1.0";
pub const VERSION: &str = "#1 SMP PREEMPT_DYNAMIC runrs";

/// exit: ends the calling thread (the process, with this status, if it was the last).
pub fn exit(t: &mut Task, a: [u64; 6]) -> SysResult {
    t.exit = Some(ExitStatus::Exited((a[0] & 0xff) as u8));
    Ok(0)
}

/// exit_group: ends every thread of the process.
pub fn exit_group(t: &mut Task, a: [u64; 6]) -> SysResult {
    t.exit_group(ExitStatus::Exited((a[0] & 0xff) as u8));
    Ok(0)
}

fn field(s: &str) -> [u8; 65] {
    field_bytes(s.as_bytes())
}

fn field_bytes(b: &[u8]) -> [u8; 65] {
    let mut f = [0u8; 65];
    let n = b.len().min(64);
    f[..n].copy_from_slice(&b[..n]);
    f
}

/// sethostname and setdomainname: the sandbox's own UTS names (root in the sandbox may change
/// them; the host's are untouched), at most 64 bytes.
fn set_uts(t: &mut Task, a: [u64; 6], which: &'static str) -> SysResult {
    let len = a[1] as i32;
    if !(0..=64).contains(&len) {
        crate::bail!(EINVAL, "name length {len}");
    }
    if t.creds.euid != 0 {
        crate::bail!(EPERM, "changing the {which} needs privilege");
    }
    let mut name = vec![0u8; len as usize];
    t.mm.copy_in(UserAddr(a[0]), &mut name)?;
    let slot = if which == "hostname" {
        &t.k.hostname
    } else {
        &t.k.domainname
    };
    slot.borrow_mut().clone_from(&name);
    for (n, f) in t.k.uts_files.borrow().iter() {
        if *n == which {
            let mut v = name.clone();
            v.push(b'\n');
            crate::vfs::replace_contents(f, &v)?;
        }
    }
    Ok(0)
}

pub fn sethostname(t: &mut Task, a: [u64; 6]) -> SysResult {
    set_uts(t, a, "hostname")
}

pub fn setdomainname(t: &mut Task, a: [u64; 6]) -> SysResult {
    set_uts(t, a, "domainname")
}

pub fn uname(t: &mut Task, a: [u64; 6]) -> SysResult {
    let u = abi::Utsname {
        sysname: field("Linux"),
        nodename: field_bytes(&t.k.hostname.borrow()),
        release: field(RELEASE),
        version: field(VERSION),
        machine: field("x86_64"),
        domainname: field_bytes(&t.k.domainname.borrow()),
    };
    t.mm.write_obj(UserAddr(a[0]), &u)?;
    Ok(0)
}

pub fn arch_prctl(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (code, addr) = (a[0] & 0xffff_ffff, a[1]);
    match code {
        ARCH_SET_FS | ARCH_SET_GS => {
            if addr >= abi::TASK_SIZE {
                bail!(EPERM, "base {addr:#x} outside user space");
            }
            if code == ARCH_SET_FS {
                t.regs.fs_base = addr;
            } else {
                t.regs.gs_base = addr;
            }
            Ok(0)
        }
        ARCH_GET_FS => t.mm.write_obj(UserAddr(addr), &t.regs.fs_base).map(|()| 0),
        ARCH_GET_GS => t.mm.write_obj(UserAddr(addr), &t.regs.gs_base).map(|()| 0),
        ARCH_GET_CPUID => Ok(1),
        _ => {
            t.k.log_partial(format!("arch_prctl code {code:#x}"));
            Err(errno!(EINVAL, "arch_prctl code {code:#x} not supported"))
        }
    }
}

pub fn set_tid_address(t: &mut Task, a: [u64; 6]) -> SysResult {
    t.clear_child_tid = a[0];
    Ok(t.tid as u64)
}

/// `sizeof(struct robust_list_head)`.
const ROBUST_LIST_HEAD_SIZE: u64 = 24;

pub fn set_robust_list(t: &mut Task, a: [u64; 6]) -> SysResult {
    if a[1] != ROBUST_LIST_HEAD_SIZE {
        bail!(EINVAL, "len {} != {ROBUST_LIST_HEAD_SIZE}", a[1]);
    }
    t.robust_list = (a[0], a[1]);
    Ok(0)
}

pub fn get_robust_list(t: &mut Task, a: [u64; 6]) -> SysResult {
    let pid = int_arg(a[0]);
    if pid != 0 && pid != t.tid {
        bail!(ESRCH);
    }
    t.mm.write_obj(UserAddr(a[2]), &ROBUST_LIST_HEAD_SIZE)?;
    t.mm.write_obj(UserAddr(a[1]), &t.robust_list.0)?;
    Ok(0)
}

/// `offsetof(struct rseq, end)` in Linux 6.3+ (after mm_cid).
const RSEQ_END: u32 = 28;
const RSEQ_ORIG_SIZE: u32 = 32;

pub fn rseq(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (addr, len, flags, sig) = (a[0], a[1] as u32, a[2] as u32, a[3] as u32);
    if flags & abi::RSEQ_FLAG_UNREGISTER != 0 {
        if flags & !abi::RSEQ_FLAG_UNREGISTER != 0 {
            bail!(EINVAL);
        }
        let Some(cur) = t.rseq else {
            bail!(EINVAL, "not registered")
        };
        if cur.addr != addr || cur.len != len {
            bail!(EINVAL, "not the registered area");
        }
        if cur.sig != sig {
            bail!(EPERM, "signature mismatch");
        }
        // Only the fields the kernel owns: cpu_id_start, cpu_id, then node_id and mm_cid.
        t.mm.write_obj(UserAddr(addr), &[0u32, abi::RSEQ_CPU_ID_UNINITIALIZED])?;
        t.mm.write_obj(UserAddr(addr + 20), &[0u32, 0u32])?;
        t.rseq = None;
        return Ok(0);
    }
    if flags != 0 {
        bail!(EINVAL, "bad flags {flags:#x}");
    }
    if let Some(cur) = t.rseq {
        if cur.addr != addr || cur.len != len {
            bail!(EINVAL, "another area is registered");
        }
        if cur.sig != sig {
            bail!(EPERM, "signature mismatch");
        }
        bail!(EBUSY);
    }
    if len < RSEQ_ORIG_SIZE
        || (len == RSEQ_ORIG_SIZE && addr % u64::from(RSEQ_ORIG_SIZE) != 0)
        || (len != RSEQ_ORIG_SIZE && (addr % 32 != 0 || len < RSEQ_END))
    {
        bail!(EINVAL, "bad rseq length or alignment");
    }
    if !crate::mm::access_ok(addr, u64::from(len)) {
        bail!(EFAULT);
    }
    t.rseq = Some(RseqArea { addr, len, sig });
    // Linux fills the CPU fields on the way back to user space, and kills the task with SIGSEGV
    // if it cannot.
    let cpu = t.k.vcpu();
    let fields = [cpu, cpu];
    let node_mm_cid = [0u32, 0u32];
    if t.mm.write_obj(UserAddr(addr), &fields).is_err()
        || t.mm.write_obj(UserAddr(addr + 20), &node_mm_cid).is_err()
    {
        t.kill(abi::signal::SIGSEGV);
    }
    Ok(0)
}

fn check_resource(resource: u64) -> Result<usize, crate::errors::Errno> {
    usize::try_from(resource & 0xffff_ffff)
        .ok()
        .filter(|&r| r < abi::RLIM_NLIMITS)
        .ok_or_else(|| errno!(EINVAL))
}

/// Sets a limit with Linux's rules. The guest has no CAP_SYS_RESOURCE (nor does root on hosts
/// like this one), so a hard limit can only be lowered.
fn set_limit(t: &mut Task, resource: usize, new: abi::Rlimit) -> Result<(), crate::errors::Errno> {
    if new.cur > new.max {
        bail!(EINVAL, "soft limit above hard limit");
    }
    let old = t.rlimits[resource];
    if new.max > old.max {
        bail!(EPERM, "raising the hard limit needs CAP_SYS_RESOURCE");
    }
    if resource == abi::RLIMIT_NOFILE && new.max > abi::NR_OPEN {
        bail!(EPERM);
    }
    t.rlimits[resource] = new;
    if resource == abi::RLIMIT_AS {
        t.mm.state_mut().as_limit = new.cur;
    }
    Ok(())
}

pub fn prlimit64(t: &mut Task, a: [u64; 6]) -> SysResult {
    let pid = int_arg(a[0]);
    let new = if a[2] != 0 {
        Some(t.mm.read_obj::<abi::Rlimit>(UserAddr(a[2]))?)
    } else {
        None
    };
    let resource = check_resource(a[1])?;
    if pid != 0 && pid != 1 {
        bail!(ESRCH);
    }
    let old = t.rlimits[resource];
    if let Some(new) = new {
        set_limit(t, resource, new)?;
    }
    if a[3] != 0 {
        t.mm.write_obj(UserAddr(a[3]), &old)?;
    }
    Ok(0)
}

pub fn getrlimit(t: &mut Task, a: [u64; 6]) -> SysResult {
    let resource = check_resource(a[0])?;
    t.mm.write_obj(UserAddr(a[1]), &t.rlimits[resource])?;
    Ok(0)
}

pub fn setrlimit(t: &mut Task, a: [u64; 6]) -> SysResult {
    let resource = check_resource(a[0])?;
    let new: abi::Rlimit = t.mm.read_obj(UserAddr(a[1]))?;
    set_limit(t, resource, new)?;
    Ok(0)
}

pub fn getrandom(t: &mut Task, a: [u64; 6]) -> SysResult {
    let flags = a[2] & 0xffff_ffff;
    if flags & !(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE) != 0
        || flags & (GRND_RANDOM | GRND_INSECURE) == (GRND_RANDOM | GRND_INSECURE)
    {
        bail!(EINVAL, "bad flags {flags:#x}");
    }
    let len = usize::try_from(a[1])
        .unwrap_or(usize::MAX)
        .min(abi::MAX_RW_COUNT);
    let mut done = 0usize;
    let mut buf = vec![0u8; len.min(1 << 16)];
    while done < len {
        let n = (len - done).min(buf.len());
        host::fill_random(&mut buf[..n]);
        let copied =
            t.mm.copy_out_partial(UserAddr(a[0]).checked_add(done as u64)?, &buf[..n]);
        done += copied;
        if copied < n {
            if done == 0 {
                bail!(EFAULT);
            }
            break;
        }
    }
    Ok(done as u64)
}

pub fn sched_yield(_t: &mut Task, _a: [u64; 6]) -> SysResult {
    std::thread::yield_now();
    Ok(0)
}

pub fn sched_getaffinity(t: &mut Task, a: [u64; 6]) -> SysResult {
    // Let the host apply its size rules (EINVAL for a too-small or unaligned length), then answer
    // with the mask the Sentry had before pinning itself.
    let len = usize::try_from(a[1] & 0xffff_ffff)
        .unwrap_or(0)
        .min(1 << 16);
    let n = match host::sched_getaffinity(len) {
        Ok(host_mask) => host_mask.len(),
        Err(e) => return Err(crate::errors::Errno::new(e)),
    };
    let pid = int_arg(a[0]);
    if pid != 0 && pid != 1 {
        bail!(ESRCH);
    }
    let mut mask = t.affinity.clone().unwrap_or_else(|| t.k.affinity.clone());
    mask.resize(n, 0);
    t.mm.copy_out(UserAddr(a[2]), &mask)?;
    Ok(n as u64)
}

pub fn getcpu(t: &mut Task, a: [u64; 6]) -> SysResult {
    let cpu = t.k.vcpu();
    if a[0] != 0 {
        t.mm.write_obj(UserAddr(a[0]), &cpu)?;
    }
    if a[1] != 0 {
        t.mm.write_obj(UserAddr(a[1]), &0u32)?;
    }
    Ok(0)
}

/// struct sysinfo (x86-64).
#[repr(C)]
#[derive(Clone, Copy, Default, zerocopy::IntoBytes, zerocopy::Immutable)]
struct Sysinfo {
    uptime: i64,
    loads: [u64; 3],
    totalram: u64,
    freeram: u64,
    sharedram: u64,
    bufferram: u64,
    totalswap: u64,
    freeswap: u64,
    procs: u16,
    pad: [u8; 6],
    totalhigh: u64,
    freehigh: u64,
    mem_unit: u32,
    pad2: [u8; 4],
}
const _: () = assert!(std::mem::size_of::<Sysinfo>() == 112);

pub fn sysinfo(t: &mut Task, a: [u64; 6]) -> SysResult {
    let up = host::clock_gettime(libc::CLOCK_BOOTTIME)
        .map(|ts| ts.tv_sec as f64 + ts.tv_nsec as f64 / 1e9)
        .unwrap_or(0.0);
    let total = t.k.memory_limit;
    let used = t.mm.mapped_bytes().min(total);
    let info = Sysinfo {
        uptime: up.max(0.0) as i64,
        totalram: total,
        freeram: total - used,
        procs: 1,
        mem_unit: 1,
        ..Sysinfo::default()
    };
    t.mm.write_obj(UserAddr(a[0]), &info)?;
    Ok(0)
}
