"""The field registry: every `%field` and condition field falcolite knows,
with its type, argument syntax and extractor.

An extractor takes an event (with the thread and fd the state tracker
attached) and returns the field's value, or None when the field has no
value for that event.  Values are Python ints, strs, bools or bytes (IP
addresses); `display` turns them into the text sysdig prints, `json_value`
into the typed JSON value of Falco's `output_fields`.
"""

from __future__ import annotations

import os
import posixpath
import time
from collections.abc import Callable
from dataclasses import dataclass

from ..events import table as t
from ..events.event import Event
from ..events.names import ERRNO_NAMES
from ..events.params import SockAddr, SockTuple, decode, render, render_ip
from ..events.table import EVENTS, PARAM_INDEX
from ..events.table_data import SYSCALLS
from ..state import fdinfo as F
from ..state.threads import NA, UID_NONE, ThreadInfo

Extractor = Callable[[Event], object]

# field types: how values compare and print
STRING, INT, UINT, BOOL, IPADDR, IPNET, PORT, RELTIME, ABSTIME, BYTES, L4PROTO = (
    "string", "int64", "uint64", "bool", "ipaddr", "ipnet", "port", "reltime", "abstime",
    "bytes", "l4proto")
DYNAMIC = "dynamic"  # the type of whatever parameter the event has (evt.rawarg)
NUMERIC = frozenset((INT, UINT, PORT, RELTIME, ABSTIME))


class FieldError(Exception):
    """An unknown field or a bad field argument."""


@dataclass(frozen=True, slots=True)
class FieldDef:
    name: str
    type: str
    desc: str
    build: Callable[[FieldContext, str | None], Extractor]
    arg: str = "none"  # none | required | optional | index
    filter_only: bool = False
    display: Callable[[object], str] | None = None


class FieldContext:
    """What extractors need besides the event: the state tables and the
    capture's clock."""

    def __init__(self, tracker, hostname: str = "") -> None:
        self.tracker = tracker
        self.hostname = hostname or os.uname().nodename
        self.first_ts: int | None = None
        self.prev_ts: int | None = None


REGISTRY: dict[str, FieldDef] = {}


def field(name: str, ftype: str, desc: str, arg: str = "none", filter_only: bool = False,
          display: Callable[[object], str] | None = None):
    """Register a field whose extractor builder is the decorated function."""
    def deco(build: Callable[[FieldContext, str | None], Extractor]):
        REGISTRY[name] = FieldDef(name, ftype, desc, build, arg, filter_only, display)
        return build
    return deco


def simple(name: str, ftype: str, desc: str, fn: Extractor, **kw: object) -> None:
    """A field with no argument whose extractor needs no context."""
    REGISTRY[name] = FieldDef(name, ftype, desc, lambda _ctx, _arg: fn, **kw)  # type: ignore[arg-type]


def lookup(name: str) -> tuple[FieldDef, str | None]:
    """The field for a name as written in a condition or format, with its
    argument: `proc.aname[2]`, `evt.arg.flags`, `evt.arg[1]`."""
    base, _, rest = name.partition("[")
    if rest:
        if not rest.endswith("]"):
            raise FieldError(f"unknown field {name}")
        fd = REGISTRY.get(base)
        if fd is None or fd.arg == "none":
            raise FieldError(f"unknown field {name}")
        if rest != "]":
            return fd, rest[:-1]
        name = base  # empty brackets: no argument, one meaning for every user of it
    fd = REGISTRY.get(name)
    if fd is not None:
        if fd.arg == "required":
            raise FieldError(f"field {name} requires an argument")
        return fd, None
    # dotted arguments: evt.arg.NAME, evt.rawarg.NAME
    for prefix in ("evt.arg", "evt.rawarg", "evt.type.is"):
        if name.startswith(prefix + "."):
            return REGISTRY[prefix], name[len(prefix) + 1:]
    raise FieldError(f"unknown field {name}")


# ------------------------------------------------------------ display helpers

def show(value: object) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, bytes):
        return render_ip(value) if len(value) in (4, 16) else value.decode("latin-1")
    return str(value)


def local_time(ts: int) -> str:
    return time.strftime("%H:%M:%S", time.localtime(ts // 1_000_000_000)) + \
        f".{ts % 1_000_000_000:09d}"


def iso8601(ts: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts // 1_000_000_000)) + \
        f".{ts % 1_000_000_000:09d}Z"


def datetime_text(ts: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts // 1_000_000_000)) + \
        f".{ts % 1_000_000_000:09d}"


# ------------------------------------------------------------------ evt.*

simple("evt.num", UINT, "event number", lambda e: e.num)
simple("evt.time", ABSTIME, "event timestamp, local time with nanoseconds", lambda e: e.ts,
       display=lambda v: local_time(v))  # type: ignore[arg-type]
simple("evt.time.s", ABSTIME, "event timestamp, local time, seconds", lambda e: e.ts,
       display=lambda v: local_time(v)[:8])  # type: ignore[arg-type,index]
simple("evt.time.iso8601", ABSTIME, "event timestamp in ISO 8601, UTC", lambda e: e.ts,
       display=lambda v: iso8601(v))  # type: ignore[arg-type]
simple("evt.datetime", ABSTIME, "event date and time, local", lambda e: e.ts,
       display=lambda v: datetime_text(v))  # type: ignore[arg-type]
simple("evt.datetime.s", ABSTIME, "event date and time, local, seconds", lambda e: e.ts,
       display=lambda v: datetime_text(v)[:19])  # type: ignore[arg-type,index]
simple("evt.rawtime", ABSTIME, "event timestamp, ns since the epoch", lambda e: e.ts,
       display=str)
simple("evt.rawtime.s", UINT, "seconds part of the timestamp", lambda e: e.ts // 10**9)
simple("evt.rawtime.ns", UINT, "nanoseconds part of the timestamp", lambda e: e.ts % 10**9,
       display=lambda v: f"{v:09d}")
simple("evt.type", STRING, "event name (syscall name for generic events)",
       lambda e: e.type_name())
simple("evt.dir", STRING, "'>' for enter events, '<' for exit events",
       lambda e: ">" if e.type & 1 == 0 else "<")
simple("evt.cpu", INT, "CPU the event was captured on", lambda e: e.cpu)
simple("evt.count", UINT, "1 for every event", lambda e: 1)


def _syscall_type(e: Event) -> object:
    info = EVENTS[e.type]
    if info.flags & t.EF_SKIPPARSERESET or info.category & 0x180:  # meta, scheduler
        return None
    return e.type_name()


simple("syscall.type", STRING, "system call name, for syscall events", _syscall_type)

_CATEGORIES = {0: "unknown", 1: "other", 2: "file", 3: "net", 4: "IPC", 5: "memory",
               6: "process", 7: "sleep", 8: "system", 9: "signal", 10: "user", 11: "time",
               12: "processing", 32: "IO_read", 33: "IO_write", 34: "IO_other", 64: "wait",
               128: "scheduler", 256: "internal"}


_IO_CATEGORY = {F.FILE: "file", F.DIRECTORY: "file", F.IPV4: "net", F.IPV6: "net",
                F.UNIX: "ipc", F.PIPE: "ipc", F.EVENT: "ipc", F.SIGNALFD: "signal",
                F.EVENTPOLL: "wait", F.INOTIFY: "file", F.TIMERFD: "time"}


def _category(e: Event) -> object:
    cat = EVENTS[e.type].category & 0x1FF
    if e.type in (t.GENERIC_E, t.GENERIC_X):
        sc = e.param(0)
        if isinstance(sc, int) and sc < len(SYSCALLS):
            cat = SYSCALLS[sc][1] & 0x1FF
    if cat in (32, 33, 34):  # I/O: what it reads or writes decides
        fd = e.fdinfo
        return _IO_CATEGORY.get(fd.kind, "unknown") if fd is not None else "unknown"
    if cat == 256:
        return "unknown"
    return _CATEGORIES.get(cat, "unknown")


simple("evt.category", STRING, "event category", _category)


def _hooks(ctx: FieldContext, e: Event) -> dict:
    th = e.thread
    fds = th.fds if th is not None else {}
    users = ctx.tracker.users

    def fd_note(num: int) -> str | None:
        fd = fds.get(num)
        if fd is None:
            return None
        return f"(<{fd_typechar_str(fd)}>{fd.name})"

    def pid_note(pid: int) -> str | None:
        other = ctx.tracker.threads.get(pid)
        return f"({other.comm})" if other is not None else None

    def fd_char(num: int) -> str | None:
        fd = fds.get(num)
        return fd.typechar if fd is not None else None

    def uid_note(uid: int) -> str:
        return users.user_name(uid) or NA

    def gid_note(gid: int) -> str:
        return users.group_name(gid) or NA

    return {"fd_note": fd_note, "pid_note": pid_note, "fd_char": fd_char,
            "uid_note": uid_note, "gid_note": gid_note}


def fd_typechar_str(fd: F.FdInfo) -> str:
    """The `<4t>`-style prefix sysdig puts before an fd's name in evt.args:
    the type letter, plus the L4 protocol letter for IP sockets."""
    if fd.kind in (F.IPV4, F.IPV6) and fd.l4proto in (F.L4_TCP, F.L4_UDP):
        return fd.typechar + ("t" if fd.l4proto == F.L4_TCP else "u")
    return fd.typechar


@field("evt.args", STRING, "all parameters as name=value text")
def _evt_args(ctx: FieldContext, _arg: str | None) -> Extractor:
    return lambda e: e.args_text(**_hooks(ctx, e))


def _param_index(e: Event, arg: str) -> int | None:
    if arg.isdigit():
        i = int(arg)
        return i if i < e.nparams else None
    i = PARAM_INDEX[e.type].get(arg)
    return i if i is not None and i < e.nparams else None


@field("evt.arg", STRING, "one parameter, rendered: evt.arg.NAME or evt.arg[N]", "required")
def _evt_arg(ctx: FieldContext, arg: str | None) -> Extractor:
    assert arg is not None

    def get(e: Event) -> object:
        i = _param_index(e, arg)
        if i is None:
            return None
        p = EVENTS[e.type].params[i]
        raw = e.raw(i)
        if not raw and p.type not in (t.PT_BYTEBUF, t.PT_CHARBUF, t.PT_FSPATH):
            return None
        return resolved(p.type, render(p, raw, **_hooks(ctx, e)))
    return get


_DECORATED = frozenset((t.PT_FD, t.PT_PID, t.PT_ERRNO, t.PT_FLAGS8, t.PT_FLAGS16,
                        t.PT_FLAGS32, t.PT_ENUMFLAGS8, t.PT_ENUMFLAGS16, t.PT_ENUMFLAGS32,
                        t.PT_MODE, t.PT_UID, t.PT_GID, t.PT_SIGTYPE, t.PT_FSPATH,
                        t.PT_FSRELPATH, t.PT_FD32, t.PT_PID32))


def resolved(ptype: int, text: str) -> str:
    """evt.arg shows the resolved form alone: `3(<f>/etc/x)` -> `<f>/etc/x`,
    `-2(ENOENT)` -> `ENOENT`, `4097(O_RDONLY|O_CLOEXEC)` -> the names."""
    if ptype in _DECORATED and text.endswith(")"):
        open_at = text.find("(")
        if open_at > 0:
            return text[open_at + 1:-1]
    return text


@field("evt.rawarg", DYNAMIC, "one parameter's raw value: evt.rawarg.NAME", "required")
def _evt_rawarg(_ctx: FieldContext, arg: str | None) -> Extractor:
    assert arg is not None

    def get(e: Event) -> object:
        i = _param_index(e, arg)
        if i is None:
            return None
        p = EVENTS[e.type].params[i]
        v = decode(p, e.raw(i) or b"")
        if isinstance(v, bytes):
            return v.decode("utf-8", "surrogateescape")
        if isinstance(v, (SockAddr, SockTuple)):
            return render(p, e.raw(i))
        return v
    return get


_ERR_TYPES = (t.PT_ERRNO, t.PT_FD, t.PT_PID)
# exit events whose first parameter is the return value: an errno, fd or pid,
# or one named res
_HAS_RES = tuple(bool(i.code & 1 and i.params and (i.params[0].type in _ERR_TYPES
                                                    or i.params[0].name == "res"))
                 for i in EVENTS)


def _res(e: Event) -> int | None:
    """The return value of an exit event."""
    if not _HAS_RES[e.type]:
        return None
    v = e.param(0)
    return v if isinstance(v, int) else None


def _evt_res(e: Event) -> object:
    v = _res(e)
    if v is None:
        return None
    if v >= 0 or EVENTS[e.type].params[0].type not in _ERR_TYPES:
        return "SUCCESS"
    return ERRNO_NAMES.get(-v, str(v))


simple("evt.res", STRING, "SUCCESS, or the errno name of a failed call", _evt_res)
simple("evt.rawres", INT, "the call's return value", _res)
simple("evt.failed", BOOL, "the call returned an error",
       lambda e: (r := _res(e)) is not None and r < 0)

_OPEN_NAMES = frozenset(("open", "openat", "openat2", "creat", "open_by_handle_at"))


def _open_flags(e: Event) -> int | None:
    if e.type & 1 == 0 or EVENTS[e.type].name not in _OPEN_NAMES:
        return None
    if EVENTS[e.type].name == "creat":
        return F.O_WRONLY | F.O_CREAT
    fd = e.fdinfo
    if fd is not None:
        return fd.open_flags
    i = PARAM_INDEX[e.type].get("flags")
    v = e.param(i) if i is not None and i < e.nparams else None
    return v if isinstance(v, int) else None


simple("evt.is_open_read", BOOL, "an open for reading",
       lambda e: bool((f := _open_flags(e)) and f & F.O_RDONLY))
simple("evt.is_open_write", BOOL, "an open for writing",
       lambda e: bool((f := _open_flags(e)) and f & F.O_WRONLY))
simple("evt.is_open_exec", BOOL, "an open that creates an executable file",
       lambda e: False)


def _buffer(e: Event) -> object:
    for name in ("data", "buf"):
        i = PARAM_INDEX[e.type].get(name)
        if i is not None and i < e.nparams and EVENTS[e.type].params[i].type == t.PT_BYTEBUF:
            return e.raw(i)
    return None


def _buflen(e: Event) -> object:
    """Bytes moved by an I/O exit event: its return value."""
    if e.type & 1 == 0 or EVENTS[e.type].category & 0xFF not in (32, 33, 34) or \
            e.fdinfo is None:
        return None
    return _res(e)


simple("evt.buffer", BYTES, "the data buffer of I/O events", _buffer)
simple("evt.buflen", UINT, "bytes read or written by I/O events", _buflen)


@field("evt.type.is", UINT, "1 if the event's type is the named one (evt.type.is.open), "
       "else 0", "required")
def _type_is(_ctx: FieldContext, arg: str | None) -> Extractor:
    return lambda e: 1 if e.type_name() == arg else 0


@field("evt.hostname", STRING, "the host's name")
def _hostname(ctx: FieldContext, _arg: str | None) -> Extractor:
    return lambda e: ctx.hostname


@field("evt.latency", RELTIME, "exit time minus enter time, in ns (0 for enter events)")
def _latency(_ctx: FieldContext, _arg: str | None) -> Extractor:
    return lambda e: e.ts - e.enter.ts if e.enter is not None else (
        None if EVENTS[e.type].flags & t.EF_SKIPPARSERESET or EVENTS[e.type].category & 0x180
        else 0)


@field("evt.reltime", RELTIME, "ns since the first event")
def _reltime(ctx: FieldContext, _arg: str | None) -> Extractor:
    def get(e: Event) -> int:
        if ctx.first_ts is None:
            ctx.first_ts = e.ts
        return e.ts - ctx.first_ts
    return get


# ------------------------------------------------------------ proc/thread

def th_attr(name: str, attr: str, ftype: str, desc: str, na_on: object = None) -> None:
    def get(e: Event) -> object:
        th = e.thread
        if th is None:
            return None
        v = getattr(th, attr)
        return None if v == na_on and na_on is not None else v
    simple(name, ftype, desc, get)


th_attr("proc.pid", "pid", INT, "process id")
simple("thread.tid", INT, "thread id", lambda e: e.tid)
th_attr("proc.name", "comm", STRING, "process name (the kernel's comm)")
th_attr("proc.exe", "exe", STRING, "argv[0] of the process")
th_attr("proc.tty", "tty", UINT, "controlling terminal")
th_attr("proc.vpid", "vpid", INT, "pid in the process's pid namespace", -1)
th_attr("thread.vtid", "vtid", INT, "tid in the thread's pid namespace", -1)
th_attr("proc.sid", "sid", INT, "session id")
th_attr("proc.vpgid", "vpgid", INT, "process group id in the pid namespace")
th_attr("proc.fdlimit", "fdlimit", INT, "RLIMIT_NOFILE")
CAPABILITIES = (
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
    "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
    "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
    "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
    "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE")


def cap_names(mask: int) -> str:
    """Capability sets as space-separated names, as today's Falco shows them."""
    return " ".join(n for i, n in enumerate(CAPABILITIES) if mask >> i & 1)


for _name, _attr in (("thread.cap_permitted", "cap_permitted"),
                     ("thread.cap_effective", "cap_effective"),
                     ("thread.cap_inheritable", "cap_inheritable")):
    simple(_name, STRING, f"{_attr.split('_')[1]} capabilities, by name",
           lambda e, a=_attr: cap_names(getattr(e.thread, a)) if e.thread is not None
           else None)
simple("proc.is_exe_upper_layer", BOOL, "the executable lives in an overlayfs upper layer",
       lambda e: e.thread.exe_upper_layer if e.thread is not None else None)
simple("proc.is_exe_from_memfd", BOOL, "the executable is a memfd",
       lambda e: e.thread.exe_from_memfd if e.thread is not None else None)
simple("proc.is_vpgid_leader", BOOL, "the process leads its process group",
       lambda e: e.thread.vpid == e.thread.vpgid if e.thread is not None and
       e.thread.vpgid >= 0 else None)
simple("proc.exepath", STRING, "full path of the executable",
       lambda e: e.thread.exepath if e.thread is not None else None)
simple("proc.args", STRING, "arguments, joined by spaces",
       lambda e: " ".join(e.thread.args) if e.thread is not None else None)
simple("proc.env", STRING, "environment, joined by spaces",
       lambda e: " ".join(e.thread.env) if e.thread is not None else None)
simple("proc.cmdline", STRING, "name and arguments",
       lambda e: e.thread.cmdline if e.thread is not None else None)
simple("proc.exeline", STRING, "argv[0] and arguments (a space after argv[0] even without)",
       lambda e: e.thread.exe + " " + " ".join(e.thread.args) if e.thread is not None
       else None)


@field("proc.cwd", STRING, "working directory (the process's)")
def _cwd(ctx: FieldContext, _arg: str | None) -> Extractor:
    def get(e: Event) -> object:
        th = e.thread
        return None if th is None else (ctx.tracker.threads.main_thread(th) or th).cwd
    return get


simple("thread.ismain", BOOL, "the main thread of its process",
       lambda e: e.thread.tid == e.thread.pid if e.thread is not None else None)
simple("proc.is_exe_writable", BOOL, "the executable is writable by the process's user",
       lambda e: e.thread.exe_writable if e.thread is not None else None)


@field("proc.duration", RELTIME, "ns since the process started")
def _duration(_ctx: FieldContext, _arg: str | None) -> Extractor:
    return lambda e: e.ts - e.thread.clone_ts if e.thread is not None and \
        e.thread.clone_ts else None


def _ancestor(ctx: FieldContext, th: ThreadInfo | None, n: int) -> ThreadInfo | None:
    """The n-th ancestor process, walking main threads (n=0: the process)."""
    threads = ctx.tracker.threads
    cur = (threads.main_thread(th) or th) if th is not None else None
    for _ in range(n):
        if cur is None:
            return None
        cur = threads.get(cur.ptid)
        if cur is not None:
            cur = threads.main_thread(cur) or cur
    return cur


def parent_field(name: str, attr: Callable[[ThreadInfo], object], ftype: str,
                 desc: str) -> None:
    """Fields of the thread that created this one (for a thread of a
    multithreaded process, the creating thread, as libsinsp has it)."""
    def build(ctx: FieldContext, _arg: str | None) -> Extractor:
        def get(e: Event) -> object:
            th = e.thread
            p = ctx.tracker.threads.get(th.ptid) if th is not None else None
            return attr(p) if p is not None else None
        return get
    REGISTRY[name] = FieldDef(name, ftype, desc, build)


@field("proc.ppid", INT, "parent process id")
def _ppid(ctx: FieldContext, _arg: str | None) -> Extractor:
    def get(e: Event) -> object:
        th = e.thread
        if th is None:
            return None
        main = ctx.tracker.threads.main_thread(th) or th
        return main.ptid
    return get



parent_field("proc.pname", lambda p: p.comm, STRING, "parent process name")
parent_field("proc.pcmdline", lambda p: p.cmdline, STRING, "parent command line")
parent_field("proc.pexe", lambda p: p.exe, STRING, "parent argv[0]")
parent_field("proc.pexepath", lambda p: p.exepath, STRING, "parent executable path")


def ancestor_field(name: str, attr: Callable[[ThreadInfo], object], ftype: str,
                   desc: str) -> None:
    """proc.aname[N] (N=0: the process itself) and, without index, any
    ancestor from the parent up (filters only: handled by the compiler)."""
    def build(ctx: FieldContext, arg: str | None) -> Extractor:
        if arg is None:
            def every(e: Event) -> object:
                out = []
                p = _ancestor(ctx, e.thread, 1)
                seen = 0
                while p is not None and seen < 64:
                    out.append(attr(p))
                    p = _ancestor(ctx, p, 1)
                    seen += 1
                return AnyOf(out) if out else None
            return every
        if not arg.isdigit():
            raise FieldError(f"{name}: the index must be a number, not {arg!r}")
        n = int(arg)

        def get(e: Event) -> object:
            p = _ancestor(ctx, e.thread, n)
            return attr(p) if p is not None else None
        return get
    REGISTRY[name] = FieldDef(name, ftype, desc, build, "optional")


class AnyOf(list):
    """A multi-valued extraction: a comparison holds if it holds for any."""


ancestor_field("proc.aname", lambda p: p.comm, STRING, "name of an ancestor")
ancestor_field("proc.apid", lambda p: p.pid, INT, "pid of an ancestor")
ancestor_field("proc.aexe", lambda p: p.exe, STRING, "argv[0] of an ancestor")
ancestor_field("proc.aexepath", lambda p: p.exepath, STRING, "executable path of an ancestor")
ancestor_field("proc.acmdline", lambda p: p.cmdline, STRING, "command line of an ancestor")


@field("proc.nthreads", UINT, "threads of the process")
def _nthreads(ctx: FieldContext, _arg: str | None) -> Extractor:
    def get(e: Event) -> object:
        th = e.thread
        return None if th is None else sum(1 for x in ctx.tracker.threads if x.pid == th.pid)
    return get


@field("proc.sname", STRING, "name of the session leader: the process whose pid is the "
       "session id, or else the eldest ancestor in the same session")
def _sname(ctx: FieldContext, _arg: str | None) -> Extractor:
    def get(e: Event) -> object:
        th = e.thread
        if th is None:
            return None
        leader = ctx.tracker.threads.get(th.sid)
        if leader is not None:
            return leader.comm
        found = None
        cur = _ancestor(ctx, th, 0)
        for _ in range(64):
            if cur is None or cur.sid != th.sid:
                break
            found = cur
            cur = _ancestor(ctx, cur, 1)
        return found.comm if found is not None else None
    return get


# ------------------------------------------------------------------- user

@field("user.uid", UINT, "effective uid")
def _uid(_ctx: FieldContext, _arg: str | None) -> Extractor:
    return lambda e: e.thread.uid if e.thread is not None else None


@field("user.name", STRING, "user name")
def _uname(ctx: FieldContext, _arg: str | None) -> Extractor:
    def get(e: Event) -> object:
        th = e.thread
        if th is None:
            return None
        return ctx.tracker.users.user_name(th.uid)
    return get


@field("user.homedir", STRING, "home directory")
def _homedir(ctx: FieldContext, _arg: str | None) -> Extractor:
    return lambda e: ctx.tracker.users.home(e.thread.uid) if e.thread else None


@field("user.shell", STRING, "login shell")
def _shell(ctx: FieldContext, _arg: str | None) -> Extractor:
    return lambda e: ctx.tracker.users.shell(e.thread.uid) if e.thread else None


@field("user.loginuid", INT, "audit login uid (-1 when unset)")
def _loginuid(_ctx: FieldContext, _arg: str | None) -> Extractor:
    def get(e: Event) -> object:
        th = e.thread
        if th is None:
            return None
        return -1 if th.loginuid == UID_NONE else th.loginuid
    return get


@field("user.loginname", STRING, "name of the login user")
def _loginname(ctx: FieldContext, _arg: str | None) -> Extractor:
    def get(e: Event) -> object:
        th = e.thread
        if th is None:
            return None
        if th.loginuid == UID_NONE:
            return None
        return ctx.tracker.users.user_name(th.loginuid)
    return get


@field("group.gid", UINT, "effective gid")
def _gid(_ctx: FieldContext, _arg: str | None) -> Extractor:
    return lambda e: e.thread.gid if e.thread is not None else None


@field("group.name", STRING, "group name")
def _gname(ctx: FieldContext, _arg: str | None) -> Extractor:
    return lambda e: ctx.tracker.users.group_name(e.thread.gid) if e.thread else None


# -------------------------------------------------------------- container

simple("container.id", STRING, "container id, 'host' outside containers",
       lambda e: e.thread.container_id if e.thread is not None else None)
def container_field(name: str, ftype: str, desc: str, attr: Callable[[object], object],
                    host: object = None) -> None:
    def build(ctx: FieldContext, _arg: str | None) -> Extractor:
        def get(e: Event) -> object:
            th = e.thread
            if th is None:
                return None
            if th.container_id == "host":
                return host
            c = ctx.tracker.containers.get(th.container_id)
            return attr(c) if c is not None else None
        return get
    REGISTRY[name] = FieldDef(name, ftype, desc, build)


container_field("container.name", STRING, "container name, 'host' outside containers",
                lambda c: c.name or None, "host")
container_field("container.image", STRING, "container image", lambda c: c.image or None)
container_field("container.image.repository", STRING, "image repository",
                lambda c: c.image_repo or None)
container_field("container.image.tag", STRING, "image tag", lambda c: c.image_tag or None)
container_field("container.image.id", STRING, "image id", lambda c: c.image_id or None)
container_field("container.image.digest", STRING, "image digest",
                lambda c: c.image_digest or None)
container_field("container.type", STRING, "container runtime",
                lambda c: _RUNTIMES.get(c.type, "unknown"))
container_field("container.privileged", BOOL, "the container runs privileged",
                lambda c: c.privileged)
container_field("container.mounts", STRING, "mounts as source:dest:mode:rdrw:propagation",
                lambda c: ",".join(_mount_text(m) for m in c.mounts) or None)
_RUNTIMES = {0: "docker", 1: "lxc", 2: "libvirt-lxc", 3: "mesos", 4: "rkt", 5: "custom",
             6: "cri", 7: "containerd", 8: "cri-o", 9: "bpm", 10: "static", 11: "podman"}


def _mount_text(m: dict) -> str:
    return ":".join(str(m.get(k, "")) for k in ("Source", "Destination", "Mode", "RW",
                                                  "Propagation"))
for _name in ("container.mount", "container.mount.source", "container.mount.dest",
              "container.mount.mode", "container.mount.rdwr",
              "container.mount.propagation"):
    REGISTRY[_name] = FieldDef(_name, STRING, "a container mount (none for host processes)",
                               lambda _c, _a: lambda e: None, "required")


# --------------------------------------------------------------------- fd

def fd_field(name: str, ftype: str, desc: str, fn: Callable[[F.FdInfo], object],
             filter_only: bool = False) -> None:
    def get(e: Event) -> object:
        fd = e.fdinfo
        return fn(fd) if fd is not None else None
    simple(name, ftype, desc, get, filter_only=filter_only)


simple("fd.num", INT, "fd number of the event", lambda e: e.fdnum)
fd_field("fd.type", STRING, "fd type: file, directory, ipv4, ipv6, unix, pipe, ...",
         lambda f: f.type_name)
_CREATED_CHARS = {"open": "f", "openat": "f", "openat2": "f", "creat": "f",
                  "open_by_handle_at": "f", "socket": "4", "accept": "4", "accept4": "4",
                  "eventfd": "e", "eventfd2": "e", "inotify_init": "i", "inotify_init1": "i",
                  "signalfd": "s", "signalfd4": "s", "timerfd_create": "t",
                  "epoll_create": "l", "epoll_create1": "l", "pipe": "p", "pipe2": "p",
                  "socketpair": "u"}


def _typechar(e: Event) -> object:
    fd = e.fdinfo
    if fd is not None:
        return fd.typechar
    if e.fdnum is None:
        return None
    # no fd yet: the kind the call creates, or 'o'
    return _CREATED_CHARS.get(EVENTS[e.type].name, "o")


simple("fd.typechar", STRING, "fd type as one letter", _typechar)


def _no_fd_name(e: Event) -> str | None:
    """Without an fd: the path a failed open tried, or on exit events an
    empty name (libsinsp's behaviour)."""
    if e.fdname is not None:
        return e.fdname
    return "" if e.type & 1 and e.fdnum is not None else None


simple("fd.name", STRING, "full name of the fd",
       lambda e: e.fdinfo.name if e.fdinfo is not None else _no_fd_name(e))
fd_field("fd.nameraw", STRING, "name of the fd as the event gave it", lambda f: f.name)


def _directory(f: F.FdInfo) -> object:
    if f.kind == F.DIRECTORY:
        return f.name
    if f.kind == F.FILE:
        return posixpath.dirname(f.name) or None
    return None


def _dir_of(e: Event) -> object:
    if e.fdinfo is not None:
        return _directory(e.fdinfo)
    name = _no_fd_name(e)
    return None if name is None else (posixpath.dirname(name) or "/")


def _file_of(e: Event) -> object:
    f = e.fdinfo
    if f is not None:
        return posixpath.basename(f.name) if f.kind in (F.FILE, F.DIRECTORY) else None
    return None


simple("fd.directory", STRING, "directory part of a file's path", _dir_of)
simple("fd.filename", STRING, "file name part of a file's path", _file_of)


def _ip(f: F.FdInfo, which: str) -> object:
    if f.kind not in (F.IPV4, F.IPV6):
        return None
    v = getattr(f, which)
    return v or None


def _has_tuple(f: F.FdInfo) -> bool:
    """A known client/server pair (a pending connect's server is only seen
    by the filter-only fd.ip/fd.port/fd.net)."""
    return f.kind in (F.IPV4, F.IPV6) and bool(f.dip) and not f.pending


fd_field("fd.cip", IPADDR, "client IP",
         lambda f: f.sip if _has_tuple(f) and not f.is_server else None)
fd_field("fd.sip", IPADDR, "server IP", lambda f: f.dip if _has_tuple(f) else None)
fd_field("fd.cport", PORT, "client port",
         lambda f: (0 if f.is_server else f.sport) if _has_tuple(f) else None)
fd_field("fd.sport", PORT, "server port", lambda f: f.dport if _has_tuple(f) else None)


def local_remote(name: str, ftype: str, desc: str, local: bool, port: bool) -> None:
    """Local/remote ends: the client's end is local when its address is one
    of this machine's (libsinsp's rule); needs a known role."""
    def build(ctx: FieldContext, _arg: str | None) -> Extractor:
        def get(e: Event) -> object:
            f = e.fdinfo
            if f is None or not _has_tuple(f) or f.is_server or f.role == F.ROLE_NONE:
                return None
            client_local = ctx.tracker.is_local_ip(f.sip)
            pick_client = client_local == local
            if port:
                return f.sport if pick_client else f.dport
            return f.sip if pick_client else f.dip
        return get
    REGISTRY[name] = FieldDef(name, ftype, desc, build)


local_remote("fd.lip", IPADDR, "local IP", True, False)
local_remote("fd.rip", IPADDR, "remote IP", False, False)
local_remote("fd.lport", PORT, "local port", True, True)
local_remote("fd.rport", PORT, "remote port", False, True)
fd_field("fd.l4proto", STRING, "tcp, udp, icmp or raw",
         lambda f: F.L4_NAMES.get(f.l4proto) if f.kind in (F.IPV4, F.IPV6) else None)
fd_field("fd.sockfamily", STRING, "ip or unix",
         lambda f: "ip" if f.kind in (F.IPV4, F.IPV6) else "unix" if f.kind == F.UNIX
         else None)
@field("fd.is_server", BOOL, "the server end is this machine (listening sockets: true)")
def _is_server(ctx: FieldContext, _arg: str | None) -> Extractor:
    def get(e: Event) -> object:
        f = e.fdinfo
        if f is None:
            return None
        if f.is_server:
            return True
        if f.kind in (F.IPV4, F.IPV6):
            return ctx.tracker.is_local_ip(f.dip or bytes(4 if f.kind == F.IPV4 else 16))
        return False
    return get
fd_field("fd.connected", BOOL, "a connected socket", lambda f: f.connected)
simple("fd.name_changed", BOOL, "this event changed the fd's name",
       lambda e: e.fdinfo.name_changed == e.num if e.fdinfo is not None else None)
fd_field("fd.ino", UINT, "inode number", lambda f: f.ino or None)
fd_field("fd.dev", UINT, "device number", lambda f: f.dev)
def _both_ips(f: F.FdInfo) -> AnyOf | None:
    """Client and server address of an IP socket (zeros while unknown);
    a listening socket has only its own."""
    if f.kind not in (F.IPV4, F.IPV6):
        return None
    zero = bytes(4 if f.kind == F.IPV4 else 16)
    if f.is_server:
        return AnyOf((f.dip or zero,))
    return AnyOf((f.sip or zero, f.dip or zero))


def _both_ports(f: F.FdInfo) -> AnyOf | None:
    if f.kind not in (F.IPV4, F.IPV6):
        return None
    return AnyOf((f.dport,)) if f.is_server else AnyOf((f.sport, f.dport))


fd_field("fd.ip", IPADDR, "client or server IP", _both_ips, filter_only=True)
fd_field("fd.port", PORT, "client or server port", _both_ports, filter_only=True)
fd_field("fd.net", IPNET, "client or server network", _both_ips, filter_only=True)
for _name in ("fd.cip.name", "fd.sip.name", "fd.lip.name", "fd.rip.name"):
    # DNS names of the addresses: captures carry no DNS data, so none
    simple(_name, STRING, "domain name of the address (not known in captures)",
           lambda e: None)
for _name in ("k8s.ns.name", "k8s.pod.name", "k8s.pod.id", "k8s.pod.label",
              "k8s.pod.labels", "k8s.deployment.name", "k8s.rc.name", "k8s.svc.name"):
    simple(_name, STRING, "Kubernetes metadata (no Kubernetes connection)", lambda e: None)
fd_field("fd.cnet", IPNET, "client network",
         lambda f: f.sip if _has_tuple(f) and not f.is_server else None, filter_only=True)
fd_field("fd.snet", IPNET, "server network",
         lambda f: f.dip if _has_tuple(f) else None, filter_only=True)


def _local_net(local: bool) -> Callable[[FieldContext, str | None], Extractor]:
    def build(ctx: FieldContext, _arg: str | None) -> Extractor:
        def get(e: Event) -> object:
            f = e.fdinfo
            if f is None or not _has_tuple(f) or f.is_server or f.role == F.ROLE_NONE:
                return None
            pick_client = ctx.tracker.is_local_ip(f.sip) == local
            return f.sip if pick_client else f.dip
        return get
    return build


REGISTRY["fd.lnet"] = FieldDef("fd.lnet", IPNET, "local network", _local_net(True),
                               filter_only=True)
REGISTRY["fd.rnet"] = FieldDef("fd.rnet", IPNET, "remote network", _local_net(False),
                               filter_only=True)


# executable inode (current drivers send it with execve; older captures: 0)
th_attr("proc.exe_ino", "exe_ino", UINT, "inode of the executable")
th_attr("proc.exe_ino.ctime", "exe_ino_ctime", ABSTIME, "ctime of the executable's inode")
th_attr("proc.exe_ino.mtime", "exe_ino_mtime", ABSTIME, "mtime of the executable's inode")
simple("proc.exe_ino.ctime_duration_proc_start", RELTIME,
       "ns between the executable's ctime and the process start",
       lambda e: e.thread.clone_ts - e.thread.exe_ino_ctime
       if e.thread is not None and e.thread.clone_ts and e.thread.exe_ino_ctime else None)
simple("container.start_ts", ABSTIME, "container start time (none for host processes)",
       lambda e: None)
