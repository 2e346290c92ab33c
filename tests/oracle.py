"""The sysdig oracle: runs the `sysdig` Debian package over a capture and
returns its output, one record per event."""

from __future__ import annotations

import shutil
import subprocess

import pytest

SYSDIG = shutil.which("sysdig")
MARK = "\x1e@"  # starts every record: values may hold newlines


def require_sysdig() -> str:
    if SYSDIG is None:
        pytest.skip("sysdig is not installed (Debian package 'sysdig'); .ci/run installs it")
    return SYSDIG


def sysdig_records(path: str, fmt: str, filt: str | None = None, internal: bool = True,
                   extra: tuple[str, ...] = ()) -> list[str]:
    """Each event's rendering of `fmt` (without the leading '*')."""
    exe = require_sysdig()
    cmd = [exe, "-r", str(path), *extra]
    if internal:
        cmd.append("-D")
    cmd += ["-p", "*" + MARK + fmt]
    if filt:
        cmd.append(filt)
    proc = subprocess.run(cmd, capture_output=True, timeout=300, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"sysdig failed ({proc.returncode}): {proc.stderr[-2000:]!r}")
    text = proc.stdout.decode("utf-8", errors="surrogateescape")
    parts = text.split(MARK)
    # each record ends with the newline sysdig adds
    return [p[:-1] if p.endswith("\n") else p for p in parts[1:]]
