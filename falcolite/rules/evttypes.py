"""Event types of a rule (falco-compat.md 6.9) and the events Falco ignores
without -A (6.10)."""

from __future__ import annotations

from functools import cache

from ..events import table as t
from ..events.table import CODES_BY_NAME, EVENTS, SYSCALL_FLAGS, SYSCALL_NAMES
from ..filter.ast import BoolOp, Compare, Node, Not


class EventTypeError(Exception):
    pass


def known_names() -> frozenset[str]:
    return frozenset(CODES_BY_NAME) | frozenset(n for n in SYSCALL_NAMES if n)


def derive_event_types(ast: Node, condition: str) -> tuple[frozenset[str] | None, str | None]:
    """(event names, warning kind) of an expanded condition; None: all."""
    names: set[str] = set()
    state = {"not": False, "seen": False, "after_not": False}
    known = known_names()

    def visit(node: Node) -> None:
        if isinstance(node, Not):
            state["not"] = True
            visit(node.item)
        elif isinstance(node, BoolOp):
            for x in node.items:
                visit(x)
        elif isinstance(node, Compare):
            if node.op == "!=":
                state["not"] = True
            if node.field == "evt.type":
                state["seen"] = True
                if state["not"]:
                    state["after_not"] = True
                values = [node.value] if node.value is not None else list(node.values)
                for v in values:
                    if v.kind != "bare":
                        continue  # quoted values do not index [quirk]
                    if v.text not in known:
                        raise EventTypeError(f'Unknown event/syscall "{v.text}" in filter')
                    names.add(v.text)

    visit(ast)
    if not state["seen"]:
        return None, "no-evttype"
    if state["after_not"]:
        return None, "trailing-evttype"
    if not names:
        return None, None
    return frozenset(names), None


@cache
def ignored_names(kind: str) -> frozenset[str]:
    """Events ("event") or syscalls ("syscall") Falco drops unless -A."""
    if kind == "event":
        return frozenset(e.name for e in EVENTS[:t.EVENT_MAX_2022]
                         if e.flags & t.EF_DROP_SIMPLE_CONS)
    return frozenset(n for n, f in zip(SYSCALL_NAMES, SYSCALL_FLAGS, strict=True)
                     if f & t.EF_DROP_SIMPLE_CONS and n)


@cache
def codes_for(name: str) -> tuple[frozenset[int], frozenset[int]]:
    """(event codes, PPM_SC syscall codes for generic events) of a name."""
    codes = frozenset(CODES_BY_NAME.get(name, ()))
    scs = frozenset(i for i, n in enumerate(SYSCALL_NAMES) if n == name)
    return codes, scs
