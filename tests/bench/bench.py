#!/usr/bin/env python3
"""`make bench`: runrs against native and against the raw platform cost, measured side by side in
one run, medians over repetitions (this machine is noisy; never compare with numbers from another
run). Prints a Markdown table; docs/performance.md records one such run."""
import argparse, os, pathlib, shutil, statistics, subprocess, sys, time

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "target" / "bench"


def build(name):
    OUT.mkdir(parents=True, exist_ok=True)
    exe = OUT / name
    subprocess.run(["gcc", "-static", "-O2", "-pthread", "-o", exe, ROOT / "tests/bench" / f"{name}.c"], check=True)
    return str(exe)


def value(cmd, env=None):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
    return float(out.split()[-1])


def wall(cmd, env=None):
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env)
    return (time.perf_counter() - t) * 1e6


def median(f, reps):
    # Interleaving would be fairer still; repetitions back to back keep caches comparable.
    return statistics.median(f() for _ in range(reps))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runrs", default=str(ROOT / "target/release/runrs"))
    ap.add_argument("--reps", type=int, default=9)
    ap.add_argument("--calls", type=int, default=20000)
    a = ap.parse_args()
    runrs = [a.runrs, "do", "--"]
    any_env = dict(os.environ, RUNRS_CPU_PLACEMENT="any")
    getppid, probe, true = build("getppid"), build("ptrace_probe"), build("true")
    n, reps = str(a.calls), a.reps

    rows = []
    native = median(lambda: value([getppid, n]), reps)
    raw_same = median(lambda: value([probe, n, "same"]), reps)
    raw_cross = median(lambda: value([probe, n, "cross"]), reps)
    raw_any = median(lambda: value([probe, n, "any"]), reps)
    r_same = median(lambda: value(runrs + [getppid, n]), reps)
    r_any = median(lambda: value(runrs + [getppid, n], any_env), reps)
    rows.append(("getppid, native", native, "", ""))
    rows.append(("raw PTRACE_SYSEMU round trip, one core", raw_same, f"{raw_same / native:.0f}x", "1.00x"))
    rows.append(("raw PTRACE_SYSEMU round trip, across cores", raw_cross, f"{raw_cross / native:.0f}x", f"{raw_cross / raw_same:.2f}x"))
    rows.append(("raw PTRACE_SYSEMU round trip, unpinned", raw_any, f"{raw_any / native:.0f}x", f"{raw_any / raw_same:.2f}x"))
    rows.append(("getppid under runrs do (pinned, default)", r_same, f"{r_same / native:.0f}x", f"{r_same / raw_same:.2f}x"))
    rows.append(("getppid under runrs do (--cpu-placement any)", r_any, f"{r_any / native:.0f}x", f"{r_any / raw_any:.2f}x vs unpinned raw"))

    s_reps = max(reps * 3, 21)
    s_native = median(lambda: wall([true]), s_reps)
    s_runrs = median(lambda: wall(runrs + [true]), s_reps)
    start = [("static true, native", s_native, "", ""), ("static true, runrs do", s_runrs, f"{s_runrs / s_native:.1f}x", "")]
    if shutil.which("bwrap"):
        b = median(lambda: wall(["bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--unshare-all", true]), s_reps)
        start.append(("static true, bwrap --unshare-all", b, f"{b / s_native:.1f}x", f"runrs/bwrap {s_runrs / b:.2f}x"))
    if shutil.which("proot"):
        p = median(lambda: wall(["proot", true]), s_reps)
        start.append(("static true, proot", p, f"{p / s_native:.1f}x", f"runrs/proot {s_runrs / p:.2f}x"))

    files = []
    of = build("open_fstat")
    cached = "/usr/lib/python3.11/os.py" if os.path.exists("/usr/lib/python3.11/os.py") else "/etc/passwd"
    o_native = median(lambda: value([of, cached, "5000"]), reps)
    o_runrs = median(lambda: value(runrs + [of, cached, "5000"]), reps)
    files.append(("open+fstat+close of a cached path, native", o_native, "", ""))
    files.append(("... runrs do", o_runrs, f"{o_runrs / o_native:.0f}x", f"{o_runrs / raw_same:.2f} raw stops"))
    if shutil.which("proot"):
        o_proot = median(lambda: value(["taskset", "-c", "0", "proot", of, cached, "5000"]), reps)
        files.append(("... proot, one CPU", o_proot, f"{o_proot / o_native:.0f}x", f"runrs/proot {o_runrs / o_proot:.2f}x"))

    fio = build("fileio")
    io_rows = []
    for label, d in (("/tmp (tmpfs in the sandbox; the host's /tmp natively)", "/tmp"), ("the overlay root (memory upper layer; the host's disk natively)", str(OUT))):
        def pair(cmd):
            out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.split()
            return float(out[0]), float(out[1])
        nat = [pair([fio, d, "64"]) for _ in range(max(3, reps // 3))]
        run = [pair(runrs + [fio, d, "64"]) for _ in range(max(3, reps // 3))]
        nw, nr = statistics.median(x[0] for x in nat), statistics.median(x[1] for x in nat)
        rw, rr = statistics.median(x[0] for x in run), statistics.median(x[1] for x in run)
        io_rows.append((f"64 MiB write, {label}", nw, rw))
        io_rows.append((f"64 MiB read, {label}", nr, rr))

    # Tasks: fork+execve+wait (and fork+_exit after touching 64 MiB, what copy-on-write saves),
    # thread create+join, a futex ping-pong between two threads; per iteration.
    fe, th = build("forkexec"), build("threads")
    task_rows = []
    for label, args, n_nat, n_run in (
        ("fork+execve+wait of a static true", [fe, "{n}", "0", true], "200", "100"),
        ("fork+execve+wait, parent has 64 MiB written", [fe, "{n}", "64", true], "60", "30"),
        ("fork+_exit+wait, parent has 64 MiB written", [fe, "{n}", "64", "-"], "60", "30"),
        ("thread create+join", [th, "create", "{n}"], "2000", "500"),
        ("futex ping-pong between two threads (round trip)", [th, "pingpong", "{n}"], "5000", "2000"),
    ):
        nat = median(lambda: value([x.replace("{n}", n_nat) for x in args]), reps)
        run = median(lambda: value(runrs + [x.replace("{n}", n_run) for x in args]), reps)
        task_rows.append((label, nat, run, run * 1000 / raw_same))

    py = "/usr/bin/python3"
    py_rows = []
    if os.path.exists(py):
        p_native = median(lambda: wall([py, "-c", "pass"]), s_reps)
        p_runrs = median(lambda: wall(runrs + [py, "-c", "pass"]), s_reps)
        py_rows.append(("python3 -c pass, native", p_native, "", ""))
        py_rows.append(("python3 -c pass, runrs do", p_runrs, f"{p_runrs / p_native:.1f}x", ""))
        if shutil.which("proot"):
            p_proot = median(lambda: wall(["taskset", "-c", "0", "proot", py, "-c", "pass"]), s_reps)
            py_rows.append(("python3 -c pass, proot one CPU", p_proot, f"{p_proot / p_native:.1f}x", f"runrs/proot {p_runrs / p_proot:.2f}x"))

    print(f"# runrs bench ({time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} CPUs, medians of {reps} runs x {n} calls; startup medians of {s_reps})\n")
    print("| per syscall | ns | vs native | vs raw round trip |\n|---|---:|---:|---:|")
    for name, v, r1, r2 in rows:
        print(f"| {name} | {v:,.0f} | {r1} | {r2} |")
    print("\n| startup + teardown | us | vs native | |\n|---|---:|---:|---|")
    for name, v, r1, r2 in start + py_rows:
        print(f"| {name} | {v:,.0f} | {r1} | {r2} |")
    print("\n| tasks | native us | runrs us | runrs / native | runrs in raw stops |\n|---|---:|---:|---:|---:|")
    for name, n_, r_, stops in task_rows:
        print(f"| {name} | {n_:,.1f} | {r_:,.1f} | {r_ / n_:.2f}x | {stops:,.0f} |")
    print("\n| files | ns per iteration | vs native | |\n|---|---:|---:|---|")
    for name, v, r1, r2 in files:
        print(f"| {name} | {v:,.0f} | {r1} | {r2} |")
    print("\n| file I/O, 1 MiB chunks | native MB/s | runrs MB/s | runrs / native |\n|---|---:|---:|---:|")
    for name, n_, r_ in io_rows:
        print(f"| {name} | {n_:,.0f} | {r_:,.0f} | {r_ / n_:.2f}x |")


if __name__ == "__main__":
    sys.exit(main())
