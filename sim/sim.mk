# sim/sim.mk — the Verilator harness: $(BUILD)/lib/libsomhop_sim.a
#
# Verilates each RTL kernel (rtl/<k>/<k>.f) single-threaded with
#   -O3 --x-assign fast --x-initial fast --assert --trace-fst
# compiles the generated model, the Verilator runtime and sim/harness/*.cpp
# with -fPIC (the emulation ICD links them into a shared library) and archives
# everything into one static library. The Verilated model and runtime are
# built without sanitizers even in `make asan` (they are generated code and
# slow to instrument); the harness itself is built with $(SAN).
#
# Link line for users of the harness (C or C++):
#   $(SOMHOP_SIM_LIBS)  = the archive plus the system libraries it needs.

VERILATOR      ?= verilator
SIM_VL_ROOT    := $(shell $(VERILATOR) --getenv VERILATOR_ROOT 2>/dev/null)
SIM_VL_INC     := $(SIM_VL_ROOT)/include
SIM_DIR        := $(BUILD)/sim
# The Verilated models and the Verilator runtime (sanitizer-free, see above) live in
# $(SIM_VL_BUILD)/sim: `make asan` points SIM_VL_BUILD at the normal tree of the same
# configuration, so the sanitizer build links the models `make` already built instead of
# verilating and compiling them a second time.
SIM_VL_BUILD   ?= $(BUILD)
SIM_VL_DIR     := $(SIM_VL_BUILD)/sim
SIM_VL_CFG_H   := $(SIM_VL_BUILD)/gen/somhop_config.h
SIM_LIB        := $(BUILD)/lib/libsomhop_sim.a
SOMHOP_SIM_LIBS = $(abspath $(SIM_LIB)) -lz -lpthread -lstdc++ -lm
SIM_KERNELS    := som_bmu hopfield_update
# Models: name:top-module:parameter overrides ('+' separates several -G), after the
# configuration's -G flags (kernels/configs.mk). Test-only variants of the same RTL:
#   som_bmu_small  S = 2, L = 4, the default's limits (the bulk of the equivalence cases)
#   som_bmu_ecp5   S = 2, L = 8, MAX_M = MAX_D = 256 (the ECP5-85 P&R config)
#   hopfield_update_small  U 32, B 2;  hopfield_update_ecp5  U 64, B 1, MAX_N 256
SIM_MODEL_SPECS := som_bmu:som_bmu: hopfield_update:hopfield_update: \
                   som_bmu_small:som_bmu:-GS=2+-GL=4 \
                   som_bmu_ecp5:som_bmu:-GS=2+-GL=8+-GMAX_M=256+-GMAX_D=256+-GMAX_CB=65536 \
                   hopfield_update_small:hopfield_update:-GU=32+-GB=2+-GMAX_N=2048 \
                   hopfield_update_ecp5:hopfield_update:-GU=64+-GB=1+-GMAX_N=256
SIM_MODELS     := $(foreach m,$(SIM_MODEL_SPECS),$(word 1,$(subst :, ,$(m))))
SIM_VL_FLAGS   := --cc -O3 --x-assign fast --x-initial fast --assert --trace-fst -Wall \
                  --unroll-count 1024
SIM_VL_DEFS    := -DVM_COVERAGE=0 -DVM_SC=0 -DVM_TRACE=1 -DVM_TRACE_FST=1 -DVM_TRACE_VCD=0 \
                  -DVM_TIMING=0
SIM_MODEL_CXX  := $(CXX) -std=gnu++17 -O2 -fPIC -w $(SIM_VL_DEFS) -I$(SIM_VL_INC) \
                  -I$(SIM_VL_INC)/vltstd
SIM_RT_SRCS    := verilated verilated_fst_c verilated_threads
SIM_RT_OBJS    := $(SIM_RT_SRCS:%=$(SIM_VL_DIR)/rt/%.o)
SIM_HARN_SRCS  := $(wildcard sim/harness/*.cpp)
SIM_HARN_OBJS  := $(SIM_HARN_SRCS:%.cpp=$(SIM_DIR)/obj/%.o)
SIM_MODEL_LIBS := $(foreach k,$(SIM_MODELS),$(SIM_VL_DIR)/$(k)/V$(k)__ALL.a)
SIM_MODEL_HDRS := $(foreach k,$(SIM_MODELS),$(SIM_VL_DIR)/$(k)/V$(k).h)
# The shared shell's test tops (their own rules) join SIM_MODELS/_LIBS/_HDRS here.
include sim/shell.mk

ALL_TARGETS += $(SIM_LIB)

# verilator -Wall lint of both tops (waivers: rtl/lint.vlt)
LINT_CMDS   += $(abspath rtl/lint.sh)

# Verilate: one output directory per model; the stamp is the generated header.
# $(1) model name, $(2) top module, $(3) parameter overrides (after the configuration's
# -G flags $(SOMHOP_CFG_VL_<top>) of kernels/configs.mk; a config change re-verilates).
define SIM_VERILATE
$(SIM_VL_DIR)/$(1)/V$(1).h: rtl/$(2)/$(2).f rtl/lint.vlt $(shell cat rtl/$(2)/$(2).f 2>/dev/null) $(SIM_VL_CFG_H)
	@rm -rf $(SIM_VL_DIR)/$(1) && mkdir -p $(SIM_VL_DIR)/$(1)
	$(VERILATOR) $(SIM_VL_FLAGS) rtl/lint.vlt -f rtl/$(2)/$(2).f --top-module $(2) $(SOMHOP_CFG_VL_$(2)) $(subst +, ,$(3)) \
	  --prefix V$(1) --Mdir $(SIM_VL_DIR)/$(1)

# Compile every generated .cpp of the model (two at a time) into one archive.
$(SIM_VL_DIR)/$(1)/V$(1)__ALL.a: $(SIM_VL_DIR)/$(1)/V$(1).h
	@set -e; cd $(SIM_VL_DIR)/$(1); rm -f *.o $$(@F); \
	  ls V$(1)*.cpp | xargs -P 2 -I{} sh -c \
	    'echo "  CXX $(1)/{}" && $(SIM_MODEL_CXX) -I. -c {} -o $$$$(basename {} .cpp).o'; \
	  ar rcs $$(@F) V$(1)*.o
endef
$(foreach m,$(SIM_MODEL_SPECS),$(eval $(call SIM_VERILATE,$(word 1,$(subst :, ,$(m))),$(word 2,$(subst :, ,$(m))),$(word 3,$(subst :, ,$(m))))))

$(SIM_VL_DIR)/rt/%.o: $(SIM_VL_INC)/%.cpp
	@mkdir -p $(dir $@)
	$(SIM_MODEL_CXX) -c $< -o $@

$(SIM_DIR)/obj/sim/harness/%.o: sim/harness/%.cpp $(SIM_MODEL_HDRS)
	@mkdir -p $(dir $@)
	$(CXX) -std=c++17 -fPIC $(WARN) $(DEPFLAGS) $(SAN) $(CXXFLAGS) -Isim/include -Isim/harness \
	  $(SIM_MODELS:%=-I$(SIM_VL_DIR)/%) -isystem $(SIM_VL_INC) -isystem $(SIM_VL_INC)/vltstd \
	  $(SIM_VL_DEFS) -c $< -o $@

# The sanitizer-free part alone (what `make asan` takes from the normal tree).
.PHONY: sim-vl
sim-vl: $(SIM_MODEL_LIBS) $(SIM_RT_OBJS)

# One archive: harness + both models + the Verilator runtime.
$(SIM_LIB): $(SIM_HARN_OBJS) $(SIM_MODEL_LIBS) $(SIM_RT_OBJS)
	@mkdir -p $(dir $@) $(SIM_DIR)/ar
	@set -e; rm -f $@ $(SIM_DIR)/ar/*.o; \
	  for a in $(abspath $(SIM_MODEL_LIBS)); do (cd $(SIM_DIR)/ar && ar x $$a); done
	ar rcs $@ $(SIM_HARN_OBJS) $(SIM_RT_OBJS) $(SIM_DIR)/ar/*.o

# ---- tests ------------------------------------------------------------------------
# 3-way equivalence (reference, HLS on g++, RTL), register-level tests of the
# harness and the control slave, and the kernel.xml <-> somhop_fixed.h check.
SIM_TEST_DIR   := $(BUILD)/tests
EQUIV_RTL_BIN  := $(SIM_TEST_DIR)/test_equiv_rtl
SIM_REGS_BIN   := $(SIM_TEST_DIR)/test_sim_regs
KXML_BIN       := $(SIM_TEST_DIR)/test_kernel_xml
SIM_TEST_CFLAGS = $(ALL_CFLAGS) $(HOST_INC) -Itests -Isim/harness

ALL_TARGETS += $(EQUIV_RTL_BIN) $(SIM_REGS_BIN) $(KXML_BIN)
TEST_CMDS   += $(KXML_BIN) $(abspath tests/sim/test_package_tcl.sh) $(SIM_REGS_BIN) $(EQUIV_RTL_BIN)

# som_bmu v2 per configuration (models som_bmu, som_bmu_small, som_bmu_ecp5 above)
EQUIV_RTL_BMU_BIN := $(SIM_TEST_DIR)/test_equiv_rtl_bmu
ALL_TARGETS += $(EQUIV_RTL_BMU_BIN)
TEST_CMDS   += $(EQUIV_RTL_BMU_BIN)

$(EQUIV_RTL_BMU_BIN): tests/equiv/test_equiv_rtl_bmu.c tests/equiv/cases.h $(SIM_LIB) \
                      $(LIBSOMHOP_HLS) $(LIBSOMHOP)
	@mkdir -p $(dir $@)
	$(CC) $(SIM_TEST_CFLAGS) -c $< -o $@.o
	$(CXX) $(ALL_LDFLAGS) -o $@ $@.o $(LIBSOMHOP_HLS) $(LIBSOMHOP) $(SOMHOP_SIM_LIBS)

$(EQUIV_RTL_BIN): tests/equiv/test_equiv_rtl.c tests/equiv/cases.h $(SIM_LIB) $(LIBSOMHOP_HLS) \
                  $(LIBSOMHOP)
	@mkdir -p $(dir $@)
	$(CC) $(SIM_TEST_CFLAGS) -c $< -o $@.o
	$(CXX) $(ALL_LDFLAGS) -o $@ $@.o $(LIBSOMHOP_HLS) $(LIBSOMHOP) $(SOMHOP_SIM_LIBS)

$(SIM_REGS_BIN): tests/sim/test_sim_regs.c $(SIM_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(SIM_TEST_CFLAGS) -c $< -o $@.o
	$(CXX) $(ALL_LDFLAGS) -o $@ $@.o $(SOMHOP_SIM_LIBS)

$(KXML_BIN): tests/sim/test_kernel_xml.c kernels/somhop_fixed.h
	@mkdir -p $(dir $@)
	$(CC) $(SIM_TEST_CFLAGS) -o $@ $< $(ALL_LDFLAGS)

# ---- benchmark and the cycle-formula test -----------------------------------------------
RTL_BENCH_BIN  := $(BUILD)/bench/bench_rtl
RTL_CYCLES_BIN := $(SIM_TEST_DIR)/test_rtl_cycles

ALL_TARGETS += $(RTL_BENCH_BIN) $(RTL_CYCLES_BIN)
TEST_CMDS   += $(RTL_CYCLES_BIN)
BENCH_CMDS  += $(RTL_BENCH_BIN)

$(RTL_BENCH_BIN): sim/bench/bench_rtl.c kernels/somhop_kernels.h $(SIM_LIB) $(LIBSOMHOP_HLS) $(LIBSOMHOP)
	@mkdir -p $(dir $@)
	$(CC) $(SIM_TEST_CFLAGS) -c $< -o $@.o
	$(CXX) $(ALL_LDFLAGS) -o $@ $@.o $(LIBSOMHOP_HLS) $(LIBSOMHOP) $(SOMHOP_SIM_LIBS) $(SOMHOP_LIBS)

$(RTL_CYCLES_BIN): sim/bench/bench_rtl.c kernels/somhop_kernels.h $(SIM_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(SIM_TEST_CFLAGS) -DSOMHOP_RTL_CYCLES_TEST -c $< -o $@.o
	$(CXX) $(ALL_LDFLAGS) -o $@ $@.o $(SOMHOP_SIM_LIBS)
