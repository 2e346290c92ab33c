"""Differential test: every event of every capture decodes exactly as the
`sysdig` package decodes it (headers and every parameter)."""

from __future__ import annotations

from conftest import all_traces
from sysdig_compare import compare


def check(path) -> None:
    n_events, _n_params, problems = compare(path)
    assert n_events > 0
    assert not problems, f"{len(problems)} differences, first ones:\n" + "\n".join(problems[:30])


def test_real_captures_decode_as_sysdig(trace) -> None:
    check(trace)


def test_crafted_v2_decodes_as_sysdig(crafted) -> None:
    check(crafted["v2"])


def test_crafted_v1_decodes_as_sysdig(crafted) -> None:
    check(crafted["v1"])


def test_crafted_gzip_decodes_as_sysdig(crafted) -> None:
    check(crafted["v2.gz"])


def pytest_generate_tests(metafunc) -> None:
    if "trace" in metafunc.fixturenames:
        metafunc.parametrize("trace", all_traces(live=True))
