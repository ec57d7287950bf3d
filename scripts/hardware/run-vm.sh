#!/usr/bin/env bash
# Boots the hardware lane's VM (QEMU TCG, Debian's pinned kernel, the host's
# root read-only over 9p, this checkout and its node_modules from disk
# images over the same paths) and runs one guest script in it as root:
#   scripts/hardware/run-vm.sh RESULTS_DIR GUEST_SCRIPT
# RESULTS_DIR is the guest's /tmp/results (read-write). Exits with the guest
# script's exit code, or 124 if the guest did not finish within
# $EDGE_HW_TIMEOUT_S seconds (default 2700).
set -euo pipefail
cd "$(dirname "$0")/../.."
results="$(readlink -f "$1")"
guest_cmd="$(readlink -f "$2")"
eval "$(bash scripts/hardware/vm-assets.sh)"
rm -f "$results/exit-code"
# The guest's /tmp is its own tmpfs: the script goes where the guest mounts the results.
cp "$guest_cmd" "$results/guest-cmd.sh"
guest_init="$(readlink -f scripts/hardware/guest-init.sh)"
# This checkout as the guest sees it, imaged for the run (see vm-assets.sh on
# node_modules): node_modules itself is left out, and mounted from its own image.
repo="$(pwd)"
mksquashfs "$repo" "$results/repo.squashfs" -noappend -quiet -no-progress -noI -noD -noF -noX -no-xattrs -wildcards -e .git data test/output "node_modules/*" >&2
timeout --kill-after=10 "${EDGE_HW_TIMEOUT_S:-2700}" qemu-system-x86_64 \
  -machine pc,accel=tcg -cpu max -smp 2 -m 2048 -nographic -no-reboot -nic none \
  -kernel "$VM_KERNEL" -initrd "$VM_INITRD" \
  -append "console=ttyS0 quiet panic=-1 mitigations=off edge.init=$guest_init edge.cmd=/tmp/results/guest-cmd.sh edge.modules=$VM_MODULES edge.gpiosim=$VM_GPIO_SIM edge.repo=$repo" \
  -drive file="$VM_NODE_MODULES_IMG",if=virtio,format=raw,readonly=on \
  -drive file="$results/repo.squashfs",if=virtio,format=raw,readonly=on \
  -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
  -virtfs local,path="$results",mount_tag=results,security_model=none,multidevs=remap \
  > "$results/console.log" 2>&1 || true
rm -f "$results/repo.squashfs"
if [ ! -f "$results/exit-code" ]; then
  echo "hardware: the VM did not finish its guest script (console: $results/console.log)" >&2
  tail -n 30 "$results/console.log" >&2
  exit 124
fi
exit "$(cat "$results/exit-code")"
