"""Capture metadata records: machine, threads, fds, users and interfaces, as
read from a capture's metadata blocks (or, live, from /proc and /etc)."""

from __future__ import annotations

from dataclasses import dataclass, field

# fd types (SCAP_FD_*), scap-format.md 2.4
FD_UNKNOWN, FD_FILE, FD_DIRECTORY, FD_IPV4_SOCK, FD_IPV6_SOCK = 0, 1, 2, 3, 4
FD_IPV4_SERVSOCK, FD_IPV6_SERVSOCK, FD_FIFO, FD_UNIX_SOCK, FD_EVENT = 5, 6, 7, 8, 9
FD_UNSUPPORTED, FD_SIGNALFD, FD_EVENTPOLL, FD_INOTIFY, FD_TIMERFD = 10, 11, 12, 13, 14
FD_NETLINK, FD_FILE_V2, FD_BPF, FD_USERFAULTFD, FD_IOURING, FD_MEMFD, FD_PIDFD = (
    15, 16, 17, 18, 19, 20, 21)

# Longest strings libscap accepts in metadata blocks (scap-format.md 2.3, 2.4);
# longer ones make the whole file unreadable, so writers must clip to them.
MAX_PATH_LEN = 1024   # comm, exe, exepath, cwd, root
MAX_LIST_LEN = 4096   # args, env, cgroups: NUL-separated lists
MAX_FD_NAME_LEN = 1023


@dataclass(slots=True)
class Machine:
    num_cpus: int = 0
    memory_size_bytes: int = 0
    max_pid: int = 0
    hostname: str = ""
    boot_ts_epoch: int = 0
    flags: int = 0


@dataclass(slots=True)
class ThreadRecord:
    """One process-list entry (a thread).  Strings stay bytes: they are
    whatever the kernel had, not necessarily UTF-8."""

    tid: int
    pid: int
    ptid: int
    comm: bytes = b""
    exe: bytes = b""
    exepath: bytes = b""
    args: bytes = b""  # argv[1..], each followed by NUL
    cwd: bytes = b""
    fdlimit: int = 0
    flags: int = 0
    uid: int = 0
    gid: int = 0
    vmsize_kb: int = 0
    vmrss_kb: int = 0
    vmswap_kb: int = 0
    pfmajor: int = 0
    pfminor: int = 0
    env: bytes = b""
    vtid: int = -1
    vpid: int = -1
    cgroups: bytes = b""
    root: bytes = b""
    sid: int = -1
    vpgid: int = -1
    pgid: int = -1
    pidns_init_start_ts: int = 0
    tty: int = 0
    loginuid: int = 0xFFFFFFFF
    exe_writable: bool = False
    exe_upper_layer: bool = False
    exe_lower_layer: bool = False
    exe_from_memfd: bool = False
    cap_inheritable: int = 0
    cap_permitted: int = 0
    cap_effective: int = 0
    exe_ino: int = 0
    exe_ino_ctime: int = 0
    exe_ino_mtime: int = 0


@dataclass(slots=True)
class FdRecord:
    tid: int
    fd: int
    type: int
    ino: int = 0
    name: bytes = b""
    sip: bytes = b""  # 4 or 16 bytes, network order
    dip: bytes = b""
    sport: int = 0
    dport: int = 0
    l4proto: int = 0
    source: int = 0  # unix sockets: kernel addresses
    destination: int = 0
    open_flags: int = 0
    dev: int | None = None


@dataclass(slots=True)
class UserRecord:
    uid: int
    gid: int
    name: bytes
    homedir: bytes = b""
    shell: bytes = b""


@dataclass(slots=True)
class GroupRecord:
    gid: int
    name: bytes


@dataclass(slots=True)
class InterfaceRecord:
    type: int  # 1 IPv4, 2 IPv6, 3/4 the same without link speed
    name: bytes
    addr: bytes
    netmask: bytes
    bcast: bytes
    linkspeed: int = 0


@dataclass(slots=True)
class CaptureMeta:
    machine: Machine | None = None
    threads: list[ThreadRecord] = field(default_factory=list)
    fds: list[FdRecord] = field(default_factory=list)
    users: list[UserRecord] = field(default_factory=list)
    groups: list[GroupRecord] = field(default_factory=list)
    interfaces: list[InterfaceRecord] = field(default_factory=list)
    version: tuple[int, int] = (1, 2)
