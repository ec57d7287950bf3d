#!/usr/bin/env bash
# Installs edge-inspect as a systemd service from this checkout:
#   sudo systemd/install.sh            install or upgrade, enable, (re)start
#   sudo systemd/install.sh --no-start install and enable only
# Idempotent: re-running upgrades the code and keeps config and data.
set -euo pipefail
cd "$(dirname "$0")/.."

start=1
for arg in "$@"; do
  case "$arg" in
    --no-start) start=0 ;;
    -h|--help) sed -n '2,5p' "$0"; exit 0 ;;
    *) echo "install: unknown argument '$arg'" >&2; exit 64 ;;
  esac
done
if [ "$(id -u)" != 0 ]; then
  echo "install: needs root; run: sudo $0 $*" >&2
  exit 1
fi

prefix=/opt/edge-inspect
bash scripts/setup.sh

getent group gpio >/dev/null || groupadd --system gpio
getent group video >/dev/null || groupadd --system video
id edge-inspect >/dev/null 2>&1 || useradd --system --home-dir /var/lib/edge-inspect --no-create-home --shell /usr/sbin/nologin --groups video,gpio edge-inspect

mkdir -p "$prefix" /etc/edge-inspect /var/lib/edge-inspect
# Code is root-owned and read-only to the service.
cp -a package.json package-lock.json bin dist node_modules config README.md "$prefix"/
# Native parts setup built for this machine (build/no-gdal); none left from an earlier install.
rm -rf "$prefix/build"
[ -d build ] && cp -a build "$prefix"/
[ -d models ] && cp -a models "$prefix"/
if [ ! -f /etc/edge-inspect/config.yaml ]; then
  sed 's#^data_dir: .*#data_dir: /var/lib/edge-inspect#' config/example.yaml > /etc/edge-inspect/config.yaml
  echo "install: wrote /etc/edge-inspect/config.yaml from config/example.yaml: edit it for this line"
fi
[ -f /etc/edge-inspect/mqtt-password ] || install -m 0600 /dev/null /etc/edge-inspect/mqtt-password
chown -R edge-inspect:edge-inspect /var/lib/edge-inspect

install -m 0644 systemd/edge-inspect.service /etc/systemd/system/edge-inspect.service
systemctl daemon-reload
systemctl enable edge-inspect.service
"$prefix/bin/edge-inspect" check-config /etc/edge-inspect/config.yaml
if [ "$start" = 1 ]; then
  systemctl restart edge-inspect.service
  systemctl --no-pager status edge-inspect.service || true
fi
