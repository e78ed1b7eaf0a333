//! Loading a static or static-PIE x86-64 ELF executable into a fresh [`Mm`], and building the
//! initial stack (argv, envp, auxv) the way Linux's `load_elf_binary` and `create_elf_tables` do.
//!
//! Layout, as Linux with `randomize_va_space = 2`:
//! - the stack top is [`Mm::max_addr`] minus up to 16 GiB, then the stack pointer moves down by up
//!   to 8 KiB (`arch_align_stack`);
//! - `mmap_base` sits below the stack gap (RLIMIT_STACK + guard, clamped to at least 128 MiB) and a
//!   random offset of up to 2^28 pages;
//! - ET_EXEC loads at its addresses; an ET_DYN without interpreter (static-PIE) is placed like an
//!   mmap, top down from `mmap_base`, and its brk starts at `ELF_ET_DYN_BASE`;
//! - the brk start is moved up by up to 1 GiB.
//!
//! The stack segment starts at 256 KiB plus the strings and grows on fault up to RLIMIT_STACK.
//!
//! A program with a PT_INTERP (dynamically linked) is loaded with its interpreter (the dynamic
//! linker, read by the caller from the sandbox's filesystem): a position-independent program at
//! `ELF_ET_DYN_BASE` plus a random offset, the interpreter placed like an mmap, AT_BASE its base
//! and the entry point its entry.

use crate::host;
use crate::mm::{page_down, page_up, MmState, Role, UserAddr};
use abi::auxv::*;
use abi::mman::{PROT_EXEC, PROT_READ, PROT_WRITE};
use abi::{UserRegs, PAGE_SIZE};
use goblin::container::{Container, Ctx, Endian};
use goblin::elf::{header, program_header, Elf};
use std::os::fd::AsFd;

/// Why a program could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{0}: not an x86-64 ELF executable")]
    NotElf(String),
    #[error("{path}: malformed ELF: {why}")]
    Malformed { path: String, why: String },
    #[error("{0}: argument list too long")]
    TooBig(String),
    #[error("{path}: cannot map the program: {errno}")]
    Map {
        path: String,
        errno: crate::errors::Errno,
    },
}

/// Identity written into the auxiliary vector.
#[derive(Clone, Copy, Debug)]
pub struct Creds {
    pub uid: u32,
    pub euid: u32,
    pub gid: u32,
    pub egid: u32,
}

/// Host CPU facts the guest sees through auxv.
#[derive(Clone, Copy, Debug, Default)]
pub struct HostAux {
    pub hwcap: u64,
    pub hwcap2: u64,
    pub minsigstksz: u64,
}

/// What the program is started with, besides its image.
#[derive(Clone, Copy)]
pub struct ExecArgs<'a> {
    /// argv, `argv[0]` included.
    pub argv: &'a [Vec<u8>],
    pub envp: &'a [Vec<u8>],
    /// RLIMIT_STACK's soft limit.
    pub stack_limit: u64,
    pub creds: Creds,
    pub aux: HostAux,
}

/// What a loaded program starts with.
pub struct Loaded {
    pub regs: UserRegs,
}

/// `ELF_ET_DYN_BASE` on x86-64: 2/3 of the 47-bit address space.
const ELF_ET_DYN_BASE: u64 = (0x7fff_ffff_f000 / 3 * 2) & !(PAGE_SIZE - 1);
/// Stack top randomisation range (`STACK_RND_MASK` pages).
const STACK_RND: u64 = 0x3f_ffff * PAGE_SIZE;
/// mmap base randomisation (`mmap_rnd_bits` = 28).
const MMAP_RND: u64 = ((1 << 28) - 1) * PAGE_SIZE;
/// brk randomisation (`arch_randomize_brk` for 64-bit tasks: 1 GiB).
const BRK_RND: u64 = 1 << 30;

/// How much of an executable's start [`ImageFile::head`] must hold: the ELF and program headers
/// and the interpreter's path (Linux reads program headers of up to 64 KiB).
pub const MAX_HEAD: usize = 64 << 10;

/// An executable: its first bytes (headers, `#!` line) in memory, the rest read straight into
/// guest memory when segments are mapped.
pub struct ImageFile {
    pub head: Vec<u8>,
    pub size: u64,
    pub source: ImageSource,
    /// What /proc/PID/maps calls its mappings.
    pub label: Option<std::sync::Arc<crate::mm::FileLabel>>,
    /// The file's cached pages, which its segments map instead of copying the file
    /// ([`crate::vfs::Inode::file_pages`]).
    pub pages: Option<std::rc::Rc<crate::mm::FilePages>>,
}

/// Where an image's bytes come from.
pub enum ImageSource {
    /// A host file (donated by the Gofer), read with preadv into the memory file.
    Host(std::rc::Rc<crate::vfs::CachedFd>),
    /// Bytes in the Sentry (a file of the sandbox's memory).
    Bytes(Vec<u8>),
}

impl ImageFile {
    /// An image held in memory.
    pub fn from_bytes(bytes: Vec<u8>) -> ImageFile {
        ImageFile {
            head: bytes[..bytes.len().min(MAX_HEAD)].to_vec(),
            size: bytes.len() as u64,
            source: ImageSource::Bytes(bytes),
            label: None,
            pages: None,
        }
    }

    /// Copies `[off, off + len)` of the file into the memory-file `ranges` (whose lengths sum to
    /// `len`).
    fn read_into(&self, mm: &MmState, ranges: &[(u64, usize)], off: u64) -> std::io::Result<()> {
        let mem = &mm.memory().file;
        match &self.source {
            ImageSource::Bytes(v) => {
                let mut at = usize::try_from(off).unwrap_or(usize::MAX);
                for &(o, n) in ranges {
                    let end = at
                        .checked_add(n)
                        .filter(|&e| e <= v.len())
                        .ok_or_else(|| std::io::Error::from_raw_os_error(libc::EIO))?;
                    mem.write(o, &v[at..end]);
                    at = end;
                }
                Ok(())
            }
            ImageSource::Host(fd) => {
                let mut pos = off;
                for &(o, n) in ranges {
                    // A short read (the file shrank on the host) is an error, not zeroes.
                    if mem.fill_from_host(fd.as_fd(), o, n, pos)? < n {
                        return Err(std::io::Error::from_raw_os_error(libc::EIO));
                    }
                    pos += n as u64;
                }
                Ok(())
            }
        }
    }
}

/// An ELF's headers, parsed from its head.
struct Parsed {
    header: header::Header,
    phdrs: Vec<Phdr>,
    interp: Option<Vec<u8>>,
}

/// Parses what the loader needs from an image's head; None if it is not an x86-64 ELF or the
/// headers do not fit in the head.
fn parse(head: &[u8]) -> Option<Parsed> {
    let header = Elf::parse_header(head).ok()?;
    if header.e_ident[header::EI_CLASS] != header::ELFCLASS64
        || header.e_ident[header::EI_DATA] != header::ELFDATA2LSB
        || header.e_machine != header::EM_X86_64
        || header.e_phentsize != 56
    {
        return None;
    }
    let ctx = Ctx::new(Container::Big, Endian::Little);
    let phoff = usize::try_from(header.e_phoff).ok()?;
    let phnum = usize::from(header.e_phnum);
    phoff
        .checked_add(phnum.checked_mul(usize::from(header.e_phentsize))?)
        .filter(|&e| e <= head.len())?;
    let phdrs = program_header::ProgramHeader::parse(head, phoff, phnum, ctx).ok()?;
    let interp = match phdrs.iter().find(|p| p.p_type == program_header::PT_INTERP) {
        Some(p) => {
            let from = usize::try_from(p.p_offset).ok()?;
            let to = from.checked_add(usize::try_from(p.p_filesz).ok()?)?;
            let bytes = head.get(from..to)?;
            let end = bytes.iter().position(|&c| c == 0).unwrap_or(bytes.len());
            Some(bytes[..end].to_vec())
        }
        None => None,
    };
    Some(Parsed {
        header,
        phdrs,
        interp,
    })
}

/// How many bytes of the file the loader needs in the head, given the first bytes: the program
/// headers and the PT_INTERP string (None if it is not ELF at all).
pub fn head_needed(first: &[u8]) -> Option<usize> {
    let header = Elf::parse_header(first).ok()?;
    let ph_end = usize::try_from(header.e_phoff)
        .ok()?
        .checked_add(usize::from(header.e_phnum) * usize::from(header.e_phentsize))?;
    if ph_end > first.len() {
        return Some(ph_end);
    }
    let ctx = Ctx::new(Container::Big, Endian::Little);
    let phdrs = program_header::ProgramHeader::parse(
        first,
        usize::try_from(header.e_phoff).ok()?,
        usize::from(header.e_phnum),
        ctx,
    )
    .ok()?;
    let interp_end = phdrs
        .iter()
        .find(|p| p.p_type == program_header::PT_INTERP)
        .and_then(|p| p.p_offset.checked_add(p.p_filesz))
        .and_then(|e| usize::try_from(e).ok())
        .unwrap_or(0);
    Some(ph_end.max(interp_end))
}

/// The PT_INTERP path of an ELF image, if it has one (None also for what is not ELF).
pub fn interpreter(head: &[u8]) -> Option<Vec<u8>> {
    parse(head)?.interp
}

/// Loads `image` (read from `path`, which becomes AT_EXECFN) and its interpreter's image, if it
/// has one, into `mm` and builds the stack.
pub fn load(
    mm: &mut MmState,
    path: &str,
    image: &ImageFile,
    interp: Option<&ImageFile>,
    exec: &ExecArgs<'_>,
) -> Result<Loaded, LoadError> {
    let ExecArgs {
        argv,
        envp,
        stack_limit,
        creds,
        aux,
    } = *exec;
    let malformed = |why: String| LoadError::Malformed {
        path: path.to_string(),
        why,
    };
    let map_err = |errno| LoadError::Map {
        path: path.to_string(),
        errno,
    };
    let elf = parse(&image.head).ok_or_else(|| LoadError::NotElf(path.to_string()))?;
    let dyn_image = match elf.header.e_type {
        header::ET_EXEC => false,
        header::ET_DYN => true,
        _ => return Err(LoadError::NotElf(path.to_string())),
    };
    let loads = load_segments(&elf).ok_or_else(|| malformed("no PT_LOAD segment".into()))?;
    let interp_elf = match interp {
        Some(file) if elf.interp.is_some() => {
            let ie = parse(&file.head).ok_or_else(|| LoadError::NotElf("interpreter".into()))?;
            if ie.header.e_type != header::ET_DYN {
                return Err(LoadError::NotElf("interpreter".into()));
            }
            Some(ie)
        }
        _ if elf.interp.is_some() => {
            return Err(malformed(
                "PT_INTERP without the interpreter's image".into(),
            ))
        }
        _ => None,
    };

    // Stack and mmap layout first: a static-PIE image is placed relative to mmap_base.
    let stack_top = page_down(mm.max_addr() - host::random_below(STACK_RND));
    let gap = (stack_limit.saturating_add(256 * PAGE_SIZE + STACK_RND))
        .clamp(128 << 20, mm.max_addr() / 6 * 5);
    mm.mmap_base = page_down(mm.max_addr() - gap - host::random_below(MMAP_RND));

    let lo = loads
        .iter()
        .map(|p| page_down(p.p_vaddr))
        .min()
        .unwrap_or(0);
    let hi = loads
        .iter()
        .map(|p| p.p_vaddr.checked_add(p.p_memsz).and_then(page_up))
        .try_fold(0u64, |acc, e| e.map(|e| acc.max(e)))
        .ok_or_else(|| malformed("segment end overflows".into()))?;
    let align = max_align(&loads).ok_or_else(|| malformed("segment alignment".into()))?;
    let bias = if dyn_image && interp_elf.is_some() {
        // A PIE with an interpreter: ELF_ET_DYN_BASE plus the mmap randomisation.
        (ELF_ET_DYN_BASE + host::random_below(MMAP_RND)) & !(align - 1)
    } else if dyn_image {
        let base = mm
            .find_free(hi - lo, mm.mmap_base, align)
            .ok_or_else(|| map_err(crate::errno!(ENOMEM, "no room for the image")))?;
        base - lo
    } else {
        0
    };
    if hi.checked_add(bias).is_none_or(|end| end > mm.max_addr())
        || lo.checked_add(bias).is_none_or(|s| s < abi::MMAP_MIN_ADDR)
    {
        return Err(malformed(format!(
            "segments outside the address space ({lo:#x}-{hi:#x})"
        )));
    }

    map_segments(mm, &loads, image, bias).map_err(|e| e.at(path))?;
    let interp_base = match (&interp_elf, interp) {
        (Some(ie), Some(file)) => {
            let iloads =
                load_segments(ie).ok_or_else(|| malformed("interpreter has no PT_LOAD".into()))?;
            let ilo = iloads
                .iter()
                .map(|p| page_down(p.p_vaddr))
                .min()
                .unwrap_or(0);
            let ihi = iloads
                .iter()
                .map(|p| p.p_vaddr.checked_add(p.p_memsz).and_then(page_up))
                .try_fold(0u64, |acc, e| e.map(|e| acc.max(e)))
                .ok_or_else(|| malformed("interpreter segment end overflows".into()))?;
            let ialign =
                max_align(&iloads).ok_or_else(|| malformed("interpreter alignment".into()))?;
            let base = mm
                .find_free(ihi - ilo, mm.mmap_base, ialign)
                .ok_or_else(|| map_err(crate::errno!(ENOMEM, "no room for the interpreter")))?;
            let ibias = base - ilo;
            map_segments(mm, &iloads, file, ibias).map_err(|e| e.at("interpreter"))?;
            Some((ibias, ie.header.e_entry + ibias))
        }
        _ => None,
    };
    let end_of_image = hi + bias;
    let brk_base = if dyn_image && interp_base.is_none() {
        ELF_ET_DYN_BASE
    } else {
        end_of_image
    };
    mm.brk_start = page_down(brk_base + host::random_below(BRK_RND)).max(brk_base);
    mm.brk = mm.brk_start;

    let phdr = elf
        .phdrs
        .iter()
        .find(|p| p.p_type == program_header::PT_PHDR)
        .map(|p| p.p_vaddr + bias)
        .or_else(|| {
            loads
                .iter()
                .find(|p| p.p_offset == 0)
                .map(|p| p.p_vaddr + elf.header.e_phoff + bias)
        })
        .unwrap_or(0);
    let entry = elf.header.e_entry + bias;

    // The stack starts small and grows on fault (Mm::grow_stack) up to RLIMIT_STACK.
    let strings: u64 = argv
        .iter()
        .chain(envp)
        .map(|s| s.len() as u64 + 1)
        .sum::<u64>()
        + path.len() as u64;
    let stack_size = page_up(strings + (256 << 10)).unwrap_or(256 << 10);
    if strings + (64 << 10) > stack_limit.max(128 << 10) / 4 * 3 {
        return Err(LoadError::TooBig(path.to_string()));
    }
    mm.map_anon(
        stack_top - stack_size,
        stack_size,
        PROT_READ | PROT_WRITE,
        false,
        Role::Stack,
    )
    .map_err(map_err)?;
    mm.stack_top = stack_top;
    mm.stack_bottom = stack_top - stack_size;
    let (sp, arg_range, env_range) = build_stack(
        mm,
        stack_top,
        stack_size,
        path,
        argv,
        envp,
        &[
            (AT_SYSINFO_EHDR, mm.vdso().map_or(0, |v| v.base)),
            (AT_MINSIGSTKSZ, aux.minsigstksz),
            (AT_HWCAP, aux.hwcap),
            (AT_PAGESZ, PAGE_SIZE),
            (AT_CLKTCK, 100),
            (AT_PHDR, phdr),
            (AT_PHENT, u64::from(elf.header.e_phentsize)),
            (AT_PHNUM, u64::from(elf.header.e_phnum)),
            (AT_BASE, interp_base.map_or(0, |b| b.0)),
            (AT_FLAGS, 0),
            (AT_ENTRY, entry),
            (AT_UID, u64::from(creds.uid)),
            (AT_EUID, u64::from(creds.euid)),
            (AT_GID, u64::from(creds.gid)),
            (AT_EGID, u64::from(creds.egid)),
            (AT_SECURE, 0),
            (AT_HWCAP2, aux.hwcap2),
        ],
    )?;
    mm.arg_range = arg_range;
    mm.env_range = env_range;
    let regs = UserRegs {
        rip: interp_base.map_or(entry, |b| b.1),
        rsp: sp,
        cs: 0x33,
        ss: 0x2b,
        eflags: 0x202,
        ..UserRegs::default()
    };
    Ok(Loaded { regs })
}

type Phdr = goblin::elf::ProgramHeader;

fn load_segments(elf: &Parsed) -> Option<Vec<Phdr>> {
    let v: Vec<Phdr> = elf
        .phdrs
        .iter()
        .filter(|p| p.p_type == program_header::PT_LOAD)
        .cloned()
        .collect();
    (!v.is_empty()).then_some(v)
}

fn max_align(loads: &[Phdr]) -> Option<u64> {
    let align = loads
        .iter()
        .map(|p| p.p_align)
        .max()
        .unwrap_or(PAGE_SIZE)
        .max(PAGE_SIZE);
    align.is_power_of_two().then_some(align)
}

/// A failure mapping segments, before the path is known.
enum SegError {
    Malformed(String),
    Map(crate::errors::Errno),
}

impl SegError {
    fn at(self, path: &str) -> LoadError {
        match self {
            SegError::Malformed(why) => LoadError::Malformed {
                path: path.to_string(),
                why,
            },
            SegError::Map(errno) => LoadError::Map {
                path: path.to_string(),
                errno,
            },
        }
    }
}

/// Maps the PT_LOAD segments of `image` at `bias` and copies their file bytes in.
fn map_segments(
    mm: &mut MmState,
    loads: &[Phdr],
    image: &ImageFile,
    bias: u64,
) -> Result<(), SegError> {
    let malformed = SegError::Malformed;
    let map_err = SegError::Map;
    for ph in loads {
        let start = page_down(ph.p_vaddr + bias);
        let end = page_up(ph.p_vaddr + bias + ph.p_memsz)
            .ok_or_else(|| malformed("segment end".into()))?;
        if ph.p_filesz > ph.p_memsz
            || ph
                .p_offset
                .checked_add(ph.p_filesz)
                .is_none_or(|e| e > image.size)
        {
            return Err(malformed(format!(
                "segment at {:#x} exceeds the file",
                ph.p_vaddr
            )));
        }
        if ph.p_vaddr % PAGE_SIZE != ph.p_offset % PAGE_SIZE {
            return Err(malformed(format!(
                "segment at {:#x} misaligned with its offset",
                ph.p_vaddr
            )));
        }
        let mut prot = 0;
        if ph.is_read() {
            prot |= PROT_READ;
        }
        if ph.is_write() {
            prot |= PROT_WRITE;
        }
        if ph.is_executable() {
            prot |= PROT_EXEC;
        }
        // A segment sharing its first page with the previous one keeps that page's contents:
        // the file bytes before p_offset in the page are the same bytes Linux would map.
        let pg = ph.p_vaddr % PAGE_SIZE;
        let file_from = ph.p_offset - pg;
        let len = usize::try_from(ph.p_filesz + pg).unwrap_or(usize::MAX);
        if let Some(pages) = &image.pages {
            mm.map_file_pages(
                start,
                end - start,
                prot,
                Role::Image,
                pages,
                file_from,
                len as u64,
            )
            .map_err(map_err)?;
        } else {
            mm.map_anon(start, end - start, prot, false, Role::Image)
                .map_err(map_err)?;
            // The segment was just mapped with its own backing: read the file straight into it,
            // whatever the guest protection (a read-only text segment still needs its bytes).
            let ranges = mm.backing_ranges(start, len);
            image
                .read_into(mm, &ranges, file_from)
                .map_err(|e| SegError::Map(crate::errors::from_host(e)))?;
        }
        if let Some(label) = &image.label {
            mm.set_file(start, end - start, label.clone(), file_from, true);
        }
        // A copied segment's pages are all about to be used: map them into the guest now rather
        // than one fault at a time. Cached pages are not: the guest's faults on them are the
        // host's alone (no stop), and a process then maps, and is charged for (its PSS), only
        // the pages it touches.
        if image.pages.is_none() && prot & PROT_READ != 0 && end - start >= POPULATE_MIN {
            mm.populate(start, end - start);
        }
    }

    Ok(())
}

/// Segments at least this large are populated in the guest when loaded.
const POPULATE_MIN: u64 = 64 << 10;

/// The initial stack pointer, and where the argument and environment strings are.
type StackLayout = (u64, (u64, u64), (u64, u64));

/// Builds the initial stack below `top` and returns the initial stack pointer.
#[allow(clippy::too_many_arguments)]
fn build_stack(
    mm: &MmState,
    top: u64,
    size: u64,
    path: &str,
    argv: &[Vec<u8>],
    envp: &[Vec<u8>],
    aux: &[(u64, u64)],
) -> Result<StackLayout, LoadError> {
    let too_big = || LoadError::TooBig(path.to_string());
    let mut strings_len = 0usize;
    for s in argv.iter().chain(envp) {
        if s.len() + 1 > abi::MAX_ARG_STRLEN {
            return Err(too_big());
        }
        strings_len += s.len() + 1;
    }
    if strings_len as u64 + 64 * 1024 > size {
        return Err(too_big());
    }
    let mut w = StackWriter { mm, sp: top - 8 };
    w.push_bytes(&[0; 8]);
    let execfn = w.push_cstr(path.as_bytes());
    let mut env_ptrs: Vec<u64> = envp.iter().rev().map(|e| w.push_cstr(e)).collect();
    env_ptrs.reverse();
    let mut arg_ptrs: Vec<u64> = argv.iter().rev().map(|a| w.push_cstr(a)).collect();
    arg_ptrs.reverse();
    // arch_align_stack: a random shift below the strings, then 16-byte alignment.
    w.sp = (w.sp - host::random_below(8192)) & !0xf;
    let platform = w.push_cstr(b"x86_64");
    let mut random = [0u8; 16];
    host::fill_random(&mut random);
    let random_ptr = w.push_bytes(&random);

    // AT_SYSINFO_EHDR only when there is a vDSO.
    let mut auxv: Vec<(u64, u64)> = aux
        .iter()
        .copied()
        .filter(|&(k, v)| k != AT_SYSINFO_EHDR || v != 0)
        .collect();
    auxv.extend([
        (AT_RANDOM, random_ptr),
        (AT_EXECFN, execfn),
        (AT_PLATFORM, platform),
        (AT_NULL, 0),
    ]);
    let words = 1 + arg_ptrs.len() + 1 + env_ptrs.len() + 1 + auxv.len() * 2;
    let sp = (w.sp - words as u64 * 8) & !0xf;
    let mut table = Vec::with_capacity(words * 8);
    table.extend_from_slice(&(argv.len() as u64).to_le_bytes());
    for p in arg_ptrs
        .iter()
        .chain([&0])
        .chain(env_ptrs.iter())
        .chain([&0])
    {
        table.extend_from_slice(&p.to_le_bytes());
    }
    for (k, v) in auxv {
        table.extend_from_slice(&k.to_le_bytes());
        table.extend_from_slice(&v.to_le_bytes());
    }
    mm.copy_out(UserAddr(sp), &table)
        .map_err(|errno| LoadError::Map {
            path: path.to_string(),
            errno,
        })?;
    let span = |ptrs: &[u64], strs: &[Vec<u8>]| match (ptrs.first(), ptrs.last(), strs.last()) {
        (Some(&a), Some(&b), Some(s)) => (a, b + s.len() as u64 + 1),
        _ => (0, 0),
    };
    Ok((sp, span(&arg_ptrs, argv), span(&env_ptrs, envp)))
}

struct StackWriter<'a> {
    mm: &'a MmState,
    sp: u64,
}

impl StackWriter<'_> {
    fn push_bytes(&mut self, b: &[u8]) -> u64 {
        self.sp -= b.len() as u64;
        // The stack segment was mapped writable just before; sizes were checked against it.
        let _ = self.mm.copy_out(UserAddr(self.sp), b);
        self.sp
    }

    fn push_cstr(&mut self, s: &[u8]) -> u64 {
        self.push_bytes(&[0]);
        self.push_bytes(s)
    }
}
