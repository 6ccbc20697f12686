`resetall
`default_nettype none
// somhop_axil_ctrl — AXI4-Lite control slave with the XRT register map.
//
//   0x00 CTRL  b0 ap_start (R/W; write 1 sets, cleared by the kernel's ap_ready
//              unless auto_restart), b1 ap_done (R, clear-on-read), b2 ap_idle (R),
//              b3 ap_ready (R, clear-on-read), b7 auto_restart (R/W)
//   0x04 GIE   b0 global interrupt enable
//   0x08 IER   b0 ap_done, b1 ap_ready
//   0x0C ISR   b0 ap_done, b1 ap_ready; set by the event when its IER bit is set,
//              toggled by writing 1 (toggle-on-write)
//   0x10 + 4*k argument word k (R/W), NUM_ARGS words; XRT layout: a pointer uses
//              lo, hi and a reserved word, a scalar its value and a reserved word.
// interrupt_o = GIE && (ISR != 0).
//
// AW and W are accepted independently (each into a holding register); the write
// happens once both are held and no response is pending. One read at a time.
module somhop_axil_ctrl #(
  parameter int unsigned ADDR_W   = 12,
  parameter int unsigned NUM_ARGS = 16
) (
  input  wire logic                   clk_i,
  input  wire logic                   rst_ni,           // synchronous, active low
  // AXI4-Lite slave
  input  wire logic                   s_axil_awvalid_i,
  output logic                        s_axil_awready_o,
  input  wire logic [ADDR_W-1:0]      s_axil_awaddr_i,
  input  wire logic                   s_axil_wvalid_i,
  output logic                        s_axil_wready_o,
  input  wire logic [31:0]            s_axil_wdata_i,
  input  wire logic [3:0]             s_axil_wstrb_i,
  output logic                        s_axil_bvalid_o,
  input  wire logic                   s_axil_bready_i,
  output logic [1:0]                  s_axil_bresp_o,
  input  wire logic                   s_axil_arvalid_i,
  output logic                        s_axil_arready_o,
  input  wire logic [ADDR_W-1:0]      s_axil_araddr_i,
  output logic                        s_axil_rvalid_o,
  input  wire logic                   s_axil_rready_i,
  output logic [31:0]                 s_axil_rdata_o,
  output logic [1:0]                  s_axil_rresp_o,
  // kernel side
  output logic                        ap_start_o,       // level; kernel starts when idle
  input  wire logic                   ap_ready_i,       // pulse: arguments consumed
  input  wire logic                   ap_done_i,        // pulse: run finished
  input  wire logic                   ap_idle_i,        // level
  output logic [NUM_ARGS*32-1:0]      args_o,           // word k at [32*k +: 32]
  output logic                        interrupt_o
);

  if (ADDR_W < 8 || ADDR_W > 16) begin : g_addr_check
    $fatal(1, "somhop_axil_ctrl: ADDR_W must be 8..16 (instance %m)");
  end
  if (NUM_ARGS < 1 || 16 + 4 * NUM_ARGS > (1 << ADDR_W)) begin : g_args_check
    $fatal(1, "somhop_axil_ctrl: NUM_ARGS does not fit the address space (instance %m)");
  end

  localparam int unsigned IDX_W = (NUM_ARGS > 1) ? $clog2(NUM_ARGS) : 1;
  localparam logic [ADDR_W-1:0] RegCtrl = ADDR_W'(8'h00);
  localparam logic [ADDR_W-1:0] RegGie  = ADDR_W'(8'h04);
  localparam logic [ADDR_W-1:0] RegIer  = ADDR_W'(8'h08);
  localparam logic [ADDR_W-1:0] RegIsr  = ADDR_W'(8'h0C);

  // control state (reset)
  logic              aw_hold_q, w_hold_q, bvalid_q, rvalid_q;
  logic              start_q, done_q, ready_q, auto_q, gie_q;
  logic [1:0]        ier_q, isr_q;
  // payload (not reset)
  logic [ADDR_W-1:0] awaddr_q;
  logic [31:0]       wdata_q;
  logic [3:0]        wstrb_q;
  logic [31:0]       rdata_q;
  logic [31:0]       args_q [NUM_ARGS];

  logic              do_write, do_read;
  logic [ADDR_W-1:0] waddr_word, raddr_word;
  logic              rd_ctrl;
  logic [IDX_W-1:0]  warg_idx;         // argument word addressed by the write

  assign s_axil_awready_o = !aw_hold_q;
  assign s_axil_wready_o  = !w_hold_q;
  assign s_axil_bvalid_o  = bvalid_q;
  assign s_axil_bresp_o   = 2'b00;
  assign s_axil_arready_o = !rvalid_q;
  assign s_axil_rvalid_o  = rvalid_q;
  assign s_axil_rdata_o   = rdata_q;
  assign s_axil_rresp_o   = 2'b00;

  assign do_write   = aw_hold_q && w_hold_q && !bvalid_q;
  assign do_read    = s_axil_arvalid_i && !rvalid_q;
  assign waddr_word = {awaddr_q[ADDR_W-1:2], 2'b00};
  assign raddr_word = {s_axil_araddr_i[ADDR_W-1:2], 2'b00};
  assign rd_ctrl    = do_read && raddr_word == RegCtrl;
  assign warg_idx   = IDX_W'((waddr_word - ADDR_W'(16)) >> 2);

  // Read mux.
  function automatic logic [31:0] reg_value(input logic [ADDR_W-1:0] a);
    logic [31:0] v;
    v = 32'h0;
    if (a == RegCtrl) begin
      v = {24'h0, auto_q, 3'b000, ready_q, ap_idle_i, done_q, start_q};
    end else if (a == RegGie) begin
      v = {31'h0, gie_q};
    end else if (a == RegIer) begin
      v = {30'h0, ier_q};
    end else if (a == RegIsr) begin
      v = {30'h0, isr_q};
    end else if (a >= ADDR_W'(16) && a < ADDR_W'(16 + 4 * NUM_ARGS)) begin
      v = args_q[IDX_W'((a - ADDR_W'(16)) >> 2)];
    end
    reg_value = v;
  endfunction

  always_ff @(posedge clk_i) begin
    // payload registers
    if (s_axil_awvalid_i && !aw_hold_q) awaddr_q <= s_axil_awaddr_i;
    if (s_axil_wvalid_i && !w_hold_q) begin
      wdata_q <= s_axil_wdata_i;
      wstrb_q <= s_axil_wstrb_i;
    end
    if (do_read) rdata_q <= reg_value(raddr_word);
    if (do_write && waddr_word >= ADDR_W'(16) && waddr_word < ADDR_W'(16 + 4 * NUM_ARGS)) begin
      for (int b = 0; b < 4; b++) begin
        if (wstrb_q[b]) args_q[warg_idx][8*b +: 8] <= wdata_q[8*b +: 8];
      end
    end

    // control state
    if (!rst_ni) begin
      aw_hold_q <= 1'b0;
      w_hold_q  <= 1'b0;
      bvalid_q  <= 1'b0;
      rvalid_q  <= 1'b0;
      start_q   <= 1'b0;
      done_q    <= 1'b0;
      ready_q   <= 1'b0;
      auto_q    <= 1'b0;
      gie_q     <= 1'b0;
      ier_q     <= 2'b00;
      isr_q     <= 2'b00;
    end else begin
      // AXI4-Lite handshakes
      if (s_axil_awvalid_i && !aw_hold_q) aw_hold_q <= 1'b1;
      if (s_axil_wvalid_i && !w_hold_q) w_hold_q <= 1'b1;
      if (do_write) begin
        aw_hold_q <= 1'b0;
        w_hold_q  <= 1'b0;
        bvalid_q  <= 1'b1;
      end else if (s_axil_bready_i) begin
        bvalid_q <= 1'b0;
      end
      if (do_read) rvalid_q <= 1'b1;
      else if (s_axil_rready_i) rvalid_q <= 1'b0;

      // ap_start: set by a host write of 1, cleared by ap_ready unless auto_restart
      if (do_write && waddr_word == RegCtrl && wstrb_q[0] && wdata_q[0]) start_q <= 1'b1;
      else if (ap_ready_i && !auto_q) start_q <= 1'b0;
      if (do_write && waddr_word == RegCtrl && wstrb_q[0]) auto_q <= wdata_q[7];
      // status bits: set by the event, cleared by a CTRL read (the event wins)
      if (ap_done_i) done_q <= 1'b1;
      else if (rd_ctrl) done_q <= 1'b0;
      if (ap_ready_i) ready_q <= 1'b1;
      else if (rd_ctrl) ready_q <= 1'b0;
      // interrupt registers
      if (do_write && waddr_word == RegGie && wstrb_q[0]) gie_q <= wdata_q[0];
      if (do_write && waddr_word == RegIer && wstrb_q[0]) ier_q <= wdata_q[1:0];
      begin : isr_update
        logic [1:0] isr_v;
        isr_v = isr_q;
        if (do_write && waddr_word == RegIsr && wstrb_q[0]) isr_v = isr_v ^ wdata_q[1:0];
        if (ap_done_i && ier_q[0]) isr_v[0] = 1'b1;
        if (ap_ready_i && ier_q[1]) isr_v[1] = 1'b1;
        isr_q <= isr_v;
      end
    end
  end

  assign ap_start_o  = start_q;
  assign interrupt_o = gie_q && (isr_q != 2'b00);

  for (genvar k = 0; k < NUM_ARGS; k++) begin : g_args
    assign args_o[32*k +: 32] = args_q[k];
  end

  // ---- Assertions (active under verilator --assert) ------------------------
  // (synthesis tools skip them; Verilator does not define SYNTHESIS)
`ifndef SYNTHESIS
  // The slave's own outputs obey AXI: once valid, stay valid with a stable payload.
  // The master's requests too (checks the harness): AR stays valid with a stable address.
  logic              b_stall_q, r_stall_q, ar_stall_q;
  logic [31:0]       rdata_past_q;
  logic [ADDR_W-1:0] araddr_past_q;
  always_ff @(posedge clk_i) begin
    b_stall_q     <= rst_ni && bvalid_q && !s_axil_bready_i;
    r_stall_q     <= rst_ni && rvalid_q && !s_axil_rready_i;
    ar_stall_q    <= rst_ni && s_axil_arvalid_i && !s_axil_arready_o;
    rdata_past_q  <= rdata_q;
    araddr_past_q <= s_axil_araddr_i;
    if (rst_ni) begin
      if (ar_stall_q) begin
        assert (s_axil_arvalid_i) else $error("axil: ARVALID dropped while stalled");
        assert (s_axil_araddr_i == araddr_past_q) else $error("axil: ARADDR changed");
      end
      if (b_stall_q) assert (bvalid_q) else $error("axil: BVALID dropped while stalled");
      if (r_stall_q) begin
        assert (rvalid_q) else $error("axil: RVALID dropped while stalled");
        assert (rdata_q == rdata_past_q) else $error("axil: RDATA changed while stalled");
      end
    end
  end

`endif  // SYNTHESIS

endmodule
`resetall
