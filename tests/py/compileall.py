# Differential: byte-compile a copied stdlib package in a fresh directory under /tmp with
# compileall (writes __pycache__/*.pyc through a temporary file and a rename), then import the
# copy from there and check the cached code is what the source compiles to.
import sys
del sys.path[0]  # this script's directory: its own name would shadow the compileall module
import compileall, importlib, importlib.util, marshal, os, py_compile, shutil, sys, tempfile

d = tempfile.mkdtemp()
src = "/usr/lib/python3.11/json"
pkg = os.path.join(d, "jsoncopy")
shutil.copytree(src, pkg, ignore=shutil.ignore_patterns("__pycache__"))
print("copied:", sorted(os.listdir(pkg)))

print("compile_dir:", compileall.compile_dir(pkg, quiet=1))
pycs = lambda: sorted(os.listdir(os.path.join(pkg, "__pycache__")))
print("pycs:", pycs())
print("optimized:", compileall.compile_dir(pkg, quiet=1, optimize=2), len(pycs()))
# Again: everything is up to date, nothing is rewritten.
mtimes = {f: os.stat(os.path.join(pkg, "__pycache__", f)).st_mtime_ns for f in pycs()}
print("recompile:", compileall.compile_dir(pkg, quiet=1),
      mtimes == {f: os.stat(os.path.join(pkg, "__pycache__", f)).st_mtime_ns for f in pycs()})
# force=True replaces the existing .pyc files (os.replace over an existing file).
print("forced:", compileall.compile_dir(pkg, quiet=1, force=True), pycs() == sorted(mtimes))

# Each .pyc holds the code its source compiles to.
for name in sorted(f for f in os.listdir(pkg) if f.endswith(".py")):
    path = os.path.join(pkg, name)
    cached = importlib.util.cache_from_source(path)
    data = open(cached, "rb").read()
    code = marshal.loads(data[16:])
    same = code == compile(open(path, "rb").read(), path, "exec", dont_inherit=True)
    print("pyc:", name, data[:4] == importlib.util.MAGIC_NUMBER, same)

# A hash-checked .pyc for a new module, and a syntax error reported without a .pyc.
open(os.path.join(d, "extra.py"), "w").write("VALUE = sum(range(10))\n")
py_compile.compile(os.path.join(d, "extra.py"), doraise=True,
                   invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH)
print("checked hash pyc:", sorted(os.listdir(os.path.join(d, "__pycache__"))))
open(os.path.join(d, "bad.py"), "w").write("def f(:\n")
print("bad compiles:", compileall.compile_file(os.path.join(d, "bad.py"), quiet=2))
print("bad pyc:", sorted(os.listdir(os.path.join(d, "__pycache__"))))

# Import the copy.
sys.path.insert(0, d)
sys.dont_write_bytecode = True
jc = importlib.import_module("jsoncopy")
print("imported from copy:", os.path.relpath(jc.__file__, d), os.path.relpath(jc.__cached__, d))
print("dumps:", jc.dumps({"b": [1, 2, {"c": None}], "a": 1.5}, sort_keys=True))
print("loads:", jc.loads('{"x": [true, false, "\\u00e9"]}'))
extra = importlib.import_module("extra")
print("extra:", extra.VALUE, os.path.relpath(extra.__cached__, d))
dec = importlib.import_module("jsoncopy.decoder")
print("submodule:", os.path.relpath(dec.__file__, d), dec.__spec__.cached is not None)

shutil.rmtree(d)
print("cleaned:", os.path.exists(d))
