"""What falcolite knows about one open file descriptor."""

from __future__ import annotations

# fd kinds; the letter is `fd.typechar`, the word `fd.type`
FILE, DIRECTORY, IPV4, IPV6, UNIX, PIPE, EVENT, SIGNALFD, EVENTPOLL, INOTIFY, TIMERFD, \
    NETLINK, BPF, USERFAULTFD, IOURING, MEMFD, PIDFD, UNSUPPORTED = range(18)

TYPE_NAMES = ("file", "directory", "ipv4", "ipv6", "unix", "pipe", "event", "signalfd",
              "eventpoll", "inotify", "timerfd", "netlink", "bpf", "userfaultfd", "io_uring",
              "memfd", "pidfd", "unknown")
TYPE_CHARS = "fd46upeslitnbuImPo"  # libsinsp's letters; 'o' for other

# L4 protocols (SCAP_L4_*)
L4_UNKNOWN, L4_NA, L4_TCP, L4_UDP, L4_ICMP, L4_RAW = range(6)
L4_NAMES = {L4_TCP: "tcp", L4_UDP: "udp", L4_ICMP: "icmp", L4_RAW: "raw"}

ROLE_NONE, ROLE_CLIENT, ROLE_SERVER = 0, 1, 2

# open flags in the drivers' encoding (PPM_O_*)
O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_CLOEXEC = 1, 2, 3, 4, 0x1000


class FdInfo:
    """One fd of a process.  Socket ends are kept as libsinsp keeps them:
    (sip, sport) the client, (dip, dport) the server once known."""

    __slots__ = ("cloexec", "connected", "dev", "dip", "dport", "fd", "ino", "is_server",
                 "kind", "l4proto", "name", "name_changed", "open_flags", "pending", "role", "sip",
                 "sock_type", "sport")

    def __init__(self, fd: int, kind: int, name: str = "", open_flags: int = 0) -> None:
        self.fd = fd
        self.kind = kind
        self.name = name
        self.open_flags = open_flags
        self.cloexec = bool(open_flags & O_CLOEXEC)
        self.ino = 0
        self.dev: int | None = None
        self.l4proto = L4_UNKNOWN
        self.sip: bytes = b""
        self.dip: bytes = b""
        self.sport = 0
        self.dport = 0
        self.is_server = False  # a listening socket (from the fd list, or bound)
        self.role = ROLE_NONE  # client after connect, server after accept
        self.sock_type = 0  # SOCK_STREAM, SOCK_DGRAM... from socket()
        self.connected = False
        self.pending = False  # server known from a connect enter, call not returned
        self.name_changed = 0  # number of the event that (re)named it

    def copy(self, fd: int) -> FdInfo:
        new = FdInfo(fd, self.kind, self.name, self.open_flags)
        for slot in ("ino", "dev", "l4proto", "sip", "dip", "sport", "dport", "is_server",
                     "role", "sock_type", "connected"):
            setattr(new, slot, getattr(self, slot))
        new.cloexec = False  # dup never copies FD_CLOEXEC
        return new

    @property
    def typechar(self) -> str:
        return TYPE_CHARS[self.kind]

    @property
    def type_name(self) -> str:
        return TYPE_NAMES[self.kind]

    @property
    def is_socket(self) -> bool:
        return self.kind in (IPV4, IPV6, UNIX, NETLINK)

    def __repr__(self) -> str:
        return f"<fd {self.fd} {self.type_name} {self.name!r}>"
