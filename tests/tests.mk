# tests/tests.mk — C unit tests and shell tests picked up by wildcard.
#
#   tests/unit/test_*.c  -> $(BUILD)/tests/test_*   (links libsomhop.a)
#   tests/cli/test_*.sh  -> run as they are (they find the build through
#                           SOMHOP_BUILD, exported below)
# Each prints TAP-style lines (tests/check.h, tests/check.sh).
# Tests that need more than libsomhop (HLS objects, Verilator models, the
# ICD, the controller) are added by their own fragments.

UNIT_SRCS  := $(wildcard tests/unit/test_*.c)
UNIT_BINS  := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
SHELL_TESTS := $(wildcard tests/cli/test_*.sh)

ALL_TARGETS += $(UNIT_BINS)
TEST_CMDS   += $(UNIT_BINS) $(SHELL_TESTS)

export SOMHOP_BUILD := $(abspath $(BUILD))
export SOMHOP_ROOT  := $(abspath .)

$(BUILD)/tests/%: tests/unit/%.c $(LIBSOMHOP)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(HOST_INC) -Itests $(PNG_CFLAGS) -o $@ $< $(LIBSOMHOP) $(SOMHOP_LIBS) $(ALL_LDFLAGS)

# Fragments of tests/ that add their own targets (fuzzing, the Hopfield latency bench).
-include tests/bench/hop_latency.mk tests/fuzz/fuzz.mk
