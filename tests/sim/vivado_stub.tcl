# tests/sim/vivado_stub.tcl — stands in for Vivado when tests/sim/test_package_tcl.sh
# dry-runs the packaging Tcl under plain tclsh: every Vivado/IPX command is
# logged (one line per call) and returns a handle named after the command.
rename source tcl_source
proc source {args} {
  set f [lindex $args end]
  uplevel 1 [list tcl_source $f]
}
proc unknown {args} {
  puts "CALL [join $args { }]"
  set c [lindex $args 0]
  if {[string match *get_user_parameters $c]} { return {} }
  if {[string match *get_files $c]} { return {a.sv b.sv} }
  return "h_[string map {:: _} $c]"
}
set ::argv $::stub_argv
set ::argc [llength $::argv]
tcl_source $::stub_script
