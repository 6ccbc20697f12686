#!/usr/bin/env bash
# test_package_tcl.sh — dry-run of the Vivado packaging Tcl (rtl/<k>/gen_xo.tcl
# -> package_kernel.tcl -> rtl/common/package_common.tcl) under plain tclsh with
# every Vivado command stubbed (tests/sim/vivado_stub.tcl). Checks the scripts
# parse and run end to end, read the kernel's .f list, associate the buses
# with ap_clk, build the register map from kernel.xml with the offsets of
# kernels/somhop_fixed.h, and call package_xo with our kernel.xml.
# It cannot check Vivado's behaviour (no Vivado here).
set -u
root=${SOMHOP_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
# shellcheck disable=SC1091
. "$root/tests/check.sh"
if ! command -v tclsh >/dev/null; then
  not_ok "tclsh available" "tclsh not installed (Debian package tcl)"
  check_done
  exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
hdr=$root/kernels/somhop_fixed.h
off() { printf '0x%x' "$(awk -v n="$1" '$2 == n { print $3 }' "$hdr" | tr -d 'u')"; }
for k in som_bmu hopfield_update; do
  out=$tmp/$k.log
  cat >"$tmp/run_$k.tcl" <<EOF
set ::stub_argv {$tmp/$k.xo $k hw xilinx_aws-vu9p-f1_shell-v04261818_201920_3}
set ::stub_script $root/rtl/$k/gen_xo.tcl
source $root/tests/sim/vivado_stub.tcl
EOF
  (cd "$tmp" && tclsh "$tmp/run_$k.tcl" >"$out" 2>&1)
  rc=$?
  check_rc "$k: gen_xo.tcl dry-run completes" "$rc" 0
  log=$(cat "$out")
  check_contains "$k: top set" "$log" "CALL set_property top $k"
  check_contains "$k: sources from the .f list" "$log" "rtl/$k/$k.sv"
  check_contains "$k: m_axi_gmem on ap_clk" "$log" "ipx::associate_bus_interfaces -busif m_axi_gmem -clock ap_clk"
  check_contains "$k: s_axi_control on ap_clk" "$log" "ipx::associate_bus_interfaces -busif s_axi_control -clock ap_clk"
  check_contains "$k: sdx_kernel" "$log" "set_property sdx_kernel true"
  check_contains "$k: integrity check" "$log" "ipx::check_integrity -kernel"
  check_contains "$k: package_xo with our kernel.xml" "$log" "package_xo -xo_path $tmp/$k.xo -kernel_name $k"
  check_contains "$k: package_xo -kernel_xml" "$log" "-kernel_xml $root/rtl/$k/kernel.xml"
  # every argument register at the header's offset
  if [ "$k" = som_bmu ]; then
    names="codebook:SOMHOP_BMU_ARG_CODEBOOK samples:SOMHOP_BMU_ARG_SAMPLES out:SOMHOP_BMU_ARG_OUT M:SOMHOP_BMU_ARG_M D:SOMHOP_BMU_ARG_D N:SOMHOP_BMU_ARG_N flags:SOMHOP_BMU_ARG_FLAGS"
  else
    names="weights:SOMHOP_HOP_ARG_WEIGHTS probes:SOMHOP_HOP_ARG_PROBES states:SOMHOP_HOP_ARG_STATES sweeps:SOMHOP_HOP_ARG_SWEEPS N:SOMHOP_HOP_ARG_N B:SOMHOP_HOP_ARG_B max_sweeps:SOMHOP_HOP_ARG_MAX_SWEEPS mode:SOMHOP_HOP_ARG_MODE"
  fi
  for nm in $names; do
    a=${nm%%:*}
    want=$(off "${nm#*:}")
    got=$(awk -v a="$a" '$2 ~ /ipx::add_register$/ && $4 == a { getline; print $4 }' "$out" | head -1)
    check_eq "$k: register $a at $want" "$(printf '0x%x' "$((got))")" "$want"
  done
done

# A configuration's HDL parameters (SOMHOP_KERNEL_PARAMS): set on the IP; a malformed
# one stops the script with a message naming it.
cat >"$tmp/run_params.tcl" <<EOF
set ::stub_argv {$tmp/p.xo som_bmu hw xilinx_aws-vu9p-f1_shell-v04261818_201920_3}
set ::stub_script $root/rtl/som_bmu/gen_xo.tcl
source $root/tests/sim/vivado_stub.tcl
EOF
log=$(cd "$tmp" && SOMHOP_KERNEL_PARAMS="P=4 MAX_M=256" tclsh "$tmp/run_params.tcl" 2>&1)
check_rc "SOMHOP_KERNEL_PARAMS: dry-run completes" "$?" 0
check_contains "SOMHOP_KERNEL_PARAMS: P looked up" "$log" "CALL ipx::get_hdl_parameters -quiet P -of_objects"
check_contains "SOMHOP_KERNEL_PARAMS: P = 4 set" "$log" "CALL set_property value 4 h_ipx_get_hdl_parameters"
check_contains "SOMHOP_KERNEL_PARAMS: MAX_M = 256 set" "$log" "CALL set_property value 256 h_ipx_get_hdl_parameters"
check_contains "SOMHOP_KERNEL_PARAMS: reported" "$log" "som_bmu parameter MAX_M = 256"
log=$(cd "$tmp" && SOMHOP_KERNEL_PARAMS="P=four" tclsh "$tmp/run_params.tcl" 2>&1)
rc=$?
check_eq "SOMHOP_KERNEL_PARAMS malformed: fails" "$([ "$rc" -ne 0 ] && echo failed)" failed
check_contains "SOMHOP_KERNEL_PARAMS malformed: names it" "$log" "bad kernel parameter 'P=four'"
log=$(cd "$tmp" && tclsh "$tmp/run_params.tcl" 2>&1)
check_rc "no SOMHOP_KERNEL_PARAMS: dry-run completes" "$?" 0
check_eq "no SOMHOP_KERNEL_PARAMS: no HDL parameter set" \
  "$(printf '%s\n' "$log" | grep -c 'get_hdl_parameters')" 0
check_done

