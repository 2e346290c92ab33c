"""cffi (API mode) build of falcolite._cdriver from the C sources here.

The live reader needs the eBPF probe's skeleton, built first by
cdriver/bpf/build_probe.sh (clang, bpftool, libbpf-dev, libelf-dev); where
that cannot be built (or FALCOLITE_NO_LIVE=1), live_stub.c stands in and the
agent reads capture files only, saying why when asked to capture live.

FALCOLITE_STATIC_DEPS=<dir> (the release binary's build) links the PIC
archives that build/static_deps.sh puts in <dir>/lib (libbpf, libelf)
instead of the shared libraries, so that the extension needs only libc and
the host's zlib (which CPython's own zlib module needs anyway).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

from cffi import FFI

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
HEADERS = ["scap_reader.h", "elision.h", "live_reader.h"]
SOURCES = ["scap_reader.c", "elision.c"]
PROBE_OUT = os.environ.get("FALCOLITE_PROBE_OUT", os.path.join(ROOT, "build", "out"))


def cdef_text() -> str:
    """The public headers minus preprocessor lines (cffi parses plain C)."""
    out = []
    for name in HEADERS:
        with open(os.path.join(HERE, name), encoding="utf-8") as f:
            text = re.sub(r"/\*.*?\*/", "", f.read(), flags=re.S)
        for line in text.splitlines():
            m = re.match(r"#define (FL_\w+) (\d+)$", line.strip())
            if m:
                out.append(f"#define {m.group(1)} {m.group(2)}")
            elif not line.lstrip().startswith("#"):
                out.append(line)
    return "\n".join(out)


def build_probe() -> str | None:
    """Build the eBPF probe skeleton; the reason when it cannot be built."""
    if os.environ.get("FALCOLITE_NO_LIVE") == "1":
        return "FALCOLITE_NO_LIVE=1"
    script = os.path.join(HERE, "bpf", "build_probe.sh")
    r = subprocess.run([script, PROBE_OUT], capture_output=True, text=True, check=False)
    return None if r.returncode == 0 else (r.stderr.strip() or f"{script} failed")


def static_archives(names: list[str]) -> tuple[str, list[str]]:
    """FALCOLITE_STATIC_DEPS's include directory and archives lib<name>.a, in
    link order; the build stops when one is missing."""
    deps = os.path.abspath(os.environ["FALCOLITE_STATIC_DEPS"])
    archives = [os.path.join(deps, "lib", f"lib{n}.a") for n in names]
    missing = [a for a in archives if not os.path.isfile(a)]
    if missing:
        raise SystemExit(f"falcolite: FALCOLITE_STATIC_DEPS={deps}: missing {', '.join(missing)}"
                         " (build them with build/static_deps.sh DIR)")
    return os.path.join(deps, "include"), archives


why_not = build_probe()
include_dirs = [os.path.relpath(HERE)]
libraries = ["z"]
define_macros: list[tuple[str, str]] = []
if why_not is None:
    SOURCES.append("live_reader.c")
    include_dirs.append(os.path.relpath(PROBE_OUT))
    libraries = ["bpf", "elf", "z"]
    define_macros.append(("FL_HAVE_LIVE", "1"))
else:
    print(f"falcolite: building without live capture: {why_not}", file=sys.stderr)
    SOURCES.append("live_stub.c")
extra_objects: list[str] = []
extra_link_args: list[str] = []
if os.environ.get("FALCOLITE_STATIC_DEPS") and why_not is None:
    # The same libraries, from the archives, compiled against their own
    # headers (found first).  --exclude-libs keeps their symbols out of the
    # extension's dynamic symbol table: calls bind to these copies, never to
    # a libbpf.so.1 that the process has loaded for something else.
    static_include, extra_objects = static_archives(["bpf", "elf"])
    include_dirs.insert(0, static_include)
    libraries = ["z"]
    extra_link_args = ["-Wl,--exclude-libs,ALL"]

ffibuilder = FFI()
ffibuilder.cdef(cdef_text())
ffibuilder.set_source(
    "falcolite._cdriver",
    "\n".join(f'#include "{h}"' for h in HEADERS),
    sources=[os.path.relpath(os.path.join(HERE, s)) for s in SOURCES],
    include_dirs=include_dirs,
    libraries=libraries,
    extra_objects=extra_objects,
    extra_link_args=extra_link_args,
    define_macros=define_macros,
    extra_compile_args=["-std=c11", "-O2", "-Wall", "-Wextra", "-Werror"],
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
