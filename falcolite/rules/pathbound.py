"""Which opens some rule could alert on.

For a storm of open/close pairs most opens match no rule, yet each costs the
Python loop a few microseconds.  From the enabled rules this module derives
a bound: pairs (path prefix, access the open needs) such that an open, or
the close of its fd, whose path and access fit none of them cannot satisfy
any rule.  The live reader uses it to drop such an open together with the
close that immediately follows it, which leaves the process and fd state as
it was (cdriver/live_reader.c, fl_live_set_elision).

The reader only drops opens of a plain absolute path: no `//`, no `./`
anywhere (so no `.` or `..` component) and no trailing `/`.  For those the
path as given is fd.name, and a condition that needs `./` in the name
cannot hold.

The bound is conservative: a condition it cannot reason about (a field other
than the path or the open's access, `not`, `endswith`...) bounds nothing;
then the whole bound is None and nothing is dropped.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..events.table import CODES_BY_NAME
from ..filter.ast import BoolOp, Compare, Node, Not
from ..filter.specialize import specialize
from .ruleset import Ruleset

# the exit events of open, creat, openat, openat2 and close that the probe
# sends (the current table's: openat's is the last of its four codes)
OPEN_CODES = (CODES_BY_NAME["open"][1], CODES_BY_NAME["creat"][1],
              CODES_BY_NAME["openat"][-1], CODES_BY_NAME["openat2"][1])
CLOSE_CODES = (CODES_BY_NAME["close"][1],)

# access an open needs, as bits of its PPM flags (O_RDONLY 1, O_WRONLY 2)
NEED_READ, NEED_WRITE = 1, 2
Clause = tuple[str, int]  # (path prefix, needed access bits)
Bound = frozenset[Clause] | None  # None: any open

_GLOB_META = "*?[\\"  # a backslash escapes the next character
_NEVER_PLAIN = ("./", "//")  # in no path the reader drops
_ACCESS = {"evt.is_open_read": NEED_READ, "evt.is_open_write": NEED_WRITE}


def _compare(c: Compare) -> Bound:
    """What one comparison says about the open (None: nothing)."""
    if c.arg is not None:
        return None
    values = [v.text for v in ((c.value,) if c.value is not None else c.values)]
    if c.field in _ACCESS:
        if c.op == "=" and values == ["true"]:
            return frozenset({("", _ACCESS[c.field])})
        return None
    if c.field not in ("fd.name", "fd.nameraw", "fd.directory"):
        return None
    if c.op == "contains" and c.field != "fd.directory":
        if all(any(x in v for x in _NEVER_PLAIN) for v in values):
            return frozenset()
        return None
    if c.op in ("=", "in", "startswith", "pmatch"):
        out = values
    elif c.op == "glob":
        out = [v[:min((v.find(m) for m in _GLOB_META if m in v), default=len(v))]
               for v in values]
    else:
        return None
    if c.field == "fd.directory" and c.op != "startswith":
        # the file is inside the directory: name = directory + "/" + rest
        out = [v if v.endswith("/") else v + "/" for v in out]
    return frozenset((v, 0) for v in out)


def _meet(a: Clause, b: Clause) -> Clause | None:
    (pa, na), (pb, nb) = a, b
    if pa.startswith(pb):
        return pa, na | nb
    if pb.startswith(pa):
        return pb, na | nb
    return None


def _intersect(a: Bound, b: Bound) -> Bound:
    if a is None:
        return b
    if b is None:
        return a
    return frozenset(m for x in a for y in b if (m := _meet(x, y)) is not None)


def bound(node: Node | bool) -> Bound:
    """Clauses one of which every open satisfying `node` fits."""
    if node is True:
        return None
    if node is False:
        return frozenset()
    if isinstance(node, Compare):
        return _compare(node)
    if isinstance(node, Not):
        return None
    if isinstance(node, BoolOp):
        parts = [bound(x) for x in node.items]
        if node.op == "and":
            out: Bound = None
            for p in parts:
                out = _intersect(out, p)
            return out
        if any(p is None for p in parts):
            return None
        return frozenset().union(*parts)
    return None  # a macro reference cannot survive expansion


def minimal(clauses: Iterable[Clause]) -> list[Clause]:
    """Sorted, without a clause that a looser one (a prefix of its path,
    needing no more access) already covers."""
    items = sorted(set(clauses), key=lambda c: (len(c[0]), c))
    out: list[Clause] = []
    for p, n in items:
        if not any(p.startswith(q) and m & ~n == 0 for q, m in out):
            out.append((p, n))
    return sorted(out)


def open_bound(ruleset: Ruleset) -> list[Clause] | None:
    """The clauses outside which no enabled rule can match an open or close
    exit; None when some rule could match any of them."""
    total: set[Clause] = set()
    for code in OPEN_CODES + CLOSE_CODES:
        for r in ruleset.rules_for_code(code):
            b = bound(specialize(r.condition, code))
            if b is None:
                return None
            total |= b
    try:  # the reader compares bytes; names decode with surrogateescape
        for p, _ in total:
            p.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return None
    return minimal(total)
