"""Builds traces/live/*.scap: real captures of this host, written by
`falcolite -w` while the eBPF probe was attached, one per scenario:

* shadow.scap: a copy of `cat` named `flreader` reads /etc/shadow
  ("Read sensitive file untrusted");
* webshell.scap: a copy of `sh` named `nginx` runs `sh -c 'echo ...'`
  ("Shell spawned by a server process");
* bindir.scap: `unshare --mount` mounts a tmpfs over /usr/local/bin in
  its own mount namespace and writes a file there ("Write below binary
  dir"); the host's directory is never touched.

Each live capture is then trimmed to stay small and free of this host's
noise: the events of the scenario's process tree only, and in the header
only the scenario's parent (this script) and grandparent (with their
environment emptied), the users, groups, interfaces and machine.  The children run with a minimal
environment.  Every result is checked: `falcolite -e` must raise the
scenario's alert, and `sysdig -r` (when installed) must read it.

They live in a folder of their own, out of the tests' traces/*.scap: the
probe writes the current event layouts (close with its fd, openat with the
inode, execve with 31 parameters...), more parameters than sysdig 0.29.3
knows, which the sysdig comparisons report as differences.

* demo.scap: all of it at once from a shell named `nginx`, plus a setuid
  chmod and an outbound UDP connect: the capture of README's `make demo`.

Run as root, with live capture available:
    python traces/make_live.py [NAME...]  (rewrites the captures in place)
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from falcolite.events.records import CaptureMeta
from falcolite.events.table import EVENTS
from falcolite.events.writer import ScapWriter
from falcolite.sources.trace import TraceSource

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
READY = "Opening capture with the eBPF probe"
ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}
FORKS = {"clone", "clone3", "fork", "vfork"}


def shadow(tools: Path) -> int:
    reader = tools / "flreader"
    shutil.copy("/bin/cat", reader)
    p = subprocess.Popen([str(reader), "/etc/shadow"], stdout=subprocess.DEVNULL, env=ENV)
    p.wait()
    return p.pid


def webshell(tools: Path) -> int:
    server = tools / "nginx"
    shutil.copy("/bin/sh", server)
    # `; true`: the server shell forks the inner one instead of exec'ing it
    p = subprocess.Popen([str(server), "-c", "sh -c 'echo pwned'; true"],
                         stdout=subprocess.DEVNULL, env=ENV)
    p.wait()
    return p.pid


def bindir(tools: Path) -> int:
    script = "mount -t tmpfs none /usr/local/bin && echo x > /usr/local/bin/.backdoor"
    p = subprocess.Popen(["unshare", "--mount", "--propagation", "private", "sh", "-c",
                          script], env=ENV)
    p.wait()
    return p.pid


def demo(tools: Path) -> int:
    """README's demo: a web server's shell reads /etc/shadow, plants a setuid
    file below a binary dir (a tmpfs in its own mount namespace) and sends a
    UDP datagram out through bash's /dev/udp (a connect that needs no peer)."""
    server = tools / "nginx"
    shutil.copy("/bin/sh", server)
    plant = ("mount -t tmpfs none /usr/local/bin && echo x > /usr/local/bin/.backdoor"
             " && chmod u+s /usr/local/bin/.backdoor")
    script = (f"cat /etc/shadow > /dev/null; "
              f"unshare --mount --propagation private sh -c '{plant}'; "
              f"bash -c 'echo x > /dev/udp/198.51.100.7/53'; true")
    p = subprocess.Popen([str(server), "-c", script], stdout=subprocess.DEVNULL, env=ENV)
    p.wait()
    return p.pid


Expected = list[tuple[str, dict[str, object]]]  # (rule, output fields it must have)

SCENARIOS: dict[str, tuple[Callable[[Path], int], Expected]] = {
    "shadow": (shadow, [("Read sensitive file untrusted",
                         {"proc.name": "flreader", "fd.name": "/etc/shadow",
                          "proc.cmdline": "flreader /etc/shadow"})]),
    "webshell": (webshell, [("Shell spawned by a server process",
                             {"proc.name": "sh", "proc.pname": "nginx",
                              "proc.cmdline": "sh -c echo pwned"})]),
    "bindir": (bindir, [("Write below binary dir", {"fd.name": "/usr/local/bin/.backdoor"})]),
    "demo": (demo, [
        ("Read sensitive file untrusted", {"proc.name": "cat", "proc.pname": "nginx"}),
        # unshare execs the planting shell: a second shell under nginx
        ("Shell spawned by a server process", {"proc.name": "sh", "proc.pname": "nginx"}),
        ("Shell spawned by a server process", {"proc.name": "bash", "proc.pname": "nginx"}),
        ("Write below binary dir", {"fd.name": "/usr/local/bin/.backdoor"}),
        ("Set setuid or setgid bit", {"evt.arg.filename": "/usr/local/bin/.backdoor"}),
        ("Outbound connection from shell or network tool",
         {"proc.cmdline": "bash -c echo x > /dev/udp/198.51.100.7/53"}),
    ]),
}


def capture(tmp: Path, scenario: Callable[[Path], int]) -> tuple[Path, int]:
    """The scenario run under `falcolite -w`: the raw capture and the root pid."""
    raw = tmp / "raw.scap"
    err = tmp / "agent.err"
    conf = tmp / "falco.yaml"
    conf.write_text(json.dumps({"log_stderr": True, "log_syslog": False,
                                "stdout_output": {"enabled": True}}))
    with err.open("wb") as fe:
        agent = subprocess.Popen([sys.executable, "-m", "falcolite", "-c", str(conf),
                                  "-w", str(raw)], stdout=subprocess.DEVNULL, stderr=fe,
                                 cwd=ROOT)
    try:
        end = time.monotonic() + 30
        while READY not in err.read_text(errors="replace"):
            if agent.poll() is not None or time.monotonic() > end:
                raise SystemExit(f"the agent did not start:\n{err.read_text()}")
            time.sleep(0.05)
        time.sleep(0.5)
        tools = tmp / "tools"
        tools.mkdir(exist_ok=True)
        root = scenario(tools)
        time.sleep(0.3)
    finally:
        agent.send_signal(signal.SIGINT)
        agent.wait(30)
    return raw, root


def tree_of(raw: Path, root: int) -> set[int]:
    """The tids of `root` and of everything it forked, from the fork events."""
    tree = {root}
    while True:
        before = len(tree)
        with TraceSource(str(raw)) as src:
            for batch in src.batches():
                for e in batch.events():
                    if not e.type & 1 or EVENTS[e.type].name not in FORKS:
                        continue
                    res = e.param(0)
                    if e.tid in tree and isinstance(res, int) and res > 0:
                        tree.add(res)
                    elif res == 0 and e.param_by_name("ptid") in tree:
                        tree.add(e.tid)
        if len(tree) == before:
            return tree


def trimmed_meta(meta: CaptureMeta, root: int) -> CaptureMeta:
    """Only the root's parent (this script) and grandparent, without their
    environment or open files; the grandparent without its arguments.
    Nothing of the processes further up (the session's machinery) is kept."""
    by_tid = {t.tid: t for t in meta.threads}
    tid = next((t.ptid for t in meta.threads if t.tid == root), os.getpid())
    keep: list = []
    while tid in by_tid and len(keep) < 2:
        th = by_tid[tid]
        keep.append(dataclasses.replace(th, env=b"", args=th.args if not keep else b""))
        tid = th.ptid
    keep.reverse()
    return dataclasses.replace(meta, threads=keep, fds=[])


def trim(raw: Path, root: int, out: Path) -> int:
    tree = tree_of(raw, root)
    n = 0
    with TraceSource(str(raw)) as src:
        w = ScapWriter(str(out))
        w.write_header(trimmed_meta(src.meta, root))
        for batch in src.batches():
            for e in batch.events():
                if e.tid in tree:
                    w.write_encoded(e.buf[e.off:e.off + e.length], e.cpu)
                    n += 1
        w.close()
    return n


def alert_problems(path: Path, expected: Expected) -> list[str]:
    """What is wrong with the alerts `falcolite -e path` raises: each expected
    one exactly once, nothing else."""
    proc = subprocess.run([sys.executable, "-m", "falcolite", "-e", str(path), "-o",
                           "json_output=true"], capture_output=True, text=True, cwd=ROOT,
                          check=False)
    if proc.returncode != 0:
        return [f"exit code {proc.returncode}: {proc.stderr}"]
    alerts = [json.loads(ln) for ln in proc.stdout.splitlines() if ln.startswith("{")]
    problems = []
    for rule, fields in expected:
        hits = [a for a in alerts if a["rule"] == rule and
                all(a["output_fields"].get(k) == v for k, v in fields.items())]
        if len(hits) != 1:
            problems.append(f"{len(hits)} {rule!r} alerts with {fields}")
    if len(alerts) != len(expected):
        problems.append(f"{len(alerts)} alerts, expected {len(expected)}")
    return problems + [a["output"] for a in alerts] if problems else []


def check(path: Path, expected: Expected) -> None:
    problems = alert_problems(path, expected)
    if problems:
        raise SystemExit(f"{path.name}: " + "\n".join(problems))
    if shutil.which("sysdig"):
        sd = subprocess.run(["sysdig", "-r", str(path)], capture_output=True, text=True,
                            check=False)
        if sd.returncode != 0 or not sd.stdout.strip():
            raise SystemExit(f"{path.name}: sysdig -r failed:\n{sd.stderr}")


def main() -> None:
    if os.geteuid() != 0:
        raise SystemExit("run as root: the captures are made live")
    names = sys.argv[1:] or list(SCENARIOS)
    for name in names:
        scenario, expected = SCENARIOS[name]
        with tempfile.TemporaryDirectory(prefix="fl-make-live-") as d:
            raw, root = capture(Path(d), scenario)
            out = HERE / "live" / f"{name}.scap"
            out.parent.mkdir(exist_ok=True)
            n = trim(raw, root, out)
        check(out, expected)
        print(f"{out.name}: {n} events, {out.stat().st_size} bytes, "
              f"{len(expected)} alerts: {', '.join(rule for rule, _ in expected)}")


if __name__ == "__main__":
    main()
