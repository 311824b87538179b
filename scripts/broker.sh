#!/usr/bin/env bash
# A real Kafka-compatible broker for tests: tansu (crates.io, Apache-2.0),
# in memory, on a free loopback port.
#
#   scripts/broker.sh install  install tansu if missing
#   scripts/broker.sh start    install tansu if missing, start it, wait until
#                              it answers, print KAFKA_BOOTSTRAP_SERVERS=...
#   scripts/broker.sh env      print KAFKA_BOOTSTRAP_SERVERS=... for the running one
#   scripts/broker.sh stop     stop the broker this script started (by its pid)
#
# The first install builds tansu from source (about 8 minutes on 2 cores)
# into cargo's bin directory; later runs reuse it.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
state="$root/target/broker"
version=0.6.0
tansu="${CARGO_HOME:-$HOME/.cargo}/bin/tansu"

# libsql: persistent storage, so that tests/security.rs can create SCRAM
# users with authentication off and log in as them after a restart with it
# on. A marker records the features a tansu was built with.
features=dynostore,libsql
marker="${CARGO_HOME:-$HOME/.cargo}/bin/.tansu-features"

installed() {
  [ -x "$tansu" ] && "$tansu" --version 2>/dev/null | grep -q "$version" &&
    [ "$(cat "$marker" 2>/dev/null)" = "$version $features" ]
}

install_tansu() {
  installed && return 0
  # One install at a time: scripts/test.sh starts one in the background,
  # and a test that needs the broker meanwhile waits for it here.
  mkdir -p "$root/target"
  exec 8>"$root/target/tansu-install.lock"
  flock 8
  if ! installed; then
    echo "broker.sh: installing tansu $version with $features (first run only, ~8 minutes on 2 cores)" >&2
    # At opt-level 1: half the build time of the default 3 (8 minutes
    # instead of 15 on 2 cores), and fast enough for a test broker.
    CARGO_PROFILE_RELEASE_OPT_LEVEL=1 \
      cargo install tansu --locked --version "$version" --features "$features" >&2
    echo "$version $features" > "$marker"
  fi
  flock -u 8
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start() {
  if [ -f "$state/pid" ] && kill -0 "$(cat "$state/pid")" 2>/dev/null; then
    echo "KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:$(cat "$state/port")"
    return 0
  fi
  install_tansu
  mkdir -p "$state"
  local port
  port=$(free_port)
  "$tansu" broker \
    --listener-url "tcp://127.0.0.1:$port" \
    --advertised-listener-url "tcp://127.0.0.1:$port" \
    --storage-engine "memory://tansu/" >"$state/tansu.log" 2>&1 &
  echo $! >"$state/pid"
  echo "$port" >"$state/port"
  for _ in $(seq 1 100); do
    if answers "$port"; then
      echo "KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:$port"
      return 0
    fi
    kill -0 "$(cat "$state/pid")" 2>/dev/null || break
    sleep 0.1
  done
  echo "broker.sh: tansu did not start; its log:" >&2
  cat "$state/tansu.log" >&2
  stop
  return 1
}

stop() {
  if [ -f "$state/pid" ]; then
    kill "$(cat "$state/pid")" 2>/dev/null || true
    rm -f "$state/pid" "$state/port"
  fi
}

case "${1:-}" in
  install) install_tansu ;;
  start) start ;;
  stop) stop ;;
  env) [ -f "$state/port" ] && echo "KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:$(cat "$state/port")" ;;
  *) echo "usage: scripts/broker.sh install|start|env|stop" >&2; exit 2 ;;
esac
