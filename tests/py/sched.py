# Differential: scheduling policy and priority set and read back (sched_setscheduler,
# sched_setparam), with the EINVAL of a real-time policy at priority 0, and inherited by a child.
import os

os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(10))
print(os.sched_getscheduler(0), os.sched_getparam(0))
try:
    os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(0))
except OSError as e:
    print("rt priority 0:", e.errno)
os.sched_setparam(0, os.sched_param(20))
print(os.sched_getparam(0))
pid = os.fork()
if pid == 0:
    print("child", os.sched_getscheduler(0), os.sched_getparam(0).sched_priority, flush=True)
    os._exit(0)
os.waitpid(pid, 0)
os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))
print(os.sched_getscheduler(0))
try:
    os.sched_setscheduler(0, 42, os.sched_param(0))
except OSError as e:
    print("bad policy:", e.errno)
