rtl/common/somhop_skid.sv
rtl/common/somhop_axil_ctrl.sv
rtl/common/somhop_axi_rd.sv
rtl/common/somhop_axi_wr.sv
rtl/common/test/somhop_shell_tb.sv
