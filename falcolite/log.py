"""The agent's own log (falco-compat.md 3.8): stderr and/or syslog with a
level filter.  On stderr a line has exactly one trailing newline whatever
the message had; on syslog none."""

from __future__ import annotations

import sys
import time

LEVELS = ("emergency", "alert", "critical", "error", "warning", "notice", "info", "debug")
EMERG, ALERT, CRIT, ERR, WARNING, NOTICE, INFO, DEBUG = range(8)


class Log:
    def __init__(self, stderr: bool = True, use_syslog: bool = True, level: str = "info",
                 iso8601: bool = False) -> None:
        self.stderr = stderr
        self.use_syslog = use_syslog
        self.level = LEVELS.index(level)
        self.iso8601 = iso8601
        self.out = sys.stderr
        self._syslog = None

    def configure(self, stderr: bool, use_syslog: bool, level: str, iso8601: bool) -> None:
        self.stderr = stderr
        self.use_syslog = use_syslog
        self.level = LEVELS.index(level)
        self.iso8601 = iso8601

    def __call__(self, level: int, msg: str) -> None:
        self.log(level, msg)

    def log(self, level: int, msg: str) -> None:
        if level > self.level:
            return
        text = msg.rstrip("\n")
        if self.use_syslog:
            if self._syslog is None:
                from .outputs.channels import SyslogClient

                self._syslog = SyslogClient()
            try:
                self._syslog.send(level, text)
            except OSError:
                pass  # no syslog daemon: the line still goes to stderr if enabled
        if self.stderr:
            self.write_stderr(text)

    def write_stderr(self, text: str) -> None:
        if self.iso8601:
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S+0000", time.gmtime())
        else:
            stamp = time.strftime("%a %b %e %H:%M:%S %Y", time.localtime())
        try:
            self.out.write(f"{stamp}: {text}\n")
            self.out.flush()
        except (OSError, ValueError):
            pass  # stderr gone (daemon): nothing to do

    def info(self, msg: str) -> None:
        self.log(INFO, msg)

    def debug(self, msg: str) -> None:
        self.log(DEBUG, msg)

    def error(self, msg: str) -> None:
        self.log(ERR, msg)

    def critical(self, msg: str) -> None:
        self.log(CRIT, msg)

    def warning(self, msg: str) -> None:
        self.log(WARNING, msg)
