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


def pss_kb(pid):
    """Proportional set size of pid and its host descendants, in KiB."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            for line in open(f"/proc/{p}/smaps_rollup"):
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
            for t in os.listdir(f"/proc/{p}/task"):
                todo += [int(c) for c in open(f"/proc/{p}/task/{t}/children").read().split()]
        except OSError:
            pass
    return total


def oci_rows(runrs, reps):
    """ctr run --rm IMAGE true with runrs (its shim) and runc, on a containerd of our own; and
    the memory of an idle container. Skipped without containerd or root."""
    if os.geteuid() != 0 or not shutil.which("containerd") or not shutil.which("ctr"):
        return [], "skipped: needs root and containerd (make deps)"
    d = OUT / "ctd"
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir(parents=True)
    sock = f"/tmp/runrs-bench-ctd-{os.getpid()}.sock"
    (d / "config.toml").write_text(f'version = 2\nroot = "{d}/root"\nstate = "{d}/state"\n'
                                   f'[grpc]\n  address = "{sock}"\n'
                                   '[plugins."io.containerd.grpc.v1.cri"]\n  disable = true\n')
    daemon = subprocess.Popen(["containerd", "--config", d / "config.toml"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ctr = ["ctr", "--address", sock]
    try:
        for _ in range(300):
            if subprocess.run(ctr + ["version"], capture_output=True).returncode == 0:
                break
            time.sleep(0.1)
        img = "docker.io/library/runrs-bench:1"
        subprocess.run([sys.executable, ROOT / "tests/oci/mkimage.py", d / "img.tar", img], check=True)
        subprocess.run(ctr + ["images", "import", d / "img.tar"], check=True, capture_output=True)
        shim = d / "containerd-shim-runrs-v1"
        shim.symlink_to(os.path.abspath(runrs))
        n = [0]

        def run(extra):
            n[0] += 1
            return wall(ctr + ["run", "--rm"] + extra + [img, f"b{n[0]}", "true"])
        # Interleaved: the machine's speed drifts over a run.
        t_runc, t_runrs = [], []
        for _ in range(reps):
            t_runc.append(run([]))
            t_runrs.append(run(["--runtime", str(shim)]))
        r_runc, r_runrs = statistics.median(t_runc), statistics.median(t_runrs)
        rows = [("ctr run --rm IMAGE true, runc", r_runc / 1000, "", ""),
                ("ctr run --rm IMAGE true, runrs", r_runrs / 1000, f"{r_runrs / r_runc:.2f}x runc", "")]
        mem = []
        for name, extra in (("runc", []), ("runrs", ["--runtime", str(shim)])):
            subprocess.run(ctr + ["run", "-d"] + extra + [img, f"idle-{name}", "sleep", "1000"], check=True,
                           capture_output=True)
            time.sleep(1)
            pid = int(subprocess.run(ctr + ["task", "ls"], capture_output=True, text=True).stdout
                      .split(f"idle-{name} ")[1].split()[0])
            mem.append((name, pss_kb(pid)))
            if name == "runrs":
                parts = subprocess.run(["ps", "--ppid", str(pid), "-o", "pid=,comm="], capture_output=True,
                                       text=True).stdout.split()
                for cpid, comm in zip(parts[::2], parts[1::2]):
                    print(f"  idle runrs container: child {comm} {pss_kb(int(cpid)) / 1024:.1f} MB PSS", file=sys.stderr)
                print(f"  idle runrs container: Sentry alone (with children above) {pss_kb(pid) / 1024:.1f} MB", file=sys.stderr)
            subprocess.run(ctr + ["task", "kill", "-s", "SIGKILL", f"idle-{name}"], capture_output=True)
            time.sleep(0.5)
            subprocess.run(ctr + ["task", "delete", f"idle-{name}"], capture_output=True)
            subprocess.run(ctr + ["container", "rm", f"idle-{name}"], capture_output=True)
        for name, kb in mem:
            rows.append((f"idle container memory (PSS of its processes, MB), {name}", kb / 1024, "", ""))
        return rows, ""
    finally:
        daemon.terminate()
        daemon.wait()
        subprocess.run(["sh", "-c", f"grep -o ' {d}[^ ]*' /proc/mounts | sort -r | xargs -r -n1 umount -l"])
        # containerd leaves its sockets behind.
        for s in (sock, sock + ".ttrpc"):
            if os.path.exists(s):
                os.unlink(s)


def outbound_rows(runrs, reps):
    if os.geteuid() != 0 or not shutil.which("ip"):
        return []
    ns, veth, d = "runrs-bench", "rrbench0", OUT / "serve"
    d.mkdir(parents=True, exist_ok=True)
    big = d / "big.bin"
    if not big.exists() or big.stat().st_size != 256 << 20:
        with open(big, "wb") as f:
            f.write(os.urandom(1 << 20) * 256)
    sh = lambda *c: subprocess.run(c, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)
    subprocess.run(["ip", "link", "del", veth], stderr=subprocess.DEVNULL)
    server = None
    try:
        sh("ip", "netns", "add", ns)
        sh("ip", "link", "add", veth, "type", "veth", "peer", "name", veth + "p")
        sh("ip", "link", "set", veth + "p", "netns", ns)
        sh("ip", "addr", "add", "10.214.0.1/24", "dev", veth)
        sh("ip", "link", "set", veth, "up")
        sh("ip", "-n", ns, "addr", "add", "10.214.0.2/24", "dev", veth + "p")
        sh("ip", "-n", ns, "link", "set", veth + "p", "up")
        server = subprocess.Popen(["ip", "netns", "exec", ns, "/usr/bin/python3", "-m", "http.server",
                                   "--bind", "10.214.0.2", "--directory", str(d), "8214"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1)
        client = ["/usr/bin/python3", str(ROOT / "tests/bench/download.py"), "10.214.0.2", "8214", "/big.bin"]
        nat = median(lambda: value(client), reps)
        run = median(lambda: value([runrs[0], "do", "--network", "host-open", "--"] + client), reps)
        return [("TCP download from a host-side server, 256 MiB (python client)", nat, run)]
    finally:
        if server:
            server.kill()
        subprocess.run(["ip", "link", "del", veth], stderr=subprocess.DEVNULL)
        subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)


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
    # What a seccomp user-notification stop costs here (the candidate for a faster platform:
    # docs/performance.md); "-" where the host lacks it.
    notif = build("notif_probe")
    first = subprocess.run([notif, n], check=True, capture_output=True, text=True).stdout.split()[-1]
    if first != "-":
        raw_notif = median(lambda: value([notif, n]), reps)
        rows.append(("raw seccomp user-notification round trip (poll + RECV + SEND), one core", raw_notif, f"{raw_notif / native:.0f}x", f"{raw_notif / raw_same:.2f}x"))

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
        # Interleaved, so that the machine's slow and fast moments fall on both sides.
        nat, run = [], []
        for _ in range(max(9, reps)):
            nat.append(pair([fio, d, "64"]))
            run.append(pair(runrs + [fio, d, "64"]))
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
    # What shell scripts do: dash runs a dynamic /bin/true N times (vfork + execve + the dynamic
    # loader + wait); per iteration, from the difference between 2N and N iterations (the start
    # of the sandbox and of dash cancel out).
    if os.path.exists("/bin/dash"):
        def loop(k):
            return ["/bin/dash", "-c", f"i=0; while [ $i -lt {k} ]; do /bin/true; i=$((i+1)); done"]

        def per_iter(prefix, k):
            return (median(lambda: wall(prefix + loop(2 * k)), reps) - median(lambda: wall(prefix + loop(k)), reps)) / k

        nat, run = per_iter([], 40), per_iter(runrs, 40)
        task_rows.append(("a dynamic /bin/true from dash (vfork+execve+wait)", nat, run, run * 1000 / raw_same))

    # Pipes and sockets between a parent and a forked child: throughput of 256 MiB in 64 KiB
    # writes (MB/s), and one-byte round trips (us; in raw stops, each round trip needs at least
    # two syscalls a side).
    nb = build("net")
    net_rows = []
    for label, mode, count, unit in (
        ("TCP over the loopback, 256 MiB", "tcp-stream", "256", "MB/s"),
        ("pipe, 256 MiB", "pipe-stream", "256", "MB/s"),
        ("TCP ping-pong over the loopback (round trip)", "tcp-pingpong", "3000", "us"),
        ("Unix socketpair ping-pong (round trip)", "unix-pingpong", "3000", "us"),
    ):
        nat = median(lambda: value([nb, mode, count]), max(3, reps // 2))
        run = median(lambda: value(runrs + [nb, mode, count]), max(3, reps // 2))
        stops = f"{run * 1000 / raw_same:,.1f}" if unit == "us" else ""
        net_rows.append((f"{label}, {unit}", nat, run, stops))

    # Outbound TCP: a 256 MiB download from a server in a network namespace this script makes
    # (root and iproute2 only), natively and through the net gofer (--network=host-open).
    out_rows = outbound_rows(runrs, max(3, reps // 3))

    # The lockdown's cost: the same calls with the Sentry's seccomp filter (and namespaces) on
    # and off (--no-lockdown).
    # Interleaved pairs (this machine drifts within a run): the ratio is the median of each
    # pair's, with its quartiles, so a cost under the noise shows as such.
    nolock = [a.runrs, "do", "--no-lockdown", "--"]
    lock_rows = []
    for label, cmd in (("getppid", [getppid, n]), ("open+fstat+close", [of, cached, "5000"])):
        pairs = []
        for i in range(2 * reps):
            order = (runrs, nolock) if i % 2 == 0 else (nolock, runrs)
            got = {id(o): value(o + cmd) for o in order}
            pairs.append((got[id(runrs)], got[id(nolock)]))
        ratios = sorted(on / off for on, off in pairs)
        q1, _, q3 = statistics.quantiles(ratios, n=4)
        on = statistics.median(p[0] for p in pairs)
        off = statistics.median(p[1] for p in pairs)
        lock_rows.append((label, off, on, statistics.median(ratios), q1, q3, len(pairs)))

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

    oci, oci_note = oci_rows(a.runrs, max(reps, 9))

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
    print("\n| pipes and sockets | native | runrs | runrs / native | runrs in raw stops |\n|---|---:|---:|---:|---:|")
    for name, n_, r_, stops in net_rows:
        print(f"| {name} | {n_:,.1f} | {r_:,.1f} | {r_ / n_:.2f}x | {stops} |")
    if out_rows:
        print("\n| outbound network | native MB/s | runrs MB/s | runrs / native |\n|---|---:|---:|---:|")
        for name, n_, r_ in out_rows:
            print(f"| {name} | {n_:,.0f} | {r_:,.0f} | {r_ / n_:.2f}x |")
    print("\n| the lockdown's cost | ns, lockdown off | ns, lockdown on | on / off, median of pairs | quartiles | pairs |\n|---|---:|---:|---:|---|---:|")
    for name, off, on, ratio, q1, q3, k in lock_rows:
        print(f"| {name} | {off:,.0f} | {on:,.0f} | {ratio:.3f}x | {q1:.3f}-{q3:.3f} | {k} |")
    print("\n| files | ns per iteration | vs native | |\n|---|---:|---:|---|")
    for name, v, r1, r2 in files:
        print(f"| {name} | {v:,.0f} | {r1} | {r2} |")
    print(f"\n| OCI (containerd 1.6, busybox image) {oci_note} | ms or MB | vs runc | |\n|---|---:|---:|---|")
    for name, v, r1, r2 in oci:
        print(f"| {name} | {v:,.1f} | {r1} | {r2} |")
    print("\n| file I/O, 1 MiB chunks | native MB/s | runrs MB/s | runrs / native |\n|---|---:|---:|---:|")
    for name, n_, r_ in io_rows:
        print(f"| {name} | {n_:,.0f} | {r_:,.0f} | {r_ / n_:.2f}x |")


if __name__ == "__main__":
    sys.exit(main())
