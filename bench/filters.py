"""Filter benchmark: events per second of falcolite tracking state and
evaluating ten Falco-style rule conditions on every event, next to
`sysdig -r FILE '(c1) or (c2) or ...'` on the same capture of at least 2
million events, and their ratio (one run each); then a cProfile of the
falcolite side, top 15 functions by own time.

    python bench/filters.py [--events N] [--keep FILE] [--profile-events N]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from capture import bench_capture

from falcolite.app import wanted_codes
from falcolite.filter import parse
from falcolite.filter.compiler import compile_filter
from falcolite.filter.fields import FieldContext
from falcolite.rules.loader import RulesLoader
from falcolite.rules.ruleset import Ruleset
from falcolite.sources.trace import TraceSource
from falcolite.state.tracker import StateTracker

# In the style of Falco's rules (macros expanded by hand); most of them
# match something in the benchmark capture.
CONDITIONS = [
    # read sensitive file / write below etc
    "evt.type in (open, openat) and evt.dir=< and fd.name startswith /etc",
    "evt.type in (open, openat) and evt.dir=< and fd.name in (/etc/shadow, /etc/sudoers, "
    "/etc/pam.conf) and not proc.name in (sshd, sudo, su, passwd)",
    "evt.type in (open, openat) and evt.dir=< and evt.is_open_write=true "
    "and fd.name pmatch (/bin, /sbin, /usr/bin, /usr/sbin)",
    # shells
    "evt.type=execve and evt.dir=< and proc.name in (bash, sh, zsh, csh, ksh, cat)",
    "evt.type=execve and evt.dir=< and container.id!=host and proc.name in (bash, sh)",
    # network
    "evt.type=connect and evt.dir=< and (fd.typechar=4 or fd.typechar=6) and "
    "not fd.snet in (\"10.0.0.0/8\", \"172.16.0.0/12\", \"192.168.0.0/16\")",
    "evt.type in (sendto, sendmsg) and evt.dir=< and fd.l4proto=udp and fd.sport=domain "
    "and not proc.name in (systemd-resolved, dnsmasq)",
    "evt.type=accept and evt.dir=< and fd.is_server=true and fd.sport in (22, 1234, 4444)",
    # libraries read by unexpected programs, failed opens
    "evt.type=read and evt.dir=< and fd.typechar=f and fd.name glob \"/lib/*\" "
    "and evt.rawres>512 and proc.aname in (bash, sshd)",
    "evt.type in (open, openat, access) and evt.dir=< and evt.failed=true "
    "and evt.res=ENOENT and evt.arg.name contains ld.so",
]


def falcolite_run(path: Path, limit: int | None = None) -> tuple[int, list[int]]:
    """As the agent runs them: the conditions as rules indexed by event type,
    the reader's prefilter keeping other events in C, state updates on what
    arrives; every candidate condition evaluated (not just the first match).
    Returns the number of events read and each condition's match count."""
    with TraceSource(str(path), batch_size=8192) as src:
        tracker = StateTracker(src.meta)
        ctx = FieldContext(tracker, hostname="bench")
        loader = RulesLoader(ctx, all_events=True)
        loader.load_text("\n".join(
            f"- rule: c{i}\n  desc: c{i}\n  condition: {c}\n  output: x\n  priority: INFO"
            for i, c in enumerate(CONDITIONS)))
        ruleset = Ruleset(loader.compiled, all_events=True)
        src.set_interesting(wanted_codes(ruleset))
        src.set_interesting_syscalls(ruleset.interesting_syscalls())
        index = {r.name: i for i, r in enumerate(loader.compiled)}
        counts = [0] * len(CONDITIONS)
        process = tracker.process
        checks = ruleset.checks
        n = 0
        for e in src.events():
            process(e)
            for r, pred in checks(e):
                if pred(e):
                    counts[index[r.name]] += 1
            n += 1
            if n == limit:
                break
        n = src.stats()["n_events"] if limit is None else n
    return n, counts


def naive_run(path: Path) -> int:
    """Every condition on every event, no index, no prefilter (for contrast)."""
    with TraceSource(str(path), batch_size=8192) as src:
        tracker = StateTracker(src.meta)
        ctx = FieldContext(tracker, hostname="bench")
        preds = [compile_filter(parse(c), ctx) for c in CONDITIONS]
        n = 0
        for e in src.events():
            tracker.process(e)
            for p in preds:
                p(e)
            n += 1
    return n


def sysdig_run(path: Path) -> None:
    exe = shutil.which("sysdig")
    if exe is None:
        raise SystemExit("sysdig is not installed")
    either = " or ".join(f"({c})" for c in CONDITIONS)
    subprocess.run([exe, "-r", str(path), either], check=True,
                   stdout=subprocess.DEVNULL)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--events", type=int, default=2_000_000)
    ap.add_argument("--keep", help="capture path to reuse or create")
    ap.add_argument("--profile-events", type=int, default=500_000,
                    help="events to profile (cProfile slows the run several times)")
    args = ap.parse_args()
    tmp = tempfile.TemporaryDirectory()
    path = bench_capture(args.keep, args.events, Path(tmp.name))

    t0 = time.perf_counter()
    n, counts = falcolite_run(path)
    ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    sysdig_run(path)
    ref = time.perf_counter() - t0

    print(f"{len(CONDITIONS)} conditions on {n:,} events; falcolite matches per condition: "
          f"{counts}")
    print(f"  falcolite (state + conditions) {n / ours:12,.0f} events/s ({ours:.2f} s)")
    print(f"  sysdig -r FILE 'c1 or ...'     {n / ref:12,.0f} events/s ({ref:.2f} s)")
    print(f"  falcolite / sysdig             {ref / ours:.3f}")
    t0 = time.perf_counter()
    naive_run(path)
    naive = time.perf_counter() - t0
    print(f"  (every condition on every event, no index or prefilter: "
          f"{n / naive:,.0f} events/s, {ref / naive:.3f} x sysdig)")

    prof = cProfile.Profile()
    prof.runcall(falcolite_run, path, args.profile_events)
    print(f"\nprofile of the falcolite side, first {args.profile_events:,} events, "
          "top 15 by own time:")
    pstats.Stats(prof).sort_stats("tottime").print_stats(15)


if __name__ == "__main__":
    main()
