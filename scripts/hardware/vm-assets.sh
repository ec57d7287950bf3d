#!/usr/bin/env bash
# Everything the hardware lane's VM needs, installed and built idempotently,
# cached under $EDGE_INSPECT_CACHE (default /var/cache/edge-inspect): the
# pinned Debian kernel (image unpacked, not installed: the host's /boot stays
# as it is), gpio-sim built out of tree against that kernel's headers, a
# busybox initramfs that mounts the host's root over 9p (all by kernel
# version), and node_modules as a disk image (by what npm installed). Prints
# the assets as shell assignments on stdout. Fails loudly when something
# cannot be had.
set -euo pipefail
cd "$(dirname "$0")/../.."
here=scripts/hardware
source "$here/kernel.env"
source scripts/system-packages.sh
say() { printf 'hardware: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

cache="${EDGE_INSPECT_CACHE:-/var/cache/edge-inspect}/hardware"
mkdir -p "$cache"

# --- system packages ---------------------------------------------------------
pkgs=(qemu-system-x86 busybox-static v4l-utils gpiod kmod cpio xz-utils gcc make squashfs-tools "linux-headers-$KERNEL_ABI")
missing=()
for p in "${pkgs[@]}"; do pkg_present "$p" || missing+=("$p"); done
src_version="$(dpkg-query -W -f='${Version}' "$KERNEL_SOURCE_PKG" 2>/dev/null || true)"
[ "$src_version" = "$KERNEL_DEB_VERSION" ] || missing+=("$KERNEL_SOURCE_PKG=$KERNEL_DEB_VERSION")
if [ "${#missing[@]}" -gt 0 ]; then
  [ "$(id -u)" = 0 ] || die "missing system packages (run as root, or: sudo apt-get install --no-install-recommends ${missing[*]})"
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2 || die "apt-get update failed"
  apt-get install -y -qq -o DPkg::Lock::Timeout=900 --no-install-recommends "${missing[@]}" >&2 ||
    die "cannot install ${missing[*]} (is $KERNEL_ABI / $KERNEL_DEB_VERSION still in Debian's archive? update scripts/hardware/kernel.env)"
fi

# --- kernel image and modules (unpacked) --------------------------------------
kdir="$cache/kernel-$KERNEL_ABI-$KERNEL_DEB_VERSION"
if [ ! -f "$kdir/.done" ]; then
  say "fetching linux-image-$KERNEL_ABI $KERNEL_DEB_VERSION"
  rm -rf "$kdir" && mkdir -p "$kdir"
  tmp="$(mktemp -d)"
  chmod 755 "$tmp" # apt's download sandbox user writes there
  (cd "$tmp" && apt-get download -qq "linux-image-$KERNEL_ABI=$KERNEL_DEB_VERSION" >&2) || die "cannot download linux-image-$KERNEL_ABI=$KERNEL_DEB_VERSION"
  dpkg-deb -x "$tmp"/linux-image-*.deb "$kdir/root"
  rm -rf "$tmp"
  mv "$kdir/root/boot/vmlinuz-$KERNEL_ABI" "$kdir/vmlinuz"
  # The unpacked tree lacks the index files the postinst would make.
  depmod -b "$kdir/root" "$KERNEL_ABI"
  touch "$kdir/.done"
fi
modules="$kdir/root/lib/modules/$KERNEL_ABI"

# --- gpio-sim, out of tree ------------------------------------------------------
# Debian's kernels leave GPIO_SIM off. gpio-sim.c and irq_sim.c from the same
# kernel's source make one module; irq_to_desc() is not exported to modules,
# generic_handle_irq() (which is) does the same for a simple irq.
sim_recipe=1 # bump when the build steps below change
sim_key="$( (cat "$here/gpio-sim/Kbuild"; echo "$sim_recipe") | sha256sum | cut -c1-12)"
simdir="$cache/gpio-sim-$KERNEL_ABI-$KERNEL_DEB_VERSION-$sim_key"
if [ ! -f "$simdir/gpio-sim.ko" ]; then
  say "building gpio-sim for $KERNEL_ABI"
  rm -rf "$simdir" && mkdir -p "$simdir/build"
  tar -xJf "/usr/src/$KERNEL_SOURCE_PKG.tar.xz" -C "$simdir/build" --strip-components=1 --wildcards \
    "*/drivers/gpio/gpio-sim.c" "*/drivers/gpio/gpiolib.h" "*/kernel/irq/irq_sim.c"
  b="$simdir/build"
  cp "$b/drivers/gpio/gpio-sim.c" "$b/gpio-sim-core.c"
  cp "$b/drivers/gpio/gpiolib.h" "$b/kernel/irq/irq_sim.c" "$b/"
  grep -q 'handle_simple_irq(irq_to_desc(' "$b/irq_sim.c" || die "irq_sim.c changed upstream: review scripts/hardware/gpio-sim/Kbuild"
  sed -i 's/handle_simple_irq(irq_to_desc(\([^)]*\)))/generic_handle_irq(\1)/' "$b/irq_sim.c"
  cp "$here/gpio-sim/Kbuild" "$b/Kbuild"
  make -s -C "/usr/src/linux-headers-$KERNEL_ABI" M="$b" modules >&2 || die "gpio-sim did not build against linux-headers-$KERNEL_ABI"
  mv "$b/gpio-sim.ko" "$simdir/gpio-sim.ko"
  rm -rf "$b"
fi

# --- initramfs -------------------------------------------------------------------
# busybox and the modules that reach the host's root over virtio 9p, insmod'ed
# in dependency order.
init_recipe=1 # bump when the build steps below change
init_key="$( (cat "$here/initramfs-init" /bin/busybox; echo "$init_recipe") | sha256sum | cut -c1-12)"
initrd="$cache/initramfs-$KERNEL_ABI-$KERNEL_DEB_VERSION-$init_key.cpio.gz"
if [ ! -f "$initrd" ]; then
  say "building the initramfs"
  tmp="$(mktemp -d)"
  mkdir -p "$tmp"/{bin,dev,proc,sys,newroot,lib/modules}
  cp /bin/busybox "$tmp/bin/busybox"
  cp "$here/initramfs-init" "$tmp/init"
  chmod +x "$tmp/init"
  : > "$tmp/modules"
  for ko in $(for m in virtio_pci 9pnet_virtio 9p; do modprobe -d "$kdir/root" -S "$KERNEL_ABI" --show-depends "$m"; done | awk '$1 == "insmod" && !seen[$2]++ { print $2 }'); do
    case "$ko" in *.xz) xz -dc "$ko" > "$tmp/lib/modules/$(basename "$ko" .xz)"; ko="${ko%.xz}" ;; *) cp "$ko" "$tmp/lib/modules/" ;; esac
    echo "/lib/modules/$(basename "$ko")" >> "$tmp/modules"
  done
  (cd "$tmp" && find . | cpio -o -H newc --quiet | gzip -1) > "$initrd.tmp"
  mv "$initrd.tmp" "$initrd"
  rm -rf "$tmp"
fi

# --- node_modules, as a disk image ----------------------------------------------
# Over 9p every file a process opens costs round trips to QEMU: a daemon start
# opens some 1,500 files and stats 2,500 paths, most of them in node_modules,
# which under TCG was the largest share of its start. From a squashfs on a
# virtio disk the guest opens them itself. Uncompressed, so that the emulated
# CPU does not pay for every block it reads. Remade when npm changed
# node_modules (setup.sh's install stamp and npm's record of what it installed).
nm="$(readlink -f node_modules)"
[ -f "$nm/.package-lock.json" ] || die "node_modules is not installed (run scripts/setup.sh first)"
nm_key="$(cat "$nm/.edge-inspect-installed" "$nm/.package-lock.json" 2>/dev/null | sha256sum | cut -c1-12)"
nm_img="$cache/node-modules-$nm_key.squashfs"
if [ ! -f "$nm_img" ]; then
  say "imaging node_modules"
  rm -f "$cache"/node-modules-*.squashfs
  mksquashfs "$nm" "$nm_img.tmp" -noappend -quiet -no-progress -noI -noD -noF -noX -no-xattrs >&2 || die "cannot image $nm"
  mv "$nm_img.tmp" "$nm_img"
fi

echo "VM_KERNEL=$kdir/vmlinuz"
echo "VM_INITRD=$initrd"
echo "VM_MODULES=$modules"
echo "VM_GPIO_SIM=$simdir/gpio-sim.ko"
echo "VM_NODE_MODULES_IMG=$nm_img"
