# runrs: see README.md. `make deps test` is what CI runs.
CARGO ?= cargo
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Two test threads: the machine has two cores and each guest run is a Sentry plus a stub.
TEST_THREADS ?= 2

SHELL := /bin/bash

.PHONY: all build release test lint fmt docs deps bench bench-deps conformance demo clean

all: build

build:
	$(CARGO) build --workspace

release:
	$(CARGO) build --release --workspace

# Build everything once, then run every suite (unit, differential, end to end).
test:
	$(CARGO) build --workspace --all-targets
	set -o pipefail; $(CARGO) test --workspace --all-targets -- --test-threads=$(TEST_THREADS) 2>&1 | tee target/test.log
	@awk '/^test result:/ { p += $$4; f += $$6; i += $$8 } END { printf "total: %d passed, %d failed, %d skipped\n", p, f, i }' target/test.log

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

# Regenerate docs/syscalls.md from the Sentry's syscall table.
docs: build
	./target/debug/runrs syscalls > docs/syscalls.md

# What the tests need: a C toolchain with static glibc, busybox-static, strace, script (bsdutils) for a pty,
# containerd and docker.io (the OCI tests start their own daemons), iproute2 (the egress tests make a network namespace),
# python3-grpcio and python3-protobuf (tests/cri/cri.py: the CRI client that drives containerd's CRI plugin as kubelet does).
deps:
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq gcc libc6-dev make busybox-static strace bsdutils containerd docker.io iproute2 tmux python3-grpcio python3-protobuf

# Peers measured next to runrs by `make bench` (optional: missing ones are skipped).
bench-deps: deps
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq bubblewrap proot

# Ratios against native and against the raw ptrace round trip, medians, in one run.
bench: release
	python3 tests/bench/bench.py --runrs ./target/release/runrs

# Long real-program runs, reported in issue notes (not in CI): fuzzing seeds, busybox applets,
# and CPython's own regression tests natively vs under runrs (Debian's libpython3.11-testsuite).
conformance: release
	dpkg -s libpython3.11-testsuite >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq libpython3.11-testsuite; }
	python3 tests/bench/conformance.py --runrs ./target/release/runrs --python-tests

# Build runrs and run a real program in it (busybox-static's echo, in a fresh sandbox).
demo:
	[ -x /bin/busybox ] || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq busybox-static; }
	$(CARGO) build --release --workspace
	./target/release/runrs do /bin/busybox echo hello from runrs

clean:
	$(CARGO) clean
