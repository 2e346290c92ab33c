"""The syscall event drop monitor (falco-compat.md 3.7): once per second of
event time, compare the capture's drop counter with the previous check and,
when events were lost, take the configured actions, limited by a token
bucket."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from ..outputs.alerts import Alert, internal_alert
from ..outputs.ratelimit import TokenBucket

ORDER = ("ignore", "log", "alert", "exit")
RULE = "Falco internal: syscall event drop"
SECOND = 1_000_000_000


@dataclass(frozen=True, slots=True)
class DropCounters:
    """Capture counters, cumulative: events the driver saw and lost (split
    into a full ring buffer and records too large to send)."""

    n_evts: int = 0
    n_drops_buffer: int = 0
    n_drops_size: int = 0

    @property
    def n_drops(self) -> int:
        return self.n_drops_buffer + self.n_drops_size


NO_COUNTERS = DropCounters()  # capture files: the counters are always 0


class DropMonitor:
    """`check(ts, counters)` for every event, `counters` read only when a
    check is due; True means: stop now (the exit action).  `live` adds the
    drop split to the alert's fields."""

    def __init__(self, actions: list[str], rate: float, max_burst: float, simulate: bool,
                 log, emit: Callable[[Alert], None], json_output: bool,
                 live: bool = False) -> None:
        self.actions = [a for a in ORDER if a in set(actions)]  # a set, in Falco's order
        self.simulate = simulate
        self.log = log
        self.emit = emit
        self.json_output = json_output
        # refills in event time, first reference point wall-clock time [quirk]
        self.bucket = TokenBucket(rate, max_burst, now=time.time())
        self.next_check: int | None = None
        self.live = live
        self.prev = NO_COUNTERS
        self.occurrences = 0
        self.actions_taken = 0

    @property
    def active(self) -> bool:
        """Whether checks can ever act (files only drop with simulate_drops)."""
        return self.simulate or self.actions != ["ignore"]

    def check(self, ts: int, counters: Callable[[], DropCounters] | None = None) -> bool:
        if self.next_check is None:
            self.next_check = ts + SECOND
            return False
        if ts <= self.next_check:
            return False
        self.next_check = ts + SECOND
        cur = counters() if counters is not None else NO_COUNTERS
        prev, self.prev = self.prev, cur
        delta_evts = cur.n_evts - prev.n_evts
        delta_drops = cur.n_drops - prev.n_drops
        split = {"n_drops_buffer": str(cur.n_drops_buffer - prev.n_drops_buffer),
                 "n_drops_size": str(cur.n_drops_size - prev.n_drops_size)}
        if self.simulate:
            self.log.info("Simulating syscall event drop")
            delta_drops += 1
        if delta_drops <= 0:
            return False
        self.occurrences += 1
        if not self.bucket.claim(ts / SECOND):
            self.log.debug("Syscall event drop but token bucket depleted, skipping actions")
            return False
        self.actions_taken += 1
        msg = (f"Falco internal: syscall event drop. {delta_drops} system calls dropped in "
               "last second.")
        for action in self.actions:
            if action == "log":
                self.log.error(msg)
            elif action == "alert":
                self.emit(self.internal_alert(ts, msg, delta_drops, delta_evts,
                                              split if self.live else {}))
            elif action == "exit":
                self.log.critical(msg)
                self.log.critical("Exiting.")
                return True
        return False

    def internal_alert(self, ts: int, msg: str, n_drops: int, n_evts: int,
                       extra: dict[str, str]) -> Alert:
        """Critical, not rate limited, not counted in the summary."""
        fields = {"n_drops": str(n_drops), "n_evts": str(n_evts), **extra}
        return internal_alert(RULE, 2, ts, msg, fields, self.json_output)
