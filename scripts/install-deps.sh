#!/usr/bin/env bash
# Debian packages falcolite's build and tests need; installs only what is
# missing (through sudo when not root).  Used by `make` and by CI.
#   build: gcc, make, zlib1g-dev, python3-dev, python3-venv; for the live
#          eBPF probe clang, bpftool, libbpf-dev, libelf-dev
#   tests: sysdig (the differential oracle), rsyslog (syslog tests)
set -euo pipefail
BUILD=(gcc make zlib1g-dev python3-dev python3-venv clang bpftool libbpf-dev libelf-dev)
TESTS=(sysdig rsyslog)
[ "${1:-}" = "--build-only" ] && TESTS=()
. "$(dirname "${BASH_SOURCE[0]}")/../build/apt.sh"
apt_install "${BUILD[@]}" ${TESTS[@]+"${TESTS[@]}"}
