# Differential: what a program commonly reads from /proc about itself and the machine (only the
# shape and self-consistency of values that differ between runs or between sandbox and host).
import os, re, sys

status = open("/proc/self/status").read()
print("status Name:", [l for l in status.splitlines() if l.startswith("Name:")])
fields = dict(l.split(":", 1) for l in status.splitlines() if ":" in l)
print("status has:", all(k in fields for k in ["Name", "State", "Pid", "PPid", "Uid", "Gid", "VmRSS", "Threads"]))
print("status pid:", int(fields["Pid"]) == os.getpid(), int(fields["PPid"]) == os.getppid())
print("status uid:", fields["Uid"].split() == [str(os.getuid()), str(os.geteuid())] * 2)
print("status threads:", fields["Threads"].strip())

cmdline = open("/proc/self/cmdline", "rb").read()
print("cmdline:", cmdline.split(b"\0")[0], len(cmdline.split(b"\0")), cmdline.endswith(b"\0"))
print("cmdline argv:", cmdline.split(b"\0")[1:-1] == [a.encode() for a in sys.argv])
print("comm:", repr(open("/proc/self/comm").read()))
print("exe:", os.path.realpath(os.readlink("/proc/self/exe")) == os.path.realpath(sys.executable))
print("cwd:", os.readlink("/proc/self/cwd") == os.getcwd())
stat = open("/proc/self/stat").read()
print("stat:", stat.split(" (")[0] == str(os.getpid()), stat.split(") ")[1].split()[0] in "RS")

fds = os.listdir("/proc/self/fd")
print("fd names are digits:", all(f.isdigit() for f in fds), {"0", "1", "2"} <= set(fds))
fd = os.open("/proc/self/status", os.O_RDONLY)
print("new fd listed:", str(fd) in os.listdir("/proc/self/fd"), 
      os.readlink(f"/proc/self/fd/{fd}").replace(f"/{os.getpid()}/", "/PID/"))
print("fdinfo:", open(f"/proc/self/fdinfo/{fd}").read().splitlines()[0].split(":")[0])
os.close(fd)
print("closed fd gone:", not os.path.lexists(f"/proc/self/fd/{fd}"))

print("cpu_count == affinity:", os.cpu_count() == len(os.sched_getaffinity(0)))
cpuinfo = open("/proc/cpuinfo").read()
procs = [l for l in cpuinfo.splitlines() if re.match(r"processor\s*:", l)]
print("cpuinfo processors:", len(procs) > 0, len(procs) == os.cpu_count())
print("cpuinfo has flags:", any(l.startswith("flags") for l in cpuinfo.splitlines()))

meminfo = dict(l.split(":", 1) for l in open("/proc/meminfo").read().splitlines())
print("meminfo:", all(k in meminfo for k in ["MemTotal", "MemFree", "MemAvailable"]),
      meminfo["MemTotal"].strip().endswith(" kB"), int(meminfo["MemTotal"].split()[0]) > 0)
print("sysconf pages:", os.sysconf("SC_PHYS_PAGES") > 0, os.sysconf("SC_PAGE_SIZE"))

maps = open("/proc/self/maps").read().splitlines()
print("maps:", len(maps) > 5, any(l.endswith("[stack]") for l in maps),
      any("python3" in l for l in maps), all(re.match(r"[0-9a-f]+-[0-9a-f]+ [r-][w-][x-][ps] ", l) for l in maps))
print("loadavg fields:", len(open("/proc/loadavg").read().split()))
print("uptime fields:", len(open("/proc/uptime").read().split()))
print("self is pid:", os.readlink("/proc/self") == str(os.getpid()))
print("mounts has /proc:", any(l.split()[1] == "/proc" for l in open("/proc/self/mounts")))
print("filesystems has proc:", "proc" in open("/proc/filesystems").read())
print("sys ostype:", open("/proc/sys/kernel/ostype").read().strip())
print("pid_max positive:", int(open("/proc/sys/kernel/pid_max").read()) > 0)
print("environ:", (b"RUNRS_PROCFS_CHECK=" in open("/proc/self/environ", "rb").read()) ==
      ("RUNRS_PROCFS_CHECK" in os.environ))
