#!/usr/bin/env bash
# node-dist.sh ARCH VERSION: prints the directory of Node VERSION for ARCH
# (x64, arm64) from the npm registry's node-linux-ARCH package: bin/node and
# include/node, the headers node-gyp builds addons against. Cached.
set -euo pipefail
source "$(dirname "$0")/platforms.sh"
arch="$1" version="$2"
dir="$cache_dir/node/node-linux-$arch-$version"
if [ ! -x "$dir/bin/node" ] || [ ! -f "$dir/include/node/node.h" ]; then
  tmp="$(mktemp -d "$cache_dir/node.XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "node-linux-$arch@$version" >/dev/null && tar -xzf ./*.tgz)
  [ -f "$tmp/package/include/node/node.h" ] || { echo "node-dist: node-linux-$arch@$version has no include/node" >&2; exit 1; }
  rm -rf "$dir"
  mkdir -p "$(dirname "$dir")"
  mv "$tmp/package" "$dir"
fi
echo "$dir"
