# Differential: named Unix stream sockets: a path bound, listened on and connected to from a
# forked child, ENOENT for a missing path, abstract names (EADDRINUSE when taken), the socket
# file's type, and an asyncio server and client over a path.
import asyncio, os, shutil, socket, tempfile
d = tempfile.mkdtemp()
path = os.path.join(d, "test.sock")
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path); s.listen(4)
print("name", s.getsockname() == path)
pid = os.fork()
if pid == 0:
    c = socket.socket(socket.AF_UNIX); c.connect(path); c.sendall(b"ping"); print("child got", c.recv(10)); os._exit(0)
conn, addr = s.accept()
print("accepted", repr(addr), conn.recv(10)); conn.sendall(b"pong")
os.waitpid(pid, 0)
try:
    socket.socket(socket.AF_UNIX).connect(os.path.join(d, "nope.sock"))
except OSError as e: print("missing", e.errno)
# (Abstract names are the host's on a native run: make this one unique.)
name = "\0runrs-test-%d" % os.getpid()
a = socket.socket(socket.AF_UNIX); a.bind(name); a.listen()
b = socket.socket(socket.AF_UNIX); b.connect(name)
c, _ = a.accept(); b.send(b"hi"); print("abstract", c.recv(5), b.getpeername() == name.encode())
try:
    e2 = socket.socket(socket.AF_UNIX); e2.bind(name)
except OSError as e: print("inuse", e.errno)
print(os.stat(path).st_mode & 0o170000 == 0o140000)
async def main():
    async def handle(r, w):
        w.write((await r.readline()).upper()); await w.drain(); w.close()
    srv = await asyncio.start_unix_server(handle, os.path.join(d, "aio.sock"))
    r, w = await asyncio.open_unix_connection(os.path.join(d, "aio.sock"))
    w.write(b"asyncio unix\n"); print(await r.readline()); w.close()
    srv.close()
asyncio.run(main())
shutil.rmtree(d)
