#!/bin/sh
# Debian packages falcolite's build and tests need; installs only what is
# missing (through sudo when not root).  Used by `make` and by CI.
#   build: gcc, make, zlib1g-dev, python3-dev, python3-venv; for the live
#          eBPF probe clang, bpftool, libbpf-dev, libelf-dev
#   tests: sysdig (the differential oracle), rsyslog (syslog tests)
set -eu
BUILD="gcc make zlib1g-dev python3-dev python3-venv clang bpftool libbpf-dev libelf-dev"
PKGS="$BUILD sysdig rsyslog"
[ "${1:-}" = "--build-only" ] && PKGS="$BUILD"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "installing:$missing"
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
# shellcheck disable=SC2086
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
