"""Calendar arithmetic for due dates: whole months with the day clamped to the month's end."""

from __future__ import annotations

import calendar
from datetime import date


def add_months(start: date, months: int, anchor_day: int | None = None) -> date:
    """`start` moved by `months`, on `anchor_day` (default `start.day`) clamped to the month's end.

    Keeping the anchor separate is what makes Jan 31 → Feb 28 → Mar 31 rather than Mar 28.
    """
    day = anchor_day if anchor_day is not None else start.day
    index = start.year * 12 + (start.month - 1) + months
    year, month0 = divmod(index, 12)
    last = calendar.monthrange(year, month0 + 1)[1]
    return date(year, month0 + 1, min(day, last))


def overlap_days(first: date, last: date, start: date, end: date) -> int:
    """Number of calendar days in both [first, last] and [start, end] (inclusive ranges)."""
    lo = max(first, start)
    hi = min(last, end)
    return max(0, (hi - lo).days + 1)
