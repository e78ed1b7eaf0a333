"""Pseudo-terminals from Python: os.openpty, pty.fork, a shell on the slave side driven through
the master (echo, line editing, Ctrl-C to the foreground group, window size, end of session),
termios and tty modes. Output must match natively and under runrs."""
import fcntl
import os
import pty
import select
import signal
import struct
import termios
import time
import tty


def read_until(fd, pat, timeout=10.0):
    buf = b""
    while pat not in buf:
        r, _, _ = select.select([fd], [], [], timeout)
        if not r:
            return buf + b"<timeout>"
        try:
            d = os.read(fd, 4096)
        except OSError as e:
            return buf + f"<{e.__class__.__name__} {e.errno}>".encode()
        if not d:
            return buf + b"<eof>"
        buf += d
    return buf


# os.openpty: both ends are terminals; the slave's name is a /dev/pts path.
m, s = os.openpty()
print("isatty", os.isatty(m), os.isatty(s))
print("ttyname", os.ttyname(s).startswith("/dev/pts/"))
attrs = termios.tcgetattr(s)
print("lflag icanon echo isig", bool(attrs[3] & termios.ICANON), bool(attrs[3] & termios.ECHO),
      bool(attrs[3] & termios.ISIG))
print("VINTR VEOF", attrs[6][termios.VINTR], attrs[6][termios.VEOF])
os.write(m, b"hello\r")
print("slave reads", os.read(s, 100))
print("master reads echo", os.read(m, 100))
tty.setraw(s)
os.write(m, b"\x03x")
print("raw slave reads", os.read(s, 100))
os.write(s, b"a\nb")
print("raw output", os.read(m, 100))
fcntl.ioctl(m, termios.TIOCSWINSZ, struct.pack("HHHH", 33, 111, 0, 0))
print("winsize via slave", struct.unpack("HHHH", fcntl.ioctl(s, termios.TIOCGWINSZ, b"\0" * 8)))
os.close(s)
try:
    os.read(m, 10)
except OSError as e:
    print("master read after slave closed:", e.errno == 5)
os.close(m)

# pty.fork: the child leads a session whose controlling terminal is the slave.
pid, fd = pty.fork()
if pid == 0:
    os.environ["PS1"] = "$ "
    os.execv("/bin/sh", ["sh", "-i"])
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
out = read_until(fd, b"$ ")
os.write(fd, b"stty size; tty >/dev/null && echo has-tty\n")
out = read_until(fd, b"has-tty\r\n$ ")
print("shell:", out.replace(b"\r", b"").split(b"\n")[1:3])
os.write(fd, b"echo typed\x7f\x7fo\n")
out = read_until(fd, b"$ ")
print("edited:", out.replace(b"\r", b"").split(b"\n")[1])
# Ctrl-C reaches the foreground group (the shell ignores it; the sleep dies).
os.write(fd, b"sleep 30\n")
read_until(fd, b"\n")
time.sleep(1)
os.write(fd, b"\x03")
read_until(fd, b"$ ")
os.write(fd, b"echo status $?\n")
out = read_until(fd, b"$ ")
print("interrupted:", out.replace(b"\r", b"").split(b"\n")[1])
os.write(fd, b"exit 3\n")
rest = read_until(fd, b"<never>")
print("after exit:", rest.endswith(b"<OSError 5>") or rest.endswith(b"<eof>"))
_, status = os.waitpid(pid, 0)
print("shell status", os.waitstatus_to_exitcode(status))
