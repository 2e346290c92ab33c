"""The event view: one scap event (v2 header) inside a batch buffer, with
its parameters located and decoded on demand."""

from __future__ import annotations

import functools
import struct

from .params import decoder_for, render
from .table import EVENTS, GENERIC_E, GENERIC_X, SYSCALL_NAMES, EventInfo

_HDR = struct.Struct("<QQIHI")  # ts, tid, len, type, nparams
HDR_SIZE = _HDR.size  # 26
_U32 = struct.Struct("<I")
LARGE = tuple(e.large for e in EVENTS)
DECODERS = tuple(tuple(decoder_for(p) for p in e.params) for e in EVENTS)


@functools.cache
def _lengths(n: int, large: bool) -> struct.Struct:
    """The struct of an event's parameter-length array."""
    return struct.Struct(f"<{n}{'I' if large else 'H'}")


class Event:
    """An event of a capture or of the live source.

    `buf` is an immutable bytes object holding the event at `off`, so an
    Event stays valid after its batch is gone.
    """

    # thread, fdinfo, fdnum and enter are attached by the state tracker
    __slots__ = ("_spans", "buf", "cpu", "dump_flags", "enter", "fdinfo", "fdname", "fdnum",
                 "num", "off", "thread", "tid", "ts", "type")

    def __init__(self, buf: bytes, off: int, num: int, ts: int, tid: int, etype: int,
                 cpu: int = 0, dump_flags: int = 0) -> None:
        self.buf = buf
        self.off = off
        self.num = num
        self.ts = ts
        self.tid = tid
        self.type = etype
        self.cpu = cpu
        self.dump_flags = dump_flags
        self._spans: list[tuple[int, int]] | None = None
        self.thread = None
        self.fdinfo = None
        self.fdnum: int | None = None
        self.fdname: str | None = None  # the path a failed open tried
        self.enter: Event | None = None

    @property
    def info(self) -> EventInfo:
        return EVENTS[self.type]

    @property
    def length(self) -> int:
        return struct.unpack_from("<I", self.buf, self.off + 16)[0]

    @property
    def nparams(self) -> int:
        return struct.unpack_from("<I", self.buf, self.off + 22)[0]

    def spans(self) -> list[tuple[int, int]]:
        """(offset in buf, length) of each parameter present."""
        spans = self._spans
        if spans is None:
            buf, off = self.buf, self.off
            n = _U32.unpack_from(buf, off + 22)[0]
            lens_st = _lengths(n, LARGE[self.type])
            pos = off + HDR_SIZE + lens_st.size
            spans = []
            for ln in lens_st.unpack_from(buf, off + HDR_SIZE):
                spans.append((pos, ln))
                pos += ln
            self._spans = spans
        return spans

    def raw(self, i: int) -> bytes | None:
        """Bytes of parameter i, or None when the event does not carry it."""
        spans = self.spans()
        if i >= len(spans):
            return None
        pos, ln = spans[i]
        return self.buf[pos:pos + ln]

    def param(self, i: int) -> object:
        """Parameter i decoded by its declared type (None when absent or empty)."""
        spans = self._spans or self.spans()
        decoders = DECODERS[self.type]
        if i >= len(spans) or i >= len(decoders):
            return None
        pos, ln = spans[i]
        return decoders[i](self.buf, pos, ln)

    def type_name(self) -> str:
        """`evt.type`: the event's name, or for generic events the name of the
        syscall in their ID parameter."""
        if self.type == GENERIC_E or self.type == GENERIC_X:
            sc = self.param(0)
            if sc is None:
                return "<NA>"
            return SYSCALL_NAMES[sc] if sc < len(SYSCALL_NAMES) else "<unknown>"  # type: ignore[operator,index]
        return EVENTS[self.type].name

    def args_text(self, **hooks: object) -> str:
        """`evt.args`: `name=value ` (a space after each, as sysdig prints)
        for each parameter the event carries, none for generic events; hooks
        as for params.render."""
        if self.type == GENERIC_E or self.type == GENERIC_X:
            return ""
        params = EVENTS[self.type].params
        spans = self.spans()
        buf = self.buf
        return "".join(f"{p.name}={render(p, buf[pos:pos + ln], **hooks)} "  # type: ignore[arg-type]
                       for p, (pos, ln) in zip(params, spans, strict=False))

    def param_by_name(self, name: str) -> object:
        for i, p in enumerate(EVENTS[self.type].params):
            if p.name == name:
                return self.param(i)
        return None

    def __repr__(self) -> str:
        return f"<Event #{self.num} {EVENTS[self.type].name} tid={self.tid} ts={self.ts}>"
