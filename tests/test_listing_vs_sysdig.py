"""The event listing of the CLI, line for line against
`sysdig -D -r T -p '*%evt.num %evt.time %evt.cpu %proc.name %thread.tid %evt.dir
%evt.type %evt.args'`."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from conftest import ROOT, all_traces
from oracle import MARK, sysdig_records

from falcolite.cli import LIST_EVENTS_FORMAT
from falcolite.events.table import EVENT_MAX_2022, EVENTS
from falcolite.sources.trace import TraceSource

# sysdig hides container events (it consumes them) and does not know the
# event types added after 2022: both are left out of the comparison
HIDDEN = frozenset(c for c in (228, 272, 324))


@pytest.mark.parametrize("trace", all_traces())
def test_listing_matches_sysdig(trace) -> None:
    env = dict(os.environ, TZ="UTC")
    # each record starts with a marker: container JSON holds newlines
    fmt = "*" + MARK + LIST_EVENTS_FORMAT[1:]
    proc = subprocess.run([sys.executable, "-m", "falcolite", "-e", str(trace),
                           f"--list-events={fmt}"], capture_output=True, cwd=ROOT, env=env,
                          timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    ours = [r[:-1] for r in proc.stdout.decode("utf-8", "surrogateescape").split(MARK)[1:]]
    with TraceSource(str(trace)) as src:
        kinds = [e.type for e in src.events()]
    keep = [i for i, ty in enumerate(kinds) if ty < EVENT_MAX_2022 and ty not in HIDDEN]
    ref = sysdig_records(str(trace), LIST_EVENTS_FORMAT[1:], extra=())
    mine = [ours[i] for i in keep]
    assert len(mine) == len(ref)
    for a, b in zip(mine, ref, strict=True):
        assert a == b, f"\nours:   {a[:300]}\nsysdig: {b[:300]}"
    assert all(EVENTS[k].name for k in kinds)
