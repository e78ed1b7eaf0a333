# Differential: an HTTP server on a Unix socket (http.server's handler on a UnixStreamServer, in
# a child process) fetched by http.client over AF_UNIX, a Unix datagram server and client, and
# 100 MB through a shell pipeline (head | cat | wc -c).
import http.client, http.server, os, socket, socketserver, subprocess, sys, tempfile, time

d = tempfile.mkdtemp()
path = os.path.join(d, "http.sock")
with open(os.path.join(d, "hello.txt"), "w") as f:
    f.write("hello over a unix socket\n")


class Quiet(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *a, **k):
        super().__init__(*a, directory=d, **k)

    def address_string(self):
        return "unix"

    def log_message(self, *a):
        pass


pid = os.fork()
if pid == 0:
    with socketserver.UnixStreamServer(path, Quiet) as srv:
        srv.serve_forever()
    os._exit(0)

for _ in range(200):
    if os.path.exists(path):
        break
    time.sleep(0.05)


class UnixHTTP(http.client.HTTPConnection):
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)


for name in ["/hello.txt", "/missing"]:
    c = UnixHTTP("localhost")
    c.request("GET", name)
    r = c.getresponse()
    body = r.read()
    print(name, r.status, body if r.status == 200 else len(body) > 0)
    c.close()
os.kill(pid, 9)
os.waitpid(pid, 0)

# Datagrams between two bound sockets.
a = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
a.bind(os.path.join(d, "a.sock"))
b = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
b.bind(os.path.join(d, "b.sock"))
b.sendto(b"ping", os.path.join(d, "a.sock"))
data, src = a.recvfrom(100)
print("dgram", data, os.path.basename(src))
a.sendto(data.upper(), src)
print("reply", b.recv(100))

# 100 MB through a pipeline.
out = subprocess.run(["sh", "-c", "head -c 100000000 /dev/zero | cat | wc -c"],
                     capture_output=True, text=True)
print("pipeline", out.stdout.strip(), out.returncode)
subprocess.run(["rm", "-rf", d])
