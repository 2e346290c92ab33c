"""The probe's per-syscall switch built from the event types and generic
syscalls the rules want (falcolite/sources/live.py), without the kernel."""

from __future__ import annotations

from falcolite.events.table import CODES_BY_NAME, GENERIC_E, GENERIC_X, SYSCALL_NAMES
from falcolite.sources.live import NR_EXIT, NR_EXIT_GROUP, NSYSCALLS, interesting_syscalls

NR_OPEN, NR_CLOSE, NR_OPENAT, NR_GETPPID, NR_MEMFD_CREATE = 2, 3, 257, 110, 319


def on(table: bytes) -> set[int]:
    return {nr for nr, v in enumerate(table) if v}


def test_everything_when_all_types_are_wanted() -> None:
    assert on(interesting_syscalls(None, None)) == set(range(NSYSCALLS))


def test_nothing_wanted() -> None:
    assert on(interesting_syscalls(set(), None)) == set()


def test_event_types_map_to_their_syscalls() -> None:
    got = on(interesting_syscalls(CODES_BY_NAME["openat"], None))
    assert got == {NR_OPENAT}
    got = on(interesting_syscalls({*CODES_BY_NAME["open"], *CODES_BY_NAME["close"]}, None))
    assert got == {NR_OPEN, NR_CLOSE}


def test_syscalls_missing_from_the_table_are_named() -> None:
    assert on(interesting_syscalls(CODES_BY_NAME["memfd_create"], None)) == {NR_MEMFD_CREATE}


def test_thread_exits_come_with_exit_and_exit_group() -> None:
    assert on(interesting_syscalls(CODES_BY_NAME["procexit"], None)) == {NR_EXIT, NR_EXIT_GROUP}


def test_generic_events_by_syscall() -> None:
    getppid = SYSCALL_NAMES.index("getppid")
    generic = {GENERIC_E, GENERIC_X}
    assert on(interesting_syscalls(generic, {getppid})) == {NR_GETPPID}
    everything_generic = on(interesting_syscalls(generic, None))
    assert NR_GETPPID in everything_generic and len(everything_generic) > 250


def test_variants_are_on_with_their_base_event() -> None:
    """eventfd2, signalfd4 and inotify_init1 come as their base call's event."""
    assert on(interesting_syscalls(CODES_BY_NAME["eventfd"], None)) == {284, 290}
    assert on(interesting_syscalls(CODES_BY_NAME["signalfd"], None)) == {282, 289}
    assert on(interesting_syscalls(CODES_BY_NAME["inotify_init"], None)) == {253, 294}
