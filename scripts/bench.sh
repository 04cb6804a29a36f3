#!/usr/bin/env bash
# The benchmark matrix: synack against the Linux kernel, the same workload
# code on both (synack-bench --stack kernel), in one run, so every figure
# stands next to the kernel's as a ratio measured minutes apart at most.
#
# Usage: scripts/bench.sh [--quick] [CASE...]
#   CASE  a: synack client and server in one process, one lcore, joined by
#            net_ring ports (pair)
#         b: the same on two lcores
#         d: the kernel: client and server over loopback on one core
#            (pair --stack kernel)
#         d2: the same on two cores
#         cm: synack client and synack server, two processes (one core
#             each) over memif; cv: the same over virtio-user talking to a
#             vhost-user port (both need hugepages: scripts/setup.sh)
#         e: a Linux client (synack-bench --stack kernel, in a network
#            namespace, CPU 0) to a synack server on the AF_PACKET end of a
#            veth pair (CPU 1); el: the same client to a Linux server on
#            that end (--stack kernel): the comparison on the same path
#         f: the ceiling: dpdk-testpmd forwarding 64-byte frames (io mode,
#            one forwarding core) over the PMDs of a (net_ring) and, with
#            hugepages, of cm and cv (two processes)
#   (default: a b d d2 cm cv e el f; --quick: a d cm e el f with shorter
#    runs and fewer points, about two minutes; e and el need root)
# Workloads per case: 64-byte requests/s at 1, 64, 1,024, 16,384 and
# 100,000 connections; connections/s (one 64-byte request and answer, the
# server closes first); bulk goodput over 1 and 64 connections; and for a
# and d an open-loop sweep of offered load (latency percentiles up to
# saturation).
# Writes bench/results/<UTC date-time>/: runs/*.json (one synack-bench JSON
# per run), summary.json (every figure and every ratio), table.md, and PNG
# plots (bench/report.py, matplotlib). Needs root only for more than 20,000
# descriptors in the kernel cases (it raises the limit itself).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

quick=0
cases=()
for a in "$@"; do
  case "$a" in
    --quick) quick=1 ;;
    a|b|d|d2|cm|cv|e|el|f) cases+=("$a") ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    *) echo "scripts/bench.sh: unknown case or option '$a' (cases: a b d d2 cm cv e el f; --quick)" >&2; exit 2 ;;
  esac
done
if [ ${#cases[@]} -eq 0 ]; then
  if [ $quick -eq 1 ]; then cases=(a d cm e el f); else cases=(a b d d2 cm cv e el f); fi
fi
cpus=$(nproc)
free_pages=$(awk '/^HugePages_Free:/ {print $2}' /proc/meminfo)
for c in "${cases[@]}"; do
  if { [ "$c" = cm ] || [ "$c" = cv ]; } && [ "${free_pages:-0}" -lt 192 ]; then
    echo "scripts/bench.sh: case $c needs 192 free 2 MiB hugepages ($free_pages free): scripts/setup.sh reserves them" >&2
    exit 2
  fi
  if { [ "$c" = e ] || [ "$c" = el ]; } && [ "$(id -u)" -ne 0 ]; then
    echo "scripts/bench.sh: case $c makes a network namespace: run it as root" >&2
    exit 2
  fi
  if { [ "$c" = b ] || [ "$c" = d2 ] || [ "$c" = cm ] || [ "$c" = cv ] || [ "$c" = e ] || [ "$c" = el ]; } && [ "$cpus" -lt 2 ]; then
    echo "scripts/bench.sh: case $c needs two CPUs; this machine has $cpus" >&2
    exit 2
  fi
done

[ -f build/build.ninja ] || meson setup build --werror >/dev/null
meson compile -C build synack-bench >/dev/null
bench=build/app/synack-bench/synack-bench
if ! /usr/bin/python3 -c 'import matplotlib' 2>/dev/null; then
  echo "scripts/bench.sh: matplotlib is missing: scripts/setup.sh installs it (python3-matplotlib)" >&2
  exit 2
fi

if [ $quick -eq 1 ]; then
  secs=2; warm=0.5; conns=(1 64 1024); sweep=(0.25 0.5 1.0); bulk_conns=(1)
else
  secs=5; warm=1; conns=(1 64 1024 16384 100000); sweep=(0.1 0.25 0.5 0.75 0.9 1.0 1.2); bulk_conns=(1 64)
fi
out=bench/results/$(date -u +%Y-%m-%dT%H-%M-%SZ)
mkdir -p "$out/runs"

eal() { # lcores
  echo "-l $1 --no-pci --no-huge --no-shconf --no-telemetry -m 4096 --log-level=lib.*:error"
}
lcores_of() { case "$1" in a|d) echo 0 ;; b|d2|cm|cv|e|el) echo 0,1 ;; esac; }
stack_of() { case "$1" in a|b|cm|cv|e) echo synack ;; d|d2|el) echo kernel ;; esac; }

# Case e and el: one namespace and veth pair, made here and removed however
# the script ends. The server (synack on AF_PACKET, or Linux with the
# address on that end) on CPU 1; the Linux client in the namespace on CPU 0.
veth_ns=
veth_if=
veth_cleanup() {
  [ -z "$veth_if" ] || ip link del "$veth_if" 2>/dev/null || true
  [ -z "$veth_ns" ] || ip netns del "$veth_ns" 2>/dev/null || true
}
trap veth_cleanup EXIT
veth_setup() {
  [ -z "$veth_ns" ] || return 0
  veth_ns=synack-bench-$$
  veth_if=sbench$$a
  local peer=sbench$$b
  veth_net=198.18.$(( $$ % 200 + 20 ))
  ip netns add "$veth_ns"
  ip link add "$veth_if" type veth peer name "$peer"
  ip link set "$peer" netns "$veth_ns"
  ip link set "$veth_if" up
  ip -n "$veth_ns" link set lo up
  ip -n "$veth_ns" link set "$peer" up
  ip -n "$veth_ns" addr add "$veth_net.1/24" dev "$peer"
  # AF_PACKET would otherwise receive unfinished checksums.
  ethtool -K "$veth_if" tx off >/dev/null 2>&1 || true
  ip netns exec "$veth_ns" ethtool -K "$peer" tx off >/dev/null 2>&1 || true
}
veth_case() { # CASE: the workloads of e (synack server) or el (Linux server)
  local c=$1 server srvlog=$out/runs/$1.server.log
  veth_setup
  local listen="--listen 5001:echo 5002:rr 5003:sink --close-first server --max-connections 4096"
  if [ "$c" = e ]; then
    ip addr flush dev "$veth_if"
    # shellcheck disable=SC2086
    "$bench" -l 1 --no-pci --no-huge --no-shconf --no-telemetry -m 1024 --log-level=lib.*:error \
      "--vdev=net_af_packet0,iface=$veth_if" -- server --ip "$veth_net.2/24" $listen >"$srvlog" 2>&1 &
  else
    ip addr add "$veth_net.2/24" dev "$veth_if"
    # shellcheck disable=SC2086
    "$bench" -l 1 --no-pci --no-huge --no-shconf --no-telemetry -m 256 --log-level=lib.*:error \
      -- server --stack kernel --ip "$veth_net.2/24" $listen >"$srvlog" 2>&1 &
  fi
  server=$!
  for _ in $(seq 100); do grep -q listening "$srvlog" 2>/dev/null && break; sleep 0.1; done
  local n
  for n in 1 64; do
    veth_client "$c-rps-$n" 5001 --workload rps --connections "$n"
  done
  veth_client "$c-cps" 5002 --workload cps --connections 64 --close-first server
  veth_client "$c-bulk-1" 5003 --workload bulk --connections 1
  kill -INT "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  ip addr flush dev "$veth_if"
}
veth_client() { # NAME PORT ARGS...
  local name=$1 port=$2
  shift 2
  ip netns exec "$veth_ns" timeout 120 "$bench" -l 0 --no-pci --no-huge --no-shconf --no-telemetry -m 256 \
    --log-level=lib.*:error -- client --stack kernel --connect "$veth_net.2:$port" --warmup "$warm" \
    --duration "$secs" "$@" >"$out/runs/$name.log" 2>&1 || true
  if tail -n 1 "$out/runs/$name.log" | grep -q '^{'; then
    tail -n 1 "$out/runs/$name.log" >"$out/runs/$name.json"
    show "$name"
  else
    echo "  $name: synack-bench failed (see $out/runs/$name.log)" >&2
  fi
}

# Case c: a synack-bench server on lcore 1 and a client on lcore 0, two
# processes joined by a virtual PMD, each with hugepages of its own prefix.
# The server answers echo on 5001 and rr on 5002 (closing after its answer:
# connections/s), and sinks on 5003.
two_process() { # CASE NAME ARGS...
  local c=$1 name=$2
  shift 2
  local tag=synack-bench-$$-$c sock server_vdev client_vdev client_extra=""
  sock=/tmp/$tag.sock
  if [ "$c" = cm ]; then
    server_vdev="net_memif0,role=server,socket=$sock"; client_vdev="net_memif0,role=client,socket=$sock"
  else
    server_vdev="net_vhost0,iface=$sock,queues=1"; client_vdev="net_virtio_user0,path=$sock,queues=1"
    client_extra=--single-file-segments
  fi
  local common="--no-pci -m 160 --log-level=lib.*:error"
  # shellcheck disable=SC2086
  "$bench" -l 1 $common --file-prefix "$tag-s" "--vdev=$server_vdev" -- server --ip 198.18.9.2/24 \
    --listen 5001:echo 5002:rr 5003:sink --close-first server --mbufs 16384 --max-connections 2048 \
    >"$out/runs/$name.server.log" 2>&1 &
  local server=$!
  for _ in $(seq 100); do grep -q listening "$out/runs/$name.server.log" 2>/dev/null && break; sleep 0.1; done
  local log=$out/runs/$name.log
  # shellcheck disable=SC2086
  timeout 120 "$bench" -l 0 $common $client_extra --file-prefix "$tag-c" "--vdev=$client_vdev" -- client \
    --ip 198.18.9.1/24 --mbufs 16384 --max-connections 2048 --warmup "$warm" --duration "$secs" "$@" >"$log" 2>&1 || true
  kill -INT "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  rm -f /dev/hugepages/"$tag"-* "$sock"
  rm -rf /var/run/dpdk/"$tag"-s /var/run/dpdk/"$tag"-c
  if tail -n 1 "$log" | grep -q '^{'; then
    tail -n 1 "$log" >"$out/runs/$name.json"
    show "$name"
  else
    echo "  $name: synack-bench failed (see $log)" >&2
  fi
}

# run NAME CASE ARGS...: one synack-bench pair run; its JSON to runs/NAME.json.
run() {
  local name=$1 c=$2
  shift 2
  local log=$out/runs/$name.log
  # shellcheck disable=SC2046
  if ! timeout 120 "$bench" $(eal "$(lcores_of "$c")") -- pair --stack "$(stack_of "$c")" \
      --warmup "$warm" --duration "$secs" "$@" >"$log" 2>&1; then
    echo "  $name: synack-bench failed (see $log)" >&2
    return 0
  fi
  tail -n 1 "$log" >"$out/runs/$name.json"
  show "$name"
}

show() { # NAME: one line of figures from runs/NAME.json
  /usr/bin/python3 - "$out/runs/$1.json" "$1" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
lat = r["latency_ns"]
print(f"  {sys.argv[2]:<28} {r['requests_per_s']:>12,.0f} req/s {r['goodput_gbit_s']:>8.3f} Gbit/s"
      f"  p50 {lat['p50']/1e3:>9.1f} us  p99 {lat['p99']/1e3:>9.1f} us  {r['cycles_per_request']:>9.0f} cycles/req")
PY
}

# Case f: testpmd's io forwarding of 64-byte frames, first sent by
# --tx-first, on one forwarding lcore. net_ring: two ports in one process,
# each looping back into itself. memif, vhost: two processes, the second
# sends first; each forwards what it gets back to the other.
testpmd_ceiling() { # PMD
  local pmd=$1 name=f-$1 tag=synack-bench-$$-tp-$1
  local opts="--forward-mode=io --stats-period 1 --nb-cores=1 --total-num-mbufs=16384 --record-core-cycles"
  local log=$out/runs/$name.log
  if [ "$pmd" = ring ]; then
    # shellcheck disable=SC2086
    timeout -s INT $((secs + 2)) dpdk-testpmd -l 0,1 --no-pci --no-huge --no-shconf -m 512 \
      --vdev=net_ring0 --vdev=net_ring1 --log-level=lib.*:error -- $opts --tx-first >"$log" 2>&1 || true
  else
    local sock=/tmp/$tag.sock first second extra=""
    if [ "$pmd" = memif ]; then
      first="net_memif0,role=server,socket=$sock"; second="net_memif0,role=client,socket=$sock"
    else
      first="net_vhost0,iface=$sock,queues=1"; second="net_virtio_user0,path=$sock,queues=1"; extra=--single-file-segments
    fi
    # shellcheck disable=SC2086
    timeout -s INT $((secs + 3)) dpdk-testpmd -l 0,1 --main-lcore 0 --no-pci --file-prefix "$tag-1" -m 160 \
      "--vdev=$first" --log-level=lib.*:error -- $opts >"$out/runs/$name.first.log" 2>&1 &
    local one=$!
    sleep 1
    # shellcheck disable=SC2086
    timeout -s INT $((secs + 2)) dpdk-testpmd -l 0,1 --main-lcore 1 --no-pci --file-prefix "$tag-2" -m 160 $extra \
      "--vdev=$second" --log-level=lib.*:error -- $opts --tx-first >"$log" 2>&1 || true
    wait "$one" 2>/dev/null || true # (testpmd's memif may crash as its peer leaves: the figures are in already)
    rm -f /dev/hugepages/"$tag"-* "$sock"
    rm -rf /var/run/dpdk/"$tag"-1 /var/run/dpdk/"$tag"-2
  fi
  if /usr/bin/python3 bench/testpmd_stats.py "$log" >"$out/runs/$name.ceiling.json"; then
    /usr/bin/python3 -c 'import json, sys; r = json.load(open(sys.argv[1]))
print("  {:<28} {:>12,} packets/s  {} cycles/packet".format(sys.argv[2], r["rx_pps"], r["cycles_per_packet"]))' \
      "$out/runs/$name.ceiling.json" "$name"
  else
    echo "  $name: testpmd gave no figures (see $log)" >&2
    rm -f "$out/runs/$name.ceiling.json"
  fi
}

# Case a's instructions per request: valgrind --tool=callgrind on a fixed
# count of requests, counted over the measured phase only (synack-bench
# zeroes and dumps callgrind's counts there): the figure to compare between
# commits, where timings are too noisy.
instructions() {
  local n=$1 name=a-callgrind
  if ! command -v valgrind >/dev/null; then
    echo "  $name: valgrind is not installed; skipped" >&2
    return 0
  fi
  local cg=$out/runs/$name.out
  # shellcheck disable=SC2046
  timeout 600 valgrind --tool=callgrind --callgrind-out-file="$cg" "$bench" $(eal 0) -- pair --workload rps \
    --connections 64 --count "$n" --warmup 0.5 --duration 600 --mbufs 8192 >"$out/runs/$name.log" 2>&1 || true
  /usr/bin/python3 - "$cg.1" "$out/runs/$name.log" "$out/runs/$name.callgrind.json" <<'PY' || true
import json, re, sys
dump, log, dest = sys.argv[1:4]
ir = int(re.search(r"^summary: (\d+)", open(dump).read(), re.M).group(1))
run = json.loads([l for l in open(log) if l.startswith("{")][-1])
if run["requests"] == 0:
    sys.exit(f"  a-callgrind: no request was measured (see {log})")
out = {"instructions": ir, "requests": run["requests"], "instructions_per_request": ir / run["requests"]}
json.dump(out, open(dest, "w"))
print(f"  a-callgrind                  {out['instructions_per_request']:>12,.0f} instructions/request "
      f"(both engines and the workload, 64 connections, {out['requests']} requests)")
PY
  rm -f "$cg" "$cg".*
}

started=$(date +%s)
echo "synack bench: cases ${cases[*]}, $secs s per run after $warm s of warm-up, results in $out"
peak=()
for c in "${cases[@]}"; do
  if [ "$c" = f ]; then
    echo "case f (dpdk-testpmd, io forwarding of 64-byte frames, one forwarding core)"
    testpmd_ceiling ring
    if [ "${free_pages:-0}" -ge 192 ] && [ "$cpus" -ge 2 ]; then
      testpmd_ceiling memif
      [ $quick -eq 1 ] || testpmd_ceiling vhost
    fi
    continue
  fi
  echo "case $c ($(stack_of "$c") server, lcores $(lcores_of "$c"))"
  if [ "$c" = e ] || [ "$c" = el ]; then
    veth_case "$c"
    continue
  fi
  if [ "$c" = cm ] || [ "$c" = cv ]; then
    for n in "${conns[@]}"; do
      [ "$n" -le 1024 ] || continue # one server port: the client's ephemeral range
      two_process "$c" "$c-rps-$n" --connect 198.18.9.2:5001 --workload rps --connections "$n"
    done
    two_process "$c" "$c-cps" --connect 198.18.9.2:5002 --workload cps --connections 64 --close-first server
    two_process "$c" "$c-bulk-1" --connect 198.18.9.2:5003 --workload bulk --connections 1
    continue
  fi
  for n in "${conns[@]}"; do
    max=$(( n > 16384 ? n : 16384 ))
    mbufs=$(( n > 16384 ? 4 * n : 65535 ))
    run "$c-rps-$n" "$c" --workload rps --connections "$n" --max-connections "$max" --mbufs "$mbufs"
  done
  run "$c-cps" "$c" --workload cps --connections 64 --close-first server
  for n in "${bulk_conns[@]}"; do
    run "$c-bulk-$n" "$c" --workload bulk --connections "$n"
  done
  if [ "$c" = a ]; then
    instructions $((quick ? 5000 : 20000))
  fi
  if [ "$c" = a ] || [ "$c" = d ]; then
    # Open loop at fractions of this case's closed-loop rate at 64 connections.
    ref=$out/runs/$c-rps-64.json
    if [ -f "$ref" ]; then
      top=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["requests_per_s"])' "$ref")
      for f in "${sweep[@]}"; do
        rate=$(/usr/bin/python3 -c "print(max(1000, int($top * $f)))")
        run "$c-open-$f" "$c" --workload rps --connections 64 --rate "$rate"
      done
    fi
  fi
done
/usr/bin/python3 bench/report.py "$out"
echo "bench: $(( $(date +%s) - started )) s; results in $out"
