#!/bin/sh
# Stage 2 of the hardware lane's VM, on the host's root (read-only 9p): a
# writable /tmp, /run and /dev/shm, the results share, the pinned kernel's
# modules (unpacked under the cache, bound over /lib/modules), the checkout
# (edge.repo=) and its node_modules from their images on the virtio disks,
# gpio-sim; then the command given as edge.cmd=, its exit code written beside
# its output, and power off.
set -u
for arg in $(cat /proc/cmdline); do
  case "$arg" in
    edge.cmd=*) cmd="${arg#edge.cmd=}" ;;
    edge.modules=*) modules="${arg#edge.modules=}" ;;
    edge.gpiosim=*) gpiosim="${arg#edge.gpiosim=}" ;;
    edge.repo=*) repo="${arg#edge.repo=}" ;;
  esac
done
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs tmpfs /run
mkdir -p /dev/shm /dev/pts && mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t devpts devpts /dev/pts
mkdir -p /tmp/results
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 results /tmp/results
exec > /tmp/results/guest.log 2>&1
mount --bind "$modules" /lib/modules/"$(uname -r)" 2>/dev/null || { mkdir -p /tmp/modules && mount --bind "$modules" /lib/modules; }
mount -t configfs none /sys/kernel/config 2>/dev/null || { modprobe configfs && mount -t configfs none /sys/kernel/config; }
mount -t debugfs none /sys/kernel/debug
fail() {
  echo "guest: $*"
  echo 3 > /tmp/results/exit-code
  sync
  echo o > /proc/sysrq-trigger
  sleep 60
}
# vda: node_modules, vdb: the checkout (run-vm.sh's order).
modprobe virtio_blk && modprobe squashfs || fail "no virtio_blk or squashfs module"
for i in $(seq 100); do [ -b /dev/vdb ] && break; sleep 0.1; done
# A checkout under /tmp has no mount point on the guest's own /tmp.
mkdir -p "$repo" 2>/dev/null
mount -t squashfs -o ro /dev/vdb "$repo" || fail "cannot mount the checkout's image on $repo"
mount -t squashfs -o ro /dev/vda "$(readlink -f "$repo/node_modules")" || fail "cannot mount the node_modules image on $repo/node_modules"
insmod "$gpiosim" || echo "guest: insmod $gpiosim failed"
export HOME=/tmp PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
cd /tmp
/bin/sh "$cmd"
echo $? > /tmp/results/exit-code
sync
echo o > /proc/sysrq-trigger
# init must outlive the power-off it asked for
sleep 60
