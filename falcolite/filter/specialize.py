"""Conditions specialized to one event type.

The ruleset already knows an event's type when it picks the rules to run,
so the comparisons that depend on nothing else (`evt.type`, `evt.dir`) are
folded to constants per type: the rule then skips re-testing them, and a
rule whose condition cannot hold for the type drops out of that type's list.
"""

from __future__ import annotations

from ..events.table import EVENTS, GENERIC_E, GENERIC_X
from .ast import BoolOp, Compare, Node, Not

_FOLDABLE_OPS = frozenset(("=", "!=", "in"))


def specialize(node: Node, code: int) -> Node | bool:
    """`node` with the type-only comparisons decided for events of type
    `code`: True or False when the whole condition is decided."""
    if isinstance(node, BoolOp):
        absorbing = node.op == "or"  # True decides an `or`, False an `and`
        items = []
        for item in node.items:
            s = specialize(item, code)
            if s is absorbing:
                return absorbing
            if s is not (not absorbing):
                items.append(s)
        if not items:
            return not absorbing
        if len(items) == 1:
            return items[0]
        return BoolOp(node.op, tuple(items), node.pos)
    if isinstance(node, Not):
        s = specialize(node.item, code)
        return (not s) if isinstance(s, bool) else Not(s, node.pos)
    if isinstance(node, Compare):
        known = _type_only_value(node, code)
        if known is None or node.op not in _FOLDABLE_OPS:
            return node
        values = {v.text for v in ((node.value,) if node.value is not None else node.values)}
        if node.op == "!=":
            return known not in values
        return known in values
    return node


def _type_only_value(c: Compare, code: int) -> str | None:
    """The value of the compared field for every event of type `code`, when
    the type alone decides it."""
    if c.arg is not None:
        return None
    if c.field == "evt.dir":
        return "<" if code & 1 else ">"
    if c.field == "evt.type" and code not in (GENERIC_E, GENERIC_X):
        return EVENTS[code].name  # generic events take their syscall's name
    return None
