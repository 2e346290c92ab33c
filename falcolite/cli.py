"""The falcolite command line."""

from __future__ import annotations

import getopt
import sys
import time

from .sources.trace import CaptureError, TraceSource

USAGE = """Usage: falcolite [options]

Options:
 -e <file>          Read the events from <file> (a scap capture, gzip or not).
 --list-events      With -e: print every event, one per line:
                    evt.num evt.time evt.cpu thread.tid evt.dir evt.type evt.args
 -h, --help         Print this page
"""


def evt_time(ts: int) -> str:
    """`%evt.time`: local wall-clock time of the event, with nanoseconds."""
    return time.strftime("%H:%M:%S", time.localtime(ts // 1_000_000_000)) + \
        f".{ts % 1_000_000_000:09d}"


def list_events(path: str) -> int:
    out = sys.stdout
    try:
        with TraceSource(path) as src:
            for batch in src.batches():
                lines = []
                for e in batch.events():
                    lines.append(f"{e.num} {evt_time(e.ts)} {e.cpu} {e.tid} {e.info.dir} "
                                 f"{e.type_name()} {e.args_text()}\n")
                out.write("".join(lines))
    except CaptureError as err:
        out.flush()
        sys.stderr.write(f"Error reading capture: {err}\n")
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    try:
        opts, _rest = getopt.gnu_getopt(args, "he:", ["help", "list-events"])
    except getopt.GetoptError as err:
        sys.stderr.write(f"falcolite: {err}\n")
        return 1
    trace = None
    listing = False
    for opt, val in opts:
        if opt in ("-h", "--help"):
            sys.stdout.write(USAGE)
            return 0
        if opt == "-e":
            trace = val
        elif opt == "--list-events":
            listing = True
    if listing:
        if trace is None:
            sys.stderr.write("falcolite: --list-events needs -e <file>\n")
            return 1
        return list_events(trace)
    sys.stdout.write(USAGE)
    return 1
