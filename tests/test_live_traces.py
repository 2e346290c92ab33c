"""The project's live captures (traces/live/, written by `falcolite -w` with
the probe attached; traces/make_live.py) replay to their scenario's alert,
and sysdig reads them."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
from oracle import require_sysdig

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("make_live", ROOT / "traces" / "make_live.py")
make_live = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_live)  # type: ignore[union-attr]
SCENARIOS = make_live.SCENARIOS


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_replays_to_the_scenario_alert(name: str) -> None:
    _, rule, fields = SCENARIOS[name]
    path = ROOT / "traces" / "live" / f"{name}.scap"
    proc = subprocess.run([sys.executable, "-m", "falcolite", "-e", str(path),
                           "-o", "json_output=true"], capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    alerts = [json.loads(ln) for ln in proc.stdout.splitlines() if ln.startswith("{")]
    hits = [a for a in alerts if a["rule"] == rule
            and all(a["output_fields"].get(k) == v for k, v in fields.items())]
    assert len(hits) == 1, [a["output"] for a in alerts]


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_sysdig_reads_it(name: str) -> None:
    exe = require_sysdig()
    path = ROOT / "traces" / "live" / f"{name}.scap"
    proc = subprocess.run([exe, "-r", str(path)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout.splitlines()) > 10
