"""The ruleset: which rules are enabled (-D, -T, -t, `enabled`), indexed by
event type, and the first matching rule of an event."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from ..events import table as t
from ..events.event import Event
from ..events.table import EVENT_MAX, EVENTS
from .evttypes import codes_for, ignored_names
from .loader import CompiledRule


class Ruleset:
    def __init__(self, rules: list[CompiledRule], all_events: bool = False) -> None:
        self.rules = rules
        self.all_events = all_events  # -A: also the events Falco normally ignores
        self.enabled: list[CompiledRule] = [r for r in rules if r.rule.enabled]
        self._by_code: list[list[CompiledRule]] = []
        self._by_sc: dict[int, list[CompiledRule]] = {}
        self._reindex()

    # ---------------------------------------------------------- selection
    def disable_matching(self, pattern: str) -> None:
        """-D: rules whose whole name matches the regex."""
        rx = re.compile(pattern)
        self.enabled = [r for r in self.enabled if not rx.fullmatch(r.name)]
        self._reindex()

    def disable_tags(self, tags: Iterable[str]) -> None:
        tags = set(tags)
        self.enabled = [r for r in self.enabled if not tags & set(r.rule.tags)]
        self._reindex()

    def enable_only_tags(self, tags: Iterable[str]) -> None:
        """-t: only rules carrying the tags, grouped by tag in sorted order
        (a rule with two tags is listed twice; harmless) [quirk]."""
        out: list[CompiledRule] = []
        for tag in sorted(set(tags)):
            out.extend(r for r in self.rules if tag in r.rule.tags)
        self.enabled = out
        self._reindex()

    # ------------------------------------------------------------ index
    def _reindex(self) -> None:
        by_code: list[list[CompiledRule]] = [[] for _ in range(EVENT_MAX)]
        by_sc: dict[int, list[CompiledRule]] = {}
        ignored = set() if self.all_events else ignored_names("event")
        for r in self.enabled:
            if r.evttypes is None:
                for code in range(EVENT_MAX):
                    if EVENTS[code].name not in ignored:
                        by_code[code].append(r)
                by_sc.setdefault(-1, []).append(r)
                continue
            for name in sorted(r.evttypes):
                codes, scs = codes_for(name)
                for code in codes:
                    if name not in ignored and r not in by_code[code]:
                        by_code[code].append(r)
                for sc in scs:
                    lst = by_sc.setdefault(sc, [])
                    if r not in lst:
                        lst.append(r)
        # keep load order within each type
        order = {id(r): i for i, r in enumerate(self.enabled)}
        for lst in by_code:
            lst.sort(key=lambda r: order[id(r)])
        for lst in by_sc.values():
            lst.sort(key=lambda r: order[id(r)])
        self._by_code = by_code
        self._by_sc = by_sc
        self._checks: list[list[tuple[CompiledRule, Callable]] | None] = [None] * EVENT_MAX

    def checks(self, e: Event) -> list[tuple[CompiledRule, Callable]]:
        """The rules to try on `e`, in load order, each with its predicate
        specialized to the event's type (built on the type's first event)."""
        code = e.type
        if code in (t.GENERIC_E, t.GENERIC_X):
            return [(r, r.predicate) for r in self.candidates(e)]
        checks = self._checks[code]
        if checks is None:
            checks = self._checks[code] = [
                (r, pred) for r in self._by_code[code]
                if (pred := r.for_type(code)) is not None]
        return checks

    def rules_for_code(self, code: int) -> list[CompiledRule]:
        """The enabled rules that can match events of type `code`."""
        return self._by_code[code]

    def candidates(self, e: Event) -> list[CompiledRule]:
        if e.type in (t.GENERIC_E, t.GENERIC_X):
            sc = e.param(0)
            specific = self._by_sc.get(sc, []) if isinstance(sc, int) else []
            return specific or self._by_sc.get(-1, [])
        return self._by_code[e.type]

    def match(self, e: Event) -> CompiledRule | None:
        """The first enabled rule (in load order) whose condition holds."""
        for r, pred in self.checks(e):
            if pred(e):
                return r
        return None

    def interesting_syscalls(self) -> set[int] | None:
        """PPM_SC codes of generic events some rule can match (None: all)."""
        if -1 in self._by_sc:
            return None
        return set(self._by_sc)

    def interesting_codes(self) -> set[int] | None:
        """Event types some enabled rule can match (None: all of them)."""
        codes: set[int] = set()
        for code in range(EVENT_MAX):
            if self._by_code[code]:
                codes.add(code)
        if self._by_sc:
            codes.update((t.GENERIC_E, t.GENERIC_X))
        return codes
