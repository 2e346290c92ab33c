"""Token buckets: the alert rate limit (3.6) and the drop-action limit (3.7)."""

from __future__ import annotations

import time
from collections.abc import Callable


class TokenBucket:
    """Starts full with `max_burst` tokens and gains `rate` per second of the
    given clock, capped at `max_burst`."""

    def __init__(self, rate: float, max_burst: float, now: float | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.max_burst = max_burst
        self.tokens = max_burst
        self.clock = clock
        self.last = clock() if now is None else now

    def claim(self, now: float | None = None) -> bool:
        t = self.clock() if now is None else now
        if t > self.last:
            self.tokens = min(self.max_burst, self.tokens + (t - self.last) * self.rate)
        self.last = t
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False
