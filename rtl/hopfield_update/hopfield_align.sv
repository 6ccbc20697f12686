`resetall
`default_nettype none
// hopfield_align — re-aligns a flat stream of WPB-word beats (64-bit words)
// into segments of L words (weight rows, probes) that start anywhere in a
// beat: it emits, per segment, beats q = 0 .. ceil(L/WPB)-1 holding segment
// words q*WPB .. q*WPB+WPB-1 (words past the segment end are don't-care).
//
// The first segment starts at word o0 of the first beat; segments follow each
// other without gaps. Per cycle: emit the next aligned beat if its last word
// has arrived; accept a beat (dat_ready_o) if more beats are due and the next
// aligned beat ends in the newest beat or later (then the shift keeps all the
// words it needs). An aligned beat needs at most two consecutive beats (prev,
// cur). A beat that completes two aligned beats costs one extra cycle.
module hopfield_align #(
  parameter int unsigned WPB = 8,    // 64-bit words per beat (power of two)
  parameter int unsigned NW  = 32,   // width of word counters
  parameter int unsigned SW  = 16,   // width of the segment counter
  parameter int unsigned AW  = NW    // width of the word positions: holds the stream's
                                     // words + 4 * WPB (narrower = shorter compare chains)
) (
  input  wire logic                clk_i,
  input  wire logic                rst_ni,
  input  wire logic                start_i,     // load o0, L, segs, beats
  input  wire logic [NW-1:0]       o0_i,        // first word offset in beat 0 (< WPB)
  input  wire logic [NW-1:0]       len_i,       // L > 0: words per segment
  input  wire logic [SW-1:0]       segs_i,      // segments
  input  wire logic [NW-1:0]       beats_i,     // beats to accept
  input  wire logic                dat_valid_i,
  output logic                     dat_ready_o,
  input  wire logic [WPB*64-1:0]   dat_data_i,
  output logic                     out_valid_o,
  output logic [WPB*64-1:0]        out_data_o,  // registered
  output logic [SW-1:0]            out_seg_o,
  output logic [NW-1:0]            out_q_o,     // aligned beat index within the segment
  output logic                     out_last_o,  // last aligned beat of the segment
  output logic                     busy_o       // segments left to emit
);

  localparam int unsigned LW = $clog2(WPB) + 1;

  logic [AW-1:0]       rcvd_q;      // words received (relative to beat 0)
  logic [AW-1:0]       rcvdm_q;     // rcvd_q - WPB once a beat arrived (take's compare
  logic                rany_q;      // without an adder); rcvd_q != 0
  logic [AW-1:0]       lmin_q;      // min(L, WPB): the first aligned beat of a segment
  logic [NW-1:0]       beats_q;     // beats still to accept
  logic                beats_nz_q;  // beats_q != 0 (registered)
  logic [AW-1:0]       s_q;         // first word of the next aligned beat
  logic [AW-1:0]       e1_q;        // one past its last word
  logic [AW-1:0]       send_q;      // one past the segment's last word
  logic [AW-1:0]       len_q;
  logic [NW-1:0]       q_q;
  logic [SW-1:0]       seg_q;       // segments emitted
  logic [SW-1:0]       segl_q;      // segments left
  logic                busy_q;      // segl_q != 0 (registered)
  logic                one_q;       // segl_q == 1 (registered: busy_q's next value)
  logic                b1_q;        // beats_q == 1 (registered: beats_nz_q's next value)
  logic                clr_q;       // the cycle after a start: clear the window, form the
                                    // flags of beats_q and segl_q (no beat arrives then)
  // the beat window: three slots, prev / cur / free by one-hot pointers. An offered beat
  // is always written into the free slot (the slots' enables hang off registers only, not
  // off the accept test); taking it just rotates the pointers.
  logic [WPB*64-1:0]   slot_q [3];
  logic [2:0]          pp_q, cp_q, fp_q;
  logic [WPB*64-1:0]   prev_w, cur_w;   // the slots under pp_q / cp_q

  logic                emit, take;
  assign emit = busy_q && e1_q <= rcvd_q;
  // e1 + WPB > rcvd  <=>  rcvd == 0 or e1 > rcvd - WPB (rcvd is a multiple of WPB)
  assign take = beats_nz_q && (!busy_q || !rany_q || e1_q > rcvdm_q);
  assign dat_ready_o = take;
  assign busy_o = busy_q;

  // window {0, cur, prev}: word w of the window is prev[w] for w < WPB
  logic [3*WPB*64-1:0] win;
  logic [AW-1:0]       off_full;
  logic [LW-1:0]       off;
  always_comb begin
    prev_w = '0;
    cur_w  = '0;
    for (int j = 0; j < 3; j++) begin
      if (pp_q[j]) prev_w = prev_w | slot_q[j];
      if (cp_q[j]) cur_w  = cur_w | slot_q[j];
    end
  end
  assign win      = {{(WPB*64){1'b0}}, cur_w, prev_w};
  assign off_full = s_q + AW'(2 * WPB) - rcvd_q;
  assign off      = off_full[LW-1:0];

  logic [WPB*64-1:0]   rot;
  always_comb begin
    for (int k = 0; k < WPB; k++) rot[64*k +: 64] = win[64 * (32'(off) + k) +: 64];
  end

  // next aligned beat after an emit: e1_n = min(s_n + WPB, send_n), both cases formed in
  // parallel from registers (a new segment: send + min(L, WPB); else min(s + 2 WPB, send))
  // seg_end = (e1_q == send_q), a register formed with e1_q / send_q: after an emit at a
  // segment end e1 = send + min(L, WPB), send + L: equal iff L <= WPB; inside a segment
  // e1 = min(s + 2 WPB, send): equal iff s + 2 WPB >= send; at a start: iff L <= WPB
  // (set in the clear cycle, in which nothing is emitted)
  logic          seg_end, se_q, lshort_q;
  logic [AW-1:0] s_n, send_n, e1_n, s2;
  assign seg_end = se_q;
  always_comb begin
    s_n    = seg_end ? send_q : s_q + AW'(WPB);
    send_n = seg_end ? send_q + len_q : send_q;
    s2     = s_q + AW'(2 * WPB);
    e1_n   = seg_end ? send_q + lmin_q : (s2 < send_q) ? s2 : send_q;
  end

  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      out_valid_o <= 1'b0;
      seg_q       <= '0;
      segl_q      <= '0;
      busy_q      <= 1'b0;
      one_q       <= 1'b0;
      beats_q     <= '0;
      beats_nz_q  <= 1'b0;
      b1_q        <= 1'b0;
    end else begin
      out_valid_o <= emit;
      if (start_i) begin
        // busy_q, beats_nz_q follow in the clear cycle (in it no beat arrives, so take
        // does not matter; rcvd_q = 0 keeps emit low; the kernel's read command is
        // pending, which masks busy_o)
        seg_q      <= '0;
        segl_q     <= segs_i;
        beats_q    <= beats_i;
      end else if (clr_q) begin
        busy_q     <= segl_q != '0;
        one_q      <= segl_q == SW'(1);
        beats_nz_q <= beats_q != '0;
        b1_q       <= beats_q == NW'(1);
      end else begin
        if (take && dat_valid_i) begin
          beats_q    <= beats_q - 1'b1;
          beats_nz_q <= !b1_q;
          b1_q       <= beats_q == NW'(2);
        end
        if (emit && seg_end) begin
          seg_q  <= seg_q + 1'b1;
          segl_q <= segl_q - 1'b1;
          busy_q <= !one_q;
          one_q  <= segl_q == SW'(2);
        end
      end
    end
  end

  // the window slots: the free slot takes every offered beat; the clear cycle zeroes all
  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      pp_q <= 3'b001;
      cp_q <= 3'b010;
      fp_q <= 3'b100;
    end else if (take && dat_valid_i) begin
      pp_q <= cp_q;
      cp_q <= fp_q;
      fp_q <= pp_q;
    end
  end
  for (genvar j = 0; j < 3; j++) begin : g_slot
    always_ff @(posedge clk_i) begin
      if (clr_q) slot_q[j] <= '0;
      else if (fp_q[j] && dat_valid_i) slot_q[j] <= dat_data_i;
    end
  end

  always_ff @(posedge clk_i) begin
    // the window is cleared the cycle after a start (no beat can arrive then: the
    // read command is issued with the start), so the wide clear hangs off a register
    clr_q <= start_i;
    if (start_i) begin
      rcvd_q <= '0;
      rany_q <= 1'b0;
      lmin_q <= AW'((len_i < NW'(WPB)) ? len_i : NW'(WPB));
      len_q  <= AW'(len_i);
      s_q    <= AW'(o0_i);
      send_q <= AW'(o0_i + len_i);
      e1_q   <= AW'((len_i < NW'(WPB)) ? o0_i + len_i : o0_i + NW'(WPB));
      q_q    <= '0;
    end else begin
      if (clr_q) begin
        lshort_q <= len_q <= AW'(WPB);
        se_q     <= len_q <= AW'(WPB);
      end
      if (take && dat_valid_i) begin
        rcvd_q  <= rcvd_q + AW'(WPB);
        rcvdm_q <= rcvd_q;
        rany_q  <= 1'b1;
      end
      if (emit) begin
        s_q    <= s_n;
        send_q <= send_n;
        e1_q   <= e1_n;
        se_q   <= seg_end ? lshort_q : !(s2 < send_q);
        q_q    <= seg_end ? '0 : q_q + 1'b1;
      end
    end
    if (emit) begin
      out_data_o <= rot;
      out_seg_o  <= seg_q;
      out_q_o    <= q_q;
      out_last_o <= seg_end;
    end
  end

  // unused high bits of the window offset
  logic unused;
  assign unused = ^off_full[AW-1:LW];

`ifndef SYNTHESIS
  always_ff @(posedge clk_i)
    if (rst_ni && clr_q) assert (!(take && dat_valid_i)) else $error("hopfield_align: beat in the cycle after start");
`endif

endmodule
`resetall
