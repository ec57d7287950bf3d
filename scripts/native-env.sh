# Sourced by setup.sh: build the native bindings against the system libraries
# and never download anything at install time.
# @u4/opencv4nodejs: use the system OpenCV (libopencv-dev / JetPack), no auto-build.
export OPENCV4NODEJS_DISABLE_AUTOBUILD=1
# The directory that holds opencv2/, as pkg-config reports it (-I/usr/include/opencv4).
opencv_include="$(pkg-config --cflags-only-I opencv4 | tr ' ' '\n' | sed -n 's/^-I//p' | head -n1)"
export OPENCV_INCLUDE_DIR="${OPENCV_INCLUDE_DIR:-$opencv_include}"
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
