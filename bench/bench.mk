# bench/bench.mk — the CPU benchmark program (host-algo) and its quick run.
#
#   $(BUILD)/bin/somhop-bench-cpu   bmu | train | hopfield | gen (tests/bench/somhop_bench_cpu.c)
#   bench/cpu.sh                    generates the issue-7 workloads and prints somhop's figures
# The side-by-side peer comparison (scripts/bench-peers.sh) calls the same program.

BENCH_CPU_BIN := $(BUILD)/bin/somhop-bench-cpu
ALL_TARGETS += $(BENCH_CPU_BIN)
BENCH_CMDS  += bench/cpu.sh

$(BENCH_CPU_BIN): tests/bench/somhop_bench_cpu.c $(LIBSOMHOP)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(HOST_INC) -o $@ $< $(LIBSOMHOP) $(SOMHOP_LIBS) $(ALL_LDFLAGS)

# End-to-end test of the benchmark program on small generated workloads.
TEST_CMDS += tests/bench/test_bench_cpu.sh
# The peer report (bench/peers/peers.py report) on a results file of its own.
TEST_CMDS += tests/bench/test_bench_report.sh

# The int8 / fp32 instruction ceiling of this core (vpdpbusd vs vfmadd231ps), issue 16.
BENCH_DOTPEAK_BIN := $(BUILD)/bin/somhop-bench-dotpeak
ALL_TARGETS += $(BENCH_DOTPEAK_BIN)

$(BENCH_DOTPEAK_BIN): tests/bench/somhop_bench_dotpeak.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(ALL_LDFLAGS)
