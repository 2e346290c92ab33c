#!/usr/bin/env bash
# Builds position-independent static archives of libelf and libbpf from
# Debian bookworm's source packages, for the release binary's C extension
# (build/build_binary.sh links them with FALCOLITE_STATIC_DEPS):
#
#   build/static_deps.sh OUTDIR
#
# Produces OUTDIR/lib/{libelf,libbpf}.a and their headers under
# OUTDIR/include.  Debian ships these archives too, but built as PIE, not
# PIC, so they cannot go into a shared object (R_X86_64_TPOFF32 in libelf.a,
# R_X86_64_PC32 in libbpf.a).  The upstream versions are the ones of the
# installed libbpf-dev and libelf-dev, so that headers and archives agree.
# zlib stays the host's shared libz.so.1: the binary needs it anyway (for
# CPython's zlib module), and so it keeps the host's security updates.
#
# Relinking the binary against a modified library (LGPL): replace its
# archive in OUTDIR/lib by a PIC build of the modified source (while the
# stamp matches, this script leaves OUTDIR alone) or change the pins below,
# then `make binary`.
#
# Downloads are checked against pinned SHA-256 sums (taken from bookworm's
# signed Sources index) and kept in OUTDIR/dl.  When OUTDIR holds archives
# built by this same script (stamp: a hash of this file, so of its pins and
# flags), nothing is done.
#
# Needs, and installs with apt-get when missing: gcc, make, binutils, curl,
# bzip2, xz-utils, patch, dpkg-dev (dpkg-buildflags); zlib.h comes from
# zlib1g-dev, which build_binary.sh installs.  Environment: JOBS (make jobs,
# default: the CPU count), KEEP_SRC=1 (keep the build tree, OUTDIR/src).
set -euo pipefail

[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
mkdir -p "$1"
OUT=$(cd "$1" && pwd)
SELF=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")
JOBS=${JOBS:-$(nproc)}
MIRROR=http://deb.debian.org/debian/pool/main

# Pins: pool path, SHA-256.  Source package versions: elfutils 0.188-2.1,
# libbpf 1:1.1.2-0+deb12u1 (bookworm main).
PINS=(
    "e/elfutils/elfutils_0.188.orig.tar.bz2 fb8b0e8d0802005b9a309c60c1d8de32dd2951b56f0c3a3cb56d21ce01595dff"
    "e/elfutils/elfutils_0.188-2.1.debian.tar.xz dac77dc13f8f3bb2c541d631faf75216fc6640a359143a4545129ee096bc35ff"
    "libb/libbpf/libbpf_1.1.2.orig.tar.gz b50ab60637fb713db78aa98e6ca911ddf13c0799d498a1f6ec03ebffc7dca588"
    "libb/libbpf/libbpf_1.1.2-0+deb12u1.debian.tar.xz e6032912c142c414d5b01257078e86d77f195e0474fba24fbb360a6a78f252b6"
)
# The binary packages these sources build, with their versions: a host whose
# -dev package differs (e.g. a bookworm-security revision whose source the
# mirror does not serve) is told, since Debian's fixes in that revision are
# then not in the archives.
BUILT=(libelf-dev=0.188-2.1 libbpf-dev=1:1.1.2-0+deb12u1)
# Debian packages of the tools used below
TOOLS=(gcc make binutils curl bzip2 xz-utils patch dpkg-dev)

say() { printf '== static_deps: %s\n' "$*"; }
die() { printf 'static_deps: %s\n' "$*" >&2; exit 1; }

t0=$(date +%s)
stamp=$(sha256sum "$SELF" | cut -c1-16)
if [ "$(cat "$OUT/.stamp" 2>/dev/null)" = "$stamp" ] \
        && [ -f "$OUT/lib/libelf.a" ] && [ -f "$OUT/lib/libbpf.a" ]; then
    say "up to date in $OUT (0 s)"
    exit 0
fi

# ------------------------------------------------------------ tools
. "$(dirname "$SELF")/apt.sh"
apt_install "${TOOLS[@]}"

for b in "${BUILT[@]}"; do
    host=$(dpkg-query -W -f='${Version}' "${b%%=*}" 2>/dev/null || true)
    if [ -n "$host" ] && [ "$host" != "${b#*=}" ]; then
        echo "static_deps: note: the host's ${b%%=*} is $host; the archive is built from" \
             "${b#*=}" >&2
    fi
done

# ------------------------------------------------------------ downloads
mkdir -p "$OUT/dl"
for pin in "${PINS[@]}"; do
    path=${pin% *} sum=${pin#* }
    file=$OUT/dl/$(basename "$path")
    if ! echo "$sum  $file" | sha256sum -c --status 2>/dev/null; then
        say "download $(basename "$path")"
        curl -fsS --retry 3 -o "$file.part" "$MIRROR/${path//+/%2B}" \
            || die "cannot download $MIRROR/$path"
        echo "$sum  $file.part" | sha256sum -c --status \
            || die "$(basename "$path"): SHA-256 differs from the pin"
        mv "$file.part" "$file"
    fi
done

# ------------------------------------------------------------ build
# Debian's hardening flags (as its libbpf package uses), plus -fPIC; no
# debug info (the binary's build strips it anyway).  Debian's per-package
# tweaks (-O3 for elfutils) only change speed and are left out.
CFLAGS="$(DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --get CFLAGS) -fPIC -g0"
CPPFLAGS="-I$OUT/include $(DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --get CPPFLAGS)"
export CFLAGS CPPFLAGS

SRC=$OUT/src
rm -rf "$SRC" "$OUT/lib" "$OUT/include" "$OUT/.stamp"
mkdir -p "$SRC" "$OUT/lib" "$OUT/include/bpf"

# unpack NAME ORIG DEBIAN: the orig tarball into $SRC/NAME with Debian's
# debian/ directory inside, and Debian's patch series applied (quilt's
# default -p1; '#' lines are disabled patches).
unpack() {
    local dir=$SRC/$1
    mkdir -p "$dir"
    tar -C "$dir" --strip-components=1 -xf "$OUT/dl/$2"
    tar -C "$dir" -xf "$OUT/dl/$3"
    [ -f "$dir/debian/patches/series" ] || return 0
    local p opts
    while read -r p opts || [ -n "$p" ]; do
        case $p in ''|'#'*) continue ;; esac
        patch -d "$dir" -s -N ${opts:--p1} -i "debian/patches/$p" \
            || die "$1: Debian patch $p does not apply"
    done < "$dir/debian/patches/series"
}

# elfutils: only libelf (and lib/, its helpers), against the host's zlib.
# Debian's patches to its build system (config/eu.am) would need automake
# to take effect; the ones that touch code concern other kernels or tools.
say "libelf"
unpack elfutils elfutils_0.188.orig.tar.bz2 elfutils_0.188-2.1.debian.tar.xz
(cd "$SRC/elfutils" && ./configure -q --disable-nls --disable-debuginfod \
    --disable-libdebuginfod --without-bzlib --without-lzma --without-zstd \
    --without-valgrind >/dev/null \
    && make -s -j"$JOBS" -C lib >/dev/null && make -s -j"$JOBS" -C libelf libelf.a >/dev/null)
cp "$SRC/elfutils/libelf/libelf.a" "$OUT/lib/"
cp "$SRC/elfutils/libelf/"{libelf.h,gelf.h,nlist.h} "$OUT/include/"

# libbpf: the static library only; NO_PKG_CONFIG keeps the host's .pc
# files (and their include paths) out, so it sees the headers above.
say "libbpf"
unpack libbpf libbpf_1.1.2.orig.tar.gz libbpf_1.1.2-0+deb12u1.debian.tar.xz
mkdir -p "$SRC/libbpf/obj"
make -s -j"$JOBS" -C "$SRC/libbpf/src" BUILD_STATIC_ONLY=y NO_PKG_CONFIG=1 \
    OBJDIR="$SRC/libbpf/obj" CFLAGS="$CFLAGS $CPPFLAGS" "$SRC/libbpf/obj/libbpf.a" >/dev/null
cp "$SRC/libbpf/obj/libbpf.a" "$OUT/lib/"
make -s -C "$SRC/libbpf/src" install_headers DESTDIR="$OUT" INCLUDEDIR=/include >/dev/null

# Each archive, whole, must link into a shared object (what Debian's own
# archives fail): caught here, where the cause is obvious.
for a in "$OUT"/lib/*.a; do
    gcc -shared -Wl,-z,text -o "$SRC/pic-check.so" \
        -Wl,--whole-archive "$a" -Wl,--no-whole-archive -lz || die "$a is not position-independent"
done

[ "${KEEP_SRC:-}" = 1 ] || rm -rf "$SRC"
echo "$stamp" > "$OUT/.stamp"
say "$OUT/lib: $(cd "$OUT/lib" && ls -- *.a | tr '\n' ' ')($(($(date +%s) - t0)) s)"
