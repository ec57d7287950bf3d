#!/usr/bin/env bash
# root.sh PLATFORM: prints the directory of PLATFORM's arm64 root, made with
# mmdebstrap (apt's resolver in one pass; maintainer scripts run under
# qemu-user) and cached as a tarball keyed by distribution and package list.
# The unpacked root is kept next to its tarball and reused while its key
# holds; from the tarball alone it is restored in about a minute.
# Exit 69 when the distribution's archive cannot be reached.
set -euo pipefail
source "$(dirname "$0")/platforms.sh"
platform_vars "$1"
say() { printf 'platforms: %s: %s\n' "$1" "$2" >&2; }

key="$(printf '%s\n' "$suite" "$mirror" "$components" "${root_packages[@]}" | sha256sum | cut -c1-12)"
tarball="$cache_dir/roots/$1-$key.tar"
root="$cache_dir/roots/$1-$key"
mkdir -p "$cache_dir/roots"

if [ ! -f "$root/.complete" ]; then
  t0=$(date +%s)
  rm -rf --one-file-system "$root" "$root.part"
  if [ -f "$tarball" ]; then
    mkdir -p "$root.part"
    tar -xf "$tarball" -C "$root.part"
    say "$1" "root restored from $tarball in $(( $(date +%s) - t0 ))s"
  else
    if ! curl -fsS --max-time 30 -o /dev/null "$mirror/dists/$suite/Release" 2>/dev/null; then
      say "$1" "$mirror is not reachable from this machine: no $suite root"
      exit 69
    fi
    say "$1" "making the $suite arm64 root (mmdebstrap)"
    include="$(IFS=,; echo "${root_packages[*]}")"
    # Its own mount namespace: an interrupted mmdebstrap leaves no mounts
    # behind. The package lists stay, to check setup.sh's package names.
    unshare --mount --propagation private -- mmdebstrap --quiet --arch=arm64 --variant=apt \
      --components="${components// /,}" --include="$include" --skip=cleanup/apt/lists ${keyring:+--keyring="$keyring"} \
      "$suite" "$root.part" "$mirror" >&2
    tar -cf "$tarball.part" -C "$root.part" .
    mv "$tarball.part" "$tarball"
    say "$1" "root made in $(( $(date +%s) - t0 ))s, cached as $tarball"
  fi
  touch "$root.part/.complete"
  mv "$root.part" "$root"
fi
echo "$root"
