# A console socket for the OCI tests, as containerd's: takes the pty master runrs sends, sets the
# window to 30x100, reads for 1.5 s, resizes it to 40x120, reads until the end, and prints what
# came (as a Python bytes literal).
import socket, os, array, fcntl, termios, struct, time, sys, select
path = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path); s.listen(1)
c, _ = s.accept()
msg, anc, flags, addr = c.recvmsg(100, socket.CMSG_SPACE(4))
fd = array.array('i', anc[0][2][:4])[0]
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', 30, 100, 0, 0))
out = b''
end = time.time() + 1.5
while time.time() < end:
    r, _, _ = select.select([fd], [], [], 0.1)
    if r:
        try: out += os.read(fd, 1000)
        except OSError: break
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', 40, 120, 0, 0))
end = time.time() + 4
while time.time() < end:
    r, _, _ = select.select([fd], [], [], 0.1)
    if r:
        try:
            d = os.read(fd, 1000)
            if not d: break
            out += d
        except OSError: break
print(out)
