// tests/synth/depth_hier_xcup.v — hand-instantiated UltraScale+ primitives across a module
// boundary, for the hierarchical logic-depth counter (tests/synth/test_synth_flow.sh).
// depth_hier_sub is kept as its own module (keep_hierarchy) and instantiated twice:
//   x_i -> LUT -> LUT -> x_o            a combinational arc of 2 LUT levels through it
//   y_i -> LUT -> FDRE                  1 LUT level to an end point inside
//   FDRE -> LUT -> r_o                  1 LUT level from a start point inside
// In depth_hier_xcup:
//   a_q -> LUT -> u0.x (2) -> LUT -> u1.x (2) -> LUT -> FDRE xx_q   = 7 LUT levels (worst)
//   b_q -> LUT -> u0.y (1)                                          = 2
//   u0.r_o (1) -> LUT -> LUT -> FDRE rr_q                           = 3
module depth_hier_sub (
  input  wire clk,
  input  wire x_i,
  input  wire y_i,
  output wire x_o,
  output wire r_o
);
  wire x1, y1, q, q1;
  LUT1 #(.INIT(2'b01)) u_x1 (.I0(x_i), .O(x1));
  LUT1 #(.INIT(2'b01)) u_x2 (.I0(x1), .O(x_o));
  LUT1 #(.INIT(2'b01)) u_y1 (.I0(y_i), .O(y1));
  FDRE r_y (.C(clk), .CE(1'b1), .R(1'b0), .D(y1), .Q(q));
  LUT1 #(.INIT(2'b01)) u_r1 (.I0(q), .O(r_o));
endmodule

module depth_hier_xcup (
  input  wire clk,
  input  wire a_i,
  input  wire b_i,
  output wire xx_q,
  output wire rr_q
);
  wire a_q, b_q, a1, b1, m1, m2, x0, x1, r0, r1, rr1, rr2;
  FDRE r_a (.C(clk), .CE(1'b1), .R(1'b0), .D(a_i), .Q(a_q));
  FDRE r_b (.C(clk), .CE(1'b1), .R(1'b0), .D(b_i), .Q(b_q));
  LUT1 #(.INIT(2'b01)) u_a1 (.I0(a_q), .O(a1));
  LUT1 #(.INIT(2'b01)) u_b1 (.I0(b_q), .O(b1));
  (* keep_hierarchy *) depth_hier_sub u0 (.clk(clk), .x_i(a1), .y_i(b1), .x_o(x0), .r_o(r0));
  LUT1 #(.INIT(2'b01)) u_m1 (.I0(x0), .O(m1));
  (* keep_hierarchy *) depth_hier_sub u1 (.clk(clk), .x_i(m1), .y_i(b_q), .x_o(x1), .r_o(r1));
  LUT1 #(.INIT(2'b01)) u_m2 (.I0(x1), .O(m2));
  FDRE r_xx (.C(clk), .CE(1'b1), .R(1'b0), .D(m2), .Q(xx_q));
  LUT1 #(.INIT(2'b01)) u_rr1 (.I0(r0), .O(rr1));
  LUT2 #(.INIT(4'b0110)) u_rr2 (.I0(rr1), .I1(r1), .O(rr2));
  FDRE r_rr (.C(clk), .CE(1'b1), .R(1'b0), .D(rr2), .Q(rr_q));
endmodule
