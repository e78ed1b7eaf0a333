# Differential: sendfile(2) from a file to stream sockets (a Unix socketpair and loopback TCP),
# with an offset and a count, a reader thread draining the other end; the file position after
# socket.sendfile, and EINVAL for an output that is not a stream (an eventfd).
import os, socket, tempfile, threading
data = bytes(range(256)) * 40000
fd, path = tempfile.mkstemp()
os.write(fd, data)
os.close(fd)
a, b = socket.socketpair()
l = socket.create_server(("127.0.0.1", 0))
c = socket.create_connection(l.getsockname())
s, _ = l.accept()
for name, snd, rcv in (("unix", a, b), ("tcp", c, s)):
    got = []
    def reader():
        while chunk := rcv.recv(1 << 16):
            got.append(chunk)
    th = threading.Thread(target=reader)
    th.start()
    with open(path, "rb") as f:
        n = snd.sendfile(f, offset=100, count=5_000_000)
        print(name, "sent", n, "position", f.tell())
    snd.shutdown(socket.SHUT_WR)
    th.join()
    print(name, "received the same bytes:", b"".join(got) == data[100:5_000_100])
with open(path, "rb") as f:
    try:
        os.sendfile(os.eventfd(0), f.fileno(), 0, 10)
    except OSError as e:
        print("eventfd", e.errno)
os.remove(path)
