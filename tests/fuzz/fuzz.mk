# tests/fuzz/fuzz.mk — libFuzzer harnesses (clang) for every parser of
# untrusted input, built with ASan + UBSan in their own tree.
#
#   make fuzz                  build and run each harness FUZZ_TIME seconds (default 60)
#   make fuzz FUZZ_TIME=20     the CI smoke run (.ci/run)
#   make fuzz FUZZ_TIME=1800 FUZZ_ONLY=model   a long run of one harness
#
# Harnesses (tests/fuzz/fuzz_*.c), seed corpora in tests/fuzz/corpus/<name>/:
#   csv         CSV text -> dataset -> 1-epoch SOM training, QE/TE (f32, f64)
#   npy         .npy image -> dataset -> BMU search
#   pbm         PBM (P1/P4) -> Hebbian store + recall
#   model       model container with regenerated CRCs -> SOM / Hopfield loader -> use
#   kubeconfig  the controller's kubeconfig loader (YAML and JSON)
#   job         the job runner's JSON job spec (somhop run --plan)
# New inputs a run finds go to $(FUZZ_BUILD)/fuzz/corpus-<name>/ (not the tree);
# a crash leaves its reproducer in $(FUZZ_BUILD)/fuzz/ and fails the target.

FUZZ_BUILD ?= build-fuzz
FUZZ_TIME  ?= 60
FUZZ_CC    ?= clang
FUZZ_NAMES := csv npy pbm model kubeconfig job
FUZZ_ONLY  ?= $(FUZZ_NAMES)
FUZZ_SAN   := -fsanitize=address,undefined,fuzzer-no-link -fno-omit-frame-pointer \
              -fno-sanitize-recover=undefined
FUZZ_BINS   = $(FUZZ_NAMES:%=$(BUILD)/fuzz/fuzz_%)
# The CLI without main.o: the job harness calls somhop_cmd_run directly.
FUZZ_CLI_OBJS = $(filter-out %/main.o,$(CLI_OBJS))

.PHONY: fuzz fuzz-bins fuzz-run
fuzz: deps
	@command -v $(FUZZ_CC) >/dev/null || { echo "make fuzz needs $(FUZZ_CC) (make deps installs it)"; exit 1; }
	@$(MAKE) --no-print-directory -j$(JOBS) BUILD=$(FUZZ_BUILD) CC=$(FUZZ_CC) OPT=-O1 WERROR= \
	  SAN="$(FUZZ_SAN)" fuzz-bins
	@$(MAKE) --no-print-directory BUILD=$(FUZZ_BUILD) fuzz-run

fuzz-bins: $(FUZZ_BINS)

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(LIBSOMHOP) $(BUILD)/lib/libsomhop_kube.a $(FUZZ_CLI_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(HOST_INC) -Icontroller -fsanitize=fuzzer -o $@ $< $(FUZZ_CLI_OBJS) \
	  $(LIBSOMHOP) $(BUILD)/lib/libsomhop_kube.a $(SOMHOP_LIBS) -lcurl -lcjson -lyaml $(ALL_LDFLAGS)

# Each harness: FUZZ_TIME seconds from the seeds; prints the executions; any
# crash, leak, sanitizer report or timeout fails.
fuzz-run:
	@set -e; for t in $(FUZZ_ONLY); do \
	  mkdir -p $(BUILD)/fuzz/corpus-$$t; \
	  log=$(BUILD)/fuzz/$$t.log; \
	  if ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
	     UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	     $(BUILD)/fuzz/fuzz_$$t -max_total_time=$(FUZZ_TIME) -print_final_stats=1 \
	       -timeout=10 -rss_limit_mb=2048 -max_len=8192 -artifact_prefix=$(BUILD)/fuzz/$$t- \
	       $(BUILD)/fuzz/corpus-$$t tests/fuzz/corpus/$$t >$$log 2>&1; then \
	    echo "ok - fuzz $$t: $$(sed -n 's/^stat::number_of_executed_units: *//p' $$log) executions in $(FUZZ_TIME) s, no crash"; \
	  else \
	    echo "not ok - fuzz $$t: see $$log"; tail -40 $$log; exit 1; \
	  fi; \
	done
