"""Live capture benchmark: what the agent costs a syscall-heavy workload.

Two workloads, each a tiny C program compiled with gcc into a temp dir:

* open: openat + close of a file, N times (syscalls the default rules watch:
  the probe sends them and the agent reads them);
* rw: write to /dev/null + read from /dev/zero, N times (syscalls no default
  rule wants: the probe drops them after a table lookup).

Each runs once alone and once with `falcolite` attached (default rules, JSON
alerts to /dev/null, -v); printed: ns per iteration both ways, the slowdown
ratio, the events the probe saw (Driver Events), the drops (Driver Drops),
the events delivered to the agent (seen - dropped) per second of workload,
the open/close pairs the reader dropped before Python because no rule can
match them, and the agent's CPU time.  One run each;
needs root and gcc.

    python bench/live.py [--iterations N] [--ring-bytes B] [--rules FILE]...
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
READY = "Opening capture with the eBPF probe"

WORKLOAD_C = r"""
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv) {
    if (argc < 4) return 2;
    long n = atol(argv[2]);
    char buf[1] = {'x'};
    long long t0 = now_ns();
    if (strcmp(argv[1], "open") == 0) {
        for (long i = 0; i < n; i++) {
            int fd = open(argv[3], O_RDONLY);
            if (fd < 0) return 1;
            close(fd);
        }
    } else {
        int w = open("/dev/null", O_WRONLY), r = open("/dev/zero", O_RDONLY);
        if (w < 0 || r < 0) return 1;
        for (long i = 0; i < n; i++) {
            if (write(w, buf, 1) != 1 || read(r, buf, 1) != 1) return 1;
        }
    }
    long long t1 = now_ns();
    printf("%lld %.1f\n", t1 - t0, (double)(t1 - t0) / n);
    return 0;
}
"""


def run_workload(exe: Path, kind: str, n: int, target: Path) -> float:
    """Seconds the workload took (measured inside it)."""
    out = subprocess.run([str(exe), kind, str(n), str(target)], capture_output=True,
                         text=True, check=True).stdout.split()
    return int(out[0]) / 1e9


def start_agent(tmp: Path, ring_bytes: int, rules: list[str]) -> tuple[subprocess.Popen, Path]:
    conf = tmp / "falco.yaml"
    conf.write_text(json.dumps({
        "log_stderr": True, "log_syslog": False, "json_output": True,
        "file_output": {"enabled": True, "filename": "/dev/null"},
        "live": {"ring_bytes": ring_bytes}}))
    err = tmp / "agent.err"
    with err.open("wb") as fe:
        args = [a for r in rules for a in ("-r", r)]
        proc = subprocess.Popen([sys.executable, "-m", "falcolite", "-c", str(conf), "-v", *args],
                                stdout=subprocess.DEVNULL, stderr=fe, cwd=ROOT)
    end = time.monotonic() + 30
    while READY not in err.read_text(errors="replace"):
        if proc.poll() is not None or time.monotonic() > end:
            proc.kill()
            raise SystemExit(f"agent did not start:\n{err.read_text()}")
        time.sleep(0.05)
    time.sleep(0.5)
    return proc, err


def measure(exe: Path, tmp: Path, kind: str, n: int, ring_bytes: int,
            rules: list[str]) -> dict[str, float]:
    target = tmp / "target"
    target.write_text("x")
    alone = run_workload(exe, kind, n, target)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc, err = start_agent(tmp, ring_bytes, rules)
    try:
        watched = run_workload(exe, kind, n, target)
        time.sleep(0.2)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(60)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    text = err.read_text(errors="replace")
    m = re.search(r"^Driver Events:(\d+)\nDriver Drops:(\d+)$", text, re.M)
    if m is None:
        raise SystemExit(f"no -v counters from the agent:\n{text}")
    pairs = re.search(r"^Open/close pairs no rule can match, dropped before the rules: (\d+)$",
                      text, re.M)
    # the workload's own CPU is in the delta too; it is small next to the agent's
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return {"alone": alone, "watched": watched, "events": int(m[1]), "drops": int(m[2]),
            "pairs": int(pairs[1]) if pairs else 0, "cpu": cpu}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iterations", type=int, default=500_000)
    ap.add_argument("--ring-bytes", type=int, default=8 << 20)
    ap.add_argument("--rules", action="append", default=[],
                    help="a rules file instead of the default rules (repeatable)")
    args = ap.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("needs root (the agent loads the eBPF probe)")
    gcc = shutil.which("gcc") or shutil.which("cc")
    if gcc is None:
        raise SystemExit("needs gcc")
    with tempfile.TemporaryDirectory(prefix="fl-bench-live-") as d:
        tmp = Path(d)
        (tmp / "w.c").write_text(WORKLOAD_C)
        exe = tmp / "w"
        subprocess.run([gcc, "-O2", "-o", str(exe), str(tmp / "w.c")], check=True)
        n = args.iterations
        which = ", ".join(args.rules) or "default rules"
        print(f"{n} iterations per workload, ring {args.ring_bytes} bytes, {which}")
        print(f"{'workload':<10}{'alone ns/it':>12}{'agent ns/it':>12}{'slowdown':>10}"
              f"{'seen':>10}{'drops':>10}{'delivered/s':>12}{'pairs cut':>10}"
              f"{'agent cpu s':>12}")
        for kind in ("open", "rw"):
            r = measure(exe, tmp, kind, n, args.ring_bytes,
                        [str(Path(p).resolve()) for p in args.rules])
            rate = (r["events"] - r["drops"]) / r["watched"]
            print(f"{kind:<10}{r['alone'] / n * 1e9:>12.0f}{r['watched'] / n * 1e9:>12.0f}"
                  f"{r['watched'] / r['alone']:>9.2f}x{r['events']:>10}{r['drops']:>10}"
                  f"{rate:>12.0f}{r['pairs']:>10}{r['cpu']:>12.2f}")


if __name__ == "__main__":
    main()
