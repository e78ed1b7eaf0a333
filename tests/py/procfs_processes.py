# Differential: /proc of other processes: a child's cmdline, status, stat fields (state, parent,
# group, session), its fd directory, its threads; a zombie's stat and status (state Z) until it
# is reaped, and nothing after.
import os, threading, time, subprocess, sys

r, w = os.pipe()
pid = os.fork()
if pid == 0:
    os.setpgid(0, 0)
    t = threading.Thread(target=lambda: os.read(r, 1))
    t.start()
    t.join()
    os._exit(3)
time.sleep(0.5)
st = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
print("stat: state", st[0], "parent is me", st[1] == str(os.getpid()), "own group", st[2] == str(pid),
      "my session", st[3] == str(os.getsid(0)), "threads", st[17])
status = dict(l.split(":\t", 1) for l in open(f"/proc/{pid}/status").read().splitlines() if ":\t" in l)
print("status:", status["PPid"] == str(os.getpid()), status["Threads"])
print("cmdline is python:", open(f"/proc/{pid}/cmdline").read().split("\0")[0] == sys.executable)
print("tasks:", len(os.listdir(f"/proc/{pid}/task")))
print("fd of the pipe's read end:", os.readlink(f"/proc/{pid}/fd/{r}").startswith("pipe:"))
print("listed:", str(pid) in os.listdir("/proc"))
os.write(w, b"xx")
time.sleep(0.5)
st = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
print("zombie:", st[0], open(f"/proc/{pid}/status").read().splitlines()[1])
_, status = os.waitpid(pid, 0)
print("reaped:", os.waitstatus_to_exitcode(status), os.path.exists(f"/proc/{pid}"))
# (The state letters differ: in the sandbox this process is PID 1, a session leader.)
out = subprocess.run(["ps", "-o", "comm=", "-p", str(os.getpid())], capture_output=True, text=True)
print("ps:", out.stdout.split())
