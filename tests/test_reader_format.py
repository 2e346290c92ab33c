"""The capture reader on the format's corners: sections, unknown blocks and
event types, pcapng options, EVF flags, the type prefilter, pipes, and the
clean errors of malformed files."""

from __future__ import annotations

import gzip
import os
import struct
import subprocess
import sys
import threading
import zlib
from pathlib import Path

import pytest
from conftest import SHARED_TRACES
from oracle import sysdig_records

from falcolite.events.records import (
    FD_FILE_V2,
    FD_IPV4_SOCK,
    CaptureMeta,
    FdRecord,
    GroupRecord,
    InterfaceRecord,
    Machine,
    ThreadRecord,
    UserRecord,
)
from falcolite.events.table import CODES_BY_NAME, EVENTS, SYSCALL_NAMES
from falcolite.events.writer import BT_SHB, SHB_MAGIC, ScapWriter, block
from falcolite.sources.trace import CaptureError, TraceSource

OPEN_X = 3
CLOSE_E, CLOSE_X = 4, 5


def meta() -> CaptureMeta:
    return CaptureMeta(
        machine=Machine(2, 8 << 30, 4194304, "falcolite-test", 1_700_000_000 * 10**9),
        threads=[ThreadRecord(tid=10, pid=10, ptid=1, comm=b"sh", exe=b"/bin/sh",
                              args=b"-c\0true\0", cwd=b"/root/", uid=0, gid=0),
                 ThreadRecord(tid=11, pid=10, ptid=1, comm=b"sh", exe=b"/bin/sh")],
        fds=[FdRecord(tid=10, fd=3, type=FD_FILE_V2, name=b"/etc/passwd", open_flags=1,
                      dev=0x803),
             FdRecord(tid=10, fd=4, type=FD_IPV4_SOCK, sip=bytes([10, 0, 0, 1]),
                      dip=bytes([10, 0, 0, 2]), sport=5555, dport=80, l4proto=2)],
        users=[UserRecord(0, 0, b"root", b"/root", b"/bin/bash")],
        groups=[GroupRecord(0, b"root")],
        interfaces=[InterfaceRecord(1, b"lo", bytes([127, 0, 0, 1]), bytes([255, 0, 0, 0]),
                                    bytes([127, 255, 255, 255]), 0),
                    InterfaceRecord(2, b"lo", b"\0" * 15 + b"\1", b"\xff" * 16, b"\0" * 16)],
    )


def small_capture(path: Path, n: int = 10, ts0: int = 1_700_000_000 * 10**9,
                  **opts) -> None:
    with ScapWriter(str(path), **opts) as w:
        w.write_header(meta())
        for i in range(n):
            w.write_values(CLOSE_E, ts0 + 2 * i, 10, [3])
            w.write_values(CLOSE_X, ts0 + 2 * i + 1, 10, [0])


def read_all(path: Path) -> tuple[list, dict, TraceSource]:
    src = TraceSource(str(path))
    evs = [(e.num, e.type, e.ts) for e in src.events()]
    return evs, src.stats(), src


def test_metadata_tables_read_back(tmp_path: Path) -> None:
    p = tmp_path / "m.scap"
    small_capture(p)
    src = TraceSource(str(p))
    assert src.meta.machine == meta().machine
    assert [t.tid for t in src.meta.threads] == [10, 11]
    assert src.meta.threads[0].args == b"-c\0true\0"
    assert src.meta.fds[0].name == b"/etc/passwd" and src.meta.fds[0].dev == 0x803
    assert src.meta.fds[1].sip == bytes([10, 0, 0, 1]) and src.meta.fds[1].dport == 80
    assert src.meta.users == meta().users and src.meta.groups == meta().groups
    assert src.meta.interfaces == meta().interfaces


def test_concatenated_sections(tmp_path: Path) -> None:
    """`cat a.scap b.scap`: numbering continues, each section's metadata
    replaces the previous one."""
    a, b = tmp_path / "a.scap", tmp_path / "b.scap"
    small_capture(a, n=3)
    m2 = meta()
    m2.threads[0].comm = b"second"
    with ScapWriter(str(b)) as w:
        w.write_header(m2)
        w.write_values(CLOSE_E, 5, 10, [3])
    cat = tmp_path / "ab.scap"
    cat.write_bytes(a.read_bytes() + b.read_bytes())
    src = TraceSource(str(cat), batch_size=2)
    seen = []
    for batch in src.batches():
        for e in batch.events():
            seen.append((e.num, batch.section, src.meta.threads[0].comm))
    assert seen == [(i, 1, b"sh") for i in range(1, 7)] + [(7, 2, b"second")]
    assert src.stats()["n_sections"] == 2


def test_unknown_blocks_are_skipped_and_counted(tmp_path: Path) -> None:
    p = tmp_path / "u.scap"
    with ScapWriter(str(p)) as w:
        w.write_header(meta())
        w.write_block(0x7777, b"future metadata")
        w.write_values(CLOSE_E, 1, 10, [3])
        w.write_block(0x8888, b"x" * 33)
        w.write_values(CLOSE_X, 2, 10, [0])
    evs, stats, _ = read_all(p)
    assert [e[1] for e in evs] == [CLOSE_E, CLOSE_X]
    assert stats["n_unknown_blocks"] == 2


def test_unknown_event_types_are_skipped_and_counted(tmp_path: Path) -> None:
    p = tmp_path / "t.scap"
    with ScapWriter(str(p)) as w:
        w.write_header()
        w.write_values(CLOSE_E, 1, 10, [3])
        w.write_event(60000, 2, 10, [b"abc"])
        w.write_values(CLOSE_X, 3, 10, [0])
    evs, stats, _ = read_all(p)
    assert evs == [(1, CLOSE_E, 1), (2, CLOSE_X, 3)]
    assert stats["n_unknown_type"] == 1


def test_pcapng_options_on_header_and_events(tmp_path: Path) -> None:
    """Comments added by pcapng tools: the SHB body grows past 16 bytes and
    event blocks carry options after the event; both are ignored."""
    plain = tmp_path / "plain.scap"
    small_capture(plain, n=4)
    data = plain.read_bytes()
    out = bytearray()
    pos = 0
    comment = struct.pack("<HH", 1, 12) + b"hello world!" + struct.pack("<HH", 0, 0)
    while pos < len(data):
        btype, blen = struct.unpack_from("<II", data, pos)
        body = data[pos + 8:pos + blen - 4]
        if btype == BT_SHB:
            body = body[:16] + comment
        elif btype == 0x216:
            body = body + comment  # after the (already padded) event
        out += block(btype, bytes(body))
        pos += blen
    commented = tmp_path / "commented.scap"
    commented.write_bytes(bytes(out))
    assert read_all(commented)[0] == read_all(plain)[0]


def test_state_only_events_keep_their_flag(tmp_path: Path) -> None:
    """EVF blocks (fat-file captures): the dump flag reaches Python, and
    sysdig hides the state-only event while numbering it."""
    p = tmp_path / "evf.scap"
    with ScapWriter(str(p)) as w:
        w.write_header(meta())
        w.write_values(CLOSE_E, 1, 10, [3])
        w.write_values(CLOSE_X, 2, 10, [0], dump_flags=1)
        w.write_values(CLOSE_E, 3, 10, [4], dump_flags=0)
    with TraceSource(str(p)) as src:
        assert [(e.num, e.dump_flags) for e in src.events()] == [(1, 0), (2, 1), (3, 0)]
    nums = [int(r) for r in sysdig_records(str(p), "%evt.num")]
    assert nums == [1, 3]


def test_prefilter_keeps_numbers_and_counts(tmp_path: Path) -> None:
    p = tmp_path / "f.scap"
    small_capture(p, n=50)
    src = TraceSource(str(p))
    src.set_interesting([CLOSE_X])
    evs = [(e.num, e.type) for e in src.events()]
    assert evs == [(2 * i + 2, CLOSE_X) for i in range(50)]
    st = src.stats()
    assert st["n_events"] == 100 and st["n_filtered"] == 50


def test_prefilter_on_real_capture_matches_sysdig_numbers() -> None:
    if not SHARED_TRACES:
        pytest.skip("shared traces absent")
    trace = next(p for p in SHARED_TRACES if p.name == "cat_write.scap")
    codes = CODES_BY_NAME["open"] + CODES_BY_NAME["close"]
    src = TraceSource(str(trace))
    src.set_interesting(codes)
    ours = [e.num for e in src.events()]
    # without -D: with it sysdig shows its internal events whatever the filter
    ref = [int(r) for r in sysdig_records(str(trace), "%evt.num", "evt.type in (open, close)",
                                          internal=False)]
    assert ours == ref and len(ours) > 10
    assert src.stats()["n_filtered"] == src.stats()["n_events"] - len(ours)


def test_concatenated_gzip_members(tmp_path: Path) -> None:
    p = tmp_path / "p.scap"
    small_capture(p, n=5)
    data = p.read_bytes()
    cut = len(data) // 2
    gz = tmp_path / "members.scap.gz"
    gz.write_bytes(gzip.compress(data[:cut]) + gzip.compress(data[cut:]))
    assert read_all(gz)[0] == read_all(p)[0]
    assert read_all(gz)[1]["compressed"] == 1


def test_reads_from_a_pipe(tmp_path: Path) -> None:
    """No seeking: a FIFO works, gzip or not."""
    p = tmp_path / "p.scap"
    small_capture(p, n=20, compress=True)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    data = p.read_bytes()

    def feed() -> None:
        with open(fifo, "wb") as f:
            f.write(data)

    t = threading.Thread(target=feed)
    t.start()
    evs = read_all(fifo)[0]
    t.join()
    assert evs == read_all(p)[0]


def test_batches_respect_batch_size(tmp_path: Path) -> None:
    p = tmp_path / "b.scap"
    small_capture(p, n=100)
    sizes = [len(b) for b in TraceSource(str(p), batch_size=7).batches()]
    assert sum(sizes) == 200 and max(sizes) == 7


def test_big_event_in_large_block(tmp_path: Path) -> None:
    """A 5 MB pluginevent payload (u32 lengths) crosses the reader's window."""
    p = tmp_path / "big.scap"
    payload = bytes(range(256)) * (5 * 4096)
    with ScapWriter(str(p)) as w:
        w.write_header()
        w.write_event(322, 1, 10, [struct.pack("<I", 999), payload])
        w.write_values(CLOSE_E, 2, 10, [3])
    with TraceSource(str(p)) as src:
        evs = list(src.events())
    assert [e.type for e in evs] == [322, CLOSE_E]
    assert evs[0].raw(1) == payload and evs[0].param(0) == 999


# ------------------------------------------------------------------ errors

def expect_error(path: Path, *words: str) -> str:
    with pytest.raises(CaptureError) as info:
        with TraceSource(str(path)) as src:
            for _ in src.events():
                pass
    msg = str(info.value)
    for w in words:
        assert w in msg, msg
    return msg


def test_empty_file(tmp_path: Path) -> None:
    p = tmp_path / "empty.scap"
    p.write_bytes(b"")
    expect_error(p, "empty")


def test_not_a_capture(tmp_path: Path) -> None:
    p = tmp_path / "text.scap"
    p.write_bytes(b"this is not a capture file at all\n" * 3)
    expect_error(p, "not a scap capture", "section header")


def test_byte_swapped_magic(tmp_path: Path) -> None:
    p = tmp_path / "be.scap"
    p.write_bytes(block(BT_SHB, struct.pack(">IHHq", SHB_MAGIC, 1, 2, -1)))
    expect_error(p, "invalid magic number", "byte order", "offset 0")


def test_newer_major_version(tmp_path: Path) -> None:
    p = tmp_path / "v2.scap"
    p.write_bytes(block(BT_SHB, struct.pack("<IHHq", SHB_MAGIC, 2, 0, -1)))
    expect_error(p, "unsupported capture format version 2.0")


def test_trailer_mismatch_names_the_offset(tmp_path: Path) -> None:
    p = tmp_path / "p.scap"
    small_capture(p, n=3)
    data = bytearray(p.read_bytes())
    # corrupt the trailer of the last block
    data[-1] ^= 0x40
    p.write_bytes(bytes(data))
    msg = expect_error(p, "trailer length", "offset")
    assert "corrupt block" in msg


def test_truncated_block(tmp_path: Path) -> None:
    p = tmp_path / "p.scap"
    small_capture(p, n=3)
    data = p.read_bytes()
    p.write_bytes(data[:-10])
    expect_error(p, "truncated capture", "offset")


def test_truncated_gzip(tmp_path: Path) -> None:
    p = tmp_path / "p.scap.gz"
    small_capture(p, n=300, compress=True)
    data = p.read_bytes()
    p.write_bytes(data[:len(data) // 2])
    expect_error(p, "truncated", "offset")


def test_v1_fd_list_with_unknown_type_is_an_error(tmp_path: Path) -> None:
    p = tmp_path / "fdl.scap"
    entry = struct.pack("<qQB", 3, 0, 99) + b"whatever"
    with ScapWriter(str(p)) as w:
        w.write_header()
        w.write_block(0x203, struct.pack("<Q", 10) + entry)
    expect_error(p, "unknown fd type 99", "offset")


def test_v2_fd_list_skips_unknown_type(tmp_path: Path) -> None:
    p = tmp_path / "fdl2.scap"
    e1 = struct.pack("<qQB", 3, 0, 99) + b"future payload"
    e2 = struct.pack("<qQB", 4, 0, 1) + struct.pack("<H", 4) + b"/tmp"
    body = struct.pack("<Q", 10)
    for e in (e1, e2):
        body += struct.pack("<I", len(e) + 4) + e
    with ScapWriter(str(p)) as w:
        w.write_header()
        w.write_block(0x218, body)
        w.write_values(CLOSE_E, 1, 10, [3])
    src = TraceSource(str(p))
    assert [(f.fd, f.name) for f in src.meta.fds] == [(4, b"/tmp")]


def test_overlong_process_string_is_an_error(tmp_path: Path) -> None:
    m = meta()
    m.threads[0].comm = b"c" * 2000  # libscap's limit is 1024
    p = tmp_path / "long.scap"
    with ScapWriter(str(p)) as w:
        w.write_header(m)
    expect_error(p, "corrupt process list", "over-long", "offset")


def test_event_parameters_past_event_end(tmp_path: Path) -> None:
    p = tmp_path / "bad.scap"
    ev = bytearray(struct.pack("<QQIHI", 1, 10, 26 + 2 + 8, CLOSE_E, 1)
                   + struct.pack("<H", 200) + b"\0" * 8)
    with ScapWriter(str(p)) as w:
        w.write_header()
        w.write_encoded(bytes(ev))
    expect_error(p, "parameters run past", "offset")


def test_events_decode_names_of_every_table_row() -> None:
    """Every non-placeholder code has a name, and enter/exit alternate."""
    named = [e for e in EVENTS if e.name != "NA"]
    assert len(named) > 380
    assert all(e.dir == (">" if e.code % 2 == 0 else "<") for e in EVENTS)


def test_cli_error_exit_code(tmp_path: Path) -> None:
    """A corrupt capture through the CLI: message with the offset, exit 1,
    and the events before the damage are still printed."""
    p = tmp_path / "p.scap"
    small_capture(p, n=3)
    p.write_bytes(p.read_bytes()[:-10])
    proc = subprocess.run([sys.executable, "-m", "falcolite", "-e", str(p), "--list-events"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 1
    assert "offset" in proc.stderr and "truncated" in proc.stderr
    assert proc.stdout.count("close") == 5


# ------------------------------------------------ regressions found by fuzzing

def _big_events(path: Path, n: int, size: int, compress: bool = False) -> None:
    with ScapWriter(str(path), compress=compress) as w:
        w.write_header()
        for i in range(n):
            w.write_event(2, 1000 + i, 42, [bytes([i % 251]) * size])


@pytest.mark.parametrize("compress", [False, True])
def test_event_waiting_for_next_batch_is_counted_once(tmp_path: Path, compress: bool) -> None:
    """80 events of 60 KB overflow the batch buffer (copied, gzip) or the
    in-place span (plain): numbering stays 1..80 and the count exact."""
    p = tmp_path / "big.scap"
    _big_events(p, 80, 60000, compress)
    src = TraceSource(str(p))
    nums = [e.num for e in src.events()]
    assert nums == list(range(1, 81))
    assert src.stats()["n_events"] == 80


def _gzip_stored(data: bytes) -> bytes:
    c = zlib.compressobj(0, zlib.DEFLATED, 31)
    return c.compress(data) + c.flush()


@pytest.mark.parametrize("through_pipe", [False, True])
def test_gzip_member_ending_one_byte_before_input_chunk(tmp_path: Path,
                                                        through_pipe: bool) -> None:
    """The reader takes compressed input in 256 KiB chunks; a member ending
    1 byte short of a chunk must not hide the next member."""
    plain = tmp_path / "p.scap"
    with ScapWriter(str(plain)) as w:
        w.write_header()
        for i in range(400):
            w.write_event(2, 2000 + i, 7, [bytes([i % 256]) * 1000])
    data = plain.read_bytes()
    chunk = 256 << 10
    lo, hi = 0, len(data)
    while lo < hi:  # the split whose stored first member is chunk - 1 bytes
        mid = (lo + hi) // 2
        if len(_gzip_stored(data[:mid])) < chunk - 1:
            lo = mid + 1
        else:
            hi = mid
    first = _gzip_stored(data[:lo])
    assert len(first) == chunk - 1
    gz = tmp_path / "edge.scap.gz"
    gz.write_bytes(first + gzip.compress(data[lo:]))
    target = gz
    if through_pipe:
        target = tmp_path / "fifo"
        os.mkfifo(target)
        blob = gz.read_bytes()
        feeder = threading.Thread(target=lambda: Path(target).write_bytes(blob))
        feeder.start()
    evs = read_all(target)[0]
    if through_pipe:
        feeder.join()
    assert len(evs) == 400


def test_generic_events_filtered_by_syscall_id(tmp_path: Path) -> None:
    """Generic events (types 0/1) pass the prefilter only for the wanted
    syscalls (their first parameter), v1 and v2 blocks alike."""
    madvise = SYSCALL_NAMES.index("madvise")
    chown = SYSCALL_NAMES.index("chown")
    for version in (1, 2):
        p = tmp_path / f"generic{version}.scap"
        with ScapWriter(str(p), event_version=version) as w:
            w.write_header()
            for i in range(10):
                w.write_values(0, 10 * i, 10, [madvise, 28])
                w.write_values(1, 10 * i + 1, 10, [chown if i % 2 else madvise])
                w.write_values(CLOSE_E, 10 * i + 2, 10, [3])
        src = TraceSource(str(p))
        src.set_interesting([0, 1, CLOSE_E])
        src.set_interesting_syscalls([chown])
        evs = [(e.type, e.param(0)) for e in src.events()]
        assert evs.count((CLOSE_E, 3)) == 10
        assert [x for x in evs if x[0] <= 1] == [(1, chown)] * 5
        assert src.stats()["n_filtered"] == 15 and src.stats()["n_events"] == 30
