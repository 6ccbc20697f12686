# rtl/synth/synth.mk — open-tool implementation evidence for the RTL kernels
# (docs/kernels.md, "Implementation evidence (open tools)").
#
#   make synth          install the pinned tools (scripts/install-synth-tools.sh), run
#                       rtl/synth/synth.py on both kernels: ECP5 place-and-route of the
#                       `ecp5` configuration, UltraScale+ synthesis + logic depth of
#                       `default`; results in $(BUILD)/synth/synth.json, then the
#                       regression check against bench/results/synth.json
#   make synth-record   the same, then copy the results to bench/results/synth.json
#                       (commit it with the RTL change it measures)
# `make bench` runs the same as `make synth`; `make test` runs the flow's own tests on tiny
# modules (tests/synth/test_synth_flow.sh, seconds of CPU once the tools are installed).
# Variables: SYNTH_KERNELS, SYNTH_ECP5_CONFIGS, SYNTH_XCUP_CONFIGS (comma-separated).

.PHONY: synth synth-record
synth:
	@rtl/synth/synth.sh
synth-record:
	@rtl/synth/synth.sh --record

BENCH_CMDS += $(abspath rtl/synth/synth.sh)
TEST_CMDS  += tests/synth/test_synth_flow.sh
