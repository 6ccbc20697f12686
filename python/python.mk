# python/python.mk — the Python package (python/): its tests run from
# `make test` (tests/python/run.sh builds it into $(BUILD)/pyvenv with pip).
# Not part of `make asan`: the extension is built by pip without sanitizers.
ifeq ($(SAN),)
TEST_CMDS += $(abspath tests/python/run.sh)
endif
BENCH_CMDS += $(abspath bench/python.sh)
