#!/usr/bin/env bash
# Builds the single falcolite binary, dist/falcolite, with Nuitka (onefile),
# from a clean checkout.  Recipe and figures: ../shared/docs/binary-build.md.
#
#   build/build_binary.sh            # or: make binary
#
# Steps: Debian build packages (apt, when missing) -> a build virtualenv with
# pinned tools (build/out/venv) -> PIC archives of libelf and libbpf
# (build/static_deps.sh, cached in build/out/static-deps) -> a staged copy of
# the package with the C extension built into it (build/out/stage) -> Nuitka
# -> checks (the binary runs, replays the demo capture, and the compilation
# report lists no falcolite module as not found).
#
# Environment: PYTHON (default python3; CPython 3.11 with libpython3.11.a for
# a static libpython), JOBS (C compiler jobs, default: the CPU count), LTO
# (yes/no, default no), STATIC_DEPS (yes/no, default yes), PY_CODE
# (bytecode/compiled, default bytecode: how falcolite's own modules go in,
# see build/nuitka_bytecode.py).
#
# Linking (STATIC_DEPS): with yes, the extension links libbpf and libelf
# statically and needs only libc and the host's libz.so.1 (checked below).
# With no, it links the system's shared libraries: libbpf.so.1 and
# libelf.so.1 are bundled (build/nuitka-package-config.yml).  libz.so.1 is
# the host's either way (CPython's zlib module needs it too).
#
# Unpack policy (README "Single binary"): the payload is unpacked once into
# {CACHE_DIR}/falcolite/<version>-<build id> ($XDG_CACHE_HOME when absolute,
# else $HOME/.cache) and reused by later starts (each file is checked by
# CRC32 and rewritten when it differs).  The build id is a hash of the inputs,
# so two different builds never share a folder.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

PYTHON=${PYTHON:-python3}
OUT=build/out
BVENV=$OUT/venv
BPY=$BVENV/bin/python
STAGE=$OUT/stage
NOUT=$OUT/nuitka
DIST=dist
REPORT=$DIST/nuitka-report.xml
PKGCONF=build/nuitka-package-config.yml
STATIC_DEPS=${STATIC_DEPS:-yes}
PY_CODE=${PY_CODE:-bytecode}
DEPS=$OUT/static-deps

# Pinned build tools and the app's own dependencies (the versions the
# binary is built and tested with).
PINS=(
    nuitka==4.3.5
    zstandard==0.25.0
    ordered-set==4.1.0
    jsonschema==4.26.0
    setuptools==84.2.1
    cffi==2.1.1
    PyYAML==6.0.4
    orjson==3.13.0
)
# Nuitka's (patchelf, ccache), the C extension's (gcc, zlib1g-dev) and the
# live eBPF probe's (clang, bpftool, libbpf-dev, libelf-dev).
APT_PKGS=(patchelf ccache gcc zlib1g-dev clang bpftool libbpf-dev libelf-dev)

say() { printf '== %s\n' "$*"; }
die() { printf 'build_binary: %s\n' "$*" >&2; exit 1; }

t_start=$(date +%s)
case $STATIC_DEPS in yes|no) ;; *) die "STATIC_DEPS must be yes or no, not '$STATIC_DEPS'" ;; esac
case $PY_CODE in bytecode|compiled) ;; *) die "PY_CODE must be bytecode or compiled" ;; esac
export FALCOLITE_PY_CODE=$PY_CODE  # for build/nuitka_bytecode.py
VERSION=$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' falcolite/__init__.py)
[ -n "$VERSION" ] || die "no __version__ in falcolite/__init__.py"

# ------------------------------------------------------------ Debian packages
. build/apt.sh
apt_install "${APT_PKGS[@]}"

# ------------------------------------------------------------ build venv
"$PYTHON" -c 'import sys; assert sys.implementation.name == "cpython" and \
sys.version_info[:2] == (3, 11), sys.version' \
    || die "$PYTHON is not CPython 3.11 (set PYTHON=...)"
pins_id=$(printf '%s\n' "${PINS[@]}" "$("$PYTHON" -VV)" | sha256sum | cut -c1-16)
if [ "$(cat "$BVENV/.pins" 2>/dev/null)" != "$pins_id" ]; then
    say "build venv $BVENV"
    rm -rf "$BVENV"
    "$PYTHON" -m venv "$BVENV"
    "$BPY" -m pip install -q --disable-pip-version-check "${PINS[@]}"
    echo "$pins_id" > "$BVENV/.pins"
fi

# Nuitka's onefile bootstrap says only "couldn't launch child" when the unpack
# folder is on a noexec mount (or cannot be written, or HOME is unknown): add
# the override to those messages.  Pinned Nuitka, so the text is known; a
# mismatch stops the build rather than silently dropping the hint.
"$BPY" - <<'EOF'
import pathlib, nuitka
src = pathlib.Path(nuitka.__file__).parent / "build" / "static_src" / "OnefileBootstrap.c"
text = src.read_text()
HINT = (" [falcolite unpacks itself into $XDG_CACHE_HOME/falcolite, by default"
        " $HOME/.cache/falcolite: set XDG_CACHE_HOME to a directory that only this user can"
        " write, on a filesystem mounted without noexec]")
MARK = "/* falcolite unpack hint */"
if MARK not in text:
    edits = [
        ('fatalErrorChild("Error, couldn\'t launch child (exec)", errno);',
         'fatalErrorChild("Error, couldn\'t launch child (exec)' + HINT + '", errno);'),
        ('"Error, failed to open \'" FILENAME_FORMAT_STR "\' for writing.\\n"',
         '"Error, failed to open \'" FILENAME_FORMAT_STR "\' for writing.' + HINT + '\\n"'),
        ('"Error, couldn\'t runtime expand spec \'" FILENAME_FORMAT_STR "\'.\\n"',
         '"Error, couldn\'t runtime expand spec \'" FILENAME_FORMAT_STR "\'.' + HINT + '\\n"'),
        ('fatalIOError("Error, couldn\'t unpack file to target path.", getLastErrorCode());',
         'fatalIOError("Error, couldn\'t unpack file to target path.' + HINT
         + '", getLastErrorCode());'),
    ]
    for old, new in edits:
        if text.count(old) != 1:
            raise SystemExit(f"build_binary: Nuitka bootstrap changed, cannot patch: {old}")
        text = text.replace(old, new)
    src.write_text(MARK + "\n" + text)
EOF

# ------------------------------------------------------------ static archives
ext_env=()
if [ "$STATIC_DEPS" = yes ]; then
    build/static_deps.sh "$DEPS"
    ext_env=(FALCOLITE_STATIC_DEPS="$ROOT/$DEPS")
fi

# ------------------------------------------------------------ stage + C extension
# A copy of the package (no caches, no in-tree build products), so that the
# build neither touches nor depends on the developer's editable install.
say "stage $STAGE"
rm -rf "$STAGE"
mkdir -p "$STAGE"
tar -C . --exclude=__pycache__ --exclude='*.pyc' --exclude='*.so' --exclude='*.c' \
    --exclude='*.o' -cf - falcolite | tar -C "$STAGE" -xf -
# the release's build date, for --version and --support
sed -i "s/^__build_date__: str | None = None$/__build_date__: str | None = \"$(date -u +%Y-%m-%d)\"/" \
    "$STAGE/falcolite/__init__.py"
grep -q '^__build_date__: str | None = "' "$STAGE/falcolite/__init__.py" \
    || die "could not set the build date in the staged package"
say "C extension"
env ${ext_env[@]+"${ext_env[@]}"} PYTHONWARNINGS=ignore "$BPY" setup.py -q build_ext \
    --build-temp "$OUT/ext-build" --build-lib "$STAGE" >/dev/null
ls "$STAGE"/falcolite/_cdriver*.so >/dev/null 2>&1 || die "the C extension was not built"
if [ "$STATIC_DEPS" = yes ]; then
    # libc-family libraries and zlib only (ld-linux comes with libelf's
    # thread-local error variable): anything else was linked shared.
    others=$(readelf -d "$STAGE"/falcolite/_cdriver*.so | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' \
        | grep -vxE 'libc\.so\.6|libm\.so\.6|libpthread\.so\.0|libdl\.so\.2|librt\.so\.1|ld-linux-x86-64\.so\.2|libz\.so\.1' \
        || true)
    [ -z "$others" ] || die "the C extension needs $(echo $others) (STATIC_DEPS=yes: libc and zlib only)"
fi
(cd "$STAGE" && "$ROOT/$BPY" -c 'import falcolite._cdriver, falcolite.app') \
    || die "the staged package does not import"
# A release binary captures live: the probe must be in the extension, unless
# FALCOLITE_NO_LIVE=1 asks for a capture-files-only build.
if ! (cd "$STAGE" && "$ROOT/$BPY" -c \
        'from falcolite._cdriver import lib; raise SystemExit(not lib.fl_live_compiled())'); then
    [ "${FALCOLITE_NO_LIVE:-}" = 1 ] \
        || die "the C extension was built without live capture (see the message above)"
    echo "build_binary: FALCOLITE_NO_LIVE=1: a binary without live capture" >&2
fi

# ------------------------------------------------------------ Nuitka
STATIC=yes
"$PYTHON" -c 'import os, sysconfig; \
exit(not os.path.exists(os.path.join(sysconfig.get_config_var("LIBPL"), \
sysconfig.get_config_var("LIBRARY"))))' \
    || { STATIC=no; echo "build_binary: no static libpython: the binary will be larger" >&2; }

# --onefile-as-archive: each file compressed on its own, so that a start that
# finds the payload already unpacked only checks it (CRC32), without
# decompressing it.  The strip plugin drops debug info from the bundled
# shared objects.  LTO (LTO=yes) gains ~1 % of instructions for ~70 s.
NUITKA_ARGS=(
    --mode=onefile --deployment
    --static-libpython=$STATIC --lto="${LTO:-no}"
    --python-flag=-m
    --include-package=falcolite
    --include-module=_cffi_backend
    --include-module=_json --include-module=_bisect
    --include-package-data='falcolite:*.yaml'
    --user-plugin="$ROOT/build/nuitka_strip.py"
    --user-plugin="$ROOT/build/nuitka_bytecode.py"
    --nofollow-import-to=falcolite.tests
    --nofollow-import-to=tests
    --nofollow-import-to=bench
    --nofollow-import-to=build_ffi
    --nofollow-import-to=cffi
    --noinclude-pytest-mode=nofollow
    --noinclude-setuptools-mode=nofollow
    --noinclude-unittest-mode=nofollow
    --noinclude-pydoc-mode=nofollow
    --onefile-as-archive
    --product-name=falcolite --product-version="$VERSION"
)
# Only the shared mode has libraries for Nuitka to bundle.
if [ "$STATIC_DEPS" = no ]; then
    NUITKA_ARGS+=(--user-package-configuration-file="$ROOT/$PKGCONF")
fi

# The build id: everything that goes into the payload, and how.  Two builds
# that differ get different unpack folders: a launcher never rewrites files
# that a running agent of another build has mapped.
BUILD_ID=$( { (cd "$STAGE" && find falcolite -type f -print0 | sort -z | xargs -0 sha256sum)
               sha256sum "$PKGCONF" build/nuitka_strip.py build/nuitka_bytecode.py
               printf '%s\n' "$pins_id" "$PY_CODE" "${NUITKA_ARGS[@]}"; } | sha256sum | cut -c1-12)
SPEC="{CACHE_DIR}/falcolite/$VERSION-$BUILD_ID"

say "nuitka (unpack spec $SPEC)"
mkdir -p "$DIST" "$NOUT"
rm -f "$REPORT"
t_nuitka=$(date +%s)
# From inside the stage: run from the checkout, Nuitka would take the
# checkout's falcolite (and its in-tree _cdriver build) before the staged one.
(cd "$STAGE" && "$ROOT/$BPY" -m nuitka "${NUITKA_ARGS[@]}" \
    ${JOBS:+--jobs=$JOBS} \
    --onefile-tempdir-spec="$SPEC" \
    --output-dir="$ROOT/$NOUT" --output-filename=falcolite \
    --report="$ROOT/$REPORT" \
    falcolite)
t_done=$(date +%s)
# checked under a temporary name: a failed check leaves no binary behind
# that make would take as up to date
install -m 0755 "$NOUT/falcolite" "$DIST/falcolite.tmp"

# ------------------------------------------------------------ checks
say "check"
# 1. no module of the project may be missing from the compilation.  Names
#    imported with "from package import name" are looked up as submodules
#    first: a not-found one is fine when the package has that attribute.
(cd "$STAGE" && "$ROOT/$BPY" - "$ROOT/$REPORT") <<'EOF' \
    || die "the report lists falcolite modules as not found"
import importlib
import sys
import xml.etree.ElementTree as ET

root = ET.parse(sys.argv[1]).getroot()
bad = set()
for m in root.iter("module_usage"):
    name = m.get("name") or ""
    if m.get("finding") != "not-found" or name.split(".")[0] != "falcolite":
        continue
    parent, _, attr = name.rpartition(".")
    if m.get("reason") == "import fromlist" and parent:
        try:
            if hasattr(importlib.import_module(parent), attr):
                continue
        except ImportError:
            pass
    bad.add(name)
compiled = {m.get("name") for m in root.iter("module")}
for must in ("falcolite.app", "falcolite._cdriver", "_cffi_backend", "yaml._yaml", "orjson"):
    if must not in compiled:
        bad.add(must + " (not in the binary)")
if bad:
    print("not found: " + ", ".join(sorted(bad)), file=sys.stderr)
    raise SystemExit(1)
EOF
# 2. the binary runs: version, and the demo replay with the embedded rules,
#    from an empty environment and a cache of its own
check_home=$(mktemp -d)
trap 'rm -rf "$check_home"' EXIT
run() { (cd "$check_home" && env -i HOME="$check_home" "$ROOT/$DIST/falcolite.tmp" "$@"); }
got=$(run --version) || die "dist/falcolite --version failed"
[ "$(echo "$got" | head -n 1)" = "falcolite version $VERSION" ] \
    || die "unexpected --version output: $got"
alerts=$(run -e "$ROOT/traces/demo-webshell.scap" -o json_output=true 2>/dev/null \
    | grep -c '^{"' || true)
[ "$alerts" = 5 ] || die "demo replay gave $alerts JSON alerts, not 5"
[ -d "$check_home/.cache/falcolite/$VERSION-$BUILD_ID" ] \
    || die "the payload was not unpacked where the spec says"

mv -f "$DIST/falcolite.tmp" "$DIST/falcolite"
echo "STATIC_DEPS=$STATIC_DEPS PY_CODE=$PY_CODE" > "$OUT/binary-mode"  # for build/binary.mk
size=$(stat -c %s "$DIST/falcolite")
echo "dist/falcolite: $((size / 1024)) KiB, version $VERSION, build $BUILD_ID," \
     "STATIC_DEPS=$STATIC_DEPS, PY_CODE=$PY_CODE;" \
     "nuitka $((t_done - t_nuitka)) s, total $(($(date +%s) - t_start)) s"
