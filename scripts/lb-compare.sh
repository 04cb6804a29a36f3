#!/usr/bin/env bash
# synack-lb against HAProxy (mode tcp) in one topology, one run: connections/s
# and the time for 100 MiB each way (bench/lb_compare.py). Installs HAProxy
# from Debian when missing; needs root (network namespaces).
# Usage: scripts/lb-compare.sh [CONNECTIONS]   (default 3000)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
if ! command -v haproxy >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends haproxy >/dev/null
fi
[ -f build/build.ninja ] || meson setup build --werror >/dev/null
meson compile -C build synack-lb >/dev/null
exec /usr/bin/python3 bench/lb_compare.py build/app/synack-lb/synack-lb "${1:-3000}"
