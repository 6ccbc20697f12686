# kernels/configs.mk — the named kernel configurations, in ONE place
# (V2-INTERFACE.md, "Compute units and configurations").
#
#   make                          builds configuration `default` into build/
#   make KERNEL_CONFIG=small      builds `small` into build-small/ (ecp5 -> build-ecp5/)
#   make BUILD=dir KERNEL_CONFIG=x  any config in any tree: the tree records the config it
#                                 holds ($(BUILD)/gen/somhop_config.h) and everything that
#                                 depends on it rebuilds when the config changes
#   make config-info              prints the selected configuration and what it passes where
#   make test-configs             builds every configuration in its own tree and runs its
#                                 equivalence and OpenCL tests there (slow: one Verilator
#                                 build per configuration)
#
# Parameters of a configuration (names fixed by V2-INTERFACE.md):
#   BMU_S BMU_L     som_bmu samples x neurons per pass of one compute unit
#   BMU_CU          som_bmu compute units
#   BMU_MAX_M BMU_MAX_D   som_bmu limits (on-chip codebook)
#   BMU_MAX_CB      som_bmu codebook capacity, elements: ceil(M/BMU_L)*BMU_L * STRIDE(D) <= it
#                   (the v2 RTL's MAX_CB; som_bmu v2 by the bmu2 helper)
#   HOP_U HOP_B     hopfield_update weights per cycle per probe, probes per weight pass
#   HOP_CU          hopfield_update compute units
#   HOP_MAX_N       hopfield_update limit (on-chip weights)
# and, for scripts/build-xclbin (not used by the emulation): BMU_SLR / HOP_SLR, the SLR of
# each compute unit in order.
#
# Where they go:
#   C / C++ (host, HLS g++ build, ICD, tests): every object is compiled with
#     -include $(SOMHOP_CFG_H), a generated header defining SOMHOP_CFG_NAME ("default"),
#     SOMHOP_CFG_BMU_S ... SOMHOP_CFG_HOP_MAX_N; -MMD tracks it, so a config change rebuilds
#     exactly what includes it. $(SOMHOP_CFG_DEFS) is the same as -D flags (for v++).
#   Verilator: -G<P>=<value> for each interface parameter the top module declares
#     (som_bmu: S L MAX_M MAX_D MAX_CB; hopfield_update: U B MAX_N). A parameter the RTL does
#     not (yet) declare is left out: v1 RTL takes only MAX_*; v2 RTL picks S/L/U/B up
#     without an edit here.
#   Emulation xclbin: configuration name and parameters (USER_METADATA section
#     "somhop_config"), BMU_CU / HOP_CU compute units, one memory bank per CU.
#
# The emulation platform (sim/icd/emu_xclbin.h) has the Alveo U55C's 32 HBM pseudo-channels
# HBM[0..31] (512 MiB each; AWS F2's VU47P has the same HBM stack) and holds at most 16
# compute units (EMU_MAX_CUS); every CU gets its own pseudo-channel, so
# BMU_CU + HOP_CU <= 16 (checked below, limits read from that header). The former limit,
# 4, was AWS F1's four DDR banks; AWS retired F1 on 2025-12-20.

SOMHOP_CONFIGS := default ecp5 small
SOMHOP_CFG_PARAMS := BMU_S BMU_L BMU_CU BMU_MAX_M BMU_MAX_D BMU_MAX_CB HOP_U HOP_B HOP_CU HOP_MAX_N

# MEASURED 2026-12-03 (rtl/synth, yosys synth_xilinx of one CU each; docs/kernels.md): the
# 3 + 3 design below does NOT fit a VU47P / U55C: hopfield_update takes 512 URAM per CU (not
# 256: 1,536 of 960 for 3 CUs) and the LUT/FF estimates were 2-4x low (som_bmu 243 k LUT /
# 321 k FF per CU, hopfield_update 299 k / 265 k; 3 + 3 = 125 % of the LUTs). Left at 3 + 3
# for now: it is also the emulation platform's default xclbin that the tests and demo run.
# default: meant as the largest that fits a VU47P (AWS F2 / Alveo U55C, the same die) by
# resource count with both kernels: som_bmu 3 CUs x (8 x 256) DSP48E2 cells, codebooks of 2 MiB
# (1024 x 1024, 2048 x 512, ...) in BRAM; hopfield_update 3 CUs of 2048 weights/cycle, 4
# probes per weight pass, 8 MiB of weights each in URAM; one CU of each kernel per SLR.
# Resource count (design formulas of docs/kernels.md "RTL: resources"; not Vivado, and
# yosys has counted only the ecp5 configuration; device 1,303,680 LUT, 2,607,360 FF,
# 9,024 DSP48E2, 2,016 RAMB36, 960 URAM288 in 3 SLRs, a third each):
#                     DSP48E2      RAMB36             URAM288  LUT (estimate)  FF (estimate)
#   som_bmu, per CU   2,052        512 cb + 8 + 8     0        ~55 k           ~110 k
#   hopfield, per CU  <= 10        16 + 8 FIFO        256      ~160 k          ~180 k
#   per SLR (1 + 1)   2,062 / 3,008  552 / 672        256 / 320  ~215 k / 435 k  ~290 k / 869 k
#   device (3 + 3)    6,186 (69 %)   1,656 (82 %)     768 (80 %) ~645 k (49 %)   ~870 k (33 %)
# It fits by count with 18 % of the RAMB36 and 20 % of the URAM left; the platform shell
# (static region, HBM controllers, in SLR0 on the U55C) takes part of that and is not counted
# here. A 4th hopfield CU would need 1,024 URAM (> 960): HOP_CU = 3 is the largest count.
# HOP_B = 8 (four more ~37 k LUT adder trees per CU: ~1.1 M LUT, 83 %, in all) is not
# ruled out by count but is a different RTL build and was not evaluated.
# som_bmu LUT/FF: drain ~45 k LUT + shell/control; shadow chain 86 k FF + the rest.
CFG_default_BMU_S     := 8
CFG_default_BMU_L     := 256
CFG_default_BMU_CU    := 3
CFG_default_BMU_MAX_M := 2048
CFG_default_BMU_MAX_D := 1024
CFG_default_BMU_MAX_CB := 1048576
CFG_default_HOP_U     := 2048
CFG_default_HOP_B     := 4
CFG_default_HOP_CU    := 3
CFG_default_HOP_MAX_N := 2048
CFG_default_BMU_SLR   := 0 1 2
CFG_default_HOP_SLR   := 0 1 2

# ecp5: small enough to place and route on an ECP5-85 (the open-tool timing flow).
CFG_ecp5_BMU_S     := 2
CFG_ecp5_BMU_L     := 8
CFG_ecp5_BMU_CU    := 1
CFG_ecp5_BMU_MAX_M := 256
CFG_ecp5_BMU_MAX_D := 256
CFG_ecp5_BMU_MAX_CB := 65536
CFG_ecp5_HOP_U     := 64
CFG_ecp5_HOP_B     := 1
CFG_ecp5_HOP_CU    := 1
CFG_ecp5_HOP_MAX_N := 256
CFG_ecp5_BMU_SLR   := 0
CFG_ecp5_HOP_SLR   := 0

# small: fast to verilate and simulate, 2 + 2 compute units so multi-CU is always run.
CFG_small_BMU_S     := 2
CFG_small_BMU_L     := 4
CFG_small_BMU_CU    := 2
CFG_small_BMU_MAX_M := 2048
CFG_small_BMU_MAX_D := 1024
CFG_small_BMU_MAX_CB := 1048576
CFG_small_HOP_U     := 32
CFG_small_HOP_B     := 2
CFG_small_HOP_CU    := 2
CFG_small_HOP_MAX_N := 2048
CFG_small_BMU_SLR   := 0 1
CFG_small_HOP_SLR   := 2 0

KERNEL_CONFIG ?= default
ifeq ($(filter $(KERNEL_CONFIG),$(SOMHOP_CONFIGS)),)
$(error KERNEL_CONFIG='$(KERNEL_CONFIG)' is not a configuration of kernels/configs.mk (known: $(SOMHOP_CONFIGS)))
endif

# A non-default configuration builds into its own tree unless BUILD was given.
ifeq ($(origin BUILD),file)
ifneq ($(KERNEL_CONFIG),default)
BUILD := build-$(KERNEL_CONFIG)
endif
endif

cfg = $(CFG_$(KERNEL_CONFIG)_$(1))
$(foreach p,$(SOMHOP_CFG_PARAMS),$(if $(call cfg,$(p)),,$(error configuration $(KERNEL_CONFIG): $(p) is not set in kernels/configs.mk)))
SOMHOP_EMU_BANKS  := $(shell sed -n 's/^\#define EMU_BANK_COUNT \([0-9]*\)u.*/\1/p' sim/icd/emu_xclbin.h)
SOMHOP_EMU_MAX_CU := $(shell sed -n 's/^\#define EMU_MAX_CUS \([0-9]*\)u.*/\1/p' sim/icd/emu_xclbin.h)
ifneq ($(shell test $$(( $(call cfg,BMU_CU) + $(call cfg,HOP_CU) )) -le $(SOMHOP_EMU_MAX_CU) && \
               test $(SOMHOP_EMU_MAX_CU) -le $(SOMHOP_EMU_BANKS) && echo ok),ok)
$(error configuration $(KERNEL_CONFIG): BMU_CU + HOP_CU = $(call cfg,BMU_CU) + $(call cfg,HOP_CU) compute units; the emulation platform holds at most $(SOMHOP_EMU_MAX_CU) (EMU_MAX_CUS), each in its own of its $(SOMHOP_EMU_BANKS) memory banks (sim/icd/emu_xclbin.h))
endif

SOMHOP_CFG_H    := $(BUILD)/gen/somhop_config.h
SOMHOP_CFG_KV   := $(foreach p,$(SOMHOP_CFG_PARAMS),$(p)=$(call cfg,$(p)))
SOMHOP_CFG_DEFS := -DSOMHOP_CFG_NAME='"$(KERNEL_CONFIG)"' $(foreach p,$(SOMHOP_CFG_PARAMS),-DSOMHOP_CFG_$(p)=$(call cfg,$(p))u)

# Written when make reads this file, and only when its content changes (so the build
# tree always knows its configuration and nothing rebuilds without a change).
SOMHOP_CFG_GEN := $(shell kernels/gen_config_h.sh $(SOMHOP_CFG_H) $(KERNEL_CONFIG) $(SOMHOP_CFG_KV) || echo FAILED)
ifneq ($(SOMHOP_CFG_GEN),)
$(error kernels/gen_config_h.sh could not write $(SOMHOP_CFG_H))
endif

ALL_CFLAGS   += -include $(abspath $(SOMHOP_CFG_H))
ALL_CXXFLAGS += -include $(abspath $(SOMHOP_CFG_H))

# Verilator -G flags: interface parameter -> configuration parameter, per top module,
# filtered by the parameters the top module declares.
SOMHOP_VL_MAP_som_bmu         := S:BMU_S L:BMU_L MAX_M:BMU_MAX_M MAX_D:BMU_MAX_D MAX_CB:BMU_MAX_CB
SOMHOP_VL_MAP_hopfield_update := U:HOP_U B:HOP_B MAX_N:HOP_MAX_N
somhop_rtl_params = $(shell sed -n 's/^[[:space:]]*parameter[[:space:]]\{1,\}\(int[[:space:]]\{1,\}\)\{0,1\}\(unsigned[[:space:]]\{1,\}\)\{0,1\}\([A-Za-z_][A-Za-z0-9_]*\)[[:space:]]*=.*/\3/p' rtl/$(1)/$(1).sv 2>/dev/null)
SOMHOP_RTL_PARAMS_som_bmu         := $(call somhop_rtl_params,som_bmu)
SOMHOP_RTL_PARAMS_hopfield_update := $(call somhop_rtl_params,hopfield_update)
somhop_vl_flags = $(foreach m,$(SOMHOP_VL_MAP_$(1)),$(if $(filter $(word 1,$(subst :, ,$(m))),$(SOMHOP_RTL_PARAMS_$(1))),-G$(word 1,$(subst :, ,$(m)))=$(call cfg,$(word 2,$(subst :, ,$(m))))))
SOMHOP_CFG_VL_som_bmu         := $(call somhop_vl_flags,som_bmu)
SOMHOP_CFG_VL_hopfield_update := $(call somhop_vl_flags,hopfield_update)

# Emulation xclbin arguments (sim/icd/mkxclbin.c).
SOMHOP_CFG_XCLBIN_ARGS := --config $(KERNEL_CONFIG) $(foreach kv,$(SOMHOP_CFG_KV),--param $(kv)) \
                          --cu som_bmu:$(call cfg,BMU_CU) --cu hopfield_update:$(call cfg,HOP_CU)

# v++ --config connectivity for scripts/build-xclbin (a suggestion it may use): nk= one line
# per kernel, sp= every CU's m_axi_gmem in its own bank (the emulation's order: som_bmu CUs
# first), slr= from BMU_SLR / HOP_SLR. SOMHOP_XCLBIN_MEM names the bank kind: HBM (U55C /
# VU47P cards, default) or DDR (F1, retired; at most 4 CUs there).
SOMHOP_XCLBIN_MEM ?= HBM
somhop_seq = $(shell seq 1 $(1))
SOMHOP_CU_NAMES_som_bmu         := $(foreach i,$(call somhop_seq,$(call cfg,BMU_CU)),som_bmu_$(i))
SOMHOP_CU_NAMES_hopfield_update := $(foreach i,$(call somhop_seq,$(call cfg,HOP_CU)),hopfield_update_$(i))
SOMHOP_CU_ALL := $(SOMHOP_CU_NAMES_som_bmu) $(SOMHOP_CU_NAMES_hopfield_update)
SOMHOP_CU_SLRS := $(wordlist 1,$(call cfg,BMU_CU),$(call cfg,BMU_SLR)) $(wordlist 1,$(call cfg,HOP_CU),$(call cfg,HOP_SLR))
SOMHOP_CONNECTIVITY := [connectivity] \
  nk=som_bmu:$(call cfg,BMU_CU):$(subst $(eval) ,.,$(strip $(SOMHOP_CU_NAMES_som_bmu))) \
  nk=hopfield_update:$(call cfg,HOP_CU):$(subst $(eval) ,.,$(strip $(SOMHOP_CU_NAMES_hopfield_update))) \
  $(foreach i,$(call somhop_seq,$(words $(SOMHOP_CU_ALL))),sp=$(word $(i),$(SOMHOP_CU_ALL)).m_axi_gmem:$(SOMHOP_XCLBIN_MEM)[$(shell echo $$(($(i)-1)))]) \
  $(foreach i,$(call somhop_seq,$(words $(SOMHOP_CU_ALL))),slr=$(word $(i),$(SOMHOP_CU_ALL)):SLR$(word $(i),$(SOMHOP_CU_SLRS)))
SOMHOP_CONNECTIVITY_CFG := $(BUILD)/gen/connectivity.cfg
ALL_TARGETS += $(SOMHOP_CONNECTIVITY_CFG)

$(SOMHOP_CONNECTIVITY_CFG): $(SOMHOP_CFG_H) kernels/configs.mk
	@mkdir -p $(dir $@)
	@printf '%s\n' '# v++ --config for configuration $(KERNEL_CONFIG) (kernels/configs.mk)' $(SOMHOP_CONNECTIVITY) > $@

.PHONY: config-info test-configs
config-info:
	@echo "KERNEL_CONFIG=$(KERNEL_CONFIG)  BUILD=$(BUILD)  header $(SOMHOP_CFG_H)"
	@echo "parameters:   $(SOMHOP_CFG_KV)"
	@echo "SLRs:         som_bmu $(call cfg,BMU_SLR)  hopfield_update $(call cfg,HOP_SLR)"
	@echo "defines:      $(SOMHOP_CFG_DEFS)"
	@echo "verilator:    som_bmu $(SOMHOP_CFG_VL_som_bmu) | hopfield_update $(SOMHOP_CFG_VL_hopfield_update)"
	@echo "              (RTL declares: som_bmu $(SOMHOP_RTL_PARAMS_som_bmu); hopfield_update $(SOMHOP_RTL_PARAMS_hopfield_update))"
	@echo "xclbin:       $(SOMHOP_CFG_XCLBIN_ARGS)"
	@echo "v++ config:   $(SOMHOP_CONNECTIVITY)"

# Every configuration in its own tree (build-<name>; default in build/): the equivalence
# tests (reference = HLS = RTL) and the OpenCL tests. CONFIGS= selects a subset.
CONFIGS ?= $(SOMHOP_CONFIGS)
SOMHOP_CONFIG_TESTS := tests/test_equiv_hls tests/test_equiv_rtl tests/ocl/test_ocl_accel \
                       tests/ocl/test_ocl_multicu
test-configs:
	@set -e; for c in $(CONFIGS); do \
	  if [ $$c = default ]; then b=build; else b=build-$$c; fi; \
	  echo "== configuration $$c in $$b/"; \
	  $(MAKE) --no-print-directory -j$(JOBS) KERNEL_CONFIG=$$c BUILD=$$b \
	    $(foreach t,$(SOMHOP_CONFIG_TESTS),$$b/$(t)); \
	  env -u OCL_ICD_VENDORS -u OCL_ICD_FILENAMES SOMHOP_BUILD=$(CURDIR)/$$b \
	    SOMHOP_EMU_ICD=$(CURDIR)/$$b/lib/libsomhop_emu_icd.so \
	    tests/run.sh $(foreach t,$(SOMHOP_CONFIG_TESTS),$$b/$(t)); \
	done
