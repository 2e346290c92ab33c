"""The event table as Python objects: codes, names, directions, parameters.

Built once at import from the generated data in table_data.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import table_data

# Parameter types (PT_*), scap-format.md 4.1
PT_INT8, PT_INT16, PT_INT32, PT_INT64 = 1, 2, 3, 4
PT_UINT8, PT_UINT16, PT_UINT32, PT_UINT64 = 5, 6, 7, 8
PT_CHARBUF, PT_BYTEBUF, PT_ERRNO, PT_SOCKADDR, PT_SOCKTUPLE = 9, 10, 11, 12, 13
PT_FD, PT_PID, PT_FDLIST, PT_FSPATH, PT_SYSCALLID, PT_SIGTYPE = 14, 15, 16, 17, 18, 19
PT_RELTIME, PT_ABSTIME, PT_PORT, PT_L4PROTO, PT_SOCKFAMILY, PT_BOOL = 20, 21, 22, 23, 24, 25
PT_IPV4ADDR, PT_DYN, PT_FLAGS8, PT_FLAGS16, PT_FLAGS32 = 26, 27, 28, 29, 30
PT_UID, PT_GID, PT_DOUBLE, PT_SIGSET = 31, 32, 33, 34
PT_CHARBUFARRAY, PT_CHARBUF_PAIR_ARRAY = 35, 36
PT_IPV4NET, PT_IPV6ADDR, PT_IPV6NET, PT_IPADDR, PT_IPNET, PT_MODE, PT_FSRELPATH = (
    37, 38, 39, 40, 41, 42, 43)
PT_ENUMFLAGS8, PT_ENUMFLAGS16, PT_ENUMFLAGS32, PT_FD32, PT_PID32 = 44, 45, 46, 47, 48

# Print formats (PF_*)
PF_NA, PF_DEC, PF_HEX, PF_10_PADDED_DEC, PF_ID, PF_DIR, PF_OCT = 0, 1, 2, 3, 4, 5, 6

# Event flags (EF_*), scap-format.md 6
EF_CREATES_FD = 0x1
EF_DESTROYS_FD = 0x2
EF_USES_FD = 0x4
EF_READS_FROM_FD = 0x8
EF_WRITES_TO_FD = 0x10
EF_MODIFIES_STATE = 0x20
EF_UNUSED = 0x40
EF_WAITS = 0x80
EF_SKIPPARSERESET = 0x100
EF_OLD_VERSION = 0x200
EF_DROP_SIMPLE_CONS = 0x400
EF_LARGE_PAYLOAD = 0x800

# EVF dump flags (scap-format.md 3.5)
DF_STATE_ONLY = 0x1

EVENT_MAX = len(table_data.EVENTS)
GENERIC_E, GENERIC_X = 0, 1
# The table size of sysdig 0.29.3, which skips (and does not number) later types.
EVENT_MAX_2022 = 336


@dataclass(frozen=True, slots=True)
class ParamInfo:
    name: str
    type: int
    fmt: int
    info: object  # flag table name, dirfd index, or DYN alternatives

    @property
    def flag_table(self) -> tuple[tuple[str, int], ...] | None:
        if isinstance(self.info, str):
            return table_data.FLAG_TABLES.get(self.info)
        return None


@dataclass(frozen=True, slots=True)
class EventInfo:
    code: int
    name: str
    category: int
    flags: int
    params: tuple[ParamInfo, ...]

    @property
    def is_enter(self) -> bool:
        return self.code % 2 == 0

    @property
    def dir(self) -> str:
        return ">" if self.code % 2 == 0 else "<"

    @property
    def large(self) -> bool:
        return bool(self.flags & EF_LARGE_PAYLOAD)


def _param(p: tuple) -> ParamInfo:
    name, ptype, fmt, info = p
    if isinstance(info, tuple):
        info = tuple(_param(d) for d in info)
    return ParamInfo(name, ptype, fmt, info)


EVENTS: tuple[EventInfo, ...] = tuple(
    EventInfo(code, name, cat, flags, tuple(_param(p) for p in params))
    for code, (name, cat, flags, params) in enumerate(table_data.EVENTS)
)

# Meta events (procinfo, container, switch...) use only the even code; their
# odd half is a placeholder.  Every other pair is enter (even) / exit (odd).

SYSCALL_NAMES: tuple[str, ...] = tuple(s[0] for s in table_data.SYSCALLS)
SYSCALL_FLAGS: tuple[int, ...] = tuple(s[2] for s in table_data.SYSCALLS)

# Event names, many codes each (execve has 8 pairs); NA placeholders excluded.
CODES_BY_NAME: dict[str, tuple[int, ...]] = {}
for _e in EVENTS:
    if not (_e.flags & EF_UNUSED) and _e.name not in ("NA",):
        CODES_BY_NAME[_e.name] = (*CODES_BY_NAME.get(_e.name, ()), _e.code)

NPARAMS_2022: tuple[int, ...] = table_data.NPARAMS_2022


def reader_arrays() -> tuple[bytes, bytes]:
    """Per-type parameter count for inferring v1 events and the large-payload
    flag, as the C reader takes them."""
    nparams = bytes(min(n, 255) for n in NPARAMS_2022)
    large = bytes(1 if e.large else 0 for e in EVENTS)
    return nparams, large

# PARAM_INDEX[code][name] -> position of that parameter in the event
PARAM_INDEX: tuple[dict[str, int], ...] = tuple(
    {p.name: i for i, p in reversed(list(enumerate(e.params)))} for e in EVENTS)
