"""Differential test of the condition language: for every capture and every
condition of tests/conditions.txt, the events falcolite matches are the
events sysdig 0.29.3 matches (over the events sysdig shows without -D).

falcolite evaluates the whole corpus in one pass per capture; sysdig runs
once per condition per capture (about 20 ms each), two at a time.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import all_traces
from filter_compare import our_matches, shown_by_sysdig, sysdig_matches
from oracle import require_sysdig

CORPUS = Path(__file__).with_name("conditions.txt")

# Differences kept on purpose: the condition, the condition sysdig must match
# the same events with instead, and why.
KNOWN_DIFFERENCES: dict[str, tuple[str, str]] = {
    "evt.buflen exists": (
        "evt.buflen exists or (evt.type in (read, ioctl) and evt.dir=< and fd.type exists "
        "and evt.rawres>=0)",
        "sysdig 0.29.3's filter sees no evt.buflen on read and ioctl exits although its -p "
        "prints one; falcolite has the value in both"),
    "evt.buflen>=832": (
        "evt.buflen>=832 or (evt.type in (read, ioctl) and evt.dir=< and fd.type exists "
        "and evt.rawres>=832)",
        "as above"),
    "not not proc.name=cat": (
        "proc.name=cat",
        "sysdig 0.29.3's own parser folds consecutive `not`s into one; Falco's "
        "grammar (falco-compat.md 6.2, not_expr := \"not\" not_expr) nests them"),
    'fd.name="\\/etc/hosts"': (
        'fd.name="/etc/hosts"',
        "falcolite reads the escape `\\/` as `/` as Falco 0.31+ does (lexer.py); "
        "sysdig 0.29.3 keeps something else and matches nothing"),
    'evt.buffer endswith "\\n"': (
        'evt.buffer endswith "\\x0a"',
        "`\\n` is a newline in Falco's grammar (falco-compat.md 6.1); sysdig 0.29.3's "
        "parser does not read it so and spells a newline `\\x0a` (which Falco lacks)"),
}


def load_corpus(path: Path = CORPUS) -> list[str]:
    """The conditions of a corpus file: one per line, `#` lines are comments."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        text = line.strip()
        if text and not text.startswith("#"):
            out.append(text)
    return out


def ours_by_condition(path: Path, conditions: list[str]) -> dict[str, list[int] | str]:
    """Each condition's matches in one pass; if that pass fails, each condition
    alone, so a failure is charged to the condition that caused it."""
    try:
        return dict(zip(conditions, our_matches(path, conditions), strict=True))
    except Exception:  # attributed per condition below
        pass
    out: dict[str, list[int] | str] = {}
    for c in conditions:
        try:
            out[c] = our_matches(path, [c])[0]
        except Exception as err:  # reported as a difference
            out[c] = f"{type(err).__name__}: {err}"
    return out


def describe(cond: str, ours: list[int] | str, ref: list[int]) -> str:
    if isinstance(ours, str):
        return f"{cond!r}: falcolite fails ({ours}); sysdig matches {len(ref)} events"
    extra = sorted(set(ours) - set(ref))
    missing = sorted(set(ref) - set(ours))
    return (f"{cond!r}: falcolite {len(ours)} events, sysdig {len(ref)}; "
            f"only falcolite: {extra[:12]}{' ...' if len(extra) > 12 else ''}; "
            f"only sysdig: {missing[:12]}{' ...' if len(missing) > 12 else ''}")


def test_corpus_size() -> None:
    conds = load_corpus()
    assert len(conds) >= 150
    assert len(set(conds)) == len(conds), "duplicate conditions in conditions.txt"
    missing = set(KNOWN_DIFFERENCES) - set(conds)
    assert not missing, f"KNOWN_DIFFERENCES names conditions not in the corpus: {missing}"


@pytest.mark.parametrize("path", all_traces())
def test_conditions_match_like_sysdig(path: Path) -> None:
    require_sysdig()
    conds = load_corpus()
    shown = shown_by_sysdig(path)
    ours = ours_by_condition(path, conds)
    if not shown:
        # sysdig shows nothing (only internal events): nothing to compare, but
        # falcolite must still evaluate every condition without failing
        failed = [describe(c, r, []) for c, r in ours.items() if isinstance(r, str)]
        assert not failed, "\n".join(failed)
        return
    oracle = [KNOWN_DIFFERENCES.get(c, (c, ""))[0] for c in conds]
    with ThreadPoolExecutor(max_workers=2) as pool:
        refs = list(pool.map(lambda c: sysdig_matches(path, c), oracle))
    problems = []
    for cond, ref in zip(conds, refs, strict=True):
        got = ours[cond]
        if not isinstance(got, str):
            got = [n for n in got if n in shown]
        if got != ref:
            problems.append(describe(cond, got, ref))
    if problems:
        pytest.fail(f"{len(problems)} of {len(conds)} conditions match other events than "
                    f"sysdig on {path.name}:\n" + "\n".join(problems), pytrace=False)


# IPv4 ordering compares the raw 32-bit value (falco-compat.md 6.6); sysdig
# refuses it at run time once it meets an IPv6 socket, so it is checked only
# on the project's IPv4 capture.  "1.0.0.200" sorts after 203.0.113.7 that way
# but before it in address order.
IPV4_ORDER = ['fd.sip<"1.0.0.200"', 'fd.sip>"10.0.0.5"', 'fd.cip<"203.0.113.7"',
              'fd.cip>="10.0.0.5"', 'fd.sip<="203.0.113.7"', 'fd.rip>"1.0.0.200"']


def test_ipv4_ordering_like_sysdig() -> None:
    require_sysdig()
    path = Path(__file__).resolve().parent.parent / "traces" / "demo-webshell.scap"
    if not path.exists():
        pytest.skip(f"{path} is absent")
    shown = shown_by_sysdig(path)
    ours = our_matches(path, IPV4_ORDER)
    problems = []
    for cond, got in zip(IPV4_ORDER, ours, strict=True):
        got = [n for n in got if n in shown]
        ref = sysdig_matches(path, cond)
        if got != ref:
            problems.append(describe(cond, got, ref))
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)
