"""The initial state of a live host, read from /proc and /etc in the shape
of a capture's metadata blocks (threads, fds, users, interfaces)."""

from __future__ import annotations

import fcntl
import os
import socket
import struct
from pathlib import Path

from ..events.records import (
    FD_DIRECTORY,
    FD_EVENT,
    FD_EVENTPOLL,
    FD_FIFO,
    FD_FILE_V2,
    FD_INOTIFY,
    FD_IPV4_SERVSOCK,
    FD_IPV4_SOCK,
    FD_IPV6_SERVSOCK,
    FD_IPV6_SOCK,
    FD_MEMFD,
    FD_NETLINK,
    FD_SIGNALFD,
    FD_TIMERFD,
    FD_UNIX_SOCK,
    FD_UNSUPPORTED,
    MAX_FD_NAME_LEN,
    MAX_LIST_LEN,
    MAX_PATH_LEN,
    CaptureMeta,
    FdRecord,
    GroupRecord,
    InterfaceRecord,
    Machine,
    ThreadRecord,
    UserRecord,
)

TCP_LISTEN = "0A"


def _read(path: str | Path, limit: int = 1 << 16) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read(limit)
    except OSError:
        return b""


def _link(path: str | Path, limit: int = MAX_PATH_LEN) -> bytes:
    try:
        return os.fsencode(os.readlink(path))[:limit]
    except OSError:
        return b""


def _nul_list(items: list[bytes]) -> bytes:
    """"a\0b\0" from the non-empty items, clipped to what libscap reads; a
    clipped last item still ends with its NUL."""
    out = b"".join(a + b"\0" for a in items if a)
    return out if len(out) <= MAX_LIST_LEN else out[:MAX_LIST_LEN - 1] + b"\0"


def _status(pid_dir: Path) -> dict[str, str]:
    out = {}
    for line in _read(pid_dir / "status").decode("utf-8", "replace").splitlines():
        k, _, v = line.partition(":")
        out[k] = v.strip()
    return out


def _sockets() -> dict[int, tuple[int, bytes, int, bytes, int, int, bool]]:
    """inode -> (family, local ip, local port, remote ip, remote port,
    l4proto, listening) from /proc/net/{tcp,udp}{,6}."""
    out: dict[int, tuple[int, bytes, int, bytes, int, int, bool]] = {}
    for name, fam, proto in (("tcp", 4, 2), ("udp", 4, 3), ("tcp6", 6, 2), ("udp6", 6, 3)):
        lines = _read(f"/proc/net/{name}", 1 << 24).decode("ascii", "replace").splitlines()
        for line in lines[1:]:
            parts = line.split()
            if len(parts) < 10:
                continue
            try:
                lip, lport = _addr(parts[1], fam)
                rip, rport = _addr(parts[2], fam)
                inode = int(parts[9])
            except ValueError:
                continue
            listening = parts[3] == TCP_LISTEN or (proto == 3 and rport == 0)
            out[inode] = (fam, lip, lport, rip, rport, proto, listening)
    return out


def _addr(text: str, fam: int) -> tuple[bytes, int]:
    """/proc/net addresses: 32-bit words in host order, port in hex."""
    hexaddr, _, hexport = text.partition(":")
    raw = bytes.fromhex(hexaddr)
    words = [raw[i:i + 4] for i in range(0, len(raw), 4)]
    addr = b"".join(struct.pack("<I", struct.unpack(">I", w)[0]) for w in words)
    return addr if fam == 6 else addr[:4], int(hexport, 16)


def _unix_names() -> dict[int, bytes]:
    out = {}
    for line in _read("/proc/net/unix", 1 << 24).splitlines()[1:]:
        parts = line.split(None, 7)
        if len(parts) >= 7:
            try:
                out[int(parts[6])] = parts[7] if len(parts) > 7 else b""
            except ValueError:
                continue
    return out


_ANON_KINDS = {b"anon_inode:[eventfd]": FD_EVENT, b"anon_inode:[signalfd]": FD_SIGNALFD,
               b"anon_inode:[eventpoll]": FD_EVENTPOLL, b"anon_inode:inotify": FD_INOTIFY,
               b"anon_inode:[timerfd]": FD_TIMERFD}


def _fd_record(tid: int, fd: int, target: bytes, sockets: dict, unix: dict) -> FdRecord | None:
    if target.startswith(b"/"):
        if target.startswith(b"/memfd:"):
            return FdRecord(tid, fd, FD_MEMFD, name=target)
        kind = FD_DIRECTORY if os.path.isdir(target) else FD_FILE_V2
        return FdRecord(tid, fd, kind, name=target)
    if target.startswith(b"pipe:"):
        return FdRecord(tid, fd, FD_FIFO)
    if target.startswith(b"socket:["):
        inode = int(target[8:-1])
        if inode in unix:
            return FdRecord(tid, fd, FD_UNIX_SOCK, ino=inode, name=unix[inode])
        info = sockets.get(inode)
        if info is None:
            return FdRecord(tid, fd, FD_NETLINK, ino=inode)
        fam, lip, lport, rip, rport, proto, listening = info
        if listening:
            kind = FD_IPV4_SERVSOCK if fam == 4 else FD_IPV6_SERVSOCK
            return FdRecord(tid, fd, kind, ino=inode, sip=lip, sport=lport, l4proto=proto)
        kind = FD_IPV4_SOCK if fam == 4 else FD_IPV6_SOCK
        return FdRecord(tid, fd, kind, ino=inode, sip=lip, sport=lport, dip=rip, dport=rport,
                        l4proto=proto)
    kind = _ANON_KINDS.get(target)
    if kind is not None:
        return FdRecord(tid, fd, kind, name=target)
    return FdRecord(tid, fd, FD_UNSUPPORTED, name=target)


def read_host(proc: str = "/proc", etc: str = "/etc", skip_pid: int | None = None) -> CaptureMeta:
    """Threads of every process (fds on main threads only, as in captures),
    users, groups, interfaces and the machine."""
    meta = CaptureMeta(machine=_machine(proc))
    sockets = _sockets()
    unix = _unix_names()
    for entry in os.scandir(proc):
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        if pid == skip_pid:
            continue
        pdir = Path(entry.path)
        try:
            tids = sorted(int(t) for t in os.listdir(pdir / "task") if t.isdigit())
        except OSError:
            continue  # gone
        exe = _link(pdir / "exe")
        cmdline = _read(pdir / "cmdline").split(b"\0")
        argv0 = cmdline[0][:MAX_PATH_LEN] if cmdline and cmdline[0] else exe
        args = _nul_list(cmdline[1:])
        cwd = _link(pdir / "cwd")
        root = _link(pdir / "root") or b"/"
        env = _nul_list(_read(pdir / "environ", MAX_LIST_LEN).split(b"\0"))
        cgroups = _nul_list([
            line.split(b":", 2)[1] + b"=" + line.split(b":", 2)[2]
            for line in _read(pdir / "cgroup").splitlines() if line.count(b":") >= 2])
        for tid in tids:
            tdir = pdir / "task" / str(tid)
            st = _status(tdir)
            if not st:
                continue
            try:
                uid = int(st.get("Uid", "0").split()[1])
                gid = int(st.get("Gid", "0").split()[1])
                ppid = int(st.get("PPid", "0"))
            except (ValueError, IndexError):
                continue
            stat_fields = _read(tdir / "stat").rsplit(b")", 1)[-1].split()
            sid = int(stat_fields[3]) if len(stat_fields) > 3 else -1
            pgid = int(stat_fields[2]) if len(stat_fields) > 2 else -1
            tty = int(stat_fields[4]) if len(stat_fields) > 4 else 0
            loginuid_text = _read(pdir / "loginuid").strip()
            ns_tid = st.get("NSpid", str(tid)).split()
            meta.threads.append(ThreadRecord(
                tid=tid, pid=pid, ptid=ppid if tid == pid else pid,
                comm=_read(tdir / "comm").rstrip(b"\n"), exe=argv0, exepath=exe, args=args,
                cwd=cwd, uid=uid, gid=gid, env=env, vtid=int(ns_tid[-1]), vpid=pid,
                cgroups=cgroups, root=root, sid=sid, vpgid=pgid, pgid=pgid, tty=tty,
                loginuid=int(loginuid_text) if loginuid_text.isdigit() else 0xFFFFFFFF,
                cap_permitted=int(st.get("CapPrm", "0"), 16),
                cap_effective=int(st.get("CapEff", "0"), 16),
                cap_inheritable=int(st.get("CapInh", "0"), 16)))
        try:
            fds = os.listdir(pdir / "fd")
        except OSError:
            fds = []
        for name in fds:
            if not name.isdigit():
                continue
            target = _link(pdir / "fd" / name, MAX_FD_NAME_LEN)
            if not target:
                continue  # unreadable (another user's process without CAP_SYS_PTRACE)
            rec = _fd_record(pid, int(name), target, sockets, unix)
            if rec is not None:
                meta.fds.append(rec)
    meta.users, meta.groups = _users(etc)
    meta.interfaces = _interfaces()
    return meta


def _machine(proc: str) -> Machine:
    btime = 0
    for line in _read(f"{proc}/stat").splitlines():
        if line.startswith(b"btime "):
            btime = int(line.split()[1]) * 1_000_000_000
    mem = 0
    for line in _read(f"{proc}/meminfo").splitlines():
        if line.startswith(b"MemTotal:"):
            mem = int(line.split()[1]) * 1024
    max_pid = int(_read(f"{proc}/sys/kernel/pid_max").strip() or 0)
    return Machine(os.cpu_count() or 1, mem, max_pid, socket.gethostname(), btime)


def _users(etc: str) -> tuple[list[UserRecord], list[GroupRecord]]:
    users = []
    for line in _read(f"{etc}/passwd", 1 << 22).splitlines():
        p = line.split(b":")
        if len(p) >= 7 and p[2].isdigit() and p[3].isdigit():
            users.append(UserRecord(int(p[2]), int(p[3]), p[0], p[5], p[6]))
    groups = []
    for line in _read(f"{etc}/group", 1 << 22).splitlines():
        p = line.split(b":")
        if len(p) >= 3 and p[2].isdigit():
            groups.append(GroupRecord(int(p[2]), p[0]))
    return users, groups


def _interfaces() -> list[InterfaceRecord]:
    """IPv4 addresses from the routing table's local entries, IPv6 from
    /proc/net/if_inet6."""
    out = []
    for line in _read("/proc/net/if_inet6").splitlines():
        p = line.split()
        if len(p) >= 6:
            out.append(InterfaceRecord(2, p[5], bytes.fromhex(p[0].decode()), b"\xff" * 8 +
                                       b"\0" * 8, b"\0" * 16))
    seen = set()
    try:
        names = [n for _i, n in socket.if_nameindex()]
    except OSError:
        names = []
    for name in names:
        addr = _ipv4_of(name)
        if addr and addr not in seen:
            seen.add(addr)
            out.append(InterfaceRecord(1, name.encode(), addr, b"\xff\xff\xff\x00",
                                       b"\0\0\0\0"))
    return out


def _ipv4_of(ifname: str) -> bytes | None:
    siocgifaddr = 0x8915
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        res = fcntl.ioctl(s.fileno(), siocgifaddr, struct.pack("256s", ifname.encode()[:15]))
        return res[20:24]
    except OSError:
        return None
    finally:
        s.close()
