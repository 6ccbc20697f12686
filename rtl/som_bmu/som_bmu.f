rtl/common/somhop_skid.sv
rtl/common/somhop_axil_ctrl.sv
rtl/common/somhop_axi_rd.sv
rtl/common/somhop_axi_wr.sv
rtl/som_bmu/som_bmu_top2.sv
rtl/som_bmu/som_bmu_mult18x18d.sv
rtl/som_bmu/som_bmu_mul.sv
rtl/som_bmu/som_bmu.sv
