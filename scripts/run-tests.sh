#!/usr/bin/env bash
# Runs the test binaries cargo built, several at a time, the way `cargo
# test --no-fail-fast` runs them one after another: from the repository's
# root, each binary's output kept together, in cargo's format (a `Running`
# line, then the binary's own output), so that scripts/test.sh's total reads
# it unchanged. Most tests wait (for a broker, a timeout, a rebalance), so
# binaries side by side take a fraction of the time on 2 cores.
#
#   scripts/run-tests.sh JOBS LOG CARGO_ARGS...
#
# JOBS binaries at a time: the binaries that rebuild the library in place
# (pip's build of the Python package, `cargo build --lib`, the examples'
# install) one after another in a lane of their own, the others in the
# remaining JOBS - 1 lanes.
# Output goes to stdout and LOG. Exit status: 0 when every binary passed.
set -uo pipefail
cd "$(dirname "$0")/.."

jobs=$1 log=$2
shift 2
logs=target/test-logs
rm -rf "$logs" && mkdir -p "$logs"
: >"$log"

# The binaries of this build, from cargo: kind, name, source, executable.
cargo test --no-run --message-format=json "$@" 2>/dev/null | python3 -c '
import json, sys
for line in sys.stdin:
    try:
        m = json.loads(line)
    except ValueError:
        continue
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["profile"]["test"]:
        t = m["target"]
        print(t["kind"][0], t["name"], t["src_path"], m["executable"], sep="\t")
' >"$logs/plan"
built=${PIPESTATUS[0]}
if [ "$built" -ne 0 ] || [ ! -s "$logs/plan" ]; then
  # A binary that did not build fails the run, with the compiler's words.
  echo "run-tests.sh: the test build failed:" | tee -a "$log"
  cargo test --no-run "$@" 2>&1 | tee -a "$log"
  exit 101
fi

# One binary: its `Running` line and output into its own file, then the
# whole file at once onto stdout and LOG (under a lock: no interleaving).
run_one() {
  local name=$2 src=$3 exe=$4 out="$logs/$2.out" started=$SECONDS status
  local shown=${src#"$PWD/"}
  [ "$shown" = src/lib.rs ] && shown="unittests $shown"
  local args=()
  case $name in
    # Nine tests that spend their time waiting (for a killed process's
    # session to expire, a leader to move): four at a time, not two (all
    # nine at once, against a slow broker, left too little time for the
    # group handover of a killed consumer).
    delivery_guarantees) args=(--test-threads=4) ;;
  esac
  {
    echo "     Running $shown (${exe#"$PWD/"})"
    "$exe" "${args[@]}" 2>&1
  } >"$out"
  status=$?
  if [ "$status" -ne 0 ]; then
    # As cargo says it, and for a crash (no `test result` line) the only
    # trace: scripts/test.sh's total names the binary from this line.
    echo "error: test failed, to rerun pass \`--test $name\`: $shown exited with status $status" >>"$out"
  fi
  echo "$status" >"$logs/$name.status"
  {
    flock 9
    cat "$out" | tee -a "$log"
    echo "run-tests.sh: $name: $((SECONDS - started))s" >&2
  } 9>>"$logs/lock"
  return 0
}
export -f run_one
export logs log
export CARGO="${CARGO:-$(command -v cargo)}" CARGO_MANIFEST_DIR="$PWD"

# The libraries the tests build C programs against, set aside now: the
# binaries that rebuild the library in place (pip's build of the Python
# package, `cargo build --lib`, the examples' install) run beside the
# others, one after another in a lane of their own, and would otherwise
# hand a test a library half written (tests/common/cbuild.rs, lib_dir).
deps=$(dirname "$(awk -F'\t' 'NR == 1 { print $4 }' "$logs/plan")")
set_aside="$PWD/target/test-libs"
rm -rf "$set_aside" && mkdir -p "$set_aside"
if cp "$deps/libkafka_instance.so" "$deps/libkafka_instance.a" "$set_aside/"; then
  export KAFKA_INSTANCE_TEST_LIBS="$set_aside"
else
  echo "run-tests.sh: no library in $deps to set aside; the tests take cargo's" >&2
fi

rebuilders='^(bindings|install|examples)$'
awk -F'\t' -v r="$rebuilders" '$2 ~ r' "$logs/plan" |
  tr '\t' '\n' | xargs -d '\n' -r -n 4 -P 1 bash -c 'run_one "$@"' _ &
lane=$!
# The longest first (the ones that take a minute or more here), so that no
# lane is left with one at the end.
longest=' delivery_guarantees properties group_churn consumer consumer_control consumer_seek c_programs security interop '
awk -F'\t' -v r="$rebuilders" -v longest="$longest" '
  $2 !~ r { print (index(longest, " " $2 " ") ? 0 : 1) "\t" NR "\t" $0 }' "$logs/plan" |
  sort -t$'\t' -k1,1n -k2,2n | cut -f3- |
  tr '\t' '\n' | xargs -d '\n' -r -n 4 -P "$((jobs > 2 ? jobs - 1 : 1))" bash -c 'run_one "$@"' _
wait "$lane"

# The documentation's examples, as cargo test runs them last (a run of
# the whole suite only: cargo takes no --doc beside --test).
status=0
if [ $# -eq 0 ]; then
  { echo "   Doc-tests kafka_instance"; cargo test --doc 2>&1; } | tee -a "$log"
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=101
fi
while IFS=$'\t' read -r _ name _ _; do
  s=$(cat "$logs/$name.status" 2>/dev/null || echo 101)
  [ "$s" -eq 0 ] || status=101
done <"$logs/plan"
exit "$status"
