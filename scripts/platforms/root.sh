#!/usr/bin/env bash
# root.sh PLATFORM: prints the directory of PLATFORM's arm64 root, cached as a
# tarball keyed by what it is made from: distribution, package list and the
# steps that make it (make_root below, not the rest of this script). The unpacked
# root is kept next to its tarball and reused while its key holds; from the
# tarball alone it is restored in about a minute.
# Exit 69 when the root cannot be made on this machine (its archive cannot be
# reached, or the host has not its archive's keyring), the reason on stdout.
#
# How: mmdebstrap resolves the package set (the essential set, apt and
# root_packages) with apt and downloads and extracts it; the host's own dpkg
# then installs those packages into the root (dpkg --root: the unpacking is
# native, the maintainer scripts run chrooted, under qemu-user), and the
# root's dpkg configures them under qemu-user. Done wholly by the emulated
# dpkg (mmdebstrap --variant=apt) the ~450 packages of libopencv-dev took over
# an hour per root here.
set -euo pipefail
source "$(dirname "$0")/platforms.sh"
platform_vars "$1"
say() { printf 'platforms: %s: %s\n' "$1" "$2" >&2; }

# make_root ROOT SUITE MIRROR COMPONENTS KEYRING PACKAGE...: makes the root.
make_root="$(cat <<'INNER'
set -euo pipefail
root="$1" suite="$2" mirror="$3" components="$4" keyring="$5"
shift 5
include="$(IFS=,; echo "apt,$*")"
mmdebstrap --quiet --arch=arm64 --variant=extract --include='?essential' --include="$include" \
  --components="${components// /,}" --skip=cleanup/apt ${keyring:+--keyring="$keyring"} \
  "$suite" "$root" "$mirror" >&2
debs=("$root"/var/cache/apt/archives/*.deb)
# No service starts while the root is made (mosquitto's postinst would).
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"
export DEBIAN_FRONTEND=noninteractive DEBCONF_NONINTERACTIVE_SEEN=true LC_ALL=C.UTF-8 PATH=/usr/sbin:/usr/bin:/sbin:/bin
# The host's dpkg takes arm64 for a foreign architecture of the root's
# database (its arch file lists arm64, as the root's own). The packages come
# in no order dpkg knows of, so each pre-dependency "problem" is a warning:
# kept in a log, shown only if dpkg fails.
log="$root/var/log/platforms-root.log"
dpkg --root="$root" --force-depends --force-unsafe-io --unpack "${debs[@]}" >"$log" 2>&1 || { tail -n 30 "$log" >&2; exit 1; }
chroot "$root" dpkg --force-unsafe-io --configure -a >>"$log" 2>&1 || { tail -n 30 "$log" >&2; exit 1; }
chroot "$root" dpkg --audit >&2
rm -f "$root/usr/sbin/policy-rc.d" "${debs[@]}"
umount -l "$root/dev" "$root/proc"
INNER
)"
key="$(printf '%s\n' "$suite" "$mirror" "$components" "$keyring" "${root_packages[@]}" "$make_root" | sha256sum | cut -c1-12)"
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
      echo "$mirror is not reachable from this machine"
      exit 69
    fi
    # Ubuntu's keyring is no Debian 12 package (ubuntu-keyring is in Debian 13 and Ubuntu).
    if [ -n "$keyring" ] && [ ! -f "$keyring" ]; then
      say "$1" "no $keyring on this host (package ubuntu-keyring): no $suite root"
      echo "this host has no $keyring (package ubuntu-keyring) to check $mirror with"
      exit 69
    fi
    say "$1" "making the $suite arm64 root"
    # Its own mount namespace: an interrupted run leaves no mounts behind.
    # The package lists stay, to check setup.sh's package names.
    unshare --mount --propagation private -- bash -c "$make_root" make_root "$root.part" "$suite" "$mirror" "$components" "$keyring" "${root_packages[@]}"
    tar -cf "$tarball.part" -C "$root.part" .
    mv "$tarball.part" "$tarball"
    say "$1" "root made in $(( $(date +%s) - t0 ))s, cached as $tarball"
    # Roots of an older key go (each 1.5 GB, unpacked and tarred).
    for old in "$cache_dir/roots/$1"-*; do
      case "$old" in "$root"|"$root".*) ;; *) rm -rf --one-file-system "$old" ;; esac
    done
  fi
  touch "$root.part/.complete"
  mv "$root.part" "$root"
fi
echo "$root"
