"""Comparing falcolite's field values with sysdig's, event by event."""

from __future__ import annotations

from pathlib import Path

from oracle import sysdig_records
from tracked import tracked

from falcolite.events.table import EVENT_MAX_2022
from falcolite.outputs.formatter import Formatter

SEP = "\x1f"


def our_values(path: Path, fields: list[str]) -> dict[int, list[str]]:
    """sysdig-numbered event -> rendering of each field (permissive)."""
    out: dict[int, list[str]] = {}
    with tracked(path) as (ctx, events):
        fmts = [Formatter("*%" + f, ctx) for f in fields]
        seq = 0
        for e in events:
            if e.type >= EVENT_MAX_2022:
                continue
            seq += 1
            out[seq] = [f.render(e) or "" for f in fmts]
    return out


def sysdig_values(path: Path, fields: list[str]) -> dict[int, list[str]]:
    fmt = SEP.join(["%evt.num", *("%" + f for f in fields)])
    out = {}
    for rec in sysdig_records(str(path), fmt):
        parts = rec.split(SEP)
        out[int(parts[0])] = parts[1:]
    return out


def compare_fields(path: Path, fields: list[str]) -> dict[str, list[str]]:
    """field -> descriptions of the events where the values differ."""
    ref = sysdig_values(path, fields)
    ours = our_values(path, fields)
    diffs: dict[str, list[str]] = {f: [] for f in fields}
    for num, vals in ref.items():
        mine = ours.get(num)
        if mine is None:
            diffs[fields[0]].append(f"#{num}: not read by falcolite")
            continue
        for f, a, b in zip(fields, vals, mine, strict=True):
            if a != b:
                diffs[f].append(f"#{num}: sysdig {a[:120]!r} ours {b[:120]!r}")
    return {f: d for f, d in diffs.items() if d}
