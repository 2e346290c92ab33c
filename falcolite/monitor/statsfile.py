"""The stats file (-s): every --stats_interval milliseconds a line with the
capture counters (falco-compat.md 8.5), written by a timer thread so that it
keeps its period while the main loop waits for events.  Any interval works
(Falco's own timer failed for intervals of a second or more)."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable

Counters = Callable[[], tuple[int, int, int]]  # events, drops, preemptions


class StatsWriter:
    def __init__(self, path: str, interval_ms: int, counters: Counters) -> None:
        self.path = path
        self.interval = interval_ms / 1000.0
        self.counters = counters
        self.extra = {k[len("FALCO_STATS_EXTRA_"):]: v for k, v in sorted(os.environ.items())
                      if k.startswith("FALCO_STATS_EXTRA_")}
        self.sample = 0
        self.prev = (0, 0, 0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="stats-file", daemon=True)
        self.f = open(path, "a", encoding="utf-8")

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        # sleep until absolute deadlines: the period does not drift
        deadline = _now() + self.interval
        while not self._stop.wait(max(0.0, deadline - _now())):
            self.write_sample()
            deadline += self.interval

    def write_sample(self) -> None:
        cur = self.counters()
        delta = tuple(c - p for c, p in zip(cur, self.prev, strict=True))
        self.prev = cur
        self.sample += 1
        pct = 100.0 * delta[1] / delta[0] if delta[0] else 0
        extra = "".join(f'"{k}": "{v}", ' for k, v in self.extra.items())
        self.f.write(
            f'{{"sample": {self.sample}, {extra}"cur": {{"events": {cur[0]}, '
            f'"drops": {cur[1]}, "preemptions": {cur[2]}}}, "delta": {{"events": {delta[0]}, '
            f'"drops": {delta[1]}, "preemptions": {delta[2]}}}, "drop_pct": {pct:g}}},\n')
        self.f.flush()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        self.f.close()


def _now() -> float:
    return time.monotonic()
