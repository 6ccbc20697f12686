// tests/synth/depth_chain_xcup.v — UltraScale+ primitives instantiated by hand, so the
// netlist's logic depth is known exactly whatever yosys' optimiser does
// (tests/synth/test_synth_flow.sh):
//   chain_q : FDRE -> LUT6 -> LUT6 -> LUT6 -> CARRY4 -> CARRY4 -> FDRE
//             = 3 LUT levels + 2 carry cells (the worst path)
//   wide_q  : AND of 37 registers of its own -> at least 3 LUT levels (a 2-level LUT6
//             network covers at most 36 inputs); yosys maps it
//   pass_q  : register to register, 0 levels
module depth_chain_xcup (
  input  wire        clk,
  input  wire [5:0]  a_i,
  input  wire [36:0] w_i,
  output wire        chain_q,
  output reg         wide_q,
  output reg         pass_q
);
  wire [5:0] a_q;
  genvar i;
  generate for (i = 0; i < 6; i = i + 1) begin : g_in
    FDRE r (.C(clk), .CE(1'b1), .R(1'b0), .D(a_i[i]), .Q(a_q[i]));
  end endgenerate
  wire l1, l2, l3;
  LUT6 #(.INIT(64'h6996966996696996)) u_l1 (.I0(a_q[0]), .I1(a_q[1]), .I2(a_q[2]),
    .I3(a_q[3]), .I4(a_q[4]), .I5(a_q[5]), .O(l1));
  LUT6 #(.INIT(64'h6996966996696996)) u_l2 (.I0(l1), .I1(a_q[1]), .I2(a_q[2]),
    .I3(a_q[3]), .I4(a_q[4]), .I5(a_q[5]), .O(l2));
  LUT6 #(.INIT(64'h6996966996696996)) u_l3 (.I0(l2), .I1(a_q[0]), .I2(a_q[2]),
    .I3(a_q[3]), .I4(a_q[4]), .I5(a_q[5]), .O(l3));
  wire [3:0] co1, o1, co2, o2;
  CARRY4 u_c1 (.CI(1'b0), .CYINIT(l3), .DI({a_q[3:0]}), .S({a_q[5:2]}), .CO(co1), .O(o1));
  CARRY4 u_c2 (.CI(co1[3]), .CYINIT(1'b0), .DI({a_q[3:0]}), .S({a_q[4:1]}), .CO(co2), .O(o2));
  FDRE r_chain (.C(clk), .CE(1'b1), .R(1'b0), .D(o2[3]), .Q(chain_q));
  reg [36:0] w_q;
  always @(posedge clk) begin
    w_q    <= w_i;
    wide_q <= &w_q;
    pass_q <= w_q[0];
  end
endmodule
