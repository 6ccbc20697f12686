#!/usr/bin/env bash
# Tests of the container images' contents (controller/deploy/images/).
#
# No Docker engine runs where somhop is built, so the Dockerfiles keep their
# build step to one script (scripts/stage-image.sh) and this test runs that
# same script, then checks what it staged: the exact file list, that the
# binaries start, and that every shared library they need comes from a
# Debian package the Dockerfile's runtime stage installs (or from the base
# image). hadolint lints the Dockerfiles.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# shellcheck source=tests/check.sh
. "$ROOT/tests/check.sh"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
IMAGES=$ROOT/controller/deploy/images
BUILD_REL=$(realpath --relative-to="$ROOT" "${SOMHOP_BUILD:-$ROOT/build}")

out=$("$ROOT/scripts/lint-dockerfiles.sh" 2>&1); rc=$?
check_rc "hadolint clean" "$rc" 0
[ "$rc" -eq 0 ] || echo "# $out" | head -20

# Packages debian:12-slim already has (priority required/important).
BASE_PKGS="libc6 libgcc-s1 libstdc++6 zlib1g libzstd1 liblzma5 libbz2-1.0 libselinux1 libpcre2-8-0 libgcrypt20 libgpg-error0 libcap2 libsystemd0 liblz4-3 libcrypt1 libacl1 libattr1 libudev1 libtinfo6 libffi8"

# Paths of the libraries a binary links directly (its DT_NEEDED entries);
# their own dependencies come with the packages that provide them.
direct_libs() {
  local needed
  needed=$(objdump -p "$1" | awk '/NEEDED/ {printf " %s", $2}')
  ldd "$1" | awk -v want="$needed " '/=> \// { if (index(want, " " $1 " ")) print $3 }'
}

for kind in runner controller; do
  df=$IMAGES/$kind.Dockerfile
  check_contains "$kind Dockerfile builds with stage-image.sh" "$(cat "$df")" \
    "bash scripts/stage-image.sh $kind /stage"
  dest=$TMP/$kind
  out=$(SOMHOP_STAGE_BUILD=$BUILD_REL "$ROOT/scripts/stage-image.sh" "$kind" "$dest" 2>&1); rc=$?
  check_rc "stage $kind" "$rc" 0
  [ "$rc" -eq 0 ] || { echo "# ${out:0:2000}"; continue; }
  files=$(cd "$dest" && find . -type f | sort | tr '\n' ' ')
  case "$kind" in
    runner) want="./etc/OpenCL/vendors/somhop-emu.icd ./usr/local/bin/somhop ./usr/local/lib/somhop/libsomhop_emu_icd.so ./usr/local/xclbin/somhop.hw_emu.xclbin ./usr/local/xclbin/somhop.sw_emu.xclbin " ;;
    controller) want="./usr/local/bin/somhop-controller " ;;
  esac
  check_eq "$kind image files" "$files" "$want"
  runtime_pkgs=$(sed -n '/^FROM debian:12-slim/,$p' "$df" | grep -oE '(^| )(lib|ocl-|ca-)[a-z0-9.+-]+' | tr -d ' ' | sort -u | tr '\n' ' ')
  for bin in $(cd "$dest" && find . -type f \( -name '*.so' -o -path '*/bin/*' \)); do
    missing=""
    while read -r lib; do
      [ -n "$lib" ] || continue
      # Sanitizer runtimes appear only when `make asan` runs this test on its
      # instrumented build; images are built without sanitizers.
      case "$lib" in */lib*san.so*) continue ;; esac
      pkg=$(dpkg -S "$lib" 2>/dev/null | head -1 | cut -d: -f1)
      [ -n "$pkg" ] || pkg=$(dpkg -S "$(realpath "$lib")" 2>/dev/null | head -1 | cut -d: -f1)
      case " $runtime_pkgs $BASE_PKGS " in *" $pkg "*) ;; *) missing+=" $lib($pkg)" ;; esac
    done < <(direct_libs "$dest/$bin")
    check_eq "$kind $(basename "$bin"): every library from an installed package" "$missing" ""
  done
done

if [ -x "$TMP/runner/usr/local/bin/somhop" ]; then
  out=$("$TMP/runner/usr/local/bin/somhop" --help 2>&1); rc=$?
  check_rc "staged somhop starts" "$rc" 0
fi
if [ -x "$TMP/runner/usr/local/bin/somhop" ]; then
  # The staged runner finds its xclbin next to bin/ and runs a kernel through
  # the staged emulation platform, as it would inside the image.
  "$TMP/runner/usr/local/bin/somhop" som train builtin:iris --rows 4 --cols 4 --epochs 3 \
    --seed 1 -o "$TMP/tiny.som" >/dev/null 2>&1
  check_rc "staged runner: som train" $? 0
  for be in sw_emu hw_emu; do
    out=$(cd "$TMP" && env -u SOMHOP_BUILD -u SOMHOP_XCLBIN \
      OCL_ICD_VENDORS="$TMP/runner/usr/local/lib/somhop/libsomhop_emu_icd.so" \
      "$TMP/runner/usr/local/bin/somhop" som bmu "$TMP/tiny.som" builtin:iris \
      --backend "$be" -o "$TMP/bmu-$be.csv" 2>&1); rc=$?
    check_rc "staged runner: som bmu --backend $be" "$rc" 0
    [ "$rc" -eq 0 ] || echo "# ${out:0:600}"
  done
  check_eq "staged runner: sw_emu and hw_emu agree" "$(cksum <"$TMP/bmu-sw_emu.csv" 2>&1)" \
    "$(cksum <"$TMP/bmu-hw_emu.csv" 2>&1)"
fi
if [ -x "$TMP/controller/usr/local/bin/somhop-controller" ]; then
  out=$("$TMP/controller/usr/local/bin/somhop-controller" --help 2>&1); rc=$?
  check_rc "staged somhop-controller starts" "$rc" 0
fi
check_done
