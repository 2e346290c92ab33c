#!/usr/bin/env bash
# The live smoke test (cdriver/tests/live_smoke.c) on other kernels than the
# host's: each kernel boots in qemu with an initramfs holding a static
# live_smoke and busybox, runs it as init's child and powers off.  The
# probe's CO-RE branches for older kernels (RSS counters before 6.2, kernfs
# `parent` before 6.15, inode times before 6.6) and older verifiers run
# nowhere else.
#
#   cdriver/tests/vm_smoke.sh [SUITE...]
#
# Default: the cloud kernels (metapackage linux-image-cloud-amd64) of
# Debian 12 (bookworm, 6.1: the current probe) and Debian 11 (bullseye,
# 5.10: the compat probe, without cgroups).  Other suites' package lists
# are fetched into build/out/vm/apt, leaving the host's apt alone.  Output
# in build/out/vm: the kernel packages (cached), the initramfs and one log
# per kernel.  qemu runs without KVM:
# a nested KVM may fail to emulate cmpxchg16b, and a TCG boot plus the test
# takes about 15 s.
#
# Needs, and installs with apt-get when missing: qemu-system-x86,
# busybox-static, cpio; and build/static_deps.sh's archives (built when
# missing) for a static live_smoke.  Exit status 1 when a kernel's smoke
# test fails or does not finish.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
OUT=build/out
VM=$OUT/vm
DEPS=$OUT/static-deps
TIMEOUT=${VM_TIMEOUT:-300}

. build/apt.sh
apt_install qemu-system-x86 busybox-static cpio
[ -f "$DEPS/lib/libbpf.a" ] || build/static_deps.sh "$DEPS"
make -s probe

suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(bookworm bullseye)

# apt options reading SUITE's package lists (the host's own for its suite)
apt_opts() {
    local suite=$1
    if grep -qs "^VERSION_CODENAME=$suite$" /etc/os-release; then
        return
    fi
    local dir=$ROOT/$VM/apt/$suite
    echo "-o Dir::Etc::SourceList=$dir/sources.list -o Dir::Etc::SourceParts=/dev/null" \
         "-o Dir::State::Lists=$dir/lists -o Dir::Cache=$dir/cache"
}

mkdir -p "$VM"
gcc -std=c11 -O2 -Wall -Wextra -Werror -DFL_HAVE_LIVE=1 -Icdriver -I"$DEPS/include" -I"$OUT" \
    -static -o "$VM/live_smoke" cdriver/tests/live_smoke.c cdriver/live_reader.c cdriver/elision.c \
    "$DEPS/lib/libbpf.a" "$DEPS/lib/libelf.a" -lz 2>&1 | { grep -v "warning: Using 'get" || true; }

# The initramfs: busybox for the shell, the programs live_smoke runs (true,
# rm) and ip, the static live_smoke, and an init that runs it.
root=$VM/root
rm -rf "$root"
mkdir -p "$root"/{bin,proc,sys,tmp,dev}
cp "$(command -v busybox)" "$root/bin/busybox"
for a in sh true rm mount poweroff uname ip; do ln -s busybox "$root/bin/$a"; done
cp "$VM/live_smoke" "$root/live_smoke"
cat > "$root/init" <<'EOF'
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
ip link set lo up  # the smoke test connects and accepts on 127.0.0.1
echo "== kernel $(uname -r)"
FALCOLITE_REQUIRE_LIVE=1 /live_smoke -q
echo "== live_smoke exit $?"
poweroff -f
EOF
chmod +x "$root/init"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) > "$VM/initrd.gz"

failed=0
for suite in "${suites[@]}"; do
    opts=$(apt_opts "$suite")
    if [ -n "$opts" ]; then
        dir=$VM/apt/$suite
        mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial"
        echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg]" \
             "http://deb.debian.org/debian $suite main" > "$dir/sources.list"
        # shellcheck disable=SC2086
        apt-get $opts update >/dev/null || { echo "vm_smoke: cannot fetch $suite's lists" >&2; exit 1; }
    fi
    # shellcheck disable=SC2086
    k=$(apt-cache $opts depends linux-image-cloud-amd64 2>/dev/null \
        | sed -n 's/^ *Depends: \(linux-image-[0-9].*-cloud-amd64\)$/\1/p' | head -1)
    [ -n "$k" ] || { echo "vm_smoke: no cloud kernel package in $suite" >&2; exit 1; }
    deb=$(ls "$VM/$k"_*.deb 2>/dev/null | head -1 || true)
    if [ -z "$deb" ]; then
        # shellcheck disable=SC2086
        (cd "$VM" && apt-get $opts -o APT::Sandbox::User=root download "$k" >/dev/null) ||
            { echo "vm_smoke: cannot download $k" >&2; exit 1; }
        deb=$(ls "$VM/$k"_*.deb | head -1)
    fi
    rm -rf "$VM/kernel" && dpkg-deb -x "$deb" "$VM/kernel"
    vmlinuz=$(ls "$VM"/kernel/boot/vmlinuz-* | head -1)
    log=$VM/$k.log
    echo "== $k: booting $(basename "$vmlinuz") (log: $log)"
    timeout "$TIMEOUT" qemu-system-x86_64 -accel tcg -cpu max -m 1024 -smp 2 \
        -kernel "$vmlinuz" -initrd "$VM/initrd.gz" \
        -append "console=ttyS0 quiet panic=-1" -nographic -no-reboot > "$log" 2>&1 || true
    # the smoke test's own report, without the firmware's screen codes
    sed -n '/== kernel /,/== live_smoke exit/p' "$log" | tr -d '\r' | sed 's/^.*== kernel/== kernel/'
    if ! grep -q '== live_smoke exit 0' "$log"; then
        echo "vm_smoke: $k: the smoke test failed or did not finish" >&2
        failed=1
    fi
done
exit $failed
