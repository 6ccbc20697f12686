# controller/node/node.mk — the shared kube client library, the somhop-node agent (a development
# and test stand-in for a kubelet), the local control plane targets and their tests.
#
#   $(BUILD)/lib/libsomhop_kube.a   controller/kube/*.c (link with $(KUBE_LIBS))
#   $(BUILD)/bin/somhop-node        controller/node/*.c
#   make cluster-deps               build (once, cached) etcd, kube-apiserver, kubectl
#   make cluster-up / cluster-down  scripts/local-cluster.sh up|down (default state dir)
#   make cluster-demo               control plane + controller + two sim nodes + example jobs
#   make test-real-node             only the real-node end-to-end tests (kubelet + containerd +
#                                   kube-controller-manager, scripts/real-node.sh); part of make test
#
# This fragment is read after controller/controller.mk: other fragments should write the literal
# path $(BUILD)/lib/libsomhop_kube.a in their prerequisites.

KUBE_LIB    := $(BUILD)/lib/libsomhop_kube.a
KUBE_SRCS   := $(wildcard controller/kube/*.c)
KUBE_OBJS   := $(KUBE_SRCS:%.c=$(BUILD)/obj/%.o)
KUBE_LIBS   := -lcurl -lcjson -lyaml -lpthread
KUBE_INC    := -Icontroller -Ihost/include
# Bounded snprintf truncation of names/paths is intended here (long names are cut, not overrun).
NODE_CFLAGS := -Wno-format-truncation
NODE_SRCS   := $(wildcard controller/node/*.c)
NODE_OBJS   := $(NODE_SRCS:%.c=$(BUILD)/obj/%.o)
NODE_BIN    := $(BUILD)/bin/somhop-node
K8S_UNIT_SRCS := $(wildcard tests/k8s/test_kube_*.c)
K8S_UNIT_BINS := $(K8S_UNIT_SRCS:tests/k8s/%.c=$(BUILD)/tests/%)

ALL_TARGETS += $(KUBE_LIB) $(K8S_UNIT_BINS)
ifneq ($(NODE_SRCS),)
ALL_TARGETS += $(NODE_BIN)
endif
TEST_CMDS   += $(K8S_UNIT_BINS) $(wildcard tests/k8s/test_crd*.sh tests/k8s/test_node*.sh tests/k8s/test_run*.sh tests/k8s/test_cluster*.sh)
REAL_NODE_TESTS := $(wildcard tests/k8s/test_real_node*.sh)
TEST_CMDS   += $(REAL_NODE_TESTS)

$(BUILD)/obj/controller/kube/%.o: controller/kube/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(NODE_CFLAGS) $(KUBE_INC) -c $< -o $@

$(BUILD)/obj/controller/node/%.o: controller/node/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(NODE_CFLAGS) $(KUBE_INC) -c $< -o $@

$(KUBE_LIB): $(KUBE_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

$(NODE_BIN): $(NODE_OBJS) $(KUBE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $(NODE_OBJS) $(KUBE_LIB) $(KUBE_LIBS)

$(BUILD)/tests/test_kube_%: tests/k8s/test_kube_%.c $(KUBE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(NODE_CFLAGS) $(KUBE_INC) -Itests -o $@ $< $(KUBE_LIB) $(KUBE_LIBS) $(ALL_LDFLAGS)

.PHONY: cluster-deps cluster-up cluster-down cluster-demo test-real-node
test-real-node: deps
	@$(MAKE) --no-print-directory -j$(JOBS) $(SOMHOP_BIN) $(CTRL_BIN) $(NODE_BIN) $(BUILD)/lib/libsomhop_emu_icd.so \
	  $(BUILD)/xclbin/somhop.sw_emu.xclbin $(BUILD)/xclbin/somhop.hw_emu.xclbin
	@tests/run.sh $(REAL_NODE_TESTS)

cluster-deps:
	@scripts/local-cluster.sh build

cluster-up: cluster-deps
	@scripts/local-cluster.sh up
	@scripts/local-cluster.sh env

cluster-down:
	@scripts/local-cluster.sh down

cluster-demo: deps
	@$(MAKE) --no-print-directory all
	@SOMHOP_BUILD=$(abspath $(BUILD)) scripts/cluster-demo.sh

# `somhop run` (host/src/cli/cmd_run.c) reads ConfigMaps through the kube client and fetches
# URLs with libcurl: the CLI links the kube library and its libraries (no edit to host.mk).
$(BUILD)/obj/host/src/cli/cmd_run.o: HOST_INC += -Icontroller
$(SOMHOP_BIN): $(KUBE_LIB)
$(SOMHOP_BIN): SOMHOP_LIBS += $(KUBE_LIB) $(KUBE_LIBS)
$(BUILD)/obj/host/src/cli/run_xclnode.o: HOST_INC += -Icontroller
