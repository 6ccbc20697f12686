# sim/icd/icd.mk — the somhop emulation OpenCL platform (a vendor ICD),
# the emulation xclbins, and the OpenCL-path tests and benchmark.
#
#   sim/icd/*.c              -> $(BUILD)/lib/libsomhop_emu_icd.so
#   sim/icd/mkxclbin.c       -> $(BUILD)/bin/somhop-mkxclbin
#   rtl/*/kernel.xml         -> $(BUILD)/xclbin/somhop.{sw_emu,hw_emu}.xclbin (configuration,
#                               compute units and banks from kernels/configs.mk)
#   tests/ocl/test_*.c       -> $(BUILD)/tests/ocl/test_*   (TEST_CMDS)
#   tests/ocl/test_*.sh      -> run as they are             (TEST_CMDS)
#   tests/ocl/bench_ocl_overhead.c -> $(BUILD)/bench/bench_ocl_overhead (BENCH_CMDS)
#
# The ICD links the HLS kernels ($(LIBSOMHOP_HLS), sw_emu) and the Verilator
# harness ($(SIM_LIB) via $(SOMHOP_SIM_LIBS), hw_emu) when those parts of the
# tree exist; without them the device reports the engine missing
# (ICD_HAVE_HLS=0 / ICD_HAVE_SIM=0 on the command line force that).
# Only clIcdGetPlatformIDsKHR, clGetPlatformInfo and
# clGetExtensionFunctionAddress are exported (sim/icd/icd.map).
#
# Tests select the ICD with OCL_ICD_VENDORS=$(ICD_SO) (ocl-icd) and
# OCL_ICD_FILENAMES (Khronos loader); they set both themselves.

ICD_SO       := $(BUILD)/lib/libsomhop_emu_icd.so
MKXCLBIN     := $(BUILD)/bin/somhop-mkxclbin
ICD_GEN      := $(BUILD)/gen/icd
ICD_SRCS     := sim/icd/icd.c sim/icd/emu_xclbin.c sim/icd/emu_sw.c sim/icd/emu_hw.c
ICD_OBJS     := $(ICD_SRCS:%.c=$(BUILD)/obj/pic/%.o)
ICD_CL_ICD_H ?= $(firstword $(wildcard /usr/include/CL/cl_icd.h) /usr/include/CL/cl_icd.h)

# Engines present in this tree?
ICD_HAVE_HLS ?= $(if $(LIBSOMHOP_HLS),1,0)
ICD_HAVE_SIM ?= $(if $(SIM_LIB),1,0)
ICD_ENGINE_LIBS := $(if $(filter 1,$(ICD_HAVE_HLS)),$(LIBSOMHOP_HLS)) \
                   $(if $(filter 1,$(ICD_HAVE_SIM)),$(SOMHOP_SIM_LIBS))
ICD_ENGINE_DEPS := $(if $(filter 1,$(ICD_HAVE_HLS)),$(LIBSOMHOP_HLS)) \
                   $(if $(filter 1,$(ICD_HAVE_SIM)),$(SIM_LIB))
ICD_CFLAGS   := $(ALL_CFLAGS) -fPIC -fvisibility=hidden -Isim/icd -I$(ICD_GEN) -Ikernels -Isim/include \
                -DSOMHOP_EMU_HAVE_HLS=$(ICD_HAVE_HLS) -DSOMHOP_EMU_HAVE_SIM=$(ICD_HAVE_SIM)

# Emulation xclbins from every kernel.xml in rtl/.
ICD_KERNEL_XMLS := $(sort $(wildcard rtl/*/kernel.xml))
ICD_XCLBINS  := $(if $(ICD_KERNEL_XMLS),$(BUILD)/xclbin/somhop.sw_emu.xclbin $(BUILD)/xclbin/somhop.hw_emu.xclbin)

# Tests and benchmark.
OCL_TEST_SRCS := $(wildcard tests/ocl/test_*.c)
OCL_TEST_BINS := $(OCL_TEST_SRCS:tests/ocl/%.c=$(BUILD)/tests/ocl/%)
OCL_TEST_SH   := $(wildcard tests/ocl/test_*.sh)
OCL_BENCH     := $(if $(and $(LIBSOMHOP_HLS),$(SIM_LIB)),$(BUILD)/bench/bench_ocl_overhead)

ALL_TARGETS += $(ICD_SO) $(MKXCLBIN) $(ICD_XCLBINS) $(OCL_TEST_BINS) $(OCL_BENCH)
TEST_CMDS   += $(OCL_TEST_BINS) $(OCL_TEST_SH)
BENCH_CMDS  += $(OCL_BENCH)

export SOMHOP_EMU_ICD := $(abspath $(ICD_SO))

$(ICD_GEN)/icd_dispatch.inc: sim/icd/gen_dispatch.py $(ICD_CL_ICD_H)
	@mkdir -p $(dir $@)
	printf '#define CL_TARGET_OPENCL_VERSION 300\n#include <CL/cl_icd.h>\n' | \
	  $(CC) -E -P -x c - > $@.i
	python3 sim/icd/gen_dispatch.py $@.i > $@.tmp && mv $@.tmp $@ && rm -f $@.i

$(BUILD)/obj/pic/sim/icd/%.o: sim/icd/%.c $(ICD_GEN)/icd_dispatch.inc
	@mkdir -p $(dir $@)
	$(CC) $(ICD_CFLAGS) -c $< -o $@

$(ICD_SO): $(ICD_OBJS) sim/icd/icd.map $(ICD_ENGINE_DEPS)
	@mkdir -p $(dir $@)
	$(CXX) $(ALL_LDFLAGS) -shared -o $@ $(ICD_OBJS) $(ICD_ENGINE_LIBS) \
	  -Wl,--version-script=sim/icd/icd.map -Wl,-z,defs -lpthread -lm

$(MKXCLBIN): sim/icd/mkxclbin.c sim/icd/emu_xclbin.c sim/icd/emu_xclbin.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Isim/icd -o $@ sim/icd/mkxclbin.c sim/icd/emu_xclbin.c $(ALL_LDFLAGS)

# The configuration of kernels/configs.mk: its name, parameters and compute units.
$(BUILD)/xclbin/somhop.%.xclbin: $(MKXCLBIN) $(ICD_KERNEL_XMLS) $(SOMHOP_CFG_H)
	@mkdir -p $(dir $@)
	$(MKXCLBIN) --target $* $(SOMHOP_CFG_XCLBIN_ARGS) -o $@ $(ICD_KERNEL_XMLS)

OCL_TEST_INC := $(HOST_INC) -Itests -Isim/icd

$(BUILD)/tests/ocl/%: tests/ocl/%.c tests/ocl/ocl_test.h $(LIBSOMHOP) $(ICD_SO) $(ICD_XCLBINS) $(MKXCLBIN)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(OCL_TEST_INC) $(PNG_CFLAGS) -o $@ $< $(LIBSOMHOP) $(SOMHOP_LIBS) $(ALL_LDFLAGS)

# The benchmark also calls the engines directly (HLS kernels, harness).
$(BUILD)/bench/bench_ocl_overhead: tests/ocl/bench_ocl_overhead.c tests/ocl/ocl_test.h $(LIBSOMHOP) $(ICD_SO) \
    $(ICD_XCLBINS) $(LIBSOMHOP_HLS) $(SIM_LIB)
	@mkdir -p $(dir $@) $(BUILD)/obj/tests/ocl
	$(CC) $(ALL_CFLAGS) $(OCL_TEST_INC) -c $< -o $(BUILD)/obj/tests/ocl/bench_ocl_overhead.o
	$(CXX) $(ALL_LDFLAGS) -o $@ $(BUILD)/obj/tests/ocl/bench_ocl_overhead.o $(LIBSOMHOP) $(LIBSOMHOP_HLS) \
	  $(SOMHOP_SIM_LIBS) $(SOMHOP_LIBS)
