# Differential: the loopback interface as programs ask for it: if_nameindex/if_nametoindex
# (netlink and SIOCGIFINDEX), SIOCGIFFLAGS and SIOCGIFMTU, ENODEV for an unknown name, and a
# NETLINK_ROUTE dump of addresses (RTM_GETADDR) that has 127.0.0.1/8 and ::1/128 on index 1.
# (The host has more interfaces than the sandbox: only the loopback is compared.)
import errno, fcntl, socket, struct
print("lo index", socket.if_nametoindex("lo"), dict(socket.if_nameindex()).get(1))
print("index 1", socket.if_indextoname(1))
try:
    socket.if_nametoindex("nosuch0")
except OSError as e:
    print("nosuch0", type(e).__name__)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
flags = struct.unpack("16sh", fcntl.ioctl(s, 0x8913, struct.pack("16sh", b"lo", 0)))[1]
print("lo up", bool(flags & 1), "loopback", bool(flags & 8))
print("lo mtu", struct.unpack("16si", fcntl.ioctl(s, 0x8921, struct.pack("16si", b"lo", 0)))[1])
try:
    fcntl.ioctl(s, 0x8933, struct.pack("16si", b"nosuch0", 0))
except OSError as e:
    print("SIOCGIFINDEX nosuch0", errno.errorcode[e.errno])

n = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)
n.bind((0, 0))
print("netlink port is ours", n.getsockname()[0] > 0)
RTM_GETADDR, NLM_F_REQUEST, NLM_F_DUMP = 22, 1, 0x300
req = struct.pack("=LHHLL", 16 + 8, RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, 7, 0) + struct.pack("=BBBBI", 0, 0, 0, 0, 0)
n.send(req)
found, done = set(), False
while not done:
    data, addr = n.recvfrom(65536)
    at = 0
    while at + 16 <= len(data):
        length, ty, fl, seq, pid = struct.unpack_from("=LHHLL", data, at)
        if ty == 3:
            done = True
            break
        if ty == 20 and seq == 7:
            fam, plen, _, _, index = struct.unpack_from("=BBBBI", data, at + 16)
            a = at + 24
            while a + 4 <= at + length:
                alen, aty = struct.unpack_from("=HH", data, a)
                if aty == 1 and index == 1:
                    raw = data[a + 4:a + alen]
                    found.add((socket.inet_ntop(fam, raw), plen))
                a += (alen + 3) & ~3
        at += (length + 3) & ~3
print("from the kernel", addr)
print("loopback addresses", sorted(found))
