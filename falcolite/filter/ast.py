"""AST of the condition language, a pre-order walker and a renderer.

`pos` (0-based offset where a node starts in the condition text) and
`Compare.field_text` are presentation only: they are excluded from equality,
so two parses of equivalent text compare equal.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TypeAlias

from .lexer import is_bare_field_arg, is_bare_value, is_number, quote


@dataclass(frozen=True, slots=True)
class Value:
    """A literal: kind is "number", "string" (quoted; text unescaped) or "bare"."""

    text: str
    kind: str
    pos: int = dataclasses.field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class BoolOp:
    """`and`/`or` over two or more items; a written chain `a and b and c` is
    one node, a parenthesized operand stays a nested node."""

    op: str
    items: tuple[Node, ...]
    pos: int = dataclasses.field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Not:
    item: Node
    pos: int = dataclasses.field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Compare:
    """`field[arg] op value`, `field op (values...)` or `field exists`.

    `field` has no bracket argument; a dotted argument (`evt.arg.flags`) is
    left in `field` for the field registry to split. `field_text` is the
    field as written; `pos` is where it starts.
    """

    field: str
    arg: str | None
    op: str
    value: Value | None = None
    values: tuple[Value, ...] = ()
    field_text: str = dataclasses.field(default="", compare=False)
    pos: int = dataclasses.field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class MacroRef:
    name: str
    pos: int = dataclasses.field(default=0, compare=False)


Node: TypeAlias = BoolOp | Not | Compare | MacroRef


def walk(node: Node) -> Iterator[Node]:
    """Nodes in pre-order: a node before its children, left before right
    (the traversal order of event-type derivation, 6.9). Values are not
    yielded; they belong to their Compare."""
    stack: list[Node] = [node]
    while stack:
        n = stack.pop()
        yield n
        if type(n) is BoolOp:
            stack.extend(reversed(n.items))
        elif type(n) is Not:
            stack.append(n.item)


def render_value(v: Value) -> str:
    # A bare value that would not read back as itself (possible only for
    # hand-built nodes) is quoted instead.
    if (v.kind == "number" and is_number(v.text)) or (v.kind == "bare" and is_bare_value(v.text)):
        return v.text
    return quote(v.text)


def render_field(c: Compare) -> str:
    if c.field_text:
        return c.field_text
    if c.arg is None:
        return c.field
    arg = c.arg if is_bare_field_arg(c.arg) else quote(c.arg)
    return f"{c.field}[{arg}]"


def render(node: Node) -> str:
    """Condition text for node, e.g. `a = b and (c or not d)`; parsing it
    gives an equal AST."""
    t = type(node)
    if t is Compare:
        head = render_field(node)
        if node.op == "exists":
            return f"{head} exists"
        if node.value is None:
            return f"{head} {node.op} ({', '.join(render_value(v) for v in node.values)})"
        return f"{head} {node.op} {render_value(node.value)}"
    if t is MacroRef:
        return node.name
    if t is Not:
        return f"not {_operand(node.item)}"
    return f" {node.op} ".join(_operand(item) for item in node.items)


def _operand(node: Node) -> str:
    # Parenthesize every nested and/or: needed for `or` under `and` and keeps
    # a nested same-operator node nested on re-parse.
    text = render(node)
    return f"({text})" if type(node) is BoolOp else text
