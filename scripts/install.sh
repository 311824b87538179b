#!/bin/sh
# Installs kafka_instance: the shared library with its soname links, the
# static library, both headers, a pkg-config file, the licenses,
# valgrind suppressions (share/kafka_instance/valgrind.supp, for
# rust-rdkafka's 216 bytes per client: see docs/performance.md, Memory),
# and the command bin/kafka-embedded-broker (the embedded broker, to run programs
# against; compiled here from examples-c/kafka_embedded_broker.c with $CC,
# default cc, against the installed library). The
# libraries are installed without their debug information (strip
# --strip-debug: the .so goes from about 60 MB to 10, the .a from 170 to
# 40; the symbol table, which the suppressions name, stays); --keep-debug
# installs them as built.
#
#   cargo build --release && scripts/install.sh --prefix /usr/local
#
# Options:
#   --prefix DIR   where to install (required)
#   --from DIR     where the built libraries are (default: target/release)
#   --destdir DIR  staging root prepended to every path (packaging)
#   --keep-debug   do not strip debug information
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
prefix=""
from="$root/target/release"
destdir=""
keep_debug=""
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) prefix=$2; shift 2 ;;
    --from) from=$2; shift 2 ;;
    --destdir) destdir=$2; shift 2 ;;
    --keep-debug) keep_debug=1; shift ;;
    *) echo "install.sh: unknown option $1 (see the comment at the top)" >&2; exit 2 ;;
  esac
done
[ -n "$prefix" ] || { echo "install.sh: --prefix is required" >&2; exit 2; }
for f in libkafka_instance.so libkafka_instance.a; do
  [ -f "$from/$f" ] || { echo "install.sh: $from/$f is missing: run cargo build --release first" >&2; exit 1; }
done

version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/Cargo.toml" | head -n 1)
major=${version%%.*}
lib="$destdir$prefix/lib"
inc="$destdir$prefix/include"
doc="$destdir$prefix/share/doc/kafka_instance"
share="$destdir$prefix/share/kafka_instance"
mkdir -p "$lib/pkgconfig" "$inc" "$doc" "$share"

install -m 755 "$from/libkafka_instance.so" "$lib/libkafka_instance.so.$version"
ln -sf "libkafka_instance.so.$version" "$lib/libkafka_instance.so.$major"
ln -sf "libkafka_instance.so.$major" "$lib/libkafka_instance.so"
install -m 644 "$from/libkafka_instance.a" "$lib/libkafka_instance.a"
if [ -z "$keep_debug" ]; then
  command -v strip >/dev/null || { echo "install.sh: strip (binutils) is needed, or --keep-debug" >&2; exit 1; }
  strip --strip-debug "$lib/libkafka_instance.so.$version" "$lib/libkafka_instance.a"
fi
cc=${CC:-cc}
command -v "${cc%% *}" >/dev/null || { echo "install.sh: a C compiler ($cc) is needed for bin/kafka-embedded-broker" >&2; exit 1; }
mkdir -p "$destdir$prefix/bin"
# shellcheck disable=SC2086 # $CC may carry flags
$cc -O2 -I "$root/include" "$root/examples-c/kafka_embedded_broker.c" \
  -o "$destdir$prefix/bin/kafka-embedded-broker" -L "$lib" -Wl,-rpath,"$prefix/lib" -lkafka_instance
install -m 644 "$root/include/kafka_instance.h" "$root/include/kafka_instance.hpp" "$inc/"
install -m 644 "$root/LICENSE-MIT" "$root/LICENSE-APACHE" "$root/CHANGELOG.md" "$doc/"
install -m 644 "$root/tests/valgrind/kafka_instance.supp" "$share/valgrind.supp"
sed -e "s|@PREFIX@|$prefix|" -e "s|@VERSION@|$version|" "$root/scripts/kafka_instance.pc.in" \
  > "$lib/pkgconfig/kafka_instance.pc"

echo "installed kafka_instance $version under $destdir$prefix"
