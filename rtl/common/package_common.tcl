# rtl/common/package_common.tcl — Vivado IP packaging of one somhop RTL kernel
# for the Vitis flow (package_xo). Sourced by rtl/<kernel>/package_kernel.tcl
# with these variables set:
#   krnl_name   kernel (= top module) name, e.g. som_bmu
#   krnl_dir    absolute path of rtl/<kernel>
#   suffix      unique suffix for the scratch directories
# and optionally
#   krnl_params the configuration's HDL parameters, "NAME=VALUE ..." (e.g.
#               "S=8 L=256 MAX_M=1024 MAX_D=1024"); when unset, taken from the
#               environment variable SOMHOP_KERNEL_PARAMS (so scripts/build-xclbin
#               can pass a configuration without new -tclargs). Parameters not
#               named keep the RTL defaults.
# The register map is generated from rtl/<kernel>/kernel.xml, the single source
# of argument offsets (kernels/somhop_fixed.h section 4 mirrors it and a test
# checks that). Follows Xilinx/Vitis_Accel_Examples rtl_kernels/rtl_vadd.
#
# NOT RUN: this machine has no Vivado. The script is complete for Vivado/Vitis
# 2020.2 .. 2024.1 (the F1 platform's tool range) but has never been executed.

set root_dir [file normalize [file join $krnl_dir .. ..]]
set path_to_packaged "./packaged_kernel_${suffix}"
set path_to_tmp_project "./tmp_kernel_pack_${suffix}"

# ---- sources: the kernel's .f file list (paths relative to the repo root) ----
create_project -force kernel_pack $path_to_tmp_project
set fl [open [file join $krnl_dir ${krnl_name}.f] r]
foreach line [split [read $fl] "\n"] {
  set line [string trim $line]
  if {$line eq "" || [string index $line 0] eq "#"} { continue }
  add_files -norecurse [file join $root_dir $line]
}
close $fl
set_property file_type SystemVerilog [get_files *.sv]
set_property top $krnl_name [current_fileset]
update_compile_order -fileset sources_1
update_compile_order -fileset sim_1

ipx::package_project -root_dir $path_to_packaged -vendor somhop.dev -library kernel \
  -taxonomy /KernelIP -import_files -set_current false
ipx::unload_core $path_to_packaged/component.xml
ipx::edit_ip_in_project -upgrade true -name tmp_edit_project -directory $path_to_packaged \
  $path_to_packaged/component.xml

set core [ipx::current_core]
set_property core_revision 1 $core
# HDL parameters: the configuration's values (krnl_params); every other one keeps
# its RTL default and is not offered as an IP user parameter.
if {![info exists krnl_params]} {
  set krnl_params [expr {[info exists ::env(SOMHOP_KERNEL_PARAMS)] ? $::env(SOMHOP_KERNEL_PARAMS) : ""}]
}
set cfg_params [dict create]
foreach kv $krnl_params {
  if {![regexp {^([A-Za-z_][A-Za-z0-9_]*)=([0-9]+)$} $kv -> pn pv]} {
    error "package_common.tcl: bad kernel parameter '$kv' (want NAME=UNSIGNED, e.g. S=8)"
  }
  dict set cfg_params $pn $pv
}
foreach up [ipx::get_user_parameters -of_objects $core] {
  set upn [get_property NAME $up]
  if {![dict exists $cfg_params $upn]} { ipx::remove_user_parameter $upn $core }
}
dict for {pn pv} $cfg_params {
  set hp [ipx::get_hdl_parameters -quiet $pn -of_objects $core]
  if {$hp eq ""} { error "package_common.tcl: $krnl_name has no HDL parameter '$pn'" }
  set_property value $pv $hp
  set up [ipx::get_user_parameters -quiet $pn -of_objects $core]
  if {$up ne ""} { set_property value $pv $up }
  puts "package_common.tcl: $krnl_name parameter $pn = $pv"
}

# ---- interfaces: every AXI bus on ap_clk; ap_rst_n is its (active-low) reset ----
ipx::infer_bus_interfaces xilinx.com:interface:aximm_rtl:1.0 $core
ipx::associate_bus_interfaces -busif m_axi_gmem -clock ap_clk $core
ipx::associate_bus_interfaces -busif s_axi_control -clock ap_clk $core
ipx::associate_bus_interfaces -clock ap_clk -reset ap_rst_n $core
set clkbif [ipx::get_bus_interfaces -of_objects $core ap_clk]
set bifparam [ipx::add_bus_parameter -quiet FREQ_HZ $clkbif]
set_property value 250000000 $bifparam
set_property value_resolve_type user $bifparam
set rstbif [ipx::get_bus_interfaces -of_objects $core ap_rst_n]
set rstparam [ipx::add_bus_parameter -quiet POLARITY $rstbif]
set_property value ACTIVE_LOW $rstparam
set irq [ipx::get_bus_interfaces -quiet -of_objects $core interrupt]
if {$irq ne ""} {
  set irqparam [ipx::add_bus_parameter -quiet SENSITIVITY $irq]
  set_property value LEVEL_HIGH $irqparam
}

# ---- register map ------------------------------------------------------------
set mem_map [::ipx::add_memory_map -quiet s_axi_control $core]
set addr_block [::ipx::add_address_block -quiet reg0 $mem_map]
set_property range 0x1000 $addr_block
set_property width 32 $addr_block

proc add_reg {block name offset size desc} {
  set reg [::ipx::add_register -quiet $name $block]
  set_property address_offset $offset $reg
  set_property size $size $reg
  set_property description $desc $reg
  return $reg
}
proc add_field {reg name bit width access desc} {
  set f [::ipx::add_field -quiet $name $reg]
  set_property bit_offset $bit $f
  set_property bit_width $width $f
  set_property access $access $f
  set_property description $desc $f
}
set ctrl [add_reg $addr_block CTRL 0x000 32 "Control signals"]
add_field $ctrl AP_START 0 1 read-write "ap_start: write 1 to start"
add_field $ctrl AP_DONE 1 1 read-only "ap_done (clear on read)"
add_field $ctrl AP_IDLE 2 1 read-only "ap_idle"
add_field $ctrl AP_READY 3 1 read-only "ap_ready (clear on read)"
add_field $ctrl RESERVED_1 4 3 read-only "reserved"
add_field $ctrl AUTO_RESTART 7 1 read-write "auto_restart"
add_field $ctrl RESERVED_2 8 24 read-only "reserved"
set gier [add_reg $addr_block GIER 0x004 32 "Global interrupt enable"]
add_field $gier Enable 0 1 read-write "global interrupt enable"
add_field $gier RESERVED 1 31 read-only "reserved"
set ier [add_reg $addr_block IP_IER 0x008 32 "IP interrupt enable"]
add_field $ier CHAN0_INT_EN 0 1 read-write "interrupt on ap_done"
add_field $ier CHAN1_INT_EN 1 1 read-write "interrupt on ap_ready"
add_field $ier RESERVED 2 30 read-only "reserved"
set isr [add_reg $addr_block IP_ISR 0x00C 32 "IP interrupt status"]
add_field $isr CHAN0_INT_ST 0 1 {read-write} "ap_done status (toggle on write)"
add_field $isr CHAN1_INT_ST 1 1 {read-write} "ap_ready status (toggle on write)"
add_field $isr RESERVED 2 30 read-only "reserved"

# Arguments: one register per <arg> of kernel.xml (pointers 64 bit, scalars 32).
set kx [open [file join $krnl_dir kernel.xml] r]
set xml [read $kx]
close $kx
foreach {arg} [regexp -all -inline {<arg [^>]*/>} $xml] {
  regexp {name="([^"]+)"} $arg -> aname
  regexp {offset="([^"]+)"} $arg -> aoff
  regexp {size="([^"]+)"} $arg -> asize
  regexp {addressQualifier="([^"]+)"} $arg -> aq
  set reg [add_reg $addr_block $aname $aoff [expr {$asize * 8}] "argument $aname"]
  if {$aq == 1} {
    set regparam [::ipx::add_register_parameter -quiet ASSOCIATED_BUSIF $reg]
    set_property value m_axi_gmem $regparam
  }
}
set_property slave_memory_map_ref s_axi_control \
  [::ipx::get_bus_interfaces -of_objects $core s_axi_control]

# ---- kernel properties and checks ----------------------------------------------
set_property xpm_libraries {XPM_CDC XPM_MEMORY XPM_FIFO} $core
set_property sdx_kernel true $core
set_property sdx_kernel_type rtl $core
set_property supported_families { } $core
set_property auto_family_support_level level_2 $core
ipx::create_xgui_files $core
ipx::update_checksums $core
ipx::check_integrity -kernel $core
ipx::save_core $core
close_project -delete
