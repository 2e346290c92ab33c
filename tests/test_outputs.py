"""Output channels against real receivers (falco-compat.md 3.2-3.6, 3.8):
a private rsyslogd, real programs, a local HTTP server, files rotated with
SIGUSR1 during a slow replay; text and JSON alert formats; control
characters in event data cannot forge alert lines."""

from __future__ import annotations

import json
import os
import re
import signal
import time
from pathlib import Path

import pytest
from live_replay import (
    CAT_TID,
    DEFAULT_RULES,
    DEMO_CAPTURE,
    MS,
    PRIORITIES,
    RSYSLOGD,
    SECOND,
    T0,
    TEXT_ALERT,
    Feeder,
    HttpRecorder,
    Proc,
    Rsyslog,
    alert_lines,
    base_env,
    closed_port,
    falcolite_cmd,
    iso_utc,
    local_hms,
    log_texts,
    open_events,
    parse_summary,
    run,
    write_capture,
    write_config,
)

# one rule per priority, each spelled differently: the summary uses the
# spelling of the rules file, alerts the canonical name (5.6, 4.1)
SPELLINGS = ["EMERGENCY", "Alert", "critical", "ERROR", "Warning", "notice", "INFO", "debug"]
FILES = ["emergency", "alert", "critical", "error", "warning", "notice", "informational",
         "debug"]


def rules_text() -> str:
    out = []
    for name, spelling in zip(FILES, SPELLINGS, strict=True):
        out.append(f"""\
- rule: {name} open
  desc: an open of /tmp/out/{name}
  condition: evt.type in (open, openat) and evt.dir=< and fd.name=/tmp/out/{name}
  output: "{name} open (file=%fd.name command=%proc.cmdline)"
  priority: {spelling}
  tags: [test, {name}]
""")
    out.append("""\
- rule: open below tmp
  desc: any other open below /tmp
  condition: evt.type in (open, openat) and evt.dir=< and fd.name startswith /tmp/
  output: "open below tmp (file=%fd.name command=%proc.cmdline)"
  priority: WARNING
  tags: [test]
""")
    return "\n".join(out)


STEP = 300 * MS  # the capture spans 2.1 s: one drop-monitor check


def prio_events() -> tuple[list, list[int]]:
    """One open per priority; returns the events and the exit times."""
    events, exits = [], []
    for i, name in enumerate(FILES):
        ev = open_events(CAT_TID, T0 + i * STEP, f"/tmp/out/{name}")
        events += ev
        exits.append(ev[1].ts)
    return events, exits


def expected_text(i: int, ts: int) -> str:
    name = FILES[i]
    return f"{local_hms(ts)}: {PRIORITIES[i]} {name} open (file=/tmp/out/{name} command=cat /tmp/x)"


@pytest.fixture(scope="module")
def d(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("outputs")
    events, exits = prio_events()
    write_capture(d / "prio.scap", events)
    (d / "exits.json").write_text(json.dumps(exits))
    (d / "rules.yaml").write_text(rules_text())
    return d


def exits_of(d: Path) -> list[int]:
    return json.loads((d / "exits.json").read_text())


def expected_lines(d: Path) -> list[str]:
    return [expected_text(i, ts) for i, ts in enumerate(exits_of(d))]


def falcolite(d: Path, name: str, doc: dict, capture: Path | None = None,
              rules: Path | None = None, env: dict | None = None,
              opts: tuple[str, ...] = ()) -> tuple[int, str, str]:
    conf = write_config(d / f"{name}.yaml", doc)
    p = run(["-c", str(conf), "-r", str(rules or d / "rules.yaml"), "-e",
             str(capture or d / "prio.scap"), *opts], d, env or base_env(d))
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8",
                                                                               "replace")


STDOUT = {"stdout_output": {"enabled": True}}


# ------------------------------------------------------------------ formats

def test_text_format(d: Path) -> None:
    rc, out, err = falcolite(d, "text", STDOUT)
    assert rc == 0, err
    lines = alert_lines(out)
    assert lines == expected_lines(d)
    for line in lines:
        assert TEXT_ALERT.match(line), line
    s = parse_summary(out, err)
    assert s.events == 8
    assert s.by_prio == {sp: 1 for sp in SPELLINGS}
    assert s.by_rule == {f"{n} open": 1 for n in FILES}


def test_text_format_demo() -> None:
    """The shipped demo capture and rules: 5 well-formed text alerts."""
    p = run(["-r", str(DEFAULT_RULES), "-e", str(DEMO_CAPTURE)], DEMO_CAPTURE.parent)
    assert p.returncode == 0, p.stderr
    lines = alert_lines(p.stdout.decode())
    assert len(lines) == 5
    for line in lines:
        m = TEXT_ALERT.match(line)
        assert m and m.group(2) in ("Warning", "Error", "Notice"), line


JSON_KEYS = {"output", "priority", "rule", "time", "output_fields"}
LATER_KEYS = {"source", "tags", "hostname"}  # [later] keys, 3.3


def check_json_line(line: str, with_output: bool = True) -> dict:
    obj = json.loads(line)
    keys = set(obj)
    assert JSON_KEYS - ({"output"} if not with_output else set()) <= keys, line
    assert keys <= JSON_KEYS | LATER_KEYS, line
    assert ("output" in keys) == with_output, line
    # sorted keys, compact, `output_fields` last after ", " (3.3)
    head, sep, fields = line.partition(', "output_fields": ')
    assert sep and fields.endswith("}"), line
    head_obj = json.loads(head + "}")
    assert list(head_obj) == sorted(head_obj), line
    assert json.dumps(head_obj, separators=(",", ":"), ensure_ascii=False) == head + "}", line
    assert list(obj["output_fields"]) == sorted(obj["output_fields"]), line
    assert obj["priority"] in PRIORITIES
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z", obj["time"]), line
    return obj


def test_json_format(d: Path) -> None:
    rc, out, err = falcolite(d, "json", {**STDOUT, "json_output": True})
    assert rc == 0, err
    lines = alert_lines(out)
    assert len(lines) == 8
    for i, (line, ts, text) in enumerate(zip(lines, exits_of(d), expected_lines(d),
                                             strict=True)):
        obj = check_json_line(line)
        assert obj["output"] == text
        assert obj["priority"] == PRIORITIES[i]
        assert obj["rule"] == f"{FILES[i]} open"
        assert obj["time"] == iso_utc(ts)
        assert obj["output_fields"] == {"evt.time": ts, "fd.name": f"/tmp/out/{FILES[i]}",
                                        "proc.cmdline": "cat /tmp/x"}
        if "tags" in obj:
            assert obj["tags"] == sorted({"test", FILES[i]})
        if "source" in obj:
            assert obj["source"] == "syscall"
    assert parse_summary(out, err).events == 8


def test_json_without_output_property(d: Path) -> None:
    rc, out, err = falcolite(d, "json-noout", {**STDOUT, "json_output": True},
                             opts=("-o", "json_include_output_property=False"))
    assert rc == 0, err
    lines = alert_lines(out)
    assert len(lines) == 8
    for line in lines:
        check_json_line(line, with_output=False)


def test_json_demo() -> None:
    p = run(["-r", str(DEFAULT_RULES), "-e", str(DEMO_CAPTURE), "-o", "json_output=true"],
            DEMO_CAPTURE.parent)
    assert p.returncode == 0, p.stderr
    lines = alert_lines(p.stdout.decode())
    assert len(lines) == 5
    for line in lines:
        obj = check_json_line(line)
        assert TEXT_ALERT.match(obj["output"])
        assert isinstance(obj["output_fields"]["evt.time"], int)


# -------------------------------------------------------------------- file

@pytest.mark.parametrize("keep_alive", ["true", "false"])
def test_file_output(d: Path, keep_alive: str) -> None:
    out_file = d / f"alerts-{keep_alive}.txt"
    out_file.write_text("previous line\n")  # append mode
    rc, out, err = falcolite(d, f"file-{keep_alive}", {
        **STDOUT, "file_output": {"enabled": True, "filename": str(out_file),
                                  "keep_alive": keep_alive}})
    assert rc == 0, err
    assert out_file.read_text().splitlines() == ["previous line", *expected_lines(d)]
    assert alert_lines(out) == expected_lines(d)


def test_file_output_unwritable_is_fatal(d: Path) -> None:
    bad = d / "no-such-dir" / "alerts.txt"
    rc, out, err = falcolite(d, "file-bad", {
        **STDOUT, "file_output": {"enabled": True, "filename": str(bad)}})
    assert rc == 1
    assert "Runtime error: Error with file output: " in err, err
    assert "Events detected" not in out


# ------------------------------------------------------------------ syslog

@pytest.fixture(scope="module")
def rsyslog(tmp_path_factory: pytest.TempPathFactory):
    if RSYSLOGD is None:
        reason = "rsyslogd is not installed (Debian package rsyslog)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}, but CI installs it")  # never a silent skip there
        print(f"SKIP: {reason}")
        pytest.skip(reason)
    r = Rsyslog(tmp_path_factory.mktemp("rsyslog"))
    r.start()
    try:
        yield r
    finally:
        r.stop()


SEVERITIES = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"]


def test_syslog_output_and_agent_log(d: Path, rsyslog: Rsyslog) -> None:
    """Alerts at the rule's priority, facility user; the agent's own log at
    each line's level; the internal drop alert at critical."""
    conf = write_config(d / "syslog.yaml", {
        **STDOUT, "syslog_output": {"enabled": True}, "log_syslog": True, "log_stderr": False,
        "log_level": "info",
        "syscall_event_drops": {"actions": ["log", "alert"], "simulate_drops": True}})
    capture = d / "prio.scap"
    cmd = ["-c", str(conf), "-r", str(d / "rules.yaml"), "-e", str(capture)]
    p = Proc(cmd, base_env(d, rsyslog.socket), d)
    rc = p.wait()
    assert rc == 0, p.stderr
    ident = Path(falcolite_cmd()[0]).name if len(falcolite_cmd()) == 1 else "__main__.py"
    lines = expected_lines(d)
    recs = rsyslog.wait_for(
        lambda rs: {r.msg for r in rs if r.pid == str(p.pid)} >= set(lines),
        what="falcolite's alerts")
    mine = [r for r in recs if r.pid == str(p.pid)]
    for i, text in enumerate(lines):
        got = [r for r in mine if r.msg == text]
        assert len(got) == 1, (text, mine)
        r = got[0]
        assert (r.pri, r.facility, r.severity) == (8 + i, "user", SEVERITIES[i]), r
        assert r.program == ident, r
    drop_msg = "Falco internal: syscall event drop. 1 system calls dropped in last second."
    check_ts = T0 + 4 * STEP  # the open entry 1.2 s in: the first event past 1 s
    internal = f"{local_hms(check_ts)}: Critical {drop_msg}(n_drops=1 n_evts=0)"
    by_msg = {r.msg: r for r in mine}
    assert (by_msg[internal].pri, by_msg[internal].severity) == (10, "crit")
    assert (by_msg[drop_msg].pri, by_msg[drop_msg].severity) == (11, "err")  # log action
    for info in (f"Falco initialized with configuration file {conf}",
                 f"Reading system call events from file: {capture}",
                 "Simulating syscall event drop"):
        assert info in by_msg, (info, mine)
        assert (by_msg[info].pri, by_msg[info].facility) == (14, "user")
    # nothing of the log reached stderr (log_stderr false), no stray newlines
    assert log_texts(p.stderr) == []
    assert all("\n" not in r.msg and not r.msg.endswith(" ") for r in mine)


def test_agent_log_level_filter(d: Path, rsyslog: Rsyslog) -> None:
    """log_level warning: info lines are not sent, the error line is."""
    conf = write_config(d / "syslog-warn.yaml", {
        **STDOUT, "log_syslog": True, "log_stderr": False, "log_level": "warning",
        "syscall_event_drops": {"actions": ["log"], "simulate_drops": True}})
    p = Proc(["-c", str(conf), "-r", str(d / "rules.yaml"), "-e", str(d / "prio.scap")],
             base_env(d, rsyslog.socket), d)
    assert p.wait() == 0, p.stderr
    drop_msg = "Falco internal: syscall event drop. 1 system calls dropped in last second."
    recs = rsyslog.wait_for(lambda rs: any(r.pid == str(p.pid) and r.msg == drop_msg
                                           for r in rs), what="the error log line")
    mine = [r for r in recs if r.pid == str(p.pid)]
    assert [(r.pri, r.msg) for r in mine] == [(11, drop_msg)]


# ----------------------------------------------------------------- program

def pid_program(out: Path) -> str:
    """Records `<pid of the shell> <line>` for each line it reads."""
    return f"while IFS= read -r l; do printf '%s %s\\n' \"$$\" \"$l\" >> {out}; done"


def test_program_output_cat(d: Path) -> None:
    out_file = d / "cat-out.txt"
    rc, _out, err = falcolite(d, "prog-cat", {
        **STDOUT, "program_output": {"enabled": True, "program": f"cat >> {out_file}"}})
    assert rc == 0, err
    assert out_file.read_text().splitlines() == expected_lines(d)


@pytest.mark.parametrize("keep_alive", ["true", "false"])
def test_program_output_processes(d: Path, keep_alive: str) -> None:
    out_file = d / f"pids-{keep_alive}.txt"
    rc, _out, err = falcolite(d, f"prog-{keep_alive}", {
        **STDOUT, "program_output": {"enabled": True, "program": pid_program(out_file),
                                     "keep_alive": keep_alive}})
    assert rc == 0, err
    rows = [ln.split(" ", 1) for ln in out_file.read_text().splitlines()]
    assert [r[1] for r in rows] == expected_lines(d)  # complete and in order at exit
    pids = [r[0] for r in rows]
    if keep_alive == "true":
        assert len(set(pids)) == 1, pids  # one process for all alerts
    else:
        assert len(set(pids)) == 8, pids  # one process per alert


def test_program_output_waits_for_each_process(d: Path) -> None:
    """Without keep_alive each process is waited for: a slow first one cannot
    be overtaken by the next."""
    out_file = d / "slow.txt"
    prog = (f"IFS= read -r l; case \"$l\" in *emergency*) sleep 0.4;; esac; "
            f"printf '%s\\n' \"$l\" >> {out_file}")
    rc, _out, err = falcolite(d, "prog-slow", {
        **STDOUT, "program_output": {"enabled": True, "program": prog}})
    assert rc == 0, err
    assert out_file.read_text().splitlines() == expected_lines(d)


# -------------------------------------------------------------------- http

@pytest.mark.parametrize("json_output", [False, True])
def test_http_output(d: Path, json_output: bool) -> None:
    with HttpRecorder() as srv:
        rc, out, err = falcolite(d, f"http-{json_output}", {
            **STDOUT, "json_output": json_output, "http_output": {"enabled": True,
                                                                  "url": srv.url}})
        reqs = list(srv.requests)
    assert rc == 0, err
    lines = alert_lines(out)
    assert len(lines) == 8
    assert [r.method for r in reqs] == ["POST"] * 8
    assert all(r.path == "/falco/alerts" for r in reqs)
    for r in reqs:
        ctype = {k.lower(): v for k, v in r.headers.items()}.get("content-type")
        assert ctype == "application/json", r.headers
    assert [r.body.decode() for r in reqs] == lines
    if json_output:
        for r, text in zip(reqs, expected_lines(d), strict=True):
            assert json.loads(r.body)["output"] == text
    else:
        assert lines == expected_lines(d)


def test_http_unreachable(d: Path) -> None:
    url = f"http://127.0.0.1:{closed_port()}/alerts"
    rc, out, err = falcolite(d, "http-down", {
        **STDOUT, "http_output": {"enabled": True, "url": url}})
    assert rc == 0, err
    assert alert_lines(out) == expected_lines(d)  # every alert still on stdout
    assert parse_summary(out, err).events == 8
    assert "Output channel http failed to deliver 8 alerts" in err.splitlines(), err
    failures = [t for t in log_texts(err) if "libcurl error" in t]
    assert len(failures) == 8, err
    # 3.5: "failures are log lines `libcurl error: <msg>`"
    assert all(t.startswith("libcurl error: ") for t in failures), failures


# ------------------------------------------------------------ rate limit

def test_alert_rate_limit(d: Path) -> None:
    """3.6: a bucket of max_burst tokens; dropped alerts are still counted."""
    rc, out, err = falcolite(d, "ratelimit", {**STDOUT, "log_level": "debug",
                                              "outputs": {"rate": 1, "max_burst": 3}})
    assert rc == 0, err
    assert alert_lines(out) == expected_lines(d)[:3]
    assert parse_summary(out, err).events == 8
    skipped = [t for t in log_texts(err) if t.startswith("Skipping rate-limited")]
    assert skipped == [f"Skipping rate-limited notification for rule {n} open"
                       for n in FILES[3:]]


# ------------------------------------------------------- SIGUSR1 rotation

def test_file_rotation_sigusr1(tmp_path: Path) -> None:
    """keep_alive file: renamed during a slow replay, SIGUSR1, the rest goes
    to a new file; together every alert exactly once."""
    n, k = 20, 10
    events = []
    for i in range(n):
        events += open_events(CAT_TID, T0 + i * 10 * MS, f"/tmp/rot/f{i:02d}")
    write_capture(tmp_path / "rot.scap", events)
    (tmp_path / "rules.yaml").write_text(rules_text())
    out_file = tmp_path / "alerts.txt"
    conf = write_config(tmp_path / "rot.yaml", {
        **STDOUT, "file_output": {"enabled": True, "filename": str(out_file),
                                  "keep_alive": "true"}})
    fifo = tmp_path / "events.fifo"
    feeder = Feeder(fifo, tmp_path / "rot.scap", 0.01, pauses=[2 * k])
    p = Proc(["-c", str(conf), "-r", str(tmp_path / "rules.yaml"), "-e", str(fifo)],
             base_env(tmp_path), tmp_path)
    feeder.start()
    try:
        feeder.wait_paused()
        p.wait_for(lambda pr: len(alert_lines(pr.stdout)) >= k, what=f"{k} alerts")
        deadline = time.monotonic() + 5
        while len(out_file.read_text().splitlines()) < k and time.monotonic() < deadline:
            time.sleep(0.01)
        rotated = out_file.with_suffix(".txt.1")
        out_file.rename(rotated)
        p.send(signal.SIGUSR1)
        time.sleep(0.3)  # the signal is acted on before the next event arrives
        feeder.resume()
        rc = p.wait()
    finally:
        feeder.abort()
        p.kill()
    assert rc == 0, p.stderr
    assert feeder.error is None, feeder.error
    lines = alert_lines(p.stdout)
    expected = [f"{local_hms(T0 + i * 10 * MS + 1000)}: Warning open below tmp "
                f"(file=/tmp/rot/f{i:02d} command=cat /tmp/x)" for i in range(n)]
    assert lines == expected
    old, new = rotated.read_text().splitlines(), out_file.read_text().splitlines()
    assert old == expected[:k]
    assert new == expected[k:]


# ---------------------------------------------------------------- injection

INJECT = [
    b"/tmp/x\n12:00:00.000000000: Critical fake",
    b"/tmp/cr\rtab\tesc\x1b[31mred\x7f\x01",
    b"/tmp/normal",
]
BAD_UTF8 = [b"/tmp/bad\xffutf8", b"/tmp/normal"]

INJECT_RULES = """\
- rule: open below tmp
  desc: any open below /tmp
  condition: evt.type in (open, openat) and evt.dir=< and fd.name startswith /tmp/
  output: "open below tmp (file=%fd.name)"
  priority: WARNING
"""


@pytest.fixture(scope="module")
def inject(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("inject")
    for cap, names in (("inject.scap", INJECT), ("bad-utf8.scap", BAD_UTF8)):
        events = []
        for i, name in enumerate(names):
            events += open_events(CAT_TID, T0 + i * SECOND // 10, name)
        write_capture(d / cap, events)
    (d / "rules.yaml").write_text(INJECT_RULES)
    return d


def test_injection_text(inject: Path) -> None:
    """A file name holding a newline and a fake alert: still one line per
    alert on every line-oriented channel, control characters escaped."""
    out_file = inject / "alerts.txt"
    prog_file = inject / "prog.txt"
    rc, out, err = falcolite(inject, "text", {
        **STDOUT, "file_output": {"enabled": True, "filename": str(out_file)},
        "program_output": {"enabled": True, "program": f"cat >> {prog_file}"}},
        capture=inject / "inject.scap", rules=inject / "rules.yaml")
    assert rc == 0, err
    assert parse_summary(out, err).events == 3
    for raw in (out.encode(), out_file.read_bytes(), prog_file.read_bytes()):
        text = raw.decode("utf-8", "replace")
        lines = alert_lines(text)
        assert len(lines) == 3, lines  # one line per alert, nothing forged
        for line in lines:
            assert TEXT_ALERT.match(line), line
            assert line.endswith(")") and "open below tmp (file=/tmp/" in line
            assert not re.search(r"[\x00-\x1f\x7f]", line), repr(line)
        assert not any(ln.startswith("12:00:00.000000000") for ln in text.splitlines())
        assert "/tmp/x\\n12:00:00.000000000: Critical fake" in lines[0]
        assert lines[2].endswith("(file=/tmp/normal)")


def test_injection_json(inject: Path) -> None:
    rc, out, err = falcolite(inject, "json", {**STDOUT, "json_output": True},
                             capture=inject / "inject.scap", rules=inject / "rules.yaml")
    assert rc == 0, err
    lines = alert_lines(out)
    assert len(lines) == 3, lines
    objs = [check_json_line(line) for line in lines]  # strict json.loads: valid JSON
    for obj, raw in zip(objs, INJECT, strict=True):
        name = obj["output_fields"]["fd.name"]
        escaped = "".join(c if c >= " " and c != "\x7f" else
                          {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(c, f"\\x{ord(c):02x}")
                          for c in raw.decode())
        assert name in (raw.decode(), escaped), name
        assert not re.search(r"[\x00-\x1f\x7f]", obj["output"]), obj["output"]
    assert objs[2]["output_fields"]["fd.name"] == "/tmp/normal"


@pytest.mark.parametrize("json_output", [False, True])
def test_invalid_utf8_name(inject: Path, json_output: bool) -> None:
    """A file name that is not UTF-8: one alert line per alert, and in JSON
    mode lines that json.loads accepts."""
    rc, out, err = falcolite(inject, f"utf8-{json_output}",
                             {**STDOUT, "json_output": json_output},
                             capture=inject / "bad-utf8.scap", rules=inject / "rules.yaml")
    assert rc == 0, err
    lines = alert_lines(out)
    assert len(lines) == 2, lines
    if json_output:
        objs = [check_json_line(line) for line in lines]
        assert objs[0]["output_fields"]["fd.name"].startswith("/tmp/bad")
        assert objs[0]["output"].endswith("utf8)")
    else:
        assert all(TEXT_ALERT.match(line) for line in lines)


# ---------------------------------------------------------- failing channels

def test_program_that_exits_early(d: Path) -> None:
    """A keep-alive program that reads nothing and exits: writes fail (no
    SIGPIPE death), the run goes on and every alert reaches stdout."""
    rc, out, err = falcolite(d, "prog-dead", {
        **STDOUT, "program_output": {"enabled": True, "program": "exec true",
                                     "keep_alive": "true"}})
    assert rc == 0, err
    assert alert_lines(out) == expected_lines(d)
    assert parse_summary(out, err).events == 8
    assert "Traceback" not in err


def test_syslog_without_daemon(d: Path) -> None:
    """No syslog daemon on the socket: the syslog channel fails, counted in
    the summary; the run goes on."""
    rc, out, err = falcolite(d, "syslog-down", {**STDOUT, "syslog_output": {"enabled": True}})
    assert rc == 0, err
    assert alert_lines(out) == expected_lines(d)
    assert "Output channel syslog failed to deliver 8 alerts" in err.splitlines(), err
