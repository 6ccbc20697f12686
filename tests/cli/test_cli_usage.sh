#!/usr/bin/env bash
# CLI usage: --help on every command, --version, unknown options and
# commands, bad option values -> usage error (exit 2) naming the problem.
set -u
# shellcheck source=tests/check.sh
. "$SOMHOP_ROOT/tests/check.sh"
# shellcheck source=tests/cli/cli_lib.sh
. "$SOMHOP_ROOT/tests/cli/cli_lib.sh"

# --- help everywhere --------------------------------------------------------
expect "somhop --help" 0 --help
check_contains "top help lists exit codes" "$OUT" "3  model file error"
check_contains "top help lists hopfield recall" "$OUT" "hopfield recall"
expect "somhop help" 0 help
expect "somhop -h" 0 -h
expect "somhop without arguments is a usage error" 2
check_contains "no-args usage on stderr" "$ERR" "Usage: somhop"
expect "somhop --version" 0 --version
check_contains "version text" "$OUT" "somhop "

for cmd in "som train" "som bmu" "som eval" "som predict" "som render" "som export" \
           "hopfield store" "hopfield recall" "hopfield energy" "info"; do
  # shellcheck disable=SC2086
  expect "$cmd --help" 0 $cmd --help
  check_contains "$cmd --help shows its usage" "$OUT" "Usage: somhop $cmd"
  check_contains "$cmd --help lists --help" "$OUT" "--help"
  # shellcheck disable=SC2086
  expect "help $cmd" 0 help $cmd
  # shellcheck disable=SC2086
  expect_err "$cmd --no-such-option" 2 "unknown option '--no-such-option'" $cmd --no-such-option
  check_contains "$cmd: points at --help" "$ERR" "somhop $cmd --help"
done
expect "som --help" 0 som --help
expect "hopfield --help" 0 hopfield --help
expect "devices --help" 0 devices --help
expect "run --help" 0 run --help

# Options documented in the help text are accepted by the parser (the usage
# text is generated from the option table; spot-check the brief's options).
expect "som train --help" 0 som train --help
for o in --label-col --rows --cols --grid --toroidal --init --mode --neighbourhood --lr \
         --radius --schedule --epochs --norm --seed --threads --json --output; do
  check_contains "som train documents $o" "$OUT" "$o"
done
expect "hopfield recall --help" 0 hopfield recall --help
for o in --noise --mode --order --max-sweeps --seed --backend --png --json --output; do
  check_contains "hopfield recall documents $o" "$OUT" "$o"
done
for cmd in "som bmu" "som eval" "som predict"; do
  # shellcheck disable=SC2086
  run $cmd --help
  check_contains "$cmd documents --backend" "$OUT" "cpu|ref|sw_emu|hw_emu|hw"
done

# Every option a command's --help lists is documented in docs/cli.md.
for cmd in "som train" "som bmu" "som eval" "som predict" "som render" "som export" \
           "hopfield store" "hopfield recall" "hopfield energy" "info"; do
  # shellcheck disable=SC2086
  run $cmd --help
  missing=""
  for o in $(printf '%s\n' "$OUT" | sed -n '/^Options:/,/^$/p' | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u); do
    grep -q -- "$o" "$SOMHOP_ROOT/docs/cli.md" || missing="$missing $o"
  done
  check_eq "docs/cli.md documents every option of $cmd" "$missing" ""
done

# --- unknown commands and subcommands ---------------------------------------
expect_err "unknown command" 2 "unknown command 'frobnicate'" frobnicate
expect_err "unknown top-level option" 2 "unknown option '--frob'" --frob
expect_err "unknown som subcommand" 2 "unknown subcommand 'fly'" som fly
expect_err "unknown hopfield subcommand" 2 "unknown subcommand 'fly'" hopfield fly
expect "som without subcommand" 2 som
expect "hopfield without subcommand" 2 hopfield

# --- missing arguments and bad values ----------------------------------------
expect_err "train without -o" 2 "missing -o MODEL" som train builtin:iris
expect_err "train without data" 2 "missing DATA" som train -o "$T/m.som"
expect_err "option missing its value" 2 "needs a value" som train builtin:iris -o
expect_err "flag given a value" 2 "takes no value" som train builtin:iris -o "$T/m.som" --toroidal=yes
expect_err "non-numeric --rows" 2 "'--rows'" som train builtin:iris -o "$T/m.som" --rows abc
expect_err "zero --rows" 2 "out of range" som train builtin:iris -o "$T/m.som" --rows 0
expect_err "negative --epochs" 2 "'--epochs'" som train builtin:iris -o "$T/m.som" --epochs -3
expect_err "bad --grid" 2 "'--grid'" som train builtin:iris -o "$T/m.som" --grid triangle
expect_err "bad --init" 2 "'--init'" som train builtin:iris -o "$T/m.som" --init magic
expect_err "bad --mode" 2 "'--mode'" som train builtin:iris -o "$T/m.som" --mode sometimes
expect_err "bad --neighbourhood" 2 "'--neighbourhood'" som train builtin:iris -o "$T/m.som" --neighbourhood square
expect_err "bad --schedule" 2 "'--schedule'" som train builtin:iris -o "$T/m.som" --schedule cosine
expect_err "bad --lr" 2 "'--lr'" som train builtin:iris -o "$T/m.som" --mode online --lr 0.5:x
expect_err "bad --radius" 2 "'--radius'" som train builtin:iris -o "$T/m.som" --radius 3:0
expect_err "bad --norm" 2 "'--norm'" som train builtin:iris -o "$T/m.som" --norm l2
expect_err "bad --seed" 2 "'--seed'" som train builtin:iris -o "$T/m.som" --seed -1
expect_err "bad --threads" 2 "'--threads'" som train builtin:iris -o "$T/m.som" --threads many
expect_err "toroidal hex with odd rows" 2 "even" som train builtin:iris -o "$T/m.som" --grid hex --toroidal --rows 5
assert "no model written by failed usage" "[ ! -e '$T/m.som' ]"
expect_err "bad --backend" 2 "'--backend'" som eval "$T/none.som" builtin:iris --backend gpu
expect_err "bmu: missing DATA" 2 "expected MODEL and DATA" som bmu "$T/none.som"
expect_err "recall: bad --noise" 2 "'--noise'" hopfield recall "$T/none.hop" --noise 1.5
expect_err "recall: bad --mode" 2 "'--mode'" hopfield recall "$T/none.hop" --mode parallel
expect_err "recall: random order needs async" 2 "--mode async" hopfield recall "$T/none.hop" --order random
expect_err "recall: random order is cpu only" 2 "cpu backend" hopfield recall "$T/none.hop" --mode async --order random --backend ref
expect_err "recall: zero --max-sweeps" 2 "'--max-sweeps'" hopfield recall "$T/none.hop" --max-sweeps 0
expect_err "store: bad --rule" 2 "'--rule'" hopfield store builtin:digits-prototypes -o "$T/h.hop" --rule oja
expect_err "store: bad --shape" 2 "'--shape'" hopfield store builtin:digits-prototypes -o "$T/h.hop" --shape 8by8
expect_err "store: unknown builtin" 2 "digits-prototypes" hopfield store builtin:letters -o "$T/h.hop"
expect_err "info: two arguments" 2 "expected one" info a b
expect_err "info: unknown builtin" 2 "builtin:" info builtin:nope

# "--" ends the options; "-o=FILE" style and -oFILE are accepted
expect "-- ends options (then a missing model file is a model error)" 3 info -- "$T/--help"

check_done
