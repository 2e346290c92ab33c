"""Recursive-descent parser of the condition language (falco-compat.md 6.2).

    condition := or_expr
    or_expr   := and_expr { "or" and_expr }
    and_expr  := not_expr { "and" not_expr }
    not_expr  := "not" not_expr | primary
    primary   := "(" condition ")" | macro_name
               | field "exists" | field cmp_op value
               | field ("in" | "pmatch" | "intersects") "(" [value] { "," value* } ")"

Lists are already substituted textually by the rules loader (6.4), so a list
name inside `( )` is just a bare value here.
"""

from __future__ import annotations

import re

from .ast import BoolOp, Compare, MacroRef, Node, Not, Value
from .lexer import (
    BARE_RE,
    FIELD_ARG_RE,
    LIST_OPS,
    NAME_RE,
    NUMBER_RE,
    OPS_EXPECTED,
    VALUE_EXPECTED,
    WORD_OPS,
    WORD_RE,
    WS_RE,
    LexError,
    read_quoted,
    token_at,
)

# Parentheses plus `not`s that may enclose a node: keeps recursion (here, in
# render and in dataclass equality) far from Python's limit.
MAX_DEPTH = 100

_IDCHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")
_PRIMARY_EXPECTED = ("'('", "'not'", "'FieldName'", "'Identifier'")
_AFTER_TOP = ("'and'", "'or'")
_AFTER_NESTED = ("'and'", "'or'", "')'")
_LIST_SEP = ("','", "')'")
_LIST_ITEM = (*VALUE_EXPECTED, *_LIST_SEP)
_NOT_VALUE_START = frozenset("(),=")


class FilterSyntaxError(Exception):
    """A condition that does not parse. `pos` is the 0-based offset of the
    farthest position reached; str() is Falco's message, which gives it
    1-based: `<pos+1>: syntax error, unexpected '<token>', expecting <alts>`."""

    def __init__(self, pos: int, token: str, expected: tuple[str, ...], detail: str = ""):
        self.pos = pos
        self.token = token
        self.expected = expected
        tail = detail or "expecting " + ", ".join(expected)
        super().__init__(f"{pos + 1}: syntax error, unexpected '{token}', {tail}")

    @property
    def message(self) -> str:
        return str(self.args[0])


def parse(text: str) -> Node:
    """Parse a condition (after list substitution) into an AST.

    Raises FilterSyntaxError for any text that is not a complete condition,
    including the empty text and a condition commented out with a leading
    `#` (no primary can start with `#`, so it fails like Falco's).
    """
    p = _Parser(text)
    try:
        node = p.or_expr()
        p.skip_ws()
        if p.pos < len(text):
            raise LexError(p.pos, _AFTER_TOP)
    except LexError as e:
        token = e.token if e.token is not None else token_at(text, e.pos)
        raise FilterSyntaxError(e.pos, token, e.expected) from None
    return node


class _Parser:
    __slots__ = ("depth", "n", "pos", "text")

    def __init__(self, text: str):
        self.text = text
        self.n = len(text)
        self.pos = 0
        self.depth = 0

    def skip_ws(self) -> int:
        self.pos = WS_RE.match(self.text, self.pos).end()
        return self.pos

    def keyword(self, word: str) -> bool:
        """Consume `word` at pos (after whitespace) if it is a whole word."""
        pos = self.skip_ws()
        end = pos + len(word)
        if self.text.startswith(word, pos) and (end >= self.n or self.text[end] not in _IDCHARS):
            self.pos = end
            return True
        return False

    def or_expr(self) -> Node:
        start = self.skip_ws()
        node = self.and_expr()
        items = [node]
        while self.keyword("or"):
            items.append(self.and_expr())
        return node if len(items) == 1 else BoolOp("or", tuple(items), start)

    def and_expr(self) -> Node:
        start = self.skip_ws()
        node = self.not_expr()
        items = [node]
        while self.keyword("and"):
            items.append(self.not_expr())
        return node if len(items) == 1 else BoolOp("and", tuple(items), start)

    def not_expr(self) -> Node:
        # Iterative: `not not x` needs no recursion.
        nots: list[int] = []
        text = self.text
        while True:
            pos = self.skip_ws()
            m = NAME_RE.match(text, pos)
            # NAME_RE takes `not.x` (a field) and `notx` (a macro) whole.
            if m is None or m.group() != "not":
                break
            self.enter(pos)
            nots.append(pos)
            self.pos = m.end()
        node = self.primary(m)
        for pos in reversed(nots):
            node = Not(node, pos)
        self.depth -= len(nots)
        return node

    def enter(self, pos: int) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            token = token_at(self.text, pos)
            raise FilterSyntaxError(
                pos, token, (), f"nesting deeper than {MAX_DEPTH} levels")

    def primary(self, m: re.Match[str] | None) -> Node:
        """m: NAME_RE's match at pos (already computed by not_expr), or None."""
        text = self.text
        pos = self.pos
        if m is None:
            if pos < self.n and text[pos] == "(":
                self.enter(pos)
                self.pos = pos + 1
                node = self.or_expr()
                if self.skip_ws() >= self.n or text[self.pos] != ")":
                    raise LexError(self.pos, _AFTER_NESTED)
                self.pos += 1
                self.depth -= 1
                return node
            raise LexError(pos, _PRIMARY_EXPECTED)
        name = m.group()
        self.pos = m.end()
        if "." in name:
            return self.compare(name, pos)
        if name in ("and", "or"):
            raise LexError(pos, _PRIMARY_EXPECTED)
        return MacroRef(name, pos)

    def compare(self, name: str, start: int) -> Compare:
        text = self.text
        arg = None
        pos = self.pos
        if text.startswith("[", pos):
            arg, pos = self.field_arg(pos + 1)
        field_text = text[start:pos]
        self.pos = pos
        pos = self.skip_ws()
        two = text[pos:pos + 2]
        if two in ("==", "!=", "<=", ">="):
            op = "=" if two == "==" else two
            self.pos = pos + 2
        elif two[:1] in ("=", "<", ">"):
            op = two[:1]
            self.pos = pos + 1
        else:
            m = WORD_RE.match(text, pos)
            if m is None or m.group() not in WORD_OPS:
                raise LexError(pos, OPS_EXPECTED)
            op = m.group()
            self.pos = m.end()
        if op == "exists":
            return Compare(name, arg, op, None, (), field_text, start)
        if op in LIST_OPS:
            return Compare(name, arg, op, None, self.value_list(), field_text, start)
        value = self.value(self.skip_ws(), VALUE_EXPECTED)
        return Compare(name, arg, op, value, (), field_text, start)

    def field_arg(self, pos: int) -> tuple[str, int]:
        """Read `arg]` from pos (just after `[`); return arg and the offset after `]`."""
        text = self.text
        if pos < self.n and text[pos] in "\"'":
            # Quoted argument: accepted as today's Falco does.
            arg, pos = read_quoted(text, pos)
        else:
            end = FIELD_ARG_RE.match(text, pos).end()
            arg, pos = text[pos:end], end
        if not text.startswith("]", pos):
            raise LexError(pos, ("']'",))
        return arg, pos + 1

    def value(self, pos: int, expected: tuple[str, ...]) -> Value:
        text = self.text
        if pos >= self.n or text[pos] in _NOT_VALUE_START:
            raise LexError(pos, expected)
        c = text[pos]
        if c == '"' or c == "'":
            content, self.pos = read_quoted(text, pos)
            return Value(content, "string", pos)
        # F0.15 read a number prefix and then failed on the rest (`127.0.0.1`,
        # `1password`); Falco 0.31+ takes such runs as bare strings and current
        # rules rely on it (`proc.aname in (50vcs-commit, ...)`), so a run is a
        # Number only when all of it is one.
        bare = BARE_RE.match(text, pos).group()
        self.pos = pos + len(bare)
        kind = "number" if NUMBER_RE.fullmatch(bare) else "bare"
        return Value(bare, kind, pos)

    def value_list(self) -> tuple[Value, ...]:
        """`(` [value] { `,` value* } `)`: `(a, b c)` is three values, `(a,,b)`
        two, `()` none, `(a b)` an error (6.2)."""
        text = self.text
        pos = self.skip_ws()
        if not text.startswith("(", pos):
            raise LexError(pos, ("'('",))
        self.pos = pos + 1
        values: list[Value] = []
        pos = self.skip_ws()
        if pos < self.n and text[pos] not in _NOT_VALUE_START:
            values.append(self.value(pos, _LIST_ITEM))
            pos = self.skip_ws()
            if pos >= self.n or text[pos] not in ",)":
                raise LexError(pos, _LIST_SEP)
        while True:
            if pos < self.n and text[pos] == ")":
                self.pos = pos + 1
                return tuple(values)
            if pos >= self.n or text[pos] != ",":
                raise LexError(pos, _LIST_ITEM)
            self.pos = pos + 1
            pos = self.skip_ws()
            while pos < self.n and text[pos] not in _NOT_VALUE_START:
                values.append(self.value(pos, _LIST_ITEM))
                pos = self.skip_ws()
