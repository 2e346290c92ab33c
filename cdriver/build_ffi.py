"""cffi (API mode) build of falcolite._cdriver from the C sources here."""

from __future__ import annotations

import os
import re

from cffi import FFI

HERE = os.path.dirname(os.path.abspath(__file__))
HEADERS = ["scap_reader.h"]
SOURCES = ["scap_reader.c"]


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


ffibuilder = FFI()
ffibuilder.cdef(cdef_text())
ffibuilder.set_source(
    "falcolite._cdriver",
    "\n".join(f'#include "{h}"' for h in HEADERS),
    sources=[os.path.relpath(os.path.join(HERE, s)) for s in SOURCES],
    include_dirs=[os.path.relpath(HERE)],
    libraries=["z"],
    extra_compile_args=["-std=c11", "-O2", "-Wall", "-Wextra", "-Werror"],
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
