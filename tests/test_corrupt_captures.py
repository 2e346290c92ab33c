"""Bad input: every reference capture cut at 200 evenly spaced offsets and
mutated by 1,000 seeded random byte flips ends, through the whole Python
path (reader, decoding and rendering of every parameter), either in valid
events or in a clean CaptureError naming a byte offset.  A sample goes
through the CLI, which must exit 1 with the message.

(The C reader alone runs the same mutations under ASan and UBSan:
`make ctest`.)"""

from __future__ import annotations

import gzip
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import all_traces

from falcolite.sources.trace import CaptureError, TraceSource

TRUNCATIONS = 200
FLIPS = 1000
SEED = 20261204


def plain_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data


def consume(path: Path) -> tuple[int, str | None]:
    """(events decoded, error message or None)."""
    n = 0
    try:
        with TraceSource(str(path)) as src:
            for e in src.events():
                e.type_name()
                e.args_text()
                n += 1
    except CaptureError as err:
        return n, str(err)
    return n, None


def mutations(data: bytes, seed: int) -> list[tuple[str, bytes]]:
    rng = random.Random(seed)
    out = []
    for i in range(TRUNCATIONS):
        cut = len(data) * i // TRUNCATIONS
        out.append((f"truncated at {cut}", data[:cut]))
    for i in range(FLIPS):
        buf = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            pos = rng.randrange(len(buf))
            buf[pos] = rng.randrange(256)
        out.append((f"flip #{i}", bytes(buf)))
    return out


@pytest.mark.parametrize("trace", all_traces(live=True))
def test_mutated_captures_fail_cleanly(trace: Path, tmp_path: Path) -> None:
    data = plain_bytes(trace)
    target = tmp_path / "m.scap"
    outcomes = {"ok": 0, "error": 0}
    for label, blob in mutations(data, SEED):
        target.write_bytes(blob)
        _n, err = consume(target)
        if err is None:
            outcomes["ok"] += 1
            continue
        outcomes["error"] += 1
        assert "offset" in err or "is empty" in err, f"{label}: {err}"
    # both outcomes occur: the mutations do reach the checks
    assert outcomes["ok"] > 0 and outcomes["error"] > 0, outcomes


@pytest.mark.parametrize("trace", all_traces(live=True))
def test_cli_reports_corruption_with_exit_code_1(trace: Path, tmp_path: Path) -> None:
    data = plain_bytes(trace)
    target = tmp_path / "m.scap"
    rng = random.Random(SEED)
    failures = 0
    for _ in range(12):
        blob = data[:rng.randrange(100, len(data) - 1)]
        target.write_bytes(blob)
        n, err = consume(target)
        proc = subprocess.run([sys.executable, "-m", "falcolite", "-e", str(target),
                               "--list-events"], capture_output=True, text=True, timeout=60,
                              check=False)
        if err is None:
            assert proc.returncode == 0, proc.stderr
            continue
        failures += 1
        assert proc.returncode == 1
        assert "offset" in proc.stderr and "Traceback" not in proc.stderr
        # the events before the damage are kept (values may hold newlines)
        nums = re.findall(r"^(\d+) \d\d:\d\d:\d\d\.\d{9} ", proc.stdout, re.M)
        assert [int(x) for x in nums][-1:] == ([n] if n else [])
    assert failures > 0
