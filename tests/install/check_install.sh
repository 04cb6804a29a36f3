#!/usr/bin/env bash
# Installs the build into a scratch destdir and builds two tiny consumers
# outside the tree against the synack.pc it installed: one with meson, one
# with CMake (pkg_check_modules), as a load balancer embedding synack would.
# Usage: check_install.sh BUILD_DIR THIS_DIR
set -euo pipefail
build=$1
here=$2
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

meson install -C "$build" --no-rebuild --quiet --destdir "$scratch/root"
prefix=$(meson introspect "$build" --buildoptions |
  /usr/bin/python3 -c 'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"]=="prefix"))')
pc=$(find "$scratch/root" -name synack.pc | head -n 1)
[ -n "$pc" ] || { echo "no synack.pc installed"; exit 1; }
echo "installed: $pc"

# Only the public API and the headers it includes: no internals.
internal=$(find "$scratch/root" -path '*/include/synack/*' -name '*.hpp' |
  grep -E '/synack/(engine|tcp|net|runtime)/|/synack/wire/(arp|ipv4|ipv6|tcp|build|icmp|ethernet)' || true)
[ -z "$internal" ] || { echo "internal headers installed:"; echo "$internal"; exit 1; }
find "$scratch/root" -path '*/include/synack/api/stack.hpp' | grep -q . || { echo "api/stack.hpp not installed"; exit 1; }

# Relocate the installed tree: every path in synack.pc derives from prefix=.
grep -q '^libdir=${prefix}' "$pc" || { echo "synack.pc paths do not follow its prefix"; exit 1; }
sed -i "s|^prefix=.*|prefix=$scratch/root$prefix|" "$pc"
export PKG_CONFIG_PATH
PKG_CONFIG_PATH=$(dirname "$pc")${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
libdir=$(dirname "$(dirname "$pc")")
echo "pkg-config: $(pkg-config --modversion synack), libs: $(pkg-config --libs synack | cut -c1-80)..."

run_consumer() {
  LD_LIBRARY_PATH=$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} "$1"
}

# meson consumer
meson setup "$scratch/meson-build" "$here/consumer" >/dev/null
meson compile -C "$scratch/meson-build" >/dev/null
out=$(run_consumer "$scratch/meson-build/consumer")
echo "meson consumer: $out"
grep -q '^synack 0\.' <<<"$out"

# CMake consumer
cmake -S "$here/consumer" -B "$scratch/cmake-build" >/dev/null
cmake --build "$scratch/cmake-build" >/dev/null
out=$(run_consumer "$scratch/cmake-build/consumer")
echo "cmake consumer: $out"
grep -q '^synack 0\.' <<<"$out"
echo "prefix $prefix: install and consumers OK"
