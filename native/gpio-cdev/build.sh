#!/usr/bin/env bash
# Builds build/gpio-cdev/gpio_cdev.node (see gpio-cdev.c) against Node's own
# headers and the kernel's uAPI header (linux-libc-dev): no libgpiod, no
# download. Idempotent; run by scripts/setup.sh. CC, CFLAGS (a --sysroot) and
# NODE_INCLUDE may point at a cross toolchain and an arm64 root's headers,
# GPIO_CDEV_OUT elsewhere (scripts/platforms/addons.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
src=native/gpio-cdev/gpio-cdev.c
out="${GPIO_CDEV_OUT:-build/gpio-cdev/gpio_cdev.node}"
cc="${CC:-gcc}"
read -r -a cflags <<<"${CFLAGS:-}"
say() { printf 'setup: %s\n' "$*" >&2; }

node_include="${NODE_INCLUDE:-$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")/include/node}"
if [ ! -f "$node_include/node_api.h" ]; then
  say "gpio-cdev: Node's headers are missing ($node_include/node_api.h; Debian: apt install libnode-dev, or a Node built with its include/)"
  exit 1
fi
# The header the compiler finds (the host's, or the sysroot's). grep reads
# all of it: with -q it would stop at the first match, and the compiler still
# writing would fail the pipeline (pipefail) on a header that is there.
if ! printf '#include <linux/gpio.h>\n' | "$cc" "${cflags[@]}" -E - 2>/dev/null | grep 'GPIO_V2_LINE_FLAG_ACTIVE_LOW' >/dev/null; then
  say "gpio-cdev: the kernel's GPIO uAPI v2 header is missing (apt install linux-libc-dev)"
  exit 1
fi
if [ -f "$out" ] && [ "$out" -nt "$src" ] && [ "$out" -nt "$0" ] && [ "$out" -nt "$node_include/node_api.h" ]; then
  exit 0
fi
mkdir -p "$(dirname "$out")"
# N-API symbols resolve against the node binary at load time.
"$cc" "${cflags[@]}" -shared -fPIC -O2 -Wall -Wextra -Werror -I"$node_include" -o "$out.tmp" "$src"
mv "$out.tmp" "$out"
say "built $out"
