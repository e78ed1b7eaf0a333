# Sandbox only (never run natively: it writes to /etc and /usr). Under runrs the host root is
# read-only below an in-memory overlay, so every change here stays in the sandbox; the Rust test
# checks afterwards, from outside, that the host files are unchanged and the new ones absent.
# Touches: /etc/runrs-overlay-test, /usr/share/runrs-overlay-probe (new), /etc/debian_version
# (rewritten), /etc/issue.net (deleted), /etc/issue (renamed to /etc/issue.runrs-moved),
# /usr/share/doc/bash (removed tree), /usr/share/runrs-overlay-dir (new tree).
import hashlib, os, shutil, stat, sys, tempfile

if "runrs" not in open("/proc/version").read():
    sys.exit("overlay_sandbox_only.py: refusing to run outside runrs (it writes to /etc and /usr)")

d = tempfile.mkdtemp()
h = lambda b: hashlib.sha256(b).hexdigest()[:16]

# A copy of a host file compares equal byte for byte.
orig = open("/etc/os-release", "rb").read()
shutil.copy("/etc/os-release", os.path.join(d, "os-release"))
print("copy equal:", open(os.path.join(d, "os-release"), "rb").read() == orig, len(orig) > 0)
print("copy is regular:", stat.S_ISREG(os.lstat(os.path.join(d, "os-release")).st_mode),
      os.path.islink("/etc/os-release"))

# New files in host directories.
p = "/etc/runrs-overlay-test"
print("test file before:", os.path.exists(p))
with open(p, "w") as f:
    f.write("written in the sandbox\n")
with open(p, "a") as f:
    f.write("appended\n")
print("test file:", repr(open(p).read()), os.stat(p).st_size, oct(stat.S_IMODE(os.stat(p).st_mode)))
print("in listdir:", "runrs-overlay-test" in os.listdir("/etc"))
q = "/usr/share/runrs-overlay-probe"
open(q, "wb").write(b"probe" * 1000)
os.chmod(q, 0o640)
print("probe:", h(open(q, "rb").read()), os.path.getsize(q), oct(stat.S_IMODE(os.stat(q).st_mode)))
os.makedirs("/usr/share/runrs-overlay-dir/a/b")
open("/usr/share/runrs-overlay-dir/a/b/f", "w").write("deep")
print("new tree:", [(os.path.relpath(r, "/usr/share"), sorted(ds), sorted(fs))
                    for r, ds, fs in sorted(os.walk("/usr/share/runrs-overlay-dir"))])

# Rewrite an existing host file: the new content is seen, the old is gone.
before = open("/etc/debian_version", "rb").read()
with open("/etc/debian_version", "r+b") as f:
    f.seek(0)
    f.write(b"RUNRS")
mid = open("/etc/debian_version", "rb").read()
print("rewrite in place:", mid[:5], len(mid) == len(before), mid[5:] == before[5:])
open("/etc/debian_version", "w").write("replaced\n")
print("rewritten:", repr(open("/etc/debian_version").read()))
os.truncate("/etc/debian_version", 3)
print("truncated:", repr(open("/etc/debian_version").read()))

# Delete and rename existing host files.
issue = open("/etc/issue", "rb").read()
os.unlink("/etc/issue.net")
print("deleted:", os.path.exists("/etc/issue.net"), "issue.net" in os.listdir("/etc"))
try:
    open("/etc/issue.net")
except FileNotFoundError as e:
    print("open deleted:", e.errno)
open("/etc/issue.net", "w").write("recreated")
print("recreated:", open("/etc/issue.net").read())
os.rename("/etc/issue", "/etc/issue.runrs-moved")
print("renamed:", os.path.exists("/etc/issue"), open("/etc/issue.runrs-moved", "rb").read() == issue)

# Remove a host directory tree.
n = sum(len(fs) for _, _, fs in os.walk("/usr/share/doc/bash"))
shutil.rmtree("/usr/share/doc/bash")
print("rmtree host dir:", n > 0, os.path.exists("/usr/share/doc/bash"), "bash" in os.listdir("/usr/share/doc"))
os.mkdir("/usr/share/doc/bash")
print("dir recreated empty:", os.listdir("/usr/share/doc/bash"))

shutil.rmtree(d)
print("done")
