#!/usr/bin/env bash
# Builds the Debian package of the single binary:
#   packaging/build_deb.sh [BINARY [OUTDIR]]    (default dist/falcolite, dist)
# -> OUTDIR/falcolite_<version>_amd64.deb.  Needs dpkg-deb and binutils
# (objdump), both on any Debian.  The libc6 dependency is the highest
# GLIBC_x.y symbol version that the launcher and the unpacked agent need.
#
# Layout:
#   /usr/bin/falcolite                          the binary
#   /etc/falcolite/falco.yaml                   configuration (conffile)
#   /etc/falcolite/falcolite_rules.yaml         default rules (replaced by upgrades)
#   /etc/falcolite/falcolite_rules.local.yaml   local rules (conffile)
#   /etc/falcolite/rules.d/                     more rules files
#   /lib/systemd/system/falcolite.service       the unit (not enabled)
#   /etc/logrotate.d/falcolite                  rotation of /var/log/falcolite/*.json
#   /usr/share/doc/falcolite/                   README.md, copyright
#   /var/log/falcolite/                         alerts (made by postinst)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BINARY=$(realpath "${1:-$ROOT/dist/falcolite}")
OUTDIR=$(realpath "${2:-$ROOT/dist}")
PKG=$ROOT/packaging

die() { printf 'build_deb: %s\n' "$*" >&2; exit 1; }
[ -x "$BINARY" ] || die "no binary at $BINARY (make binary)"
VERSION=$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' "$ROOT/falcolite/__init__.py")
[ -n "$VERSION" ] || die "no __version__ in falcolite/__init__.py"

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
T=$WORK/root

# The glibc floor: the launcher and every ELF file it unpacks.
env -i HOME="$WORK/home" XDG_CACHE_HOME="$WORK/cache" "$BINARY" --version >/dev/null \
    || die "$BINARY --version failed"
GLIBC=$( { objdump -T "$BINARY";
           find "$WORK/cache" -type f \( -name '*.so*' -o -name '*.bin' \) \
               -exec objdump -T {} + 2>/dev/null; } \
         | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -1)
[ -n "$GLIBC" ] || die "no GLIBC symbol versions found"

install -D -m 0755 "$BINARY" "$T/usr/bin/falcolite"
install -D -m 0644 "$PKG/falco.yaml" "$T/etc/falcolite/falco.yaml"
install -D -m 0644 "$ROOT/falcolite/rules/falcolite_rules.yaml" \
    "$T/etc/falcolite/falcolite_rules.yaml"
install -D -m 0644 "$PKG/falcolite_rules.local.yaml" "$T/etc/falcolite/falcolite_rules.local.yaml"
install -d -m 0755 "$T/etc/falcolite/rules.d"
install -D -m 0644 "$PKG/falcolite.service" "$T/lib/systemd/system/falcolite.service"
install -D -m 0644 "$PKG/falcolite.logrotate" "$T/etc/logrotate.d/falcolite"
install -D -m 0644 "$ROOT/README.md" "$T/usr/share/doc/falcolite/README.md"
install -D -m 0644 "$PKG/debian/copyright" "$T/usr/share/doc/falcolite/copyright"

install -d -m 0755 "$T/DEBIAN"
SIZE=$(du -sk --exclude=DEBIAN "$T" | cut -f1)
sed -e "s/@VERSION@/$VERSION/" -e "s/@INSTALLED_SIZE@/$SIZE/" -e "s/@GLIBC@/$GLIBC/" \
    "$PKG/debian/control.in" > "$T/DEBIAN/control"
install -m 0644 "$PKG/debian/conffiles" "$T/DEBIAN/conffiles"
for s in postinst prerm postrm; do
    install -m 0755 "$PKG/debian/$s" "$T/DEBIAN/$s"
done

mkdir -p "$OUTDIR"
DEB=$OUTDIR/falcolite_${VERSION}_amd64.deb
dpkg-deb --root-owner-group -Zxz --build "$T" "$DEB.tmp" >/dev/null
mv -f "$DEB.tmp" "$DEB"
echo "$DEB (libc6 >= $GLIBC)"
