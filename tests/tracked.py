"""A capture replayed through the state tracker, as the agent replays it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from falcolite.events.event import Event
from falcolite.filter.fields import FieldContext
from falcolite.sources.trace import TraceSource
from falcolite.state.tracker import StateTracker


@contextmanager
def tracked(path: Path) -> Iterator[tuple[FieldContext, Iterator[Event]]]:
    """The capture's field context, and its events with the state applied
    (a new section loads its own initial state)."""
    with TraceSource(str(path)) as src:
        st = StateTracker(src.meta)

        def events() -> Iterator[Event]:
            section = src.section
            for e in src.events():
                if src.section != section:
                    section = src.section
                    st.load(src.meta)
                st.process(e)
                yield e
        yield FieldContext(st, hostname="falcolite-test"), events()
