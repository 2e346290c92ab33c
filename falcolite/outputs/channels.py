"""Output channels: stdout, file, syslog, program and http, in that fixed
order (falco-compat.md 3.5).  A failing channel never stops detection: the
failure is logged and counted, and the channel tries again next time."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import BinaryIO

from .alerts import Alert

Logger = Callable[[int, str], None]  # (syslog level, message)
LOG_ERR = 3


class ChannelError(OSError):
    """A delivery failure whose message is logged verbatim."""


def payload(alert: Alert) -> bytes:
    """The line a channel writes (JSON when enabled), without newline."""
    if alert.json is not None:
        return alert.json
    return alert.text.encode("utf-8", "surrogateescape")


class Channel:
    name = "channel"

    def __init__(self, log: Logger) -> None:
        self.log = log
        self.failed = 0  # alerts this channel could not deliver

    def emit(self, alert: Alert) -> None:
        try:
            self.write(alert)
        except ChannelError as err:  # a message of Falco's own, as is
            self.failed += 1
            self.log(LOG_ERR, str(err))
        except (OSError, ValueError, subprocess.SubprocessError) as err:
            self.failed += 1
            self.log(LOG_ERR, f"Error writing to {self.name} output: {err}")

    def write(self, alert: Alert) -> None:
        raise NotImplementedError

    def reopen(self) -> None:
        """SIGUSR1: keep-alive channels close and reopen (log rotation)."""

    def close(self) -> None:
        pass


class StdoutChannel(Channel):
    name = "stdout"

    def __init__(self, log: Logger, buffered: bool) -> None:
        super().__init__(log)
        self.out: BinaryIO = sys.stdout.buffer
        self.buffered = buffered

    def write(self, alert: Alert) -> None:
        self.out.write(payload(alert) + b"\n")
        if not self.buffered:
            self.out.flush()

    def close(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.out.flush()


class FileChannel(Channel):
    name = "file"

    def __init__(self, log: Logger, path: str, keep_alive: bool, buffered: bool) -> None:
        super().__init__(log)
        self.path = path
        self.keep_alive = keep_alive
        self.buffered = buffered
        self.f: BinaryIO | None = None
        with open(path, "ab"):  # checked once at start-up: failure is fatal
            pass

    def write(self, alert: Alert) -> None:
        line = payload(alert) + b"\n"
        if self.keep_alive:
            if self.f is None:
                self.f = open(self.path, "ab", buffering=-1 if self.buffered else 0)
            self.f.write(line)
            return
        with open(self.path, "ab") as f:
            f.write(line)

    def reopen(self) -> None:
        self.close()

    def close(self) -> None:
        if self.f is not None:
            with contextlib.suppress(OSError):
                self.f.close()
            self.f = None


class SyslogClient:
    """syslog(3) without openlog: facility user, the program name as ident,
    one datagram per message to the local socket (FALCOLITE_SYSLOG_SOCKET,
    else /dev/log), reconnecting after errors."""

    FACILITY_USER = 1

    def __init__(self, path: str | None = None) -> None:
        self.path = path or os.environ.get("FALCOLITE_SYSLOG_SOCKET", "/dev/log")
        self.ident = os.path.basename(sys.argv[0]) or "falcolite"
        self.sock: socket.socket | None = None

    def send(self, severity: int, text: str) -> None:
        stamp = time.strftime("%b %e %H:%M:%S")
        msg = f"<{self.FACILITY_USER * 8 + severity}>{stamp} {self.ident}[{os.getpid()}]: {text}"
        data = msg.encode("utf-8", "replace")
        try:
            if self.sock is None:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                self.sock.connect(self.path)
            self.sock.send(data)
        except OSError:
            self.close()
            raise

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None


class SyslogChannel(Channel):
    name = "syslog"

    def __init__(self, log: Logger) -> None:
        super().__init__(log)
        self.client = SyslogClient()

    def write(self, alert: Alert) -> None:
        self.client.send(alert.priority, payload(alert).decode("utf-8", "replace"))

    def close(self) -> None:
        self.client.close()


class ProgramChannel(Channel):
    """Alerts on a shell command's stdin; with keep_alive one process for all,
    else one per alert, waited for."""

    name = "program"

    def __init__(self, log: Logger, command: str, keep_alive: bool, buffered: bool) -> None:
        super().__init__(log)
        self.command = command
        self.keep_alive = keep_alive
        self.buffered = buffered
        self.proc: subprocess.Popen | None = None

    def _start(self) -> subprocess.Popen:
        return subprocess.Popen(self.command, shell=True, stdin=subprocess.PIPE,
                                bufsize=-1 if self.buffered else 0)

    def write(self, alert: Alert) -> None:
        line = payload(alert) + b"\n"
        if not self.keep_alive:
            proc = self._start()
            assert proc.stdin is not None
            try:
                proc.stdin.write(line)
                proc.stdin.close()
            finally:
                proc.wait()
            return
        if self.proc is None or self.proc.poll() is not None:
            self.proc = self._start()
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(line)
            if not self.buffered:
                self.proc.stdin.flush()
        except BrokenPipeError:
            self.proc = None  # restarted with the next alert
            raise

    def reopen(self) -> None:
        if self.keep_alive:
            self.close()

    def close(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None:
            with contextlib.suppress(OSError, ValueError):
                if proc.stdin is not None:
                    proc.stdin.close()
            with contextlib.suppress(subprocess.SubprocessError):
                proc.wait(timeout=10)


class HttpChannel(Channel):
    name = "http"

    def __init__(self, log: Logger, url: str, timeout: float = 5.0) -> None:
        super().__init__(log)
        self.url = url
        self.timeout = timeout

    def write(self, alert: Alert) -> None:
        req = urllib.request.Request(self.url, data=payload(alert), method="POST",
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                resp.read()
        except urllib.error.URLError as err:
            raise ChannelError(f"libcurl error: {err.reason}") from None


def make_channels(config, log: Logger, unbuffered: bool = False) -> list[Channel]:
    """The enabled channels in Falco's order: file, stdout, syslog, program, http."""
    buffered = config.buffered_outputs and not unbuffered
    chans: list[Channel] = []
    if config.file_output:
        chans.append(FileChannel(log, config.file_output["filename"],
                                 config.file_output["keep_alive"], buffered))
    if config.stdout_output:
        chans.append(StdoutChannel(log, buffered))
    if config.syslog_output:
        chans.append(SyslogChannel(log))
    if config.program_output:
        chans.append(ProgramChannel(log, config.program_output["program"],
                                    config.program_output["keep_alive"], buffered))
    if config.http_output:
        chans.append(HttpChannel(log, config.http_output["url"]))
    return chans


__all__ = ["Channel", "make_channels"]
