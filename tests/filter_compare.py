"""Comparing the events a condition matches in falcolite and in sysdig."""

from __future__ import annotations

from pathlib import Path

from oracle import sysdig_records

from falcolite.events.table import EVENT_MAX_2022
from falcolite.filter import parse
from falcolite.filter.compiler import compile_filter
from falcolite.filter.fields import FieldContext
from falcolite.sources.trace import TraceSource
from falcolite.state.tracker import StateTracker


def our_matches(path: Path, conditions: list[str]) -> list[list[int]]:
    """For each condition, the sysdig-numbered events it matches."""
    with TraceSource(str(path)) as src:
        st = StateTracker(src.meta)
        ctx = FieldContext(st, hostname="falcolite-test")
        preds = [compile_filter(parse(c), ctx) for c in conditions]
        out: list[list[int]] = [[] for _ in conditions]
        seq = 0
        section = src.section
        for e in src.events():
            if src.section != section:
                section = src.section
                st.load(src.meta)
            st.process(e)
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
