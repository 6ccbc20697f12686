# sim/xrt/xrt.mk — the real Xilinx Runtime (XRT 2.18.0) in the loop:
#
#   scripts/install-xrt.sh       -> $(XRT_PREFIX) (~/.cache/somhop/xrt-2.18.0: XRT's
#                                   libxrt_coreutil, libxilinxopencl, libxrt_noop;
#                                   built once from source, then cached)
#   sim/xrt/shim.cpp             -> $(XRT_HOME)/lib/libxrt_somhop_{hw,sw}emu.so.2
#                                   (the device layer XRT loads for hw_emu / sw_emu)
#   sim/xrt/mkxrtxclbin.cpp      -> $(BUILD)/bin/somhop-xrt-xclbin
#                                -> $(BUILD)/xrt/xclbin/somhop.{hw_emu,sw_emu}.xclbin
#                                   (XRT layout: IP_LAYOUT, CONNECTIVITY, HBM topology)
#   $(XRT_HOME)                  a XILINX_XRT tree: XRT's libraries (links into the
#                                cache) beside the two shims, plus xrt.ini files
#   tests/xrt/*                  native API, OpenCL-ICD and libsomhop --runtime xrt
#                                tests (TEST_CMDS); test_xrt_runtime links no XRT:
#                                libsomhop loads libxrt_coreutil at run time
#
# SOMHOP_XRT=0 leaves all of it out (a first `make` without the ~15 min XRT build).
# SOMHOP_CACHE moves the cache (default ~/.cache/somhop), SOMHOP_XRT_SRC the source.

# The F2 / U55C pool manifests (controller/deploy/{f2,u55c}) need no XRT.
TEST_CMDS += $(abspath tests/xrt/test_fpga_manifests.sh)

SOMHOP_XRT ?= 1
ifeq ($(SOMHOP_XRT),1)

XRT_PREFIX   := $(shell scripts/install-xrt.sh --prefix)
XRT_STAMP    := $(XRT_PREFIX)/BUILD-INFO
XRT_SRCROOT  := $(XRT_PREFIX)/src/src/runtime_src
XRT_HOME     := $(BUILD)/xrt
XRT_LIBDIR   := $(XRT_HOME)/lib
XRT_SHIM_HW  := $(XRT_LIBDIR)/libxrt_somhop_hwemu.so.2
XRT_SHIM_SW  := $(XRT_LIBDIR)/libxrt_somhop_swemu.so.2
XRT_LINKS    := $(XRT_LIBDIR)/libxrt_coreutil.so.2
XRT_MKXCLBIN := $(BUILD)/bin/somhop-xrt-xclbin
XRT_XCLBINS  := $(XRT_HOME)/xclbin/somhop.hw_emu.xclbin $(XRT_HOME)/xclbin/somhop.sw_emu.xclbin
XRT_INIS     := $(XRT_HOME)/xrt.ini
# CUs per kernel in the emulation xclbin: BMU_CU, HOP_CU of the configuration
# (kernels/configs.mk), at least 2 each so the multi-CU path is always exercised.
xrt_atleast2  = $(if $(filter 0 1,$(or $(1),2)),2,$(or $(1),2))
XRT_BMU_CU   ?= $(call xrt_atleast2,$(call cfg,BMU_CU))
XRT_HOP_CU   ?= $(call xrt_atleast2,$(call cfg,HOP_CU))

XRT_CXXFLAGS := -std=gnu++17 $(OPT) -g -fPIC -Wall -Wextra $(WERROR) $(DEPFLAGS) $(SAN) \
                -Wno-unused-parameter -Wno-deprecated-declarations \
                -DXCLHAL_MAJOR_VER=2 -DXCLHAL_MINOR_VER=1 -DBOOST_BIND_GLOBAL_PLACEHOLDERS \
                -isystem $(XRT_SRCROOT) -isystem $(XRT_SRCROOT)/core/include \
                -isystem $(XRT_SRCROOT)/core/common/gsl/include -isystem $(XRT_PREFIX)/build/gen \
                -isystem $(XRT_PREFIX)/build -Ikernels -Isim/include -Isim/xrt
XRT_SHIM_LIBS := $(XRT_PREFIX)/lib/objects/libxrt_shimcommon.a -L$(XRT_PREFIX)/lib -lxrt_coreutil \
                 -lboost_filesystem -luuid -lpthread -ldl
XRT_RPATH    := -Wl,-rpath,$(abspath $(XRT_LIBDIR))

# Host programs on XRT's native API: XRT's public headers, libxrt_coreutil.
XRT_HOST_CFLAGS := -isystem $(XRT_PREFIX)/include
XRT_HOST_LIBS   := -L$(abspath $(XRT_LIBDIR)) -lxrt_coreutil $(XRT_RPATH)

XRT_TEST_BINS := $(BUILD)/tests/xrt/test_xrt_native $(BUILD)/tests/xrt/test_xrt_ocl $(BUILD)/tests/xrt/test_xrt_runtime
ALL_TARGETS += $(XRT_SHIM_HW) $(XRT_SHIM_SW) $(XRT_MKXCLBIN) $(XRT_XCLBINS) $(XRT_INIS) $(XRT_TEST_BINS)
TEST_CMDS   += $(abspath tests/xrt/test_install_xrt.sh) $(abspath tests/xrt/test_xrt.sh) \
               $(abspath tests/xrt/test_xrt_cli.sh) $(abspath tests/xrt/test_xrt_runtime.sh)

export SOMHOP_XRT_HOME := $(abspath $(XRT_HOME))

.PHONY: xrt
xrt: $(XRT_SHIM_HW) $(XRT_SHIM_SW) $(XRT_XCLBINS) $(XRT_INIS) $(XRT_TEST_BINS)

$(XRT_STAMP):
	scripts/install-xrt.sh

# XILINX_XRT layout: XRT's libraries from the cache, the shims beside them.
$(XRT_LINKS): $(XRT_STAMP)
	@mkdir -p $(XRT_LIBDIR)
	for f in $(XRT_PREFIX)/lib/lib*.so*; do ln -sfn $$f $(XRT_LIBDIR)/; done
	@touch -h $@

# The dependency files of the shim objects are only ever written by the compiler: an
# empty rule keeps make from "remaking" them through its built-in %: %.o chain and the
# shim_%.o pattern below (which once linked a binary into shim_sw.d).
$(BUILD)/obj/xrt/%.d: ;

$(BUILD)/obj/xrt/shim_%.o: sim/xrt/shim.cpp $(XRT_STAMP)
	@mkdir -p $(dir $@)
	$(CXX) $(XRT_CXXFLAGS) -DSOMHOP_XRT_HW=$(if $(filter hw,$*),1,0) -c $< -o $@

$(XRT_SHIM_HW): $(BUILD)/obj/xrt/shim_hw.o $(SIM_LIB) $(XRT_LINKS)
	$(CXX) $(ALL_LDFLAGS) -shared -Wl,-soname,libxrt_somhop_hwemu.so.2 -o $@ $< $(SOMHOP_SIM_LIBS) \
	  $(XRT_SHIM_LIBS) $(XRT_RPATH) -Wl,-z,defs
	@# XRT 2.18's OpenCL layer wants [Runtime] hw_em_driver as a full .so.2 path,
	@# its core library as a name it expands to $$XILINX_XRT/lib/lib<name>.so.2:
	@# this link makes the one absolute value in xrt.ini satisfy both (docs/xrt.md).
	@mkdir -p $(XRT_LIBDIR)/lib$(dir $(abspath $@))
	ln -sfn $(abspath $@) $(XRT_LIBDIR)/lib$(abspath $@).so.2

$(XRT_SHIM_SW): $(BUILD)/obj/xrt/shim_sw.o $(LIBSOMHOP_HLS) $(XRT_LINKS)
	$(CXX) $(ALL_LDFLAGS) -shared -Wl,-soname,libxrt_somhop_swemu.so.2 -o $@ $< $(LIBSOMHOP_HLS) \
	  $(XRT_SHIM_LIBS) $(XRT_RPATH) -Wl,-z,defs
	@mkdir -p $(XRT_LIBDIR)/lib$(dir $(abspath $@))
	ln -sfn $(abspath $@) $(XRT_LIBDIR)/lib$(abspath $@).so.2

$(XRT_INIS): sim/xrt/xrt.mk
	@mkdir -p $(dir $@)
	printf '[Runtime]\nhw_em_driver=%s\nsw_em_driver=%s\n' $(abspath $(XRT_SHIM_HW)) $(abspath $(XRT_SHIM_SW)) > $@

$(XRT_MKXCLBIN): sim/xrt/mkxrtxclbin.cpp $(XRT_STAMP)
	@mkdir -p $(dir $@)
	$(CXX) $(XRT_CXXFLAGS) -o $@ $< $(ALL_LDFLAGS)

XRT_KXML := rtl/som_bmu/kernel.xml rtl/hopfield_update/kernel.xml
$(XRT_HOME)/xclbin/somhop.%.xclbin: $(XRT_MKXCLBIN) $(XRT_KXML) $(SOMHOP_CFG_H)
	@mkdir -p $(dir $@)
	$(XRT_MKXCLBIN) --target $* --cus som_bmu=$(XRT_BMU_CU) --cus hopfield_update=$(XRT_HOP_CU) \
	  --timestamp 0 -o $@ $(XRT_KXML)

$(BUILD)/tests/xrt/test_xrt_native: tests/xrt/test_xrt_native.c tests/xrt/xrt_test.h $(LIBSOMHOP) $(XRT_LINKS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(HOST_INC) -Itests -Isim/xrt $(XRT_HOST_CFLAGS) -o $@ $< $(LIBSOMHOP) \
	  $(SOMHOP_LIBS) $(XRT_HOST_LIBS) -ldl $(ALL_LDFLAGS)

$(BUILD)/tests/xrt/test_xrt_ocl: tests/xrt/test_xrt_ocl.c tests/xrt/xrt_test.h $(LIBSOMHOP)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(HOST_INC) -Itests -Isim/xrt -o $@ $< $(LIBSOMHOP) $(SOMHOP_LIBS) -ldl $(ALL_LDFLAGS)

# libsomhop's XRT runtime (host/src/accel_xrt.c) needs no XRT header or library to build.
$(BUILD)/tests/xrt/test_xrt_runtime: tests/xrt/test_xrt_runtime.c $(LIBSOMHOP)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(HOST_INC) -Itests -Isim/xrt -o $@ $< $(LIBSOMHOP) $(SOMHOP_LIBS) -ldl $(ALL_LDFLAGS)

endif
