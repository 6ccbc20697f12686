`resetall
`default_nettype none
// hopfield_update v2 — Hopfield state update, Vitis RTL kernel (ap_ctrl_hs).
//
// Contract: kernels/somhop_fixed.h section 3 (formats, update and tie rule,
// sweep record, mode bit 1 = KEEP, B = 0 = load-only) and section 4
// (registers: weights 0x10, probes 0x1C, states 0x28, sweeps 0x34, N 0x40,
// B 0x48, max_sweeps 0x50, mode 0x58). Same architecture as
// kernels/hopfield_update.cpp; exact cycle formula: somhop_rtl_hop_cycles
// (kernels/somhop_kernels.h), checked against this RTL by test_rtl_cycles.
//
// Reset: ap_rst_n is active LOW and SYNCHRONOUS to ap_clk; registered once.
//
// Load (skipped under KEEP when address and N match the resident copy): the
// N x STRIDE(N) int16 weights are one flat stream of DATA_W-bit beats;
// hopfield_align cuts it into rows (R = STRIDE(N)/4 words each, rows start
// anywhere in a beat). Row i, chunk c (U weights) lives at address i*C + c of
// U/8 banks with two 64-bit ports each (group 2g on port A, 2g+1 on port B:
// URAM-shaped, every port used for the U-wide read). During the load the row
// sum r_i (columns < N) and the band w_{i,i-d}, d = 1..DB, are formed.
//
// Sweeps, per batch of up to B probes (the weights are read once per chunk
// for all B probes): chunk (i, c) issued at cycle T:
//   T      weight address, row sum and band read (registered memories)
//   T+1    weight output register; state slice sampled (AND mask ready)
//   T+2 .. T+1+LT   AND-masked balanced adder tree, one register per level
//   T+2+LT acc = (first chunk ? -r_i : acc) + 2 * tree
//   T+3+LT P = acc, P2 = acc + 2 w_{i,i-1}
//   T+4+LT pair merge with the forwarded bit of row i-2
//   T+5+LT decision: h = P + forwarded terms; h > 0 -> 1, < 0 -> 0, 0 -> old
// ASYNC: the main tree excludes the DB = 4 + LT columns i-DB .. i-1 (not yet
// decided when the slice is sampled); a chain of pairs (value without / with
// the next forwarded column) selects one forwarded bit per cycle from the
// newest decisions (hist), the last one (row i-1) at the decision itself:
// each stage is a 2:1 select and an adder, no row waits for another. SYNC:
// band and window are zero, decisions go to nxt (applied at the sweep end).
// Every probe keeps its own sweep count and stops at its own convergence;
// the batch sweeps while one of its probes is active.
// States: read per batch through hopfield_align (segments of W words),
// written per probe with byte strobes; the sweep word with a 4-byte strobe.
// Out of range (N 0 or above MAX_N, a mode bit other than 0/1): finish at
// once, no memory traffic. One AXI4 master m_axi_gmem carries all arrays.
module hopfield_update #(
  parameter int unsigned U         = 2048,  // weights per cycle per probe (power of two)
  parameter int unsigned B         = 4,     // probes per pass over the weights
  parameter int unsigned MAX_N     = 2048,  // SOMHOP_HOP_MAX_N
  parameter int unsigned DATA_W    = 512,   // m_axi_gmem data width
  parameter int unsigned MAX_BURST = 64,    // AXI burst beats
  parameter int unsigned C_S_AXI_CONTROL_ADDR_WIDTH = 12
) (
  input  wire logic        ap_clk,
  input  wire logic        ap_rst_n,         // active-low, synchronous to ap_clk
  // AXI4 master m_axi_gmem
  output logic             m_axi_gmem_awvalid,
  input  wire logic        m_axi_gmem_awready,
  output logic [63:0]      m_axi_gmem_awaddr,
  output logic [7:0]       m_axi_gmem_awlen,
  output logic [2:0]       m_axi_gmem_awsize,
  output logic [1:0]       m_axi_gmem_awburst,
  output logic             m_axi_gmem_wvalid,
  input  wire logic        m_axi_gmem_wready,
  output logic [DATA_W-1:0] m_axi_gmem_wdata,
  output logic [DATA_W/8-1:0] m_axi_gmem_wstrb,
  output logic             m_axi_gmem_wlast,
  input  wire logic        m_axi_gmem_bvalid,
  output logic             m_axi_gmem_bready,
  input  wire logic [1:0]  m_axi_gmem_bresp,
  output logic             m_axi_gmem_arvalid,
  input  wire logic        m_axi_gmem_arready,
  output logic [63:0]      m_axi_gmem_araddr,
  output logic [7:0]       m_axi_gmem_arlen,
  output logic [2:0]       m_axi_gmem_arsize,
  output logic [1:0]       m_axi_gmem_arburst,
  input  wire logic        m_axi_gmem_rvalid,
  output logic             m_axi_gmem_rready,
  input  wire logic [DATA_W-1:0] m_axi_gmem_rdata,
  input  wire logic        m_axi_gmem_rlast,
  input  wire logic [1:0]  m_axi_gmem_rresp,
  // AXI4-Lite slave s_axi_control
  input  wire logic        s_axi_control_awvalid,
  output logic             s_axi_control_awready,
  input  wire logic [C_S_AXI_CONTROL_ADDR_WIDTH-1:0] s_axi_control_awaddr,
  input  wire logic        s_axi_control_wvalid,
  output logic             s_axi_control_wready,
  input  wire logic [31:0] s_axi_control_wdata,
  input  wire logic [3:0]  s_axi_control_wstrb,
  output logic             s_axi_control_bvalid,
  input  wire logic        s_axi_control_bready,
  output logic [1:0]       s_axi_control_bresp,
  input  wire logic        s_axi_control_arvalid,
  output logic             s_axi_control_arready,
  input  wire logic [C_S_AXI_CONTROL_ADDR_WIDTH-1:0] s_axi_control_araddr,
  output logic             s_axi_control_rvalid,
  input  wire logic        s_axi_control_rready,
  output logic [31:0]      s_axi_control_rdata,
  output logic [1:0]       s_axi_control_rresp,
  output logic             interrupt
);

  // ---- parameters -----------------------------------------------------------
  localparam int unsigned HB     = B;
  localparam int unsigned WPB    = DATA_W / 64;                  // words per beat
  localparam int unsigned LOG_WPB = $clog2(WPB);
  localparam int unsigned BYTES  = DATA_W / 8;
  localparam int unsigned LOG_BY = $clog2(BYTES);
  localparam int unsigned LT     = $clog2(U);                    // tree levels
  localparam int unsigned DB     = 4 + LT;                       // ASYNC band (SOMHOP_HOP_BAND)
  localparam int unsigned C_MAX  = (MAX_N + U - 1) / U;          // chunks per row
  localparam int unsigned DEPTH  = MAX_N * C_MAX;                // chunk words
  localparam int unsigned A_W    = $clog2(DEPTH) < 1 ? 1 : $clog2(DEPTH);
  localparam int unsigned GPC    = U / 4;                        // 64-bit groups per chunk
  localparam int unsigned QB     = GPC / WPB;                    // aligned beats per chunk
  localparam int unsigned N_W    = $clog2(MAX_N + 1);
  localparam int unsigned C_W    = $clog2(C_MAX + 1);
  localparam int unsigned W_MAX  = MAX_N / 64;                   // state words
  localparam int unsigned T_W    = 16 + LT;                      // tree sum width
  localparam int unsigned K_W    = $clog2(DB);
  localparam int unsigned NARGS  = 20;                           // 0x10 .. 0x5C
  localparam int unsigned CNT_W  = 48;
  localparam int unsigned NW     = 32;                           // word counters
  localparam int unsigned PL     = 6 + LT;                       // meta stages 0 .. 5+LT
  localparam int unsigned RT_E   = 4 * WPB;                      // weights per aligned beat
  localparam int unsigned RT_L   = $clog2(RT_E);                 // row-sum tree latency
  localparam int unsigned FB_NB  = $clog2(HB + 1);               // width of nb (first fill)
  localparam int unsigned FB_W   = $clog2(W_MAX + 1);            // width of W
  // paired rows: N <= U/2 puts rows 2k and 2k+1 side by side at address k
  // (halves of the chunk); SYNC then decides both per cycle (the two half
  // trees), ASYNC one per cycle with the other half masked off. Needs a half
  // chunk of whole aligned beats (U/8 >= WPB).
  localparam bit          PAIR_OK = U >= 8 * WPB;
  localparam int unsigned HG     = GPC / 2;                      // groups per half chunk
  localparam int unsigned QMAX   = (W_MAX + WPB - 1) / WPB;      // aligned beats per probe
  localparam int unsigned QW     = $clog2(QMAX + 1);
  localparam int unsigned SLW    = $clog2(HB + 1);               // slot index width
  localparam int unsigned RB_W   = $clog2(MAX_N / 4 + 1);        // holds R = STRIDE(N)/4
  localparam int unsigned WQ_W   = RB_W + 1;                     // holds R - 1 + WPB
  localparam int unsigned WM_W   = N_W + RB_W;                   // holds N * R
  localparam int unsigned WM_STEPS = (RB_W + 1) / 2;             // radix-4 steps
  // aligner word positions: the longest stream (weights N * R words, or the first fill
  // HB * W words) + 4 beats of slack
  localparam longint unsigned AL_MAXW = (longint'(MAX_N) * MAX_N / 4 > longint'(HB) * W_MAX)
                                        ? longint'(MAX_N) * MAX_N / 4 : longint'(HB) * W_MAX;
  localparam int unsigned AL_AW  = $clog2(AL_MAXW + 4 * WPB + 1);

  if (U < 8 || (U & (U - 1)) != 0 || U < 4 * WPB) begin : g_u_check
    $fatal(1, "hopfield_update: U must be a power of two >= 8 and >= 4*DATA_W/64 (%m)");
  end
  if (MAX_N < 64 || MAX_N > 65536 || MAX_N % 64 != 0 || U > MAX_N || MAX_N % U != 0)
  begin : g_size_check
    $fatal(1, "hopfield_update: MAX_N must be 64..65536, a multiple of 64 and of U (%m)");
  end
  if (HB < 1 || HB > 64) begin : g_b_check
    $fatal(1, "hopfield_update: B must be 1..64 (%m)");
  end
  if (WM_STEPS + 2 > DB + 1) begin : g_wm_check
    $fatal(1, "hopfield_update: the weight-beat multiply needs more cycles than StKsel has (%m)");
  end
  if (DATA_W != 64 && DATA_W != 128 && DATA_W != 256 && DATA_W != 512) begin : g_dw_check
    $fatal(1, "hopfield_update: DATA_W must be 64, 128, 256 or 512 (%m)");
  end

  // ---- reset pipeline ----------------------------------------------------------
  logic rst_n_q;
  always_ff @(posedge ap_clk) rst_n_q <= ap_rst_n;

  // ---- control slave -------------------------------------------------------------
  logic               ap_start, ap_done, ap_idle;
  logic [NARGS*32-1:0] args;

  somhop_axil_ctrl #(
    .ADDR_W   (C_S_AXI_CONTROL_ADDR_WIDTH),
    .NUM_ARGS (NARGS)
  ) u_ctrl (
    .clk_i            (ap_clk),
    .rst_ni           (rst_n_q),
    .s_axil_awvalid_i (s_axi_control_awvalid),
    .s_axil_awready_o (s_axi_control_awready),
    .s_axil_awaddr_i  (s_axi_control_awaddr),
    .s_axil_wvalid_i  (s_axi_control_wvalid),
    .s_axil_wready_o  (s_axi_control_wready),
    .s_axil_wdata_i   (s_axi_control_wdata),
    .s_axil_wstrb_i   (s_axi_control_wstrb),
    .s_axil_bvalid_o  (s_axi_control_bvalid),
    .s_axil_bready_i  (s_axi_control_bready),
    .s_axil_bresp_o   (s_axi_control_bresp),
    .s_axil_arvalid_i (s_axi_control_arvalid),
    .s_axil_arready_o (s_axi_control_arready),
    .s_axil_araddr_i  (s_axi_control_araddr),
    .s_axil_rvalid_o  (s_axi_control_rvalid),
    .s_axil_rready_i  (s_axi_control_rready),
    .s_axil_rdata_o   (s_axi_control_rdata),
    .s_axil_rresp_o   (s_axi_control_rresp),
    .ap_start_o       (ap_start),
    .ap_ready_i       (ap_done),
    .ap_done_i        (ap_done),
    .ap_idle_i        (ap_idle),
    .args_o           (args),
    .interrupt_o      (interrupt)
  );

  function automatic logic [31:0] arg_word(input int unsigned off);
    arg_word = args[32 * ((off - 16) / 4) +: 32];
  endfunction

  // ---- AXI reader / writer ----------------------------------------------------------
  logic              rd_cmd_valid, rd_cmd_ready, rd_valid, rd_ready, rd_busy;
  logic [63:0]       rd_cmd_addr;
  logic [DATA_W-1:0] rd_data;
  logic [CNT_W-1:0]  rd_cmd_beats;
  logic              wr_cmd_valid, wr_cmd_ready, wr_valid, wr_ready, wr_idle;
  logic [63:0]       wr_cmd_addr;
  logic [DATA_W-1:0] wr_data;
  logic [BYTES-1:0]  wr_strb;
  logic [CNT_W-1:0]  wr_cmd_beats;

  // the shared shell (rtl/common): read data lands in reserved FIFO space, RREADY = 1
  somhop_axi_rd #(.DATA_W(DATA_W), .CNT_W(CNT_W), .MAX_BURST(MAX_BURST), .MAX_OUTST(16)) u_rd (
    .clk_i (ap_clk), .rst_ni (rst_n_q),
    .cmd_valid_i (rd_cmd_valid), .cmd_ready_o (rd_cmd_ready), .cmd_addr_i (rd_cmd_addr),
    .cmd_beats_i (rd_cmd_beats),
    .m_axi_arvalid_o (m_axi_gmem_arvalid), .m_axi_arready_i (m_axi_gmem_arready),
    .m_axi_araddr_o (m_axi_gmem_araddr), .m_axi_arlen_o (m_axi_gmem_arlen),
    .m_axi_arsize_o (m_axi_gmem_arsize), .m_axi_arburst_o (m_axi_gmem_arburst),
    .m_axi_rvalid_i (m_axi_gmem_rvalid), .m_axi_rready_o (m_axi_gmem_rready),
    .m_axi_rdata_i (m_axi_gmem_rdata), .m_axi_rlast_i (m_axi_gmem_rlast),
    .m_axi_rresp_i (m_axi_gmem_rresp),
    .dat_valid_o (rd_valid), .dat_ready_i (rd_ready), .dat_data_o (rd_data), .busy_o (rd_busy)
  );
  somhop_axi_wr #(.DATA_W(DATA_W), .CNT_W(CNT_W), .MAX_BURST(MAX_BURST), .MAX_OUTST(16)) u_wr (
    .clk_i (ap_clk), .rst_ni (rst_n_q),
    .cmd_valid_i (wr_cmd_valid), .cmd_ready_o (wr_cmd_ready), .cmd_addr_i (wr_cmd_addr),
    .cmd_beats_i (wr_cmd_beats),
    .dat_valid_i (wr_valid), .dat_ready_o (wr_ready), .dat_data_i (wr_data), .dat_strb_i (wr_strb),
    .m_axi_awvalid_o (m_axi_gmem_awvalid), .m_axi_awready_i (m_axi_gmem_awready),
    .m_axi_awaddr_o (m_axi_gmem_awaddr), .m_axi_awlen_o (m_axi_gmem_awlen),
    .m_axi_awsize_o (m_axi_gmem_awsize), .m_axi_awburst_o (m_axi_gmem_awburst),
    .m_axi_wvalid_o (m_axi_gmem_wvalid), .m_axi_wready_i (m_axi_gmem_wready),
    .m_axi_wdata_o (m_axi_gmem_wdata), .m_axi_wstrb_o (m_axi_gmem_wstrb),
    .m_axi_wlast_o (m_axi_gmem_wlast),
    .m_axi_bvalid_i (m_axi_gmem_bvalid), .m_axi_bready_o (m_axi_gmem_bready),
    .m_axi_bresp_i (m_axi_gmem_bresp),
    .idle_o (wr_idle)
  );

  // ---- control FSM ------------------------------------------------------------------
  typedef enum logic [4:0] {
    StIdle, StSetup, StKsel, StLoad, StBatch, StPload, StSweepStart, StSweep, StSweepEnd,
    StScan, StWrSetup, StWrState, StWrSweep, StRefill, StRload, StDrain, StDone
  } state_e;

  state_e state_q, state_d;

  // run parameters
  logic [63:0]     w_addr_q, pr_addr_q, st_addr_q, sw_addr_q;
  logic [31:0]     n_q, b_q, maxsw_q;
  logic [1:0]      mode_q;            // bits 0 (ASYNC) and 1 (KEEP); the others fail size_ok_q
  logic            async_q;
  logic            pair_q, dual_q;    // paired rows; SYNC two rows per cycle
  logic [NW-1:0]   r_q;               // words per weight row
  logic [C_W-1:0]  c_q;               // chunks per row
  logic [C_W-1:0]  cm1_q;             // C - 1 (formed in StKsel)
  logic [NW-1:0]   wd_q;              // state words per probe
  logic [NW-1:0]   w_beats_q;         // weight beats
  logic [WM_W-1:0] wm_a_q, wm_p_q;    // weight-beat multiply: N shifted, partial product
  logic [RB_W-1:0] wm_b_q;            // R, two bits consumed per step
  logic [63:0]     last_mask_q;
  logic            size_ok, size_ok_q;
  logic            b0_q;              // B == 0 (load-only)

  // resident weights (reset clears valid)
  logic            res_valid_q;
  logic [63:0]     res_addr_q;
  logic [31:0]     res_n_q;
  logic            skip_load, skip_q;
  logic [5:0]      skeq_q;            // 16-bit slices of the address / N compares (StSetup)

  assign size_ok   = size_ok_q;
  // formed in StSetup / StKsel (the 96-bit compare stays off the FSM's next-state path)
  assign skip_load = skip_q;

  // slots: HB probes in flight; a slot whose probe stopped is written and
  // refilled with the next probe at the sweep boundary
  logic [31:0]     nb_q;              // probes of the first fill (min(B, HB))
  logic [31:0]     np_q;              // next probe to load
  logic            more_q;            // np_q != B: probes left to load (registered)
  logic [31:0]     pleft_q;           // B - np_q
  logic [NW-1:0]   npw_q;             // np * W: its first state word
  logic [31:0]     pid_q [HB];        // probe held by each slot
  logic [NW-1:0]   pwo_q [HB];        // its first state word
  logic [HB-1:0]   fin_q;             // slot stopped, not written yet
  logic [31:0]     wb_q;              // slot being written / refilled
  logic [31:0]     wpid_q;            // its probe
  logic [63:0]     prd_addr_q;        // probe read address (beat aligned)
  logic            fin_any;
  logic [31:0]     fin_lo;            // lowest slot with fin set
  logic            rd_cmd_pend_q, wr_cmd_pend_q;
  logic            al_busy;

  // ASYNC hist positions: k[d] = d - ceil(d / C) for d = 1 .. DB
  logic [K_W-1:0]  ksel_q [DB + 1];
  logic [K_W:0]    kd_q;              // d being computed in StKsel
  logic [C_W-1:0]  krem_q;            // d - (ceil(d/C) - 1) * C
  logic [K_W:0]    kq_q;              // ceil(d / C)

  // sweep issue
  logic [N_W-1:0]  is_row_q;
  logic [C_W-1:0]  is_c_q;
  logic [A_W-1:0]  ia_q;
  logic            issued_q;          // all chunks of the sweep issued
  logic [N_W-1:0]  rows_left_q;       // decisions still to make this sweep
  logic            rows_all_q;        // rows_left_q == 0 (registered with it)
  logic            issue, is_last_c;

  logic [31:0]     sweeps_cnt_q [HB];   // bit 31 stays 0 (max_sweeps is capped to 2^31-1)
  logic [31:0]     swleft_q [HB];       // maxsw - 1 - sweeps_cnt
  logic [HB-1:0]   lastsw_q;            // swleft_q == 0: this sweep is the last allowed
  logic            maxsw1_q;            // maxsw_q == 1
  logic [HB-1:0]   active_q, conv_q, changed_q;
  logic            wr_done_state, sw_sent_q;

  // Transition conditions from registered flags only (no 32-bit compare in front of
  // the next-state mux), and the one-cycle actions below name their state and condition
  // directly instead of decoding state_d (a path through the whole next-state logic).
  logic k_end, k_end_q, ld_go, rd_quiet, wsw_end, rd_busy_q;
  assign k_end    = k_end_q;                                     // kd_q == DB (registered)
  assign ld_go    = state_q == StKsel && k_end && !skip_load;   // StKsel -> StLoad
  // the reader's busy flag registered (its counter compares stay off the FSM): it falls
  // before the aligner's busy flag does (the last beat is popped before it is emitted)
  assign rd_quiet = !rd_cmd_pend_q && !al_busy && !rd_busy_q;
  assign wsw_end  = sw_sent_q && !wr_cmd_pend_q;
  always_comb begin
    state_d = state_q;
    unique case (state_q)
      StIdle:       if (ap_start) state_d = StSetup;
      StSetup:      state_d = size_ok ? StKsel : StDone;
      StKsel:       if (k_end) state_d = skip_load ? (b0_q ? StDrain : StBatch) : StLoad;
      StLoad:       if (rd_quiet) state_d = b0_q ? StDrain : StBatch;
      StBatch:      state_d = StPload;
      StPload:      if (rd_quiet) state_d = StScan;
      StSweepStart: state_d = StSweep;
      StSweep:      if (issued_q && rows_all_q) state_d = StSweepEnd;
      StSweepEnd:   state_d = StScan;
      StScan:       state_d = fin_any ? StWrSetup : (|active_q ? StSweepStart : StDrain);
      StWrSetup:    state_d = StWrState;
      StWrState:    if (wr_done_state) state_d = StWrSweep;
      StWrSweep:    if (wsw_end) state_d = more_q ? StRefill : StScan;
      StRefill:     state_d = StRload;
      StRload:      if (rd_quiet) state_d = StScan;
      StDrain:      if (wr_idle && !rd_busy_q) state_d = StDone;
      StDone:       state_d = StIdle;
      default:      state_d = StIdle;
    endcase
  end

  assign ap_idle = state_q == StIdle;
  assign ap_done = state_q == StDone;

  always_ff @(posedge ap_clk) begin
    if (state_q == StIdle) begin
      w_addr_q  <= {arg_word(32'h14), arg_word(32'h10)};
      pr_addr_q <= {arg_word(32'h20), arg_word(32'h1C)};
      st_addr_q <= {arg_word(32'h2C), arg_word(32'h28)};
      sw_addr_q <= {arg_word(32'h38), arg_word(32'h34)};
      n_q       <= arg_word(32'h40);
      b_q       <= arg_word(32'h48);
      maxsw_q   <= arg_word(32'h50) > 32'h7FFF_FFFF ? 32'h7FFF_FFFF : arg_word(32'h50);
      mode_q    <= args[32 * ((32'h58 - 16) / 4) +: 2];
      size_ok_q <= arg_word(32'h40) != 0 && arg_word(32'h40) <= MAX_N &&
                   arg_word(32'h58) >> 2 == 32'd0;
      b0_q      <= arg_word(32'h48) == 32'd0;
    end
    if (state_q == StSetup) maxsw1_q <= maxsw_q == 32'd1;
    if (state_q == StSetup) begin
      async_q     <= mode_q[0];
      pair_q      <= PAIR_OK && n_q <= U / 2;
      dual_q      <= PAIR_OK && n_q <= U / 2 && !mode_q[0];
      r_q         <= NW'((n_q + 32'd3) >> 2);
      c_q         <= C_W'((n_q + 32'(U) - 32'd1) >> LT);
      wd_q        <= NW'((n_q + 32'd63) >> 6);
      // weight beats ceil(N * R / WPB): a radix-4 shift-add in StKsel (below)
      last_mask_q <= (n_q[5:0] == 6'd0) ? '1 : ((64'd1 << n_q[5:0]) - 64'd1);
      for (int k = 0; k < 4; k++) skeq_q[k] <= res_addr_q[16*k +: 16] == w_addr_q[16*k +: 16];
      skeq_q[4] <= res_n_q[15:0] == n_q[15:0];
      skeq_q[5] <= res_n_q[31:16] == n_q[31:16];
    end
    // StKsel lasts DB + 1 >= 8 cycles; skip_q is read at its end (res_* stay until StLoad)
    if (state_q == StKsel) skip_q <= mode_q[1] && res_valid_q && &skeq_q;
  end

  // weight beats (N <= MAX_N here, else StDone): N * R by a radix-4 shift-add, one
  // step per StKsel cycle (no multiplier on a control path; StKsel lasts DB + 1 cycles,
  // at least WM_STEPS + 2: checked at elaboration), then + WPB - 1 and the shift
  always_ff @(posedge ap_clk) begin
    if (state_q == StSetup) begin     // (one always_ff per register: yosys resolved two
      wm_a_q <= WM_W'(N_W'(n_q));     // blocks writing wm_*_q as a driver conflict)
      wm_b_q <= RB_W'((n_q + 32'd3) >> 2);
      wm_p_q <= '0;
    end else if (state_q == StKsel) begin
      wm_p_q    <= wm_p_q + (wm_b_q[0] ? wm_a_q : '0) + (wm_b_q[1] ? (wm_a_q << 1) : '0);
      wm_a_q    <= wm_a_q << 2;
      wm_b_q    <= wm_b_q >> 2;
      w_beats_q <= NW'((32'(wm_p_q) + 32'(WPB - 1)) >> LOG_WPB);
    end
  end

  always_ff @(posedge ap_clk) if (state_q == StKsel) cm1_q <= c_q - 1'b1;

  // ksel: one d per cycle in StKsel
  always_ff @(posedge ap_clk) begin
    if (state_q == StSetup) begin
      ksel_q[0] <= '0;   // unused entry
      kd_q   <= '0;
      k_end_q <= 1'b0;   // DB > 0
      krem_q <= '0;
      kq_q   <= '0;
    end else if (state_q == StKsel && !k_end_q) begin
      logic [K_W:0] q;
      logic [C_W-1:0] rem;
      if (kd_q == '0 || krem_q == c_q) begin
        q   = kq_q + 1'b1;
        rem = C_W'(1);
      end else begin
        q   = kq_q;
        rem = krem_q + 1'b1;
      end
      kq_q   <= q;
      krem_q <= rem;
      kd_q   <= kd_q + 1'b1;
      k_end_q <= 32'(kd_q) + 1 == DB;
      ksel_q[32'(kd_q) + 1] <= K_W'((kd_q + 1'b1) - q);
    end
  end

  // ---- aligner (weights rows or probes) ------------------------------------------------
  logic              al_start, al_valid, al_last;
  logic [NW-1:0]     al_o0, al_len, al_beats;
  /* verilator lint_off UNUSEDSIGNAL */
  logic [NW-1:0]     al_q;            // aligned beat in the segment (< QMAX, < R / WPB + 1)
  /* verilator lint_on UNUSEDSIGNAL */
  logic [31:0]       al_segs, al_seg;
  logic [DATA_W-1:0] al_data;
  logic              al_take;

  // probe reads: the first fill (nb probes from word 0) or one refill probe
  // (from word npw); StSetup precomputes the first fill's beats
  logic              pr_st;
  logic [NW-1:0]     pr_beats_q, fill_beats_q, ref_beats;
  assign pr_st    = state_q == StBatch || state_q == StRefill;
  assign al_start = ld_go || pr_st;
  assign al_o0    = state_q == StRefill ? (npw_q & NW'(WPB - 1)) : '0;
  assign al_len   = pr_st ? wd_q : r_q;
  assign al_segs  = state_q == StBatch ? nb_q : state_q == StRefill ? 32'd1 : n_q;
  // the refill probe's beats, registered (npw_q and wd_q settle long before StRefill)
  always_ff @(posedge ap_clk) ref_beats <= ((npw_q & NW'(WPB - 1)) + wd_q + NW'(WPB - 1)) >> LOG_WPB;
  assign al_beats = state_q == StBatch ? fill_beats_q : state_q == StRefill ? ref_beats : w_beats_q;
  always_ff @(posedge ap_clk) begin
    if (state_q == StBatch) begin
      pr_beats_q <= fill_beats_q;
      prd_addr_q <= pr_addr_q;
    end else if (state_q == StRefill) begin
      pr_beats_q <= ref_beats;
      prd_addr_q <= pr_addr_q + (64'(npw_q) >> LOG_WPB << LOG_BY);
    end
  end

  hopfield_align #(.WPB(WPB), .NW(NW), .SW(32), .AW(AL_AW)) u_align (
    .clk_i       (ap_clk),
    .rst_ni      (rst_n_q),
    .start_i     (al_start),
    .o0_i        (al_o0),
    .len_i       (al_len),
    .segs_i      (al_segs),
    .beats_i     (al_beats),
    .dat_valid_i (rd_valid && (state_q == StLoad || state_q == StPload || state_q == StRload)),
    .dat_ready_o (al_take),
    .dat_data_i  (rd_data),
    .out_valid_o (al_valid),
    .out_data_o  (al_data),
    .out_seg_o   (al_seg),
    .out_q_o     (al_q),
    .out_last_o  (al_last),
    .busy_o      (al_busy)
  );
  assign rd_ready = (state_q == StLoad || state_q == StPload || state_q == StRload) && al_take;

  assign rd_cmd_valid = rd_cmd_pend_q;
  assign rd_cmd_addr  = state_q == StLoad ? w_addr_q : prd_addr_q;
  assign rd_cmd_beats = state_q == StLoad ? CNT_W'(w_beats_q)
                                          : CNT_W'(pr_beats_q);

  // ---- weight load: aligned beat -> banks, row sum, band ---------------------------------
  logic             ld_v;
  logic [N_W-1:0]   ld_row_q;
  logic [A_W-1:0]   ld_base_q;       // row * C
  logic [A_W-1:0]   ld_a_q;          // row * C + chunk of the aligned beat (a counter: no adder
                                     // between a register and the bank address)
  logic [$clog2(QB+1)-1:0] ld_qs_q;  // aligned beat within the chunk
  logic [WQ_W-1:0]  ld_wq_q;         // first row word of the aligned beat (< R)

  assign ld_v = al_valid && state_q == StLoad;

  always_ff @(posedge ap_clk) begin
    if (state_q == StKsel) begin
      ld_row_q  <= '0;
      ld_base_q <= '0;
      ld_a_q    <= '0;
      ld_qs_q   <= '0;
      ld_wq_q   <= '0;
    end else if (ld_v) begin
      if (al_last) begin
        ld_row_q  <= ld_row_q + 1'b1;
        ld_base_q <= ld_base_q + A_W'(c_q);
        ld_a_q    <= ld_base_q + A_W'(c_q);
          ld_qs_q   <= '0;
        ld_wq_q   <= '0;
      end else begin
        ld_wq_q <= ld_wq_q + WQ_W'(WPB);
        if (32'(ld_qs_q) == QB - 1) begin
          ld_qs_q <= '0;
          ld_a_q  <= ld_a_q + 1'b1;
        end else begin
          ld_qs_q <= ld_qs_q + 1'b1;
        end
      end
    end
  end

  // weight banks: U/8 banks x 2 ports x 64 bits, depth 2*DEPTH (URAM-shaped).
  // Not traced (thousands of wide signals: the FST declarations alone took
  // minutes to compile); the control state and pipeline metadata are.
  // verilator tracing_off
  logic [A_W-1:0]   mem_a_ld;
  assign mem_a_ld = pair_q ? A_W'(ld_row_q[N_W-1:1]) : ld_a_q;
  logic [U*16-1:0]  mem_q, w_q;       // T+1: bank output, T+2: output register

  for (genvar g = 0; g < GPC; g++) begin : g_grp
    // group g of a chunk: bank g/2, port g%2
    logic [63:0] bank [DEPTH];
    localparam int unsigned SLOT = g / WPB;
    localparam int unsigned K    = g % WPB;
    localparam int unsigned SLOT2 = PAIR_OK ? (g % HG) / WPB : 0;   // paired: beat in the half
    localparam bit          HALF  = PAIR_OK ? g >= HG : 1'b0;       // paired: odd row's half
    logic we;
    assign we = ld_v && ld_wq_q + WQ_W'(K) < WQ_W'(r_q) &&
                (pair_q ? (ld_row_q[0] == HALF && 32'(ld_qs_q) == SLOT2) : 32'(ld_qs_q) == SLOT);
    always_ff @(posedge ap_clk) begin
      if (we) bank[mem_a_ld] <= al_data[64*K +: 64];
      mem_q[64*g +: 64] <= bank[ia_q];
    end
  end

  always_ff @(posedge ap_clk) w_q <= mem_q;
  // verilator tracing_on

  // row sums: masked tree over the aligned beat, then per-row accumulation
  // column 4 * ld_wq_q + e counts if it is < N: e < rs_rem_q = N - 4 * ld_wq_q, as a
  // registered mask formed with ld_wq_q's next value (no adder and compare per beat)
  logic [RT_E*16-1:0]       rs_in;
  logic signed [N_W+1:0]    rs_rem_q;
  logic [RT_E-1:0]          rs_msk_q;
  always_ff @(posedge ap_clk) begin
    if (state_q == StKsel || ld_v) begin
      logic signed [N_W+1:0] rem;
      logic row0;
      row0 = state_q == StKsel || al_last;
      rem = row0 ? (N_W + 2)'(n_q[N_W-1:0]) : rs_rem_q - (N_W + 2)'(4 * WPB);
      rs_rem_q <= rem;
      // rem > e, as compares of registers with constants (no subtract in front)
      for (int e = 0; e < RT_E; e++)
        rs_msk_q[e] <= row0 ? n_q[N_W-1:0] > N_W'(e) : rs_rem_q > (N_W + 2)'(e + 4 * WPB);
    end
  end
  always_comb begin
    for (int e = 0; e < RT_E; e++) rs_in[16*e +: 16] = rs_msk_q[e] ? al_data[16*e +: 16] : 16'd0;
  end
  logic signed [16+RT_L-1:0] rs_tree;
  hopfield_sum_tree #(.P(RT_E), .IN_W(16)) u_rs_tree (
    .clk_i (ap_clk),
    .in_i  (rs_in),
    .sum_o (rs_tree)
  );
  logic [RT_L:0]     rs_v_q, rs_first_q, rs_last_q;
  logic [N_W-1:0]    rs_row_q [RT_L + 1];
  logic [31:0]       rs_acc_q;
  logic [31:0]       rmem [MAX_N];
  always_ff @(posedge ap_clk) begin
    rs_v_q[0]     <= ld_v;
    rs_first_q[0] <= ld_wq_q == '0;
    rs_last_q[0]  <= al_last;
    rs_row_q[0]   <= ld_row_q;
    for (int k = 1; k <= RT_L; k++) begin
      rs_v_q[k]     <= rs_v_q[k-1];
      rs_first_q[k] <= rs_first_q[k-1];
      rs_last_q[k]  <= rs_last_q[k-1];
      rs_row_q[k]   <= rs_row_q[k-1];
    end
  end
  // the tree output belongs to the beat that entered RT_L cycles ago (stage RT_L-1)
  logic [31:0] rs_next;
  assign rs_next = (rs_first_q[RT_L-1] ? 32'd0 : rs_acc_q) + 32'(rs_tree);
  always_ff @(posedge ap_clk) begin
    if (rs_v_q[RT_L-1]) begin
      rs_acc_q <= rs_next;
      if (rs_last_q[RT_L-1]) rmem[rs_row_q[RT_L-1][N_W-2:0]] <= rs_next;
    end
  end

  // band w_{i,i-d}, d = 1..DB: one register stage first (the aligned beat, and per d
  // whether column i - d lies in it and its word), then the select (bmem is read in
  // the sweeps only, long after the load)
  logic [DB*16-1:0]  band_q, band_next;
  logic [DB*16-1:0]  bmem [MAX_N];
  logic              bd_v_q, bd_last_q;
  logic [N_W-2:0]    bd_row_q;
  logic [DATA_W-1:0] bd_data_q;
  logic [DB:1]       bd_hit_q;
  logic [LOG_WPB+1:0] bd_ws_q [DB + 1];
  // per d for the current row ld_row_q (formed with its next value): column j = i - d
  // exists (bge), its aligned beat (bj) and word (bwr)
  logic [DB:1]        bge_q;
  logic [N_W-1:0]     bj_q [DB + 1];
  logic [LOG_WPB+1:0] bwr_q [DB + 1];
  always_ff @(posedge ap_clk) begin
    logic [N_W-1:0] row_n;
    row_n = state_q == StKsel ? '0 : (ld_v && al_last) ? ld_row_q + 1'b1 : ld_row_q;
    bj_q[0]  <= '0;     // unused entries
    bwr_q[0] <= '0;
    for (int d = 1; d <= DB; d++) begin
      logic [N_W-1:0] j;
      j = row_n - N_W'(d);
      bge_q[d] <= 32'(row_n) >= d;
      bj_q[d]  <= j >> (LOG_WPB + 2);
      bwr_q[d] <= j[LOG_WPB+1:0];
    end
  end
  always_ff @(posedge ap_clk) begin
    bd_v_q    <= ld_v;
    bd_last_q <= al_last;
    bd_row_q  <= ld_row_q[N_W-2:0];
    bd_data_q <= al_data;
    bd_ws_q[0] <= '0;   // unused entry
    for (int d = 1; d <= DB; d++) begin
      bd_hit_q[d] <= bge_q[d] && bj_q[d] == N_W'(al_q);
      bd_ws_q[d]  <= bwr_q[d];
    end
  end
  always_comb begin
    band_next = band_q;
    for (int d = 1; d <= DB; d++)
      if (bd_hit_q[d]) band_next[16*(d-1) +: 16] = bd_data_q[16 * 32'(bd_ws_q[d]) +: 16];
  end
  always_ff @(posedge ap_clk) begin
    if (state_q == StKsel) band_q <= '0;
    else if (bd_v_q) begin
      band_q <= bd_last_q ? '0 : band_next;
      if (bd_last_q) bmem[bd_row_q] <= band_next;
    end
  end

  // ---- per-probe state -------------------------------------------------------------------
  logic [MAX_N-1:0]     cur_q [HB];
  logic [MAX_N-1:0]     nxt_q [HB];
  logic [MAX_N-1:0]     old_q [HB];      // start-of-sweep state, shifted: bit 0 = row issued
  logic [DB-1:0]        hist_q [HB];     // newest decisions, hist[0] = last
  logic [MAX_N+DB-1:0]  win_q;           // ASYNC window (columns i-DB .. i-1), DB low virtual bits
  logic [MAX_N-1:0]     wptr_q;          // one-hot row being decided
  logic                 pl_v;

  assign pl_v = al_valid && (state_q == StPload || state_q == StRload);
  logic [31:0] pl_slot;                  // slot the probe stream fills
  assign pl_slot = state_q == StRload ? wb_q : al_seg;

  // ---- meta pipeline ----------------------------------------------------------------------
  typedef struct packed {
    logic           v;
    logic           first;
    logic           last;
    logic           hi;                  // paired single row: odd row (upper half)
    logic           v2;                  // dual: second row (is_row + 1 < N) valid
    logic [C_W-1:0] c;
  } meta_t;
  meta_t meta0;
  // the stages as one vector per field (yosys mis-elaborated an unpacked array of
  // packed structs: `meta_q[k].v` became an undriven implicit wire)
  logic [4+LT:0]  mv_q, mlast_q, mv2_q; // stages 0 .. 4+LT (the decision reads 4+LT)
  logic [1+LT:0]  mfirst_q;              // stages 0 .. 1+LT (the accumulator)
  logic           mhi0_q;                // .hi, used at stage 0 only
  logic [C_W-1:0] mc0_q;                 // .c, used at stage 0 only
  logic [HB-1:0] oldp_q [PL];            // old bit of the row, per probe
  logic [HB-1:0] oldp2_q [PL];           // dual: old bit of the second row

  assign issue     = state_q == StSweep && !issued_q;
  assign is_last_c = is_c_q == cm1_q;
  always_comb begin
    meta0.v     = issue;
    meta0.first = is_c_q == '0;
    meta0.last  = is_last_c;
    meta0.hi    = pair_q && !dual_q && is_row_q[0];
    meta0.v2    = dual_q && 32'(is_row_q) + 1 < n_q;
    meta0.c     = is_c_q;
  end

  // stage 0 (cycle T): memories with registered outputs
  logic [N_W-2:0]   is_row2;
  assign is_row2 = is_row_q[N_W-2:0] + 1'b1;
  logic [31:0]      rrd_q [LT + 2];       // r_i delayed to the accumulator
  logic [31:0]      rrd2_q [LT + 2];      // dual: r_{i+1}
  logic [DB*16-1:0] bw_q;
  logic [U-1:0]     winsl_q;
  always_ff @(posedge ap_clk) begin
    mv_q     <= {mv_q[3+LT:0], meta0.v};
    mfirst_q <= {mfirst_q[LT:0], meta0.first};
    mlast_q  <= {mlast_q[3+LT:0], meta0.last};
    mv2_q    <= {mv2_q[3+LT:0], meta0.v2};
    mhi0_q   <= meta0.hi;
    mc0_q    <= meta0.c;
    for (int b = 0; b < HB; b++) oldp_q[0][b] <= old_q[b][0];
    for (int b = 0; b < HB; b++) oldp2_q[0][b] <= old_q[b][1];
    for (int x = 1; x < PL; x++) oldp_q[x] <= oldp_q[x-1];
    for (int x = 1; x < PL; x++) oldp2_q[x] <= oldp2_q[x-1];
    rrd_q[0] <= rmem[is_row_q[N_W-2:0]];
    rrd2_q[0] <= rmem[is_row2];
    for (int x = 1; x < LT + 2; x++) rrd_q[x] <= rrd_q[x-1];
    for (int x = 1; x < LT + 2; x++) rrd2_q[x] <= rrd2_q[x-1];
    bw_q    <= async_q ? bmem[is_row_q[N_W-2:0]] : '0;
    winsl_q <= win_q[DB + 32'(is_c_q) * U +: U];
  end

  // stage 1: state slice (AND mask ready at T+2); band vector per band stage
  logic [U-1:0]      s_q [HB];
  logic [DB*16-1:0]  bwp_q [LT + 3];
  always_ff @(posedge ap_clk) begin
    for (int b = 0; b < HB; b++) begin
      logic [U/2-1:0] lo;
      lo = cur_q[b][0 +: U/2] & ~winsl_q[U/2-1:0];
      if (!pair_q) s_q[b] <= cur_q[b][32'(mc0_q) * U +: U] & ~winsl_q;
      else if (dual_q) s_q[b] <= {lo, lo};
      else if (mhi0_q) s_q[b] <= {lo, (U/2)'(0)};
      else s_q[b] <= {(U/2)'(0), lo};
    end
    bwp_q[0] <= bw_q;
    for (int j = 0; j < LT + 2; j++) bwp_q[j+1] <= bwp_q[j];
  end

  // (a + b) mod 2^32 == 0 without a carry chain: bit i of the sum is 0 iff the carry into
  // it equals a_i ^ b_i, and then the carry out of bit i is a_i | b_i
  // (the per-bit conditions as a vector and one reduction AND: a balanced tree)
  function automatic logic sum_zero(input logic [31:0] a, input logic [31:0] b);
    logic [31:0] c;
    c[0] = !(a[0] ^ b[0]);
    for (int i = 1; i < 32; i++) c[i] = (a[i] ^ b[i]) == (a[i-1] | b[i-1]);
    sum_zero = &c;
  endfunction

  /* verilator lint_off UNUSEDSIGNAL */
  function automatic logic sgn(input logic [31:0] v);   // the sign of a sum
    sgn = v[31];
  endfunction
  /* verilator lint_on UNUSEDSIGNAL */

  // 2 * w_{i,i-d} from a band vector (entry d at [16*(d-1) +: 16])
  function automatic logic [31:0] bw2(input logic [DB*16-1:0] v, input int unsigned d);
    bw2 = {{15{v[16*d-1]}}, v[16*(d-1) +: 16], 1'b0};
  endfunction

  logic [HB-1:0] dec, dec2;
  logic          dec_v, dec_v2;
  assign dec_v = mv_q[4 + LT] && mlast_q[4 + LT];
  assign dec_v2 = dec_v && mv2_q[4 + LT];

  // verilator tracing_off
  for (genvar b = 0; b < HB; b++) begin : g_probe
    // main tree (cycles T+2 .. T+1+LT) over the AND-masked chunk
    logic [U*16-1:0] leaves;
    always_comb begin
      for (int k = 0; k < U; k++) leaves[16*k +: 16] = s_q[b][k] ? w_q[16*k +: 16] : 16'd0;
    end
    // two half trees (LT - 1 levels) and the root register: the halves are
    // the two rows of a dual issue, their sum the chunk (LT levels in all)
    logic signed [T_W-2:0] t_lo, t_hi, t_lo_q, t_hi_q;
    logic signed [T_W-1:0] tsum;
    hopfield_sum_tree #(.P(U / 2), .IN_W(16)) u_tree_lo (
      .clk_i (ap_clk),
      .in_i  (leaves[U*8-1:0]),
      .sum_o (t_lo)
    );
    hopfield_sum_tree #(.P(U / 2), .IN_W(16)) u_tree_hi (
      .clk_i (ap_clk),
      .in_i  (leaves[U*16-1:U*8]),
      .sum_o (t_hi)
    );
    always_ff @(posedge ap_clk) begin
      tsum   <= T_W'(t_lo) + T_W'(t_hi);
      t_lo_q <= t_lo;
      t_hi_q <= t_hi;
    end
    logic [31:0] acc2, p2b;
    logic        h2bs, h0s, h1s;    // signs of h2b = p2b delayed, h0 = sel + p, h1 = sel + p2
    logic        h2bz, z0, z1;      // h2b == 0, h0 == 0, h1 == 0 (registered with them)
    logic [31:0] px0 [LT + 3];   // pair chain: value without / with the next forwarded column
    logic [31:0] px1 [LT + 3];
    logic [31:0] acc, p, p2;
    always_ff @(posedge ap_clk) begin
      // T+1: initial pair for d = DB
      px0[0] <= '0;
      px1[0] <= bw2(bw_q, DB);
      // band stages j (cycle T+2+j) select forwarded column d = DB - j
      for (int j = 0; j < LT + 2; j++) begin
        logic [31:0] sel;
        sel = hist_q[b][ksel_q[DB - j]] ? px1[j] : px0[j];
        px0[j+1] <= sel;
        px1[j+1] <= sel + bw2(bwp_q[j], DB - j - 1);
      end
      // T+2+LT: accumulate chunks, -r_i at the first
      if (mv_q[1 + LT]) acc <= (mfirst_q[1 + LT] ? -rrd_q[LT + 1] : acc) +
                          ((dual_q ? 32'(t_lo_q) : 32'(tsum)) << 1);
      // dual: the second row (upper half), no chunks, no forwarding (SYNC)
      acc2 <= -rrd2_q[LT + 1] + (32'(t_hi_q) << 1);
      p2b  <= acc2;
      h2bs <= p2b[31];
      h2bz <= p2b == '0;
      // T+3+LT
      p  <= acc;
      p2 <= acc + bw2(bwp_q[LT + 1], 1);
      // T+4+LT: merge with the chain (forwarded column d = 2)
      begin
        logic [31:0] sel;
        logic        hs;
        hs  = hist_q[b][ksel_q[2]];
        sel = hs ? px1[LT + 2] : px0[LT + 2];
        h0s <= sgn(sel + p);
        h1s <= sgn(sel + p2);
        // their zero tests formed alongside (the decision reads registered flags)
        z0 <= hs ? sum_zero(px1[LT + 2], p) : sum_zero(px0[LT + 2], p);
        z1 <= hs ? sum_zero(px1[LT + 2], p2) : sum_zero(px0[LT + 2], p2);
      end
    end
    // T+5+LT decision: forwarded column d = 1 is the newest decision
    logic d0, d1, old;
    assign old = oldp_q[4 + LT][b];
    assign d0  = z0 ? old : !h0s;
    assign d1  = z1 ? old : !h1s;
    assign dec[b] = hist_q[b][0] ? d1 : d0;
    assign dec2[b] = h2bz ? oldp2_q[4 + LT][b] : !h2bs;
  end
  // verilator tracing_on

  // ---- state updates ---------------------------------------------------------------------
  always_ff @(posedge ap_clk) begin
    for (int b = 0; b < HB; b++)
      if (pl_v && al_last && pl_slot == b) begin
        pid_q[b] <= np_q;
        pwo_q[b] <= npw_q;
      end
  end
  // the first fill's beats: (nb * W + WPB - 1) / WPB, formed in StKsel
  // (nb_q and wd_q set in StSetup; StKsel lasts DB >= 7 cycles)
  always_ff @(posedge ap_clk)
    if (state_q == StKsel)
      fill_beats_q <= (NW'(FB_NB'(nb_q) * FB_W'(wd_q)) + NW'(WPB - 1)) >> LOG_WPB;

  // per state word: inside the probe (w < W) / its last word, formed in StKsel
  logic [W_MAX-1:0] winr_q, wlst_q;
  always_ff @(posedge ap_clk)
    if (state_q == StKsel)
      for (int w = 0; w < W_MAX; w++) begin
        winr_q[w] <= NW'(w) < wd_q;
        wlst_q[w] <= NW'(w) + 1'b1 == wd_q;
      end
  always_ff @(posedge ap_clk) begin
    for (int b = 0; b < HB; b++) begin
      if (state_q == StBatch || (state_q == StRefill && wb_q == b)) begin
        cur_q[b] <= '0;
      end else if (pl_v && SLW'(pl_slot) == SLW'(b)) begin
        // aligned beat q holds words 8q .. 8q+7 (q < QMAX: narrow compare)
        for (int w = 0; w < W_MAX; w++)
          if (winr_q[w] && QW'(al_q) == QW'(w / WPB))
            cur_q[b][64*w +: 64] <= al_data[64*(w % WPB) +: 64] & (wlst_q[w] ? last_mask_q : '1);
      end else if (state_q == StSweepEnd && !async_q) begin
        cur_q[b] <= nxt_q[b];
      end else if (dec_v && async_q && active_q[b]) begin
        cur_q[b] <= (cur_q[b] & ~wptr_q) | (wptr_q & {MAX_N{dec[b]}});
      end
      if (state_q == StSweepStart) nxt_q[b] <= cur_q[b];
      else if (dec_v && !async_q && active_q[b]) begin
        logic [MAX_N-1:0] w2;
        w2 = dec_v2 ? {wptr_q[MAX_N-2:0], 1'b0} : '0;
        nxt_q[b] <= (nxt_q[b] & ~wptr_q & ~w2) | (wptr_q & {MAX_N{dec[b]}}) | (w2 & {MAX_N{dec2[b]}});
      end
      if (state_q == StSweepStart) old_q[b] <= cur_q[b];
      else if (issue && is_last_c) old_q[b] <= dual_q ? {2'b0, old_q[b][MAX_N-1:2]}
                                                      : {1'b0, old_q[b][MAX_N-1:1]};
      if (dec_v) hist_q[b] <= {hist_q[b][DB-2:0], dec[b]};
    end
    if (state_q == StSweepStart) begin
      win_q  <= async_q ? {{MAX_N{1'b0}}, {DB{1'b1}}} : '0;
      wptr_q <= MAX_N'(1);
    end else begin
      if (issue && is_last_c && async_q) win_q <= {win_q[MAX_N+DB-2:0], 1'b0};
      if (dec_v) wptr_q <= dual_q ? {wptr_q[MAX_N-3:0], 2'b0} : {wptr_q[MAX_N-2:0], 1'b0};
    end
  end

  // issue counters
  always_ff @(posedge ap_clk) begin
    if (state_q == StSweepStart) begin
      is_row_q <= '0;
      is_c_q   <= '0;
      ia_q     <= '0;
      issued_q <= 1'b0;
      rows_left_q <= N_W'(n_q);       // N <= MAX_N in a sweep
      rows_all_q  <= 1'b0;            // N >= 1
    end else begin
      if (issue) begin
        // paired single rows share an address: it advances after the odd row
        if (!pair_q || dual_q || is_row_q[0]) ia_q <= ia_q + 1'b1;
        if (is_last_c) begin
          is_c_q   <= '0;
          is_row_q <= is_row_q + (dual_q ? N_W'(2) : N_W'(1));
          if (32'(is_row_q) + (dual_q ? 32'd2 : 32'd1) >= n_q) issued_q <= 1'b1;
        end else begin
          is_c_q <= is_c_q + 1'b1;
        end
      end
      if (dec_v) begin
        rows_left_q <= rows_left_q - (dec_v2 ? N_W'(2) : N_W'(1));
        rows_all_q  <= dec_v2 ? rows_left_q == N_W'(2) : rows_left_q == N_W'(1);
      end
    end
  end

  // per-slot sweep records; fin = stopped (or max_sweeps 0), to be written
  always_comb begin
    fin_any = |fin_q;
    fin_lo  = '0;
    for (int b = HB - 1; b >= 0; b--) if (fin_q[b]) fin_lo = 32'(b);
  end
  always_ff @(posedge ap_clk) begin
    for (int b = 0; b < HB; b++) begin
      logic stays;
      // lastsw_q = (sweeps_cnt_q + 1 == maxsw_q), kept with a count-down (no 32-bit
      // add and compare in front of active_q / fin_q)
      stays = changed_q[b] && !lastsw_q[b];
      if (state_q == StBatch || (state_q == StRefill && wb_q == b)) begin
        sweeps_cnt_q[b] <= '0;
        swleft_q[b]     <= maxsw_q - 1;
        lastsw_q[b]     <= maxsw1_q;
        conv_q[b]       <= 1'b0;
        active_q[b]     <= (state_q == StRefill || 32'(b) < nb_q) && maxsw_q != 0;
      end else if (state_q == StSweepEnd && active_q[b]) begin
        sweeps_cnt_q[b] <= sweeps_cnt_q[b] + 1;
        swleft_q[b]     <= swleft_q[b] - 1;
        lastsw_q[b]     <= swleft_q[b] == 32'd1;
        conv_q[b]       <= !changed_q[b];
        active_q[b]     <= stays;
      end
      if (state_q == StBatch) fin_q[b] <= 1'b0;
      else if (state_q == StPload && rd_quiet) fin_q[b] <= 32'(b) < nb_q && maxsw_q == 0;
      else if (state_q == StSweepEnd && active_q[b]) fin_q[b] <= !stays;
      else if (state_q == StWrSweep && wsw_end && wb_q == b) fin_q[b] <= 1'b0;
      else if (state_q == StRload && rd_quiet && wb_q == b) fin_q[b] <= maxsw_q == 0;
      if (state_q == StSweepStart) changed_q[b] <= 1'b0;
      else if (dec_v && (dec[b] != oldp_q[4 + LT][b] || (dec_v2 && dec2[b] != oldp2_q[4 + LT][b])))
        changed_q[b] <= 1'b1;
    end
  end

  // ---- write stream: per probe the state words, then the sweep word ---------------------
  logic [MAX_N+DATA_W-1:0] wext_q;        // probe state shifted by its word offset
  logic [NW-1:0]           wfw_q;         // flat word of the probe's first state word
  logic [NW-1:0]           wbeats_q, wleft_q;
  logic                    wfirst_q, wone_q, wdone_q;   // first / last beat next, all sent
  logic                    wdone_d, wr_cmd_pend_d;
  // per slot, its last beat's word offset and its beat count, registered from pwo_q (free
  // running; pwo_q is written at the probe's last load beat, >= 2 cycles before StWrSetup:
  // StScan lies between), so StWrSetup has no adder in front of wsl_q / wbeats_q
  logic [NW-1:0]           pe_q [HB];
  logic [NW-1:0]           pnbt_q [HB];
  always_ff @(posedge ap_clk)
    for (int b = 0; b < HB; b++) begin
      pe_q[b]   <= ((pwo_q[b] & NW'(WPB - 1)) + wd_q) & NW'(WPB - 1);
      pnbt_q[b] <= ((pwo_q[b] & NW'(WPB - 1)) + wd_q + NW'(WPB - 1)) >> LOG_WPB;
    end
  // wext_q's load / shift controls registered one cycle early from the next-state values
  // (state transitions, wdone_d, wr_cmd_pend_d) and replicated per slice of wext_q (kept: not merged),
  // so the FSM state register does not drive the window's ~800 enables through the
  // wr_valid decode (2026-12-02, issue 11). wld_q[i] == (state_q == StWrSetup) and
  // wsh_q[i] == (state_q == StWrState && !wdone_q && !wr_cmd_pend_q) in every cycle.
  localparam int unsigned WX_W  = MAX_N + DATA_W;
  localparam int unsigned WX_NS = 8;                              // control copies
  localparam int unsigned WX_SL = (WX_W + WX_NS - 1) / WX_NS;     // bits per copy
  logic [WX_NS-1:0] wld_q;
  logic [WX_NS-1:0] wsh_q;
  logic             wsh_c_q;                                      // copy for the counters
  logic [BYTES-1:0]        wsf_q, wsl_q;                // strobes of the first / last beat
  logic [31:0]             sw_word;
  logic [63:0]             sw_byte_addr;

  always_ff @(posedge ap_clk) begin
    if (state_q == StScan) wb_q <= fin_lo;
    if (state_q == StWrSetup) begin
      logic [NW-1:0]    fw;
      logic [31:0]      id;
      fw = '0;
      id = '0;
      for (int b = 0; b < HB; b++)
        if (wb_q == b) begin
          fw = pwo_q[b];
          id = pid_q[b];
        end
      wfw_q    <= fw;
      wpid_q   <= id;
      begin
        logic [NW-1:0] o, e, nbt;
        o   = fw & NW'(WPB - 1);
        e   = '0;
        nbt = '0;
        for (int b = 0; b < HB; b++)
          if (wb_q == b) begin
            e   = pe_q[b];
            nbt = pnbt_q[b];
          end
        wbeats_q <= nbt;
        wleft_q  <= nbt;
        wone_q   <= nbt == NW'(1);
        wfirst_q <= 1'b1;
        wsf_q    <= {BYTES{1'b1}} << (8 * 32'(o));
        wsl_q    <= e == '0 ? {BYTES{1'b1}} : ~({BYTES{1'b1}} << (8 * 32'(e)));
      end
    end else if (wsh_c_q && wr_ready) begin
      wleft_q  <= wleft_q - 1'b1;
      wone_q   <= wleft_q == NW'(2);
      wfirst_q <= 1'b0;
    end
    wdone_q <= wdone_d;
  end
  always_comb begin
    wdone_d = wdone_q;
    if (state_q == StWrSetup) wdone_d = 1'b0;
    else if (state_q == StWrState && wr_valid && wr_ready) wdone_d = wone_q;
  end

  // the window: per slice, load in StWrSetup, shift down one beat per beat sent
  logic [WX_W-1:0] wext_ld, wext_sh;
  assign wext_sh = wext_q >> DATA_W;
  always_comb begin
    logic [MAX_N-1:0] cs;
    logic [NW-1:0]    fw;
    cs = '0;
    fw = '0;
    for (int b = 0; b < HB; b++)
      if (wb_q == b) begin
        cs = cur_q[b];
        fw = pwo_q[b];
      end
    wext_ld = {{DATA_W{1'b0}}, cs} << (64 * 32'(fw & NW'(WPB - 1)));
  end
  for (genvar i = 0; i < WX_NS; i++) begin : g_wx
    localparam int unsigned LO = i * WX_SL;
    localparam int unsigned HI = (LO + WX_SL > WX_W ? WX_W : LO + WX_SL) - 1;
    always_ff @(posedge ap_clk) begin
      if (wld_q[i]) wext_q[HI:LO] <= wext_ld[HI:LO];
      else if (wsh_q[i] && wr_ready) wext_q[HI:LO] <= wext_sh[HI:LO];
    end
  end
  // keep on the always_ff blocks (it reaches the flip-flop cells; on the signal it does not):
  // without it yosys' opt_merge folds the copies into one flip-flop each
  logic wld_d, wsh_d;
  // next state is StWrSetup / stays StWrState, named directly (not through state_d: the whole
  // next-state logic in front of these flags was 9 UltraScale+ LUT levels); StWrState is
  // entered only from StWrSetup, which sets wr_cmd_pend, so the entry cycle's flag is 0
  assign wld_d = rst_n_q && state_q == StScan && fin_any;
  assign wsh_d = rst_n_q && state_q == StWrState && !wr_done_state && !wdone_d && !wr_cmd_pend_d;
  for (genvar i = 0; i < WX_NS; i++) begin : g_wxc
    (* keep *) always_ff @(posedge ap_clk) wld_q[i] <= wld_d;
    (* keep *) always_ff @(posedge ap_clk) wsh_q[i] <= wsh_d;
  end
  (* keep *) always_ff @(posedge ap_clk) wsh_c_q <= wsh_d;
  assign wr_done_state = wdone_q && !wr_cmd_pend_q;

  logic [BYTES-1:0] st_strb;
  assign st_strb = (wfirst_q ? wsf_q : '1) & (wone_q ? wsl_q : '1);

  always_comb begin
    sw_word = '0;
    for (int b = 0; b < HB; b++)
      if (wb_q == b) sw_word = {conv_q[b], sweeps_cnt_q[b][30:0]};
  end
  assign sw_byte_addr = sw_addr_q + (64'(wpid_q) << 2);
  assign wr_valid = wsh_c_q ||
                    (state_q == StWrSweep && !sw_sent_q && !wr_cmd_pend_q);
  assign wr_data  = state_q == StWrState ? wext_q[DATA_W-1:0]
                                         : {(DATA_W/32){sw_word}};
  assign wr_strb  = state_q == StWrState ? st_strb
                                         : (BYTES)'(4'hF) << {sw_byte_addr[LOG_BY-1:2], 2'b00};
  assign wr_cmd_valid = wr_cmd_pend_q;
  assign wr_cmd_addr  = state_q == StWrState
                        ? st_addr_q + (64'(wfw_q) >> LOG_WPB << LOG_BY)
                        : {sw_byte_addr[63:LOG_BY], LOG_BY'(0)};
  assign wr_cmd_beats = state_q == StWrState ? CNT_W'(wbeats_q) : CNT_W'(1);

  // ---- control registers -------------------------------------------------------------------
  always_comb begin
    wr_cmd_pend_d = wr_cmd_pend_q;
    if (state_q == StWrSetup) wr_cmd_pend_d = 1'b1;                     // -> StWrState
    else if (state_q == StWrState && wr_done_state) wr_cmd_pend_d = 1'b1;  // -> StWrSweep
    else if (wr_cmd_ready) wr_cmd_pend_d = 1'b0;
  end
  always_ff @(posedge ap_clk) begin
    if (!rst_n_q) begin
      state_q       <= StIdle;
      rd_busy_q     <= 1'b0;
      rd_cmd_pend_q <= 1'b0;
      wr_cmd_pend_q <= 1'b0;
      sw_sent_q     <= 1'b0;
      res_valid_q   <= 1'b0;
      nb_q          <= '0;
      np_q          <= '0;
      npw_q         <= '0;
    end else begin
      state_q <= state_d;
      rd_busy_q <= rd_busy;
      if (ld_go || pr_st) rd_cmd_pend_q <= 1'b1;
      else if (rd_cmd_ready) rd_cmd_pend_q <= 1'b0;
      wr_cmd_pend_q <= wr_cmd_pend_d;
      if (state_q != StWrSweep) sw_sent_q <= 1'b0;
      else if (wr_valid && wr_ready) sw_sent_q <= 1'b1;
      // resident weights
      if (ld_go) res_valid_q <= 1'b0;
      if (state_q == StLoad && rd_quiet) begin
        res_valid_q <= 1'b1;
        res_addr_q  <= w_addr_q;
        res_n_q     <= n_q;
      end
      // slots: probes are loaded in order; each completed probe segment
      // takes the next probe number and state word offset
      if (state_q == StSetup) begin
        np_q   <= '0;
        npw_q  <= '0;
        more_q <= !b0_q;
        pleft_q <= b_q;
        nb_q   <= b_q < HB ? b_q : 32'(HB);
      end else if (pl_v && al_last) begin
        np_q   <= np_q + 1;
        npw_q  <= npw_q + wd_q;
        more_q <= pleft_q != 32'd1;   // np_q + 1 != B
        pleft_q <= pleft_q - 1;
      end
    end
  end

  // ---- Assertions (verilator --assert) -------------------------------------------------------
`ifndef SYNTHESIS
  always_ff @(posedge ap_clk) begin
    if (rst_n_q) begin
      if (issue) begin
        assert (32'(is_row_q) < n_q) else $error("hopfield: row index >= N");
        assert (32'(ia_q) < DEPTH) else $error("hopfield: weight address out of range");
      end
      if (ld_v) assert (32'(ld_row_q) < n_q) else $error("hopfield: weight row >= N");
      if (pl_v) assert (pl_slot < HB) else $error("hopfield: probe slot >= B");
      if (dec_v) assert (state_q == StSweep) else $error("hopfield: decision outside a sweep");
      if (state_q == StIdle) begin
        assert (!m_axi_gmem_arvalid && !m_axi_gmem_awvalid && !m_axi_gmem_wvalid)
          else $error("hopfield: memory traffic while idle");
      end
    end
  end
`endif  // SYNTHESIS

endmodule
`resetall
