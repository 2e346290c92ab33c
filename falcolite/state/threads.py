"""The thread table: processes and threads with what the fields need."""

from __future__ import annotations

from collections.abc import Iterator

from ..events.records import ThreadRecord
from .fdinfo import FdInfo

NA = "<NA>"
UID_NONE = 0xFFFFFFFF


def text(b: bytes) -> str:
    """Kernel strings are bytes; keep every byte (surrogate escapes) so that
    nothing is lost and valid UTF-8 compares as expected."""
    return b.decode("utf-8", "surrogateescape")


def split_nul(b: bytes) -> list[str]:
    """argv/env style lists: NUL-terminated items, the last NUL optional."""
    if not b:
        return []
    if b.endswith(b"\0"):
        b = b[:-1]
    return [text(x) for x in b.split(b"\0")]


def split_env(b: bytes) -> list[str]:
    """Environments lose all trailing NULs, not just one (libsinsp's parsing)."""
    return split_nul(b.rstrip(b"\0"))


class ThreadInfo:
    """A thread.  Threads of one process share their main thread's fd table
    (`fds` is the same dict object)."""

    __slots__ = (
        "args", "cap_effective", "cap_inheritable", "cap_permitted", "cgroups", "clone_ts",
        "comm", "container_id", "cwd", "env", "exe", "exe_from_memfd", "exe_ino",
        "exe_ino_ctime", "exe_ino_mtime", "exe_upper_layer", "exe_writable", "exepath", "fdlimit",
        "fds", "flags", "gid", "last_enter", "lastevent_fd", "loginuid", "pid",
        "pidns_init_start_ts", "ptid", "root", "sid", "tid", "tty", "uid", "vpgid", "vpid",
        "vtid",
    )

    def __init__(self, tid: int, pid: int, ptid: int) -> None:
        self.tid = tid
        self.pid = pid
        self.ptid = ptid
        self.comm = NA
        self.exe = NA
        self.exepath = ""
        self.args: list[str] = []
        self.env: list[str] = []
        self.cwd = ""  # unknown until a clone or chdir says
        self.root = "/"
        self.uid = UID_NONE
        self.gid = UID_NONE
        self.loginuid = UID_NONE
        self.tty = 0
        self.vtid = -1
        self.vpid = -1
        self.sid = -1
        self.vpgid = -1
        self.cgroups: list[str] = []
        self.container_id = "host"
        self.flags = 0
        self.fdlimit = 0
        self.clone_ts = 0
        self.fds: dict[int, FdInfo] = {}
        self.cap_inheritable = 0
        self.cap_permitted = 0
        self.cap_effective = 0
        self.pidns_init_start_ts = 0
        self.exe_writable = False
        self.exe_upper_layer = False
        self.exe_from_memfd = False
        self.exe_ino = 0
        self.exe_ino_ctime = 0
        self.exe_ino_mtime = 0
        self.last_enter = None  # the enter event awaiting its exit (old captures)
        self.lastevent_fd = -1  # the fd of the last enter event that used one

    @classmethod
    def from_record(cls, r: ThreadRecord) -> ThreadInfo:
        t = cls(r.tid, r.pid, r.ptid)
        t.comm = text(r.comm)
        t.exe = text(r.exe)
        t.exepath = text(r.exepath)
        t.args = split_nul(r.args)
        t.env = split_env(r.env)
        t.cwd = with_slash(text(r.cwd))
        t.root = text(r.root) or "/"
        t.uid, t.gid, t.loginuid = r.uid, r.gid, r.loginuid
        t.tty = r.tty
        t.vtid, t.vpid, t.sid, t.vpgid = r.vtid, r.vpid, r.sid, r.vpgid
        t.cgroups = split_nul(r.cgroups)
        t.flags = r.flags
        t.fdlimit = r.fdlimit
        t.cap_inheritable = r.cap_inheritable
        t.cap_permitted = r.cap_permitted
        t.cap_effective = r.cap_effective
        t.pidns_init_start_ts = r.pidns_init_start_ts
        t.exe_writable = r.exe_writable
        t.exe_upper_layer = r.exe_upper_layer
        t.exe_from_memfd = r.exe_from_memfd
        t.exe_ino, t.exe_ino_ctime, t.exe_ino_mtime = r.exe_ino, r.exe_ino_ctime, r.exe_ino_mtime
        return t

    @property
    def is_main(self) -> bool:
        return self.tid == self.pid

    @property
    def cmdline(self) -> str:
        return " ".join([self.comm, *self.args]) if self.args else self.comm

    def __repr__(self) -> str:
        return f"<thread {self.tid} pid={self.pid} {self.comm!r}>"


def with_slash(path: str) -> str:
    """libsinsp keeps directories (cwd) with a trailing slash."""
    return path if path.endswith("/") else path + "/"


class ThreadTable:
    """Threads by tid, bounded: when `max_threads` is reached, the thread
    seen least recently is dropped (a capture that never reports exits must
    not grow the table without end)."""

    def __init__(self, max_threads: int = 131072) -> None:
        self.threads: dict[int, ThreadInfo] = {}
        self.max_threads = max_threads
        self.evicted = 0

    def __len__(self) -> int:
        return len(self.threads)

    def __iter__(self) -> Iterator[ThreadInfo]:
        return iter(self.threads.values())

    def get(self, tid: int) -> ThreadInfo | None:
        return self.threads.get(tid)

    def add(self, t: ThreadInfo) -> ThreadInfo:
        threads = self.threads
        if t.tid not in threads and len(threads) >= self.max_threads:
            oldest = next(iter(threads))
            del threads[oldest]
            self.evicted += 1
        threads[t.tid] = t
        if not t.is_main:
            main = threads.get(t.pid)
            if main is not None:
                t.fds = main.fds
        return t

    def touch(self, t: ThreadInfo) -> None:
        """Mark as recently used (dicts keep insertion order)."""
        threads = self.threads
        del threads[t.tid]
        threads[t.tid] = t

    def remove(self, tid: int) -> None:
        self.threads.pop(tid, None)

    def main_thread(self, t: ThreadInfo) -> ThreadInfo | None:
        return t if t.tid == t.pid else self.threads.get(t.pid)

    def parent(self, t: ThreadInfo) -> ThreadInfo | None:
        """The thread that created `t` (for a thread, the creating thread)."""
        return self.threads.get(t.ptid)
