`resetall
`default_nettype none
// som_bmu_top2 — pipelined reduction of P keys to the smallest two.
//
// A key is {invalid, distance, neuron index}; comparing keys as unsigned
// numbers orders by distance and then by index, so "smallest key" is exactly
// the contract's rule (lowest distance, ties to the lowest index) and the
// second-smallest key is the second BMU. Invalid keys are all ones.
// A binary tree (heap layout, node n has children 2n+1 and 2n+2; the P leaves
// are nodes P-1 .. 2P-2) with one register per level: latency log2(P) cycles,
// one new set of keys per cycle.
module som_bmu_top2 #(
  parameter int unsigned P     = 16,
  parameter int unsigned KEY_W = 53
) (
  input  wire logic               clk_i,
  input  wire logic [P*KEY_W-1:0] keys_i,      // key of leaf l at [l*KEY_W +: KEY_W]
  output logic [KEY_W-1:0]        best_o,
  output logic [KEY_W-1:0]        second_o
);

  if (P < 1 || (P & (P - 1)) != 0) begin : g_p_check
    $fatal(1, "som_bmu_top2: P must be a power of two (instance %m)");
  end

  // Internal nodes 0 .. P-2 are registers; leaves are the inputs.
  if (P == 1) begin : g_single
    assign best_o   = keys_i;
    assign second_o = '1;
  end else begin : g_tree
    logic [KEY_W-1:0] best_q [P-1];
    logic [KEY_W-1:0] second_q [P-1];
    for (genvar n = 0; n < P - 1; n++) begin : g_node
      logic [KEY_W-1:0] a1, a2, b1, b2;
      if (2 * n + 1 >= P - 1) begin : g_leaves
        assign a1 = keys_i[(2*n + 1 - (P - 1))*KEY_W +: KEY_W];
        assign a2 = '1;
        assign b1 = keys_i[(2*n + 2 - (P - 1))*KEY_W +: KEY_W];
        assign b2 = '1;
      end else begin : g_inner
        assign a1 = best_q[2*n + 1];
        assign a2 = second_q[2*n + 1];
        assign b1 = best_q[2*n + 2];
        assign b2 = second_q[2*n + 2];
      end
      always_ff @(posedge clk_i) begin
        if (a1 < b1) begin
          best_q[n]   <= a1;
          second_q[n] <= (a2 < b1) ? a2 : b1;
        end else begin
          best_q[n]   <= b1;
          second_q[n] <= (a1 < b2) ? a1 : b2;
        end
      end
    end
    assign best_o   = best_q[0];
    assign second_o = second_q[0];
  end

endmodule
`resetall
