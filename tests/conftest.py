"""Shared fixtures: where the reference captures live, crafted captures."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("FALCOLITE_SHARED", ROOT.parent / "shared"))
SHARED_TRACES = sorted((SHARED / "traces").glob("*.scap"))
PROJECT_TRACES = sorted((ROOT / "traces").glob("*.scap"))
# written by the probe (traces/make_live.py) in the current event layouts,
# which sysdig 0.29.3 knows only in part: it shows the parameters of its own
# table and drops newer event types, so only comparisons that allow for
# that (decoding) take them
LIVE_TRACES = sorted((ROOT / "traces" / "live").glob("*.scap"))

sys.path.insert(0, str(Path(__file__).resolve().parent))


def shared_traces() -> list[Path]:
    return SHARED_TRACES


def all_traces(live: bool = False) -> list:
    """Every real capture: the shared reference ones and the project's own
    (with `live`, also those the probe wrote)."""
    params = [pytest.param(p, id=f"shared/{p.name}") for p in SHARED_TRACES]
    mine = PROJECT_TRACES + (LIVE_TRACES if live else [])
    params += [pytest.param(p, id=str(p.relative_to(ROOT))) for p in mine]
    if not params:
        params = [pytest.param(None, marks=pytest.mark.skip(
            reason=f"no captures: {SHARED / 'traces'} is absent"))]
    return params


@pytest.fixture(scope="session")
def crafted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The crafted every-event captures, in each event-block version and gzip."""
    from crafted import write_crafted

    d = tmp_path_factory.mktemp("crafted")
    out = {}
    for name, ver, gz in (("v2", 2, False), ("v1", 1, False), ("v2.gz", 2, True)):
        p = d / f"crafted-{name}.scap"
        write_crafted(str(p), event_version=ver, compress=gz)
        out[name] = p
    return out
