"""Benchmark client: fetches PATH from HOST:PORT over HTTP/1.0 and prints the body's MB/s."""
import socket, sys, time
host, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.create_connection((host, port))
s.sendall(f"GET {path} HTTP/1.0\r\n\r\n".encode())
t = time.perf_counter()
n = 0
while chunk := s.recv(1 << 16):
    n += len(chunk)
print(f"{n / (time.perf_counter() - t) / 1e6:.1f}")
