"""Comparing falcolite's decoding of a capture with sysdig's, event by event
and parameter by parameter."""

from __future__ import annotations

import re
from pathlib import Path

from oracle import sysdig_records

from falcolite.events import table as t
from falcolite.events.event import Event
from falcolite.events.params import render
from falcolite.events.table import EVENT_MAX_2022, EVENTS
from falcolite.sources.trace import TraceSource

HEADER_FMT = "%evt.num %evt.rawtime %evt.cpu %thread.tid %evt.dir %evt.type %evt.args"
CONTAINER_EVENTS = frozenset((228, 272, 324))

# sysdig appends state it tracks in parentheses: an fd's type and name, a
# pid's command, a uid's user name, the resolved form of a relative path.
# Those come with the state tracker; here only the value before them counts.
DECORATED = frozenset((t.PT_FD, t.PT_PID, t.PT_UID, t.PT_GID, t.PT_FSPATH, t.PT_FSRELPATH,
                       t.PT_DYN))
# For an empty parameter of any other type sysdig 0.29.3 reads the bytes that
# follow it in memory and prints them as the value: there is nothing to match.
EMPTY_COMPARABLE = frozenset((t.PT_BYTEBUF, t.PT_SOCKTUPLE))


def split_args(text: str, names: list[str]) -> list[str]:
    """sysdig's `name=value name=value` text cut at the known names."""
    vals: list[str] = []
    if not names:
        return vals
    if not text.startswith(names[0] + "="):
        return vals
    pos = len(names[0]) + 1
    for i in range(len(names)):
        if i + 1 < len(names):
            nxt = text.find(" " + names[i + 1] + "=", pos)
            if nxt < 0:
                vals.append(text[pos:])
                break
            vals.append(text[pos:nxt])
            pos = nxt + len(names[i + 1]) + 2
        else:
            vals.append(text[pos:])
    return vals


def param_matches(ptype: int, ours: str, ref: str) -> bool:
    if ours == ref:
        return True
    if ptype in DECORATED and ref.startswith(ours + "("):
        return True
    if ptype == t.PT_FDLIST:  # the fd's type character is state
        return re.sub(r":.", ":", ref) == re.sub(r":.", ":", ours)
    return False


def our_events(path: Path) -> list[Event]:
    with TraceSource(str(path)) as src:
        return [e for e in src.events() if e.type < EVENT_MAX_2022]


def compare(path: Path) -> tuple[int, int, list[str]]:
    """(events compared, parameters compared, mismatches)."""
    refs: dict[int, str] = {}
    for rec in sysdig_records(str(path), HEADER_FMT):
        num, rest = rec.split(" ", 1)
        refs[int(num)] = rest
    events = our_events(path)
    problems: list[str] = []
    n_params = 0
    # sysdig numbers only the types of its own (2022) table
    for seq, e in enumerate(events, 1):
        ref = refs.pop(seq, None)
        if ref is None:
            if e.type not in CONTAINER_EVENTS and not e.dump_flags & 1:
                problems.append(f"#{seq} {e.type_name()}: sysdig does not show it")
            continue
        ts, cpu, tid, d, typ, *rest = ref.split(" ", 5)
        args = rest[0] if rest else ""
        info = EVENTS[e.type]
        mine = (str(e.ts), str(e.cpu), str(e.tid), info.dir, e.type_name())
        if mine != (ts, cpu, tid, d, typ):
            problems.append(f"#{seq} header: sysdig {(ts, cpu, tid, d, typ)} ours {mine}")
            continue
        if e.type in (t.GENERIC_E, t.GENERIC_X):
            continue
        # sysdig 0.29.3 shows the parameters its own (2022) table knows: of
        # events in newer layouts (live captures), the leading ones
        params = info.params[:min(e.nparams, t.NPARAMS_2022[e.type])]
        if args.endswith(" "):
            args = args[:-1]
        vals = split_args(args, [p.name for p in params])
        if len(vals) != len(params):
            problems.append(f"#{seq} {typ}: sysdig shows {len(vals)} parameters, "
                            f"we have {len(params)}: {args[:200]!r}")
            continue
        for i, (p, ref_val) in enumerate(zip(params, vals, strict=True)):
            raw = e.raw(i)
            if not raw and p.type not in EMPTY_COMPARABLE:
                continue
            n_params += 1
            ours = render(p, raw)
            if not param_matches(p.type, ours, ref_val):
                problems.append(f"#{seq} {typ}{d} {p.name}: sysdig {ref_val[:150]!r} "
                                f"ours {ours[:150]!r}")
    for num in sorted(refs):
        problems.append(f"#{num}: shown by sysdig, not read by us: {refs[num][:100]!r}")
    return len(events), n_params, problems
