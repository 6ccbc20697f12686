# scripts/scripts.mk — tests and lint of the deployment scripts.
# tests/f1/test_f1_scripts.sh pins the F1 build/AFI command sequences
# (golden dry runs, stand-in tools) and runs shellcheck on every script.
TEST_CMDS += tests/f1/test_f1_scripts.sh tests/f1/test_images.sh tests/f1/test_f1_manifests.sh
LINT_CMDS += tests/f1/test_f1_scripts.sh
BENCH_CMDS += scripts/bench-peers.sh
TEST_CMDS += tests/deploy/test_deploy.sh
