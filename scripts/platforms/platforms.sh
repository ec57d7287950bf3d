# Sourced: the arm64 roots the platforms lane builds, tests and caches.
# Each root holds what the daemon links at run time and what its addons
# cross-build against: libopencv-dev as setup.sh installs it (the binding
# compiles every module the system OpenCV was built with, by its
# opencv_modules.hpp, so it needs every module's headers), and for the
# records/outbox tests Mosquitto and mount (a test fills a tmpfs). No
# libgpiod: the GPIO binding (native/gpio-cdev) speaks the kernel's uAPI.
platforms=(debian12-arm64 debian13-arm64 ubuntu2204-arm64)
root_packages=(libopencv-dev mosquitto mount)

# platform_vars NAME: sets suite, mirror, components and keyring (empty:
# mmdebstrap's default, Debian's) for one root.
platform_vars() {
  keyring=""
  case "$1" in
    debian12-arm64) suite=bookworm; mirror=http://deb.debian.org/debian; components=main ;;
    debian13-arm64) suite=trixie; mirror=http://deb.debian.org/debian; components=main ;;
    # JetPack 6's base. Ubuntu's arm64 archive lives on ports.ubuntu.com only.
    ubuntu2204-arm64) suite=jammy; mirror=http://ports.ubuntu.com/ubuntu-ports; components="main universe"
      keyring=/usr/share/keyrings/ubuntu-archive-keyring.gpg ;;
    *) echo "platforms: unknown platform '$1'" >&2; return 64 ;;
  esac
}

# Every node-gyp addon the daemon uses, one line each (relative to the repository).
addon_dirs=(
  node_modules/@u4/opencv4nodejs
  node_modules/better-sqlite3
  node_modules/unix-dgram
  node_modules/epoll
)
# Those that link a distribution's libraries, built per arm64 root; the rest
# are built once for arm64 (scripts/platforms/addons.sh).
root_addon_dirs=(node_modules/@u4/opencv4nodejs)

cache_dir="${EDGE_INSPECT_PLATFORM_CACHE:-/var/cache/edge-inspect/platforms}"

# node_abi NODE_DIR: the addon ABI of the Node in NODE_DIR, from its headers
# (an arm64 binary cannot simply be asked on the host).
node_abi() { awk '$2 == "NODE_MODULE_VERSION" && $3 ~ /^[0-9]+$/ { print $3 }' "$1/include/node/node_version.h"; }
