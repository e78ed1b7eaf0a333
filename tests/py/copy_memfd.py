# Differential: sendfile (shutil.copyfile), copy_file_range, memfd_create with a shared mapping.
import os, shutil, mmap, tempfile
d = tempfile.mkdtemp()
src = os.path.join(d, "src"); open(src, "wb").write(os.urandom(3_000_000) + b"end")
shutil.copyfile(src, os.path.join(d, "dst"))
print(open(src,"rb").read() == open(os.path.join(d,"dst"),"rb").read())
fi = os.open(src, os.O_RDONLY); fo = os.open(os.path.join(d, "c"), os.O_WRONLY | os.O_CREAT)
print(os.copy_file_range(fi, fo, 100, 10, 20), os.lseek(fi, 0, 1))
print(os.sendfile(1, fi, 3_000_000, 3)); print()
m = os.memfd_create("x", os.MFD_CLOEXEC); os.write(m, b"hello memfd"); os.ftruncate(m, 8192)
mm = mmap.mmap(m, 8192); print(mm[:11]); mm[0:5] = b"HELLO"; os.lseek(m, 0, 0); print(os.read(m, 11))
print(os.readlink(f"/proc/self/fd/{m}"), os.get_inheritable(m))
shutil.rmtree(d)
