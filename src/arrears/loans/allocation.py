"""Payment allocation and penalty interest (placeholder: being written)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, slots=True)
class AllocationLine:
    """Part of a payment applied to one component of one instalment (`seq=None`: held as credit)."""

    payment_id: str
    seq: int | None
    component: str  # penalty | fee | interest | principal | credit
    amount: int
    applied_on: date
