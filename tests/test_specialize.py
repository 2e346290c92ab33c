"""Per-type specialization of conditions (falcolite/filter/specialize.py):
the folding rules, and on every capture and every condition of the corpus,
the specialized predicate a rule runs with agrees with the general one on
every event."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from conftest import all_traces
from test_filters_vs_sysdig import load_corpus
from tracked import tracked

from falcolite.events.table import CODES_BY_NAME, GENERIC_E, GENERIC_X
from falcolite.filter import parse
from falcolite.filter.fields import FieldContext
from falcolite.filter.specialize import specialize
from falcolite.rules.loader import RulesLoader

OPEN_E, OPEN_X = sorted(CODES_BY_NAME["open"])[:2]
READ_X = sorted(CODES_BY_NAME["read"])[1]


@pytest.mark.parametrize(("condition", "code", "expected"), [
    ("evt.type=open and evt.dir=<", OPEN_X, True),
    ("evt.type=open and evt.dir=<", OPEN_E, False),
    ("evt.type=open and evt.dir=<", READ_X, False),
    ("evt.type in (open, read) and evt.dir!=>", READ_X, True),
    ("not evt.type=open", OPEN_X, False),
    ("evt.type=open or proc.name=cat", OPEN_X, True),
    ("evt.type=open or proc.name=cat", READ_X, "proc.name=cat"),
    ("evt.type=open and proc.name=cat", OPEN_X, "proc.name=cat"),
    ("evt.type=open and not (evt.dir=> or proc.name=cat)", OPEN_X, "not proc.name=cat"),
    ("evt.type!=open and proc.name=cat and fd.num>2", READ_X,
     "proc.name=cat and fd.num>2"),
    # generic events are named by their syscall ID, not by their type
    ("evt.type=open and evt.dir=<", GENERIC_X, "evt.type=open"),
    ("evt.type=open and evt.dir=<", GENERIC_E, False),
    # only whole-value comparisons fold
    ("evt.type startswith op", OPEN_X, "evt.type startswith op"),
    ("evt.type exists", OPEN_X, "evt.type exists"),
])
def test_folding(condition: str, code: int, expected: bool | str) -> None:
    got = specialize(parse(condition), code)
    if isinstance(expected, bool):
        assert got is expected
    else:
        assert got == parse(expected)


def _corpus_rules(ctx: FieldContext) -> list:
    loader = RulesLoader(ctx, all_events=True)
    loader.load_text(yaml.safe_dump([
        {"rule": f"c{i}", "desc": "d", "condition": c, "output": "o", "priority": "INFO"}
        for i, c in enumerate(load_corpus())]))
    return loader.compiled


@pytest.mark.parametrize("path", all_traces(live=True))
def test_specialized_predicates_agree(path: Path) -> None:
    with tracked(path) as (ctx, events):
        rules = _corpus_rules(ctx)
        assert len(rules) == len(load_corpus())
        by_type: dict[int, list] = {}
        disagree: list[str] = []
        checked = 0
        for e in events:
            preds = by_type.get(e.type)
            if preds is None:
                preds = by_type[e.type] = [r.for_type(e.type) for r in rules]
            for r, p in zip(rules, preds, strict=True):
                want = bool(r.predicate(e))
                got = bool(p(e)) if p is not None else False
                checked += 1
                if got != want and len(disagree) < 10:
                    disagree.append(f"event {e.num} {e!r}: {r.expanded!r} {want} -> {got}")
        assert checked > 0
        assert not disagree, "\n".join(disagree)
