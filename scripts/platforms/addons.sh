#!/usr/bin/env bash
# addons.sh ARCH NODE_DIR OUT [ROOT]: builds node-gyp addons the daemon uses
# for ARCH (x64, arm64) against the Node headers in NODE_DIR (its ABI), into
# OUT/<addon dir>/build. Skips what OUT holds already (OUT is keyed by root
# and Node by the caller).
#  - x64: every addon of addon_dirs.
#  - arm64 without ROOT: the addons that link no library of a distribution
#    (better-sqlite3 carries its SQLite) and the N-API ones of native/ (the
#    reject core into OUT/build/reject-core, the GPIO binding into
#    OUT/build/gpio-cdev), cross-compiled once against the cross toolchain's
#    own C library (Debian 12's glibc 2.36, the oldest of the Debian roots): one build serves
#    every root.
#  - arm64 with ROOT: the OpenCV binding, against ROOT's OpenCV (ROOT is the
#    sysroot; the daemon's modules of it, as setup.sh builds it: see
#    scripts/native-env.sh), and the GDAL stand-in into OUT/build/no-gdal where ROOT's
#    imgcodecs links GDAL.
# Each addon builds in place in a private mount namespace, its build/ bound to
# OUT, so node_modules itself is never written.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/platforms/platforms.sh
arch="$1" node_dir="$2" out="$3" root="${4:-}"
say() { printf 'platforms: %s\n' "$*" >&2; }

source scripts/native-env.sh
node_gyp="$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js"
export npm_config_nodedir="$node_dir"
gyp_args=(--nodedir="$node_dir" --arch="$arch" --jobs=max)
dirs=("${addon_dirs[@]}")
if [ "$arch" = arm64 ]; then
  triplet=aarch64-linux-gnu
  export CC=$triplet-gcc CXX=$triplet-g++ LINK=$triplet-g++ AR=$triplet-ar
  if [ -n "$root" ]; then
    dirs=("${root_addon_dirs[@]}")
    libdir="$root/usr/lib/$triplet"
    # The root is the sysroot: its C library and OpenCV; the C++ library is
    # the cross toolchain's (GCC 12, Debian 12's: what it builds runs on the
    # roots' newer libstdc++ too).
    export CFLAGS="--sysroot=$root" CXXFLAGS="--sysroot=$root"
    export LDFLAGS="--sysroot=$root -Wl,-rpath-link,$libdir:$root/lib/$triplet"
    mkdir -p "$out"
    OPENCV_INCLUDE_DIR="$(opencv_daemon_headers "$root/usr/include/opencv4" "$out/opencv-headers")"
    export OPENCV_INCLUDE_DIR OPENCV_LIB_DIR="$libdir" OPENCV_BIN_DIR="$root/usr/bin"
  else
    dirs=()
    for dir in "${addon_dirs[@]}"; do
      [[ " ${root_addon_dirs[*]} " == *" $dir "* ]] || dirs+=("$dir")
    done
  fi
fi

# An addon that does not build is left out, its log kept as build.log and
# build.failed left: the lane's tests then say which addon is missing where.
mkdir -p "$out"
exec 9>"$out/.lock"
flock 9
for dir in "${dirs[@]}"; do
  dest="$out/$dir/build"
  if compgen -G "$dest/Release/*.node" >/dev/null || [ -f "$dest.failed" ]; then continue; fi
  t0=$(date +%s)
  rm -rf "$dest.part"
  mkdir -p "$dest.part"
  if ! unshare --mount --propagation private -- bash -c '
      mkdir -p "$1/build"
      mount --bind "$2" "$1/build" && cd "$1" && shift 2 && exec node "$@"' \
      _ "$PWD/$dir" "$dest.part" "$node_gyp" configure build "${gyp_args[@]}" >"$dest.log" 2>&1; then
    say "$dir: does not build for $arch here (log: $dest.log):"
    grep -m 5 -E 'error|Error' "$dest.log" >&2 || tail -n 5 "$dest.log" >&2
    rm -rf "$dest.part"
    touch "$dest.failed"
    continue
  fi
  rm -rf "$dest"
  mv "$dest.part" "$dest"
  say "$dir: built for $arch${root:+ against $(basename "$root")}, Node ABI $(node_abi "$node_dir") in $(( $(date +%s) - t0 ))s"
done

[ "$arch" = arm64 ] || exit 0
if [ -z "$root" ]; then
  # Plain N-API C: one build serves every Node ABI.
  if [ ! -f "$out/build/reject-core/reject_core.node" ]; then
    mkdir -p "$out/build/reject-core"
    NODE_INCLUDE="$node_dir/include/node" REJECT_CORE_OUT="$out/build/reject-core/reject_core.node" bash native/reject-core/build.sh
  fi
  if [ ! -f "$out/build/gpio-cdev/gpio_cdev.node" ]; then
    mkdir -p "$out/build/gpio-cdev"
    NODE_INCLUDE="$node_dir/include/node" GPIO_CDEV_OUT="$out/build/gpio-cdev/gpio_cdev.node" bash native/gpio-cdev/build.sh
  fi
elif [ ! -f "$out/build/no-gdal/.done" ]; then
  rm -rf "$out/build/no-gdal"
  mkdir -p "$out/build/no-gdal"
  NO_GDAL_OUT="$out/build/no-gdal" OPENCV_LIB_DIR="$libdir" bash native/no-gdal/build.sh
  touch "$out/build/no-gdal/.done"
fi
