#!/usr/bin/env bash
# rtl/synth/synth_lint.sh — the short synthesis check of `make lint`: UltraScale+ synthesis
# (yosys synth_xilinx, no place-and-route) of both kernels' `ecp5` configuration and their
# logic depth, failing when a kernel's worst path got deeper than the committed figure in
# bench/results/synth.json (or a tool run fails). The full flow is `make synth`.
exec "$(dirname "$0")/synth.sh" --quick
