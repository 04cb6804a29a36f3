#!/usr/bin/env bash
# The main job, on a machine with no spare NIC: synack-bench serves echo on
# an AF_PACKET port bound to one end of a veth pair; the other end sits in a
# network namespace made here, where the Linux kernel pings it and talks TCP
# to it (scripts/demo_client.py). Then a side-by-side on this machine's
# first core: 64-byte requests over 64 connections, about 10 s each, synack
# (client and server engines in one process, joined by net_ring ports)
# against Linux (the same workload code over sockets on loopback); both
# figures, the ratio, and a plot (bench/report.py). Everything made here is
# removed on exit, however it ends. Safe to run again.
# Usage: scripts/demo.sh        (as root: it creates a namespace and a veth pair)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

[ "${SYNACK_SKIP_SETUP:-0}" = 1 ] || scripts/setup.sh
[ -f build/build.ninja ] || meson setup build --werror
meson compile -C build synack-bench >/dev/null

# Unique names per run; cleaned up however the script ends.
id=$$
ns=synack-demo-$id
host_if=sdemo${id}a
peer_if=sdemo${id}b
server=
cleanup() {
  if [ -n "$server" ]; then
    kill -INT "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
  ip link del "$host_if" 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
}
trap cleanup EXIT

net=10.$((id % 200 + 20)).0
ip netns add "$ns"
ip link add "$host_if" type veth peer name "$peer_if"
ip link set "$peer_if" netns "$ns"
ip link set "$host_if" up
ip -n "$ns" link set "$peer_if" up
ip -n "$ns" addr add "$net.1/24" dev "$peer_if"
# The kernel would otherwise hand AF_PACKET frames with unfinished checksums.
ethtool -K "$host_if" tx off >/dev/null 2>&1 || true
ip netns exec "$ns" ethtool -K "$peer_if" tx off >/dev/null 2>&1 || true

# --no-pci: never take the machine's own NIC.
log=$(mktemp)
build/app/synack-bench/synack-bench -l 0 --no-pci --no-huge --no-shconf --no-telemetry -m 512 \
  --log-level=lib.*:error --vdev="net_af_packet0,iface=$host_if" \
  -- server --mode echo --ip "$net.2/24" --listen 5001 >"$log" 2>&1 &
server=$!
for _ in $(seq 50); do grep -q listening "$log" && break; sleep 0.1; done
# Its start-up lines (port, capture, listening), then the rest after the client.
started=$(grep -n -m1 listening "$log" | cut -d: -f1 || true)
started=${started:-1}
head -n "$started" "$log"
echo "Linux in namespace $ns ($net.1) -> synack ($net.2):"
status=0
ip netns exec "$ns" /usr/bin/python3 scripts/demo_client.py "$net.2" 5001 || status=$?
kill -INT "$server"
wait "$server" || status=$?
server=
echo "synack-bench's summary:"
tail -n +$((started + 1)) "$log"
rm -f "$log"
[ $status -eq 0 ] || exit $status

# The side-by-side: the same workload on one core, synack then Linux.
out=bench/results/demo-$(date -u +%Y-%m-%dT%H-%M-%SZ)
mkdir -p "$out/runs"
secs=${SYNACK_DEMO_SECONDS:-10}
echo
echo "Side by side on core 0: 64-byte requests, 64 connections, closed loop, $secs s each (1 s warm-up)"
for c in a d; do
  stack=synack; [ $c = a ] || stack=kernel
  build/app/synack-bench/synack-bench -l 0 --no-pci --no-huge --no-shconf --no-telemetry -m 1024 \
    --log-level=lib.*:error -- pair --stack $stack --workload rps --connections 64 --warmup 1 \
    --duration "$secs" >"$out/runs/$c-rps-64.log" 2>&1
  tail -n 1 "$out/runs/$c-rps-64.log" >"$out/runs/$c-rps-64.json"
done
/usr/bin/python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
s, k = (json.load(open(f"{out}/runs/{c}-rps-64.json")) for c in ("a", "d"))
for name, r in (("synack", s), ("Linux", k)):
    lat = r["latency_ns"]
    print(f"  {name:<7} {r['requests_per_s']:>10,.0f} requests/s  p50 {lat['p50']/1e3:8.1f} us  "
          f"p99 {lat['p99']/1e3:8.1f} us  {r['cycles_per_request']:8,.0f} cycles/request")
print(f"  synack/Linux: {s['requests_per_s'] / k['requests_per_s']:.2f}x")
PY
/usr/bin/python3 bench/report.py "$out" >/dev/null && echo "  plot: $out/rps_by_connections.png (scripts/bench.sh runs the whole matrix)"
