"""LiveSource: events of this host, from the eBPF probe's ring buffer through
the C live reader (cdriver/live_reader.c), in the same batches as a capture.

The initial process, fd and user tables come from /proc and /etc.  The set
of interesting event types is pushed to the probe as native syscall numbers,
so uninteresting syscalls cost the kernel a table lookup and nothing more.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from .._cdriver import ffi, lib
from ..events.records import CaptureMeta
from ..events.table import CODES_BY_NAME, GENERIC_E, GENERIC_X, SYSCALL_NAMES
from ..events.table_data import X86_64_SC
from .batch import Batch, batch_from
from .procfs import read_host

NSYSCALLS = 512
NR_EXIT, NR_EXIT_GROUP = 60, 231
PROCEXIT = CODES_BY_NAME["procexit"]
# native syscalls the 2022 syscall table does not name, but the probe handles
_UNNAMED = {319: "memfd_create"}
# syscalls the probe reports with their base call's event, as drivers of the
# 2022 table did
_EVENT_OF = {"eventfd2": "eventfd", "signalfd4": "signalfd", "inotify_init1": "inotify_init"}
STAT_NAMES = ("seen", "drops_buffer", "drops_size", "filtered", "compat", "delivered",
              "elided", "malformed", "missed")


class LiveError(Exception):
    """Live capture cannot start or failed: the message says what is missing."""


def native_name(nr: int) -> str | None:
    """The syscall name of native (x86-64) syscall `nr`."""
    sc = X86_64_SC[nr]
    if sc and sc < len(SYSCALL_NAMES):
        return SYSCALL_NAMES[sc]
    return _UNNAMED.get(nr)


def interesting_syscalls(codes: Iterable[int] | None, syscalls: Iterable[int] | None
                         ) -> bytes:
    """The probe's per-syscall switch: native syscall n is on when an event
    type the agent wants is named like it, or when it ends up as a generic
    event whose syscall (PPM_SC code) is wanted.  None: everything."""
    if codes is None:
        return b"\x01" * NSYSCALLS
    wanted = set(codes)
    generic = bool(wanted & {GENERIC_E, GENERIC_X})
    sc_wanted = None if syscalls is None else set(syscalls)
    out = bytearray(NSYSCALLS)
    for nr in range(NSYSCALLS):
        name = native_name(nr)
        if name is None:
            continue
        if wanted.intersection(CODES_BY_NAME.get(_EVENT_OF.get(name, name), ())):
            out[nr] = 1
        elif generic and (sc_wanted is None or X86_64_SC[nr] in sc_wanted):
            out[nr] = 1
    if wanted & set(PROCEXIT):  # the probe sends thread exits along with these
        out[NR_EXIT] = out[NR_EXIT_GROUP] = 1
    return bytes(out)


def live_compiled() -> bool:
    """Whether the probe is built into the C extension."""
    return bool(lib.fl_live_compiled())


def live_unavailable() -> str | None:
    """Why live capture cannot run here (None: it can)."""
    err = ffi.new("char[]", lib.FL_ERRLEN)
    if not lib.fl_live_compiled() or lib.fl_live_check(err) != lib.FL_OK:
        return ffi.string(err).decode(errors="replace") or \
            "live capture is not compiled into this build"
    return None


class LiveSource:
    """The host's events; `next_batch` waits up to `timeout_ms` for some."""

    section = 1  # one section, like a capture without restarts

    def __init__(self, ring_bytes: int = 0, batch_size: int = 4096,
                 timeout_ms: int = 100) -> None:
        self.batch_size = batch_size
        self.timeout_ms = timeout_ms
        self._err = ffi.new("char[]", lib.FL_ERRLEN)
        why = live_unavailable()
        if why is not None:
            raise LiveError(why)
        out = ffi.new("fl_live **")
        ring = ring_bytes or lib.FL_LIVE_DEFAULT_RING
        if lib.fl_live_open(ring, os.getpid(), out, self._err) != lib.FL_OK:
            raise LiveError(self._error())
        self._l = ffi.gc(out[0], lib.fl_live_close)
        self._batch = ffi.new("fl_batch *")
        info = ffi.new("fl_live_info *")
        lib.fl_live_get_info(self._l, info)
        # "current", or "compat" below Linux 5.17 (or FALCOLITE_PROBE=compat)
        self.probe: str = ffi.string(info.probe).decode()
        self._codes: frozenset[int] | None = frozenset()  # nothing until told
        self._syscalls: frozenset[int] | None = None
        # after the probe is attached: what starts in between is seen by both
        self.meta: CaptureMeta = read_host(skip_pid=os.getpid())

    def _error(self) -> str:
        return ffi.string(self._err).decode(errors="replace")

    def close(self) -> None:
        if self._l is not None:
            ffi.release(self._l)  # detaches the probe now
            self._l = None

    def __enter__(self) -> LiveSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def set_interesting(self, codes: Iterable[int] | None) -> None:
        """Event types to capture (None: all), as for a capture file."""
        self._codes = None if codes is None else frozenset(codes)
        self._push()

    def set_interesting_syscalls(self, syscalls: Iterable[int] | None) -> None:
        """Generic events to capture, by PPM_SC code (None: all)."""
        self._syscalls = None if syscalls is None else frozenset(syscalls)
        self._push()

    def set_elision(self, clauses: Iterable[tuple[str, int]] | None) -> None:
        """Drop open/close pairs that fit none of the clauses (path prefix,
        access bits; see rules/pathbound.py) before they reach Python.
        None: hand out every event."""
        blob = b"".join(bytes((need,)) + prefix.encode() + b"\0"
                        for prefix, need in clauses or ())
        if lib.fl_live_set_elision(self._l, clauses is not None, blob, len(blob),
                                   self._err) != lib.FL_OK:
            raise LiveError(self._error())

    def _push(self) -> None:
        table = interesting_syscalls(self._codes, self._syscalls)
        if lib.fl_live_set_interesting(self._l, table, self._err) != lib.FL_OK:
            raise LiveError(self._error())

    def next_batch(self) -> Batch:
        """The events that arrived (an empty batch after `timeout_ms`)."""
        b = self._batch
        if lib.fl_live_next_batch(self._l, self.batch_size, self.timeout_ms, b,
                                  self._err) != lib.FL_OK:
            raise LiveError(self._error())
        return batch_from(b)

    def stats(self) -> dict[str, int]:
        """The probe's counters summed over CPUs (zeros if they cannot be read)."""
        s = ffi.new("fl_live_stats *")
        lib.fl_live_get_stats(self._l, s)
        return {name: getattr(s, name) for name in STAT_NAMES}
