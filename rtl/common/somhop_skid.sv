`resetall
`default_nettype none
// somhop_skid — a registered-output skid buffer for one valid/ready stream.
//
// Both s_ready_o and the m_* outputs come from registers, so the buffer
// breaks every combinational path between its two sides, at full
// throughput (no bubble cycles). Reset clears only the valid bits.
module somhop_skid #(
  parameter int unsigned WIDTH = 64
) (
  input  wire logic             clk_i,
  input  wire logic             rst_ni,    // synchronous, active low
  // upstream
  input  wire logic             s_valid_i,
  output logic                  s_ready_o,
  input  wire logic [WIDTH-1:0] s_data_i,
  // downstream
  output logic                  m_valid_o,
  input  wire logic             m_ready_i,
  output logic [WIDTH-1:0]      m_data_o
);

  if (WIDTH < 1) begin : g_param_check
    $fatal(1, "somhop_skid: WIDTH must be at least 1 (instance %m)");
  end

  logic             m_valid_q, m_valid_d;
  logic             t_valid_q, t_valid_d;   // the skid (temporary) register holds data
  logic [WIDTH-1:0] m_data_q, m_data_d;
  logic [WIDTH-1:0] t_data_q, t_data_d;

  always_comb begin
    m_valid_d = m_valid_q;
    t_valid_d = t_valid_q;
    m_data_d  = m_data_q;
    t_data_d  = t_data_q;
    if (s_ready_o) begin
      // input is ready: it may transfer this cycle
      if (m_ready_i || !m_valid_q) begin
        // output is ready or empty: input goes straight to the output
        m_valid_d = s_valid_i;
        m_data_d  = s_data_i;
      end else begin
        // output is stalled: park the input in the skid register
        t_valid_d = s_valid_i;
        t_data_d  = s_data_i;
      end
    end else if (m_ready_i) begin
      // input not ready, output drains: move the skid register to the output
      m_valid_d = t_valid_q;
      m_data_d  = t_data_q;
      t_valid_d = 1'b0;
    end
  end

  always_ff @(posedge clk_i) begin
    m_data_q <= m_data_d;
    t_data_q <= t_data_d;
    if (!rst_ni) begin
      m_valid_q <= 1'b0;
      t_valid_q <= 1'b0;
    end else begin
      m_valid_q <= m_valid_d;
      t_valid_q <= t_valid_d;
    end
  end

  assign s_ready_o = !t_valid_q;
  assign m_valid_o = m_valid_q;
  assign m_data_o  = m_data_q;

  // ---- Assertions (active under verilator --assert) ------------------------
  // (synthesis tools skip them; Verilator does not define SYNTHESIS)
`ifndef SYNTHESIS
  logic             past_stall_q;
  logic [WIDTH-1:0] past_data_q;
  always_ff @(posedge clk_i) begin
    past_stall_q <= rst_ni && m_valid_o && !m_ready_i;
    past_data_q  <= m_data_o;
    if (rst_ni && past_stall_q) begin
      assert (m_valid_o) else $error("skid: valid dropped while stalled (%m)");
      assert (m_data_o == past_data_q) else $error("skid: data changed while stalled (%m)");
    end
  end

`endif  // SYNTHESIS

endmodule
`resetall
