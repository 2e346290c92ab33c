"""Comparing the events a condition matches in falcolite and in sysdig."""

from __future__ import annotations

from pathlib import Path

from oracle import sysdig_records
from tracked import tracked

from falcolite.events.table import EVENT_MAX_2022
from falcolite.filter import parse
from falcolite.filter.compiler import compile_filter


def our_matches(path: Path, conditions: list[str]) -> list[list[int]]:
    """For each condition, the sysdig-numbered events it matches."""
    with tracked(path) as (ctx, events):
        preds = [compile_filter(parse(c), ctx) for c in conditions]
        out: list[list[int]] = [[] for _ in conditions]
        seq = 0
        for e in events:
            if e.type >= EVENT_MAX_2022:
                continue
            seq += 1
            for i, p in enumerate(preds):
                if p(e):
                    out[i].append(seq)
    return out


def sysdig_matches(path: Path, condition: str) -> list[int]:
    # without -D: with it sysdig prints its internal events whatever the filter
    return [int(x) for x in sysdig_records(str(path), "%evt.num", condition, internal=False)]


def shown_by_sysdig(path: Path) -> set[int]:
    """The events sysdig prints at all without -D (internal ones are hidden)."""
    return {int(x) for x in sysdig_records(str(path), "%evt.num", internal=False)}
