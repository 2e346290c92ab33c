"""A scap capture writer: plain or gzip files that sysdig and falcolite read.

Tests use it to craft exact event sequences; live capture (`-w`) uses it to
save what it saw.  It writes the layout of scap-format.md 1.5: a section
header, machine info, interface and user lists, a process list and one fd
list per thread, then event blocks.
"""

from __future__ import annotations

import gzip
import io
import struct
from collections.abc import Sequence
from typing import BinaryIO

from . import table as t
from .records import (
    FD_FILE_V2,
    FD_IPV4_SERVSOCK,
    FD_IPV4_SOCK,
    FD_IPV6_SERVSOCK,
    FD_IPV6_SOCK,
    FD_UNIX_SOCK,
    CaptureMeta,
    FdRecord,
    ThreadRecord,
)
from .table import EVENTS, ParamInfo

BT_SHB = 0x0A0D0D0A
BT_MI = 0x201
BT_PL = {1: 0x202, 2: 0x207, 3: 0x209, 4: 0x210, 5: 0x211, 6: 0x212, 7: 0x213, 8: 0x214,
         9: 0x215}
BT_FDL_V1, BT_FDL_V2 = 0x203, 0x218
BT_EV_V1, BT_EVF_V1, BT_EV_V2, BT_EVF_V2 = 0x204, 0x208, 0x216, 0x217
BT_EV_V2_LARGE, BT_EVF_V2_LARGE = 0x221, 0x222
BT_IL_V1, BT_IL_V2 = 0x205, 0x219
BT_UL_V1, BT_UL_V2 = 0x206, 0x220

SHB_MAGIC = 0x1A2B3C4D
# v1 notification and infra events declared a length 3 bytes too large
V1_OVERSTATED = frozenset((280, 286))


def block(btype: int, body: bytes) -> bytes:
    """Frame a block: header, body, zero padding to 4 bytes, trailer."""
    total = 12 + len(body)
    pad = -total % 4
    total += pad
    return struct.pack("<II", btype, total) + body + b"\0" * pad + struct.pack("<I", total)


def str16(s: bytes) -> bytes:
    return struct.pack("<H", len(s)) + s


def encode_event(etype: int, ts: int, tid: int, params: Sequence[bytes]) -> bytes:
    """One event in the v2 encoding (header, length array, data)."""
    wide = EVENTS[etype].large if etype < len(EVENTS) else False
    lens = struct.pack(f"<{len(params)}{'I' if wide else 'H'}", *(len(p) for p in params))
    data = b"".join(params)
    total = 26 + len(lens) + len(data)
    return struct.pack("<QQIHI", ts, tid, total, etype, len(params)) + lens + data


def event_body(cpu: int, event: bytes, dump_flags: int | None, v1: bool) -> bytes:
    """An event block body: cpu, optional EVF flags, then the event (turned
    into the v1 header, which lacks nparams, when asked)."""
    if v1:
        ts, tid, length, etype, nparams = struct.unpack_from("<QQIHI", event)
        known = t.NPARAMS_2022[etype] if etype < len(t.NPARAMS_2022) else 0
        if nparams > known:
            # readers infer a v1 event's count from their table: more is corrupt
            raise ValueError(f"event type {etype} has {nparams} parameters, more than a v1 "
                             f"event block can hold ({known}): write event blocks v2")
        extra = b""
        if etype in V1_OVERSTATED:
            extra = b"\0" * 3  # what the old writers did, and readers expect
        event = (struct.pack("<QQIH", ts, tid, length - 4 + len(extra), etype) + event[26:]
                 + extra)
    head = struct.pack("<H", cpu)
    if dump_flags is not None:
        head += struct.pack("<I", dump_flags)
    return head + event


# ---------------------------------------------------------------- parameters

_INT_FMT = {
    t.PT_INT8: "<b", t.PT_INT16: "<h", t.PT_INT32: "<i", t.PT_INT64: "<q",
    t.PT_UINT8: "<B", t.PT_UINT16: "<H", t.PT_UINT32: "<I", t.PT_UINT64: "<Q",
    t.PT_ERRNO: "<q", t.PT_FD: "<q", t.PT_PID: "<q", t.PT_SYSCALLID: "<H", t.PT_SIGTYPE: "<B",
    t.PT_RELTIME: "<Q", t.PT_ABSTIME: "<Q", t.PT_PORT: "<H", t.PT_L4PROTO: "<B",
    t.PT_SOCKFAMILY: "<B", t.PT_BOOL: "<I", t.PT_FLAGS8: "<B", t.PT_FLAGS16: "<H",
    t.PT_FLAGS32: "<I", t.PT_UID: "<I", t.PT_GID: "<I", t.PT_SIGSET: "<I", t.PT_MODE: "<I",
    t.PT_ENUMFLAGS8: "<B", t.PT_ENUMFLAGS16: "<H", t.PT_ENUMFLAGS32: "<I", t.PT_FD32: "<i",
    t.PT_PID32: "<i", t.PT_DOUBLE: "<d",
}


def encode_param(p: ParamInfo, value: object) -> bytes:
    """Encode a Python value for parameter `p`: ints for numeric types, str or
    bytes for strings (NUL added), bytes for buffers, addresses and tuples
    (see sockaddr/socktuple), None for an empty parameter."""
    if value is None:
        return b""
    fmt = _INT_FMT.get(p.type)
    if fmt is not None:
        if fmt[1].isupper() and isinstance(value, int) and value < 0 and fmt != "<d":
            value &= (1 << (8 * struct.calcsize(fmt))) - 1  # -1 as an unsigned field
        return struct.pack(fmt, value)
    if isinstance(value, str):
        value = value.encode()
    if p.type in (t.PT_CHARBUF, t.PT_FSPATH, t.PT_FSRELPATH):
        return bytes(value) + b"\0"  # type: ignore[arg-type]
    return bytes(value)  # type: ignore[arg-type]


def sockaddr_inet(ip: str, port: int) -> bytes:
    import ipaddress

    addr = ipaddress.ip_address(ip)
    fam = 2 if addr.version == 4 else 10
    return bytes([fam]) + addr.packed + struct.pack("<H", port)


def sockaddr_unix(path: bytes) -> bytes:
    return b"\x01" + path + b"\0"


def socktuple_inet(sip: str, sport: int, dip: str, dport: int) -> bytes:
    import ipaddress

    s, d = ipaddress.ip_address(sip), ipaddress.ip_address(dip)
    fam = 2 if s.version == 4 else 10
    return (bytes([fam]) + s.packed + struct.pack("<H", sport) + d.packed
            + struct.pack("<H", dport))


def socktuple_unix(sptr: int, dptr: int, path: bytes) -> bytes:
    return b"\x01" + struct.pack("<QQ", sptr, dptr) + path + b"\0"


def fdlist(items: Sequence[tuple[int, int]]) -> bytes:
    return struct.pack("<H", len(items)) + b"".join(struct.pack("<qH", fd, fl)
                                                    for fd, fl in items)


# ------------------------------------------------------------- metadata

def _thread_entry(th: ThreadRecord, version: int, new_tail: bool) -> bytes:
    out = struct.pack("<QQQ", th.tid, th.pid, th.ptid)
    if version >= 6:
        out += struct.pack("<q", th.sid)
    if version >= 8:
        out += struct.pack("<q", th.vpgid)
    out += str16(th.comm) + str16(th.exe)
    if version >= 7:
        out += str16(th.exepath)
    out += str16(th.args) + str16(th.cwd)
    out += struct.pack("<QIII", th.fdlimit, th.flags, th.uid, th.gid)
    if version >= 2:
        out += struct.pack("<IIIQQ", th.vmsize_kb, th.vmrss_kb, th.vmswap_kb, th.pfmajor,
                           th.pfminor)
    if version >= 3:
        out += str16(th.env)
    if version >= 4:
        out += struct.pack("<qq", th.vtid, th.vpid) + str16(th.cgroups)
    if version >= 5:
        out += str16(th.root)
    if version >= 9:
        if new_tail:
            out += struct.pack(
                "<QIIBQQQBQQQBBq", th.pidns_init_start_ts, th.tty, th.loginuid,
                th.exe_writable, th.cap_inheritable, th.cap_permitted, th.cap_effective,
                th.exe_upper_layer, th.exe_ino, th.exe_ino_ctime, th.exe_ino_mtime,
                th.exe_from_memfd, th.exe_lower_layer, th.pgid)
        else:  # the layout sysdig 0.29.3 writes and reads
            out += struct.pack("<IB", th.loginuid, th.exe_writable)
        out = struct.pack("<I", len(out) + 4) + out
    return out


def _fd_entry(fd: FdRecord, v2: bool) -> bytes:
    out = struct.pack("<qQB", fd.fd, fd.ino, fd.type)
    if fd.type in (FD_IPV4_SOCK, FD_IPV6_SOCK):
        out += fd.sip + fd.dip + struct.pack("<HHB", fd.sport, fd.dport, fd.l4proto)
    elif fd.type in (FD_IPV4_SERVSOCK, FD_IPV6_SERVSOCK):
        out += fd.sip + struct.pack("<HB", fd.sport, fd.l4proto)
    elif fd.type == FD_UNIX_SOCK:
        out += struct.pack("<QQ", fd.source, fd.destination) + str16(fd.name)
    elif fd.type == FD_FILE_V2:
        out += struct.pack("<I", fd.open_flags) + str16(fd.name)
        if v2 and fd.dev is not None:
            out += struct.pack("<I", fd.dev)
    elif fd.type != 0:
        out += str16(fd.name)
    if v2:
        out = struct.pack("<I", len(out) + 4) + out
    return out


class ScapWriter:
    """Writes one section: metadata first, then events.

    event_version 1 writes EV/EVF v1 blocks (22-byte headers), 2 the current
    v2 blocks; large-payload event types always go into "large" blocks.
    """

    def __init__(self, dest: str | BinaryIO, compress: bool = False, event_version: int = 2,
                 pl_version: int = 9, list_version: int = 2, new_pl_tail: bool = False,
                 minor: int = 2) -> None:
        raw: BinaryIO = open(dest, "wb") if isinstance(dest, str) else dest
        self._own = isinstance(dest, str)
        self._raw = raw
        self._out: BinaryIO = gzip.GzipFile(fileobj=raw, mode="wb") if compress else raw
        self.event_version = event_version
        self.pl_version = pl_version
        self.list_version = list_version
        self.new_pl_tail = new_pl_tail
        self.minor = minor
        self.events_written = 0
        self._header_done = False

    def write_block(self, btype: int, body: bytes) -> None:
        self._out.write(block(btype, body))

    def write_header(self, meta: CaptureMeta | None = None) -> None:
        """Section header and the metadata blocks of `meta`."""
        self.write_block(BT_SHB, struct.pack("<IHHq", SHB_MAGIC, 1, self.minor, -1))
        self._header_done = True
        if meta is None:
            return
        if meta.machine is not None:
            m = meta.machine
            host = m.hostname.encode()[:128].ljust(128, b"\0")
            self.write_block(BT_MI, struct.pack("<IQQ", m.num_cpus, m.memory_size_bytes,
                                                m.max_pid) + host
                             + struct.pack("<QQQQ", m.boot_ts_epoch, m.flags, 0, 0))
        v2 = self.list_version == 2
        if meta.interfaces:
            body = io.BytesIO()
            for i in meta.interfaces:
                e = struct.pack("<HH", i.type, len(i.name)) + i.addr + i.netmask + i.bcast
                if i.type in (1, 2):
                    e += struct.pack("<Q", i.linkspeed)
                e += i.name
                body.write(struct.pack("<I", len(e)) + e if v2 else e)  # excludes itself
            self.write_block(BT_IL_V2 if v2 else BT_IL_V1, body.getvalue())
        if meta.users or meta.groups:
            body = io.BytesIO()
            entries = [b"\0" + struct.pack("<II", u.uid, u.gid) + str16(u.name)
                       + str16(u.homedir) + str16(u.shell) for u in meta.users]
            entries += [b"\1" + struct.pack("<I", g.gid) + str16(g.name) for g in meta.groups]
            for e in entries:
                body.write(struct.pack("<I", len(e) + 4) + e if v2 else e)
            self.write_block(BT_UL_V2 if v2 else BT_UL_V1, body.getvalue())
        if meta.threads:
            self.write_block(BT_PL[self.pl_version], b"".join(
                _thread_entry(th, self.pl_version, self.new_pl_tail) for th in meta.threads))
            for th in meta.threads:
                fds = [f for f in meta.fds if f.tid == th.tid]
                self.write_block(BT_FDL_V2 if v2 else BT_FDL_V1, struct.pack("<Q", th.tid)
                                 + b"".join(_fd_entry(f, v2) for f in fds))

    def write_event(self, etype: int, ts: int, tid: int, params: Sequence[bytes],
                    cpu: int = 0, dump_flags: int | None = None) -> None:
        """An event from raw parameter bytes; dump_flags makes it an EVF block."""
        self.write_encoded(encode_event(etype, ts, tid, params), cpu, dump_flags)

    def write_values(self, etype: int, ts: int, tid: int, values: Sequence[object],
                     cpu: int = 0, dump_flags: int | None = None) -> None:
        """An event from Python values, encoded by the table's parameter types."""
        params = EVENTS[etype].params
        self.write_event(etype, ts, tid, [encode_param(params[i], v)
                                          for i, v in enumerate(values)], cpu, dump_flags)

    def write_encoded(self, event: bytes, cpu: int = 0, dump_flags: int | None = None) -> None:
        """An event already in the v2 encoding (as batches and the probe hold them)."""
        if not self._header_done:
            self.write_header()
        etype = struct.unpack_from("<H", event, 20)[0]
        large = etype < len(EVENTS) and EVENTS[etype].large
        evf = dump_flags is not None
        if large:
            bt = BT_EVF_V2_LARGE if evf else BT_EV_V2_LARGE
            v1 = False
        elif self.event_version == 1:
            bt = BT_EVF_V1 if evf else BT_EV_V1
            v1 = True
        else:
            bt = BT_EVF_V2 if evf else BT_EV_V2
            v1 = False
        self.write_block(bt, event_body(cpu, event, dump_flags, v1))
        self.events_written += 1

    def close(self) -> None:
        if self._out is not self._raw:
            self._out.close()
        if self._own:
            self._raw.close()
        else:
            self._raw.flush()

    def __enter__(self) -> ScapWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
