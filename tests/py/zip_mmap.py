# Differential: zipfile and tarfile round trips, read-only and copy-on-write mmaps, hashlib, json,
# and an sqlite3 database (which takes fcntl locks) in a fresh directory under /tmp.
import hashlib, io, json, mmap, os, shutil, sqlite3, tarfile, tempfile, zipfile

d = tempfile.mkdtemp()
j = lambda *a: os.path.join(d, *a)
members = {
    "a.txt": b"alpha\n" * 100,
    "dir/b.bin": bytes(range(256)) * 40,
    "dir/sub/c.txt": b"".join(b"line %d\n" % i for i in range(2000)),
    "empty": b"",
}

# zipfile: stored and deflated members, read back, extract
with zipfile.ZipFile(j("t.zip"), "w") as z:
    for i, (name, data) in enumerate(sorted(members.items())):
        z.writestr(zipfile.ZipInfo(name, date_time=(2020, 1, 2, 3, 4, 6)), data,
                   compress_type=zipfile.ZIP_DEFLATED if i % 2 == 0 else zipfile.ZIP_STORED)
    z.write(__file__, "script.py", compress_type=zipfile.ZIP_DEFLATED)
with zipfile.ZipFile(j("t.zip"), "a") as z:
    z.writestr("appended.txt", b"appended later")
with zipfile.ZipFile(j("t.zip")) as z:
    print("zip names:", sorted(z.namelist()))
    print("zip test:", z.testzip())
    for info in sorted(z.infolist(), key=lambda i: i.filename):
        print("zip member:", info.filename, info.file_size, info.compress_type, hex(info.CRC))
    print("zip read ok:", all(z.read(n) == data for n, data in members.items()))
    with z.open("dir/sub/c.txt") as f:
        f.seek(700)
        print("zip seek:", f.read(10))
    z.extractall(j("out"))
print("extracted:", sorted(os.path.relpath(os.path.join(r, f), j("out")) for r, _, fs in os.walk(j("out")) for f in fs))
print("extracted ok:", all(open(j("out", n), "rb").read() == data for n, data in members.items()))
print("script in zip:", open(j("out", "script.py"), "rb").read() == open(__file__, "rb").read())
print("is_zipfile:", zipfile.is_zipfile(j("t.zip")), zipfile.is_zipfile(j("out", "a.txt")))

# tarfile: gzip round trip with a file, a directory and a symlink
os.symlink("a.txt", j("out", "link"))
with tarfile.open(j("t.tar.gz"), "w:gz") as t:
    t.add(j("out"), arcname="out", filter=lambda ti: (setattr(ti, "mtime", 1000), ti)[1])
with tarfile.open(j("t.tar.gz")) as t:
    names = sorted(t.getnames())
    print("tar names:", names)
    print("tar link:", t.getmember("out/link").issym(), t.getmember("out/link").linkname)
    print("tar a.txt:", t.extractfile("out/a.txt").read() == members["a.txt"])
    t.extractall(j("untar"), filter="tar") if hasattr(tarfile, "data_filter") else t.extractall(j("untar"))
print("untar ok:", all(open(j("untar/out", n), "rb").read() == data for n, data in members.items()),
      os.readlink(j("untar/out/link")), os.stat(j("untar/out/a.txt")).st_mtime)
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w:") as t:
    ti = tarfile.TarInfo("mem.txt"); ti.size = 5; ti.mtime = 1
    t.addfile(ti, io.BytesIO(b"12345"))
print("tar in memory:", len(buf.getvalue()), hashlib.sha256(buf.getvalue()).hexdigest()[:16])

# mmap: ACCESS_READ and ACCESS_COPY
big = j("big.bin")
data = hashlib.sha512(b"seed").digest() * 50000  # 3.2 MB
with open(big, "wb") as f:
    f.write(data)
with open(big, "rb") as f:
    m = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    print("mmap read:", len(m), m[:4] == data[:4], m[-4:] == data[-4:], m.find(data[100:120]) == 100 % 64)
    print("mmap sha256:", hashlib.sha256(m).hexdigest() == hashlib.sha256(data).hexdigest())
    try:
        m[0] = 1
    except TypeError as e:
        print("mmap read-only write:", type(e).__name__)
    m.close()
with open(big, "rb") as f:
    m = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_COPY)
    m[0:4] = b"COPY"
    m[2_000_000:2_000_004] = b"XXXX"
    print("mmap copy view:", m[:4], m[2_000_000:2_000_004])
    m.close()
print("file unchanged:", open(big, "rb").read() == data)
with open(big, "rb") as f:
    m = mmap.mmap(f.fileno(), 4096, offset=mmap.ALLOCATIONGRANULARITY, access=mmap.ACCESS_READ)
    print("mmap offset:", m[:8] == data[mmap.ALLOCATIONGRANULARITY:][:8], len(m))
    m.close()

# hashlib of contents
for algo in ["md5", "sha1", "sha256", "blake2b"]:
    print("hash:", algo, hashlib.new(algo, open(j("out", "dir/sub/c.txt"), "rb").read()).hexdigest()[:24])
h = hashlib.sha256()
with open(big, "rb") as f:
    while chunk := f.read(65536):
        h.update(chunk)
print("chunked hash:", h.hexdigest() == hashlib.sha256(data).hexdigest())

# json
obj = {"names": sorted(members), "sizes": {k: len(v) for k, v in members.items()}, "nested": [1, 2.5, None, True]}
with open(j("x.json"), "w") as f:
    json.dump(obj, f, indent=1, sort_keys=True)
print("json:", json.load(open(j("x.json"))) == obj, os.path.getsize(j("x.json")))

# sqlite3 in the temp directory
db = sqlite3.connect(j("t.db"))
db.execute("create table t (i integer primary key, v text, n real)")
with db:
    db.executemany("insert into t (v, n) values (?, ?)", ((f"row{i}", i * 1.5) for i in range(1000)))
print("sqlite sum:", db.execute("select count(*), sum(i), sum(n) from t").fetchone())
print("sqlite where:", db.execute("select v from t where i % 250 = 0 order by i").fetchall())
db.execute("create index tv on t(v)")
with db:
    db.execute("update t set n = n * 2 where i <= 10")
    db.execute("delete from t where i > 900")
db.close()
db = sqlite3.connect(j("t.db"))
print("sqlite reopen:", db.execute("select count(*), sum(n) from t").fetchone())
print("sqlite integrity:", db.execute("pragma integrity_check").fetchone())
db.execute("pragma journal_mode=wal")
with db:
    db.execute("insert into t (v, n) values ('wal', 0)")
print("sqlite wal:", db.execute("select count(*) from t").fetchone())
db.close()
print("db files:", sorted(f for f in os.listdir(d) if f.startswith("t.db")))

shutil.rmtree(d)
print("cleaned:", os.path.exists(d))
