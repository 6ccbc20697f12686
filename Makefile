# somhop — the one entry point.
#
#   make            build the library, CLI, kernels (sw), simulation and controller
#   make demo       install deps, build, run the built-in demo (docs in README.md)
#   make test       install deps, build, run every test; ends with "N passed, N failed"
#   make bench      benchmarks (figures land in bench/)
#   make lint       verilator -Wall lint, shellcheck
#   make synth      open-tool synthesis, place-and-route, timing of the RTL (rtl/synth/synth.mk)
#   make asan       the whole test suite under ASan + UBSan
#   make KERNEL_CONFIG=<name>  another kernel configuration (kernels/configs.mk) in build-<name>/
#   make test-configs          every configuration's equivalence and OpenCL tests, each in its tree
#
# Each part of the tree adds its own rules in a fragment (host/host.mk,
# kernels/kernels.mk, ...). Fragments append to these lists:
#   ALL_TARGETS   files `make` builds
#   TEST_CMDS     commands tests/run.sh runs (each prints TAP-style "ok"/"not ok" lines)
#   BENCH_CMDS    commands `make bench` runs
#   LINT_CMDS     commands `make lint` runs

BUILD    ?= build
CC       ?= cc
CXX      ?= g++
OPT      ?= -O2
WERROR   ?= -Werror
SAN      ?=
CFLAGS   ?= $(OPT) -g
CXXFLAGS ?= $(OPT) -g
WARN      = -Wall -Wextra $(WERROR)
DEPFLAGS  = -MMD -MP
ALL_CFLAGS   = -std=c11 -D_GNU_SOURCE $(WARN) $(DEPFLAGS) $(SAN) $(CFLAGS)
ALL_CXXFLAGS = -std=c++17 $(WARN) $(DEPFLAGS) $(SAN) $(CXXFLAGS)
LDFLAGS  ?=
JOBS     ?= $(shell nproc 2>/dev/null || echo 2)
ALL_LDFLAGS = $(SAN) $(LDFLAGS)

ALL_TARGETS :=
TEST_CMDS   :=
BENCH_CMDS  :=
LINT_CMDS   :=

.PHONY: all deps demo test bench lint asan clean
all: deps-check-quiet

# The kernel configuration (KERNEL_CONFIG, may move BUILD) comes before every fragment.
include kernels/configs.mk

# Fragments (each is optional while the tree grows).
-include host/host.mk
-include kernels/kernels.mk
-include rtl/rtl.mk
-include sim/sim.mk
-include controller/controller.mk
-include tests/tests.mk
-include scripts/scripts.mk
-include sim/icd/icd.mk
-include controller/node/node.mk
-include bench/bench.mk
-include python/python.mk
-include bench/stream.mk
-include sim/xrt/xrt.mk
-include rtl/synth/synth.mk

all: $(ALL_TARGETS)

deps:
	@scripts/install-deps.sh

.PHONY: deps-check-quiet
deps-check-quiet:
	@scripts/install-deps.sh --check || { echo "run 'make deps' (or 'make demo' / 'make test', which do it)"; exit 1; }

demo: deps
	@$(MAKE) --no-print-directory -j$(JOBS) all
	@scripts/demo.sh

test: deps
	@$(MAKE) --no-print-directory -j$(JOBS) all
	@tests/run.sh $(TEST_CMDS)

bench: deps
	@$(MAKE) --no-print-directory -j$(JOBS) all
	@set -e; for c in $(BENCH_CMDS); do echo "== $$c"; $$c; done

lint: deps
	@set -e; for c in $(LINT_CMDS); do echo "== $$c"; $$c; done

# The sanitizer build lives in its own tree so it never mixes with the normal one; only the
# Verilated models (built without sanitizers either way, sim/sim.mk) come from the normal
# tree of the same configuration, built there first if they are not yet.
asan: deps
	@$(MAKE) --no-print-directory -j$(JOBS) sim-vl
	@$(MAKE) --no-print-directory -j$(JOBS) BUILD=build-asan SIM_VL_BUILD=$(BUILD) OPT=-O1 \
	  SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
	  SOMHOP_ASAN=1 all
	@$(MAKE) --no-print-directory BUILD=build-asan SIM_VL_BUILD=$(BUILD) SOMHOP_ASAN=1 asan-run

.PHONY: asan-run
asan-run:
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  tests/run.sh $(TEST_CMDS)

clean:
	rm -rf build build-asan $(SOMHOP_CONFIGS:%=build-%)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
