# sim/shell.mk — the shared kernel shell (rtl/common/) under test: included by
# sim/sim.mk after its model lists, which this fragment extends.
#
# Test tops: rtl/common/test/somhop_shell_tb.sv (a memcpy kernel on
# somhop_axil_ctrl + somhop_axi_rd + somhop_axi_wr) verilated three ways and
# linked into the harness under the test-only names of somhop_sim_test.h:
#   somhop_shell_tb        512-bit, MAX_BURST 64, MAX_OUTST 16, FIFO_DEPTH 1024
#   somhop_shell_tb_w64    64-bit (the v1 kernels' width), MAX_BURST 64
#   somhop_shell_tb_small  512-bit, MAX_BURST 16, MAX_OUTST 4, FIFO_DEPTH 32 (credit-bound)
SHELL_TB_F     := rtl/common/test/somhop_shell_tb.f
SHELL_MODELS   := somhop_shell_tb somhop_shell_tb_w64 somhop_shell_tb_small
SHELL_G_somhop_shell_tb       :=
SHELL_G_somhop_shell_tb_w64   := -GDATA_W=64
SHELL_G_somhop_shell_tb_small := -GMAX_BURST=16 -GMAX_OUTST=4 -GFIFO_DEPTH=32

SIM_MODELS     += $(SHELL_MODELS)
SIM_MODEL_LIBS += $(foreach k,$(SHELL_MODELS),$(SIM_VL_DIR)/$(k)/V$(k)__ALL.a)
SIM_MODEL_HDRS += $(foreach k,$(SHELL_MODELS),$(SIM_VL_DIR)/$(k)/V$(k).h)

# Same flags and archive layout as sim/sim.mk's SIM_VERILATE; $(1) model name.
define SHELL_VERILATE
$(SIM_VL_DIR)/$(1)/V$(1).h: $(SHELL_TB_F) rtl/lint.vlt $(shell cat $(SHELL_TB_F) 2>/dev/null)
	@rm -rf $(SIM_VL_DIR)/$(1) && mkdir -p $(SIM_VL_DIR)/$(1)
	$(VERILATOR) $(SIM_VL_FLAGS) rtl/lint.vlt -f $(SHELL_TB_F) --top-module somhop_shell_tb \
	  $(SHELL_G_$(1)) --prefix V$(1) --Mdir $(SIM_VL_DIR)/$(1)

$(SIM_VL_DIR)/$(1)/V$(1)__ALL.a: $(SIM_VL_DIR)/$(1)/V$(1).h
	@set -e; cd $(SIM_VL_DIR)/$(1); rm -f *.o $$(@F); \
	  ls V$(1)*.cpp | xargs -P 2 -I{} sh -c \
	    'echo "  CXX $(1)/{}" && $(SIM_MODEL_CXX) -I. -c {} -o $$$$(basename {} .cpp).o'; \
	  ar rcs $$(@F) V$(1)*.o
endef
$(foreach m,$(SHELL_MODELS),$(eval $(call SHELL_VERILATE,$(m))))

SHELL_TEST_BIN := $(BUILD)/tests/test_shell

ALL_TARGETS += $(SHELL_TEST_BIN)
TEST_CMDS   += $(SHELL_TEST_BIN)

$(SHELL_TEST_BIN): tests/sim/test_shell.c $(SIM_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(SIM_TEST_CFLAGS) -c $< -o $@.o
	$(CXX) $(ALL_LDFLAGS) -o $@ $@.o $(SOMHOP_SIM_LIBS)
