"""Container ids from cgroup paths, and what a new process inherits when its
clone or execve event carries no cgroups (the live probe on kernels before
5.17, kernel threads)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tracked import tracked

from falcolite.events.records import CaptureMeta, Machine, ThreadRecord
from falcolite.events.table import CODES_BY_NAME
from falcolite.events.writer import ScapWriter
from falcolite.filter import parse
from falcolite.filter.compiler import compile_filter
from falcolite.state.containers import container_id

CID = "3f4c0a9e1b2d" + "7" * 52  # 64 hex digits


@pytest.mark.parametrize(("path", "expected"), [
    (f"/docker/{CID}", CID[:12]),
    (f"/system.slice/docker-{CID}.scope", CID[:12]),
    (f"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1.slice/"
     f"cri-containerd-{CID}.scope", CID[:12]),
    (f"/kubepods/burstable/pod0f1e/{CID}", CID[:12]),
    (f"/machine.slice/libpod-{CID}.scope", CID[:12]),
    (f"/crio-{CID}", CID[:12]),
    ("/user.slice/user-1000.slice/session-1.scope", "host"),
    ("/process_api/04bf19472a3249d86d4b4fdbfb266552", "host"),  # 32 hex: not an id
    (f"/docker/{CID}/sub", "host"),  # the id must end the path
])
def test_container_id_from_cgroup_path(path: str, expected: str) -> None:
    assert container_id(["cpuset=/", f"memory={path}"]) == expected


def clone_exit(tid: int, res: int, cgroups: bytes) -> list[object]:
    """The 21 parameters of a clone exit (event 223)."""
    return [res, b"/bin/sh", b"", tid, 100, 100, b"/", 1024, 0, 0, 0, 0, 0, b"sh", cgroups,
            0, 0, 0, tid, 100, 0]


def write_capture(path: Path, child_cgroups: bytes) -> None:
    parent = ThreadRecord(tid=100, pid=100, ptid=1, comm=b"sh", exe=b"/bin/sh",
                          exepath=b"/bin/sh", cwd=b"/", vtid=100, vpid=100, root=b"/",
                          cgroups=f"cpuset=/\0memory=/docker/{CID}\0".encode())
    clone_x = CODES_BY_NAME["clone"][-1]  # the current layout (223)
    close_e = CODES_BY_NAME["close"][0]
    with ScapWriter(str(path)) as w:
        w.write_header(CaptureMeta(machine=Machine(num_cpus=1), threads=[parent]))
        w.write_values(clone_x, 10, 100, clone_exit(100, 101, child_cgroups))
        w.write_values(clone_x, 20, 101, clone_exit(101, 0, child_cgroups))
        w.write_values(close_e, 30, 101, [3])


def child_container(path: Path, cid: str) -> bool:
    with tracked(path) as (ctx, events):
        pred = compile_filter(parse(f"proc.pid=101 and container.id={cid}"), ctx)
        return [pred(e) for e in events] == [False, True, True]


def test_clone_without_cgroups_keeps_the_parents_container(tmp_path: Path) -> None:
    write_capture(tmp_path / "inherit.scap", b"")
    assert child_container(tmp_path / "inherit.scap", CID[:12])


def test_clone_with_cgroups_takes_its_own(tmp_path: Path) -> None:
    write_capture(tmp_path / "own.scap", b"cpuset=/\0memory=/user.slice\0")
    assert child_container(tmp_path / "own.scap", "host")
