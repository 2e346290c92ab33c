"""Crafted captures: every event type of the 2022 table with values chosen to
exercise each parameter type's decoding and rendering (errno names, flag
tables, buffers near the display limit, every address family...)."""

from __future__ import annotations

import random
import struct

from falcolite.events import table as t
from falcolite.events.table import EVENT_MAX_2022, EVENTS, ParamInfo
from falcolite.events.writer import (
    ScapWriter,
    fdlist,
    sockaddr_inet,
    sockaddr_unix,
    socktuple_inet,
    socktuple_unix,
)

_INT_SIZES = {
    t.PT_INT8: 1, t.PT_INT16: 2, t.PT_INT32: 4, t.PT_INT64: 8, t.PT_UINT8: 1, t.PT_UINT16: 2,
    t.PT_UINT32: 4, t.PT_UINT64: 8, t.PT_ERRNO: 8, t.PT_FD: 8, t.PT_PID: 8,
    t.PT_SYSCALLID: 2, t.PT_SIGTYPE: 1, t.PT_RELTIME: 8, t.PT_ABSTIME: 8, t.PT_PORT: 2,
    t.PT_L4PROTO: 1, t.PT_SOCKFAMILY: 1, t.PT_BOOL: 4, t.PT_FLAGS8: 1, t.PT_FLAGS16: 2,
    t.PT_FLAGS32: 4, t.PT_UID: 4, t.PT_GID: 4, t.PT_SIGSET: 4, t.PT_MODE: 4,
}
_SIGNED = {t.PT_INT8, t.PT_INT16, t.PT_INT32, t.PT_INT64, t.PT_ERRNO, t.PT_FD, t.PT_PID}

TEXTS = [b"/etc/passwd", b"", b"relative/path", b"x" * 79, b"y" * 80, b"z" * 81, b"w" * 300,
         b"caf\xc3\xa9 \xff\x01 tab\there", b"line\nbreak", b"(NULL)"]
BUFFERS = [b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", b"\x00\x01\x02abc\x7f\x80\xfe",
           b"a" * 77, b"b" * 78, b"c" * 80, b"d" * 81, bytes(range(256)), b"arg1\0arg2\0"]
SOCKADDRS = [sockaddr_inet("10.0.0.1", 80), sockaddr_inet("2001:db8::1", 443),
             sockaddr_inet("::ffff:1.2.3.4", 22), sockaddr_unix(b"/run/x.sock"),
             sockaddr_unix(b"abstract"), b"\x10", b"\x11abc"]
TUPLES = [socktuple_inet("10.0.0.1", 40000, "93.184.216.34", 80),
          socktuple_inet("2001:db8::1", 5000, "2001:db8::2", 53),
          socktuple_inet("::ffff:10.1.2.3", 1234, "::ffff:10.1.2.4", 80),
          socktuple_inet("::", 0, "::1", 8080),
          socktuple_unix(0, 0xFFFF88003C420800, b"/var/run/nscd/socket"),
          socktuple_unix(0xFFFF8800AA, 0, b""), b"\x10" + b"\0" * 12]


def int_values(p: ParamInfo, rng: random.Random) -> list[int]:
    size = _INT_SIZES[p.type]
    bits = 8 * size
    vals = [0, 1, 2, 3, 7, 255]
    if p.type in _SIGNED:
        vals += [-1, -2, -13, -22, -111, -512, -(1 << (bits - 1)), (1 << (bits - 1)) - 1]
        vals += [-i for i in range(1, 140)] + [-i for i in range(510, 520)]
    else:
        vals += [(1 << bits) - 1, (1 << bits) - 2]
    if p.type == t.PT_SIGTYPE:
        vals += list(range(0, 66))
    if p.type == t.PT_SYSCALLID:
        # sysdig 0.29.3 reads past its syscall table (and crashes) for
        # codes outside it, so only valid codes are written
        return list(range(len(t.SYSCALL_NAMES)))
    table = p.flag_table
    if table:
        vals += [v for _n, v in table]
        for _ in range(20):
            vals.append(rng.randrange(1 << min(bits, 32)))
        for a in table:
            for b in table[:6]:
                vals.append(a[1] | b[1])
    vals += [rng.randrange(1 << bits) for _ in range(5)]
    lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if p.type in _SIGNED else (
        0, (1 << bits) - 1)
    return [v for v in vals if lo <= v <= hi]


def encode_int(p: ParamInfo, v: int) -> bytes:
    size = _INT_SIZES[p.type]
    return v.to_bytes(size, "little", signed=p.type in _SIGNED)


def values_for(p: ParamInfo, rng: random.Random) -> list[bytes]:
    """Encoded candidate values for one parameter (always including empty)."""
    if p.type in _INT_SIZES:
        vals = [encode_int(p, v) for v in int_values(p, rng)]
    elif p.type in (t.PT_CHARBUF, t.PT_FSPATH, t.PT_FSRELPATH):
        vals = [s + b"\0" for s in TEXTS]
    elif p.type == t.PT_BYTEBUF:
        vals = list(BUFFERS)
    elif p.type == t.PT_SOCKADDR:
        vals = list(SOCKADDRS)
    elif p.type == t.PT_SOCKTUPLE:
        vals = list(TUPLES)
    elif p.type == t.PT_FDLIST:
        vals = [fdlist([]), fdlist([(3, 1)]), fdlist([(4, 0x204), (5, 1), (-1, 0)])]
    elif p.type == t.PT_DYN:
        alts = p.info if isinstance(p.info, tuple) else ()
        vals = []
        for sel, alt in enumerate(alts):
            for v in values_for(alt, rng)[:6]:
                vals.append(bytes([sel]) + v)
    elif p.type == t.PT_DOUBLE:
        vals = [struct.pack("<d", x) for x in (0.0, 1.5, -2.25)]
    else:
        vals = [b"\x01\x02\x03\x04"]
    if p.type == t.PT_SYSCALLID:  # an empty ID is garbage to sysdig
        return vals
    return [*vals, b""]


def _plausible(p: ParamInfo, cands: list[bytes]) -> list[bytes]:
    if p.type in (t.PT_CHARBUF, t.PT_FSPATH, t.PT_FSRELPATH):
        return [b"/etc/passwd\0", b"/usr/bin/true\0"]  # relative: sysdig crashes (execveat)
    if p.type == t.PT_BYTEBUF:
        return [b"arg1\0arg2\0", b"cpuset=/\0cpu=/user.slice\0"]
    if p.type == t.PT_FD:  # dirfds: AT_FDCWD; an unknown one crashes sysdig
        fds = [-100] if "dir" in p.name else [3, 4, 5]
        return [fd.to_bytes(8, "little", signed=True) for fd in fds]
    return cands[:4]


# Meta events whose payload sysdig parses as JSON (and stops reading on
# garbage): container, k8s, mesos.
SKIP = frozenset((228, 260, 270, 272, 324))


def write_crafted(path: str, seed: int = 1, event_version: int = 2,
                  compress: bool = False) -> int:
    """Every event type below 336 with parameter values cycling through the
    candidates; returns the number of events written."""
    rng = random.Random(seed)
    n = 0
    ts = 1_700_000_000_000_000_000
    with ScapWriter(path, compress=compress, event_version=event_version) as w:
        w.write_header()
        for code in range(EVENT_MAX_2022):
            info = EVENTS[code]
            if info.flags & t.EF_UNUSED or info.name == "NA" or code in SKIP or any(
                    p.type in (t.PT_CHARBUFARRAY, t.PT_CHARBUF_PAIR_ARRAY)
                    for p in info.params):
                continue  # sysdig crashes on the dead tracer events' pair arrays
            params = info.params[:t.NPARAMS_2022[code]]
            cands = [values_for(p, rng) for p in params]
            if info.flags & t.EF_MODIFIES_STATE:
                # sysdig's state tracker crashes on absurd process ids and
                # paths in these events: keep their values plausible (the
                # same types are exercised through other events)
                cands = [_plausible(p, c) for p, c in zip(params, cands, strict=True)]
                state_pids = True
            else:
                state_pids = False
            rounds = max([len(c) for c in cands] + [1])
            for r in range(rounds):
                vals = [c[(r + i) % len(c)] for i, c in enumerate(cands)]
                if event_version == 1 and info.large:
                    continue
                ts += 1000
                tid = 100 + (n % 7)
                if state_pids:
                    # a clone's child (res) must differ from the caller: a
                    # thread that is its own parent crashes sysdig at exit
                    vals = [(tid + 1000 * (p.name == "res")).to_bytes(8, "little")
                            if p.type == t.PT_PID else v
                            for p, v in zip(params, vals, strict=True)]
                w.write_event(code, ts, tid, vals, cpu=n % 4)
                n += 1
    return n
