"""End-to-end behaviour of the agent that no other file covers: the demo,
daemon mode, the built-in rules, bounded state."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from conftest import ROOT

from falcolite.app import default_rules_file
from falcolite.events.writer import ScapWriter
from falcolite.filter.fields import FieldContext
from falcolite.rules.loader import RulesLoader
from falcolite.sources.trace import TraceSource
from falcolite.state.threads import ThreadInfo, ThreadTable
from falcolite.state.tracker import StateTracker

DEMO = ROOT / "traces" / "demo-webshell.scap"


def run(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "falcolite", *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=60, check=False,
                          env=dict(os.environ, TZ="UTC"), **kw)


def test_demo_prints_the_expected_json_alerts() -> None:
    proc = run("-e", str(DEMO), "-o", "json_output=true")
    assert proc.returncode == 0, proc.stderr
    alerts = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    assert [a["rule"] for a in alerts] == [
        "Shell spawned by a server process", "Read sensitive file untrusted",
        "Write below binary dir", "Set setuid or setgid bit",
        "Outbound connection from shell or network tool"]
    shadow = alerts[1]["output_fields"]
    assert shadow["fd.name"] == "/etc/shadow" and shadow["proc.name"] == "cat"
    assert shadow["proc.pname"] == "sh" and shadow["proc.aname[2]"] == "nginx"
    assert shadow["user.name"] == "www-data" and shadow["proc.pid"] == 1201
    assert alerts[4]["output_fields"]["fd.name"] == "10.0.0.5:51234->203.0.113.7:4444"
    assert "Events detected: 5" in proc.stdout


def test_builtin_rules_load_without_warnings() -> None:
    loader = RulesLoader(FieldContext(StateTracker()))
    loader.load_file(default_rules_file())
    assert loader.warnings == []
    assert len(loader.compiled) >= 10
    assert all(c.evttypes for c in loader.compiled)  # every rule is indexed
    proc = run("-V", default_rules_file(), "-v")
    assert proc.returncode == 0 and "warning" not in proc.stderr.lower()


def test_daemon_writes_pid_file_and_keeps_running(tmp_path: Path) -> None:
    out = tmp_path / "alerts.txt"
    pidfile = tmp_path / "fl.pid"
    conf = tmp_path / "falco.yaml"
    conf.write_text(f"file_output:\n  enabled: true\n  filename: {out}\nlog_syslog: false\n")
    proc = run("-d", "-P", str(pidfile), "-c", str(conf), "-e", str(DEMO))
    assert proc.returncode == 0
    pid = int(pidfile.read_text())  # no newline
    assert pid > 0 and pid != os.getpid()
    for _ in range(100):
        if out.exists() and out.read_text().count("\n") == 5:
            break
        time.sleep(0.05)
    assert out.read_text().count("\n") == 5  # the daemon did the work
    assert proc.stdout == ""  # the parent printed nothing: no summary


def test_thread_table_is_bounded(tmp_path: Path) -> None:
    """A capture that never reports exits: the table keeps the most recent
    threads up to its bound and counts the ones it dropped."""
    path = tmp_path / "many.scap"
    with ScapWriter(str(path)) as w:
        w.write_header()
        for i in range(3000):  # 3000 distinct threads, none exits
            w.write_values(4, 1000 + i, 10_000 + i, [3])
    with TraceSource(str(path)) as src:
        st = StateTracker(src.meta, max_threads=1000)
        for e in src.events():
            st.process(e)
    assert len(st.threads) == 1000
    assert st.threads.evicted == 2000
    assert st.threads.get(10_000 + 2999) is not None  # the newest stay
    assert st.threads.get(10_000) is None


def test_procexit_frees_the_thread(tmp_path: Path) -> None:
    path = tmp_path / "exit.scap"
    with ScapWriter(str(path)) as w:
        w.write_header()
        w.write_values(4, 1, 42, [3])
        w.write_values(186, 2, 42, [0, 0, 0, 0])  # procexit
        w.write_values(4, 3, 43, [3])
    with TraceSource(str(path)) as src:
        st = StateTracker(src.meta)
        seen = []
        for e in src.events():
            st.process(e)
            seen.append(st.threads.get(42) is not None)
    assert seen == [True, True, False]  # still there for the exit event itself


def test_thread_table_add_shares_fd_tables() -> None:
    table = ThreadTable()
    main = table.add(ThreadInfo(100, 100, 1))
    thread = table.add(ThreadInfo(101, 100, 100))
    assert thread.fds is main.fds
