#!/usr/bin/env bash
# Builds synack and runs its test suites. The last line of output is
# "N passed, N failed" over every test run, in both builds.
#
# Usage: scripts/test.sh [SUITE ...]
#   SUITE: unit, sim, interop (default: every suite the build defines)
# Two builds: build/ (warnings are errors) runs every suite; build-asan/
# (AddressSanitizer + UndefinedBehaviorSanitizer) runs unit and sim again,
# the simulation over a quarter of the seeds: it is there to catch memory and
# undefined-behaviour errors, runs four times slower, and the seeds' logic
# is checked in full by build/.
# Environment: SYNACK_SKIP_SETUP=1 skips scripts/setup.sh;
#              SYNACK_NO_ASAN=1 skips the sanitizer build;
#              SYNACK_SIM_SEEDS=N: seeds per simulation scenario (default
#              1000, a quarter of it in build-asan/; read when a build
#              directory is first set up).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

if [ "${SYNACK_SKIP_SETUP:-0}" != 1 ]; then
  scripts/setup.sh
fi

configure() { # DIR [meson options...]
  local dir=$1
  shift
  if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" --werror "$@"
  fi
  meson compile -C "$dir"
}

# The suites a build defines, one per line (meson reports them as "synack:unit").
suites_of() {
  meson introspect "$1" --tests |
    /usr/bin/python3 -c 'import json,sys; print("\n".join(sorted({s.split(":")[-1] for t in json.load(sys.stdin) for s in t["suite"]})))'
}

want=("$@")
[ ${#want[@]} -gt 0 ] || want=(unit sim interop)

runs=()
status=0
run_suites() { # DIR EXCLUDED_SUITE... -- SUITE...
  local dir=$1
  shift
  local excluded=()
  while [ "$1" != -- ]; do excluded+=("--no-suite" "$1"); shift; done
  shift
  local defined args=()
  defined=$(suites_of "$dir")
  for s in "$@"; do
    if grep -qx "$s" <<<"$defined"; then args+=("--suite" "$s"); fi
  done
  if [ ${#args[@]} -eq 0 ]; then
    echo "test: $dir defines none of the suites: $* (defined: $(echo $defined))"
    status=1
    return
  fi
  echo "== $dir: ${args[*]} ${excluded[*]}"
  meson test -C "$dir" --print-errorlogs --num-processes 2 "${args[@]}" "${excluded[@]}" || status=1
  runs+=("$dir/meson-logs/testlog.json")
}

sim_seeds=${SYNACK_SIM_SEEDS:-1000}
configure build "-Dsim_seeds=$sim_seeds"
run_suites build -- "${want[@]}"

if [ "${SYNACK_NO_ASAN:-0}" != 1 ]; then
  sanitized=()
  for s in "${want[@]}"; do [ "$s" = interop ] || sanitized+=("$s"); done
  if [ ${#sanitized[@]} -gt 0 ]; then
    configure build-asan -Db_sanitize=address,undefined -Db_lundef=false \
      "-Dsim_seeds=$(( sim_seeds >= 4 ? sim_seeds / 4 : 1 ))"
    # A consumer built without the sanitizer cannot link the sanitized library.
    run_suites build-asan install -- "${sanitized[@]}"
  fi
fi

/usr/bin/python3 - "${runs[@]}" <<'PY' || status=1
import json, sys
passed = failed = skipped = 0
for path in sys.argv[1:]:
    for line in open(path):
        result = json.loads(line)["result"]
        if result in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif result == "SKIP":
            skipped += 1
        else:
            failed += 1
print(f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
sys.exit(1 if passed == 0 else 0)
PY
exit $status
