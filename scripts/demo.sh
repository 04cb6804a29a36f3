#!/usr/bin/env bash
# The main job, on a machine with no spare NIC. Until the server lands this
# shows what synack finds: its version, the DPDK poll-mode drivers installed,
# and the ports EAL brings up — an AF_PACKET port on a veth pair whose other
# end sits in a network namespace made here (and removed on exit), and a null
# port. Safe to run again.
# Usage: scripts/demo.sh        (as root: it creates a namespace and a veth pair)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

[ "${SYNACK_SKIP_SETUP:-0}" = 1 ] || scripts/setup.sh
[ -f build/build.ninja ] || meson setup build --werror
meson compile -C build synack-info >/dev/null

pmds=$(find /usr/lib/*/dpdk -name 'librte_net_*.so' -printf '%f\n' 2>/dev/null |
  sed 's/^librte_net_//; s/\.so$//' | sort | tr '\n' ' ')
echo "DPDK net PMDs installed: $pmds"

# Unique names per run; cleaned up however the script ends.
id=$$
ns=synack-demo-$id
host_if=sdemo${id}a
peer_if=sdemo${id}b
cleanup() {
  ip link del "$host_if" 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
}
trap cleanup EXIT

ip netns add "$ns"
ip link add "$host_if" type veth peer name "$peer_if"
ip link set "$peer_if" netns "$ns"
ip link set "$host_if" up
ip -n "$ns" link set "$peer_if" up
ethtool -K "$host_if" tx off >/dev/null 2>&1 || true

# --no-pci: never take the machine's own NIC.
build/app/synack-info/synack-info --no-pci --no-huge --no-shconf --no-telemetry -m 64 \
  --log-level=lib.*:warning \
  --vdev="net_af_packet0,iface=$host_if" --vdev=net_null0
