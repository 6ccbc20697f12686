// som_bmu_mul — one MAC cell's multiplier with its registers: p_q = a_q * b_q (16 x 16
// unsigned), a_q/b_q loaded when ab_en_i, p_q when p_en_i (two register stages, no reset).
//
// It is an ECP5 MULT18X18D with its A/B input registers and its output register enabled, so
// that on an ECP5 the whole stage sits inside the DSP block (yosys synth_ecp5 maps a `*`
// to a MULT18X18D without registers and does not pack fabric registers into it: the
// multiplier then sat between two fabric registers and was the critical path).
//   - yosys synth_ecp5 reads the Lattice cell library before it elaborates the design, so
//     the name resolves to the real primitive (a black box with these parameters);
//   - everywhere else (Verilator; yosys synth_xilinx, which knows no MULT18X18D) it resolves
//     to the behavioural model of that configuration in som_bmu_mult18x18d.sv: plain
//     registers and a multiply, which synth_xilinx flattens and maps like generic RTL.
// Both read the same source list (rtl/som_bmu/som_bmu.f); no define selects between them.
module som_bmu_mul (
  input  logic        clk_i,
  input  logic        ab_en_i,
  input  logic        p_en_i,
  input  logic [15:0] a_i,
  input  logic [15:0] b_i,
  output logic [31:0] p_o
);
  logic [35:0] p;
  assign p_o = p[31:0];
  MULT18X18D #(
    .REG_INPUTA_CLK("CLK0"), .REG_INPUTA_CE("CE0"), .REG_INPUTA_RST("RST0"),
    .REG_INPUTB_CLK("CLK0"), .REG_INPUTB_CE("CE0"), .REG_INPUTB_RST("RST0"),
    .REG_PIPELINE_CLK("NONE"),
    .REG_OUTPUT_CLK("CLK0"), .REG_OUTPUT_CE("CE1"), .REG_OUTPUT_RST("RST0"),
    .GSR("DISABLED"), .RESETMODE("SYNC")
  ) u_mul (
    .A17(1'b0), .A16(1'b0), .A15(a_i[15]), .A14(a_i[14]), .A13(a_i[13]), .A12(a_i[12]),
    .A11(a_i[11]), .A10(a_i[10]), .A9(a_i[9]), .A8(a_i[8]), .A7(a_i[7]), .A6(a_i[6]),
    .A5(a_i[5]), .A4(a_i[4]), .A3(a_i[3]), .A2(a_i[2]), .A1(a_i[1]), .A0(a_i[0]),
    .B17(1'b0), .B16(1'b0), .B15(b_i[15]), .B14(b_i[14]), .B13(b_i[13]), .B12(b_i[12]),
    .B11(b_i[11]), .B10(b_i[10]), .B9(b_i[9]), .B8(b_i[8]), .B7(b_i[7]), .B6(b_i[6]),
    .B5(b_i[5]), .B4(b_i[4]), .B3(b_i[3]), .B2(b_i[2]), .B1(b_i[1]), .B0(b_i[0]),
    .C17(1'b0), .C16(1'b0), .C15(1'b0), .C14(1'b0), .C13(1'b0), .C12(1'b0),
    .C11(1'b0), .C10(1'b0), .C9(1'b0), .C8(1'b0), .C7(1'b0), .C6(1'b0),
    .C5(1'b0), .C4(1'b0), .C3(1'b0), .C2(1'b0), .C1(1'b0), .C0(1'b0),
    .SIGNEDA(1'b0), .SIGNEDB(1'b0), .SOURCEA(1'b0), .SOURCEB(1'b0),
    .CLK0(clk_i), .CLK1(1'b0), .CLK2(1'b0), .CLK3(1'b0),
    .CE0(ab_en_i), .CE1(p_en_i), .CE2(1'b1), .CE3(1'b1),
    .RST0(1'b0), .RST1(1'b0), .RST2(1'b0), .RST3(1'b0),
    .P35(p[35]), .P34(p[34]), .P33(p[33]), .P32(p[32]), .P31(p[31]), .P30(p[30]),
    .P29(p[29]), .P28(p[28]), .P27(p[27]), .P26(p[26]), .P25(p[25]), .P24(p[24]),
    .P23(p[23]), .P22(p[22]), .P21(p[21]), .P20(p[20]), .P19(p[19]), .P18(p[18]),
    .P17(p[17]), .P16(p[16]), .P15(p[15]), .P14(p[14]), .P13(p[13]), .P12(p[12]),
    .P11(p[11]), .P10(p[10]), .P9(p[9]), .P8(p[8]), .P7(p[7]), .P6(p[6]),
    .P5(p[5]), .P4(p[4]), .P3(p[3]), .P2(p[2]), .P1(p[1]), .P0(p[0])
  );
endmodule
