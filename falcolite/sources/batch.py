"""A batch of events from either source (capture file or live), copied out
of the C reader's buffers so that it outlives the next read."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import repeat

from .._cdriver import ffi
from ..events.event import Event


@dataclass(slots=True)
class Batch:
    """One batch of events; `buf` is a private copy, so the batch (and the
    Events made from it) stay valid after the next read."""

    buf: bytes
    section: int
    offsets: Sequence[int]
    types: Sequence[int]
    cpus: Sequence[int]
    dump_flags: Sequence[int]
    nums: Sequence[int]
    ts: Sequence[int]
    tids: Sequence[int]

    def __len__(self) -> int:
        return len(self.types)

    def events(self) -> Iterator[Event]:
        # map() makes the Events in C: no Python frame per event
        return map(Event, repeat(self.buf, len(self.types)), self.offsets, self.nums, self.ts,
                   self.tids, self.types, self.cpus, self.dump_flags)


def _view(arr, n: int, size: int, code: str) -> memoryview:
    return memoryview(ffi.buffer(arr, n * size)[:]).cast(code)




def batch_from(b) -> Batch:
    """One copy per array: ints are only made when Python looks at them."""
    n = b.count
    return Batch(
        ffi.buffer(b.buf, b.size)[:], b.section,
        _view(b.offsets, n, 4, "I"), _view(b.types, n, 2, "H"), _view(b.cpus, n, 2, "H"),
        _view(b.dump_flags, n, 4, "I"), _view(b.nums, n, 8, "Q"), _view(b.ts, n, 8, "Q"),
        _view(b.tids, n, 8, "Q"),
    )
