"""Helpers for tests that run the falcolite CLI for real: captures written
with falcolite's scap writer, a slow "live-ish" replay through a FIFO, the
running process with its output collected as it comes, a private rsyslogd
and a local HTTP server.  Nothing here talks to anything but 127.0.0.1 and
unix sockets in the test's own directory."""

from __future__ import annotations

import errno
import http.server
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import yaml

from falcolite.events.records import FD_FILE_V2, CaptureMeta, FdRecord, Machine, ThreadRecord
from falcolite.events.writer import ScapWriter

ROOT = Path(__file__).resolve().parent.parent
DEMO_CAPTURE = ROOT / "traces" / "demo-webshell.scap"
DEFAULT_RULES = ROOT / "rules" / "falcolite_rules.yaml"

# 2024-03-27T22:50:39.123456789Z: an "old" capture, before the test runs
T0 = 1_711_579_839_123_456_789
SECOND = 1_000_000_000
MS = 1_000_000

# A fixed, non-UTC offset without DST, as a POSIX TZ string (needs no tzdata):
# alert times are local times, so a UTC-only check would prove little.
TZ_ENV = "FLT-05:30"
TZ_OFFSET = timezone(timedelta(hours=5, minutes=30))

# event codes of the 2022 table
OPEN_E, OPEN_X, CLOSE_E, CLOSE_X = 2, 3, 4, 5
OPENAT_E, OPENAT_X = 306, 307
O_RDONLY = 1

PRIORITIES = ("Emergency", "Alert", "Critical", "Error", "Warning", "Notice", "Informational",
              "Debug")
ASCTIME = r"[A-Z][a-z]{2} [A-Z][a-z]{2} [ 123]\d \d\d:\d\d:\d\d \d{4}"
LOG_LINE = re.compile(rf"^{ASCTIME}: (.*)$")
TEXT_ALERT = re.compile(r"^(\d\d:\d\d:\d\d\.\d{9}): (" + "|".join(PRIORITIES) + r") (.*)$")


# ------------------------------------------------------------------ times

def local_hms(ts: int) -> str:
    """`HH:MM:SS.nnnnnnnnn` of an event time in the test's TZ (TZ_ENV)."""
    d = datetime.fromtimestamp(ts // SECOND, TZ_OFFSET)
    return f"{d:%H:%M:%S}.{ts % SECOND:09d}"


def iso_utc(ts: int) -> str:
    d = datetime.fromtimestamp(ts // SECOND, UTC)
    return f"{d:%Y-%m-%dT%H:%M:%S}.{ts % SECOND:09d}Z"


# --------------------------------------------------------------- captures

@dataclass
class Ev:
    code: int
    ts: int
    tid: int
    values: list[object]


CAT_TID = 4242


def process_meta(tid: int = CAT_TID, comm: bytes = b"cat", exe: bytes = b"/bin/cat",
                 args: bytes = b"/tmp/x\0") -> CaptureMeta:
    """One known process (plus init), as a capture's process table."""
    def thread(tid: int, ptid: int, comm: bytes, exe: bytes, args: bytes) -> ThreadRecord:
        return ThreadRecord(tid=tid, pid=tid, ptid=ptid, comm=comm, exe=exe, exepath=exe,
                            args=args, cwd=b"/tmp", fdlimit=1024, uid=1000, gid=1000,
                            vtid=tid, vpid=tid, root=b"/", sid=tid, vpgid=tid)

    return CaptureMeta(
        machine=Machine(2, 4 << 30, 4194304, "testhost", T0 - 86_400 * SECOND),
        threads=[thread(1, 0, b"systemd", b"/sbin/init", b""),
                 thread(tid, 1, comm, exe, args)],
        fds=[FdRecord(tid=tid, fd=1, type=FD_FILE_V2, name=b"/dev/null", open_flags=2)],
    )


def open_events(tid: int, ts: int, path: bytes | str, fd: int = 3,
                code_x: int = OPEN_X) -> list[Ev]:
    """An open (or openat) that succeeded: enter at ts, exit 1 µs later."""
    if isinstance(path, str):
        path = path.encode()
    if code_x == OPENAT_X:
        return [Ev(OPENAT_E, ts, tid, [-100, path, O_RDONLY, 0]),
                Ev(OPENAT_X, ts + 1000, tid, [fd, -100, path, O_RDONLY, 0, 0x803])]
    return [Ev(OPEN_E, ts, tid, [path, O_RDONLY, 0]),
            Ev(OPEN_X, ts + 1000, tid, [fd, path, O_RDONLY, 0, 0x803])]


def write_capture(path: Path | str, events: Iterable[Ev], meta: CaptureMeta | None = None,
                  compress: bool = False) -> int:
    """Writes the capture; returns the number of events."""
    with ScapWriter(str(path), compress=compress) as w:
        w.write_header(meta if meta is not None else process_meta())
        for e in events:
            w.write_values(e.code, e.ts, e.tid, e.values)
        return w.events_written


EVENT_BLOCKS = {0x204, 0x208, 0x216, 0x217, 0x221, 0x222}


def split_blocks(data: bytes) -> tuple[bytes, list[bytes]]:
    """An uncompressed capture as (everything before the first event block,
    one bytes per event block)."""
    pos, head_end, events = 0, None, []
    while pos < len(data):
        btype, total = struct.unpack_from("<II", data, pos)
        if btype in EVENT_BLOCKS:
            if head_end is None:
                head_end = pos
            events.append(data[pos:pos + total])
        pos += total
    return data[:head_end if head_end is not None else len(data)], events


# ------------------------------------------------------------ slow replay

class Feeder(threading.Thread):
    """Writes a capture into a FIFO: the metadata at once, then one event
    block every `delay` seconds.  Before each event index in `pauses` it
    stops until `resume()`.  It waits for the reader to open the FIFO (no
    blocking open: a reader that died early does not hang the test)."""

    def __init__(self, fifo: Path, capture: Path, delay: float,
                 pauses: Iterable[int] = ()) -> None:
        super().__init__(daemon=True, name=f"feeder-{fifo.name}")
        if not fifo.exists():
            os.mkfifo(fifo)
        self.fifo = fifo
        self.head, self.blocks = split_blocks(capture.read_bytes())
        self.delay = delay
        self.pauses = set(pauses)
        self.sent = 0  # event blocks written
        self.opened_at: float | None = None  # time.monotonic() of the open
        self.closed_at: float | None = None
        self.error: BaseException | None = None
        self.paused = threading.Event()
        self._go = threading.Event()
        self._abort = threading.Event()

    def resume(self) -> None:
        self.paused.clear()
        self._go.set()

    def abort(self) -> None:
        self._abort.set()
        self._go.set()

    def wait_paused(self, timeout: float = 10.0) -> None:
        if not self.paused.wait(timeout):
            raise AssertionError(f"feeder did not reach its pause (sent {self.sent})")

    def _open(self, timeout: float = 20.0) -> int:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fd = os.open(self.fifo, os.O_WRONLY | os.O_NONBLOCK)
            except OSError as err:
                if (err.errno != errno.ENXIO or time.monotonic() > deadline
                        or self._abort.is_set()):
                    raise  # ENXIO: no reader yet
                time.sleep(0.01)
                continue
            os.set_blocking(fd, True)
            return fd

    def run(self) -> None:
        try:
            fd = self._open()
        except BaseException as err:
            self.error = err
            return
        self.opened_at = time.monotonic()
        try:
            os.write(fd, self.head)
            for i, blk in enumerate(self.blocks):
                if i in self.pauses:
                    self._go.clear()
                    self.paused.set()
                    self._go.wait()
                if self._abort.is_set():
                    break
                os.write(fd, blk)
                self.sent += 1
                if self.delay:
                    time.sleep(self.delay)
        except BrokenPipeError:
            pass  # the reader stopped (a stop signal): what was sent is what it saw
        except BaseException as err:
            self.error = err
        finally:
            os.close(fd)
            self.closed_at = time.monotonic()


# -------------------------------------------------------- running the CLI

def falcolite_cmd() -> list[str]:
    """The installed console script when there is one (its name is the
    syslog ident), else `python -m falcolite`."""
    script = Path(sys.executable).parent / "falcolite"
    if script.exists():
        return [str(script)]
    found = shutil.which("falcolite")
    return [found] if found else [sys.executable, "-m", "falcolite"]


def base_env(tmp: Path, syslog_socket: Path | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["TZ"] = TZ_ENV
    # never the host's /dev/log: a private socket, or one where nobody listens
    env["FALCOLITE_SYSLOG_SOCKET"] = str(syslog_socket or tmp / "no-syslog.sock")
    env["PYTHONUNBUFFERED"] = "1"
    return {k: v for k, v in env.items() if not k.startswith("FALCO_STATS_EXTRA_")}


class Proc:
    """The CLI running; stdout and stderr collected line by line with the
    time each line arrived."""

    def __init__(self, args: Sequence[str], env: dict[str, str], cwd: Path) -> None:
        self.args = [*falcolite_cmd(), *args]
        self.started = time.monotonic()
        self.p = subprocess.Popen(self.args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  env=env, cwd=cwd)
        self.out: list[bytes] = []
        self.err: list[bytes] = []
        self._cond = threading.Condition()
        self._threads = [threading.Thread(target=self._pump, args=(s, lst), daemon=True)
                         for s, lst in ((self.p.stdout, self.out), (self.p.stderr, self.err))]
        for t in self._threads:
            t.start()

    def _pump(self, stream, lst: list[bytes]) -> None:
        for line in iter(stream.readline, b""):
            with self._cond:
                lst.append(line)
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    @property
    def pid(self) -> int:
        return self.p.pid

    def send(self, sig: signal.Signals) -> None:
        self.p.send_signal(sig)

    def wait_for(self, pred: Callable[[Proc], bool], timeout: float = 10.0,
                 what: str = "condition") -> None:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not pred(self):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"timed out waiting for {what}\nstdout:\n"
                                         f"{self.stdout}\nstderr:\n{self.stderr}")
                if self.p.poll() is not None and not any(t.is_alive() for t in self._threads):
                    if pred(self):
                        return
                    raise AssertionError(f"falcolite exited ({self.p.returncode}) before "
                                         f"{what}\nstdout:\n{self.stdout}\nstderr:\n"
                                         f"{self.stderr}")
                self._cond.wait(min(left, 0.05))

    def wait(self, timeout: float = 20.0) -> int:
        try:
            rc = self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            raise AssertionError(f"falcolite did not exit in {timeout}s\nstdout:\n"
                                 f"{self.stdout}\nstderr:\n{self.stderr}") from None
        for t in self._threads:
            t.join(5)
        return rc

    def kill(self) -> None:
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()

    @property
    def stdout(self) -> str:
        return b"".join(self.out).decode("utf-8", "replace")

    @property
    def stderr(self) -> str:
        return b"".join(self.err).decode("utf-8", "replace")

    def log_texts(self) -> list[str]:
        return log_texts(self.stderr)


def run(args: Sequence[str], tmp: Path, env: dict[str, str] | None = None,
        timeout: float = 30.0) -> subprocess.CompletedProcess[bytes]:
    """The CLI to completion."""
    return subprocess.run([*falcolite_cmd(), *args], capture_output=True, timeout=timeout,
                          env=env if env is not None else base_env(tmp), cwd=tmp)


def log_texts(stderr: str) -> list[str]:
    """The text of every stderr log line (`<asctime>: <text>`)."""
    return [m.group(1) for line in stderr.splitlines() if (m := LOG_LINE.match(line))]


def alert_lines(stdout: str) -> list[str]:
    """stdout lines before the summary."""
    lines = stdout.splitlines()
    if "Events detected:" in stdout:
        lines = lines[:next(i for i, ln in enumerate(lines)
                            if ln.startswith("Events detected: "))]
    return lines


@dataclass
class Summary:
    events: int
    by_prio: dict[str, int]
    by_rule: dict[str, int]
    occurrences: int | None = None
    actions: int | None = None


def parse_summary(stdout: str, stderr: str) -> Summary:
    lines = stdout.splitlines()
    i = next(i for i, ln in enumerate(lines) if ln.startswith("Events detected: "))
    s = Summary(int(lines[i].split(": ")[1]), {}, {})
    assert lines[i + 1] == "Rule counts by severity:", lines[i:]
    j = i + 2
    while j < len(lines) and lines[j].startswith("   "):
        k, v = lines[j][3:].rsplit(": ", 1)
        s.by_prio[k] = int(v)
        j += 1
    assert lines[j] == "Triggered rules by rule name:", lines[i:]
    j += 1
    while j < len(lines) and lines[j].startswith("   "):
        k, v = lines[j][3:].rsplit(": ", 1)
        s.by_rule[k] = int(v)
        j += 1
    assert j == len(lines), f"unexpected stdout after the summary: {lines[j:]}"
    m = re.search(r"^Syscall event drop monitoring:\n   - event drop detected: (\d+) "
                  r"occurrences\n   - num times actions taken: (\d+)\n", stderr, re.M)
    if m:
        s.occurrences, s.actions = int(m.group(1)), int(m.group(2))
    return s


def write_config(path: Path, doc: dict) -> Path:
    """A falco.yaml; `log_syslog: false` and `log_stderr: true` unless given."""
    doc = {"log_stderr": True, "log_syslog": False, **doc}
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


# ----------------------------------------------------------------- rsyslog

RSYSLOGD = shutil.which("rsyslogd") or ("/usr/sbin/rsyslogd"
                                        if os.path.exists("/usr/sbin/rsyslogd") else None)


@dataclass
class SyslogRecord:
    pri: int
    facility: str
    severity: str
    program: str
    pid: str
    msg: str


@dataclass
class Rsyslog:
    """A private rsyslogd: its own config, work directory, pid file, one
    unix datagram socket in `workdir`, every message into one file whose
    lines carry the PRI."""

    workdir: Path
    proc: subprocess.Popen | None = None
    socket: Path = field(init=False)
    output: Path = field(init=False)

    def __post_init__(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.socket = self.workdir / "log.sock"
        self.output = self.workdir / "messages.log"

    def start(self, timeout: float = 10.0) -> None:
        assert RSYSLOGD is not None
        spool = self.workdir / "spool"
        spool.mkdir(exist_ok=True)
        conf = self.workdir / "rsyslog.conf"
        conf.write_text(
            f'global(workDirectory="{spool}")\n'
            'module(load="imuxsock" SysSock.Use="off")\n'
            f'input(type="imuxsock" Socket="{self.socket}" CreatePath="on" '
            'RateLimit.Interval="0")\n'
            'template(name="withpri" type="string" string="%pri%|%syslogfacility-text%|'
            '%syslogseverity-text%|%programname%|%procid%|%msg%\\n")\n'
            f'*.* action(type="omfile" file="{self.output}" template="withpri")\n')
        self.proc = subprocess.Popen(
            [RSYSLOGD, "-n", "-f", str(conf), "-i", str(self.workdir / "rsyslogd.pid")],
            stdout=open(self.workdir / "rsyslogd.out", "wb"), stderr=subprocess.STDOUT,
            cwd=self.workdir)
        deadline = time.monotonic() + timeout
        while not self.socket.exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                out = (self.workdir / "rsyslogd.out").read_text(errors="replace")
                self.stop()
                raise AssertionError(f"rsyslogd did not start: {out}")
            time.sleep(0.02)
        # a probe message: once it is in the file, rsyslog is delivering
        probe = f"falcolite-test-probe-{os.getpid()}"
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
            s.connect(str(self.socket))
            s.send(f"<14>probe[1]: {probe}".encode())
        self.wait_for(lambda recs: any(r.msg == probe for r in recs), timeout, "probe")

    def records(self) -> list[SyslogRecord]:
        if not self.output.exists():
            return []
        out = []
        for line in self.output.read_text(errors="replace").splitlines():
            parts = line.split("|", 5)
            if len(parts) == 6:
                msg = parts[5][1:] if parts[5].startswith(" ") else parts[5]
                out.append(SyslogRecord(int(parts[0]), parts[1], parts[2], parts[3],
                                        parts[4], msg))
        return out

    def wait_for(self, pred: Callable[[list[SyslogRecord]], bool], timeout: float = 10.0,
                 what: str = "syslog records") -> list[SyslogRecord]:
        deadline = time.monotonic() + timeout
        while True:
            recs = self.records()
            if pred(recs):
                return recs
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; rsyslog has:\n"
                                     + "\n".join(map(str, recs)))
            time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


# ---------------------------------------------------------------- http

@dataclass
class HttpRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class HttpRecorder:
    """A local HTTP server (127.0.0.1, ephemeral port) in a thread that
    records every request and answers 200."""

    def __init__(self) -> None:
        self.requests: list[HttpRequest] = []
        recorder = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                recorder.requests.append(HttpRequest("POST", self.path,
                                                     dict(self.headers.items()), body))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/falco/alerts"

    def __enter__(self) -> HttpRecorder:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


def closed_port() -> int:
    """A 127.0.0.1 port nobody listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]
