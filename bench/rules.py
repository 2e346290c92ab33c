"""Rules benchmark: (1) a full falcolite run with Falco 0.15's default rules
and JSON output to a file over the 2M-event capture, next to `sysdig -r`
with the OR of the same rules' expanded conditions, as a ratio of event
rates; (2) the time to load and compile each shared rules file.  One run each.

    python bench/rules.py [--events N] [--keep FILE]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from capture import SHARED, bench_capture

from falcolite.filter.fields import FieldContext
from falcolite.rules.loader import RulesLoader
from falcolite.state.tracker import StateTracker

RULES = SHARED / "falco-rules" / "falco_rules.v0.15.yaml"
FILES = ("falco_rules.v0.15.yaml", "application_rules.v0.15.yaml", "falco_rules.current.yaml",
         "falco-incubating_rules.current.yaml", "falco-sandbox_rules.current.yaml")


def load_time(path: Path) -> tuple[float, int]:
    t0 = time.perf_counter()
    loader = RulesLoader(FieldContext(StateTracker()))
    loader.load_file(str(path))
    return time.perf_counter() - t0, len(loader.compiled)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--events", type=int, default=2_000_000)
    ap.add_argument("--keep", help="capture path to reuse or create")
    args = ap.parse_args()
    tmp = tempfile.TemporaryDirectory()
    cap = bench_capture(args.keep, args.events, Path(tmp.name))
    n = args.events

    print("load and compile (in process):")
    for name in FILES:
        secs, count = load_time(SHARED / "falco-rules" / name)
        print(f"  {name:40} {count:4d} rules  {secs * 1000:7.1f} ms")

    conf = Path(tmp.name) / "falco.yaml"
    out = Path(tmp.name) / "alerts.json"
    conf.write_text(f"json_output: true\nfile_output:\n  enabled: true\n  keep_alive: true\n"
                    f"  filename: {out}\nlog_stderr: false\nlog_syslog: false\n"
                    "outputs:\n  rate: 1000000\n  max_burst: 1000000\n")
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "falcolite", "-c", str(conf), "-r", str(RULES),
                    "-e", str(cap)], check=True, stdout=subprocess.DEVNULL)
    ours = time.perf_counter() - t0
    alerts = sum(1 for _ in out.open()) if out.exists() else 0

    loader = RulesLoader(FieldContext(StateTracker()))
    loader.load_file(str(RULES))
    either = " or ".join(f"({c.expanded})" for c in loader.compiled
                         if c.name != "Run shell untrusted")  # sysdig cannot parse it
    exe = shutil.which("sysdig")
    if exe is None:
        raise SystemExit("sysdig is not installed")
    t0 = time.perf_counter()
    subprocess.run([exe, "-r", str(cap), "-p", "%evt.num", either], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ref = time.perf_counter() - t0
    print(f"full run, Falco 0.15 rules, JSON to a file ({alerts} alerts):")
    print(f"  falcolite {n / ours:12,.0f} events/s ({ours:.2f} s)")
    print(f"  sysdig    {n / ref:12,.0f} events/s ({ref:.2f} s)")
    print(f"  ratio     {ref / ours:.2f} x sysdig")


if __name__ == "__main__":
    main()
