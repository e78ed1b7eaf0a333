#!/usr/bin/env python3
"""`make conformance`: the long runs reported in issue notes, not in CI.

- The hostile fuzzing guest (tests/guest/fuzz_syscalls.c) for many seeds and longer: every run must
  end with the guest's exit 0 (no Sentry panic, hang or runtime error).
- Every busybox applet that needs no files or fork, on a set of arguments, natively and under runrs:
  stdout and exit status must match.
Prints a summary; exits non-zero on any failure."""
import argparse, pathlib, subprocess, sys, time

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
    a = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
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
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
