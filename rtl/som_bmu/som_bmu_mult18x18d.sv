// MULT18X18D — behavioural model of the Lattice ECP5 18 x 18 multiplier in the one
// configuration som_bmu_mul uses (A and B input registers on CLK0/CE0, output register on
// CLK0/CE1, no pipeline register, unsigned, no reset: RST*, C*, SOURCE*, CLK1..3, CE2..3 are
// ignored). It exists for Verilator and for yosys synth_xilinx; yosys synth_ecp5 uses the
// real primitive of its cell library instead (see som_bmu_mul.sv). The parameters are the
// primitive's; any other setting of those that matter stops elaboration.
module MULT18X18D #(
  parameter REG_INPUTA_CLK = "NONE", parameter REG_INPUTA_CE = "CE0", parameter REG_INPUTA_RST = "RST0",
  parameter REG_INPUTB_CLK = "NONE", parameter REG_INPUTB_CE = "CE0", parameter REG_INPUTB_RST = "RST0",
  parameter REG_PIPELINE_CLK = "NONE",
  parameter REG_OUTPUT_CLK = "NONE", parameter REG_OUTPUT_CE = "CE0", parameter REG_OUTPUT_RST = "RST0",
  parameter GSR = "ENABLED", parameter RESETMODE = "SYNC"
) (
  input  wire A17, A16, A15, A14, A13, A12, A11, A10,
  input  wire A9, A8, A7, A6, A5, A4, A3, A2,
  input  wire A1, A0, B17, B16, B15, B14, B13, B12,
  input  wire B11, B10, B9, B8, B7, B6, B5, B4,
  input  wire B3, B2, B1, B0, C17, C16, C15, C14,
  input  wire C13, C12, C11, C10, C9, C8, C7, C6,
  input  wire C5, C4, C3, C2, C1, C0, SIGNEDA, SIGNEDB,
  input  wire SOURCEA, SOURCEB, CLK0, CLK1, CLK2, CLK3, CE0, CE1,
  input  wire CE2, CE3, RST0, RST1, RST2, RST3,
  output wire P35, P34, P33, P32, P31, P30, P29, P28,
  output wire P27, P26, P25, P24, P23, P22, P21, P20,
  output wire P19, P18, P17, P16, P15, P14, P13, P12,
  output wire P11, P10, P9, P8, P7, P6, P5, P4,
  output wire P3, P2, P1, P0
);
  if (REG_INPUTA_CLK != "CLK0" || REG_INPUTA_CE != "CE0" || REG_INPUTB_CLK != "CLK0" ||
      REG_INPUTB_CE != "CE0" || REG_PIPELINE_CLK != "NONE" || REG_OUTPUT_CLK != "CLK0" ||
      REG_OUTPUT_CE != "CE1") begin : g_bad
    $fatal(1, "MULT18X18D model: only A/B registers on CLK0/CE0 and the output register on CLK0/CE1");
  end
  logic [17:0] a_q, b_q;
  logic [35:0] p_q;
  always_ff @(posedge CLK0) begin
    if (CE0) begin
      a_q <= {A17, A16, A15, A14, A13, A12, A11, A10, A9, A8, A7, A6, A5, A4, A3, A2, A1, A0};
      b_q <= {B17, B16, B15, B14, B13, B12, B11, B10, B9, B8, B7, B6, B5, B4, B3, B2, B1, B0};
    end
    if (CE1) p_q <= 36'(a_q) * 36'(b_q);
  end
  assign {P35, P34, P33, P32, P31, P30, P29, P28, P27, P26, P25, P24, P23, P22, P21, P20, P19, P18, P17, P16, P15, P14, P13, P12, P11, P10, P9, P8, P7, P6, P5, P4, P3, P2, P1, P0} = p_q;
endmodule
