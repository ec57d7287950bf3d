#!/usr/bin/env bash
# Builds build/reject-core/reject_core.node, the native reject timing core
# (see core.h), with the C compiler and Node's N-API headers: N-API is
# ABI-stable, so one build serves every Node version. Idempotent; run by
# scripts/setup.sh. CC and NODE_INCLUDE may point at a cross toolchain,
# REJECT_CORE_OUT elsewhere (scripts/platforms/addons.sh, for an arm64 root).
set -euo pipefail
cd "$(dirname "$0")/../.."
src=native/reject-core
out="${REJECT_CORE_OUT:-build/reject-core/reject_core.node}"
cc="${CC:-cc}"
inc="${NODE_INCLUDE:-$(node -p 'require("path").resolve(process.execPath, "../../include/node")')}"
if [ ! -f "$inc/node_api.h" ]; then
  inc="$(npm config get nodedir 2>/dev/null)/include/node"
fi
if [ ! -f "$inc/node_api.h" ]; then
  echo "setup: Node's N-API headers (node_api.h) not found; set NODE_INCLUDE" >&2
  exit 1
fi
if [ -f "$out" ] && [ -z "$(find "$src" "$0" -newer "$out" -print -quit)" ]; then
  exit 0
fi
mkdir -p "$(dirname "$out")"
"$cc" -shared -fPIC -O2 -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter -pthread \
  -fvisibility=hidden -DNAPI_VERSION=8 -I"$inc" -o "$out.tmp" "$src/core.c" "$src/lines.c" "$src/addon.c" -lm
mv "$out.tmp" "$out"
