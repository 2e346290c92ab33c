"""TraceSource: events and metadata of a scap capture file, through the C
reader (falcolite._cdriver)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from .._cdriver import ffi, lib
from ..events.event import Event
from ..events.records import (
    CaptureMeta,
    FdRecord,
    GroupRecord,
    InterfaceRecord,
    Machine,
    ThreadRecord,
    UserRecord,
)
from ..events.table import EVENT_MAX, SYSCALL_NAMES, reader_arrays
from .batch import Batch, batch_from


class CaptureError(Exception):
    """A capture that cannot be read: the message names the byte offset."""


def _bytes(s) -> bytes:  # an fl_bytes
    return ffi.unpack(ffi.cast("char *", s.ptr), s.len) if s.len else b""


class TraceSource:
    """A capture file opened for reading; iterate `batches()` or `events()`."""

    def __init__(self, path: str, batch_size: int = 4096) -> None:
        self.path = path
        self.batch_size = batch_size
        self._err = ffi.new("char[]", lib.FL_ERRLEN)
        nparams, large = reader_arrays()
        out = ffi.new("fl_reader **")
        if lib.fl_open(path.encode(), nparams, large, EVENT_MAX, out, self._err) != lib.FL_OK:
            raise CaptureError(self._error())
        self._r = ffi.gc(out[0], lib.fl_close)
        self._batch = ffi.new("fl_batch *")
        self.section = 1
        self.meta = self._load_meta()
        self.sections_seen = 1

    def _error(self) -> str:
        return f"{self.path}: {ffi.string(self._err).decode(errors='replace')}"

    def close(self) -> None:
        if self._r is not None:
            ffi.release(self._r)  # runs fl_close now
            self._r = None

    def __enter__(self) -> TraceSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def set_interesting(self, codes: Iterable[int] | None) -> None:
        """Only these event types reach Python (None: all of them)."""
        bitmap = bytearray((EVENT_MAX + 7) // 8)
        if codes is None:
            bitmap[:] = b"\xff" * len(bitmap)
        else:
            for c in codes:
                if 0 <= c < EVENT_MAX:
                    bitmap[c >> 3] |= 1 << (c & 7)
        lib.fl_set_interesting(self._r, bytes(bitmap))

    def set_interesting_syscalls(self, codes: Iterable[int] | None) -> None:
        """Generic events reach Python only for these PPM_SC codes (None: all)."""
        if codes is None:
            lib.fl_set_interesting_syscalls(self._r, ffi.NULL, 0)
            return
        n = len(SYSCALL_NAMES)
        bitmap = bytearray((n + 7) // 8)
        for c in codes:
            if 0 <= c < n:
                bitmap[c >> 3] |= 1 << (c & 7)
        lib.fl_set_interesting_syscalls(self._r, bytes(bitmap), n)

    def stats(self) -> dict[str, int]:
        s = ffi.new("fl_stats *")
        lib.fl_get_stats(self._r, s)
        return {name: getattr(s, name) for name in (
            "n_events", "n_filtered", "n_unknown_type", "n_blocks", "n_unknown_blocks",
            "n_sections", "bytes", "compressed", "first_ts", "last_ts")}

    def type_counts(self) -> list[int]:
        """Events read per type, those the prefilter skipped included."""
        out = ffi.new("uint64_t[]", EVENT_MAX)
        lib.fl_get_type_counts(self._r, out)
        return list(out)

    def next_batch(self) -> Batch | None:
        """The next batch, or None at the end of the capture."""
        b = self._batch
        rc = lib.fl_next_batch(self._r, self.batch_size, b, self._err)
        if rc == lib.FL_ERR:
            raise CaptureError(self._error())
        if rc == lib.FL_EOF:
            return None
        if b.section != self.section:
            self.section = b.section
            self.sections_seen += 1
            self.meta = self._load_meta()
        return batch_from(b)

    def batches(self) -> Iterator[Batch]:
        while (batch := self.next_batch()) is not None:
            yield batch

    def events(self) -> Iterator[Event]:
        for batch in self.batches():
            yield from batch.events()

    def _load_meta(self) -> CaptureMeta:
        m = ffi.new("fl_meta *")
        lib.fl_get_meta(self._r, m)
        meta = CaptureMeta(version=(m.shb_major, m.shb_minor))
        mi = m.machine
        if mi.present:
            meta.machine = Machine(mi.num_cpus, mi.memory_size_bytes, mi.max_pid,
                                   ffi.string(mi.hostname).decode(errors="replace"),
                                   mi.boot_ts_epoch, mi.flags)
        for i in range(m.n_threads):
            t = m.threads[i]
            meta.threads.append(ThreadRecord(
                tid=t.tid, pid=t.pid, ptid=t.ptid, comm=_bytes(t.comm), exe=_bytes(t.exe),
                exepath=_bytes(t.exepath), args=_bytes(t.args), cwd=_bytes(t.cwd),
                fdlimit=t.fdlimit, flags=t.flags, uid=t.uid, gid=t.gid,
                vmsize_kb=t.vmsize_kb, vmrss_kb=t.vmrss_kb, vmswap_kb=t.vmswap_kb,
                pfmajor=t.pfmajor, pfminor=t.pfminor, env=_bytes(t.env), vtid=t.vtid,
                vpid=t.vpid, cgroups=_bytes(t.cgroups), root=_bytes(t.root), sid=t.sid,
                vpgid=t.vpgid, pgid=t.pgid, pidns_init_start_ts=t.pidns_init_start_ts,
                tty=t.tty, loginuid=t.loginuid, exe_writable=bool(t.exe_writable),
                exe_upper_layer=bool(t.exe_upper_layer),
                exe_lower_layer=bool(t.exe_lower_layer),
                exe_from_memfd=bool(t.exe_from_memfd), cap_inheritable=t.cap_inheritable,
                cap_permitted=t.cap_permitted, cap_effective=t.cap_effective,
                exe_ino=t.exe_ino, exe_ino_ctime=t.exe_ino_ctime,
                exe_ino_mtime=t.exe_ino_mtime))
        for i in range(m.n_fds):
            f = m.fds[i]
            alen = 16 if f.type in (4, 6) else 4
            meta.fds.append(FdRecord(
                tid=f.tid, fd=f.fd, type=f.type, ino=f.ino, name=_bytes(f.name),
                sip=bytes(f.sip)[:alen], dip=bytes(f.dip)[:alen], sport=f.sport,
                dport=f.dport, l4proto=f.l4proto, source=f.source, destination=f.destination,
                open_flags=f.open_flags, dev=f.dev if f.has_dev else None))
        for i in range(m.n_users):
            u = m.users[i]
            if u.is_group:
                meta.groups.append(GroupRecord(u.gid, _bytes(u.name)))
            else:
                meta.users.append(UserRecord(u.uid, u.gid, _bytes(u.name), _bytes(u.homedir),
                                             _bytes(u.shell)))
        for i in range(m.n_ifaces):
            f = m.ifaces[i]
            alen = 4 if f.type in (1, 3) else 16
            meta.interfaces.append(InterfaceRecord(
                f.type, _bytes(f.name), bytes(f.addr)[:alen], bytes(f.netmask)[:alen],
                bytes(f.bcast)[:alen], f.linkspeed))
        return meta
