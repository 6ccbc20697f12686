# rtl/som_bmu/package_kernel.tcl — package the som_bmu RTL kernel as a Vivado IP for
# package_xo. Sourced by gen_xo.tcl (which sets $suffix); see
# rtl/common/package_common.tcl for the steps. NOT RUN here (no Vivado).
set krnl_name som_bmu
set krnl_dir [file dirname [file normalize [info script]]]
if {![info exists suffix]} { set suffix ${krnl_name} }
source -notrace [file join $krnl_dir .. common package_common.tcl]
