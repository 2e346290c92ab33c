"""The state tracker: applies each event to the thread and fd tables and
resolves the event's thread and fd, the way libsinsp does, so that fields
see the same process and file state as sysdig.

Old captures carry most syscall inputs in the enter event only; the tracker
keeps each thread's last enter event and pairs it with the exit.  Removals
(close, process exit) take effect after the event, so the closing event
still sees what it closes.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Callable

from ..events import table as t
from ..events.event import Event
from ..events.params import AF_INET, AF_INET6, AF_UNIX, SockAddr, SockTuple, render_ip
from ..events.records import (
    FD_DIRECTORY,
    FD_EVENT,
    FD_EVENTPOLL,
    FD_FIFO,
    FD_FILE,
    FD_FILE_V2,
    FD_INOTIFY,
    FD_IPV4_SERVSOCK,
    FD_IPV4_SOCK,
    FD_IPV6_SERVSOCK,
    FD_IPV6_SOCK,
    FD_NETLINK,
    FD_SIGNALFD,
    FD_TIMERFD,
    FD_UNIX_SOCK,
    CaptureMeta,
    FdRecord,
)
from ..events.table import EVENTS, PARAM_INDEX, EventInfo
from . import fdinfo as F
from .containers import ContainerInfo, container_id
from .fdinfo import FdInfo
from .threads import ThreadInfo, ThreadTable, split_env, split_nul, text, with_slash
from .users import UserTable

AT_FDCWD = -100
CONTAINER_EVENTS = frozenset((228, 272, 324))
# not syscalls: scheduler switches and the capture's own events (procinfo...)
META_EVENTS = frozenset(e.code for e in EVENTS
                        if e.flags & t.EF_SKIPPARSERESET or e.category & 0x180)
SYSCALL, META, CONTAINER = 0, 1, 2
CLONE_THREAD, CLONE_FILES = 0x2000, 0x1
O_DIRECTORY = 0x400
EINPROGRESS = -115
SOCK_TYPE_MASK = 0xF
SOCK_STREAM, SOCK_DGRAM, SOCK_RAW = 1, 2, 3
IPPROTO_ICMP, IPPROTO_ICMPV6 = 1, 58

_RECORD_KINDS = {
    FD_FILE: F.FILE, FD_FILE_V2: F.FILE, FD_DIRECTORY: F.DIRECTORY, FD_IPV4_SOCK: F.IPV4,
    FD_IPV4_SERVSOCK: F.IPV4, FD_IPV6_SOCK: F.IPV6, FD_IPV6_SERVSOCK: F.IPV6,
    FD_FIFO: F.PIPE, FD_UNIX_SOCK: F.UNIX, FD_EVENT: F.EVENT, FD_SIGNALFD: F.SIGNALFD,
    FD_EVENTPOLL: F.EVENTPOLL, FD_INOTIFY: F.INOTIFY, FD_TIMERFD: F.TIMERFD,
    FD_NETLINK: F.NETLINK, 17: F.BPF, 18: F.USERFAULTFD, 19: F.IOURING, 20: F.MEMFD,
    21: F.PIDFD,
}


def normalize(path: str) -> str:
    """Collapse `.`, `..` and repeated slashes of an absolute path."""
    if not path:
        return path
    if "//" not in path and "/." not in path and (path[-1] != "/" or path == "/"):
        return path  # already normal, as most paths are
    out = posixpath.normpath(path)
    if out.startswith("//"):
        out = "/" + out.lstrip("/")
    return out


def socket_name(fd: FdInfo) -> str:
    if fd.kind in (F.IPV4, F.IPV6):
        if fd.is_server:
            return f"{render_ip(fd.dip)}:{fd.dport}"
        return f"{render_ip(fd.sip)}:{fd.sport}->{render_ip(fd.dip)}:{fd.dport}"
    return fd.name


class StateTracker:
    def __init__(self, meta: CaptureMeta | None = None, max_threads: int = 131072) -> None:
        self.threads = ThreadTable(max_threads)
        self.users = UserTable()
        self._deferred_fd: tuple[dict[int, FdInfo], int] | None = None
        self._deferred_exit: int | None = None
        self.boot_ts = 0
        self.containers: dict[str, ContainerInfo] = {}
        self.ifaddrs4: frozenset[bytes] = frozenset()
        self.ifnets6: frozenset[bytes] = frozenset()
        if meta is not None:
            self.load(meta)

    def is_local_ip(self, addr: bytes) -> bool:
        """An address of this machine: an IPv4 interface's address, or an
        IPv6 address in an interface's /64 (libsinsp's test)."""
        if len(addr) == 4:
            return addr in self.ifaddrs4
        return addr[:8] in self.ifnets6

    # ------------------------------------------------------------ snapshot
    def load(self, meta: CaptureMeta) -> None:
        """The initial state of a capture section (or of /proc, live)."""
        self.threads = ThreadTable(self.threads.max_threads)
        self.users = UserTable(meta.users, meta.groups)
        self.boot_ts = meta.machine.boot_ts_epoch if meta.machine else 0
        self.ifaddrs4 = frozenset(i.addr for i in meta.interfaces if len(i.addr) == 4)
        self.ifnets6 = frozenset(i.addr[:8] for i in meta.interfaces if len(i.addr) == 16)
        for rec in meta.threads:
            th = ThreadInfo.from_record(rec)
            th.container_id = container_id(th.cgroups)
            self.threads.threads[th.tid] = th
        for th in self.threads:  # threads share their process's fd table
            if not th.is_main:
                main = self.threads.get(th.pid)
                if main is not None:
                    th.fds = main.fds
        server_ports = {f.sport for f in meta.fds if f.type == FD_IPV4_SERVSOCK}
        for rec in meta.fds:
            owner = self.threads.get(rec.tid)
            if owner is None:
                continue
            owner.fds[rec.fd] = self._fd_from_record(rec, server_ports)

    @staticmethod
    def _fd_from_record(rec: FdRecord, server_ports: set[int]) -> FdInfo:
        kind = _RECORD_KINDS.get(rec.type, F.UNSUPPORTED)
        fd = FdInfo(rec.fd, kind, text(rec.name), rec.open_flags)
        fd.ino = rec.ino
        fd.dev = rec.dev
        if rec.type in (FD_IPV4_SOCK, FD_IPV6_SOCK):
            fd.l4proto = rec.l4proto
            fd.sip, fd.sport, fd.dip, fd.dport = rec.sip, rec.sport, rec.dip, rec.dport
            # /proc lists the local end first; make it client->server
            if rec.type == FD_IPV4_SOCK and rec.sport in server_ports:
                fd.sip, fd.sport, fd.dip, fd.dport = fd.dip, fd.dport, fd.sip, fd.sport
            fd.connected = True
            fd.name = socket_name(fd)
        elif rec.type in (FD_IPV4_SERVSOCK, FD_IPV6_SERVSOCK):
            fd.l4proto = rec.l4proto
            fd.dip, fd.dport = rec.sip, rec.sport  # the server end
            fd.is_server = True
            fd.name = socket_name(fd)
        elif rec.type == FD_UNIX_SOCK:
            fd.name = text(rec.name)  # kept verbatim, trailing newline included
        return fd

    # ------------------------------------------------------------ events
    def thread_for(self, tid: int) -> ThreadInfo:
        """The event's thread; an unknown one gets the <NA> placeholder."""
        th = self.threads.get(tid)
        if th is None:
            th = ThreadInfo(tid, tid, -1)
            self.threads.add(th)
        return th

    def process(self, e: Event) -> None:
        """Update state with event `e` and attach its thread and fd."""
        if self._deferred_fd is not None:
            fds, num = self._deferred_fd
            fds.pop(num, None)
            self._deferred_fd = None
        if self._deferred_exit is not None:
            self._remove_thread(self._deferred_exit)
            self._deferred_exit = None
        etype = e.type
        kind, fd_idx, attach_fd, handler = PLAN[etype]
        if kind == CONTAINER:
            self._container_event(e)
            e.thread = self.threads.get(e.tid)
            return
        th = self.threads.threads.get(e.tid)
        if th is None:
            if kind == META or e.tid in (0, 0xFFFFFFFFFFFFFFFF):
                e.thread = None  # meta events (procinfo, switch...) make no thread
                return
            th = self.thread_for(e.tid)
        e.thread = th
        if kind == META:
            # meta events (switch, procinfo...) do not break enter/exit pairs
            if handler is not None:
                handler(self, e, th)
            return
        if etype & 1 == 0:  # enter
            th.last_enter = e
            # libsinsp remembers the enter's fd (-1 if none) for the exit
            num = th.lastevent_fd = _int_param(e, fd_idx)
            if attach_fd:
                e.fdnum = num
                e.fdinfo = th.fds.get(num)
        else:
            enter = th.last_enter
            if enter is not None and enter.type == etype - 1:
                e.enter = enter
                num = th.lastevent_fd  # old captures: the enter's fd rules
            else:  # new captures send only exits, with the fd in them
                num = _int_param(e, fd_idx)
            th.last_enter = None
            if attach_fd:
                e.fdnum = num
                e.fdinfo = th.fds.get(num)
        if handler is not None:
            handler(self, e, th)

    # ------------------------------------------------------------ helpers
    def _container_event(self, e: Event) -> None:
        if e.type == 228:  # id, type, name, image
            cid = e.param(0)
            if isinstance(cid, bytes):
                c = ContainerInfo(text(cid))
                name, image = e.param(2), e.param(3)
                c.name = text(name) if isinstance(name, bytes) else ""
                c.image = text(image) if isinstance(image, bytes) else ""
                self.containers[c.id] = c
            return
        raw = e.param(0)
        if not isinstance(raw, bytes):
            return
        try:
            doc = json.loads(raw.decode("utf-8", "replace"))
        except ValueError:
            return
        if isinstance(doc, dict):
            c = ContainerInfo.from_json(doc)
            if c.id:
                self.containers[c.id] = c

    def _remove_thread(self, tid: int) -> None:
        self.threads.remove(tid)

    def arg(self, e: Event, name: str) -> object:
        """A parameter of the event, or of its enter event when the exit lacks
        it (old captures)."""
        idx = PARAM_INDEX[e.type].get(name)
        if idx is not None:
            v = e.param(idx)
            if v is not None:
                return v
        enter = e.enter
        if enter is not None:
            idx = PARAM_INDEX[enter.type].get(name)
            if idx is not None:
                return enter.param(idx)
        return None

    def resolve(self, th: ThreadInfo, path: str, dirfd: int | None = None) -> str:
        """An absolute path for `path` as the thread sees it."""
        if not path or path.startswith("/"):
            return normalize(path)
        if dirfd is None or dirfd == AT_FDCWD:
            base = th.cwd
        else:
            d = th.fds.get(dirfd)
            if d is None:
                return path
            base = d.name + "/"
        return normalize(base + path)

    def add_fd(self, th: ThreadInfo, e: Event, fd: FdInfo) -> None:
        th.fds[fd.fd] = fd
        e.fdnum = fd.fd
        e.fdinfo = fd


# ---------------------------------------------------------------- handlers

def on_clone_exit(st: StateTracker, e: Event, th: ThreadInfo) -> None:
    res = st.arg(e, "res")
    if res is None or res < 0:  # type: ignore[operator]
        return
    flags = st.arg(e, "flags") or 0
    if res == 0:  # the child's side: the event's thread is the new one
        child = th
        fresh = child.clone_ts == 0
        if fresh:  # else the parent's side made it, with the ids as libsinsp sets them
            for name in ("pid", "ptid"):
                v = st.arg(e, name)
                if isinstance(v, int):
                    setattr(child, name, v)
        _fill_from_clone(st, e, child)
        if fresh:
            parent = st.threads.get(child.ptid)
            _inherit_fds(st, child, parent, flags)  # type: ignore[arg-type]
            child.clone_ts = e.ts
        return
    # the parent's side: create the child unless it announced itself first
    if st.threads.get(res) is not None:  # type: ignore[arg-type]
        return
    child = ThreadInfo(res, res, th.pid)  # type: ignore[arg-type]
    _fill_from_clone(st, e, child)
    if flags & CLONE_THREAD:  # type: ignore[operator]
        child.pid = th.pid  # a thread's parent is the thread that made it
    child.clone_ts = e.ts
    st.threads.add(child)
    _inherit_fds(st, child, th, flags)  # type: ignore[arg-type]


def _take_process_params(st: StateTracker, e: Event, th: ThreadInfo,
                         ints: tuple[str, ...]) -> None:
    """What clone and execve exits both carry: exe, args, comm (else the
    exe's basename), cgroups, and the named integer parameters."""
    exe = st.arg(e, "exe")
    if isinstance(exe, bytes):
        th.exe = text(exe)
    args = st.arg(e, "args")
    if isinstance(args, bytes):
        th.args = split_nul(args)
    comm = st.arg(e, "comm")
    if isinstance(comm, bytes) and comm:
        th.comm = text(comm)
    elif isinstance(exe, bytes):
        th.comm = posixpath.basename(text(exe))
    cg = st.arg(e, "cgroups")
    if isinstance(cg, bytes) and cg:  # empty: not collected (older kernels, live)
        th.cgroups = split_nul(cg)
        th.container_id = container_id(th.cgroups)
    for name in ints:
        v = st.arg(e, name)
        if isinstance(v, int):
            setattr(th, name, v)


def _fill_from_clone(st: StateTracker, e: Event, child: ThreadInfo) -> None:
    _take_process_params(st, e, child, ("uid", "gid", "vtid", "vpid", "fdlimit"))
    cwd = st.arg(e, "cwd")
    if isinstance(cwd, bytes):
        child.cwd = with_slash(text(cwd))
    parent = st.threads.get(child.ptid)
    if parent is not None:  # what the kernel copies from the parent
        child.loginuid = parent.loginuid
        child.tty = parent.tty
        child.env = parent.env
        child.exepath = parent.exepath
        child.sid = parent.sid
        child.vpgid = parent.vpgid
        child.cwd = (st.threads.main_thread(parent) or parent).cwd
        if not child.cgroups:
            child.cgroups = parent.cgroups
            child.container_id = parent.container_id


def _inherit_fds(st: StateTracker, child: ThreadInfo, parent: ThreadInfo | None,
                 flags: int) -> None:
    if flags & CLONE_THREAD:
        main = st.threads.get(child.pid)
        if main is not None and main is not child:
            child.fds = main.fds
        return
    if parent is None:
        return
    src = (st.threads.main_thread(parent) or parent).fds
    # CLONE_FILES shares the table; otherwise the child gets a copy
    child.fds = src if flags & CLONE_FILES else dict(src)


def on_execve_exit(st: StateTracker, e: Event, th: ThreadInfo) -> None:
    res = st.arg(e, "res")
    if res != 0:
        return
    _take_process_params(st, e, th, ("pid", "ptid", "tty", "fdlimit", "uid", "gid",
                                     "cap_inheritable", "cap_permitted", "cap_effective"))
    env = st.arg(e, "env")
    if isinstance(env, bytes):
        th.env = split_env(env)
    lu = st.arg(e, "loginuid")
    if isinstance(lu, int):
        th.loginuid = lu & 0xFFFFFFFF
    # the executable's path: what the driver says, else the path given to
    # execve; old events have neither and leave it unchanged
    trusted = st.arg(e, "trusted_exepath")
    fname = st.arg(e, "filename")
    if isinstance(trusted, bytes) and trusted:
        th.exepath = text(trusted)
    elif isinstance(fname, bytes) and fname:
        th.exepath = st.resolve(th, text(fname))
    flags = st.arg(e, "flags")
    if isinstance(flags, int):
        th.exe_writable = bool(flags & 1)
    # close-on-exec descriptors are gone
    for num in [n for n, f in th.fds.items() if f.cloexec]:
        del th.fds[num]


def on_procexit(st: StateTracker, e: Event, th: ThreadInfo) -> None:
    st._deferred_exit = th.tid


def on_chdir_exit(st: StateTracker, e: Event, th: ThreadInfo) -> None:
    if st.arg(e, "res") != 0:
        return
    path = st.arg(e, "path")
    if isinstance(path, bytes):
        _set_cwd(st, th, st.resolve(th, text(path)))


def on_fchdir_exit(st: StateTracker, e: Event, th: ThreadInfo) -> None:
    if st.arg(e, "res") != 0:
        return
    fd = e.fdinfo
    if fd is not None:
        _set_cwd(st, th, fd.name)


def _set_cwd(st: StateTracker, th: ThreadInfo, cwd: str) -> None:
    cwd = with_slash(cwd)
    main = st.threads.main_thread(th)
    for x in st.threads:  # the cwd belongs to the process
        if x.pid == th.pid:
            x.cwd = cwd
    th.cwd = cwd
    if main is not None:
        main.cwd = cwd


def _set_ids(st: StateTracker, e: Event, th: ThreadInfo, names: tuple[str, ...],
             attr: str) -> None:
    if st.arg(e, "res") != 0:
        return
    for name in names:
        v = st.arg(e, name)
        if isinstance(v, int) and v != 0xFFFFFFFF and v != -1:
            setattr(th, attr, v & 0xFFFFFFFF)
            return


def on_setuid_exit(st: StateTracker, e: Event, th: ThreadInfo) -> None:
    _set_ids(st, e, th, ("uid",), "uid")


def on_setresuid_exit(st: StateTracker, e: Event, th: ThreadInfo) -> None:
    _set_ids(st, e, th, ("euid",), "uid")


def on_setgid_exit(st: StateTracker, e: Event, th: ThreadInfo) -> None:
    _set_ids(st, e, th, ("gid",), "gid")


def on_setresgid_exit(st: StateTracker, e: Event, th: ThreadInfo) -> None:
    _set_ids(st, e, th, ("egid",), "gid")


def on_open_exit(st: StateTracker, e: Event, th: ThreadInfo) -> None:
    num = st.arg(e, "fd")
    if num is None:
        num = st.arg(e, "res")
    name = st.arg(e, "name")
    if name is None:
        name = st.arg(e, "pathname")
    path = text(name) if isinstance(name, bytes) else ""
    dirfd = st.arg(e, "dirfd")
    flags = st.arg(e, "flags")
    flags = flags if isinstance(flags, int) else 0
    fd = FdInfo(num if isinstance(num, int) else -1,
                F.DIRECTORY if flags & O_DIRECTORY else F.FILE,
                st.resolve(th, path, dirfd if isinstance(dirfd, int) else None), flags)
    if not isinstance(num, int) or num < 0:
        e.fdname = fd.name  # a failed open still names what it tried
        return
    fd.name_changed = e.num
    dev = st.arg(e, "dev")
    if isinstance(dev, int):
        fd.dev = dev
    ino = st.arg(e, "ino")
    if isinstance(ino, int):
        fd.ino = ino
    st.add_fd(th, e, fd)


def on_close_exit(st: StateTracker, e: Event, th: ThreadInfo) -> None:
    res = st.arg(e, "res")
    if isinstance(res, int) and res >= 0 and e.fdnum is not None:
        st._deferred_fd = (th.fds, e.fdnum)


_FAMILY_KIND = {AF_INET: F.IPV4, AF_INET6: F.IPV6, AF_UNIX: F.UNIX, 16: F.NETLINK}


def on_socket_exit(st: StateTracker, e: Event, th: ThreadInfo) -> None:
    num = st.arg(e, "fd")
    if not isinstance(num, int) or num < 0:
        return
    domain = st.arg(e, "domain")
    kind = _FAMILY_KIND.get(domain, F.UNSUPPORTED)  # type: ignore[arg-type]
    fd = FdInfo(num, kind)
    stype = st.arg(e, "type")
    proto = st.arg(e, "proto")
    if isinstance(stype, int):
        fd.sock_type = stype & SOCK_TYPE_MASK
        if fd.sock_type == SOCK_RAW and proto in (IPPROTO_ICMP, IPPROTO_ICMPV6):
            fd.sock_type = -1  # ICMP
    st.add_fd(th, e, fd)


def on_bind_exit(st: StateTracker, e: Event, th: ThreadInfo) -> None:
    fd = e.fdinfo
    if fd is None or st.arg(e, "res") != 0:
        return
    addr = st.arg(e, "addr")
    if isinstance(addr, SockAddr):
        if addr.family in (AF_INET, AF_INET6):
            if addr.port:  # a server socket; port 0 only names the local end
                fd.dip, fd.dport, fd.sip, fd.sport = addr.addr, addr.port, b"", 0
                fd.is_server = True
                fd.l4proto = _L4_BY_TYPE.get(fd.sock_type, F.L4_TCP)
            fd.name = f"{render_ip(addr.addr)}:{addr.port}"
        elif addr.family == AF_UNIX:
            fd.name = text(addr.path)
        fd.name_changed = e.num


_L4_BY_TYPE = {SOCK_STREAM: F.L4_TCP, SOCK_DGRAM: F.L4_UDP, SOCK_RAW: F.L4_RAW,
               -1: F.L4_ICMP}


def _apply_tuple(fd: FdInfo, tup: SockTuple, role: int) -> None:
    """Tuples are client first: connect/send give local->peer, accept and
    recv peer->local; either way (sip, sport) ends up the client."""
    if tup.family in (AF_INET, AF_INET6):
        fd.sip, fd.sport, fd.dip, fd.dport = tup.saddr, tup.sport, tup.daddr, tup.dport
        if tup.family == AF_INET6 and tup.saddr[:12] == b"\0" * 10 + b"\xff\xff":
            fd.kind = F.IPV4
            fd.sip, fd.dip = fd.sip[12:], fd.dip[12:]
        fd.is_server = False
        fd.pending = False
        fd.role = role
        if fd.l4proto == F.L4_UNKNOWN:
            fd.l4proto = _L4_BY_TYPE.get(fd.sock_type, F.L4_TCP)
        fd.name = socket_name(fd)
    elif tup.family == AF_UNIX:
        fd.name = f"{tup.sptr:x}->{tup.dptr:x} {text(tup.path)}"


def on_connect_exit(st: StateTracker, e: Event, th: ThreadInfo) -> None:
    fd = e.fdinfo
    if fd is None:
        return
    tup = st.arg(e, "tuple")
    res = st.arg(e, "res")
    ok = res in (0, EINPROGRESS)
    if not ok:  # the event shows the tuple it tried; the fd keeps its state
        fd = e.fdinfo = fd.copy(fd.fd)
    if isinstance(tup, SockTuple) and tup.family:
        _apply_tuple(fd, tup, F.ROLE_CLIENT)
        if ok:
            fd.name_changed = e.num
    if ok:
        fd.connected = True


def on_connect_enter(st: StateTracker, e: Event, th: ThreadInfo) -> None:
    """The destination is known before the call returns (libsinsp keeps it,
    so that a failed or pending connect still shows its server)."""
    fd = e.fdinfo
    addr = st.arg(e, "addr")
    if fd is None or not isinstance(addr, SockAddr) or addr.family not in (AF_INET, AF_INET6):
        return
    if fd.kind in (F.IPV4, F.IPV6) and not fd.dip:
        fd.dip, fd.dport = addr.addr, addr.port
        fd.pending = True


def on_accept_exit(st: StateTracker, e: Event, th: ThreadInfo) -> None:
    num = st.arg(e, "fd")
    if not isinstance(num, int) or num < 0:
        return
    tup = st.arg(e, "tuple")
    kind = F.UNIX
    if isinstance(tup, SockTuple):
        kind = {AF_INET: F.IPV4, AF_INET6: F.IPV6}.get(tup.family, F.UNIX)
    fd = FdInfo(num, kind)
    if isinstance(tup, SockTuple):
        fd.sock_type = SOCK_STREAM
        _apply_tuple(fd, tup, F.ROLE_SERVER)
        fd.name_changed = e.num
    fd.connected = True
    st.add_fd(th, e, fd)


def on_sendrecv_exit(st: StateTracker, e: Event, th: ThreadInfo) -> None:
    """UDP: a tuple on sendto/recvfrom names the peer of an unconnected socket."""
    fd = e.fdinfo
    if fd is None or fd.kind not in (F.IPV4, F.IPV6) or fd.connected:
        return
    tup = st.arg(e, "tuple")
    if isinstance(tup, SockTuple) and tup.family in (AF_INET, AF_INET6):
        inbound = EVENTS[e.type].name.startswith("recv")
        before = fd.name
        _apply_tuple(fd, tup, F.ROLE_SERVER if inbound else F.ROLE_CLIENT)
        if fd.name != before:
            fd.name_changed = e.num


def on_dup_exit(st: StateTracker, e: Event, th: ThreadInfo) -> None:
    res = st.arg(e, "res")
    if not isinstance(res, int) or res < 0:
        return
    old = st.arg(e, "oldfd")
    if old is None:
        old = e.enter.param(0) if e.enter is not None and e.enter.nparams else None
    src = th.fds.get(old) if isinstance(old, int) else None  # type: ignore[arg-type]
    if src is None:
        return
    new = src.copy(res)
    flags = st.arg(e, "flags")
    if isinstance(flags, int) and flags & 0x80000:  # O_CLOEXEC for dup3
        new.cloexec = True
    st.add_fd(th, e, new)


def _simple_fd(kind: int, name: str = "", param: str = "res"):
    def handler(st: StateTracker, e: Event, th: ThreadInfo) -> None:
        num = st.arg(e, param)
        if isinstance(num, int) and num >= 0:
            st.add_fd(th, e, FdInfo(num, kind, name))
    return handler


def on_pipe_exit(st: StateTracker, e: Event, th: ThreadInfo) -> None:
    if st.arg(e, "res") != 0:
        return
    ino = st.arg(e, "ino")
    for pname in ("fd1", "fd2"):
        num = st.arg(e, pname)
        if isinstance(num, int) and num >= 0:
            fd = FdInfo(num, F.PIPE)
            fd.ino = ino if isinstance(ino, int) else 0
            st.add_fd(th, e, fd)  # the event's fd ends up the last one made


def on_socketpair_exit(st: StateTracker, e: Event, th: ThreadInfo) -> None:
    if st.arg(e, "res") != 0:
        return
    src, peer = st.arg(e, "source"), st.arg(e, "peer")
    for pname in ("fd1", "fd2"):
        num = st.arg(e, pname)
        if isinstance(num, int) and num >= 0:
            fd = FdInfo(num, F.UNIX)
            if isinstance(src, int) and isinstance(peer, int):
                fd.name = f"{src:x}->{peer:x}"
            st.add_fd(th, e, fd)


def on_fcntl_exit(st: StateTracker, e: Event, th: ThreadInfo) -> None:
    cmd = st.arg(e, "cmd")
    res = st.arg(e, "res")
    if cmd in (1, 26) and isinstance(res, int) and res >= 0:  # F_DUPFD, F_DUPFD_CLOEXEC
        fd = st.arg(e, "fd")  # newer exits carry it; else the enter event's
        src = th.fds.get(fd if isinstance(fd, int) else th.lastevent_fd)
        if src is not None:
            new = src.copy(res)
            new.cloexec = cmd == 26
            st.add_fd(th, e, new)


Handler = Callable[["StateTracker", Event, ThreadInfo], None]


def _handlers() -> dict[int, Handler]:
    by_name = {
        "clone": on_clone_exit, "fork": on_clone_exit, "vfork": on_clone_exit,
        "clone3": on_clone_exit, "execve": on_execve_exit, "execveat": on_execve_exit,
        "chdir": on_chdir_exit, "fchdir": on_fchdir_exit, "setuid": on_setuid_exit,
        "setresuid": on_setresuid_exit, "setgid": on_setgid_exit,
        "setresgid": on_setresgid_exit, "open": on_open_exit, "openat": on_open_exit,
        "openat2": on_open_exit, "creat": on_open_exit, "open_by_handle_at": on_open_exit,
        "close": on_close_exit, "socket": on_socket_exit, "bind": on_bind_exit,
        "connect": on_connect_exit, "accept": on_accept_exit, "accept4": on_accept_exit,
        "sendto": on_sendrecv_exit, "recvfrom": on_sendrecv_exit,
        "sendmsg": on_sendrecv_exit, "recvmsg": on_sendrecv_exit, "dup": on_dup_exit,
        "dup2": on_dup_exit, "dup3": on_dup_exit, "pipe": on_pipe_exit,
        "pipe2": on_pipe_exit, "socketpair": on_socketpair_exit,
        "eventfd": _simple_fd(F.EVENT), "eventfd2": _simple_fd(F.EVENT),
        "signalfd": _simple_fd(F.SIGNALFD), "signalfd4": _simple_fd(F.SIGNALFD),
        "timerfd_create": _simple_fd(F.TIMERFD), "inotify_init": _simple_fd(F.INOTIFY),
        "inotify_init1": _simple_fd(F.INOTIFY), "epoll_create": _simple_fd(F.EVENTPOLL),
        "epoll_create1": _simple_fd(F.EVENTPOLL), "userfaultfd": _simple_fd(F.USERFAULTFD),
        "memfd_create": _simple_fd(F.MEMFD, param="fd"),
        "pidfd_open": _simple_fd(F.PIDFD, param="fd"), "fcntl": on_fcntl_exit,
    }
    out = {}
    for e in EVENTS:
        if e.code & 1 and e.name in by_name:
            out[e.code] = by_name[e.name]
    for e in EVENTS:  # enter events that change state
        if e.name == "procexit":
            out[e.code] = on_procexit
        elif e.name == "connect" and e.code & 1 == 0:
            out[e.code] = on_connect_enter
    return out


HANDLERS = _handlers()


def _plan(e: EventInfo) -> tuple[int, int | None, bool, Handler | None]:
    """What process() needs to know of an event type, in one lookup: its
    kind, the index of its fd parameter (None if it has none or does not
    use it), whether the event gets an fd attached, and its state handler."""
    kind = CONTAINER if e.code in CONTAINER_EVENTS else META if e.code in META_EVENTS \
        else SYSCALL
    fd_idx = PARAM_INDEX[e.code].get("fd") if e.flags & t.EF_USES_FD else None
    attach = bool(e.flags & (t.EF_USES_FD | t.EF_CREATES_FD))
    return kind, fd_idx, attach, HANDLERS.get(e.code)


PLAN = tuple(_plan(e) for e in EVENTS)


def _int_param(e: Event, idx: int | None) -> int:
    """An fd parameter's value, -1 when absent."""
    if idx is None:
        return -1
    v = e.param(idx)
    return v if isinstance(v, int) else -1
