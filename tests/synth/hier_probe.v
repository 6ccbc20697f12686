// tests/synth/hier_probe.v — a small behavioural design with a submodule instantiated
// twice (with the same parameters) and once with another width, for the flow's
// hierarchical UltraScale+ method (tests/synth/test_synth_flow.sh): synthesised flat and
// hierarchically (every unique submodule once) it must give the same counts and depth.
module hier_probe_add #(parameter W = 8) (
  input  wire         clk,
  input  wire [W-1:0] a_i,
  input  wire [W-1:0] b_i,
  output wire [W-1:0] s_o,       // combinational: a_i ^ b_i (crosses the boundary)
  output reg  [W:0]   q_o        // registered a_i + b_i
);
  assign s_o = a_i ^ b_i;
  always @(posedge clk) q_o <= a_i + b_i;
endmodule

module hier_probe (
  input  wire        clk,
  input  wire [15:0] a_i,
  input  wire [15:0] b_i,
  output reg  [15:0] x_q,
  output reg  [9:0]  y_q,
  output reg  [17:0] z_q
);
  reg  [15:0] a_q, b_q;
  wire [7:0]  s0, s1;
  wire [8:0]  q0, q1;
  wire [15:0] s2;
  wire [16:0] q2;
  always @(posedge clk) begin
    a_q <= a_i;
    b_q <= b_i;
  end
  hier_probe_add #(.W(8)) u0 (.clk(clk), .a_i(a_q[7:0]), .b_i(b_q[7:0]), .s_o(s0), .q_o(q0));
  hier_probe_add #(.W(8)) u1 (.clk(clk), .a_i(s0 & a_q[15:8]), .b_i(b_q[15:8]), .s_o(s1),
                              .q_o(q1));
  hier_probe_add #(.W(16)) u2 (.clk(clk), .a_i(a_q), .b_i({s1, b_q[7:0]}), .s_o(s2),
                               .q_o(q2));
  always @(posedge clk) begin
    x_q <= s2 | {s1, s0};
    y_q <= q0 + q1;
    z_q <= q2 + 1'b1;
  end
endmodule
