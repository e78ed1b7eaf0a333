#!/usr/bin/env python3
"""`make conformance`: the long runs reported in issue notes, not in CI.

- The hostile fuzzing guest (tests/guest/fuzz_syscalls.c) for many seeds and longer: every run must
  end with the guest's exit 0 (no Sentry panic, hang or runtime error).
- Every busybox applet that needs no files or fork, on a set of arguments, natively and under runrs:
  stdout and exit status must match.
- With --python-tests (added to the runs above) or --python-tests-only: CPython's own regression
  tests (Debian's libpython3.11-testsuite) for the file-system modules, `python3 -m test -v MODULE`
  natively and under runrs; every test that passes natively must pass under runrs. A Sentry panic,
  a crash or a hang of the runrs run is never a pass: the test it was running is recorded as
  crashed/hung and the run resumes after it (regrtest's --ignorefile), so one bad test does not hide
  the rest of the module. Logs: target/conformance/python/.
Prints a summary; exits non-zero on any failure."""
import argparse, collections, os, pathlib, re, selectors, signal, subprocess, sys, time

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "target" / "conformance"

APPLETS = [
    ["echo", "-n", "a", "b"], ["echo", "-e", "x\\ty"], ["printf", "%05.1f|%x|%s\\n", "3.14159", "255", "s"],
    ["seq", "0", "3", "30"], ["seq", "-w", "8", "11"], ["expr", "2", "*", "21"], ["expr", "abc", ":", "a\\(.\\)"],
    ["expr", "10", "/", "0"], ["factor", "1234567"], ["basename", "a/b/"], ["dirname", "a"], ["true"], ["false"],
    ["test", "-z", ""], ["test", "1", "-eq", "2"], ["sleep", "0.2"], ["usleep", "1000"], ["id", "-g"], ["id", "-G"],
    ["nproc"], ["uname", "-s"], ["arch"], ["yes", "--help"], ["tr", "a-z", "A-Z"], ["rev"],
    ["wc", "-l"], ["sort"], ["uniq"], ["od", "-c"], ["hexdump", "-C"], ["md5sum"], ["sha256sum"], ["base64"],
    ["cut", "-c1-3"], ["head", "-n1"], ["tail", "-n1"], ["fold", "-w3"], ["cat", "-n"], ["sum"], ["cksum"],
    ["tac"], ["nl"], ["expand"], ["printenv", "HOME"], ["env", "-i", "A=1"],
]
# Not yet: `whoami` and `id -un` read /etc/passwd (files issue); `timeout`, `xargs` fork (tasks issue).
STDIN = b"zeta alpha\nbeta\nbeta\nGamma delta\n"


def run(cmd, stdin=None, timeout=120):
    r = subprocess.run(cmd, input=stdin, capture_output=True, timeout=timeout)
    return r.stdout, r.returncode if r.returncode >= 0 else 128 - r.returncode


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runrs", default=str(ROOT / "target/release/runrs"))
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=15)
    ap.add_argument("--python-tests", action="store_true",
                    help="also run CPython's regression tests natively and under runrs")
    ap.add_argument("--python-tests-only", action="store_true",
                    help="run only CPython's regression tests (no fuzzing, no busybox)")
    ap.add_argument("--python-modules", nargs="+", default=PY_MODULES, metavar="MODULE")
    ap.add_argument("--python-timeout", type=float, default=600,
                    help="seconds for one module's run (each of native and runrs, resumptions included)")
    ap.add_argument("--python-stall", type=float, default=120,
                    help="seconds without output after which the runrs run counts as hung in its current test")
    ap.add_argument("--python-no-faulthandler", action="store_true",
                    help="start regrtest with faulthandler.enable/register/dump_traceback_later stubbed "
                         "out (both sides), for a runrs without sigaltstack (faulthandler.enable fails) "
                         "or threads (the exit watchdog)")
    ap.add_argument("--python-no-resume", action="store_true",
                    help="do not resume a crashed or hung runrs run after the test it stopped in")
    a = ap.parse_args()
    a.runrs = os.path.abspath(a.runrs)
    OUT.mkdir(parents=True, exist_ok=True)
    if a.python_tests_only:
        failures = python_tests(a)
        return 1 if failures else 0
    fuzz = OUT / "fuzz_syscalls"
    subprocess.run(["gcc", "-static", "-O1", "-o", fuzz, ROOT / "tests/guest/fuzz_syscalls.c"], check=True)
    failures = []
    t0 = time.time()
    for seed in range(1, a.seeds + 1):
        try:
            r = subprocess.run([a.runrs, "do", "--", fuzz, str(a.seconds), str(seed * 7919)],
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               timeout=a.seconds + 60)
            if r.returncode != 0:
                failures.append(f"fuzz seed {seed * 7919}: exit {r.returncode}: {r.stderr[-500:]!r}")
        except subprocess.TimeoutExpired:
            failures.append(f"fuzz seed {seed * 7919}: hung")
    fuzz_time = time.time() - t0
    applets = 0
    for args in APPLETS:
        cmd = ["/bin/busybox"] + args
        native = run(cmd, STDIN)
        sandboxed = run([a.runrs, "do", "--"] + cmd, STDIN)
        applets += 1
        if native != sandboxed:
            failures.append(f"busybox {' '.join(args)}: native {native!r} / runrs {sandboxed!r}")
    print(f"fuzzing: {a.seeds} seeds x {a.seconds:g} s in {fuzz_time:.0f} s")
    print(f"busybox applets compared: {applets}")
    for f in failures:
        print("FAIL:", f)
    print(f"conformance: {a.seeds + applets - len(failures)} passed, {len(failures)} failed")
    if a.python_tests:
        failures += python_tests(a)
    return 1 if failures else 0


# CPython regression tests ------------------------------------------------------------------------

PYTHON = "/usr/bin/python3"
PY_MODULES = ["test_os", "test_stat", "test_fileio", "test_file", "test_tempfile", "test_shutil", "test_glob",
              "test_pathlib", "test_zipfile",
              # processes, threads, signals, waiting
              "test_signal", "test_threading", "test_thread", "test_threading_local", "test_queue",
              "test_fork1", "test_wait3", "test_wait4", "test_posix", "test_select", "test_selectors",
              "test_threadsignals", "test_concurrent_futures", "test_multiprocessing_fork",
              "test_epoll", "test_poll", "test_subprocess", "test_asyncio.test_unix_events",
              # terminals (test_ioctl needs a terminal on stdin: natively it runs nothing here)
              "test_pty", "test_openpty", "test_readline", "test_getpass",
              # sockets on the sandbox's loopback
              # (test_socketserver needs regrtest's network resource: it runs nothing by default.)
              "test_socket", "test_httpservers", "test_urllib2_localnet",
              "test_asyncio.test_sock_lowlevel"]
# Tests left out natively and under runrs alike, with why.
PY_SKIP = {
    # This machine's vsock (a nested VM) accepts the connection and never answers: the native
    # run hangs there.
    "test_socket": ["*VSOCK*"],
}
PY_OUT = OUT / "python"
# regrtest with faulthandler.enable/register (they need sigaltstack) and dump_traceback_later (a
# watchdog thread, at exit) stubbed; argv as for `-m test`.
NO_FAULTHANDLER = ("import faulthandler\n"
                   "faulthandler.enable = faulthandler.register = faulthandler.dump_traceback_later = \\\n"
                   "    lambda *a, **k: None\n"
                   "from test.libregrtest import main\nmain()\n")
# `test_x (test.test_os.Class.test_x)` optionally followed by ` ... RESULT` (a docstring's first
# line comes between the two when the test has one).
HEADER = re.compile(r"^(\w+) \(((?:\w+\.)+\w+)\)(?: \.\.\. (.*))?$")
STATUS = re.compile(r"^(ok|FAIL|ERROR|expected failure|unexpected success|skipped\b.*)$")
SUMMARY = re.compile(r"^(FAIL|ERROR): (\w+) \(((?:\w+\.)+\w+)\)")
SEPARATOR = "=" * 70


def status_of(text):
    """The unittest verdict a result text ends with, or None."""
    text = text.strip()
    m = STATUS.match(text)
    if m:
        return "skipped" if text.startswith("skipped") else text
    m = re.search(r"(?:^|\s)(ok|FAIL|ERROR)$", text)
    return m.group(1) if m else None


def parse_results(out):
    """Per-test verdicts of a verbose unittest/regrtest run: ({id: status}, {id: message}, pending,
    class_errors). `pending` is the test that was announced but never got a verdict (where a run
    that died stopped); class_errors lists setUpClass/tearDownClass/module errors."""
    results, messages, class_errors = {}, {}, []
    pending, waiting_doc = None, False
    lines = out.splitlines()
    for line in lines:
        m = HEADER.match(line)
        if m:
            pending = m.group(2)
            if m.group(3) is None:
                waiting_doc = True  # the docstring line with " ... " follows
                continue
            waiting_doc = False
            st = status_of(m.group(3))
            if st:
                results[pending], pending = st, None
            continue
        if pending is None:
            continue
        if waiting_doc and " ... " in line:
            waiting_doc = False
            st = status_of(line.rsplit(" ... ", 1)[1])
            if st:
                results[pending], pending = st, None
            continue
        st = status_of(line) if STATUS.match(line.strip()) else None
        if st:
            results[pending], pending = st, None
    # The failure report at the end: a subtest failure turns an "ok" test into FAIL/ERROR; the
    # last line of each traceback is the message.
    blocks = out.split(SEPARATOR)
    for b in blocks[1:]:
        blines = b.strip("\n").splitlines()
        if not blines:
            continue
        m = SUMMARY.match(blines[0])
        if not m:
            continue
        kind, name, tid = m.groups()
        dash = next((i for i, l in enumerate(blines[:4]) if l.startswith("-" * 70)), 0)
        body = blines[dash + 1:]  # after the header, its docstring line if any, and a rule
        end = next((i for i, l in enumerate(body) if l.startswith("-" * 70)), len(body))
        msg = traceback_message(body[:end])
        if name in ("setUpClass", "tearDownClass", "setUpModule", "tearDownModule"):
            class_errors.append(f"{kind} {name} ({tid}): {msg}")
            continue
        if results.get(tid) in (None, "ok"):
            results[tid] = kind
        messages.setdefault(tid, msg)
    return results, messages, pending, class_errors


def traceback_message(lines):
    """The exception line of a traceback and the source line that raised it."""
    starts = [i for i, l in enumerate(lines) if l.startswith("Traceback (most recent call last)")]
    if not starts:
        return next((l.strip() for l in reversed(lines) if l.strip()), "")
    tb = lines[starts[-1] + 1:]
    exc = next((i for i, l in enumerate(tb) if l.strip() and not l.startswith(" ")), None)
    if exc is None:
        return ""
    code = [l.strip() for l in tb[:exc] if l.startswith("    ") and l.strip() and set(l.strip()) - set("^~")]
    return tb[exc].strip()[:200] + (f" [at: {code[-1][:100]}]" if code else "")


def module_errors(out):
    """regrtest's report of a module that could not be run as a whole (e.g. failed to import)."""
    errs = []
    for m in re.finditer(r"^test (\S+) crashed -- Traceback.*?\n(?=\S)(?!  )(.*?)$", out, re.M | re.S):
        errs.append(f"{m.group(1)} crashed: {m.group(2).strip()[:200]}")
    for m in re.finditer(r"^(\S+) failed \((uncaught exception|env changed|resource denied)\)", out, re.M):
        errs.append(f"{m.group(1)} {m.group(2)}")
    return errs


def run_streaming(cmd, log, timeout, stall, cwd):
    """Run cmd (stdout and stderr merged) appending to log; kill its process group if it runs past
    timeout or prints nothing for stall seconds. Returns (output, returncode, "timeout"/"stall"/None)."""
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         cwd=cwd, start_new_session=True)
    sel = selectors.DefaultSelector()
    sel.register(p.stdout, selectors.EVENT_READ)
    chunks, start, last, killed = [], time.time(), time.time(), None
    with open(log, "ab") as lf:
        lf.write(("$ " + " ".join(map(str, cmd)) + "\n").encode())
        while True:
            now = time.time()
            if now - start > timeout or now - last > stall:
                killed = "timeout" if now - start > timeout else "stall"
                try:
                    os.killpg(p.pid, signal.SIGKILL)  # the group this Popen started
                except ProcessLookupError:
                    pass
                break
            if not sel.select(timeout=1.0):
                continue
            data = os.read(p.stdout.fileno(), 65536)
            if not data:
                break
            chunks.append(data)
            lf.write(data)
            lf.flush()
            last = time.time()
        rest = p.stdout.read() if killed is None else b""
        chunks.append(rest)
        lf.write(rest)
        rc = p.wait()
        lf.write(f"\n$ exit {rc}{' (killed: ' + killed + ')' if killed else ''}\n".encode())
    sel.close()
    p.stdout.close()
    return b"".join(chunks).decode("utf-8", "replace"), rc, killed


def regrtest_cmd(a, module, ignorefile=None):
    head = [PYTHON, "-c", NO_FAULTHANDLER] if a.python_no_faulthandler else [PYTHON, "-m", "test"]
    skip = [a for p in PY_SKIP.get(module, []) for a in ("-i", p)]
    return head + ["-v", module] + skip + (["--ignorefile", str(ignorefile)] if ignorefile else [])


def finished(out):
    """regrtest got to its final report (whatever the verdicts)."""
    return re.search(r"^Tests result: ", out, re.M) is not None


def crash_reason(out, rc, killed):
    if killed == "stall":
        return "hang (no output)"
    if killed == "timeout":
        return "module timeout"
    m = re.search(r"panicked at ([^\n]*)\n([^\n]*)", out)
    if m:
        return f"Sentry panic at {m.group(1).strip()} {m.group(2).strip()}"
    if rc < 0:
        return f"runrs killed by {signal.Signals(-rc).name}"
    if rc > 128:
        try:
            return f"exit {rc} (guest signal {signal.Signals(rc - 128).name})"
        except ValueError:
            pass
    if "Traceback (most recent call last)" in out:
        return f"exit {rc}: {traceback_message(out.splitlines())}"
    last = [l for l in out.splitlines() if l.strip()][-1:] or [""]
    return f"exit {rc}: {last[0][:160]}"


def run_module(a, module):
    """Returns (native results, runrs results, runrs messages, notes, seconds native, seconds runrs)."""
    log_n, log_s = PY_OUT / f"{module}.native.log", PY_OUT / f"{module}.runrs.log"
    for f in (log_n, log_s, PY_OUT / f"{module}.ignore"):
        f.unlink(missing_ok=True)
    t0 = time.time()
    out, rc, killed = run_streaming(regrtest_cmd(a, module), log_n, a.python_timeout, a.python_timeout, PY_OUT)
    native, _, _, _ = parse_results(out)
    notes = [] if finished(out) and not killed else [f"native run did not finish ({crash_reason(out, rc, killed)})"]
    t1 = time.time()
    sandboxed, messages, ignore, runs = {}, {}, [], 0
    while True:
        runs += 1
        ignorefile = None
        if ignore:
            ignorefile = PY_OUT / f"{module}.ignore"  # read by the guest through the overlay
            ignorefile.write_text("".join(i + "\n" for i in ignore))
        budget = a.python_timeout - (time.time() - t1)
        if budget <= 0:
            notes.append("runrs: module timeout (resumptions included)")
            break
        cmd = [a.runrs, "do", "--"] + regrtest_cmd(a, module, ignorefile)
        out, rc, killed = run_streaming(cmd, log_s, budget, a.python_stall, PY_OUT)
        results, msgs, pending, class_errors = parse_results(out)
        for tid, st in results.items():
            sandboxed.setdefault(tid, st)
        for tid, m in msgs.items():
            messages.setdefault(tid, m)
        notes += [f"runrs: {e}" for e in class_errors + module_errors(out)]
        if finished(out) and not killed:
            break
        reason = crash_reason(out, rc, killed)
        if pending and pending not in sandboxed:
            sandboxed[pending] = "CRASH" if killed != "stall" else "HANG"
            messages[pending] = reason
            notes.append(f"runrs run {runs} stopped in {pending}: {reason}")
        else:
            notes.append(f"runrs run {runs} stopped outside a test: {reason}")
        new_ignore = sorted(sandboxed)
        if a.python_no_resume or new_ignore == ignore or not pending:
            break
        ignore = new_ignore
    return native, sandboxed, messages, notes, t1 - t0, time.time() - t1


def normalized(msg):
    """A failure message grouped by its exception and the function whose call raised it."""
    m = re.match(r"(.*?) \[at: (.*)\]$", msg)
    exc, where = (m.group(1), m.group(2)) if m else (msg, "")
    exc = re.sub(r"'(/[^']*)'", "'PATH'", exc)
    exc = re.sub(r"0x[0-9a-f]+", "0x..", exc)
    exc = re.sub(r"\b\d+\b", "N", exc)[:150]
    call = re.search(r"([\w.]+)\(", where.split(" = ", 1)[-1])
    return exc + (f" in {call.group(1)}()" if call else (f" at {where}" if where else ""))


def python_tests(a):
    PY_OUT.mkdir(parents=True, exist_ok=True)
    if not pathlib.Path("/usr/lib/python3.11/test/test_os.py").exists():
        sys.exit("CPython tests missing: apt-get install libpython3.11-testsuite")
    failures, rows, causes = [], [], collections.Counter()
    for module in a.python_modules:
        native, sandboxed, messages, notes, tn, ts = run_module(a, module)
        passing = sorted(t for t, st in native.items() if st == "ok")
        also = [t for t in passing if sandboxed.get(t) == "ok"]
        lost = [t for t in passing if sandboxed.get(t) != "ok"]
        crashes = sum(1 for t in sandboxed.values() if t in ("CRASH", "HANG"))
        rows.append((module, len(passing), len(also), crashes, tn, ts))
        print(f"\n{module}: {len(passing)} pass natively, {len(also)} of them under runrs "
              f"(native {tn:.0f} s, runrs {ts:.0f} s)")
        for n in notes:
            print("  note:", n)
        not_run = [t for t in lost if t not in sandboxed]
        for t in lost:
            if t in sandboxed:
                st, msg = sandboxed[t], messages.get(t, "")
                print(f"  {st:8} {t}" + (f": {msg}" if msg else ""))
                causes[f"{st}: {normalized(msg)}" if msg else st] += 1
        if not_run:
            print(f"  not run  {len(not_run)} tests (the runrs run stopped before them): "
                  + ", ".join(not_run[:5]) + (", ..." if len(not_run) > 5 else ""))
            causes["not run (runrs run stopped before the test)"] += len(not_run)
        if lost or not passing:
            failures.append(f"python {module}: {len(lost)} of {len(passing)} native passes lost under runrs")
    print("\n| module | pass natively | also under runrs | lost | crashed/hung tests | native s | runrs s |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for module, n, s_, c, tn, ts in rows:
        print(f"| {module} | {n} | {s_} | {n - s_} | {c} | {tn:.0f} | {ts:.0f} |")
    tot_n, tot_s = sum(r[1] for r in rows), sum(r[2] for r in rows)
    print(f"| total | {tot_n} | {tot_s} | {tot_n - tot_s} | {sum(r[3] for r in rows)} | | |")
    print("\nmost common reasons (status: last line of the traceback):")
    for cause, n in causes.most_common(25):
        print(f"  {n:4}  {cause}")
    if not causes:
        print("  (none)")
    for f in failures:
        print("FAIL:", f)
    return failures


if __name__ == "__main__":
    sys.exit(main())
