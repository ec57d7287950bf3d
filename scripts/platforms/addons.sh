#!/usr/bin/env bash
# addons.sh ARCH NODE_DIR OUT [ROOT]: builds the native addons the daemon uses
# for ARCH (x64, arm64) against the Node headers in NODE_DIR (its ABI), each
# into a directory of its own under OUT that mirrors the repository (its
# build/ where the daemon loads it), and prints those directories, one a line.
# OUT is keyed by root and Node by the caller; each addon's directory is keyed
# by what that addon is built from (its recipe: its package or sources, the
# compilers, their flags, the OpenCV headers), so an edit elsewhere rebuilds
# nothing. What OUT holds already is reused.
#  - x64: every addon of addon_dirs.
#  - arm64 without ROOT: the addons that link no library of a distribution
#    (better-sqlite3 carries its SQLite) and the N-API ones of native/ (the
#    reject core, the GPIO binding), cross-compiled once against the cross
#    toolchain's own C library (Debian 12's glibc 2.36, the oldest of the
#    Debian roots): one build serves every root.
#  - arm64 with ROOT: the OpenCV binding, against ROOT's OpenCV (ROOT is the
#    sysroot; the daemon's modules of it, as setup.sh builds it: see
#    scripts/native-env.sh), and the GDAL stand-in where ROOT's imgcodecs
#    links GDAL.
# A node-gyp addon builds in place in a private mount namespace, its build/
# bound to OUT, so node_modules itself is never written.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/platforms/platforms.sh
arch="$1" node_dir="$2" out="$3" root="${4:-}"
say() { printf 'platforms: %s\n' "$*" >&2; }

source scripts/native-env.sh
node_gyp="$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js"
export npm_config_nodedir="$node_dir"
gyp_args=(--nodedir="$node_dir" --arch="$arch" --jobs=max)
mkdir -p "$out"
# The OpenCV headers the binding compiles against live in the cache beside
# its build, not in a checkout: a build left unfinished resumes from any.
opencv_headers="$(pkg-config --cflags-only-I opencv4 2>/dev/null | tr ' ' '\n' | sed -n 's/^-I//p' | head -n1)"
libdir=""
units=("${addon_dirs[@]}")
if [ "$arch" = arm64 ]; then
  triplet=aarch64-linux-gnu
  export CC=$triplet-gcc CXX=$triplet-g++ LINK=$triplet-g++ AR=$triplet-ar
  if [ -n "$root" ]; then
    units=("${root_addon_dirs[@]}" native/no-gdal)
    libdir="$root/usr/lib/$triplet"
    # The root is the sysroot: its C library and OpenCV; the C++ library is
    # the cross toolchain's (GCC 12, Debian 12's: what it builds runs on the
    # roots' newer libstdc++ too).
    export CFLAGS="--sysroot=$root" CXXFLAGS="--sysroot=$root"
    export LDFLAGS="--sysroot=$root -Wl,-rpath-link,$libdir:$root/lib/$triplet"
    opencv_headers="$root/usr/include/opencv4"
    export OPENCV_LIB_DIR="$libdir" OPENCV_BIN_DIR="$root/usr/bin"
  else
    units=()
    for dir in "${addon_dirs[@]}"; do
      [[ " ${root_addon_dirs[*]} " == *" $dir "* ]] || units+=("$dir")
    done
    units+=(native/reject-core native/gpio-cdev)
  fi
fi
if [[ " ${units[*]} " == *" node_modules/@u4/opencv4nodejs "* ]]; then
  OPENCV_INCLUDE_DIR="$(opencv_daemon_headers "$opencv_headers" "$out/opencv-headers")"
  export OPENCV_INCLUDE_DIR
fi

# recipe UNIT: what UNIT's build is made from, besides the arch, Node and root
# that OUT is keyed by. Paths into the cache stand as they are (the cache is
# one place); the checkout's path appears nowhere.
recipe() {
  local unit="$1" v
  for v in CC CXX LINK AR CFLAGS CXXFLAGS LDFLAGS; do printf '%s=%s\n' "$v" "${!v:-}"; done
  "${CC:-cc}" --version | sed -n 1p
  case "$unit" in
    node_modules/*)
      "${CXX:-c++}" --version | sed -n 1p
      printf '%s\n' "${gyp_args[@]}"
      cat "$unit/package.json" ;;
    native/*) cat "$unit"/* ;;
  esac
  if [ "$unit" = node_modules/@u4/opencv4nodejs ]; then
    printf 'OPENCV_LIB_DIR=%s\n' "$OPENCV_LIB_DIR"
    cat "$OPENCV_INCLUDE_DIR/opencv2/opencv_modules.hpp" "$OPENCV_INCLUDE_DIR/opencv2/core/version.hpp"
  fi
}

# build UNIT SET: UNIT's build into SET, laid out as in the repository.
build() {
  local unit="$1" set="$2"
  case "$unit" in
    node_modules/*)
      mkdir -p "$set/$unit/build"
      unshare --mount --propagation private -- bash -c '
        mkdir -p "$1/build"
        mount --bind "$2" "$1/build" && cd "$1" && shift 2 && exec node "$@"' \
        _ "$PWD/$unit" "$set/$unit/build" "$node_gyp" configure build "${gyp_args[@]}" ;;
    # Plain N-API C: one build serves every Node ABI.
    native/reject-core)
      mkdir -p "$set/build/reject-core"
      NODE_INCLUDE="$node_dir/include/node" REJECT_CORE_OUT="$set/build/reject-core/reject_core.node" bash native/reject-core/build.sh ;;
    native/gpio-cdev)
      mkdir -p "$set/build/gpio-cdev"
      NODE_INCLUDE="$node_dir/include/node" GPIO_CDEV_OUT="$set/build/gpio-cdev/gpio_cdev.node" bash native/gpio-cdev/build.sh ;;
    # Nothing in it when the root's imgcodecs links no GDAL.
    native/no-gdal)
      mkdir -p "$set/build"
      NO_GDAL_OUT="$set/build/no-gdal" OPENCV_LIB_DIR="$libdir" bash native/no-gdal/build.sh ;;
    *) echo "addons.sh: no way to build $unit" >&2; return 64 ;;
  esac
}

# An addon that does not build is left out and its log printed: the lane's
# tests then say which addon is missing where; the next run tries again. One
# that was interrupted resumes from what it had compiled (SET.part: the same
# recipe, hence the same compiler commands). Sets of an older recipe go.
exec 9>"$out/.lock"
flock 9
for unit in "${units[@]}"; do
  name="${unit##*/}"
  set="$out/$name-$(recipe "$unit" | sha256sum | cut -c1-12)"
  if [ ! -f "$set/.done" ]; then
    t0=$(date +%s)
    if ! build "$unit" "$set.part" >"$set.log" 2>&1; then
      say "$name: does not build for $arch${root:+ against $(basename "$root")} here (log: $set.log):"
      grep -m 5 -E 'error|Error' "$set.log" >&2 || tail -n 5 "$set.log" >&2
      rm -rf "$set.part"
      continue
    fi
    recipe "$unit" >"$set.part/recipe"
    touch "$set.part/.done"
    rm -rf "$set"
    mv "$set.part" "$set"
    mv "$set.log" "$set/build.log"
    say "$name: built for $arch${root:+ against $(basename "$root")}, Node ABI $(node_abi "$node_dir") in $(( $(date +%s) - t0 ))s"
  fi
  for old in "$out/$name"-*; do
    case "$old" in "$set"|"$set".*) ;; *) rm -rf "$old" ;; esac
  done
  echo "$set"
done
