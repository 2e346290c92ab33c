"""The syscall event drop monitor against the real CLI (falco-compat.md 3.7,
4.1): a 10-second capture with one event every 100 ms, simulated drops, each
action, the token bucket in event time, text and JSON internal alerts."""

from __future__ import annotations

import json
import re
from fractions import Fraction
from pathlib import Path

import pytest
from live_replay import (
    CAT_TID,
    CLOSE_X,
    MS,
    SECOND,
    T0,
    Ev,
    base_env,
    iso_utc,
    local_hms,
    log_texts,
    parse_summary,
    run,
    write_capture,
    write_config,
)

MSG = "Falco internal: syscall event drop. 1 system calls dropped in last second."
SIMULATING = "Simulating syscall event drop"
DEPLETED = "Syscall event drop but token bucket depleted, skipping actions"
RULE = "Falco internal: syscall event drop"

# 101 events, T0 .. T0 + 10 s.  Every other one is a `close` exit, an event
# Falco ignores (6.10): the monitor runs before that filter, so the checks
# must fall on them too.
TIMES = [T0 + i * 100 * MS for i in range(101)]
# the first event sets the check time to T0 + 1 s; the event at exactly
# T0 + 1 s is not past it, T0 + 1.1 s is; each check moves it to ts + 1 s
CHECKS = [T0 + k * 1100 * MS for k in range(1, 10)]

RULES = """\
- rule: never
  desc: matches nothing in the capture
  condition: evt.type=open and evt.dir=< and fd.name=/nonexistent
  output: "never (file=%fd.name)"
  priority: WARNING
"""


def checks_of(times: list[int]) -> list[int]:
    """The check times of 3.7, computed from the event times."""
    out, nxt = [], None
    for ts in times:
        if nxt is None:
            nxt = ts + SECOND
        elif ts > nxt:
            nxt = ts + SECOND
            out.append(ts)
    return out


def bucket_actions(checks: list[int], rate: str, max_burst: str) -> int:
    """Actions a full bucket of `max_burst` tokens gaining `rate` per second
    of event time allows (exact arithmetic)."""
    r, cap = Fraction(rate), Fraction(max_burst)
    tokens, last, n = cap, None, 0
    for ts in checks:
        t = Fraction(ts, SECOND)
        if last is not None and t > last:
            tokens = min(cap, tokens + (t - last) * r)
        last = t
        if tokens >= 1:
            tokens -= 1
            n += 1
    return n


def internal_text(ts: int) -> str:
    return f"{local_hms(ts)}: Critical {MSG}(n_drops=1 n_evts=0)"


def internal_json(ts: int) -> str:
    return ('{"output":"' + MSG + '","output_fields":{"n_drops":"1","n_evts":"0"},'
            '"priority":"Critical","rule":"' + RULE + '","time":"' + iso_utc(ts) + '"}')


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("drops")
    events = []
    for i, ts in enumerate(TIMES):
        if i % 2:
            events.append(Ev(CLOSE_X, ts, CAT_TID, [0]))
        else:
            events.append(Ev(3, ts, CAT_TID, [3, f"/tmp/drop/f{i}".encode(), 1, 0, 0x803]))
    assert write_capture(d / "ten-seconds.scap", events) == 101
    (d / "rules.yaml").write_text(RULES)
    return d


def run_drops(d: Path, name: str, drops: dict | None, extra: dict | None = None,
              opts: tuple[str, ...] = ()) -> tuple[int, list[str], str, list[str]]:
    doc: dict = {"stdout_output": {"enabled": True}, "log_level": "info"}
    if drops is not None:
        doc["syscall_event_drops"] = drops
    doc.update(extra or {})
    conf = write_config(d / f"{name}.yaml", doc)
    p = run(["-c", str(conf), "-r", str(d / "rules.yaml"), "-e", str(d / "ten-seconds.scap"),
             *opts], d, base_env(d))
    out, err = p.stdout.decode(), p.stderr.decode()
    return p.returncode, out.splitlines(), err, log_texts(err)


def summary_tail(occurrences: int, actions: int) -> str:
    return ("Syscall event drop monitoring:\n"
            f"   - event drop detected: {occurrences} occurrences\n"
            f"   - num times actions taken: {actions}\n")


EMPTY_SUMMARY = ["Events detected: 0", "Rule counts by severity:",
                 "Triggered rules by rule name:"]


def drop_logs(logs: list[str]) -> list[str]:
    """The drop monitor's own log lines, in order."""
    return [ln for ln in logs if ln in (SIMULATING, MSG, DEPLETED, "Exiting.")]


def test_check_times_model() -> None:
    assert checks_of(TIMES) == CHECKS
    assert bucket_actions(CHECKS, "0.3333", "10") == 9  # the defaults act on every check


def test_no_drop_section(setup: Path) -> None:
    rc, out, err, logs = run_drops(setup, "none", None)
    assert rc == 0, err
    assert out == EMPTY_SUMMARY
    assert err.endswith(summary_tail(0, 0)), err
    assert drop_logs(logs) == []


def test_ignore(setup: Path) -> None:
    rc, out, err, logs = run_drops(setup, "ignore",
                                   {"actions": ["ignore"], "simulate_drops": True})
    assert rc == 0, err
    assert out == EMPTY_SUMMARY
    assert err.endswith(summary_tail(9, 9)), err
    assert drop_logs(logs) == [SIMULATING] * 9


def test_log(setup: Path) -> None:
    rc, out, err, logs = run_drops(setup, "log", {"actions": ["log"], "simulate_drops": True})
    assert rc == 0, err
    assert out == EMPTY_SUMMARY
    assert err.endswith(summary_tail(9, 9)), err
    assert drop_logs(logs) == [SIMULATING, MSG] * 9
    # every stderr line before the summary is a log line `<asctime>: <text>`
    head = err[:err.index("Syscall event drop monitoring:")].splitlines()
    assert len(head) == len(log_texts(err)), head


@pytest.mark.parametrize(("level", "expected"), [
    ("error", [MSG] * 9),  # the message is error level, "Simulating" info
    ("critical", []),      # not critical, whatever the config comment says
])
def test_log_levels(setup: Path, level: str, expected: list[str]) -> None:
    rc, _out, err, logs = run_drops(setup, f"log-{level}",
                                   {"actions": ["log"], "simulate_drops": True},
                                   {"log_level": level})
    assert rc == 0, err
    assert drop_logs(logs) == expected
    assert err.endswith(summary_tail(9, 9)), err


def test_alert_text(setup: Path) -> None:
    rc, out, err, logs = run_drops(setup, "alert",
                                   {"actions": ["alert"], "simulate_drops": True})
    assert rc == 0, err
    assert out == [internal_text(ts) for ts in CHECKS] + EMPTY_SUMMARY  # not counted
    assert err.endswith(summary_tail(9, 9)), err
    assert drop_logs(logs) == [SIMULATING] * 9  # no log action: no error line
    # shape, independently of the expected list above
    shape = re.compile(r"^\d\d:\d\d:\d\d\.\d{9}: Critical Falco internal: syscall event drop\. "
                       r"1 system calls dropped in last second\.\(n_drops=1 n_evts=0\)$")
    assert all(shape.match(line) for line in out[:9])


def test_alert_json(setup: Path) -> None:
    rc, out, err, _logs = run_drops(setup, "alert-json",
                                   {"actions": ["alert"], "simulate_drops": True},
                                   {"json_output": True})
    assert rc == 0, err
    assert out == [internal_json(ts) for ts in CHECKS] + EMPTY_SUMMARY
    for line, ts in zip(out[:9], CHECKS, strict=True):
        obj = json.loads(line)
        assert list(obj) == sorted(obj)
        assert obj == {"output": MSG, "output_fields": {"n_drops": "1", "n_evts": "0"},
                       "priority": "Critical", "rule": RULE, "time": iso_utc(ts)}
    assert err.endswith(summary_tail(9, 9)), err


def test_exit(setup: Path) -> None:
    rc, out, err, logs = run_drops(setup, "exit", {"actions": ["exit"], "simulate_drops": True})
    assert rc == 1, err
    assert out == EMPTY_SUMMARY  # the summary is printed after the exit action
    assert drop_logs(logs) == [SIMULATING, MSG, "Exiting."]
    assert err.endswith(summary_tail(1, 1)), err


def test_exit_by_override(setup: Path) -> None:
    """`-o syscall_event_drops.actions=exit` replaces the configured list."""
    rc, _out, err, logs = run_drops(setup, "override",
                                   {"actions": ["log"], "simulate_drops": True},
                                   opts=("-o", "syscall_event_drops.actions=exit"))
    assert rc == 1, err
    assert drop_logs(logs) == [SIMULATING, MSG, "Exiting."]
    assert err.endswith(summary_tail(1, 1)), err


def test_all_actions_in_order(setup: Path) -> None:
    """A set run in the order ignore, log, alert, exit; duplicates collapse."""
    rc, out, err, logs = run_drops(setup, "all", {"actions": ["exit", "alert", "log", "alert",
                                                              "ignore"],
                                                  "simulate_drops": True})
    assert rc == 1, err
    assert out == [internal_text(CHECKS[0]), *EMPTY_SUMMARY]
    assert drop_logs(logs) == [SIMULATING, MSG, MSG, "Exiting."]
    i = err.index(MSG)
    assert err.index(MSG, i + 1) < err.index("Exiting.")
    assert err.endswith(summary_tail(1, 1)), err


def test_rate_limited_actions(setup: Path) -> None:
    """rate 0.5, max_burst 1: a token every two seconds of event time."""
    expected = bucket_actions(CHECKS, "0.5", "1")
    assert expected == 5
    rc, out, err, logs = run_drops(setup, "rate",
                                   {"actions": ["log", "alert"], "simulate_drops": True,
                                    "rate": 0.5, "max_burst": 1},
                                   {"log_level": "debug"})
    assert rc == 0, err
    acted = [CHECKS[k] for k in (0, 2, 4, 6, 8)]
    assert out == [internal_text(ts) for ts in acted] + EMPTY_SUMMARY
    assert err.endswith(summary_tail(9, expected)), err
    assert drop_logs(logs) == [SIMULATING, MSG, SIMULATING, DEPLETED] * 4 + [SIMULATING, MSG]
    s = parse_summary("\n".join(out), err)
    assert (s.occurrences, s.actions) == (9, 5)


def test_alert_json_keeps_output(setup: Path) -> None:
    """The internal alert's JSON always has `output`, whatever
    json_include_output_property says."""
    rc, out, err, _logs = run_drops(setup, "alert-json-noout",
                                    {"actions": ["alert"], "simulate_drops": True},
                                    {"json_output": True, "json_include_output_property": False})
    assert rc == 0, err
    assert out == [internal_json(ts) for ts in CHECKS] + EMPTY_SUMMARY
