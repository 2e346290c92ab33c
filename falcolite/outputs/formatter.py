"""The `%field` format language of outputs and `-p`: literal text with
`%[width]field` tokens, compiled once into a function of the event."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from ..events.event import Event
from ..filter.fields import REGISTRY, FieldContext, FieldDef, FieldError, lookup, show

NA = "<NA>"
_NAME = re.compile(r"[A-Za-z0-9_.]+(\[[^\]]*\])?")


class FormatError(Exception):
    """A format string that cannot be compiled; the message is Falco's."""


@dataclass(frozen=True, slots=True)
class Token:
    name: str  # as written, argument included: proc.aname[2]
    fdef: FieldDef
    extract: Callable[[Event], object]
    width: int | None


def split_field(text: str, pos: int) -> tuple[str, int] | None:
    """The longest known field name starting at `pos`, and where it ends."""
    m = _NAME.match(text, pos)
    if not m:
        return None
    cand = m.group(0)
    # try the whole run, then shorter prefixes at dots and word ends
    for end in range(len(cand), 0, -1):
        name = cand[:end]
        try:
            lookup(name)
        except FieldError:
            continue
        if "[" not in name and end < len(cand) and cand[end] == "[":
            continue  # proc.aname[2]: the bracket belongs to the name
        return name, pos + end
    return None


def parse_format(fmt: str) -> list[tuple[str, str | None, int | None]]:
    """(literal, field name or None, width) pieces."""
    out: list[tuple[str, str | None, int | None]] = []
    i = 0
    lit = []
    n = len(fmt)
    while i < n:
        c = fmt[i]
        if c != "%":
            lit.append(c)
            i += 1
            continue
        j = i + 1
        if j >= n:
            raise FormatError("invalid formatting syntax: formatting cannot end with a %")
        width = None
        k = j
        while k < n and fmt[k].isdigit():
            k += 1
        if k > j:
            if k >= n:
                raise FormatError(
                    "invalid formatting syntax: formatting cannot end with a number")
            width = int(fmt[j:k])
        found = split_field(fmt, k)
        if found is None:
            raise FormatError(f"invalid formatting token {fmt[i + 1:]}")
        name, end = found
        out.append(("".join(lit), name, width))
        lit = []
        i = end
    if lit or not out:
        out.append(("".join(lit), None, None))
    return out


class Formatter:
    """A compiled format.  `render(e)` gives the text (None when a field has
    no value and the format is not permissive)."""

    def __init__(self, fmt: str, ctx: FieldContext, permissive: bool | None = None) -> None:
        if not fmt:
            raise FormatError("empty formatting token")
        self.permissive = fmt.startswith("*") if permissive is None else permissive
        if fmt.startswith("*") and permissive is None:
            fmt = fmt[1:]
        self.fmt = fmt
        self.pieces: list[tuple[str, Token | None]] = []
        self.tokens: list[Token] = []
        for lit, name, width in parse_format(fmt):
            tok = None
            if name is not None:
                fdef, arg = lookup(name)
                if fdef.filter_only:
                    raise FormatError(
                        f"{name} is filter only and cannot be used as a display field")
                tok = Token(name, fdef, fdef.build(ctx, arg), width)
                self.tokens.append(tok)
            self.pieces.append((lit, tok))

    def render(self, e: Event) -> str | None:
        out = []
        for lit, tok in self.pieces:
            out.append(lit)
            if tok is None:
                continue
            v = tok.extract(e)
            if v is None:
                if not self.permissive:
                    return None
                text = NA
            else:
                disp = tok.fdef.display
                text = disp(v) if disp is not None else show(v)
            if tok.width is not None:
                text = text[:tok.width].ljust(tok.width)
            out.append(text)
        return "".join(out)


__all__ = ["REGISTRY", "FormatError", "Formatter"]
