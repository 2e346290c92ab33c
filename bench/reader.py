"""Reader benchmark: events per second of the C reader alone, of Python
touching every event's type, and of `sysdig -r` with a filter that matches
nothing, on the same capture of at least 2 million events; rates are also
given as ratios to sysdig's.  One run each.

    python bench/reader.py [--events N] [--keep FILE]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from capture import bench_capture
from falcolite._cdriver import ffi, lib

from falcolite.events.table import EVENT_MAX, reader_arrays
from falcolite.sources.trace import TraceSource


def c_reader(path: Path) -> int:
    """Walk every batch in C; Python only loops over batches."""
    err = ffi.new("char[]", lib.FL_ERRLEN)
    out = ffi.new("fl_reader **")
    nparams, large = reader_arrays()
    if lib.fl_open(str(path).encode(), nparams, large, EVENT_MAX, out, err) != lib.FL_OK:
        raise SystemExit(ffi.string(err).decode())
    b = ffi.new("fl_batch *")
    n = 0
    while lib.fl_next_batch(out[0], 8192, b, err) == lib.FL_OK:
        n += b.count
    lib.fl_close(out[0])
    return n


def python_types(path: Path) -> int:
    """Python sees every event's type (a per-type histogram)."""
    hist = [0] * EVENT_MAX
    with TraceSource(str(path), batch_size=8192) as src:
        for batch in src.batches():
            for t in batch.types:
                hist[t] += 1
    return sum(hist)


def sysdig(path: Path) -> int:
    exe = shutil.which("sysdig")
    if exe is None:
        raise SystemExit("sysdig is not installed")
    subprocess.run([exe, "-r", str(path), "evt.cpu=1000"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return 0


def timed(fn, path: Path) -> float:
    t0 = time.perf_counter()
    fn(path)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--events", type=int, default=2_000_000)
    ap.add_argument("--keep", help="write the capture here and keep it")
    args = ap.parse_args()
    tmp = tempfile.TemporaryDirectory()
    path = bench_capture(args.keep, args.events, Path(tmp.name))
    n = c_reader(path)
    rows = [("C reader alone", timed(c_reader, path)),
            ("Python touching each event's type", timed(python_types, path)),
            ("sysdig -r FILE evt.cpu=1000", timed(sysdig, path))]
    ref = n / rows[-1][1]
    print(f"{'what':40} {'events/s':>12} {'x sysdig':>9}")
    for name, secs in rows:
        rate = n / secs
        print(f"{name:40} {rate:12,.0f} {rate / ref:9.2f}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
