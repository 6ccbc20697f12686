`resetall
`default_nettype none
// hopfield_lane — one weight lane of hopfield_update.
//
// Holds the weight beats b of every row with b mod P == this lane (beat b of
// row i at address i*C + b/P, C = ceil(R/P), R = beats per row), four int16
// weights per 64-bit beat. Per cycle it reads one beat and forms the partial
// field sum_k s_k * w_k over its four weights, with s_k = +1 (bit 1) or -1:
//   stage 1: weight beat read (w_q); state bits and the beat-valid flag arrive
//   stage 2: psum_o = sum of the four signed terms (0 for a beat past the row)
module hopfield_lane #(
  parameter int unsigned DEPTH  = 65536,
  parameter int unsigned ADDR_W = 16
) (
  input  wire logic              clk_i,
  // weight load
  input  wire logic              wr_en_i,
  input  wire logic [ADDR_W-1:0] wr_addr_i,
  input  wire logic [63:0]       wr_data_i,
  // field stream (stage 0: address; stage 1: state bits and valid)
  input  wire logic [ADDR_W-1:0] rd_addr_i,
  input  wire logic [3:0]        s_i,          // state bits of the beat's 4 columns
  input  wire logic              beat_ok_i,    // the beat lies inside the row
  output logic signed [18:0]     psum_o        // stage 2
);

  if (DEPTH < 1 || DEPTH > (1 << ADDR_W)) begin : g_depth_check
    $fatal(1, "hopfield_lane: DEPTH does not fit ADDR_W (instance %m)");
  end

  logic [63:0]        mem [DEPTH];
  logic [63:0]        w_q;
  logic signed [18:0] psum_q;

  always_ff @(posedge clk_i) begin
    if (wr_en_i) mem[wr_addr_i] <= wr_data_i;
    w_q <= mem[rd_addr_i];
  end

  always_ff @(posedge clk_i) begin
    logic signed [18:0] t;
    t = '0;
    for (int k = 0; k < 4; k++) begin
      if (s_i[k]) t = t + 19'(signed'(w_q[16*k +: 16]));
      else t = t - 19'(signed'(w_q[16*k +: 16]));
    end
    psum_q <= beat_ok_i ? t : '0;
  end

  assign psum_o = psum_q;

endmodule
`resetall
