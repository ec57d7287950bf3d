#!/usr/bin/env bash
# One idempotent set-up for `npm start`, `npm test` and `npm run bench`:
# system packages, node modules, build. Fast when everything is in place.
#   scripts/setup.sh          what the daemon needs to run
#   scripts/setup.sh --test   also what the test suite needs (which smoke-runs the model tools)
#   scripts/setup.sh --tools  also what the model tools (models/) need: PyTorch, ONNX
#   scripts/setup.sh --bench  also what the benchmarks run beside the daemon: cyclictest, stress-ng
#   scripts/setup.sh --packages  prints every system package it may install, and stops
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
want_tools=0
want_bench=0
want_packages=0
for arg in "$@"; do
  case "$arg" in
    --test) want_test=1 ;;
    --tools) want_tools=1 ;;
    --bench) want_bench=1 ;;
    --packages) want_packages=1 ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "setup: unknown argument '$arg'" >&2; exit 64 ;;
  esac
done

say() { printf 'setup: %s\n' "$*" >&2; }

# --- system packages -------------------------------------------------------
# Debian / Raspberry Pi OS names. Jetson (JetPack) ships its own OpenCV: the
# libopencv-dev check is skipped when pkg-config already finds opencv4.
run_pkgs=(g++ make python3 pkg-config)
test_pkgs=(mosquitto mosquitto-clients chromium gstreamer1.0-plugins-base)
# Training and quantization only (the daemon never needs Python): Debian's
# CPU PyTorch and onnx, used through /usr/bin/python3.
tools_pkgs=(python3-torch python3-onnx python3-numpy python3-yaml)
# The limit the reject timing is measured against, and the load beside it.
bench_pkgs=(rt-tests stress-ng)
if [ "$want_packages" = 1 ]; then
  echo "${run_pkgs[*]} libopencv-dev ${test_pkgs[*]} ${tools_pkgs[*]} ${bench_pkgs[*]}"
  exit 0
fi
source scripts/system-packages.sh
pkg-config --exists opencv4 2>/dev/null || run_pkgs+=(libopencv-dev)

missing=()
for p in "${run_pkgs[@]}"; do pkg_present "$p" || missing+=("$p"); done
if [ "$want_test" = 1 ]; then
  for p in "${test_pkgs[@]}"; do pkg_present "$p" || missing+=("$p"); done
fi
if [ "$want_bench" = 1 ]; then
  for p in "${bench_pkgs[@]}"; do pkg_present "$p" || missing+=("$p"); done
fi
if [ "$want_tools" = 1 ] || [ "$want_test" = 1 ]; then
  for p in "${tools_pkgs[@]}"; do pkg_present "$p" || missing+=("$p"); done
fi
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    say "installing system packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  else
    say "missing system packages: ${missing[*]}"
    echo "sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}"
    exit 1
  fi
fi

# --- node modules ------------------------------------------------------------
# Installs only when the lock file, Node's ABI or the system OpenCV changed.
# A fresh checkout gets `npm ci`; an existing node_modules is updated in place
# with `npm install`, which keeps the native bindings already built (the
# OpenCV one takes minutes) unless they themselves changed.
source scripts/native-env.sh
stamp=node_modules/.edge-inspect-installed
install_key() {
  echo "$(sha256sum package-lock.json | cut -d' ' -f1) node-abi-$(node -p process.versions.modules) opencv-$(pkg-config --modversion opencv4)"
}
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$(install_key)" ]; then
  t0=$(date +%s)
  if [ -d node_modules ] && [ -f node_modules/.package-lock.json ]; then
    say "updating node modules (npm install)"
    npm install --no-audit --no-fund --loglevel=error >&2
  else
    say "installing node modules (npm ci; the OpenCV binding compiles for a few minutes)"
    npm ci --no-audit --no-fund --loglevel=error >&2
  fi
  # The lock file may have been normalised by npm install: stamp what is there now.
  install_key > "$stamp"
  say "node modules ready in $(( $(date +%s) - t0 ))s"
fi

# --- build -------------------------------------------------------------------
bash native/no-gdal/build.sh
bash native/reject-core/build.sh
bash native/gpio-cdev/build.sh
node_modules/.bin/tsc -p tsconfig.json
