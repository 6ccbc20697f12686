rtl/common/somhop_skid.sv
rtl/common/somhop_axil_ctrl.sv
rtl/common/somhop_axi_rd.sv
rtl/common/somhop_axi_wr.sv
rtl/hopfield_update/hopfield_sum_tree.sv
rtl/hopfield_update/hopfield_align.sv
rtl/hopfield_update/hopfield_update.sv
