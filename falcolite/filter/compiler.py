"""Compiles a condition's AST into one Python callable of the event.

Everything constant is done here, once: field lookup, value parsing to the
field's type, operator choice, lists turned into frozensets, globs into
regexes.  At run time a condition is nested closures; a field without a
value makes every comparison false (`!=` included) except through `not`.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import re
import socket
from collections.abc import Callable

from ..events.event import Event
from ..events.table import CODES_BY_NAME, GENERIC_E, GENERIC_X
from .ast import BoolOp, Compare, MacroRef, Node, Not, Value
from .fields import (
    ABSTIME,
    BOOL,
    BYTES,
    DYNAMIC,
    INT,
    IPADDR,
    IPNET,
    NUMERIC,
    PORT,
    STRING,
    UINT,
    AnyOf,
    FieldContext,
    FieldDef,
    FieldError,
    lookup,
)
from .lexer import number_text

Predicate = Callable[[Event], bool]

STRING_OPS = frozenset(("contains", "icontains", "startswith", "endswith", "glob"))
MAX_STRING = 255


class FilterCompileError(Exception):
    """A condition that cannot be compiled; `pos` is 0-based in the text."""

    def __init__(self, message: str, pos: int = 0, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.pos = pos
        self.field = field  # set for unknown fields


def field_key(c: Compare) -> str:
    return c.field if c.arg is None else f"{c.field}[{c.arg}]"


# multi-valued fields: a comparison holds if it holds for any value
_MULTI_NOARG = frozenset(("proc.aname", "proc.apid", "proc.aexe", "proc.aexepath",
                          "proc.acmdline"))
_MULTI = frozenset(("fd.ip", "fd.port", "fd.net"))


# ------------------------------------------------------------------ values

def parse_value(fdef: FieldDef, v: Value) -> object:
    """A literal parsed to the field's type (Falco's load-time checks)."""
    text = number_text(v.text) if v.kind == "number" else v.text
    ftype = fdef.type
    if ftype in (INT, UINT, ABSTIME) or (ftype in NUMERIC and ftype != PORT):
        try:
            return int(text)
        except ValueError:
            raise FilterCompileError(f"{v.text} is not a valid number", v.pos) from None
    if ftype == PORT:
        try:
            return int(text)
        except ValueError:
            try:
                return socket.getservbyname(text)
            except OSError:
                raise FilterCompileError(f"unrecognized protocol {v.text}", v.pos) from None
    if ftype == BOOL:
        if text == "true":
            return True
        if text == "false":
            return False
        raise FilterCompileError(f"filter error: unrecognized boolean value {v.text}", v.pos)
    if ftype == IPADDR:
        return parse_ip(v)
    if ftype == IPNET:
        return parse_net(v)
    if ftype == BYTES:
        return text.encode("utf-8", "surrogateescape")
    if len(text.encode("utf-8", "surrogateescape")) > MAX_STRING:
        raise FilterCompileError(f"filter parameter too long:{text}", v.pos)
    return text


def parse_ip(v: Value) -> bytes:
    """A dotted quad; a value without a dot is an IPv6 address."""
    v6 = "." not in v.text or ":" in v.text
    try:
        if not v6:
            return ipaddress.IPv4Address(v.text).packed
        return ipaddress.IPv6Address(v.text).packed
    except ValueError:
        kind = "IPv6" if v6 else "IPv4"
        raise FilterCompileError(f"unrecognized {kind} address {v.text}", v.pos) from None


def parse_net(v: Value) -> tuple[int, int, int]:
    """(address as int, mask as int, address length) of `a.b.c.d/len`."""
    if "/" not in v.text:
        raise FilterCompileError(f"unrecognized IP network {v.text}", v.pos)
    addr, _, bits = v.text.partition("/")
    try:
        net = ipaddress.ip_network(f"{addr}/{bits}", strict=False)
    except ValueError:
        if bits.isdigit() and int(bits) > 32 and "." in addr:
            raise FilterCompileError(f"invalid netmask {bits}", v.pos) from None
        raise FilterCompileError(f"unrecognized IP network {v.text}", v.pos) from None
    return int(net.network_address), int(net.netmask), net.max_prefixlen // 8


def in_net(addr: bytes, net: tuple[int, int, int]) -> bool:
    base, mask, size = net
    return len(addr) == size and int.from_bytes(addr, "big") & mask == base


def pmatch(path: str, prefix: str) -> bool:
    """Path-prefix match by components: /etc matches /etc and /etc/x."""
    p = [c for c in path.split("/") if c]
    q = [c for c in prefix.split("/") if c]
    return p[:len(q)] == q


# --------------------------------------------------------------- compiling

def compile_filter(node: Node, ctx: FieldContext) -> Predicate:
    """The predicate for a parsed condition whose macros are expanded."""
    if isinstance(node, BoolOp):
        parts = [compile_filter(n, ctx) for n in node.items]
        # folded into two-way closures from the right: no generator per event
        pred = parts[-1]
        for p in reversed(parts[:-1]):
            pred = _and(p, pred) if node.op == "and" else _or(p, pred)
        return pred
    if isinstance(node, Not):
        inner = compile_filter(node.item, ctx)
        return lambda e: not inner(e)
    if isinstance(node, MacroRef):
        raise FilterCompileError(f"Undefined macro '{node.name}' used in filter.", node.pos)
    if isinstance(node, Compare):
        return compile_compare(node, ctx)
    raise FilterCompileError(f"cannot compile {node!r}")


def _and(a: Predicate, b: Predicate) -> Predicate:
    return lambda e: a(e) and b(e)


def _or(a: Predicate, b: Predicate) -> Predicate:
    return lambda e: a(e) or b(e)


def _evt_type(c: Compare) -> Predicate | None:
    """`evt.type = x` / `in (...)` as a set of event codes: no name lookup
    per event except for generic events (their name is the syscall's)."""
    if c.field != "evt.type" or c.op not in ("=", "in"):
        return None
    names = frozenset(v.text for v in ([c.value] if c.value is not None else c.values))
    codes = frozenset(code for n in names for code in CODES_BY_NAME.get(n, ()))
    generic = (GENERIC_E, GENERIC_X)

    def pred(e: Event) -> bool:
        t = e.type
        if t in codes:
            return True
        return t in generic and e.type_name() in names
    return pred


def compile_compare(c: Compare, ctx: FieldContext) -> Predicate:
    fast = _evt_type(c)
    if fast is not None:
        return fast
    key = field_key(c)
    try:
        fdef, arg = lookup(key)
        extract = fdef.build(ctx, arg)
    except FieldError as err:
        raise FilterCompileError(str(err), c.pos, field=key) from None
    op = c.op
    if op == "exists":
        return lambda e: extract(e) is not None
    numeric = fdef.type in NUMERIC or fdef.type == BOOL
    if op in STRING_OPS | {"pmatch"} and (numeric or fdef.type in (IPADDR, IPNET)):
        what = "numeric" if numeric else "IP address"
        raise FilterCompileError(f"'{op}' not supported for {what} filters", c.pos)
    if fdef.type == BYTES and op not in _BUFFER_OPS:
        raise FilterCompileError(f"'{op}' not supported for buffer filters", c.pos)
    if fdef.type == DYNAMIC:
        return _dynamic(op, extract, c)
    multi = key in _MULTI or (fdef.name in _MULTI_NOARG and arg is None)
    test = _operator(op, fdef, c)
    if multi:
        if op == "!=" and key in _MULTI:  # an fd's addresses: none equal (libsinsp)
            return lambda e: (v := extract(e)) is not None and all(
                test(x) for x in (v if isinstance(v, AnyOf) else (v,)))
        return lambda e: (v := extract(e)) is not None and any(
            test(x) for x in (v if isinstance(v, AnyOf) else (v,)))
    if op == "=" and fdef.type not in (IPNET, IPADDR):
        const = parse_value(fdef, _one(c))
        if isinstance(const, str):
            return lambda e: extract(e) == const
        return lambda e: (v := extract(e)) is not None and v == const
    return lambda e: (v := extract(e)) is not None and test(v)


_BUFFER_OPS = frozenset(("=", "!=", "contains", "startswith", "endswith", "bcontains",
                         "bstartswith", "in", "exists"))


def _dynamic(op: str, extract: Callable[[Event], object], c: Compare) -> Predicate:
    """evt.rawarg: the value's type is the parameter's, known per event; the
    literal is compared as a number against numbers, as text otherwise."""
    texts = [number_text(v.text) if v.kind == "number" else v.text
             for v in ([c.value] if c.value is not None else c.values)]
    nums = [_as_int(x) for x in texts]

    def as_is(v: object, i: int) -> object:
        return nums[i] if isinstance(v, int) and nums[i] is not None else texts[i]

    if op in ("in", "intersects"):
        return lambda e: (v := extract(e)) is not None and any(
            v == as_is(v, i) for i in range(len(texts)))
    cmp = _ORDER.get(op) or {"=": lambda a, b: a == b, "!=": lambda a, b: a != b}.get(op)
    if cmp is not None:
        def pred(e: Event) -> bool:
            v = extract(e)
            if v is None:
                return False
            lit = as_is(v, 0)
            if isinstance(v, int) != isinstance(lit, int):
                return False
            return cmp(v, lit)
        return pred
    if op in STRING_OPS:
        inner = _operator(op, _TEXT_FIELD, c)
        return lambda e: (v := extract(e)) is not None and inner(str(v))
    raise FilterCompileError(f"'{op}' not supported for evt.rawarg", c.pos)


def _as_int(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


def _one(c: Compare) -> Value:
    assert c.value is not None
    return c.value


def _operator(op: str, fdef: FieldDef, c: Compare) -> Callable[[object], bool]:
    """The test applied to an extracted (non-None) value."""
    if op in ("in", "intersects"):
        values = [parse_value(fdef, v) for v in c.values]
        if fdef.type == IPNET or (fdef.type == IPADDR and any(
                "/" in v.text for v in c.values)):
            nets = [parse_net(v) if "/" in v.text else None for v in c.values]
            addrs = frozenset(parse_ip(v) for v in c.values if "/" not in v.text)
            real = [n for n in nets if n is not None]
            return lambda v: v in addrs or any(in_net(v, n) for n in real)  # type: ignore[arg-type]
        const = frozenset(values)
        if op == "intersects":
            return lambda v: bool(const.intersection(v.split() if isinstance(v, str) else (v,)))
        return lambda v: v in const
    if op == "pmatch":
        if fdef.type != STRING:
            raise FilterCompileError("pmatch requires all charbuf arguments", c.pos)
        prefixes = [parse_value(fdef, v) for v in c.values]
        return lambda v: any(pmatch(v, p) for p in prefixes)  # type: ignore[arg-type]
    if fdef.type == IPNET:
        net = parse_net(_one(c))
        if op == "=":
            return lambda v: in_net(v, net)  # type: ignore[arg-type]
        if op == "!=":
            return lambda v: not in_net(v, net)  # type: ignore[arg-type]
        raise FilterCompileError(f"'{op}' not supported for network filters", c.pos)
    const = parse_value(fdef, _one(c))
    if fdef.type == IPADDR and len(const) == 4:  # type: ignore[arg-type]
        # libsinsp compares an IPv4 value with the first 4 bytes of an IPv6
        # address (so 0.0.0.0 matches an unbound IPv6 socket)
        if op == "=":
            return lambda v: v[:4] == const  # type: ignore[index]
        if op == "!=":
            return lambda v: v[:4] != const  # type: ignore[index]
    if op == "=":
        return lambda v: v == const
    if op == "!=":
        return lambda v: v != const
    if op in ("<", "<=", ">", ">="):
        if fdef.type == IPADDR:
            if len(const) != 4:  # type: ignore[arg-type]
                raise FilterCompileError(f"'{op}' not supported for IPv6 addresses", c.pos)
            # the raw 32-bit value, network order read as little-endian (0.15)
            num = int.from_bytes(const, "little")  # type: ignore[arg-type]
            cmp = _ORDER[op]
            return lambda v: len(v) == 4 and cmp(int.from_bytes(v, "little"), num)  # type: ignore[arg-type]
        cmp = _ORDER[op]
        return lambda v: cmp(v, const)
    if op == "contains":
        return lambda v: const in v  # type: ignore[operator]
    if op == "icontains":
        low = const.lower()  # type: ignore[union-attr]
        return lambda v: low in v.lower()  # type: ignore[union-attr]
    if op == "startswith":
        return lambda v: v.startswith(const)  # type: ignore[union-attr]
    if op == "endswith":
        return lambda v: v.endswith(const)  # type: ignore[union-attr]
    if op == "glob":
        if not isinstance(const, str):
            raise FilterCompileError(f"'{op}' not supported for buffer filters", c.pos)
        rx = re.compile(fnmatch.translate(const), re.S)
        return lambda v: rx.match(v) is not None  # type: ignore[arg-type]
    if op in ("bcontains", "bstartswith"):
        hex_text = _one(c).text
        try:
            needle = bytes.fromhex(hex_text)
        except ValueError:
            raise FilterCompileError(f"{hex_text} is not a valid hex string", c.pos) from None
        if op == "bcontains":
            return lambda v: needle in (v if isinstance(v, bytes) else str(v).encode())
        return lambda v: (v if isinstance(v, bytes) else str(v).encode()).startswith(needle)
    raise FilterCompileError(f"unknown operator {op}", c.pos)


_TEXT_FIELD = FieldDef("evt.rawarg", STRING, "", lambda _c, _a: lambda e: None)

_ORDER: dict[str, Callable[[object, object], bool]] = {
    "<": lambda a, b: a < b,  # type: ignore[operator]
    "<=": lambda a, b: a <= b,  # type: ignore[operator]
    ">": lambda a, b: a > b,  # type: ignore[operator]
    ">=": lambda a, b: a >= b,  # type: ignore[operator]
}
