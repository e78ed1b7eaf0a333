//! End-to-end tests of the sandbox's filesystem: the overlay keeps the host unchanged, volumes
//! reach the host and nothing else, `..` and /proc/self/root stay inside, a symlink flipped on the
//! host mid-walk never leads out of a volume, size limits, and real programs (dynamic ELF,
//! python3) natively vs under runrs.

use runrs_tests::*;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

const PYTHON: &str = "/usr/bin/python3";

/// A fresh host directory under target/ (the sandbox's /tmp is its own, not the host's).
fn scratch(name: &str) -> PathBuf {
    let d = root().join(format!("target/tmp/files-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn py(flags: &[&str], code: &str) -> Outcome {
    sandboxed(flags, Path::new(PYTHON), &["-c", code], None).unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn overlay_changes_never_reach_the_host() {
    let d = scratch("overlay");
    let f = d.join("probe.txt");
    std::fs::write(&f, "host contents\n").unwrap();
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::write(d.join("victim"), "delete me\n").unwrap();
    let code = format!(
        r#"
import os
d = {d:?}
f = os.path.join(d, "probe.txt")
with open(f, "a") as h: h.write("guest line\n")
print(open(f).read(), end="")
os.chmod(f, 0o600)
os.truncate(f, 5)
print(repr(open(f).read()), oct(os.stat(f).st_mode & 0o777))
os.unlink(os.path.join(d, "victim"))
print(sorted(os.listdir(d)))
open(os.path.join(d, "new"), "w").write("x")
os.mkdir(os.path.join(d, "newdir"))
os.rename(f, os.path.join(d, "renamed"))
print(sorted(os.listdir(d)))
"#,
        d = d.to_str().unwrap()
    );
    let out = py(&[], &code);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        text(&out.stdout),
        "host contents\nguest line\n'host ' 0o600\n['probe.txt']\n['new', 'newdir', 'renamed']\n"
    );
    // The host saw none of it.
    assert_eq!(std::fs::read_to_string(&f).unwrap(), "host contents\n");
    assert_eq!(
        std::fs::metadata(&f).unwrap().permissions().mode() & 0o777,
        0o644
    );
    assert!(d.join("victim").exists());
    assert!(!d.join("new").exists() && !d.join("newdir").exists() && !d.join("renamed").exists());
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn overlay_none_is_read_only_but_tmp_is_writable() {
    let d = scratch("ro");
    let code = format!(
        r#"
import errno
try:
    open({f:?}, "w")
except OSError as e:
    print(errno.errorcode[e.errno])
open("/tmp/ok", "w").write("fine")
print(open("/tmp/ok").read())
"#,
        f = d.join("x").to_str().unwrap()
    );
    let out = py(&["--overlay=none"], &code);
    assert_eq!(text(&out.stdout), "EROFS\nfine\n", "{out:?}");
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn tmp_is_private_and_limited() {
    // The host's /tmp is not the sandbox's.
    let marker = std::env::temp_dir().join(format!("runrs-host-marker-{}", std::process::id()));
    std::fs::write(&marker, "host").unwrap();
    // A checkout under the host's /tmp is brought in at its path (tests/lib.rs): its first
    // component is then the only name in the sandbox's /tmp.
    let expected_tmp = match root().strip_prefix("/tmp") {
        Ok(rest) => format!(
            "['{}']",
            rest.components()
                .next()
                .unwrap()
                .as_os_str()
                .to_string_lossy()
        ),
        Err(_) => "[]".to_string(),
    };
    let out = py(
        &["--tmpfs-size", "1M"],
        &format!(
            r#"
import os, errno
print(os.path.exists({m:?}), os.listdir("/tmp"))
f = open("/tmp/big", "wb")
try:
    for i in range(4):
        f.write(b"x" * (512 * 1024)); f.flush()
    print("no limit")
except OSError as e:
    print(errno.errorcode[e.errno], os.stat("/tmp/big").st_size <= 1 << 20)
"#,
            m = marker.to_str().unwrap()
        ),
    );
    std::fs::remove_file(&marker).unwrap();
    assert_eq!(
        text(&out.stdout),
        format!("False {expected_tmp}\nENOSPC True\n"),
        "{out:?}"
    );
}

#[test]
fn dotdot_and_proc_root_stay_inside() {
    let out = py(
        &[],
        r#"
import os
print(os.path.realpath("/../../.."), os.listdir("/..") == os.listdir("/"))
os.chdir("/proc/self/root/..")
print(os.getcwd(), os.readlink("/proc/self/root"))
print(os.stat("/proc/self/root/..").st_ino == os.stat("/").st_ino)
"#,
    );
    assert_eq!(text(&out.stdout), "/ True\n/ /\nTrue\n", "{out:?}");
}

#[test]
fn volume_reads_and_writes_reach_the_host() {
    let d = scratch("volume");
    std::fs::write(d.join("in.txt"), "from host\n").unwrap();
    let spec = format!("{}:/data", d.display());
    let out = py(
        &["-v", &spec],
        r#"
import os
print(open("/data/in.txt").read(), end="")
open("/data/out.txt", "w").write("from guest\n")
os.mkdir("/data/sub")
os.symlink("../out.txt", "/data/sub/link")
os.rename("/data/in.txt", "/data/sub/moved.txt")
print(sorted(os.listdir("/data")), sorted(os.listdir("/data/sub")))
print(open("/data/sub/link").read(), end="")
os.setxattr("/data/out.txt", "user.origin", b"guest")
os.setxattr("/data/out.txt", "user.gone", b"1")
os.removexattr("/data/out.txt", "user.gone")
print(os.listxattr("/data/out.txt"), os.getxattr("/data/out.txt", "user.origin"))
"#,
    );
    assert_eq!(
        text(&out.stdout),
        "from host\n['out.txt', 'sub'] ['link', 'moved.txt']\nfrom guest\n\
         ['user.origin'] b'guest'\n",
        "{out:?}"
    );
    // Extended attributes reach the host file too.
    let host = std::process::Command::new("/usr/bin/python3")
        .arg("-c")
        .arg("import os, sys; print(os.listxattr(sys.argv[1]), os.getxattr(sys.argv[1], 'user.origin'))")
        .arg(d.join("out.txt"))
        .output()
        .unwrap();
    assert_eq!(text(&host.stdout), "['user.origin'] b'guest'\n");
    assert_eq!(
        std::fs::read_to_string(d.join("out.txt")).unwrap(),
        "from guest\n"
    );
    assert_eq!(
        std::fs::read_to_string(d.join("sub/moved.txt")).unwrap(),
        "from host\n"
    );
    assert_eq!(
        std::fs::read_link(d.join("sub/link")).unwrap(),
        Path::new("../out.txt")
    );
    // Read-only: EROFS, and the host is untouched.
    let spec = format!("{}:/data:ro", d.display());
    let out = py(
        &["-v", &spec],
        r#"
import errno, os
for f in (lambda: open("/data/x", "w"), lambda: os.unlink("/data/out.txt"), lambda: os.mkdir("/data/d")):
    try:
        f(); print("allowed")
    except OSError as e:
        print(errno.errorcode[e.errno])
print(open("/data/out.txt").read(), end="")
"#,
    );
    assert_eq!(
        text(&out.stdout),
        "EROFS\nEROFS\nEROFS\nfrom guest\n",
        "{out:?}"
    );
    assert!(d.join("out.txt").exists() && !d.join("x").exists());
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn volume_symlink_race_never_leaves_the_volume() {
    // On the host: vol/d is a directory holding `secret` ("inside"), and vol/e a symlink to the
    // directory outside the volume whose `secret` says "outside". A host thread swaps d and e
    // (RENAME_EXCHANGE) as fast as it can while the guest opens /data/d/secret and
    // /data/e/secret in a loop: the guest may get an error or "inside", never the file outside.
    let base = scratch("race");
    let (vol, outside) = (base.join("vol"), base.join("outside"));
    std::fs::create_dir_all(vol.join("d")).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(vol.join("d/secret"), "inside\n").unwrap();
    std::fs::write(outside.join("secret"), "outside\n").unwrap();
    // Relative, so that on the host it leads out of the volume; in the guest it resolves in the
    // guest's view (/data/../outside: /outside, which does not exist).
    std::os::unix::fs::symlink("../outside", vol.join("e")).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let flipper = {
        let (stop, vol) = (stop.clone(), vol.clone());
        std::thread::spawn(move || {
            let d = std::ffi::CString::new(vol.join("d").to_str().unwrap()).unwrap();
            let e = std::ffi::CString::new(vol.join("e").to_str().unwrap()).unwrap();
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                // SAFETY: both paths are NUL-terminated C strings that outlive the call.
                unsafe {
                    libc::renameat2(
                        libc::AT_FDCWD,
                        d.as_ptr(),
                        libc::AT_FDCWD,
                        e.as_ptr(),
                        libc::RENAME_EXCHANGE,
                    )
                };
                n += 1;
            }
            n
        })
    };
    let spec = format!("{}:/data", vol.display());
    let out = py(
        &["-v", &spec],
        r#"
import os
seen = {"inside": 0, "outside": 0, "error": 0}
for i in range(3000):
    for p in ("/data/d/secret", "/data/e/secret"):
        try:
            seen[open(p).read().strip()] += 1
        except OSError:
            seen["error"] += 1
print("outside", seen["outside"], "inside>0", seen["inside"] > 0)
"#,
    );
    stop.store(true, Ordering::Relaxed);
    let flips = flipper.join().unwrap();
    assert!(flips > 100, "the host side barely ran ({flips} swaps)");
    assert_eq!(text(&out.stdout), "outside 0 inside>0 True\n", "{out:?}");
    std::fs::remove_dir_all(&base).unwrap();
}

#[test]
fn python_imports_and_hashes_match_native() {
    let code = "import json, sqlite3, hashlib, zipfile, os, sys\n\
                print(json.dumps({'a': [1, 2]}), hashlib.sha256(b'runrs').hexdigest())\n\
                db = sqlite3.connect(':memory:'); db.execute('create table t(x)')\n\
                db.executemany('insert into t values (?)', [(i,) for i in range(100)])\n\
                print(db.execute('select sum(x) from t').fetchone()[0], sys.version_info[:2])\n\
                sys.exit(3)";
    let n = native(Path::new(PYTHON), &["-c", code], None).unwrap();
    let s = py(&[], code);
    assert_eq!(
        (text(&s.stdout), s.code),
        (text(&n.stdout), n.code),
        "{s:?}"
    );
    assert_eq!(s.code, 3);
}

#[test]
fn dynamic_programs_match_native() {
    let cases: &[&[&str]] = &[
        &["/usr/bin/ls", "-la", "/usr/lib/python3.11/json"],
        &["/usr/bin/cat", "/etc/os-release"],
        &[
            "/usr/bin/stat",
            "-c",
            "%n %s %F %a",
            "/etc/passwd",
            "/usr",
            "/bin",
        ],
        &["/usr/bin/find", "/usr/lib/python3.11/json", "-name", "*.py"],
        &["/usr/bin/readlink", "-f", "/bin/sh"],
        // Host symlinks whose targets come with the Gofer's walk reply.
        &[
            "/usr/bin/readlink",
            "/bin",
            "/usr/bin/python3",
            "/etc/alternatives/awk",
        ],
        &["/usr/bin/ls", "-l", "/lib64", "/usr/bin/python3"],
        &["/usr/bin/head", "-c", "100", "/usr/bin/python3"],
    ];
    for c in cases {
        let (prog, args) = (Path::new(c[0]), &c[1..]);
        differential(prog, args, None).unwrap_or_else(|e| panic!("{e}"));
    }
}

#[test]
fn scripts_with_interpreter_lines_run() {
    let d = scratch("script");
    let s = d.join("hello.sh");
    std::fs::write(&s, "#!/bin/busybox sh\necho script \"$0\" \"$1\"\nexit 5\n").unwrap();
    std::fs::set_permissions(&s, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = sandboxed(&[], &s, &["arg"], None).unwrap();
    assert_eq!(out.code, 5, "{out:?}");
    assert_eq!(text(&out.stdout), format!("script {} arg\n", s.display()));
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn python_scripts_match_native() {
    // tests/py/*.py (those named *_sandbox_only.py are run by their own tests).
    let mut scripts: Vec<PathBuf> = std::fs::read_dir(root().join("tests/py"))
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "py"))
        .filter(|p| !p.to_string_lossy().ends_with("_sandbox_only.py"))
        .collect();
    scripts.sort();
    assert!(!scripts.is_empty());
    let mut failures = Vec::new();
    for s in &scripts {
        let arg = s.to_str().unwrap();
        if let Err(e) = differential(Path::new(PYTHON), &[arg], None) {
            failures.push(e);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// `--overlay=dir=PATH`: what the root's upper layer and /tmp hold lives in an unlinked host
/// file in PATH instead of memory. Programs see the same files (the differential scripts that
/// write, map and zip files), writes past `--memory` succeed there where memory would be
/// exhausted, and nothing is left in PATH afterwards.
#[test]
fn overlay_dir_keeps_written_files_out_of_memory() {
    let d = scratch("store");
    let flag = format!("--overlay=dir={}", d.display());
    let mut failures = Vec::new();
    for s in ["files.py", "mmap_shared.py", "zip_mmap.py", "compileall.py"] {
        let script = root().join("tests/py").join(s);
        let arg = script.to_str().unwrap();
        let n = native(Path::new(PYTHON), &[arg], None).unwrap();
        let r = sandboxed(&[&flag], Path::new(PYTHON), &[arg], None).unwrap();
        if (&n.stdout, n.code) != (&r.stdout, r.code) {
            failures.push(format!(
                "{s}: native (exit {}):\n{}\nrunrs (exit {}):\n{}\n{}",
                n.code,
                text(&n.stdout),
                r.code,
                text(&r.stdout),
                text(&r.stderr)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));

    // 3 x 48 MiB written under a 64 MiB memory limit, then read back.
    let code = r#"
import hashlib
for path in ["/tmp/a", "/var/tmp/b", "/usr/local/c"]:
    with open(path, "wb") as f:
        for i in range(48):
            f.write(bytes([i]) * (1 << 20))
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    print(path, h.hexdigest()[:16])
"#;
    let expected = {
        let mut h = Vec::new();
        for i in 0..48u8 {
            h.extend(std::iter::repeat_n(i, 1 << 20));
        }
        let sum = native(
            Path::new(PYTHON),
            &[
                "-c",
                "import hashlib,sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest()[:16])",
            ],
            Some(&h),
        )
        .unwrap();
        let sum = text(&sum.stdout);
        format!("/tmp/a {s}/var/tmp/b {s}/usr/local/c {s}", s = sum)
    };
    let out = py(&["--memory", "64M", &flag], code);
    assert_eq!((text(&out.stdout), out.code), (expected, 0), "{out:?}");
    // In memory, the same writes pass the limit: the OOM killer ends the guest.
    let out = py(&["--memory", "64M"], code);
    assert_eq!(out.code, 137, "{out:?}");
    assert!(text(&out.stderr).contains("out of memory"), "{out:?}");
    // The store was never a name in PATH.
    assert_eq!(std::fs::read_dir(&d).unwrap().count(), 0);
    std::fs::remove_dir_all(&d).unwrap();
}

/// The memory store (the in-memory filesystems' data in a file on a tmpfs of large pages) holds
/// what the guest wrote and not more: small files take a page each, a large file its pages, and
/// 64 KiB written at each MiB of a sparse file 64 KiB there (the host would back each of those
/// writes with a 1 MiB folio without the Sentry's guard pages, and a touched page of a small
/// file with 2 MiB without huge-page faults turned off).
#[test]
fn the_memory_store_holds_what_was_written() {
    use std::io::{BufRead, BufReader};
    use std::os::unix::fs::MetadataExt;
    let code = r#"
import sys, time
for i in range(200):
    with open(f"/tmp/small{i}", "wb") as f:
        f.write(b"x" * 100)
with open("/tmp/big", "wb") as f:
    for i in range(8):
        f.write(bytes([i]) * (1 << 20))
with open("/tmp/sparse", "wb") as f:
    for i in range(16):
        f.seek(i << 20)
        f.write(b"s" * (64 << 10))
print("ready", flush=True)
time.sleep(60)
"#;
    let mut child = std::process::Command::new(runrs_bin())
        .args(["do", "--", PYTHON, "-B", "-c", code])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    // The store: the Sentry's file of 1 TiB (sparse).
    let store = std::fs::read_dir(format!("/proc/{}/fd", child.id()))
        .unwrap()
        .flatten()
        .filter_map(|e| std::fs::metadata(e.path()).ok())
        .find(|m| m.is_file() && m.len() == 1 << 40);
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(line, "ready\n");
    let Some(store) = store else {
        assert_ne!(euid_from_proc(), 0, "root gets a memory store");
        eprintln!("skipped: no memory store (it needs root)");
        return;
    };
    let held = store.blocks() * 512;
    eprintln!("memory store: {held} bytes held");
    // 200 pages, 8 MiB, 16 x 64 KiB; a guard page per MiB of the large file.
    let written = 200 * 4096 + (8 << 20) + 16 * (64 << 10);
    assert!(
        held >= written - (256 << 10) && held <= written + 8 * 4096 + (256 << 10),
        "the memory store holds {held} bytes for {written} written"
    );
}

/// A full disk under `--overlay=dir` is ENOSPC for the guest's write (its blocks are allocated
/// before a page is used), never a crash of the Sentry.
#[test]
fn overlay_dir_on_a_full_disk_gives_enospc() {
    struct Unmount(PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount").arg(&self.0).status();
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
    let d = scratch("small");
    let mounted = std::process::Command::new("mount")
        .args([
            "-t",
            "tmpfs",
            "-o",
            "size=16m",
            "runrs-test",
            d.to_str().unwrap(),
        ])
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        eprintln!("skipped: cannot mount a small tmpfs (needs root)");
        return;
    }
    let _guard = Unmount(d.clone());
    let out = py(
        &[&format!("--overlay=dir={}", d.display())],
        r#"
import errno, os
try:
    with open("/root/big", "wb") as f:
        for i in range(64):
            f.write(b"x" * (1 << 20)); f.flush()
    print("no error")
except OSError as e:
    print(errno.errorcode[e.errno], os.path.getsize("/root/big") <= 16 << 20)
os.unlink("/root/big")
with open("/tmp/after", "wb") as f:
    f.write(b"y" * (8 << 20))
print(os.path.getsize("/tmp/after"))
"#,
    );
    assert_eq!(
        (text(&out.stdout), out.code),
        ("ENOSPC True\n8388608\n".to_string(), 0),
        "{out:?}"
    );
}

/// A lower file of the root the guest maps (runrs maps the host file itself) shrinks on the host
/// meanwhile, here through a read-write volume of the same directory: the guest's touch past the
/// new end raises SIGBUS in the guest, as natively, and the Sentry lives on (it reads such files
/// with pread, never by loads from its own mapping of them).
#[test]
fn a_mapped_host_file_shrinking_never_kills_the_sentry() {
    let d = scratch("shrink");
    let f = d.join("f");
    std::fs::write(&f, vec![7u8; 65536]).unwrap();
    let src = root().join("tests/guest/host_file_shrinks.c");
    let bin = compile(&src, Variant::Static).unwrap();
    let want = "before: 7\nemptied through the volume: 1\nwrite from the mapping returned: 1\n\
                touched: SIGBUS at the page: 1\n";
    let native = native(&bin, &[f.to_str().unwrap(), f.to_str().unwrap()], None).unwrap();
    assert_eq!(
        (text(&native.stdout).as_str(), native.code),
        (want, 0),
        "{native:?}"
    );
    std::fs::write(&f, vec![7u8; 65536]).unwrap();
    let spec = format!("{}:/mnt/v", d.display());
    let out = sandboxed(
        &["-v", &spec],
        &bin,
        &[f.to_str().unwrap(), "/mnt/v/f"],
        None,
    )
    .unwrap();
    assert_eq!((text(&out.stdout).as_str(), out.code), (want, 0), "{out:?}");
    std::fs::remove_dir_all(&d).unwrap();
}

/// Listings of host directories larger than one Gofer reply page (the Gofer pages a listing and
/// marks its last page) and of small ones match the host's.
#[test]
fn large_directory_listings_match_the_host() {
    let code = r#"
import hashlib, os
for d in ("/usr/lib/x86_64-linux-gnu", "/usr/share/doc", "/etc", "/usr/lib/python3.11"):
    names = sorted(os.listdir(d))
    print(d, len(names), hashlib.sha256("\n".join(names).encode()).hexdigest()[:16])
"#;
    let native = native(Path::new(PYTHON), &["-c", code], None).unwrap();
    let out = py(&[], code);
    assert_eq!(text(&out.stdout), text(&native.stdout), "{out:?}");
    // The first one spans several pages (over 32 KiB of names).
    let first = text(&native.stdout);
    let n: usize = first.split_whitespace().nth(1).unwrap().parse().unwrap();
    assert!(n > 1000, "{first}");
}
