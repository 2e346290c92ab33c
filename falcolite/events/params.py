"""Decoding and text rendering of event parameters by type.

`decode` turns a parameter's bytes into a Python value; `render` prints it
the way sysdig's `%evt.args` does for the parameter alone.  Decorations that
need process state (an fd's name, a pid's command) are added by the caller
through the `fd_note`/`pid_note` hooks.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Callable
from dataclasses import dataclass

from . import table as t
from .names import ERRNO_NAMES, SIGNAL_NAMES
from .table import ParamInfo

_INT = {
    t.PT_INT8: "<b", t.PT_INT16: "<h", t.PT_INT32: "<i", t.PT_INT64: "<q",
    t.PT_UINT8: "<B", t.PT_UINT16: "<H", t.PT_UINT32: "<I", t.PT_UINT64: "<Q",
    t.PT_ERRNO: "<q", t.PT_FD: "<q", t.PT_PID: "<q", t.PT_SYSCALLID: "<H",
    t.PT_SIGTYPE: "<B", t.PT_RELTIME: "<Q", t.PT_ABSTIME: "<Q", t.PT_PORT: "<H",
    t.PT_L4PROTO: "<B", t.PT_SOCKFAMILY: "<B", t.PT_BOOL: "<I", t.PT_FLAGS8: "<B",
    t.PT_FLAGS16: "<H", t.PT_FLAGS32: "<I", t.PT_UID: "<I", t.PT_GID: "<I",
    t.PT_SIGSET: "<I", t.PT_MODE: "<I", t.PT_ENUMFLAGS8: "<B", t.PT_ENUMFLAGS16: "<H",
    t.PT_ENUMFLAGS32: "<I", t.PT_FD32: "<i", t.PT_PID32: "<i", t.PT_DOUBLE: "<d",
}
_INT_STRUCTS = {k: struct.Struct(v) for k, v in _INT.items()}
_STRINGS = frozenset((t.PT_CHARBUF, t.PT_FSPATH, t.PT_FSRELPATH))
_FLAGS = frozenset((t.PT_FLAGS8, t.PT_FLAGS16, t.PT_FLAGS32, t.PT_ENUMFLAGS8,
                    t.PT_ENUMFLAGS16, t.PT_ENUMFLAGS32, t.PT_MODE))
_SIGNED_MASK = {t.PT_INT8: 0xFF, t.PT_INT16: 0xFFFF, t.PT_INT32: 0xFFFFFFFF,
                t.PT_INT64: 0xFFFFFFFFFFFFFFFF}

AF_UNIX, AF_INET, AF_INET6 = 1, 2, 10
AT_FDCWD = -100
BUF_DISPLAY_MAX = 80  # longer byte buffers print cut, with "..."
_V4_MAPPED = b"\0" * 10 + b"\xff\xff"


@dataclass(frozen=True, slots=True)
class SockAddr:
    family: int
    addr: bytes = b""  # network order
    port: int = 0
    path: bytes = b""  # unix sockets


@dataclass(frozen=True, slots=True)
class SockTuple:
    family: int
    saddr: bytes = b""
    sport: int = 0
    daddr: bytes = b""
    dport: int = 0
    sptr: int = 0  # unix sockets: kernel addresses of the two ends
    dptr: int = 0
    path: bytes = b""


def cstring(raw: bytes) -> bytes:
    """The bytes of a NUL-terminated string parameter, up to the first NUL."""
    nul = raw.find(b"\0")
    return raw if nul < 0 else raw[:nul]


def _sockaddr(raw: bytes) -> SockAddr | None:
    fam = raw[0]
    if fam == AF_INET and len(raw) >= 7:
        return SockAddr(fam, raw[1:5], struct.unpack_from("<H", raw, 5)[0])
    if fam == AF_INET6 and len(raw) >= 19:
        return SockAddr(fam, raw[1:17], struct.unpack_from("<H", raw, 17)[0])
    if fam == AF_UNIX:
        return SockAddr(fam, path=cstring(raw[1:]))
    return SockAddr(fam)


def _socktuple(raw: bytes) -> SockTuple | None:
    fam = raw[0]
    if fam == AF_INET and len(raw) >= 13:
        sp, = struct.unpack_from("<H", raw, 5)
        dp, = struct.unpack_from("<H", raw, 11)
        return SockTuple(fam, raw[1:5], sp, raw[7:11], dp)
    if fam == AF_INET6 and len(raw) >= 37:
        sp, = struct.unpack_from("<H", raw, 17)
        dp, = struct.unpack_from("<H", raw, 35)
        return SockTuple(fam, raw[1:17], sp, raw[19:35], dp)
    if fam == AF_UNIX and len(raw) >= 17:
        sptr, dptr = struct.unpack_from("<QQ", raw, 1)
        return SockTuple(fam, sptr=sptr, dptr=dptr, path=cstring(raw[17:]))
    return SockTuple(fam)


def _fdlist(raw: bytes) -> list[tuple[int, int]]:
    if len(raw) < 2:
        return []
    n, = struct.unpack_from("<H", raw, 0)
    n = min(n, (len(raw) - 2) // 10)
    return [struct.unpack_from("<qH", raw, 2 + 10 * i) for i in range(n)]


def decode(p: ParamInfo, raw: bytes) -> object:
    """The value of one parameter; None for an empty (length 0) parameter or
    bytes that do not fit the declared type."""
    if not raw:
        return None
    ptype = p.type
    st = _INT_STRUCTS.get(ptype)
    if st is not None:
        if len(raw) != st.size:
            return _resized_int(ptype, raw)
        return st.unpack(raw)[0]
    if ptype in _STRINGS:
        return cstring(raw)
    if ptype == t.PT_SOCKADDR:
        return _sockaddr(raw)
    if ptype == t.PT_SOCKTUPLE:
        return _socktuple(raw)
    if ptype == t.PT_FDLIST:
        return _fdlist(raw)
    if ptype == t.PT_DYN:
        alts = p.info if isinstance(p.info, tuple) else ()
        sel = raw[0]
        if sel < len(alts):
            return (sel, decode(alts[sel], raw[1:]))
        return (sel, raw[1:])
    if ptype in (t.PT_IPV4ADDR, t.PT_IPV6ADDR):
        return raw
    return raw  # BYTEBUF, CHARBUFARRAY and anything unknown


Decoder = Callable[[bytes, int, int], object]


def decoder_for(p: ParamInfo) -> Decoder:
    """`decode` for parameter p as a function of (buffer, offset, length):
    fixed-size integers unpack in place, without slicing the buffer."""
    st = _INT_STRUCTS.get(p.type)
    if st is None:
        return lambda buf, pos, ln: decode(p, buf[pos:pos + ln])
    size, unpack = st.size, st.unpack_from

    def integer(buf: bytes, pos: int, ln: int) -> object:
        if ln == size:
            return unpack(buf, pos)[0]
        return decode(p, buf[pos:pos + ln])
    return integer


def _resized_int(ptype: int, raw: bytes) -> int | None:
    """An integer parameter stored with another width than its type's (old
    drivers did this for a few parameters): read it at the width found."""
    if len(raw) not in (1, 2, 4, 8) or ptype == t.PT_DOUBLE:
        return None
    signed = ptype in (t.PT_INT8, t.PT_INT16, t.PT_INT32, t.PT_INT64, t.PT_ERRNO, t.PT_FD,
                       t.PT_PID, t.PT_FD32, t.PT_PID32)
    return int.from_bytes(raw, "little", signed=signed)


# ---------------------------------------------------------------- rendering

def render_flags(value: int, table: tuple[tuple[str, int], ...] | None,
                 fmt: int = t.PF_DEC) -> str:
    """`value(NAME|NAME)` as sysdig prints flag parameters: each table entry
    whose bits are all set is named once and its bits consumed; a zero
    entry names only the value 0.  Modes print in octal."""
    number = (f"0{value:o}" if value else "0") if fmt == t.PF_OCT else str(value)
    if not table:
        return number
    names = []
    rest = value
    for name, bits in table:
        if bits == 0:
            if value == 0:
                names.append(name)
        elif rest & bits == bits:
            names.append(name)
            rest &= ~bits
    return f"{number}({'|'.join(names)})" if names else number


def render_errno(value: int) -> str:
    if value < 0:
        name = ERRNO_NAMES.get(-value)
        if name:
            return f"{value}({name})"
    return str(value)


def render_fd(value: int) -> str:
    if value == AT_FDCWD:
        return f"{value}(AT_FDCWD)"
    return render_errno(value)


_AS_SIGNED = {t.PT_UINT32: 32, t.PT_UINT64: 64}


def render_int(value: int, fmt: int, ptype: int) -> str:
    if fmt == t.PF_HEX:
        if value < 0:
            value &= _SIGNED_MASK.get(ptype, 0xFFFFFFFFFFFFFFFF)
        return f"{value:X}"
    if fmt == t.PF_OCT:
        return f"0{value:o}" if value else "0"
    if fmt == t.PF_10_PADDED_DEC:
        return f"{value:09d}"
    bits = _AS_SIGNED.get(ptype)
    if bits and value >= 1 << (bits - 1):
        value -= 1 << bits  # sysdig prints 32/64-bit unsigned decimals as signed
    return str(value)


def render_reltime(value: int) -> str:
    if value == 0xFFFFFFFFFFFFFFFF:
        return "none"
    return f"{value}({value / 1e9:g}s)"


def render_id(value: int, note: str | None) -> str:
    """uid/gid parameters: signed, with the name (or <NONE> for -1)."""
    if value >= 1 << 31:
        value -= 1 << 32
    if value == -1:
        return "-1(<NONE>)"
    return f"{value}({note})" if note else str(value)


def render_sigset(value: int) -> str:
    """Blocked signals by name; sysdig names signals 1-31 only."""
    return " ".join(SIGNAL_NAMES[i + 1] for i in range(31) if value >> i & 1)


def printable(data: bytes) -> str:
    """Byte buffers as sysdig prints them: printable ASCII kept, every other
    byte shown as '.'."""
    return data.decode("latin-1").translate(_DOTS)


_DOTS = {i: "." for i in range(256) if not (32 <= i < 127)}


def render_ip(addr: bytes) -> str:
    if len(addr) == 4:
        return ".".join(str(b) for b in addr)
    if len(addr) == 16:
        return socket.inet_ntop(socket.AF_INET6, addr)
    return ""


def render_buffer(data: bytes) -> str:
    text = printable(data)
    if len(text) > BUF_DISPLAY_MAX:
        return text[:BUF_DISPLAY_MAX - 3] + "..."
    return text


def raw_text(data: bytes) -> str:
    """Strings print as they are (no escaping), like sysdig's evt.args."""
    return data.decode("utf-8", errors="surrogateescape")


def path_text(data: bytes) -> str:
    """Paths print with every byte outside printable ASCII dropped."""
    return data.decode("latin-1").translate(_DROP)


_DROP = {i: None for i in range(256) if not (32 <= i < 127)}


def render_sockaddr(sa: SockAddr) -> str:
    if sa.family in (AF_INET, AF_INET6):
        return f"{render_ip(sa.addr)}:{sa.port}"
    if sa.family == AF_UNIX:
        return printable(sa.path)
    return "NULL"


def render_socktuple(st: SockTuple) -> str:
    if st.family in (AF_INET, AF_INET6):
        s, d = st.saddr, st.daddr
        if s.startswith(_V4_MAPPED) and d.startswith(_V4_MAPPED):
            s, d = s[12:], d[12:]  # libsinsp shows IPv4-mapped tuples as IPv4
        return f"{render_ip(s)}:{st.sport}->{render_ip(d)}:{st.dport}"
    if st.family == AF_UNIX:
        return f"{st.sptr:x}->{st.dptr:x} {printable(st.path)}"
    return "NULL"


Note = Callable[[int], str | None]


def render(p: ParamInfo, raw: bytes | None, fd_note: Note | None = None,
           pid_note: Note | None = None, fd_char: Note | None = None,
           uid_note: Note | None = None, gid_note: Note | None = None) -> str:
    """One parameter's text in `%evt.args` style.  The hooks give the state
    decorations: an fd's `(<f>/path)`, a pid's `(comm)`, an fd's type
    character in fd lists, user and group names."""
    ptype = p.type
    if raw is None or not raw:
        if ptype == t.PT_BYTEBUF:
            return ""
        return "NULL" if ptype in (t.PT_SOCKTUPLE, t.PT_FDLIST, t.PT_DYN,
                                   t.PT_SOCKADDR) else "<NA>"
    value = decode(p, raw)
    if value is None:
        return "<NA>"
    if ptype == t.PT_CHARBUF:
        return raw_text(value)  # type: ignore[arg-type]
    if ptype in _STRINGS:
        return path_text(value)  # type: ignore[arg-type]
    if ptype == t.PT_BYTEBUF or ptype == t.PT_CHARBUFARRAY:
        return render_buffer(value)  # type: ignore[arg-type]
    if ptype == t.PT_ERRNO:
        return render_errno(value)  # type: ignore[arg-type]
    if ptype in (t.PT_FD, t.PT_FD32):
        if value < 0:  # type: ignore[operator]
            return render_fd(value)  # type: ignore[arg-type]
        note = fd_note(value) if fd_note else None  # type: ignore[arg-type]
        return f"{value}{note}" if note else str(value)
    if ptype in (t.PT_PID, t.PT_PID32):
        note = pid_note(value) if pid_note else None  # type: ignore[arg-type]
        return f"{value}{note}" if note else str(value)
    if ptype in _FLAGS:
        return render_flags(value, p.flag_table, p.fmt)  # type: ignore[arg-type]
    if ptype == t.PT_SYSCALLID:
        return t.SYSCALL_NAMES[value] if value < len(t.SYSCALL_NAMES) else str(value)  # type: ignore[operator,index]
    if ptype == t.PT_SIGTYPE:
        name = SIGNAL_NAMES.get(value)  # type: ignore[arg-type]
        return f"{value}({name})" if name else str(value)
    if ptype == t.PT_SOCKADDR:
        return render_sockaddr(value)  # type: ignore[arg-type]
    if ptype == t.PT_SOCKTUPLE:
        return render_socktuple(value)  # type: ignore[arg-type]
    if ptype == t.PT_FDLIST:
        # fd (as unsigned), its type character ('?' when unknown), flags in hex
        return " ".join(f"{fd & 0xFFFFFFFFFFFFFFFF}:{(fd_char(fd) if fd_char else None) or '?'}"
                        f"{fl:x}" for fd, fl in value)  # type: ignore[union-attr]
    if ptype == t.PT_DYN:
        sel, inner = value  # type: ignore[misc]
        alts = p.info if isinstance(p.info, tuple) else ()
        if sel < len(alts):
            return render(alts[sel], raw[1:], fd_note, pid_note, fd_char, uid_note, gid_note)
        return printable(inner)
    if ptype in (t.PT_IPV4ADDR, t.PT_IPV6ADDR):
        return render_ip(value)  # type: ignore[arg-type]
    if ptype == t.PT_UID or ptype == t.PT_GID:
        hook = uid_note if ptype == t.PT_UID else gid_note
        return render_id(value, hook(value) if hook else None)  # type: ignore[arg-type]
    if ptype == t.PT_RELTIME:
        return render_reltime(value)  # type: ignore[arg-type]
    if ptype == t.PT_SIGSET:
        return render_sigset(value)  # type: ignore[arg-type]
    if ptype == t.PT_DOUBLE:
        return f"{value:.2f}"
    if isinstance(value, int):
        return render_int(value, p.fmt, ptype)
    return printable(value)  # type: ignore[arg-type]
