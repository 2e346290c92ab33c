"""Alerts as text lines and JSON objects (falco-compat.md 3.2-3.4)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import orjson

from ..events.event import Event
from ..filter.fields import ABSTIME, BOOL, INT, NUMERIC, UINT, iso8601, local_time
from ..rules.loader import CompiledRule
from ..rules.priority import NAMES
from .formatter import Formatter, Token

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_ESC = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def escape_control(text: str) -> str:
    """Control characters in a text alert become visible escapes (\\n, \\r,
    \\t, \\xHH): a crafted file or process name cannot start a new line."""
    return _CONTROL.sub(lambda m: _ESC.get(m.group(0), f"\\x{ord(m.group(0)):02x}"), text)


@dataclass(slots=True)
class Alert:
    rule: str
    priority: int  # 0 Emergency .. 7 Debug
    time_ns: int
    text: str  # the text line, without newline
    json: bytes | None  # the JSON object, without newline (json_output only)


class AlertFormatter:
    """Renders matched rules into alerts per the output settings."""

    def __init__(self, json_output: bool, include_output: bool = True,
                 iso8601_time: bool = False, hostname: str = "", include_tags: bool = True,
                 include_hostname: bool = True, include_source: bool = True) -> None:
        self.json_output = json_output
        self.include_output = include_output
        self.iso8601_time = iso8601_time
        self.hostname = hostname
        self.include_tags = include_tags
        self.include_hostname = include_hostname
        self.include_source = include_source

    def render(self, rule: CompiledRule, e: Event) -> Alert:
        fmt = rule.formatter
        assert fmt is not None
        values = [tok.extract(e) for tok in fmt.tokens]
        body = render_with(fmt, values)
        when = iso8601(e.ts) if self.iso8601_time else local_time(e.ts)
        prio = NAMES[rule.rule.level]
        text = escape_control(f"{when}: {prio} {body}")
        js = None
        if self.json_output:
            fields: dict[str, object] = {"evt.time": e.ts}
            for tok, v in zip(fmt.tokens, values, strict=True):
                fields[tok.name] = json_value(tok, v)
            head: dict[str, object] = {}
            if self.include_hostname and self.hostname:
                head["hostname"] = self.hostname
            if self.include_output:
                head["output"] = utf8(text)
            head["priority"] = prio
            head["rule"] = rule.name
            if self.include_source:
                head["source"] = rule.rule.source
            if self.include_tags:
                head["tags"] = sorted(rule.rule.tags)
            head["time"] = iso8601(e.ts)
            js = json_line(head, dict(sorted(fields.items())))
        return Alert(rule.name, rule.rule.level, e.ts, text, js)


def internal_alert(rule: str, priority: int, ts: int, message: str, fields: dict[str, str],
                   json_output: bool) -> Alert:
    """A general-purpose alert not tied to an event and not passed through
    the formatter: `<time>: <Priority> <message>(k=v k=v)`, or a JSON object
    with sorted keys and the fields as strings."""
    prio = NAMES[priority]
    text = escape_control(f"{local_time(ts)}: {prio} {message}(" + " ".join(
        f"{k}={v}" for k, v in sorted(fields.items())) + ")")
    js = None
    if json_output:
        js = orjson.dumps({"output": message, "output_fields": fields, "priority": prio,
                           "rule": rule, "time": iso8601(ts)}, option=orjson.OPT_SORT_KEYS)
    return Alert(rule, priority, ts, text, js)


def json_line(head: dict, fields: dict) -> bytes:
    """Sorted keys, compact, with `output_fields` last after ", " (Falco's
    layout)."""
    out = orjson.dumps(head, option=orjson.OPT_SORT_KEYS)
    return out[:-1] + b', "output_fields": ' + orjson.dumps(fields) + b"}"


def render_with(fmt: Formatter, values: list[object]) -> str:
    out = []
    it = iter(values)
    for lit, tok in fmt.pieces:
        out.append(lit)
        if tok is not None:
            out.append(token_text(tok, next(it)))
    return "".join(out)


def token_text(tok: Token, v: object) -> str:
    from ..filter.fields import show

    if v is None:
        text = "<NA>"
    else:
        disp = tok.fdef.display
        text = disp(v) if disp is not None else show(v)
    if tok.width is not None:
        text = text[:tok.width].ljust(tok.width)
    return text


def json_value(tok: Token, v: object) -> object:
    """output_fields values keep their type: numbers, booleans, null."""
    if v is None:
        return None
    ftype = tok.fdef.type
    if ftype == ABSTIME:
        return v
    if ftype == BOOL:
        return bool(v)
    if ftype in NUMERIC or ftype in (INT, UINT):
        if tok.fdef.display is not None:
            return tok.fdef.display(v)
        return v
    return utf8(token_text(tok, v))


def utf8(text: str) -> str:
    """JSON needs UTF-8: bytes of a name that were not (kept as surrogate
    escapes) become U+FFFD."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
