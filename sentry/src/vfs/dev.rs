//! devfs: the character devices a program expects (`null`, `zero`, `full`, `random`, `urandom`,
//! `tty`), the `fd`/`stdin`/`stdout`/`stderr` links, and `shm/` and `pts/` directories (tmpfs and
//! an empty devpts until the terminals issue).

use super::{add_symlink, mkdir_p, Device, Inode, Kind, Meta, S_IFCHR};
use std::rc::Rc;

fn makedev(major: u64, minor: u64) -> u64 {
    ((major & 0xfff) << 8) | (minor & 0xff) | ((minor & !0xff) << 12) | ((major & !0xfff) << 32)
}

/// A null device node of `fs` (what an OCI `maskedPaths` file becomes, as runc binds /dev/null
/// over it).
pub fn null_node(fs: &Rc<super::Fs>) -> Rc<Inode> {
    let mut meta = Meta::new(S_IFCHR | 0o666, 0, 0);
    meta.rdev = makedev(1, 3);
    Inode::new_memory(fs, meta, Kind::Device(Device::Null))
}

/// Fills the devfs root.
pub fn populate(root: &Rc<Inode>) {
    for (name, dev, major, minor, mode) in [
        (&b"null"[..], Device::Null, 1, 3, 0o666),
        (b"zero", Device::Zero, 1, 5, 0o666),
        (b"full", Device::Full, 1, 7, 0o666),
        (b"random", Device::Random, 1, 8, 0o666),
        (b"urandom", Device::URandom, 1, 9, 0o666),
        (b"tty", Device::Tty, 5, 0, 0o666),
    ] {
        let mut meta = Meta::new(S_IFCHR | mode, 0, 0);
        meta.rdev = makedev(major, minor);
        let n = Inode::new_memory(&root.fs, meta, Kind::Device(dev));
        root.link_child(name, n);
    }
    add_symlink(root, b"fd", b"/proc/self/fd");
    add_symlink(root, b"stdin", b"/proc/self/fd/0");
    add_symlink(root, b"stdout", b"/proc/self/fd/1");
    add_symlink(root, b"stderr", b"/proc/self/fd/2");
    add_symlink(root, b"ptmx", b"pts/ptmx");
    add_symlink(root, b"core", b"/proc/kcore");
    mkdir_p(root, b"pts", 0o755);
    mkdir_p(root, b"shm", 0o1777);
    mkdir_p(root, b"mqueue", 0o1777);
}

/// Reads from a device into `buf`: the number of bytes produced (0 is end of file).
pub fn read(dev: Device, buf: &mut [u8]) -> usize {
    match dev {
        Device::Null => 0,
        Device::Zero | Device::Full => {
            buf.fill(0);
            buf.len()
        }
        Device::Random | Device::URandom => {
            crate::host::fill_random(buf);
            buf.len()
        }
        // Terminals are opened as terminal files, never read as devices.
        Device::Tty | Device::Ptmx | Device::Pty(_) => 0,
    }
}
