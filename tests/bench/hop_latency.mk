# tests/bench/hop_latency.mk — the Hopfield latency benchmark of issue 15
# (one-probe recall p50 beside the batch figure, Storkey storage time).
#
#   $(BUILD)/bin/somhop-bench-hop   tests/bench/hop_latency.c
# `make bench` runs it at N = 1024, P = 100, 1000 one-probe calls.

BENCH_HOP_BIN := $(BUILD)/bin/somhop-bench-hop
ALL_TARGETS += $(BENCH_HOP_BIN)
BENCH_CMDS  += $(BENCH_HOP_BIN)

$(BENCH_HOP_BIN): tests/bench/hop_latency.c $(LIBSOMHOP)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(HOST_INC) -o $@ $< $(LIBSOMHOP) $(SOMHOP_LIBS) $(ALL_LDFLAGS)
