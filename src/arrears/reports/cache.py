"""Reports kept between page views until the book changes.

A portfolio report reads every loan's snapshots: seconds on a large book, far too slow to redo on
each view of the dashboard. Its inputs change only when something is written — a close of
business, a payment, a reversal, a pause, an override — and each of those writes an event or a
COB run. So a report is kept under the book's *version* (the newest event and the newest COB
run), which costs two indexed lookups to read, and is rebuilt on the first view after a change.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from arrears.store.tables import CobRun, Event


def book_version(engine: Engine) -> tuple[int, int]:
    """(newest event seq, newest COB run id): changes whenever anything a report reads does."""
    with engine.connect() as conn:
        seq = conn.scalar(select(func.max(Event.seq))) or 0
        run = conn.scalar(select(func.max(CobRun.run_id))) or 0
    return int(seq), int(run)


class ReportCache:
    """A small LRU of built reports keyed by (the caller's key, the book version). Thread-safe;
    two views racing on a miss may both build (harmless: the same answer)."""

    def __init__(self, size: int = 8) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, engine: Engine, key: Hashable, build: Callable[[], Any]) -> Any:
        full = (key, book_version(engine))
        with self._lock:
            if full in self._items:
                self._items.move_to_end(full)
                self.hits += 1
                return self._items[full]
        value = build()  # outside the lock: a build takes seconds and may raise
        with self._lock:
            self.misses += 1
            self._items[full] = value
            self._items.move_to_end(full)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value
