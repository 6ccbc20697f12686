# kernels/kernels.mk — the HLS kernels built with g++ (sw_emu, tests), the
# HLS-vs-reference equivalence test and the fixed-point quality benchmark.
#
#   kernels/*.cpp                 -> $(BUILD)/lib/libsomhop_hls.a (-fPIC: the
#                                    emulation ICD shared library links it)
#   tests/equiv/test_equiv_hls.c  -> $(BUILD)/tests/test_equiv_hls   (TEST_CMDS)
#   tests/equiv/bench_fixed_quality.c -> $(BUILD)/bench/bench_fixed_quality (BENCH_CMDS)
#   kernels/lint_hls.sh           -> LINT_CMDS (synthesis branch compiles, interface and
#                                    loop-label conventions)
#
# Programs that link libsomhop_hls.a need the C++ runtime: link them with
# $(CXX) (or add -lstdc++).
#
# Knobs: SOMHOP_HLS_BMU_LANES / SOMHOP_HLS_HOP_LANES (compile-time lanes,
# defaults in kernels/somhop_kernels.h) via HLS_DEFS, e.g.
#   make HLS_DEFS=-DSOMHOP_HLS_BMU_LANES=8

HLS_SRCS    := kernels/som_bmu.cpp kernels/hopfield_update.cpp
HLS_OBJS    := $(HLS_SRCS:%.cpp=$(BUILD)/obj/%.o)
LIBSOMHOP_HLS := $(BUILD)/lib/libsomhop_hls.a
HLS_DEFS    ?=
# Vitis pragmas mean nothing to g++, and loop labels exist for the HLS reports.
HLS_CXXFLAGS = $(ALL_CXXFLAGS) -fPIC -Wno-unknown-pragmas -Wno-unused-label -Ikernels $(HLS_DEFS)

EQUIV_HLS_BIN := $(BUILD)/tests/test_equiv_hls
FXQ_BENCH_BIN := $(BUILD)/bench/bench_fixed_quality

ALL_TARGETS += $(LIBSOMHOP_HLS) $(EQUIV_HLS_BIN) $(FXQ_BENCH_BIN)
TEST_CMDS   += $(EQUIV_HLS_BIN)
BENCH_CMDS  += $(FXQ_BENCH_BIN)
LINT_CMDS   += kernels/lint_hls.sh

$(BUILD)/obj/kernels/%.o: kernels/%.cpp
	@mkdir -p $(dir $@)
	$(CXX) $(HLS_CXXFLAGS) -c $< -o $@

$(LIBSOMHOP_HLS): $(HLS_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

# Test and bench objects get their own rule so -MMD dependency files track
# the headers they include (cases.h, somhop_kernels.h, fixed.h, ...).
$(BUILD)/obj/tests/equiv/%.o: tests/equiv/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(HOST_INC) -Itests $(HLS_DEFS) -c $< -o $@

$(EQUIV_HLS_BIN): $(BUILD)/obj/tests/equiv/test_equiv_hls.o $(LIBSOMHOP_HLS) $(LIBSOMHOP)
	@mkdir -p $(dir $@)
	$(CXX) $(ALL_LDFLAGS) -o $@ $< $(LIBSOMHOP_HLS) $(LIBSOMHOP) $(SOMHOP_LIBS)

$(FXQ_BENCH_BIN): $(BUILD)/obj/tests/equiv/bench_fixed_quality.o $(LIBSOMHOP_HLS) $(LIBSOMHOP)
	@mkdir -p $(dir $@)
	$(CXX) $(ALL_LDFLAGS) -o $@ $< $(LIBSOMHOP_HLS) $(LIBSOMHOP) $(SOMHOP_LIBS)
