"""The single binary (dist/falcolite) next to the same code run by CPython
(`python -m falcolite`): (1) size, of the file and of what it unpacks;
(2) start-up to the first event read: `--list-events` on a one-event
capture, median of 20 runs, with the unpacked payload reused (the normal
case) and on a first start (unpacking); (3) throughput on the 2M-event
capture: a full run with Falco 0.15's rules (the built-in ones when shared/
is absent) and JSON alerts to a file, where the C reader skips most events,
and the listing (--list-events), where every event goes through Python;
best of --runs runs each.

    python bench/binary.py [--binary dist/falcolite] [--events N] [--keep FILE]
                           [--runs N]

Goals: size < 30 MB, start-up < 0.3 s, throughput >= CPython.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from capture import ROOT, SHARED, bench_capture

from falcolite.events.records import CaptureMeta, Machine, ThreadRecord
from falcolite.events.writer import ScapWriter

RULES = SHARED / "falco-rules" / "falco_rules.v0.15.yaml"
OPEN_E = 2  # open() enter: path, flags, mode


def one_event_capture(path: Path) -> None:
    meta = CaptureMeta(machine=Machine(2, 4 << 30, 4194304, "bench", 1_700_000_000 * 10**9),
                       threads=[ThreadRecord(tid=42, pid=42, ptid=1, comm=b"cat",
                                             exe=b"/bin/cat", exepath=b"/bin/cat")])
    with ScapWriter(str(path)) as w:
        w.write_header(meta)
        w.write_values(OPEN_E, 1_700_000_001 * 10**9, 42, [b"/etc/hostname", 1, 0])


def wall(cmd: list[str], env: dict[str, str], cwd: Path) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, env=env, cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def timed(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """Wall and CPU (user + system of the children) seconds of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    secs = wall(cmd, env, cwd)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return secs, cpu


def du(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", default=str(ROOT / "dist" / "falcolite"))
    ap.add_argument("--events", type=int, default=2_000_000)
    ap.add_argument("--keep", help="capture path to reuse or create")
    ap.add_argument("--runs", type=int, default=2)
    args = ap.parse_args()
    binary = Path(args.binary).resolve()
    if not binary.is_file():
        raise SystemExit(f"{binary} not found: make binary")

    tmp_dir = tempfile.TemporaryDirectory()
    tmp = Path(tmp_dir.name)
    home = tmp / "home"
    home.mkdir()
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8"}
    ours = [str(binary)]
    cpython = [sys.executable, "-m", "falcolite"]

    tiny = tmp / "one.scap"
    one_event_capture(tiny)
    listing = ["-e", str(tiny), "--list-events"]
    out = subprocess.run([*ours, *listing], env=env, cwd=tmp, capture_output=True, text=True,
                         check=True).stdout
    assert len(out.splitlines()) == 1, out

    size = binary.stat().st_size
    unpacked = next((home / ".cache" / "falcolite").iterdir())
    print(f"size: {size / 1e6:.1f} MB file, {du(unpacked) / 1e6:.1f} MB unpacked "
          f"(goal < 30 MB)")

    runs = 20
    warm = statistics.median(wall([*ours, *listing], env, tmp) for _ in range(runs))
    cold = []
    for i in range(5):
        cold.append(wall([*ours, *listing], {**env, "XDG_CACHE_HOME": str(tmp / f"c{i}")}, tmp))
    ref = statistics.median(wall([*cpython, *listing], env, tmp) for _ in range(runs))
    print(f"start-up to the first event (--list-events, 1 event, median of {runs}):")
    print(f"  binary, unpacked payload reused {warm * 1000:7.0f} ms  (goal < 300 ms)")
    print(f"  binary, first start (unpacking) {statistics.median(cold) * 1000:7.0f} ms  "
          "(median of 5)")
    print(f"  CPython (python -m falcolite)   {ref * 1000:7.0f} ms")

    cap = bench_capture(args.keep, args.events, tmp)
    n = args.events
    rules = RULES if RULES.exists() else None
    alerts = tmp / "alerts.json"
    conf = tmp / "falco.yaml"
    conf.write_text(f"json_output: true\nfile_output:\n  enabled: true\n  keep_alive: true\n"
                    f"  filename: {alerts}\nlog_stderr: false\nlog_syslog: false\n"
                    "outputs:\n  rate: 1000000\n  max_burst: 1000000\n")
    what = "Falco 0.15 rules" if rules else "built-in rules"
    workloads = {
        f"rules run ({what}, JSON alerts to a file)":
            ["-c", str(conf), *(["-r", str(rules)] if rules else []), "-e", str(cap)],
        "listing (--list-events: every event decoded and formatted in Python)":
            ["-e", str(cap), "--list-events"],
    }
    print(f"throughput on {n:,} events, best of {args.runs} (runs alternated):")
    for title, run_args in workloads.items():
        results: dict[str, tuple[float, float]] = {}
        counts = set()
        for _ in range(args.runs):
            for name, cmd in (("binary", ours), ("CPython", cpython)):
                alerts.unlink(missing_ok=True)
                r = timed([*cmd, *run_args], env, tmp)
                counts.add(sum(1 for _ in alerts.open()) if alerts.exists() else 0)
                if name not in results or r[0] < results[name][0]:
                    results[name] = r
        assert len(counts) == 1, f"the runs disagree on the alert count: {counts}"
        alerts_note = f", {counts.pop()} alerts" if "rules" in title else ""
        print(f"  {title}{alerts_note}:")
        for name, (secs, cpu) in results.items():
            print(f"    {name:8} {n / secs:12,.0f} events/s  ({secs:6.2f} s wall, "
                  f"{cpu:6.2f} s CPU)")
        (b_secs, b_cpu), (c_secs, c_cpu) = results["binary"], results["CPython"]
        print(f"    ratio    {c_secs / b_secs:.2f} x CPython (wall), {c_cpu / b_cpu:.2f} x (CPU)"
              "  (goal >= 1)")
    shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
