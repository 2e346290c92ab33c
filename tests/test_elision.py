"""Open/close pairs dropped before Python (cdriver/elision.c) and the rule
bound that says which (falcolite/rules/pathbound.py).

The bound is checked against what the rules really do: on every capture,
for Falco's rules files, the default rules and the condition corpus, no
open or close exit that a rule matches may fit the dropping test of the C
code.  The C matcher itself is compared with a plain Python model on
random clause sets and paths."""

from __future__ import annotations

import random
import struct
from pathlib import Path

import pytest
import yaml
from conftest import SHARED, all_traces
from falcolite._cdriver import ffi, lib
from test_filters_vs_sysdig import load_corpus
from tracked import tracked

from falcolite.events.table import CODES_BY_NAME, PARAM_INDEX
from falcolite.events.writer import encode_event
from falcolite.filter import parse
from falcolite.filter.fields import FieldContext
from falcolite.filter.specialize import specialize
from falcolite.rules.loader import RulesLoader
from falcolite.rules.pathbound import (
    CLOSE_CODES,
    NEED_READ,
    NEED_WRITE,
    OPEN_CODES,
    bound,
    minimal,
    open_bound,
)
from falcolite.rules.ruleset import Ruleset
from falcolite.state.tracker import StateTracker

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_RULES = ROOT / "falcolite" / "rules" / "falcolite_rules.yaml"
OPEN_X = CODES_BY_NAME["open"][1]
OPENAT_X = CODES_BY_NAME["openat"][-1]
CLOSE_X = CODES_BY_NAME["close"][1]
R, W = NEED_READ, NEED_WRITE


def _bound(condition: str, code: int = OPENAT_X) -> list[tuple[str, int]] | None:
    b = bound(specialize(parse(condition), code))
    return None if b is None else minimal(b)


@pytest.mark.parametrize(("condition", "expected"), [
    ("fd.name = /etc/shadow", [("/etc/shadow", 0)]),
    ("fd.name in (/a, /b/c) and proc.name = cat", [("/a", 0), ("/b/c", 0)]),
    ("fd.directory in (/etc, /usr/bin/)", [("/etc/", 0), ("/usr/bin/", 0)]),
    ("fd.directory startswith /usr", [("/usr", 0)]),
    ("fd.name glob '/proc/*/environ'", [("/proc/", 0)]),
    ("fd.name glob '/a\\\\*b*'", [("/a", 0)]),  # the value is /a\*b*
    ("fd.name pmatch (/root, /home)", [("/home", 0), ("/root", 0)]),
    ("evt.is_open_write=true and fd.name startswith /", [("/", W)]),
    ("evt.is_open_read=true and evt.is_open_write=true", [("", R | W)]),
    # the narrower side of an `and` wins, per clause
    ("fd.name startswith /etc and fd.name in (/etc/a, /tmp/b)", [("/etc/a", 0)]),
    ("fd.name startswith /etc and fd.name startswith /tmp", []),
    ("(evt.is_open_write=true and fd.name startswith /) or fd.name = /etc/shadow",
     [("/", W), ("/etc/shadow", 0)]),
    # a path the reader drops never contains "./" or "//"
    ("fd.name contains '../'", []),
    ("fd.nameraw contains './' and proc.name = x", []),
    # what it cannot reason about bounds nothing
    ("not fd.name startswith /etc", None),
    ("fd.name endswith .log", None),
    ("fd.name contains log", None),
    ("fd.name startswith /etc or proc.name = cat", None),
    ("evt.is_open_write=false", None),
    ("fd.filename = shadow", None),
    ("proc.name = cat", None),
    # evt.type folds first: the other call's branch goes away
    ("(evt.type = openat and fd.name = /x) or (evt.type = execve and proc.name = y)",
     [("/x", 0)]),
])
def test_bound(condition: str, expected: list | None) -> None:
    assert _bound(condition) == expected


def test_bound_of_the_default_rules() -> None:
    loader = RulesLoader(FieldContext(StateTracker()))
    loader.load_file(str(DEFAULT_RULES))
    clauses = open_bound(Ruleset(loader.compiled))
    assert clauses is not None
    assert ("/etc/shadow", R) in clauses and ("/etc/", W) in clauses
    assert all(p.startswith("/") for p, _ in clauses)  # a read of /tmp/x fits none


def test_a_rule_on_any_open_turns_dropping_off() -> None:
    loader = RulesLoader(FieldContext(StateTracker()))
    loader.load_file(str(DEFAULT_RULES))
    loader.load_text(yaml.safe_dump([{
        "rule": "any open by cat", "desc": "d", "output": "o", "priority": "INFO",
        "condition": "evt.type = openat and proc.name = cat"}]))
    assert open_bound(Ruleset(loader.compiled)) is None


# ------------------------------------------------------------ the C side

class Elision:
    """The C matcher, fed the clauses as the live source feeds them."""

    def __init__(self, clauses: list[tuple[str, int]] | None) -> None:
        self.e = ffi.new("fl_elision *")
        self.err = ffi.new("char[]", lib.FL_ERRLEN)
        blob = b"".join(bytes((n,)) + p.encode("utf-8", "surrogateescape") + b"\0"
                        for p, n in clauses or ())
        assert lib.fl_elision_set(self.e, clauses is not None, blob, len(blob),
                                  self.err) == lib.FL_OK

    def __del__(self) -> None:
        lib.fl_elision_free(self.e)

    def open(self, record: bytes) -> int | None:
        """The fd the open may be dropped with, or None."""
        fd = ffi.new("int64_t *")
        return fd[0] if lib.fl_elision_open(self.e, record, fd) else None


def _openat(path: bytes, flags: int = 1, res: int = 3, tid: int = 7) -> bytes:
    q = struct.Struct("<q").pack
    return encode_event(OPENAT_X, 1, tid, [
        q(res), q(-100), path + b"\0", struct.pack("<I", flags), struct.pack("<I", 0),
        struct.pack("<I", 0), struct.pack("<Q", 0)])


def _close(fd: int, res: int = 0) -> bytes:
    q = struct.Struct("<q").pack
    return encode_event(CLOSE_X, 1, 7, [q(res), q(fd)])


def test_c_codes_are_the_tables() -> None:
    # elision.c names these numbers itself
    assert sorted(OPEN_CODES) == [3, 59, 307, 327] and CLOSE_CODES == (5,)
    assert PARAM_INDEX[OPENAT_X]["name"] == 2 and PARAM_INDEX[OPENAT_X]["flags"] == 3
    assert PARAM_INDEX[OPEN_X]["name"] == 1 and PARAM_INDEX[OPEN_X]["flags"] == 2


@pytest.mark.parametrize(("path", "plain"), [
    (b"/tmp/x", True), (b"/", True), (b"/a.b/c.", True), (b"/a/.hidden", True),
    (b"tmp/x", False), (b"", False), (b"/tmp//x", False), (b"/tmp/./x", False),
    (b"/tmp/../etc/shadow", False), (b"/tmp/x/", False), (b"/tmp/.", False),
    (b"/tmp/..", False), (b"/a../b", False), (b"/a\0b", False),
])
def test_only_plain_paths_drop(path: bytes, plain: bool) -> None:
    e = Elision([("/etc/", 0)])
    assert (e.open(_openat(path)) == 3) is plain


def test_what_is_dropped() -> None:
    e = Elision([("/etc/", W), ("/etc/shadow", R)])
    assert e.open(_openat(b"/etc/passwd", flags=1)) == 3  # a read below /etc
    assert e.open(_openat(b"/etc/passwd", flags=2)) is None  # a write
    assert e.open(_openat(b"/etc/passwd", flags=3)) is None
    assert e.open(_openat(b"/etc/shadow", flags=1)) is None
    assert e.open(_openat(b"/etc/shadowy", flags=1)) is None  # a prefix, not a name
    assert e.open(_openat(b"/tmp/x", flags=3, res=9)) == 9
    assert e.open(_openat(b"/tmp/x", res=-2)) is None  # failed: nothing to pair
    assert Elision(None).open(_openat(b"/tmp/x")) is None  # off
    assert Elision([]).open(_openat(b"/tmp/x")) == 3  # no rule on opens at all
    assert Elision([("", 0)]).open(_openat(b"/tmp/x")) is None
    assert lib.fl_elision_closes(_close(3), 3)
    assert not lib.fl_elision_closes(_close(3), 4)
    assert not lib.fl_elision_closes(_close(3, res=-9), 3)
    assert not lib.fl_elision_closes(_openat(b"/x"), 3)


def test_malformed_clauses_are_refused() -> None:
    e = ffi.new("fl_elision *")
    err = ffi.new("char[]", lib.FL_ERRLEN)
    assert lib.fl_elision_set(e, 1, b"\x05/x\0", 4, err) == lib.FL_ERR
    assert b"access bits 5" in ffi.string(err)
    assert lib.fl_elision_set(e, 1, b"\x00/x", 3, err) == lib.FL_ERR
    assert not e.on
    lib.fl_elision_free(e)


def test_matcher_agrees_with_a_plain_model() -> None:
    rng = random.Random(5)
    alphabet = "/ab.c"
    for _ in range(300):
        clauses = [("/" + "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 5))),
                    rng.randint(0, 3)) for _ in range(rng.randint(0, 12))]
        e = Elision(clauses)
        for _ in range(40):
            path = "/" + "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 7)))
            access = rng.randint(1, 3)
            plain = ("//" not in path and "./" not in path and
                     not (len(path) > 1 and path.endswith("/")) and
                     not path.endswith(("/.", "..")))
            fits = any(path.startswith(p) and n & ~access == 0 for p, n in clauses)
            want = 3 if plain and not fits else None
            assert e.open(_openat(path.encode(), flags=access)) == want, (clauses, path)


# ------------------------------------------------------- against the rules

def _rules_files() -> list:
    falco = sorted((SHARED / "falco-rules").glob("*.yaml")) if SHARED.exists() else []
    return [pytest.param(p, id=p.name) for p in [DEFAULT_RULES, *falco]] + [
        pytest.param(None, id="condition-corpus")]


def _load(ctx: FieldContext, path: Path | None) -> list:
    loader = RulesLoader(ctx, all_events=True)
    if path is None:
        loader.load_text(yaml.safe_dump([
            {"rule": f"c{i}", "desc": "d", "condition": c, "output": "o", "priority": "INFO"}
            for i, c in enumerate(load_corpus())]))
    else:
        loader.load_file(str(path))
    return loader.compiled


def _check(trace: Path, rules_path: Path | None) -> int:
    """Per rule: with its bound as the only clauses, no open the rule matches
    may be droppable, and no close it matches may belong to one.  Returns
    how many matches were checked."""
    checked = 0
    with tracked(trace) as (ctx, events):
        rules = _load(ctx, rules_path)
        matchers: dict[tuple[int, int], Elision | None] = {}
        for e in events:
            if e.type not in OPEN_CODES + CLOSE_CODES:
                continue
            for i, r in enumerate(rules):
                key = (i, e.type)
                if key not in matchers:
                    b = bound(specialize(r.condition, e.type))
                    matchers[key] = None if b is None else Elision(minimal(b))
                m = matchers[key]
                if m is None or not r.predicate(e):
                    continue
                if e.type in OPEN_CODES:
                    length = struct.unpack_from("<I", e.buf, e.off + 16)[0]
                    record = bytes(e.buf[e.off:e.off + length])
                elif e.fdinfo is not None:
                    # the close pairs with an open of this name and access
                    name = e.fdinfo.name.encode("utf-8", "surrogateescape")
                    record = _openat(name, flags=e.fdinfo.open_flags & 3)
                else:
                    continue
                assert m.open(record) is None, (r.name, e.num, r.expanded)
                checked += 1
    return checked


@pytest.mark.parametrize("rules_path", _rules_files())
@pytest.mark.parametrize("trace", all_traces(live=True))
def test_no_matched_open_or_close_would_be_dropped(trace: Path, rules_path: Path | None
                                                   ) -> None:
    _check(trace, rules_path)


def test_the_soundness_check_sees_matches() -> None:
    """The demo capture reads /etc/shadow and writes below /usr/local/bin:
    matched opens the check above has to look at."""
    assert _check(ROOT / "traces" / "live" / "demo.scap", DEFAULT_RULES) >= 2
