#!/usr/bin/env bash
# Runs the libFuzzer targets of tests/fuzz with AddressSanitizer and
# UndefinedBehaviorSanitizer, each for a bounded time.
#
# Usage: scripts/fuzz.sh [TARGET] [SECONDS] [-- LIBFUZZER_FLAG...]
#   TARGET: ethernet, arp, ipv4, ipv6, icmpv4, tcp, stack, engine, or all (default).
#   SECONDS: per target (default 30), passed as -max_total_time.
#   LIBFUZZER_FLAG: passed on, e.g. -- -fork=2 -ignore_crashes=1 (go on past
#     a crash, on two cores), or -- -dict=FILE.
# Environment: SYNACK_FUZZ_BUILD: the build folder (default build-fuzz).
#   SYNACK_FUZZ_SKIP: for the engine target, checks of defects already
#   reported to leave out (tests/fuzz/README.md, "The engine target").
#
# Configures the build folder with clang and -Dfuzz=true if it is not already,
# builds, writes a seed corpus from tests/data/linux (the frames whole and cut
# at each layer, made by the target's own replay driver; for engine, each
# frame as a raw frame to an engine) and the tests/fuzz/corpus/<target>/seed-*
# files, then runs each target on that seed corpus plus its working corpus
# (kept in the build folder, so a second run starts where the first stopped).
# Prints one line per target: executions, corpus size, and whether it crashed.
#
# A crash (or a failed check, a leak, a timeout) is copied to
# tests/fuzz/corpus/<target>/, where the unit suite's fuzz-replay-<target>
# replays it in every build from then on, and a note of how to replay it is
# added to tests/fuzz/corpus/<target>/README.md. Exit status 1 when any
# target found something.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

all_targets=(ethernet arp ipv4 ipv6 icmpv4 tcp stack engine)
positional=()
extra=()
while [ $# -gt 0 ]; do
  if [ "$1" = -- ]; then
    shift
    extra=("$@")
    break
  fi
  positional+=("$1")
  shift
done
if [ ${#positional[@]} -gt 2 ]; then
  echo "usage: scripts/fuzz.sh [TARGET] [SECONDS] [-- LIBFUZZER_FLAG...]" >&2
  exit 2
fi
target=${positional[0]:-all}
seconds=${positional[1]:-30}

if [ "$target" = all ]; then
  targets=("${all_targets[@]}")
elif [[ " ${all_targets[*]} " == *" $target "* ]]; then
  targets=("$target")
else
  echo "unknown target '$target' (one of: ${all_targets[*]} all)" >&2
  exit 2
fi
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -eq 0 ]; then
  echo "SECONDS must be a positive whole number, not '$seconds'" >&2
  exit 2
fi

build=${SYNACK_FUZZ_BUILD:-build-fuzz}
if [ -f "$build/build.ninja" ]; then
  # A folder set up another way cannot be turned into this one in place (the
  # compiler is fixed at setup): say so rather than build something else.
  # -Dfuzz=true implies clang: tests/fuzz/meson.build refuses any other.
  fuzz=$(meson introspect "$build" --buildoptions | python3 -c '
import json, sys
print(any(o["name"] == "fuzz" and o["value"] is True for o in json.load(sys.stdin)))')
  if [ "$fuzz" != True ]; then
    echo "$build was not set up with clang and -Dfuzz=true; remove it or set SYNACK_FUZZ_BUILD" >&2
    exit 2
  fi
else
  CXX=clang++ meson setup "$build" -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false
fi
build_targets=()
for t in "${targets[@]}"; do
  build_targets+=("tests/fuzz/fuzz-$t" "tests/fuzz/fuzz-replay-$t")
done
meson compile -C "$build" "${build_targets[@]}"

# UBSan reports stop the run like a crash; ASan's leak check stays on.
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export ASAN_OPTIONS=detect_leaks=1

status=0
for t in "${targets[@]}"; do
  work="$build/fuzz/$t"
  seeds="$work/seeds"
  corpus="$work/corpus"
  artifacts="$work/artifacts"
  log="$work/last-run.log"
  rm -rf "$seeds" "$artifacts" "$work"/replay-*.log
  mkdir -p "$seeds" "$corpus" "$artifacts"
  "$build/tests/fuzz/fuzz-replay-$t" --write-seeds "$seeds" tests/data/linux >/dev/null

  saved=tests/fuzz/corpus/$t
  # Saved reproducers are not given to libFuzzer as corpus: one not yet fixed
  # would stop every run at its first input. fuzz-replay-$t runs them instead.
  # Seeds written for the purpose (seed-*, tests/fuzz/make_engine_corpus.py) are.
  for f in "$saved"/seed-*; do
    if [ -f "$f" ]; then
      cp "$f" "$seeds/"
    fi
  done
  # -timeout: no parser needs a second for one input, nor an engine run of a
  # few thousand steps; a slower one is a hang.
  rc=0
  "$build/tests/fuzz/fuzz-$t" -max_total_time="$seconds" -timeout=5 -print_final_stats=1 \
    -artifact_prefix="$artifacts/" "${extra[@]}" "$corpus" "$seeds" >"$log" 2>&1 || rc=$?

  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  if [ -z "$execs" ]; then
    # No final stats after a crash: the last status line ("#N ...") counts.
    execs=$(sed -n 's/^#\([0-9]\{1,\}\).*/\1/p' "$log" | tail -n 1)
  fi
  units=$(find "$corpus" -type f | wc -l)
  found=()
  for a in "$artifacts"/*; do
    if [ -f "$a" ]; then
      found+=("$a")
    fi
  done
  if [ "$rc" -eq 0 ] && [ ${#found[@]} -eq 0 ]; then
    printf '%-8s %11s execs in %ss, corpus %s inputs, nothing found\n' \
      "$t" "${execs:-?}" "$seconds" "$units"
    continue
  fi
  status=1
  if [ ${#found[@]} -eq 0 ]; then
    printf '%-8s %11s execs, libFuzzer exited %s without a reproducer; log: %s\n' \
      "$t" "${execs:-?}" "$rc" "$log"
    continue
  fi
  declare -A reported=()
  for a in "${found[@]}"; do
    name=$(basename "$a")
    # What went wrong, in a line that names the place, not the address: a
    # failed check of ours, or of the library's own assertions (the engine
    # target runs it all), else the sanitizer's or libFuzzer's SUMMARY. Each
    # reproducer is run again alone for it (-fork=N runs keep the reports in
    # their jobs' logs).
    replay_log="$work/replay-$name.log"
    "$build/tests/fuzz/fuzz-$t" -timeout=5 "$a" >"$replay_log" 2>&1 || true
    summary=$(grep -h -m1 '^fuzz check failed' "$replay_log" ||
      grep -h -m1 '^synack: assertion failed' "$replay_log" ||
      grep -h -m1 '^SUMMARY' "$replay_log" || true)
    summary=${summary:-"no report when run alone (flaky?); see $log"}
    if [ -n "${reported[$summary]:-}" ]; then
      continue # -fork=N runs find the same defect many times
    fi
    reported[$summary]=1
    # The same defect found again (in this run or an earlier one) is not saved twice.
    if [ -f "$saved/README.md" ] && grep -qF -- "$summary" "$saved/README.md"; then
      known=$(awk -v s="$summary" '/^## /{name = substr($0, 4)} index($0, s) {print name; exit}' \
        "$saved/README.md")
      printf '%-8s %11s execs, FOUND again: %s (saved before as %s/%s)\n' \
        "$t" "${execs:-?}" "$summary" "$saved" "$known"
      continue
    fi
    mkdir -p "$saved"
    cp "$a" "$saved/$name"
    if [ ! -f "$saved/README.md" ]; then
      printf '# Saved inputs of fuzz-%s\n\n%s fuzz-replay-%s %s\n' "$t" \
        "Each is replayed by the unit test" "$t" "in every build." >"$saved/README.md"
    fi
    {
      printf '\n## %s\n\nFound on %s by scripts/fuzz.sh:\n%s\n\nReplay:\n\n' \
        "$name" "$(date -u +%Y-%m-%d)" "$summary"
      printf '    %s/tests/fuzz/fuzz-%s %s\n' "$build" "$t" "$saved/$name"
      printf '    meson test -C BUILD fuzz-replay-%s --print-errorlogs\n' "$t"
    } >>"$saved/README.md"
    printf '%-8s %11s execs, FOUND: %s\n' "$t" "${execs:-?}" "$summary"
    printf '         saved as %s; replay: %s/tests/fuzz/fuzz-%s %s\n' \
      "$saved/$name" "$build" "$t" "$saved/$name"
  done
done
exit $status
