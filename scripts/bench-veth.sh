#!/usr/bin/env bash
# Measures synack against the Linux kernel over the same veth pair, in one
# run: 64-byte echo requests/s with 1 and 64 connections, and 100 MiB each
# way. The client is the kernel in a network namespace (tests/bench/load.py);
# the server is synack-bench on the AF_PACKET end, then the Linux kernel
# itself on that end (tests/bench/linux_server.cpp). Servers on CPU 1,
# client on CPU 0. Prints a table, then JSON. Needs root; removes what it
# makes however it ends.
# Usage: scripts/bench-veth.sh [SECONDS_PER_RR_RUN]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
secs=${1:-3}
[ -f build/build.ninja ] || meson setup build --werror
meson compile -C build synack-bench linux-server >/dev/null

id=$$
ns=synack-bench-$id
host_if=sbench${id}a
peer_if=sbench${id}b
net=10.$((id % 200 + 20)).9
server=
cleanup() {
  [ -z "$server" ] || { kill -TERM "$server" 2>/dev/null; wait "$server" 2>/dev/null || true; }
  ip link del "$host_if" 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
}
trap cleanup EXIT
ip netns add "$ns"
ip link add "$host_if" type veth peer name "$peer_if"
ip link set "$peer_if" netns "$ns"
ip link set "$host_if" up
ip -n "$ns" link set lo up
ip -n "$ns" link set "$peer_if" up
ip -n "$ns" addr add "$net.1/24" dev "$peer_if"
ethtool -K "$host_if" tx off >/dev/null 2>&1 || true
ip netns exec "$ns" ethtool -K "$peer_if" tx off >/dev/null 2>&1 || true

load() { ip netns exec "$ns" taskset -c 0 /usr/bin/python3 tests/bench/load.py "$@"; }
field() { /usr/bin/python3 -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$@"; }
mib100=$((100 << 20))

start_synack() { # MODE [ARGS...]
  log=$(mktemp)
  build/app/synack-bench/synack-bench -l 1 --no-pci --no-huge --no-shconf --no-telemetry -m 1024 \
    --log-level=lib.*:error --vdev="net_af_packet0,iface=$host_if" \
    -- server --ip "$net.2/24" --listen 5001 --mode "$@" >"$log" 2>&1 &
  server=$!
  for _ in $(seq 100); do grep -q listening "$log" && return; sleep 0.1; done
  cat "$log"; exit 1
}
start_linux() { # MODE [BYTES]
  log=$(mktemp)
  taskset -c 1 build/tests/bench/linux-server "$@" 5001 >"$log" 2>&1 &
  server=$!
  for _ in $(seq 100); do grep -q listening "$log" && return; sleep 0.1; done
  cat "$log"; exit 1
}
stop_server() { kill -TERM "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; server=; }

declare -A r
for who in synack linux; do
  if [ $who = linux ]; then ip addr add "$net.2/24" dev "$host_if"; fi
  if [ $who = synack ]; then start_synack echo; else start_linux echo; fi
  r[$who.rr1]=$(field "$(load rr "$net.2" 5001 1 "$secs")" requests_per_s)
  r[$who.rr64]=$(field "$(load rr "$net.2" 5001 64 "$secs")" requests_per_s)
  stop_server
  if [ $who = synack ]; then start_synack sink; else start_linux sink; fi
  r[$who.to_server]=$(field "$(load send "$net.2" 5001 $mib100)" seconds)
  stop_server
  if [ $who = synack ]; then start_synack source --bytes $mib100; else
    log=$(mktemp); taskset -c 1 build/tests/bench/linux-server source 5001 $mib100 >"$log" 2>&1 & server=$!; sleep 0.5; fi
  r[$who.from_server]=$(field "$(load receive "$net.2" 5001 $mib100)" seconds)
  stop_server
done

/usr/bin/python3 - "${r[synack.rr1]}" "${r[synack.rr64]}" "${r[synack.to_server]}" "${r[synack.from_server]}" \
  "${r[linux.rr1]}" "${r[linux.rr64]}" "${r[linux.to_server]}" "${r[linux.from_server]}" <<'PY'
import json, sys
v = [float(x) for x in sys.argv[1:]]
s = dict(zip(["rr1", "rr64", "to_server_s", "from_server_s"], v[:4]))
l = dict(zip(["rr1", "rr64", "to_server_s", "from_server_s"], v[4:]))
print(f"{'measure':<34} {'synack':>12} {'linux':>12} {'synack/linux':>13}")
print(f"{'echo requests/s, 1 connection':<34} {s['rr1']:>12.0f} {l['rr1']:>12.0f} {s['rr1'] / l['rr1']:>13.2f}")
print(f"{'echo requests/s, 64 connections':<34} {s['rr64']:>12.0f} {l['rr64']:>12.0f} {s['rr64'] / l['rr64']:>13.2f}")
print(f"{'100 MiB client -> server, s':<34} {s['to_server_s']:>12.3f} {l['to_server_s']:>12.3f} {l['to_server_s'] / s['to_server_s']:>13.2f}")
print(f"{'100 MiB server -> client, s':<34} {s['from_server_s']:>12.3f} {l['from_server_s']:>12.3f} {l['from_server_s'] / s['from_server_s']:>13.2f}")
print("(for the transfers, synack/linux is the speed ratio: linux time / synack time)")
print(json.dumps({"synack": s, "linux": l}))
PY
