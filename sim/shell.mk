# sim/shell.mk — the shared kernel shell (rtl/common/) under test: included by
# sim/sim.mk right after its model list.
#
# Test tops: rtl/common/test/somhop_shell_tb.sv (a memcpy kernel on
# somhop_axil_ctrl + somhop_axi_rd + somhop_axi_wr) verilated three ways and
# linked into the harness under the test-only names of somhop_sim_test.h:
#   somhop_shell_tb        512-bit, MAX_BURST 64, MAX_OUTST 16, FIFO_DEPTH 1024
#   somhop_shell_tb_w64    64-bit (the v1 kernels' width), MAX_BURST 64
#   somhop_shell_tb_small  512-bit, MAX_BURST 16, MAX_OUTST 4, FIFO_DEPTH 32 (credit-bound)
# (in a spec, '+' separates several -G overrides)
SIM_FLIST_somhop_shell_tb := rtl/common/test/somhop_shell_tb.f
SIM_MODEL_SPECS += somhop_shell_tb:somhop_shell_tb: \
                   somhop_shell_tb_w64:somhop_shell_tb:-GDATA_W=64 \
                   somhop_shell_tb_small:somhop_shell_tb:-GMAX_BURST=16+-GMAX_OUTST=4+-GFIFO_DEPTH=32

SHELL_TEST_BIN := $(BUILD)/tests/test_shell

ALL_TARGETS += $(SHELL_TEST_BIN)
TEST_CMDS   += $(SHELL_TEST_BIN)

$(SHELL_TEST_BIN): tests/sim/test_shell.c $(SIM_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(SIM_TEST_CFLAGS) -c $< -o $@.o
	$(CXX) $(ALL_LDFLAGS) -o $@ $@.o $(SOMHOP_SIM_LIBS)
