# python/python.mk — the Python package (python/): its tests run from
# `make test` (tests/python/run.sh builds it into $(BUILD)/pyvenv with pip).
# Not part of `make asan` (SOMHOP_ASAN=1): the extension is built by pip without sanitizers
# and cannot load the sanitizer-built emulation platform of build-asan/.
ifeq ($(SAN)$(SOMHOP_ASAN),)
TEST_CMDS += $(abspath tests/python/run.sh)
endif
BENCH_CMDS += $(abspath bench/python.sh)
