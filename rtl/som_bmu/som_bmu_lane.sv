`resetall
`default_nettype none
// som_bmu_lane — one distance lane of som_bmu.
//
// Holds the codebook rows of the neurons m with m mod P == this lane, row after
// row (row r of the lane at addresses r*B .. r*B+B-1, B = beats per row), and
// computes one squared distance per row from a stream of 64-bit beats, four
// 16-bit features per beat:
//   stage 1: codebook beat read (w_q), sample beat arrives registered (x_i)
//   stage 2: four squared differences, exact (|x - w| squared, 16x16 bit)
//   stage 3: sum of the four
//   stage 4: accumulator; acc_o holds the distance the cycle after the last beat
// The control flags (first beat of a row) come from the top, delayed to match.
module som_bmu_lane #(
  parameter int unsigned DEPTH  = 16384,  // codebook beats held by this lane
  parameter int unsigned ADDR_W = 14,
  parameter int unsigned ACC_W  = 42      // distance accumulator width
) (
  input  wire logic              clk_i,
  // codebook load
  input  wire logic              wr_en_i,
  input  wire logic [ADDR_W-1:0] wr_addr_i,
  input  wire logic [63:0]       wr_data_i,
  // distance stream (stage 0: address; stage 1: sample beat)
  input  wire logic [ADDR_W-1:0] rd_addr_i,
  input  wire logic [63:0]       x_i,           // sample beat, aligned with stage 1
  input  wire logic              first_s3_i,    // stage 3 holds the first beat of a row
  output logic [ACC_W-1:0]       acc_o          // stage 4 accumulator
);

  if (DEPTH < 1 || DEPTH > (1 << ADDR_W)) begin : g_depth_check
    $fatal(1, "som_bmu_lane: DEPTH does not fit ADDR_W (instance %m)");
  end
  if (ACC_W < 34 || ACC_W > 64) begin : g_acc_check
    $fatal(1, "som_bmu_lane: ACC_W must be 34..64 (instance %m)");
  end

  logic [63:0]      mem [DEPTH];
  logic [63:0]      w_q;
  logic [31:0]      sq0_q, sq1_q, sq2_q, sq3_q;
  logic [33:0]      sum_q;
  logic [ACC_W-1:0] acc_q;

  always_ff @(posedge clk_i) begin
    if (wr_en_i) mem[wr_addr_i] <= wr_data_i;
    w_q <= mem[rd_addr_i];
  end

  // Exact squared difference: |x - w| < 2^16, its square < 2^32 (one 16x16
  // unsigned multiply; the same value as the signed (x - w)^2 of the contract).
  function automatic logic [31:0] sq_diff(input logic [15:0] x, input logic [15:0] w);
    logic [15:0] d;
    d = (x > w) ? x - w : w - x;
    sq_diff = 32'(d) * 32'(d);
  endfunction

  always_ff @(posedge clk_i) begin
    sq0_q <= sq_diff(x_i[15:0], w_q[15:0]);
    sq1_q <= sq_diff(x_i[31:16], w_q[31:16]);
    sq2_q <= sq_diff(x_i[47:32], w_q[47:32]);
    sq3_q <= sq_diff(x_i[63:48], w_q[63:48]);
    sum_q <= 34'(sq0_q) + 34'(sq1_q) + 34'(sq2_q) + 34'(sq3_q);
    acc_q <= (first_s3_i ? '0 : acc_q) + ACC_W'(sum_q);
  end

  assign acc_o = acc_q;

endmodule
`resetall
