#!/usr/bin/env bash
# Every test, on a fresh Debian machine: installs what the tests need when
# it is missing, runs them all (a failing test binary does not stop the
# others), and ends with one total and the list of what could not run.
#
#   scripts/test.sh            the embedded broker (and KAFKA_BOOTSTRAP_SERVERS
#                              too, when it is set)
#   scripts/test.sh ARGS...    ARGS go to cargo test (e.g. --test consumer)
#
# Test binaries run four at a time (KAFKA_INSTANCE_TEST_JOBS=1: one after
# another); each prints its time, and the run its phases' times.
#
# With KAFKA_INSTANCE_BROKERS=external (and KAFKA_BOOTSTRAP_SERVERS set), the
# tests that run against every broker run against that one alone; those
# that control the embedded broker (stop it, fail its requests) or check
# what it alone answers still use it.
#
# Installs, when missing: Debian packages (as root, or with sudo) for the C
# and C++ compilers, make, pkg-config, binutils, perl, git, python3 with
# venv, kcat, valgrind, socat, openssl, doxygen, Go and Node.js with npm;
# kafka-python, pytest and setuptools-rust into target/venv (and koffi
# into node/node_modules, from the npm registry, when its test runs);
# tansu, a Kafka-compatible broker, with cargo (about 8 minutes on 2 cores, once;
# KAFKA_INSTANCE_SKIP_TANSU=1 skips it, and the tests that need it are
# listed as not run).
#
# Exit status: 0 when every test passed. A test that could not run here is
# listed at the end; with KAFKA_INSTANCE_REQUIRE_ALL=1 (CI) it fails instead.
set -uo pipefail
cd "$(dirname "$0")/.."

say() { echo "test.sh: $*" >&2; }

# command -> Debian package
packages=()
need() { command -v "$1" >/dev/null 2>&1 || packages+=("$2"); }
need cc gcc
need c++ g++
need make make
need pkg-config pkg-config
need nm binutils
need readelf binutils
need strip binutils
need perl perl
need git git
need python3 python3
need kcat kcat
need valgrind valgrind
need socat socat
need openssl openssl
need go golang-go
need node nodejs
need npm npm
need doxygen doxygen
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || packages+=(python3-venv)
# Python's headers: the package's compiled send (python/kafka_instance/_speedups.c).
python3 -c 'import os, sys, sysconfig
sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' \
  >/dev/null 2>&1 || packages+=(python3-dev)
if [ ${#packages[@]} -gt 0 ]; then
  mapfile -t packages < <(printf '%s\n' "${packages[@]}" | sort -u)
  say "installing ${packages[*]}"
  if [ "$(id -u)" -eq 0 ]; then sudo=(); elif command -v sudo >/dev/null; then sudo=(sudo); else sudo=(false); fi
  if ! { "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null &&
         "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${packages[@]}" >/dev/null; }; then
    say "could not install ${packages[*]} (run as root, or with sudo); the tests that need them are listed as not run"
  fi
fi

# kafka-python for tests/interop.rs (the pin is the test's); pytest and
# setuptools-rust for the Python package's tests (tests/bindings.rs); with
# retries.
kafka_python=$(sed -n 's/^const KAFKA_PYTHON: &str = "\(.*\)";/\1/p' tests/interop.rs)
python_tools=("$kafka_python" "pytest==9.2.0" "setuptools-rust==1.13.0" "setuptools>=68" "wheel")
if ! target/venv/bin/python -c "import kafka, pytest, setuptools_rust, wheel" >/dev/null 2>&1; then
  for attempt in 1 2 3; do
    if python3 -m venv target/venv && target/venv/bin/pip install --quiet "${python_tools[@]}"; then
      break
    fi
    say "pip install ${python_tools[*]} failed (attempt $attempt)"
    sleep 10
  done
fi

# tansu for tests/security.rs (a broker with SASL and SQLite storage; TLS in
# front of it) and the second pass of CI: built in the background, at the
# lowest priority, while the tests build and run (most of their time is
# spent waiting; at an equal share it was ready no sooner, 782 s against
# 742 s on a fresh clone, and the build took 387 s instead of 230 s). A test
# that needs it before then waits for it (scripts/broker.sh install takes a
# lock).
tansu_install=
if [ "${KAFKA_INSTANCE_SKIP_TANSU:-}" != 1 ]; then
  mkdir -p target
  nice -n 19 scripts/broker.sh install >target/tansu-install.log 2>&1 &
  tansu_install=$!
fi

not_run="$PWD/target/tests-not-run.txt"
mkdir -p target
: >"$not_run"
log="$PWD/target/test-output.txt"
say "installs: ${SECONDS}s"
started=$SECONDS
# The build first, timed apart from the run (cargo test would build the
# same, and a build error still shows in the run's output).
cargo test --no-run "$@" >/dev/null 2>&1 || true
say "build: $((SECONDS - started))s"
started=$SECONDS
# Several test binaries at a time (KAFKA_INSTANCE_TEST_JOBS, 4 by default;
# 1: one after another, as cargo runs them); arguments for the test
# binaries themselves (after --) go through cargo.
export KAFKA_INSTANCE_NOT_RUN_FILE="$not_run"
test_jobs=${KAFKA_INSTANCE_TEST_JOBS:-4}
if [ "$test_jobs" -gt 1 ] && [[ " $* " != *" -- "* ]]; then
  scripts/run-tests.sh "$test_jobs" "$log" "$@"
  status=$?
else
  cargo test --no-fail-fast "$@" 2>&1 | tee "$log"
  status=${PIPESTATUS[0]}
fi
say "tests: $((SECONDS - started))s"
if [ -n "$tansu_install" ]; then
  wait "$tansu_install" ||
    say "could not install tansu (target/tansu-install.log); the tests that need it are listed as not run"
  say "tansu ready: ${SECONDS}s after the start"
fi

# One total: every "test result" line, and the binaries that failed.
awk '
  /^     Running / { bin = $2 }
  /^error: test failed, to rerun pass .* exited with status/ {
    # A binary that ended without its total (a crash): named here.
    if ($NF != 101) { crashed++; bad = bad "\n  " $(NF - 4) " (exited with status " $NF ")" }
  }
  /^test result:/ {
    for (i = 1; i <= NF; i++) {
      if ($(i + 1) ~ /^passed;?$/) passed += $i
      if ($(i + 1) ~ /^failed;?$/) { failed += $i; if ($i > 0) bad = bad "\n  " bin }
      if ($(i + 1) ~ /^ignored;?$/) ignored += $i
    }
  }
  END {
    printf "\n==> %d passed, %d failed, %d ignored", passed, failed, ignored
    if (crashed > 0) printf ", %d test binaries ended without a total", crashed
    if (bad != "") printf "; failing test binaries:%s", bad
    printf "\n"
  }' "$log"
if [ -s "$not_run" ]; then
  echo "==> not run here (these tests, or these parts of them, could not do their work here):"
  # Each once: several tests may record the same part (a shared helper
  # records it for each test that calls it). First seen first, so that a
  # reason of several lines stays together.
  awk '!seen[$0]++ { print "  " $0 }' "$not_run"
fi
if [ "$status" -ne 0 ] && ! grep -q '^test result: FAILED' "$log"; then
  echo "==> cargo test failed before running every test (a build error?): see $log"
fi
exit "$status"
