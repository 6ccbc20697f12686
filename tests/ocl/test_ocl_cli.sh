#!/usr/bin/env bash
# test_ocl_cli.sh — the emulation ICD seen from outside: clinfo lists it
# (library path, .icd file and vendors-directory forms of OCL_ICD_VENDORS),
# scripts/install-emu-icd.sh registers it, `somhop devices` reports it, and
# a missing ICD or a failing kernel is a clear error with exit status 4
# through the CLI. Also checks the emulation xclbins' register offsets
# against kernels/somhop_fixed.h section 4.
set -u
ROOT=${SOMHOP_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${SOMHOP_BUILD:-$ROOT/build}
# shellcheck source=tests/check.sh
. "$ROOT/tests/check.sh"

unset SOMHOP_EMU_KERNEL_MHZ SOMHOP_EMU_PCIE_GBPS SOMHOP_EMU_XFER_LATENCY_US SOMHOP_EMU_CYCLE_BUDGET \
  SOMHOP_EMU_TRACE SOMHOP_XCLBIN
ICD=$BUILD/lib/libsomhop_emu_icd.so
SOMHOP=$BUILD/bin/somhop
MK=$BUILD/bin/somhop-mkxclbin
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# clinfo is not built with sanitizers: preload the runtime an instrumented
# ICD (make asan) needs, so the ICD can be loaded into it.
PRELOAD=
if ldd "$ICD" 2>/dev/null | grep -q libasan; then
  PRELOAD=$(gcc -print-file-name=libasan.so):$(gcc -print-file-name=libubsan.so)
fi
run_clinfo() { ASAN_OPTIONS=detect_leaks=0 LD_PRELOAD=$PRELOAD OCL_ICD_VENDORS=$1 OCL_ICD_FILENAMES=$1 clinfo -l 2>&1; }

out=$(run_clinfo "$ICD")
check_contains "clinfo lists the platform (OCL_ICD_VENDORS=library)" "$out" "somhop emulation"
check_contains "clinfo lists sw_emu" "$out" "sw_emu"
check_contains "clinfo lists hw_emu" "$out" "hw_emu"

# install-emu-icd.sh into a private prefix and vendors directory
"$ROOT/scripts/install-emu-icd.sh" --build "$BUILD" --prefix "$TMP/prefix" --vendors-dir "$TMP/vendors" 2>/dev/null
check_rc "install-emu-icd.sh succeeds" $? 0
check_eq "the .icd file holds the installed library's path" "$(cat "$TMP/vendors/somhop-emu.icd" 2>/dev/null)" \
  "$TMP/prefix/lib/somhop/libsomhop_emu_icd.so"
out=$(run_clinfo "$TMP/vendors")
check_contains "clinfo finds it through a vendors directory" "$out" "somhop emulation"
out=$(run_clinfo "$TMP/vendors/somhop-emu.icd")
check_contains "clinfo finds it through the .icd file" "$out" "somhop emulation"
dry=$("$ROOT/scripts/install-emu-icd.sh" --dry-run --build "$BUILD" 2>&1)
check_contains "dry run prints the system-wide .icd path" "$dry" "/etc/OpenCL/vendors/somhop-emu.icd"
"$ROOT/scripts/install-emu-icd.sh" --uninstall --prefix "$TMP/prefix" --vendors-dir "$TMP/vendors" 2>/dev/null
check_eq "uninstall removes the .icd file" "$(ls "$TMP/vendors")" ""
"$ROOT/scripts/install-emu-icd.sh" --bogus >/dev/null 2>&1
check_rc "unknown option: usage error" $? 2

# somhop devices
out=$(OCL_ICD_VENDORS=$ICD "$SOMHOP" devices 2>&1)
check_rc "somhop devices with the ICD: exit 0" $? 0
check_contains "devices: hw_emu served by the emulation platform" "$out" "hw_emu   somhop emulation / hw_emu"
check_contains "devices: sw_emu served" "$out" "sw_emu   somhop emulation / sw_emu"
check_contains "devices: hw unavailable without XRT" "$out" "hw       unavailable"
json=$(OCL_ICD_VENDORS=$ICD "$SOMHOP" devices --json 2>/dev/null)
check_contains "devices --json names the backend" "$json" '"backend":"hw_emu"'
out=$("$SOMHOP" devices --help 2>&1)
check_rc "devices --help: exit 0" $? 0
check_contains "devices --help explains OCL_ICD_VENDORS" "$out" "OCL_ICD_VENDORS"

# missing ICD: the loader finds nothing
out=$(OCL_ICD_VENDORS=$TMP/no-such-icd.so "$SOMHOP" devices 2>&1)
check_rc "devices with a missing ICD: exit 4" $? 4
check_contains "missing ICD: clear message" "$out" "no OpenCL platform found"
check_contains "missing ICD: names OCL_ICD_VENDORS" "$out" "no-such-icd.so"

# through a kernel-running command
model=$TMP/d.som
"$SOMHOP" som train builtin:digits --rows 4 --cols 4 -o "$model" >/dev/null 2>&1
check_rc "train a small model for the CLI checks" $? 0
out=$(OCL_ICD_VENDORS=$TMP/no-such-icd.so "$SOMHOP" som bmu "$model" builtin:digits --backend hw_emu -o "$TMP/b.csv" 2>&1)
check_rc "som bmu --backend hw_emu with a missing ICD: exit 4" $? 4
check_contains "som bmu: names the missing platform" "$out" "no OpenCL platform found"
out=$(OCL_ICD_VENDORS=$ICD SOMHOP_XCLBIN=$TMP/missing.xclbin "$SOMHOP" som bmu "$model" builtin:digits --backend hw_emu -o "$TMP/b.csv" 2>&1)
check_rc "som bmu with a missing xclbin: exit 4" $? 4
check_contains "missing xclbin named" "$out" "missing.xclbin"
head -c 1000 "$BUILD/xclbin/somhop.hw_emu.xclbin" > "$TMP/corrupt.xclbin"
out=$(OCL_ICD_VENDORS=$ICD SOMHOP_XCLBIN=$TMP/corrupt.xclbin "$SOMHOP" som bmu "$model" builtin:digits --backend hw_emu -o "$TMP/b.csv" 2>&1)
check_rc "som bmu with a corrupt xclbin: exit 4" $? 4
check_contains "corrupt xclbin: build log quoted" "$out" "truncated or corrupt"
out=$(OCL_ICD_VENDORS=$ICD SOMHOP_EMU_CYCLE_BUDGET=30 "$SOMHOP" som bmu "$model" builtin:digits --backend hw_emu -o "$TMP/b.csv" 2>&1)
check_rc "som bmu with a 30-cycle budget: exit 4" $? 4
check_contains "cycle budget: timeout reported" "$out" "CL_OUT_OF_RESOURCES"
out=$(OCL_ICD_VENDORS=$ICD "$SOMHOP" som bmu "$model" builtin:digits --backend hw_emu -o "$TMP/b.csv" 2>&1)
check_rc "som bmu --backend hw_emu succeeds" $? 0
check_contains "hw_emu BMUs bit-exact with the fixed reference" "$out" "bit-exact with the host fixed-point reference: 1797/1797"
check_contains "modeled F1 time printed and labelled" "$out" "MODELED"

# --json of every kernel run names the configuration the xclbin holds and its compute units
cfg=$(sed -n 's/^#define SOMHOP_CFG_NAME "\(.*\)"/\1/p' "$BUILD/gen/somhop_config.h")
bcu=$(sed -n 's/^#define SOMHOP_CFG_BMU_CU \([0-9]*\)u/\1/p' "$BUILD/gen/somhop_config.h")
hcu=$(sed -n 's/^#define SOMHOP_CFG_HOP_CU \([0-9]*\)u/\1/p' "$BUILD/gen/somhop_config.h")
check "the build tree records its configuration" "[ -n '$cfg' ] && [ -n '$bcu' ] && [ -n '$hcu' ]"
for be in sw_emu hw_emu; do
  OCL_ICD_VENDORS=$ICD "$SOMHOP" som bmu "$model" builtin:digits --backend $be --json -o "$TMP/b.csv" > "$TMP/b.json" 2>/dev/null
  check_rc "som bmu --backend $be --json" $? 0
  j=$(python3 -c 'import json,sys; b=json.load(open(sys.argv[1]))["backend"]; print(b["config"], b["compute_units"], b["compute_units_used"], b["limits"]["max_m"])' "$TMP/b.json" 2>&1)
  check_eq "som bmu $be --json: config, compute units, used, max_m" "$j" "$cfg $bcu $bcu $(sed -n 's/^#define SOMHOP_CFG_BMU_MAX_M \([0-9]*\)u/\1/p' "$BUILD/gen/somhop_config.h")"
  OCL_ICD_VENDORS=$ICD "$SOMHOP" hopfield store builtin:digits-prototypes -o "$TMP/h.somhop" >/dev/null 2>&1
  OCL_ICD_VENDORS=$ICD "$SOMHOP" hopfield recall "$TMP/h.somhop" --noise 0.1 --repeat 2 --backend $be --json > "$TMP/r.json" 2>/dev/null
  check_rc "hopfield recall --backend $be --json" $? 0
  j=$(python3 -c 'import json,sys; b=json.load(open(sys.argv[1]))["backend"]; print(b["config"], b["compute_units"], b["compute_units_used"], b["limits"]["max_n"])' "$TMP/r.json" 2>&1)
  check_eq "hopfield recall $be --json: config, compute units, all used (20 probes), max_n" "$j" "$cfg $hcu $hcu $(sed -n 's/^#define SOMHOP_CFG_HOP_MAX_N \([0-9]*\)u/\1/p' "$BUILD/gen/somhop_config.h")"
done
out=$(OCL_ICD_VENDORS=$ICD "$SOMHOP" som bmu "$model" builtin:digits --backend hw_emu -o "$TMP/b.csv" 2>&1)
check_contains "text report names the configuration and CUs" "$out" "kernel configuration $cfg: $bcu compute unit"

# kernel.xml that does not match the kernels: one argument dropped (sw_emu
# checks the native signature at clBuildProgram), an unknown kernel (hw_emu
# has no RTL model for it)
sed '/name="flags"/,/\/>/d' "$ROOT/rtl/som_bmu/kernel.xml" > "$TMP/six_args.xml"
"$MK" --target sw_emu -o "$TMP/six.xclbin" "$TMP/six_args.xml" 2>/dev/null
check_rc "mkxclbin accepts a 6-argument som_bmu kernel.xml" $? 0
out=$(OCL_ICD_VENDORS=$ICD SOMHOP_XCLBIN=$TMP/six.xclbin "$SOMHOP" som bmu "$model" builtin:digits --backend sw_emu -o "$TMP/b.csv" 2>&1)
check_rc "sw_emu with a kernel.xml of the wrong arity: exit 4" $? 4
check_contains "arity mismatch explained" "$out" "declares 6 args, the sw_emu model"
sed 's/name="som_bmu"/name="som_bmu_x"/' "$ROOT/rtl/som_bmu/kernel.xml" > "$TMP/renamed.xml"
"$MK" --target hw_emu -o "$TMP/renamed.xclbin" "$TMP/renamed.xml" 2>/dev/null
out=$(OCL_ICD_VENDORS=$ICD SOMHOP_XCLBIN=$TMP/renamed.xclbin "$SOMHOP" som bmu "$model" builtin:digits --backend hw_emu -o "$TMP/b.csv" 2>&1)
check_rc "hw_emu xclbin without som_bmu: exit 4" $? 4
check_contains "missing kernel named with the CL error" "$out" "CL_INVALID_KERNEL_NAME"
printf '<root><kernel name="k"><args><arg name="a" addressQualifier="1" id="0" port="p" size="0x4" offset="0x10"/></args></kernel></root>' \
  > "$TMP/bad.xml"
err=$("$MK" --target hw_emu -o "$TMP/bad.xclbin" "$TMP/bad.xml" 2>&1)
check_rc "mkxclbin refuses a 4-byte pointer argument" $? 1
check_contains "mkxclbin names the bad argument" "$err" "arg a: pointer size 4, want 8"

# register offsets of the emulation xclbin = kernels/somhop_fixed.h section 4
info=$("$MK" --info "$BUILD/xclbin/somhop.hw_emu.xclbin" 2>&1)
check_rc "mkxclbin --info reads the hw_emu xclbin" $? 0
for pair in "som_bmu codebook SOMHOP_BMU_ARG_CODEBOOK" "som_bmu samples SOMHOP_BMU_ARG_SAMPLES" \
            "som_bmu out SOMHOP_BMU_ARG_OUT" "som_bmu M SOMHOP_BMU_ARG_M" "som_bmu D SOMHOP_BMU_ARG_D" \
            "som_bmu N SOMHOP_BMU_ARG_N" "som_bmu flags SOMHOP_BMU_ARG_FLAGS" \
            "hopfield_update weights SOMHOP_HOP_ARG_WEIGHTS" "hopfield_update probes SOMHOP_HOP_ARG_PROBES" \
            "hopfield_update states SOMHOP_HOP_ARG_STATES" "hopfield_update sweeps SOMHOP_HOP_ARG_SWEEPS" \
            "hopfield_update N SOMHOP_HOP_ARG_N" "hopfield_update B SOMHOP_HOP_ARG_B" \
            "hopfield_update max_sweeps SOMHOP_HOP_ARG_MAX_SWEEPS" "hopfield_update mode SOMHOP_HOP_ARG_MODE"; do
  read -r kern arg macro <<< "$pair"
  want=$(sed -n "s/^#define $macro 0x\([0-9A-Fa-f]*\)u.*/\1/p" "$ROOT/kernels/somhop_fixed.h" | tr 'A-F' 'a-f')
  got=$(echo "$info" | awk -v k="$kern" -v a="$arg" '/^kernel /{cur=$2} cur==k && $2==a {for(i=1;i<=NF;i++) if($i=="offset") print $(i+1)}' | sed 's/^0x//')
  check_eq "xclbin offset of $kern.$arg = $macro" "$((16#${got:-0}))" "$((16#${want:-1}))"
done
check_done
