//! The Gofer protocol: the messages the Sentry and the Gofer exchange over a `SOCK_SEQPACKET`
//! Unix socket (one request, then one reply; one message per packet), encoded with `postcard`.
//! A reply that opens a host file carries the fd as `SCM_RIGHTS`. docs/gofer-protocol.md
//! describes each message.
//!
//! Files are named by *fids*: small integers the Gofer hands out for nodes it has walked to, each
//! backed by an `O_PATH|O_NOFOLLOW` fd the Gofer holds. Mount roots are fids `0..n` in the order
//! of the Gofer's `--mount` arguments.

use serde::{Deserialize, Serialize};

/// A node the Gofer has walked to.
pub type Fid = u64;

/// The largest packet either side sends (a reply's readdir page is cut to fit).
pub const MAX_MESSAGE: usize = 64 * 1024;

/// Longest file name component (NAME_MAX).
pub const NAME_MAX: usize = 255;

/// A file's attributes, as `statx` reports them on the host.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attr {
    pub mode: u32,
    pub nlink: u64,
    pub uid: u32,
    pub gid: u32,
    pub rdev: u64,
    pub size: u64,
    pub blksize: u64,
    pub blocks: u64,
    pub atime: (i64, u32),
    pub mtime: (i64, u32),
    pub ctime: (i64, u32),
    pub ino: u64,
    pub dev: u64,
}

/// One directory entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dirent {
    pub name: Vec<u8>,
    pub ino: u64,
    /// `DT_*`.
    pub kind: u8,
}

/// Filesystem statistics (`statfs`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Statfs {
    pub kind: i64,
    pub bsize: i64,
    pub blocks: u64,
    pub bfree: u64,
    pub bavail: u64,
    pub files: u64,
    pub ffree: u64,
    pub namelen: i64,
    pub frsize: i64,
    /// Mount flags (`ST_*`); the host's are not reported (the Sentry sets its own).
    pub flags: i64,
}

/// Attribute changes (`SetAttr`); `None` leaves a field as it is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetAttr {
    pub mode: Option<u32>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    pub size: Option<u64>,
    /// Seconds and nanoseconds; nanoseconds `UTIME_NOW`/`UTIME_OMIT` as utimensat.
    pub atime: Option<(i64, i64)>,
    pub mtime: Option<(i64, i64)>,
}

/// A request from the Sentry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Request {
    /// Walks from directory `dir` through `names` (no `/`, `.` or `..`; symlinks are not
    /// followed: the Sentry resolves them). Replies `Walked` with a fid and attributes for each
    /// name reached, stopping after a node that is not a directory or before a name that does not
    /// exist (then `missing` is set).
    Walk {
        dir: Fid,
        names: Vec<Vec<u8>>,
        /// If the walk reaches the last name and it is a regular file, open it read-only and
        /// attach the fd (the Sentry is resolving an `open` for reading: saves an `Open`).
        open_last: bool,
    },
    /// Attributes of `fid`, fresh from the host.
    Stat {
        fid: Fid,
    },
    /// Opens `fid` with `flags` (`O_RDONLY`/`O_WRONLY`/`O_RDWR`, `O_TRUNC`, `O_APPEND`,
    /// `O_DIRECTORY`; never `O_CREAT`): replies `Opened` with the fd attached.
    Open {
        fid: Fid,
        flags: i32,
    },
    /// Up to one page of entries of directory `fid`, from entry `offset` on (`.` and `..` are not
    /// included). Replies `Dirents`, which says whether the page is the last.
    ReadDir {
        fid: Fid,
        offset: u64,
    },
    /// The target of symlink `fid`.
    ReadLink {
        fid: Fid,
    },
    /// Statistics of the filesystem holding `fid`.
    StatFs {
        fid: Fid,
    },
    /// Creates and opens regular file `name` in `dir` (`O_CREAT|O_EXCL` and `flags`): replies
    /// `Created` with the fd attached.
    Create {
        dir: Fid,
        name: Vec<u8>,
        flags: i32,
        mode: u32,
    },
    /// Creates directory `name` in `dir`; replies `Node`.
    MkDir {
        dir: Fid,
        name: Vec<u8>,
        mode: u32,
    },
    /// Creates symlink `name` in `dir` pointing at `target`; replies `Node`.
    SymLink {
        dir: Fid,
        name: Vec<u8>,
        target: Vec<u8>,
    },
    /// Creates hard link `name` in `dir` to `target`; replies `Node`.
    Link {
        dir: Fid,
        name: Vec<u8>,
        target: Fid,
    },
    /// Creates a FIFO or other special file; replies `Node`.
    MkNod {
        dir: Fid,
        name: Vec<u8>,
        mode: u32,
        rdev: u64,
    },
    /// Removes `name` from `dir` (`AT_REMOVEDIR` in `flags` for a directory).
    Unlink {
        dir: Fid,
        name: Vec<u8>,
        flags: i32,
    },
    /// renameat2 within the same mount.
    Rename {
        old_dir: Fid,
        old_name: Vec<u8>,
        new_dir: Fid,
        new_name: Vec<u8>,
        flags: u32,
    },
    /// Changes attributes of `fid`; replies `Attr` with the new attributes.
    SetAttr {
        fid: Fid,
        attr: SetAttr,
    },
    /// Extended attributes.
    GetXattr {
        fid: Fid,
        name: Vec<u8>,
    },
    ListXattr {
        fid: Fid,
    },
    SetXattr {
        fid: Fid,
        name: Vec<u8>,
        value: Vec<u8>,
        flags: i32,
    },
    RemoveXattr {
        fid: Fid,
        name: Vec<u8>,
    },
    /// Forgets fids the Sentry no longer needs (no reply).
    Clunk {
        fids: Vec<Fid>,
    },
}

impl Request {
    /// The request's name, for logs.
    pub fn name(&self) -> &'static str {
        match self {
            Request::Walk { .. } => "Walk",
            Request::Stat { .. } => "Stat",
            Request::Open { .. } => "Open",
            Request::ReadDir { .. } => "ReadDir",
            Request::ReadLink { .. } => "ReadLink",
            Request::StatFs { .. } => "StatFs",
            Request::Create { .. } => "Create",
            Request::MkDir { .. } => "MkDir",
            Request::SymLink { .. } => "SymLink",
            Request::Link { .. } => "Link",
            Request::MkNod { .. } => "MkNod",
            Request::Unlink { .. } => "Unlink",
            Request::Rename { .. } => "Rename",
            Request::SetAttr { .. } => "SetAttr",
            Request::GetXattr { .. } => "GetXattr",
            Request::ListXattr { .. } => "ListXattr",
            Request::SetXattr { .. } => "SetXattr",
            Request::RemoveXattr { .. } => "RemoveXattr",
            Request::Clunk { .. } => "Clunk",
        }
    }
}

/// A reply from the Gofer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Reply {
    /// A Linux errno: the request failed as the host call did.
    Error(i32),
    Ok,
    Walked {
        nodes: Vec<(Fid, Attr)>,
        /// Set if the walk stopped because the next name does not exist.
        missing: bool,
        /// The last node's target, if it is a symlink (saving a `ReadLink`).
        link: Option<Vec<u8>>,
    },
    Attr(Attr),
    /// The fd is attached.
    Opened,
    /// A page of entries, and whether it ends the directory.
    Dirents(Vec<Dirent>, bool),
    Link(Vec<u8>),
    StatFs(Statfs),
    /// A new node with the fd attached.
    Created(Fid, Attr),
    Node(Fid, Attr),
    Xattr(Vec<u8>),
}

/// Encodes a message.
pub fn encode<T: Serialize>(msg: &T) -> Vec<u8> {
    postcard::to_stdvec(msg).expect("encoding into a Vec cannot fail")
}

/// Decodes a message; None if it is malformed.
pub fn decode<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Option<T> {
    postcard::from_bytes(bytes).ok()
}

/// Whether `name` is a single path component the Gofer accepts.
pub fn valid_name(name: &[u8]) -> bool {
    !name.is_empty()
        && name.len() <= NAME_MAX
        && name != b"."
        && name != b".."
        && !name.contains(&b'/')
        && !name.contains(&0)
}

/// As many of `entries` as one `Dirents` reply holds within [`MAX_MESSAGE`], and whether they
/// were the last (then no round trip is needed for an empty page). The size counted is an upper
/// bound of the encoding: 64 bytes of reply header, and per entry its name with a length varint
/// (2 bytes at most for a name of up to 255), the inode number (a varint of 10 bytes at most)
/// and the type (1).
pub fn dirent_page(entries: impl Iterator<Item = Dirent>) -> (Vec<Dirent>, bool) {
    let mut rest = entries.peekable();
    let mut page = Vec::new();
    let mut size = 64;
    while let Some(d) = rest.peek() {
        size += d.name.len() + 16;
        if size > MAX_MESSAGE {
            break;
        }
        page.extend(rest.next());
    }
    let end = rest.peek().is_none();
    (page, end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_directory_page_fits_a_message() {
        let worst = (0..2000).map(|i| Dirent {
            name: vec![b'a' + (i % 26) as u8; 255],
            ino: u64::MAX,
            kind: u8::MAX,
        });
        let (page, end) = dirent_page(worst);
        assert!(!end && page.len() > 200, "{} entries", page.len());
        let bytes = encode(&Reply::Dirents(page, end));
        assert!(bytes.len() <= MAX_MESSAGE, "{} bytes", bytes.len());
        let (all, end) = dirent_page((0..3).map(|i| Dirent {
            name: vec![b'x'; i + 1],
            ino: 1,
            kind: 4,
        }));
        assert!(end && all.len() == 3);
    }

    #[test]
    fn round_trip() {
        let r = Request::Walk {
            dir: 3,
            names: vec![b"usr".to_vec(), b"lib".to_vec()],
            open_last: true,
        };
        assert_eq!(decode::<Request>(&encode(&r)), Some(r));
        assert_eq!(decode::<Request>(&[0xff, 0xff]), None);
    }

    #[test]
    fn names() {
        assert!(valid_name(b"a"));
        for bad in [&b""[..], b".", b"..", b"a/b", b"a\0"] {
            assert!(!valid_name(bad));
        }
        assert!(!valid_name(&[b'x'; 256]));
    }
}
