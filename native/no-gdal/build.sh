#!/usr/bin/env bash
# Builds build/no-gdal/libgdal.so.N (see gdal-stub.c) when the system OpenCV's
# imgcodecs links GDAL, and the stand-in defines every GDAL symbol it imports;
# otherwise removes it, and the daemon loads the real GDAL (or none: JetPack's
# OpenCV is built without it). Idempotent; run by scripts/setup.sh.
# CC, OPENCV_LIB_DIR and NO_GDAL_OUT let scripts/platforms/addons.sh build it
# for an arm64 root with a cross compiler.
set -euo pipefail
cd "$(dirname "$0")/../.."
src=native/no-gdal/gdal-stub.c
out="${NO_GDAL_OUT:-build/no-gdal}"
say() { printf 'setup: %s\n' "$*" >&2; }

libdir="${OPENCV_LIB_DIR:-$(pkg-config --variable=libdir opencv4)}"
imgcodecs="$(readlink -f "$libdir/libopencv_imgcodecs.so" 2>/dev/null || true)"
soname=""
[ -f "$imgcodecs" ] && soname="$(objdump -p "$imgcodecs" | awk '$1 == "NEEDED" && $2 ~ /^libgdal\.so/ { print $2 }')"
if [ -z "$soname" ]; then
  rm -rf "$out"
  exit 0
fi
lib="$out/$soname"
if [ -f "$lib" ] && [ "$lib" -nt "$src" ] && [ "$lib" -nt "$imgcodecs" ] && [ "$lib" -nt "$0" ]; then
  exit 0
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"${CC:-gcc}" -shared -fPIC -O2 -Wall -Werror -Wl,-soname,"$soname" -Wl,--no-undefined -o "$tmp/$soname" "$src"

# What imgcodecs takes from GDAL: its undefined symbols that the real library defines.
# Next to imgcodecs on Debian and Ubuntu; ldd (which cannot read a foreign
# architecture's libraries) finds it elsewhere.
real="$(dirname "$imgcodecs")/$soname"
[ -e "$real" ] || real="$(ldd "$imgcodecs" | awk -v s="$soname" '$1 == s { print $3 }')"
# Those the C++ runtime defines as well (template instances GDAL 3.10 exports,
# such as std::string members) resolve there; compared without symbol versions.
symbols() { nm -D "$@" | awk '{ sub(/@.*/, "", $NF); print $NF }' | sort -u; }
cxx_runtime="$(dirname "$imgcodecs")/libstdc++.so.6"
runtime_symbols() { if [ -e "$cxx_runtime" ]; then symbols --defined-only "$cxx_runtime"; fi; }
missing="$(comm -23 <(comm -23 <(comm -12 <(symbols --undefined-only "$imgcodecs") <(symbols --defined-only "$real")) <(symbols --defined-only "$tmp/$soname")) <(runtime_symbols))"
if [ -n "$missing" ]; then
  rm -rf "$out"
  say "imgcodecs uses GDAL functions the stand-in lacks ($(echo "$missing" | tr '\n' ' ')): the real $soname stays (~27 MB more resident)"
  exit 0
fi
rm -rf "$out"
mkdir -p "$out"
mv "$tmp/$soname" "$lib"
say "built $lib: imgcodecs runs without GDAL"
