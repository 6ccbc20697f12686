# bench/stream.mk — peak memory of the streaming `som bmu|eval|predict` on a
# 2,000,000 x 10 CSV (issue 15); see bench/stream.sh.
BENCH_CMDS += bench/stream.sh
