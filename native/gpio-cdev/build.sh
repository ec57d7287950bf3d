#!/usr/bin/env bash
# Builds build/gpio-cdev/gpio_cdev.node (see gpio-cdev.c) against Node's own
# headers and the kernel's uAPI header (linux-libc-dev): no libgpiod, no
# download. Idempotent; run by scripts/setup.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
src=native/gpio-cdev/gpio-cdev.c
out=build/gpio-cdev/gpio_cdev.node
say() { printf 'setup: %s\n' "$*" >&2; }

node_include="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")/include/node"
if [ ! -f "$node_include/node_api.h" ]; then
  say "gpio-cdev: Node's headers are missing ($node_include/node_api.h; Debian: apt install libnode-dev, or a Node built with its include/)"
  exit 1
fi
if [ ! -f /usr/include/linux/gpio.h ] || ! grep -q GPIO_V2_GET_LINE_IOCTL /usr/include/linux/gpio.h; then
  say "gpio-cdev: the kernel's GPIO uAPI v2 header is missing (apt install linux-libc-dev)"
  exit 1
fi
if [ -f "$out" ] && [ "$out" -nt "$src" ] && [ "$out" -nt "$0" ] && [ "$out" -nt "$node_include/node_api.h" ]; then
  exit 0
fi
mkdir -p "$(dirname "$out")"
# N-API symbols resolve against the node binary at load time.
gcc -shared -fPIC -O2 -Wall -Wextra -Werror -I"$node_include" -o "$out.tmp" "$src"
mv "$out.tmp" "$out"
say "built $out"
