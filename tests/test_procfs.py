"""The live source's initial state read from /proc: every string fits the
limits libscap enforces, so a -w capture of any host stays readable."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from falcolite.events.records import MAX_LIST_LEN, MAX_PATH_LEN, CaptureMeta, ThreadRecord
from falcolite.events.table import CODES_BY_NAME
from falcolite.events.writer import ScapWriter
from falcolite.sources.procfs import read_host
from falcolite.sources.trace import TraceSource

LONG_ARG = "a" * 3000  # four of them: args and env past 4096 bytes, as on a CI host


@pytest.fixture(scope="module")
def host() -> Iterator[tuple[int, CaptureMeta]]:
    """A process with an over-long command line and environment, then /proc read."""
    child = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdin.read()", *[LONG_ARG] * 4],
        stdin=subprocess.PIPE, env={"BIG": LONG_ARG * 2, "SMALL": "1"})
    try:
        yield child.pid, read_host()
    finally:
        child.communicate(b"")


def child_thread(host: tuple[int, CaptureMeta]) -> ThreadRecord:
    pid, meta = host
    return next(t for t in meta.threads if t.tid == pid)


def test_long_command_line_is_clipped_to_libscap_limits(host: tuple) -> None:
    th = child_thread(host)
    assert len(th.args) == MAX_LIST_LEN and th.args.endswith(b"\0")
    # whole arguments up to the cut, then the start of the one it fell in
    kept = th.args.split(b"\0")
    assert kept[:3] == [b"-c", b"import sys; sys.stdin.read()", LONG_ARG.encode()]
    assert 0 < len(kept[3]) < len(LONG_ARG) and kept[4:] == [b""]
    assert len(th.env) <= MAX_LIST_LEN and th.env.endswith(b"\0")
    assert th.env.startswith(b"BIG=aaa") or th.env.startswith(b"SMALL=1\0")


def test_every_host_string_fits(host: tuple) -> None:
    _, meta = host
    assert len(meta.threads) > 1
    for th in meta.threads:
        for name in ("comm", "exe", "exepath", "cwd", "root"):
            assert len(getattr(th, name)) <= MAX_PATH_LEN, (th.tid, name)
        for name in ("args", "env", "cgroups"):
            value = getattr(th, name)
            assert len(value) <= MAX_LIST_LEN, (th.tid, name)
            assert not value or value.endswith(b"\0"), (th.tid, name)


def test_host_state_written_as_a_capture_reads_back(host: tuple, tmp_path: Path) -> None:
    """The header -w writes, then one event of the child: falcolite and
    sysdig both read it and know the child's command line."""
    pid, meta = host
    out = tmp_path / "host.scap"
    with ScapWriter(str(out)) as w:
        w.write_header(meta)
        w.write_values(CODES_BY_NAME["close"][0], 1, pid, [3])
    with TraceSource(str(out)) as src:
        assert child_thread((pid, src.meta)).args == child_thread(host).args
    if shutil.which("sysdig") is None:
        pytest.skip("sysdig is not installed")
    proc = subprocess.run(["sysdig", "-r", str(out), "-p", "%proc.pid %proc.args"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"{pid} -c import sys; sys.stdin.read() aaaa"), proc.stdout[:80]
