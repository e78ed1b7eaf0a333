# Differential: everyday file operations in a fresh directory under /tmp: write, read, append,
# rename, os.replace, listdir, os.walk, copytree/rmtree, stat sizes and modes, pathlib globbing,
# symlinks, hard links, os.scandir, truncate, os.utime with explicit times.
import os, pathlib, shutil, stat, tempfile

d = tempfile.mkdtemp()
os.umask(0o022)
rel = lambda p: os.path.relpath(p, d)
j = lambda *a: os.path.join(d, *a)

# write, read, append
with open(j("a.txt"), "w") as f:
    f.write("hello\n")
with open(j("a.txt"), "a") as f:
    f.write("world\n")
print("read:", repr(open(j("a.txt")).read()))
with open(j("a.txt"), "ab") as f:
    print("append tell:", f.tell())
    f.write(b"x" * 1000)
print("size after append:", os.path.getsize(j("a.txt")))
with open(j("a.txt"), "r+b") as f:
    f.seek(3)
    f.write(b"LO")
    f.seek(0)
    print("r+b:", f.read(12))

# rename and os.replace (over an existing file)
os.rename(j("a.txt"), j("b.txt"))
print("renamed:", os.path.exists(j("a.txt")), os.path.exists(j("b.txt")))
open(j("c.txt"), "w").write("c content")
os.replace(j("c.txt"), j("b.txt"))
print("replaced:", open(j("b.txt")).read(), os.path.exists(j("c.txt")))
try:
    os.rename(j("missing"), j("x"))
except FileNotFoundError as e:
    print("rename missing:", e.errno)

# a tree; listdir, os.walk
for sub in ["src/pkg/inner", "src/empty", "src/other"]:
    os.makedirs(j(sub))
try:
    os.makedirs(j("src/pkg"))
except FileExistsError as e:
    print("makedirs exists:", e.errno)
os.makedirs(j("src/pkg"), exist_ok=True)
files = {"src/top.py": "print(1)\n", "src/pkg/__init__.py": "", "src/pkg/mod.py": "x = 2\n" * 50,
         "src/pkg/inner/data.bin": "\0\1\2" * 333, "src/other/readme.md": "# readme\n"}
for p, c in files.items():
    with open(j(p), "w") as f:
        f.write(c)
print("listdir:", sorted(os.listdir(j("src"))))
for root, dirs, fs in sorted(os.walk(j("src"))):
    print("walk:", rel(root), sorted(dirs), sorted(fs))
print("walk bottom-up:", [rel(r) for r, _, _ in os.walk(j("src"), topdown=False)][-1])

# stat sizes and modes
os.chmod(j("src/top.py"), 0o754)
os.chmod(j("src/pkg/mod.py"), 0o600)
for p in sorted(files):
    st = os.stat(j(p))
    print("stat:", p, st.st_size, oct(stat.S_IMODE(st.st_mode)), stat.S_ISREG(st.st_mode), st.st_nlink)
st = os.stat(j("src/pkg"))
print("dir:", stat.S_ISDIR(st.st_mode), oct(stat.S_IMODE(st.st_mode)), st.st_nlink)
print("access:", os.access(j("src/top.py"), os.X_OK), os.access(j("src/pkg/mod.py"), os.X_OK))

# copytree / rmtree
shutil.copytree(j("src"), j("copy"))
same = all(open(j("src", p[4:]), "rb").read() == open(j("copy", p[4:]), "rb").read() for p in files)
print("copytree equal:", same, oct(stat.S_IMODE(os.stat(j("copy/top.py")).st_mode)))
print("copytree listing:", sorted(rel(os.path.join(r, f)) for r, _, fs in os.walk(j("copy")) for f in fs))
shutil.copy2(j("src/top.py"), j("top2.py"))
print("copy2 mtime kept:", os.stat(j("src/top.py")).st_mtime_ns == os.stat(j("top2.py")).st_mtime_ns)
shutil.rmtree(j("copy"))
print("rmtree:", os.path.exists(j("copy")))

# pathlib globbing
P = pathlib.Path(d)
print("glob *.py:", sorted(str(p.relative_to(P)) for p in P.glob("src/*.py")))
print("rglob *.py:", sorted(str(p.relative_to(P)) for p in P.rglob("*.py")))
print("glob **/*:", len(list((P / "src").glob("**/*"))))
print("glob dirs:", sorted(str(p.relative_to(P)) for p in P.glob("src/*/")))
print("path ops:", (P / "src/pkg/mod.py").read_text().count("x"), (P / "src/pkg").is_dir(),
      (P / "nothing").exists())
(P / "new.txt").write_bytes(b"via pathlib")
print("pathlib write:", (P / "new.txt").stat().st_size, (P / "new.txt").suffix)

# symlinks
os.symlink("src/pkg/mod.py", j("link"))
os.symlink(j("src/pkg"), j("dirlink"))
os.symlink("nowhere", j("dangling"))
print("readlink:", os.readlink(j("link")), rel(os.readlink(j("dirlink"))))
print("realpath:", rel(os.path.realpath(j("link"))), rel(os.path.realpath(j("dirlink/inner"))))
print("islink:", os.path.islink(j("link")), os.path.islink(j("src/top.py")), os.path.exists(j("dangling")),
      os.path.lexists(j("dangling")))
print("lstat vs stat:", stat.S_ISLNK(os.lstat(j("link")).st_mode), os.lstat(j("link")).st_size,
      os.stat(j("link")).st_size)
print("through dirlink:", sorted(os.listdir(j("dirlink"))))
try:
    open(j("dangling"))
except FileNotFoundError as e:
    print("open dangling:", e.errno)
try:
    os.symlink("x", j("link"))
except FileExistsError as e:
    print("symlink exists:", e.errno)

# hard links
os.link(j("b.txt"), j("hard"))
print("hardlink:", os.stat(j("b.txt")).st_nlink, os.path.samefile(j("b.txt"), j("hard")))
with open(j("hard"), "a") as f:
    f.write("+more")
print("hardlink shared:", open(j("b.txt")).read())
os.unlink(j("b.txt"))
print("after unlink:", os.stat(j("hard")).st_nlink, open(j("hard")).read())

# scandir
with os.scandir(d) as it:
    ents = sorted(it, key=lambda e: e.name)
for e in ents:
    print("scandir:", e.name, e.is_dir(), e.is_file(), e.is_symlink(), e.is_dir(follow_symlinks=False))
print("scandir inode matches:", all(e.inode() == os.lstat(e.path).st_ino for e in ents))

# truncate
open(j("t"), "wb").write(b"0123456789")
os.truncate(j("t"), 4)
print("truncate shrink:", open(j("t"), "rb").read())
os.truncate(j("t"), 8)
print("truncate grow:", open(j("t"), "rb").read())
with open(j("t"), "r+b") as f:
    f.truncate(2)
    print("ftruncate:", os.fstat(f.fileno()).st_size, f.tell())

# utime with explicit times
os.utime(j("t"), (1_000_000_000, 1_234_567_890))
st = os.stat(j("t"))
print("utime:", st.st_atime, st.st_mtime)
os.utime(j("t"), ns=(1_500_000_000_123_456_789, 1_600_000_000_987_654_321))
st = os.stat(j("t"))
print("utime ns:", st.st_atime_ns, st.st_mtime_ns)
os.utime(j("link"), (5, 6), follow_symlinks=False)
print("lutime:", os.lstat(j("link")).st_mtime, os.stat(j("link")).st_mtime != 6)
os.utime(j("src"), (7, 8))
print("dir utime:", os.stat(j("src")).st_mtime)

# remove everything
shutil.rmtree(d)
print("cleaned:", os.path.exists(d))
