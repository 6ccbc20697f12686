# rtl/synth/synth.mk — open-tool implementation evidence for the RTL kernels
# (docs/kernels.md, "Implementation evidence (open tools)").
#
#   make synth          install the pinned tools (scripts/install-synth-tools.sh), run
#                       rtl/synth/synth.py on both kernels: ECP5 place-and-route of the
#                       `ecp5` configuration, UltraScale+ synthesis + logic depth of
#                       `default` (method flat-staged: three yosys processes with RTLIL
#                       checkpoints; engine native: yosys 0.70 built natively, pyosys,
#                       as abc9 outgrows wasm32's 4 GiB) and `ecp5`; results in
#                       $(BUILD)/synth/synth.json, then the
#                       regression check against bench/results/synth.json
#   make synth-record   the same, then write the results to bench/results/synth.json and
#                       the generated tables of docs/kernels.md (commit both with the RTL
#                       change they measure; a run with a failed tool run is not recorded)
# `make bench` runs the same as `make synth`; `make lint` runs the short variant
# (rtl/synth/synth_lint.sh: UltraScale+ synthesis + logic depth of the `ecp5` configuration,
# no place-and-route; fails when a worst path got deeper than committed); `make test` runs
# the flow's own tests on tiny modules (tests/synth/test_synth_flow.sh).
# Variables: SYNTH_KERNELS, SYNTH_ECP5_CONFIGS, SYNTH_XCUP_CONFIGS (comma-separated),
# SYNTH_XCUP_METHODS (CONFIG=METHOD,...), SYNTH_XCUP_ENGINES (CONFIG=wasm|native,...),
# SYNTH_JOBS (tool runs in parallel).

.PHONY: synth synth-record
synth:
	@rtl/synth/synth.sh
synth-record:
	@rtl/synth/synth.sh --record

BENCH_CMDS += $(abspath rtl/synth/synth.sh)
LINT_CMDS  += $(abspath rtl/synth/synth_lint.sh)
TEST_CMDS  += tests/synth/test_synth_flow.sh
