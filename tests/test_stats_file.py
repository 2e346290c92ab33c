"""The stats file (-s, --stats_interval; falco-compat.md 8.5) during a slow
20-second replay: entries appear at the configured period, also while the
agent waits for events, and each line has the documented shape.  The runs
for each interval go in parallel."""

from __future__ import annotations

import itertools
import json
import math
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from live_replay import (
    CAT_TID,
    MS,
    T0,
    Feeder,
    Proc,
    alert_lines,
    base_env,
    open_events,
    write_capture,
    write_config,
)

N_OPENS = 100  # 200 event blocks
DELAY = 0.1  # seconds per block: a 20-second replay
TOLERANCE = 0.2

LINE = re.compile(
    r'^\{"sample": (?P<sample>\d+), (?P<extra>(?:"[^"]+": "[^"]*", )*)'
    r'"cur": \{"events": (?P<ce>\d+), "drops": (?P<cd>\d+), "preemptions": (?P<cp>\d+)\}, '
    r'"delta": \{"events": (?P<de>\d+), "drops": (?P<dd>\d+), "preemptions": (?P<dp>\d+)\}, '
    r'"drop_pct": (?P<pct>\d+(?:\.\d+)?(?:e[-+]\d+)?)\},$')

RULES = """\
- rule: open seen
  desc: every successful open
  condition: evt.type=open and evt.dir=<
  output: "open seen (file=%fd.name)"
  priority: WARNING
"""


@dataclass
class StatsRun:
    name: str
    interval_ms: int | None  # None: the default, 5000
    extra: dict[str, str] = field(default_factory=dict)
    path: Path | None = None
    proc: Proc | None = None
    feeder: Feeder | None = None
    seen: list[tuple[float, int]] = field(default_factory=list)  # (when, line count)
    ended: float | None = None

    @property
    def period(self) -> float:
        return (self.interval_ms or 5000) / 1000


def test_stats_file_periods(tmp_path: Path) -> None:
    events = []
    for i in range(N_OPENS):
        events += open_events(CAT_TID, T0 + i * 100 * MS, f"/tmp/data/f{i:03d}")
    capture = tmp_path / "slow.scap"
    write_capture(capture, events)
    (tmp_path / "rules.yaml").write_text(RULES)
    conf = write_config(tmp_path / "c.yaml", {"stdout_output": {"enabled": True}})
    runs = [StatsRun("200", 200), StatsRun("1000", 1000, {"NODE": "node-1"}),
            StatsRun("5000", 5000), StatsRun("default", None)]
    try:
        for r in runs:
            r.path = tmp_path / f"stats-{r.name}.txt"
            env = base_env(tmp_path)
            env.update({f"FALCO_STATS_EXTRA_{k}": v for k, v in r.extra.items()})
            fifo = tmp_path / f"fifo-{r.name}"
            r.feeder = Feeder(fifo, capture, DELAY)
            args = ["-c", str(conf), "-r", str(tmp_path / "rules.yaml"), "-e", str(fifo),
                    "-s", str(r.path)]
            if r.interval_ms is not None:
                args += ["--stats_interval", str(r.interval_ms)]
            r.proc = Proc(args, env, tmp_path)
            r.feeder.start()
        deadline = time.monotonic() + 60
        while any(r.ended is None for r in runs) and time.monotonic() < deadline:
            now = time.monotonic()
            for r in runs:
                if r.ended is not None:
                    continue
                n = len(r.path.read_text().splitlines()) if r.path.exists() else 0
                if n != (r.seen[-1][1] if r.seen else 0):
                    r.seen.append((now, n))
                if r.proc.p.poll() is not None:
                    r.ended = now
            time.sleep(0.005)
        rcs = [r.proc.wait(10) for r in runs]
    finally:
        for r in runs:
            if r.feeder is not None:
                r.feeder.abort()
            if r.proc is not None:
                r.proc.kill()
    for r, rc in zip(runs, rcs, strict=True):
        assert rc == 0, (r.name, r.proc.stderr)
        assert len(alert_lines(r.proc.stdout)) == N_OPENS
        check_lines(r)
        check_period(r)


def check_lines(r: StatsRun) -> None:
    assert r.path is not None
    text = r.path.read_text()
    assert text.endswith("},\n"), text[-80:]
    prev = (0, 0, 0)
    for i, line in enumerate(text.splitlines(), 1):
        m = LINE.match(line)
        assert m, line
        assert int(m["sample"]) == i, line
        extra = json.loads("{" + m["extra"].rstrip(", ") + "}") if m["extra"] else {}
        assert extra == r.extra, line
        cur = (int(m["ce"]), int(m["cd"]), int(m["cp"]))
        delta = (int(m["de"]), int(m["dd"]), int(m["dp"]))
        assert delta == tuple(c - p for c, p in zip(cur, prev, strict=True)), line
        pct = float(m["pct"])
        assert pct == (100 * delta[1] / delta[0] if delta[0] else 0), line
        assert cur[1:] == (0, 0), line  # a capture file drops nothing
        prev = cur
        # the whole line is also a JSON object once the trailing comma goes
        obj = json.loads(line[:-1])
        assert list(obj) == ["sample", *r.extra, "cur", "delta", "drop_pct"], line


def check_period(r: StatsRun) -> None:
    assert r.feeder is not None and r.feeder.opened_at is not None and r.ended is not None
    period = r.period
    wall = r.ended - r.feeder.opened_at  # the stats timer runs from the open to the end
    n = r.seen[-1][1] if r.seen else 0
    lo, hi = math.floor(wall * (1 - TOLERANCE) / period), math.ceil(wall * (1 + TOLERANCE) /
                                                                     period)
    assert lo <= n <= hi, f"{r.name}: {n} lines in {wall:.2f} s (period {period} s)"
    assert all(b[1] - a[1] == 1 for a, b in itertools.pairwise(r.seen)) \
        and r.seen[0][1] == 1, f"{r.name}: lines came in bursts: {r.seen}"
    times = [r.feeder.opened_at] + [t for t, _ in r.seen]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    mean = (times[-1] - times[1]) / (len(times) - 2) if len(times) > 2 else gaps[0]
    assert abs(mean - period) <= TOLERANCE * period, f"{r.name}: mean spacing {mean:.3f} s"
    print(f"{r.name}: {n} lines in {wall:.2f} s, mean spacing {mean:.3f} s, "
          f"gaps {min(gaps):.3f}..{max(gaps):.3f} s")
    for g in gaps:
        assert abs(g - period) <= TOLERANCE * period + 0.02, \
            f"{r.name}: spacing {g:.3f} s, all {[round(x, 3) for x in gaps]}"
