# rtl/hopfield_update/gen_xo.tcl — build hopfield_update.xo for v++ from the RTL (Vitis RTL-kernel flow).
#
#   vivado -mode batch -source rtl/hopfield_update/gen_xo.tcl \
#          -tclargs <out.xo> hopfield_update <hw|hw_emu> <platform, e.g. xilinx_aws-vu9p-f1_shell-v04261818_201920_3>
#
# Packages the IP (package_kernel.tcl), then runs package_xo with our kernel.xml
# (rtl/hopfield_update/kernel.xml, the argument offsets of kernels/somhop_fixed.h).
# NOT RUN here: this machine has no Vivado; the script is complete but untested.
if { $::argc != 4 } {
  puts "ERROR: usage: -tclargs <xo_path> <kernel_name> <target> <platform>"
  exit 1
}
set xoname    [lindex $::argv 0]
set krnl_arg  [lindex $::argv 1]
set target    [lindex $::argv 2]
set device    [lindex $::argv 3]
if { $krnl_arg ne "hopfield_update" } {
  puts "ERROR: this script packages hopfield_update, not $krnl_arg"
  exit 1
}
set suffix "hopfield_update_${target}_${device}"
set here [file dirname [file normalize [info script]]]
source -notrace [file join $here package_kernel.tcl]
if { [file exists $xoname] } { file delete -force $xoname }
package_xo -xo_path $xoname -kernel_name hopfield_update -ip_directory ./packaged_kernel_${suffix} \
  -kernel_xml [file join $here kernel.xml]
