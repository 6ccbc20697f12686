#!/usr/bin/env bash
# kernels/lint_hls.sh — house-style checks of the HLS kernels (make lint).
#
#   1. The synthesis branch (-D__SYNTHESIS__) compiles as C++17 with
#      -Wall -Wextra -Werror (g++ never sees it in the normal build).
#   2. Interface: exactly one s_axilite bundle ("control") including
#      port=return; every m_axi pointer has offset=slave and its own bundle
#      (v1) or all pointers share the CU's one bundle gmem (v2).
#   3. Every loop carries a label (Vitis reports name loops by label).
# Exit status 0 when clean; messages name file and line otherwise.
set -u
cd "$(dirname "$0")/.." || exit 1
CXX=${CXX:-g++}
fail=0
for f in kernels/som_bmu.cpp kernels/hopfield_update.cpp; do
  if ! "$CXX" -std=c++17 -Wall -Wextra -Werror -Wno-unknown-pragmas -Wno-unused-label \
      -D__SYNTHESIS__ -Ikernels -fsyntax-only "$f"; then
    echo "$f: synthesis branch does not compile" >&2
    fail=1
  fi
  bundles=$(grep -o 's_axilite port=[A-Za-z_]* bundle=[A-Za-z_]*' "$f" | awk '{print $3}' | sort -u)
  if [ "$bundles" != "bundle=control" ]; then
    echo "$f: s_axilite bundles must all be 'control', found: $bundles" >&2
    fail=1
  fi
  if ! grep -q 's_axilite port=return bundle=control' "$f"; then
    echo "$f: no 's_axilite port=return bundle=control'" >&2
    fail=1
  fi
  if grep -n 'INTERFACE m_axi' "$f" | grep -v 'offset=slave' >&2; then
    echo "$f: m_axi interface without offset=slave (lines above)" >&2
    fail=1
  fi
  # v1 kernels: one bundle per pointer; v2 kernels (V2-INTERFACE): every pointer on the one
  # 512-bit master `gmem` of the compute unit.
  mb=$(grep -o 'INTERFACE m_axi .*bundle=[a-z0-9]*' "$f" | grep -o 'bundle=[a-z0-9]*' | sort)
  if [ "$(echo "$mb" | sort -u)" != "bundle=gmem" ]; then
    dup=$(echo "$mb" | uniq -d)
    if [ -n "$dup" ]; then
      echo "$f: m_axi bundles shared by several pointers (and not the one v2 bundle gmem): $dup" >&2
      fail=1
    fi
  fi
  # A loop line must follow a label line (ignoring blank lines).
  if ! awk -v f="$f" '
      /^[ \t]*$/ { next }
      /^[ \t]*(for|while)[ \t]*\(/ {
        if (prev !~ /^[ \t]*[A-Za-z_][A-Za-z_0-9]*:[ \t]*$/) {
          printf "%s:%d: loop without a label\n", f, NR > "/dev/stderr"; bad = 1
        }
      }
      { prev = $0 }
      END { exit bad }' "$f"; then
    fail=1
  fi
done
[ "$fail" -eq 0 ] && echo "lint_hls: kernels clean"
exit "$fail"
