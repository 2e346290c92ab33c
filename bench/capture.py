"""The benchmark capture: events of the reference captures repeated, with
rising timestamps, until the wanted count (written with falcolite's own scap
writer).  Shared by the benchmarks in this folder."""

from __future__ import annotations

import os
import struct
import time
from pathlib import Path

from falcolite.events.writer import ScapWriter, block, event_body
from falcolite.sources.trace import TraceSource

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("FALCOLITE_SHARED", ROOT.parent / "shared"))
DEFAULT_SOURCES = ("cat_write.scap", "curl_google.scap", "open-multiple-files.scap",
                   "single_ipv6_conn.scap", "syscall.scap")


def make_capture(path: Path, n_events: int, sources: tuple[str, ...] = DEFAULT_SOURCES,
                 compress: bool = False) -> int:
    """Write `n_events` events (at least) to `path`; returns the count."""
    templates: list[tuple[int, bytes]] = []
    meta = None
    for name in sources:
        with TraceSource(str(SHARED / "traces" / name)) as src:
            if meta is None:
                meta = src.meta
            for batch in src.batches():
                for e in batch.events():
                    templates.append((e.cpu, batch.buf[e.off:e.off + e.length]))
    if not templates:
        raise SystemExit(f"no events found under {SHARED / 'traces'}")
    ts = 1_700_000_000_000_000_000
    written = 0
    with ScapWriter(str(path), compress=compress) as w:
        w.write_header(meta)
        out = w._out
        chunk = []
        while written < n_events:
            for cpu, ev in templates:
                ts += 997
                ev = struct.pack("<Q", ts) + ev[8:]
                chunk.append(block(0x216, event_body(cpu, ev, None, False)))
                written += 1
                if len(chunk) >= 10000:
                    out.write(b"".join(chunk))
                    chunk.clear()
                if written >= n_events:
                    break
        out.write(b"".join(chunk))
    return written


def bench_capture(keep: str | None, n_events: int, tmp: Path) -> Path:
    """The capture a benchmark runs on: `keep` when it exists already, else
    written there (or into `tmp`), saying how big it is."""
    path = Path(keep).resolve() if keep else tmp / "bench.scap"
    if not path.exists():
        t0 = time.perf_counter()
        n = make_capture(path, n_events)
        print(f"capture: {n} events, {path.stat().st_size / 1e6:.0f} MB, "
              f"written in {time.perf_counter() - t0:.1f} s")
    return path
