# Differential: a MAP_SHARED mapping of a file in /tmp is coherent with read and write, across
# 1 MiB chunk boundaries and after the file grows.
import mmap, os, tempfile
d = tempfile.mkdtemp()
fn = os.path.join(d, "mm")
with open(fn, "wb") as f:
    f.write(b"a" * 3000000)
f = open(fn, "r+b")
m = mmap.mmap(f.fileno(), 0)
m[0:5] = b"hello"
m[2000000:2000005] = b"world"
f.seek(0); print(f.read(5)); f.seek(2000000); print(f.read(5))
f.seek(1048570); f.write(b"XYZXYZXYZXYZ"); f.flush()
print(m[1048570:1048582])
os.truncate(fn, 4000000)
m2 = mmap.mmap(f.fileno(), 0)
print(len(m2), m2[3999999], m2[0:5])
m.flush(); m.close(); m2.close(); f.close()
print(open(fn, "rb").read(12), os.path.getsize(fn))
ro = mmap.mmap(os.open(fn, os.O_RDONLY), 0, prot=mmap.PROT_READ)
print(ro[:5])
try:
    mmap.mmap(os.open(fn, os.O_RDONLY), 0, prot=mmap.PROT_READ | mmap.PROT_WRITE)
except OSError as e:
    print("rw map of read-only fd:", e.errno)
os.unlink(fn); os.rmdir(d)
