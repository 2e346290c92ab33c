"""The project's live captures (traces/live/, written by `falcolite -w` with
the probe attached; traces/make_live.py) replay to their scenario's alerts,
and to nothing else; sysdig reads them."""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path

import pytest
from oracle import require_sysdig

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("make_live", ROOT / "traces" / "make_live.py")
make_live = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_live)  # type: ignore[union-attr]
SCENARIOS = make_live.SCENARIOS


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_replays_to_the_scenario_alerts(name: str) -> None:
    _, expected = SCENARIOS[name]
    path = ROOT / "traces" / "live" / f"{name}.scap"
    assert make_live.alert_problems(path, expected) == []


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_sysdig_reads_it(name: str) -> None:
    exe = require_sysdig()
    path = ROOT / "traces" / "live" / f"{name}.scap"
    proc = subprocess.run([exe, "-r", str(path)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout.splitlines()) > 10


def test_readme_demo_is_the_live_demo_capture() -> None:
    """`make demo` replays traces/live/demo.scap, and README counts its alerts right."""
    make = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "DEMO_CAPTURE := traces/live/demo.scap\n" in make
    words = {4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight"}
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"`make demo` prints {words[len(SCENARIOS['demo'][1])]} JSON alerts" in readme
