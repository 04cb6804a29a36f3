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
#   (default: a b d d2; --quick: a d with shorter runs and fewer points,
#    about a minute)
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
    a|b|d|d2) cases+=("$a") ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    *) echo "scripts/bench.sh: unknown case or option '$a' (cases: a b d d2; --quick)" >&2; exit 2 ;;
  esac
done
if [ ${#cases[@]} -eq 0 ]; then
  if [ $quick -eq 1 ]; then cases=(a d); else cases=(a b d d2); fi
fi
cpus=$(nproc)
for c in "${cases[@]}"; do
  if { [ "$c" = b ] || [ "$c" = d2 ]; } && [ "$cpus" -lt 2 ]; then
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
lcores_of() { case "$1" in a|d) echo 0 ;; b|d2) echo 0,1 ;; esac; }
stack_of() { case "$1" in a|b) echo synack ;; d|d2) echo kernel ;; esac; }

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
  /usr/bin/python3 - "$out/runs/$name.json" "$name" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
lat = r["latency_ns"]
print(f"  {sys.argv[2]:<28} {r['requests_per_s']:>12,.0f} req/s {r['goodput_gbit_s']:>8.3f} Gbit/s"
      f"  p50 {lat['p50']/1e3:>9.1f} us  p99 {lat['p99']/1e3:>9.1f} us  {r['cycles_per_request']:>9.0f} cycles/req")
PY
}

started=$(date +%s)
echo "synack bench: cases ${cases[*]}, $secs s per run after $warm s of warm-up, results in $out"
peak=()
for c in "${cases[@]}"; do
  echo "case $c ($(stack_of "$c"), lcores $(lcores_of "$c"))"
  for n in "${conns[@]}"; do
    max=$(( n > 16384 ? n : 16384 ))
    mbufs=$(( n > 16384 ? 4 * n : 65535 ))
    run "$c-rps-$n" "$c" --workload rps --connections "$n" --max-connections "$max" --mbufs "$mbufs"
  done
  run "$c-cps" "$c" --workload cps --connections 64 --close-first server
  for n in "${bulk_conns[@]}"; do
    run "$c-bulk-$n" "$c" --workload bulk --connections "$n"
  done
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
