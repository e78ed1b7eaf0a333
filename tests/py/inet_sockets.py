# Differential: TCP and UDP on the loopback with real Python servers and clients:
# http.server fetched by urllib (threaded server), an asyncio TCP echo server and client,
# socketserver over UDP, dual-stack create_server, getaddrinfo of localhost, and
# socket.create_connection's errors.
import asyncio, http.server, os, socket, socketserver, tempfile, threading, urllib.request

# http.server serving a directory of our own, fetched three times.
d = tempfile.mkdtemp()
with open(os.path.join(d, "hello.txt"), "w") as f:
    f.write("hello over tcp\n" * 1000)
class Quiet(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *a, **k):
        super().__init__(*a, directory=d, **k)
    def log_message(self, *a):
        pass
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
port = srv.server_address[1]
threading.Thread(target=srv.serve_forever, daemon=True).start()
for path in ["/hello.txt", "/", "/missing"]:
    try:
        r = urllib.request.urlopen(f"http://localhost:{port}{path}")
        body = r.read()
        print(path, r.status, len(body), body[:14])
    except urllib.error.HTTPError as e:
        print(path, e.code)
srv.shutdown()
srv.server_close()

# asyncio: a TCP echo server and two clients.
async def echo(reader, writer):
    while data := await reader.read(100):
        writer.write(data.upper())
        await writer.drain()
    writer.close()
async def main():
    server = await asyncio.start_server(echo, "127.0.0.1", 0)
    p = server.sockets[0].getsockname()[1]
    for msg in [b"first", b"second"]:
        r, w = await asyncio.open_connection("127.0.0.1", p)
        w.write(msg)
        await w.drain()
        print("echo", await r.read(100))
        w.write_eof()
        print("eof", await r.read(100))
        w.close()
        await w.wait_closed()
    server.close()
    await server.wait_closed()
asyncio.run(main())

# socketserver over UDP.
class Upper(socketserver.BaseRequestHandler):
    def handle(self):
        data, sock = self.request
        sock.sendto(data.upper(), self.client_address)
with socketserver.UDPServer(("127.0.0.1", 0), Upper) as us:
    threading.Thread(target=us.serve_forever, daemon=True).start()
    c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    c.settimeout(5)
    c.sendto(b"datagram", us.server_address)
    data, addr = c.recvfrom(100)
    print("udp", data, addr == us.server_address)
    us.shutdown()

# Dual stack: an IPv6 listener takes IPv4 clients as v4-mapped addresses.
if socket.has_dualstack_ipv6():
    s6 = socket.create_server(("", 0), family=socket.AF_INET6, dualstack_ipv6=True)
    p = s6.getsockname()[1]
    for host in ["127.0.0.1", "::1"]:
        c = socket.create_connection((host, p))
        conn, addr = s6.accept()
        print("dual stack", host, "->", addr[0])
        conn.close(); c.close()

# Name resolution of localhost (from /etc/hosts) and a connection through it.
print("localhost v4", sorted({ai[4][0] for ai in socket.getaddrinfo("localhost", 80, socket.AF_INET)}))
l = socket.create_server(("localhost", 0))
c = socket.create_connection(("localhost", l.getsockname()[1]), timeout=5)
a, _ = l.accept()
c.sendall(b"x" * 100000)
c.shutdown(socket.SHUT_WR)
got = b""
while chunk := a.recv(65536):
    got += chunk
print("received", len(got))

# Errors.
free = socket.socket(); free.bind(("127.0.0.1", 0)); fp = free.getsockname()[1]; free.close()
try:
    socket.create_connection(("127.0.0.1", fp))
except ConnectionRefusedError as e:
    print("refused", e.errno)
try:
    socket.create_connection(("127.0.0.1", fp), timeout=1)
except ConnectionRefusedError as e:
    print("refused with a timeout", e.errno)
b1 = socket.socket(); b1.bind(("127.0.0.1", 0))
try:
    socket.socket().bind(b1.getsockname())
except OSError as e:
    print("in use", e.errno)
s = socket.socket(); s.settimeout(0.05)
s.bind(("127.0.0.1", 0)); s.listen()
try:
    s.accept()
except TimeoutError:
    print("accept timed out")

# UDP-Lite: its own port space, the checksum-coverage options kept.
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDPLITE)
u.bind(("127.0.0.1", 0))
v = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDPLITE)
v.setsockopt(socket.IPPROTO_UDPLITE, 10, 20)
print("udplite cscov", v.getsockopt(socket.IPPROTO_UDPLITE, 10))
v.sendto(b"lite", u.getsockname())
print("udplite", u.recvfrom(10)[0], u.getsockopt(socket.SOL_SOCKET, socket.SO_PROTOCOL))
w = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
w.bind(u.getsockname())
print("udp binds the udplite port: yes")
