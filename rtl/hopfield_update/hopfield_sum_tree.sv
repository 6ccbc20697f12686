`resetall
`default_nettype none
// hopfield_sum_tree — pipelined signed adder tree over P inputs (P a power of
// two): one register per level, latency log2(P), one new sum per cycle.
// Heap layout: node n has children 2n+1 and 2n+2; leaves are nodes P-1..2P-2.
// Not traced (U = 2048 gives 2047 nodes per probe; see hopfield_update.sv).
// verilator tracing_off
module hopfield_sum_tree #(
  parameter int unsigned P    = 16,
  parameter int unsigned IN_W = 19,
  parameter int unsigned OUT_W = IN_W + $clog2(P)
) (
  input  wire logic                    clk_i,
  input  wire logic [P*IN_W-1:0]       in_i,     // input l at [l*IN_W +: IN_W], signed
  output logic signed [OUT_W-1:0]      sum_o
);

  if (P < 1 || (P & (P - 1)) != 0) begin : g_p_check
    $fatal(1, "hopfield_sum_tree: P must be a power of two (instance %m)");
  end
  if (OUT_W < IN_W + $clog2(P)) begin : g_w_check
    $fatal(1, "hopfield_sum_tree: OUT_W too narrow for the sum (instance %m)");
  end

  if (P == 1) begin : g_single
    assign sum_o = OUT_W'(signed'(in_i));
  end else begin : g_tree
    logic signed [OUT_W-1:0] node_q [P-1];
    for (genvar n = 0; n < P - 1; n++) begin : g_node
      logic signed [OUT_W-1:0] a, b;
      if (2 * n + 1 >= P - 1) begin : g_leaves
        assign a = OUT_W'(signed'(in_i[(2*n + 1 - (P - 1))*IN_W +: IN_W]));
        assign b = OUT_W'(signed'(in_i[(2*n + 2 - (P - 1))*IN_W +: IN_W]));
      end else begin : g_inner
        assign a = node_q[2*n + 1];
        assign b = node_q[2*n + 2];
      end
      always_ff @(posedge clk_i) node_q[n] <= a + b;
    end
    assign sum_o = node_q[0];
  end

endmodule
`resetall
