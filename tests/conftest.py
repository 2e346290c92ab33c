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

sys.path.insert(0, str(Path(__file__).resolve().parent))


def shared_traces() -> list[Path]:
    return SHARED_TRACES


def all_traces() -> list:
    """Every real capture: the shared reference ones and the project's own."""
    params = [pytest.param(p, id=f"shared/{p.name}") for p in SHARED_TRACES]
    params += [pytest.param(p, id=f"traces/{p.name}") for p in PROJECT_TRACES]
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
