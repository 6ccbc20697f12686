#!/usr/bin/env bash
# rtl/synth/synth.sh — `make synth` and the synthesis part of `make bench`: install the
# pinned open tools (scripts/install-synth-tools.sh), run the flow of rtl/synth/synth.py
# on both kernels (ECP5 place-and-route of the `ecp5` configuration, UltraScale+
# synthesis and logic depth of the `default` one), then check the results against the
# committed bench/results/synth.json (Fmax more than 10 % below it, or a configuration
# that no longer fits its device, fails).
#
# Usage: rtl/synth/synth.sh [--record]
#   --record   also copy the results to bench/results/synth.json (after the run; the
#              check then compares against the previous committed figures first)
# Environment: SYNTH_KERNELS (default som_bmu,hopfield_update), SYNTH_ECP5_CONFIGS
# (default ecp5), SYNTH_XCUP_CONFIGS (default default), SOMHOP_BUILD (results in
# $SOMHOP_BUILD/synth/), SOMHOP_SYNTH_TIMEOUT (seconds per tool run, default 3600),
# SYNTH_JOBS (tool runs in parallel, default 1: use 2+ only when cores are free).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${SOMHOP_BUILD:-$root/build}
record=0
case "${1:-}" in
  --record) record=1 ;;
  "") ;;
  *) echo "synth.sh: unknown option '$1' (use --record)" >&2; exit 2 ;;
esac
if ! bin=$("$root/scripts/install-synth-tools.sh"); then
  echo "synth.sh: the synthesis tools could not be installed (see above)" >&2
  exit 1
fi
export SOMHOP_SYNTH_BIN=$bin
out=$build/synth
mkdir -p "$out"
status=0
python3 "$root/rtl/synth/synth.py" run \
  --kernels "${SYNTH_KERNELS:-som_bmu,hopfield_update}" \
  --ecp5-configs "${SYNTH_ECP5_CONFIGS:-ecp5}" \
  --xcup-configs "${SYNTH_XCUP_CONFIGS:-default}" \
  --jobs "${SYNTH_JOBS:-1}" --out "$out" --json "$out/synth.json" || status=1
if [ -f "$out/synth.json" ]; then
  python3 "$root/rtl/synth/synth.py" check --new "$out/synth.json" \
    --ref "$root/bench/results/synth.json" || status=1
  python3 "$root/rtl/synth/synth.py" table --json "$out/synth.json"
  if [ "$record" = 1 ]; then
    mkdir -p "$root/bench/results"
    cp "$out/synth.json" "$root/bench/results/synth.json"
    echo "synth.sh: recorded $root/bench/results/synth.json"
  fi
fi
exit $status
