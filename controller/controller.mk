# controller/controller.mk — somhop-controller (the FPGAJob CRD controller), its unit tests,
# its cluster tests (against a real etcd + kube-apiserver from scripts/local-cluster.sh) and
# its benchmark.
#
#   $(BUILD)/bin/somhop-controller     controller/ctrl_*.c + $(BUILD)/lib/libsomhop_kube.a
#   $(BUILD)/bin/somhop-ctrl-bench     controller/bench/*.c (job generator + latency probe)
#   $(BUILD)/tests/test_ctrl_*         tests/k8s/test_ctrl_*.c (pure: queue, scheduler, line splitter)
#   tests/k8s/test_controller.sh       cluster scenarios (TEST_CMDS)
#   tests/k8s/bench_controller.sh      1000 jobs onto 100 nodes (BENCH_CMDS)
#   tests/k8s/bench_shard.sh           a 64-shard job onto 100 nodes (BENCH_CMDS)

CTRL_SRCS      := $(wildcard controller/ctrl_*.c)
CTRL_OBJS      := $(CTRL_SRCS:controller/%.c=$(BUILD)/obj/ctrl/%.o)
CTRL_PURE_OBJS := $(BUILD)/obj/ctrl/ctrl_util.o $(BUILD)/obj/ctrl/ctrl_queue.o
CTRL_BIN       := $(BUILD)/bin/somhop-controller
CTRL_BENCH_SRCS := $(wildcard controller/bench/*.c)
CTRL_BENCH_BIN := $(BUILD)/bin/somhop-ctrl-bench
CTRL_INC       := -Icontroller -Ihost/include
CTRL_LIBS      := -lcurl -lcjson -lyaml -lpthread -lm
CTRL_UNIT_SRCS := $(wildcard tests/k8s/test_ctrl_*.c)
CTRL_UNIT_BINS := $(CTRL_UNIT_SRCS:tests/k8s/%.c=$(BUILD)/tests/%)

ALL_TARGETS += $(CTRL_BIN) $(CTRL_UNIT_BINS)
ifneq ($(CTRL_BENCH_SRCS),)
ALL_TARGETS += $(CTRL_BENCH_BIN)
endif
TEST_CMDS   += $(CTRL_UNIT_BINS) $(wildcard tests/k8s/test_controller*.sh)
BENCH_CMDS  += $(wildcard tests/k8s/bench_controller.sh tests/k8s/bench_shard.sh)

$(BUILD)/obj/ctrl/%.o: controller/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(CTRL_INC) -c $< -o $@

$(CTRL_BIN): $(CTRL_OBJS) $(BUILD)/lib/libsomhop_kube.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $(CTRL_OBJS) $(BUILD)/lib/libsomhop_kube.a $(CTRL_LIBS)

$(BUILD)/obj/ctrl/bench/%.o: controller/bench/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(CTRL_INC) -c $< -o $@

$(CTRL_BENCH_BIN): $(CTRL_BENCH_SRCS:controller/bench/%.c=$(BUILD)/obj/ctrl/bench/%.o) $(CTRL_PURE_OBJS) $(BUILD)/lib/libsomhop_kube.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(BUILD)/lib/libsomhop_kube.a $(CTRL_LIBS)

# Pure unit tests: they link only the two dependency-free controller objects.
$(BUILD)/tests/test_ctrl_%: tests/k8s/test_ctrl_%.c $(CTRL_PURE_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(CTRL_INC) -Itests -o $@ $< $(CTRL_PURE_OBJS) -lpthread -lm $(ALL_LDFLAGS)
