// tests/synth/depth_probe.v — a module with logic depths known by construction, for
// tests/synth/test_synth_flow.sh (the wrapper generator and the logic-depth counter).
//   and36_q : AND of 36 register bits  -> exactly 2 LUT6 levels (>6 inputs need 2; 36 = 6*6)
//   and37_q : AND of 37 register bits  -> at least 3 LUT6 levels (2 levels cover <= 36 inputs)
//   sum_q   : W-bit registered add     -> 1 LUT level + a carry chain
//   copy_q  : register to register    -> 0 levels
module depth_probe #(
  parameter integer W = 16
) (
  input  wire         clk,
  input  wire [36:0]  a_i,
  input  wire [W-1:0] x_i,
  input  wire [W-1:0] y_i,
  output reg          and36_q,
  output reg          and37_q,
  output reg  [W-1:0] sum_q,
  output reg          copy_q
);
  reg [36:0]  a_q;
  reg [W-1:0] x_q, y_q;
  always @(posedge clk) begin
    a_q     <= a_i;
    x_q     <= x_i;
    y_q     <= y_i;
    and36_q <= &a_q[35:0];
    and37_q <= &a_q;
    sum_q   <= x_q + y_q;
    copy_q  <= a_q[0];
  end
endmodule
