#!/usr/bin/env bash
# with-addons.sh NODE_DIR ADDONS [ROOT] -- COMMAND...: runs COMMAND in the
# repository with NODE_DIR's Node first on PATH and the addons that addons.sh
# built into ADDONS (directories separated by ':') in place of node_modules'
# own, in a private mount
# namespace (node_modules is never written). With ROOT, inside that arm64 root
# under qemu-user, the repository and node_modules at their host paths and
# Node at /opt/node; the root's own /tmp is kept, so files a command leaves
# there can be read from the host under ROOT/tmp.
set -euo pipefail
cd "$(dirname "$0")/../.."
node_dir="$1" addons="$2" root=""
shift 2
if [ "$1" != -- ]; then root="$1"; shift; fi
[ "$1" = -- ] || { echo "usage: with-addons.sh NODE_DIR ADDONS [ROOT] -- COMMAND..." >&2; exit 64; }
shift

exec unshare --mount --propagation private -- bash -s "$PWD" "$(readlink -f node_modules)" "$node_dir" "$addons" "$root" "$@" <<'INNER'
set -euo pipefail
repo="$1" nm="$2" node_dir="$3" addons="$4" root="$5"
shift 5
if [ -n "$root" ]; then
  # The root a mount of its own, as a container's is: a command inside that
  # makes a mount namespace of its own (unshare --mount) can then set the
  # propagation of its "/" (a plain directory it cannot: EINVAL).
  mount --bind "$root" "$root"
  mount -t proc proc "$root/proc"
  mount --rbind /dev "$root/dev"
  mount --rbind /sys "$root/sys"
  mkdir -p "$root$repo" "$root$nm" "$root/opt/node"
  mount --bind "$repo" "$root$repo"
  [ "$nm" = "$repo/node_modules" ] || mount --bind "$nm" "$root$nm"
  mount --bind "$node_dir" "$root/opt/node"
fi
# Each of ADDONS mirrors the repository: <addon dir>/build for each addon,
# build/reject-core, build/gpio-cdev, build/no-gdal.
IFS=: read -r -a addon_sets <<<"$addons"
for set in "${addon_sets[@]}"; do
  while IFS= read -r -d '' dir; do
    rel="${dir#"$set"/}"
    case "$rel" in
      node_modules/*) target="$root$nm/${rel#node_modules/}" ;;
      *) target="$root$repo/$rel" ;;
    esac
    mkdir -p "$target"
    mount --bind "$dir" "$target"
  done < <(find "$set" \( -path "$set/build/no-gdal" -o -path "$set/build/reject-core" -o -path "$set/build/gpio-cdev" -o \( -name build ! -path "$set/build" \) \) -type d -prune -print0)
done
if [ -n "$root" ]; then
  exec chroot "$root" /usr/bin/env -i PATH=/opt/node/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
    /bin/sh -c 'cd "$0" && exec "$@"' "$repo" "$@"
fi
cd "$repo"
PATH="$node_dir/bin:$PATH" exec "$@"
INNER
