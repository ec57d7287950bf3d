#!/usr/bin/env bash
# The platforms lane (npm run test:platforms; .ci/run runs it after npm test):
#  - arm64: each root of platforms.sh made or restored from the cache, every
#    native addon cross-built against it for arm64 Node, then the daemon tested
#    inside it under qemu-user (test/platforms/arm64-roots.test.ts);
#  - x86-64: the whole unit suite on each supported Node from the npm
#    registry, with addons built for its ABI (test/platforms/node-versions.test.ts).
# Its parts (x86-64, each root) run side by side, each tested as soon as
# it is prepared.
# Everything slow is cached under $EDGE_INSPECT_PLATFORM_CACHE
# (default /var/cache/edge-inspect/platforms). Needs root (chroot, mounts).
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/platforms/platforms.sh
# Supported Node releases, and the one the arm64 roots run (Debian 13's own
# nodejs is 20.19; Raspberry Pi OS bookworm users install Node from elsewhere).
x64_nodes=(20.20.2 22.23.5 24.22.3)
arm64_node=20.20.2
say() { printf 'platforms: %s\n' "$*" >&2; }
t_start=$(date +%s)

[ "$(id -u)" = 0 ] || { say "needs root (chroot, mount namespaces)"; exit 1; }

# --- host tools ----------------------------------------------------------------
source scripts/system-packages.sh
host_pkgs=(mmdebstrap arch-test qemu-user-static binfmt-support crossbuild-essential-arm64 curl)
missing=()
for p in "${host_pkgs[@]}"; do pkg_present "$p" || missing+=("$p"); done
if [ "${#missing[@]}" -gt 0 ]; then
  say "installing host packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
update-binfmts --enable qemu-aarch64 2>/dev/null || true
[ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] || { say "binfmt_misc has no qemu-aarch64 entry: arm64 binaries cannot run here"; exit 1; }

host_abi="$(node -p process.versions.modules)"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
arm64_node_dir="$(bash scripts/platforms/node-dist.sh arm64 "$arm64_node")"

# Each part of the lane is tested as soon as what it needs is there, beside
# the others: the x86-64 suites while the roots are made, each root while the
# other is still made or tested. A part's test output goes to its own log,
# printed whole when it ends (its lines are not interleaved with the others').
# run_tests NAME MANIFEST TEST_FILE: its exit status in $tmp/NAME.rc.
run_tests() {
  local name="$1" t0
  t0=$(date +%s)
  local rc=0
  EDGE_INSPECT_PLATFORMS="$2" node --test --test-concurrency=1 --test-timeout=3600000 --test-reporter=spec "$3" >"$tmp/$name.log" 2>&1 || rc=$?
  { printf -- '--- %s: exit %s after %ss of testing\n' "$name" "$rc" "$(( $(date +%s) - t0 ))"; cat "$tmp/$name.log"; } >&2
  echo "$rc" >"$tmp/$name.rc"
}
# json_strings FILE...: the lines of FILEs (addons.sh's directories) as JSON strings, comma-separated.
json_strings() { cat "$@" | sed 's/.*/"&"/' | paste -sd, -; }
parts=()

# --- x86-64: the other supported Node releases, their addons, the unit suite ----
( nodes=()
  for v in "${x64_nodes[@]}"; do
    if [ "v$v" = "$(node --version)" ]; then
      say "Node $v: the host's own, npm test has run the suite on it"
      continue
    fi
    dir="$(bash scripts/platforms/node-dist.sh x64 "$v")"
    # node_modules' own addons serve the ABI they were built for.
    : >"$tmp/x64-$v.sets"
    [ "$(node_abi "$dir")" = "$host_abi" ] || bash scripts/platforms/addons.sh x64 "$dir" "$cache_dir/addons/x64-node$v" >"$tmp/x64-$v.sets"
    nodes+=("$(printf '{"version":"%s","node":"%s","addons":[%s]}' "$v" "$dir" "$(json_strings "$tmp/x64-$v.sets")")")
  done
  printf '{"hostNode":"%s","arm64":[],"x64":[%s]}\n' "$(node --version)" "$(IFS=,; echo "${nodes[*]}")" >"$tmp/x64.json"
  say "x86-64 Node releases prepared at $(( $(date +%s) - t_start ))s; testing"
  run_tests x64 "$tmp/x64.json" dist/test/platforms/node-versions.test.js ) &
parts+=(x64)

# --- arm64: the addons every root shares; each root, its own addons, its tests --
# Roots are made in parallel (mostly one core each: unpacking, emulated
# maintainer scripts); the cross builds use both cores.
bash scripts/platforms/addons.sh arm64 "$arm64_node_dir" "$cache_dir/addons/arm64-node$arm64_node" >"$tmp/common.sets" &
common_pid=$!
for p in "${platforms[@]}"; do
  ( rc=0
    bash scripts/platforms/root.sh "$p" >"$tmp/$p.root" || rc=$?
    if [ "$rc" = 69 ]; then
      printf '{"hostNode":"%s","arm64":[{"name":"%s","unavailable":"%s","root":"","node":"","nodeVersion":"","addons":[]}],"x64":[]}\n' "$(node --version)" "$p" "$(cat "$tmp/$p.root")" >"$tmp/$p.json"
    elif [ "$rc" = 0 ]; then
      root="$(cat "$tmp/$p.root")"
      bash scripts/platforms/addons.sh arm64 "$arm64_node_dir" "$cache_dir/addons/$(basename "$root")-node$arm64_node" "$root" >"$tmp/$p.sets" || rc=$?
      # The shared addons, built once beside the roots.
      while [ ! -f "$tmp/common.rc" ]; do sleep 5; done
      [ "$(cat "$tmp/common.rc")" = 0 ] || rc=1
      printf '{"hostNode":"%s","arm64":[{"name":"%s","root":"%s","node":"%s","nodeVersion":"%s","addons":[%s]}],"x64":[]}\n' \
        "$(node --version)" "$p" "$root" "$arm64_node_dir" "$arm64_node" "$(json_strings "$tmp/common.sets" "$tmp/$p.sets")" >"$tmp/$p.json"
    fi
    if [ "$rc" = 0 ] || [ "$rc" = 69 ]; then
      say "$p prepared at $(( $(date +%s) - t_start ))s; testing"
      run_tests "$p" "$tmp/$p.json" dist/test/platforms/arm64-roots.test.js
    else
      say "$p: the root or its addons could not be made (exit $rc)"
      echo "$rc" >"$tmp/$p.rc"
    fi ) &
  parts+=("$p")
done
common_rc=0
wait "$common_pid" || common_rc=$?
echo "$common_rc" >"$tmp/common.rc"
[ "$common_rc" = 0 ] || say "the shared arm64 addons could not be built (exit $common_rc)"
wait

rc=0
for part in "${parts[@]}"; do
  part_rc="$(cat "$tmp/$part.rc" 2>/dev/null || echo 1)"
  say "$part: exit $part_rc"
  [ "$part_rc" = 0 ] || rc=1
done
say "lane done in $(( $(date +%s) - t_start ))s (exit $rc)"
exit "$rc"
