"""Scanner for the condition language (falco-compat.md 6.1).

Tokenizing is context dependent: `<` after a field is an operator but after an
operator it is a bare-string value (`evt.dir=<`), so the parser asks for the
kind of token it expects at a position instead of reading a token stream.
Every reader works on (text, pos) and returns the end offset; failures raise
LexError, which the parser turns into a FilterSyntaxError.
"""

from __future__ import annotations

import re

WHITESPACE = " \t\n\r\f\v"

# Expected-alternative names used in error messages.
BARE, STRING, NUMBER = "'BareString'", "'String'", "'Number'"
VALUE_EXPECTED = (BARE, STRING, NUMBER)

# Symbolic comparison operators, two-character ones first (longest match).
SYMBOL_OPS = ("==", "!=", "<=", ">=", "=", "<", ">")
# Word operators; like keywords they must not be followed by an identifier char.
WORD_OPS = frozenset({
    "contains", "icontains", "bcontains", "startswith", "bstartswith", "endswith",
    "glob", "in", "pmatch", "intersects", "exists",
})
LIST_OPS = frozenset({"in", "pmatch", "intersects"})
# Operator names in the order they are listed in "expecting ..." messages.
OPS_EXPECTED = tuple(f"'{op}'" for op in (
    "=", "==", "!=", "<", "<=", ">", ">=", "contains", "icontains", "bcontains",
    "startswith", "bstartswith", "endswith", "glob", "in", "intersects", "pmatch", "exists",
))

WS_RE = re.compile(r"[ \t\n\r\f\v]*")
WORD_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Identifier plus dotted parts; later parts may start with a digit (`evt.arg.0`).
NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*")
FIELD_ARG_RE = re.compile(r"[A-Za-z0-9._\-/*?:]*")
BARE_RE = re.compile(r"[^ \t\n\r\f\v(),=]+")
NUMBER_RE = re.compile(
    r"0[xX][0-9A-Fa-f]+|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
)

_ESCAPES = {
    "a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v",
    "'": "'", '"': '"', "\\": "\\",
    # Backslash-newline keeps the newline, as in Lua strings (F0.15's parser).
    "\n": "\n", "\r": "\n",
    # Falco 0.31+ also reads `\/` as `/` and `\ ` as a lone backslash; current
    # sandbox rules rely on the latter (`proc.args contains "\ "`).
    "/": "/", " ": "\\",
}
_QUOTE_OUT = {v: "\\" + k for k, v in _ESCAPES.items() if k not in "\n\r' /"}
_PLAIN_RUN = {'"': re.compile(r'[^"\\]*'), "'": re.compile(r"[^'\\]*")}
_NEEDS_QUOTING_RE = re.compile(r'[\\"\a\b\f\n\r\t\v]')


class LexError(Exception):
    """Internal failure: the offending offset and what was allowed there."""

    def __init__(self, pos: int, expected: tuple[str, ...], token: str | None = None):
        super().__init__(pos, expected, token)
        self.pos = pos
        self.expected = expected
        self.token = token  # None: derive it from the text at pos


def skip_ws(text: str, pos: int) -> int:
    """Offset of the first non-whitespace character at or after pos."""
    return WS_RE.match(text, pos).end()


def read_quoted(text: str, pos: int) -> tuple[str, int]:
    """Read the quoted string starting at text[pos] (a quote); return the
    unescaped content and the offset after the closing quote."""
    quote = text[pos]
    plain = _PLAIN_RUN[quote]
    parts: list[str] = []
    i = pos + 1
    n = len(text)
    while True:
        end = plain.match(text, i).end()
        parts.append(text[i:end])
        if end >= n:
            raise LexError(n, (f"'{quote}'",))
        if text[end] == quote:
            return "".join(parts), end + 1
        # A backslash: one escape sequence.
        if end + 1 >= n:
            raise LexError(end, ("'EscapeSequence'",), "\\")
        esc = text[end + 1]
        if esc not in _ESCAPES:
            raise LexError(end, ("'EscapeSequence'",), "\\" + esc)
        parts.append(_ESCAPES[esc])
        i = end + 2
        if esc == "\r" and text.startswith("\n", i):
            i += 1


def quote(s: str) -> str:
    """Double-quoted literal that read_quoted turns back into s."""
    if _NEEDS_QUOTING_RE.search(s):
        s = "".join(_QUOTE_OUT.get(c, c) for c in s)
    return f'"{s}"'


def is_number(s: str) -> bool:
    return NUMBER_RE.fullmatch(s) is not None


def is_bare_value(s: str) -> bool:
    """True if s reads back as one bare-string value (not a number, not quoted)."""
    return (BARE_RE.fullmatch(s) is not None and s[0] not in "\"'"
            and not is_number(s))


def is_bare_field_arg(s: str) -> bool:
    return FIELD_ARG_RE.fullmatch(s) is not None


def number_text(s: str) -> str:
    """F0.15's conversion of a Number token: through a double, then printed
    with Lua's "%.14g" (`0x1f` -> `31`, `0755` -> `755`, `1e5` -> `100000`)."""
    try:
        value = float(int(s, 16)) if s[:2] in ("0x", "0X") else float(s)
    except OverflowError:
        value = float("inf")
    return f"{value:.14g}"


def token_at(text: str, pos: int) -> str:
    """The offending token's text for an error message at pos."""
    if pos >= len(text):
        return "EOF"
    c = text[pos]
    if c in WHITESPACE or c in "(),=":
        return c
    if c in "\"'":
        end = pos + 1
        while end < len(text) and text[end] != c:
            end += 2 if text[end] == "\\" else 1
        return text[pos:end + 1]
    two = text[pos:pos + 2]
    if two in ("!=", "<=", ">="):
        return two
    m = NAME_RE.match(text, pos)
    if m:
        end = m.end()
        if text.startswith("[", end):
            arg_end = FIELD_ARG_RE.match(text, end + 1).end()
            if text.startswith("]", arg_end):
                end = arg_end + 1
        return text[pos:end]
    return BARE_RE.match(text, pos).group()
