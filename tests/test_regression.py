"""Regression cases in the spirit of Falco's regression harness.

Every file in tests/regression/*.yaml holds one case (a mapping) or several
(a list of mappings, each with a `name`).  A case runs the real command line
(`python -m falcolite ...`, cwd = repository root, TZ=UTC) and checks the exit
code, stdout, stderr and the end-of-run summary.  Keys:

* `name`: test id (default: the file name without `.yaml`).
* `contract`: the falco-compat.md section(s) the case comes from (free text).
* `rules`: one item or a list; each item is either inline YAML text (written
  to `{tmp}/rules<i>.yaml`, available as the placeholder `{rules<i>}`) or
  `shared:<name>` for `../shared/falco-rules/<name>` (the case is skipped when
  that folder is absent).
* `rules_flag`: how the rules files are passed: `-r` (default), `-V`, or
  `none` (not passed; use the `{rules<i>}` placeholders yourself).
* `conf`: inline falco.yaml text written to `{tmp}/falco.yaml` and passed with
  `-c`; absent = a minimal config enabling the stdout channel; `null` = no `-c`.
* `files`: extra files to write under `{tmp}`: `relative/path: text`, or
  `relative/path: {text: ..., mode: 0o...}`.
* `trace`: `shared:<name>` (../shared/traces) or a path relative to the
  repository root; passed with `-e`.
* `args`: extra arguments, appended after `-r ... -c ... -e ...`.
* `argv`: the complete argument list instead (nothing is added).
* Expectations: `exit` (default 0); `stdout_contains`, `stdout_not_contains`,
  `stderr_contains`, `stderr_not_contains`: lists of literal substrings or
  `re:<regex>` (multi-line mode); `stdout_line_counts`: `{pattern: n}`,
  the number of stdout lines matching; `detect_counts`: `{rule name: n}`
  from "Triggered rules by rule name" (0 = absent or 0); `priority_counts`:
  `{key as printed: n}` from "Rule counts by severity"; `events_detected`;
  `files_contain`: `{path: [patterns]}` for files the run writes.
* Conditions: `requires_no_default_config: true` skips the case when a
  default config file exists; `skip_if_root: true`.

Placeholders `{tmp}`, `{root}`, `{shared}` and `{rules<i>}` are replaced in
args, argv, conf, files and expectations.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
CASE_DIR = ROOT / "tests" / "regression"
SHARED = Path(os.environ.get("FALCOLITE_SHARED", ROOT.parent / "shared"))
DEFAULT_CONFIGS = ("/etc/falcolite/falco.yaml", "/etc/falco/falco.yaml")
TIMEOUT = 60
TAIL_LINES = 40

DEFAULT_CONF = "stdout_output:\n  enabled: true\n"

CASE_KEYS = {
    "name", "contract", "description", "rules", "rules_flag", "conf", "files", "trace",
    "args", "argv", "exit", "stdout_contains", "stdout_not_contains", "stderr_contains",
    "stderr_not_contains", "stdout_line_counts", "detect_counts", "priority_counts",
    "events_detected", "files_contain", "requires_no_default_config", "skip_if_root",
}


# ------------------------------------------------------------------ loading
def load_cases() -> list[Any]:
    params: list[Any] = []
    seen: set[str] = set()
    for path in sorted(CASE_DIR.glob("*.yaml")):
        with open(path, encoding="utf-8") as f:
            doc = yaml.safe_load(f)
        items = doc if isinstance(doc, list) else [doc]
        for i, case in enumerate(items):
            if not isinstance(case, dict):
                raise ValueError(f"{path}: case #{i} is not a mapping")
            unknown = set(case) - CASE_KEYS
            if unknown:
                raise ValueError(f"{path}: unknown case keys {sorted(unknown)}")
            name = str(case.get("name") or (path.stem if len(items) == 1 else
                                             f"{path.stem}-{i}"))
            if name in seen:
                raise ValueError(f"{path}: duplicate case name {name}")
            seen.add(name)
            params.append(pytest.param(case, id=name))
    return params


# ------------------------------------------------------------------ running
@dataclass
class Run:
    cmd: list[str]
    code: int
    stdout: str
    stderr: str


class Placeholders:
    def __init__(self, tmp: Path) -> None:
        self.values = {"{tmp}": str(tmp), "{root}": str(ROOT), "{shared}": str(SHARED)}

    def add(self, key: str, value: str) -> None:
        self.values["{" + key + "}"] = value

    def __call__(self, text: str) -> str:
        for k, v in self.values.items():
            text = text.replace(k, v)
        return text


def _as_list(v: object) -> list:
    if v is None:
        return []
    return list(v) if isinstance(v, list) else [v]


def _shared_path(kind: str, name: str) -> Path:
    p = SHARED / kind / name
    if not p.exists():
        pytest.skip(f"{p} is absent")
    return p


def prepare(case: dict, tmp: Path) -> tuple[list[str], Placeholders]:
    ph = Placeholders(tmp)
    if case.get("requires_no_default_config"):
        for p in DEFAULT_CONFIGS:
            if os.path.exists(p):
                pytest.skip(f"a default configuration file exists: {p}")
    if case.get("skip_if_root") and os.geteuid() == 0:
        pytest.skip("running as root: file permissions are not enforced")
    rules_paths: list[str] = []
    for i, item in enumerate(_as_list(case.get("rules"))):
        if isinstance(item, str) and item.startswith("shared:"):
            p = str(_shared_path("falco-rules", item[len("shared:"):]))
        else:
            p = str(tmp / f"rules{i}.yaml")
            Path(p).write_text(item if isinstance(item, str) else yaml.safe_dump(item),
                               encoding="utf-8")
        ph.add(f"rules{i}", p)
        rules_paths.append(p)
    for rel, spec in (case.get("files") or {}).items():
        text, mode = (spec.get("text", ""), spec.get("mode")) if isinstance(spec, dict) \
            else (spec, None)
        target = tmp / ph(rel)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(ph(text or ""), encoding="utf-8")
        if mode is not None:
            target.chmod(int(mode))
    if "argv" in case:
        return [ph(str(a)) for a in _as_list(case["argv"])], ph
    argv: list[str] = []
    flag = case.get("rules_flag", "-r")
    if flag != "none":
        for p in rules_paths:
            argv += [flag, p]
    if "conf" not in case or case["conf"] is not None:
        conf = tmp / "falco.yaml"
        conf.write_text(ph(case.get("conf", DEFAULT_CONF)), encoding="utf-8")
        argv += ["-c", str(conf)]
    trace = case.get("trace")
    if trace:
        trace = str(_shared_path("traces", trace[len("shared:"):])) \
            if trace.startswith("shared:") else str(ROOT / trace)
        argv += ["-e", trace]
    argv += [ph(str(a)) for a in _as_list(case.get("args"))]
    return argv, ph


def run_cli(argv: list[str]) -> Run:
    env = dict(os.environ, TZ="UTC", PYTHONDONTWRITEBYTECODE="1")
    cmd = [sys.executable, "-m", "falcolite", *argv]
    try:
        p = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, timeout=TIMEOUT,
                           stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as err:
        out = (err.stdout or b"").decode("utf-8", "replace")
        errs = (err.stderr or b"").decode("utf-8", "replace")
        pytest.fail(f"timeout after {TIMEOUT}s: {shlex.join(cmd)}\n"
                    f"--- stdout tail ---\n{_tail(out)}\n--- stderr tail ---\n{_tail(errs)}")
    return Run(cmd, p.returncode, p.stdout.decode("utf-8", "replace"),
               p.stderr.decode("utf-8", "replace"))


def _tail(text: str, n: int = TAIL_LINES) -> str:
    lines = text.splitlines()
    head = [f"... ({len(lines) - n} earlier lines)"] if len(lines) > n else []
    return "\n".join(head + lines[-n:])


# --------------------------------------------------------------- checking
def matches(pattern: str, text: str) -> bool:
    if pattern.startswith("re:"):
        return re.search(pattern[3:], text, re.M) is not None
    return pattern in text


@dataclass
class Summary:
    events: int
    by_priority: dict[str, int]
    by_rule: dict[str, int]


def parse_summary(stdout: str) -> Summary | None:
    """The stdout block of falco-compat.md 4.1."""
    lines = stdout.splitlines()
    for i, line in enumerate(lines):
        m = re.fullmatch(r"Events detected: (\d+)", line)
        if m and i + 1 < len(lines) and lines[i + 1] == "Rule counts by severity:":
            break
    else:
        return None
    by_prio: dict[str, int] = {}
    by_rule: dict[str, int] = {}
    target = by_prio
    for line in lines[i + 2:]:
        if line == "Triggered rules by rule name:" and target is by_prio:
            target = by_rule
            continue
        if not line.startswith("   "):
            break
        key, sep, num = line[3:].rpartition(": ")
        if not sep or not num.isdigit():
            break
        target[key] = int(num)
    return Summary(int(m.group(1)), by_prio, by_rule)


def check(case: dict, run: Run, ph: Placeholders) -> list[str]:
    problems: list[str] = []
    want_exit = case.get("exit", 0)
    if run.code != want_exit:
        problems.append(f"exit code {run.code}, expected {want_exit}")
    streams = {"stdout": run.stdout, "stderr": run.stderr}
    for name, text in streams.items():
        for pat in _as_list(case.get(f"{name}_contains")):
            if not matches(ph(str(pat)), text):
                problems.append(f"{name} lacks {ph(str(pat))!r}")
        for pat in _as_list(case.get(f"{name}_not_contains")):
            if matches(ph(str(pat)), text):
                problems.append(f"{name} should not contain {ph(str(pat))!r}")
    for pat, n in (case.get("stdout_line_counts") or {}).items():
        got = sum(1 for line in run.stdout.splitlines() if matches(ph(str(pat)), line))
        if got != n:
            problems.append(f"{got} stdout lines match {ph(str(pat))!r}, expected {n}")
    if any(k in case for k in ("detect_counts", "priority_counts", "events_detected")):
        s = parse_summary(run.stdout)
        if s is None:
            problems.append("no end-of-run summary on stdout")
        else:
            if "events_detected" in case and s.events != case["events_detected"]:
                problems.append(f"Events detected: {s.events}, expected "
                                f"{case['events_detected']}")
            for label, want, got in (("rule", case.get("detect_counts"), s.by_rule),
                                     ("severity", case.get("priority_counts"),
                                      s.by_priority)):
                for key, n in (want or {}).items():
                    if got.get(str(key), 0) != n:
                        problems.append(f"{label} {key!r}: count {got.get(str(key))}, "
                                        f"expected {n} (summary has {got})")
    for path, pats in (case.get("files_contain") or {}).items():
        p = Path(ph(str(path)))
        if not p.exists():
            problems.append(f"file {p} was not written")
            continue
        text = p.read_text(encoding="utf-8", errors="replace")
        for pat in _as_list(pats):
            if not matches(ph(str(pat)), text):
                problems.append(f"file {p} lacks {ph(str(pat))!r}")
    return problems


@pytest.mark.parametrize("case", load_cases())
def test_regression(case: dict, tmp_path: Path) -> None:
    argv, ph = prepare(case, tmp_path)
    run = run_cli(argv)
    problems = check(case, run, ph)
    if problems:
        where = f" [contract {case['contract']}]" if case.get("contract") else ""
        pytest.fail(
            f"{len(problems)} expectation(s) failed{where}:\n  - " + "\n  - ".join(problems)
            + f"\ncommand: {shlex.join(run.cmd)}\nexit code: {run.code}"
            + f"\n--- stdout tail ---\n{_tail(run.stdout)}"
            + f"\n--- stderr tail ---\n{_tail(run.stderr)}", pytrace=False)
