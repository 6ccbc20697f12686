# rtl/som_bmu/gen_xo.tcl — build som_bmu.xo for v++ from the RTL (Vitis RTL-kernel flow).
#
#   vivado -mode batch -source rtl/som_bmu/gen_xo.tcl \
#          -tclargs <out.xo> som_bmu <hw|hw_emu> <platform, e.g. xilinx_aws-vu9p-f1_shell-v04261818_201920_3>
#
# Packages the IP (package_kernel.tcl), then runs package_xo with our kernel.xml
# (rtl/som_bmu/kernel.xml, the argument offsets of kernels/somhop_fixed.h).
# NOT RUN here: this machine has no Vivado; the script is complete but untested.
if { $::argc != 4 } {
  puts "ERROR: usage: -tclargs <xo_path> <kernel_name> <target> <platform>"
  exit 1
}
set xoname    [lindex $::argv 0]
set krnl_arg  [lindex $::argv 1]
set target    [lindex $::argv 2]
set device    [lindex $::argv 3]
if { $krnl_arg ne "som_bmu" } {
  puts "ERROR: this script packages som_bmu, not $krnl_arg"
  exit 1
}
set suffix "som_bmu_${target}_${device}"
set here [file dirname [file normalize [info script]]]
source -notrace [file join $here package_kernel.tcl]
if { [file exists $xoname] } { file delete -force $xoname }
package_xo -xo_path $xoname -kernel_name som_bmu -ip_directory ./packaged_kernel_${suffix} \
  -kernel_xml [file join $here kernel.xml]
