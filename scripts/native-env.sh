# Sourced by setup.sh: build the native bindings against the system libraries
# and never download anything at install time.
# @u4/opencv4nodejs: use the system OpenCV (libopencv-dev / JetPack), no auto-build.
export OPENCV4NODEJS_DISABLE_AUTOBUILD=1
# The binding compiles a part of its own for each module the system OpenCV
# was built with, by its opencv2/opencv_modules.hpp: some 200 files against
# Debian's libopencv-dev, most of it the build's time. The daemon uses core,
# imgproc, imgcodecs and videoio (and highgui, without which the binding has
# no image I/O). opencv_daemon_headers DIR OUT: a directory under OUT that
# holds DIR's opencv2/ with an opencv_modules.hpp naming only those, for the
# binding to build against (OPENCV_INCLUDE_DIR); prints it. Made once per
# OpenCV (several builds may read it at once, none rewrites it).
opencv_daemon_headers() {
  local src="$1" key dir tmp f m
  key="$(printf '%s\n' "$src" "$(ls "$src/opencv2")" | cat - "$src/opencv2/opencv_modules.hpp" | sha256sum | cut -c1-12)"
  dir="$2/$key/opencv4"
  if [ ! -f "$dir/opencv2/opencv_modules.hpp" ]; then
    mkdir -p "$2"
    tmp="$(mktemp -d "$2/.part.XXXXXX")"
    chmod 755 "$tmp"
    mkdir -p "$tmp/opencv4/opencv2"
    for f in "$src"/opencv2/*; do
      [ "${f##*/}" = opencv_modules.hpp ] || ln -s "$f" "$tmp/opencv4/opencv2/"
    done
    {
      echo "// The modules of $src the daemon uses (scripts/native-env.sh)."
      for m in CORE IMGPROC IMGCODECS VIDEOIO HIGHGUI; do
        grep -x "#define HAVE_OPENCV_$m" "$src/opencv2/opencv_modules.hpp" || true
      done
    } >"$tmp/opencv4/opencv2/opencv_modules.hpp"
    # Whoever comes second finds it made: its copy goes.
    mv -T "$tmp" "$2/$key" 2>/dev/null || rm -rf "$tmp"
  fi
  echo "$dir"
}
# The directory that holds opencv2/, as pkg-config reports it (-I/usr/include/opencv4).
opencv_include="${OPENCV_INCLUDE_DIR:-$(pkg-config --cflags-only-I opencv4 2>/dev/null | tr ' ' '\n' | sed -n 's/^-I//p' | head -n1)}"
if [ -f "$opencv_include/opencv2/opencv_modules.hpp" ]; then
  opencv_include="$(opencv_daemon_headers "$opencv_include" "$PWD/build/opencv-headers")"
fi
export OPENCV_INCLUDE_DIR="$opencv_include"
export OPENCV_LIB_DIR="${OPENCV_LIB_DIR:-$(pkg-config --variable=libdir opencv4)}"
export OPENCV_BIN_DIR="${OPENCV_BIN_DIR:-/usr/bin}"
# onnxruntime-node: the CPU binaries ship in the package; its postinstall would
# fetch CUDA ones (also set in .npmrc for a plain `npm ci`).
export ONNXRUNTIME_NODE_INSTALL=skip
# node-gyp runs make on one core unless told otherwise.
export JOBS=max
# node-gyp must build against the installed Node's headers, never download
# them: point it at them when npm has not been told already.
if [ -z "$(npm config get nodedir 2>/dev/null | grep -v '^undefined$')" ]; then
  node_prefix="$(dirname "$(dirname "$(command -v node)")")"
  [ -f "$node_prefix/include/node/node.h" ] && export npm_config_nodedir="$node_prefix"
fi
