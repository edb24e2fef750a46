"""Named DPD ranges: delinquency buckets (M0 … M6+) and the five-category classification.

A band table maps days past due to a name. Tables are configuration: they must start at 0, leave
no gap, overlap nowhere and end open (the last band has no upper bound), or they are rejected with
a message that names the offending bands.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

from pydantic import BaseModel, ConfigDict, field_validator, model_validator


class Band(BaseModel):
    """DPD range [min_dpd, max_dpd] inclusive; `max_dpd=None` means "and above"."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    min_dpd: int
    max_dpd: int | None = None

    @field_validator("min_dpd")
    @classmethod
    def _non_negative(cls, value: int) -> int:
        if value < 0:
            raise ValueError("min_dpd must be ≥ 0")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> Band:
        if self.max_dpd is not None and self.max_dpd < self.min_dpd:
            raise ValueError(f"band {self.name}: max_dpd {self.max_dpd} < min_dpd {self.min_dpd}")
        return self


class BandTable(BaseModel):
    """An ordered, gap-free, non-overlapping table of bands covering 0 … ∞."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    bands: tuple[Band, ...]

    @model_validator(mode="after")
    def _contiguous(self) -> BandTable:
        check_contiguous(self.bands)
        return self

    def name_for(self, days_past_due: int) -> str:
        """The band name for a DPD value."""
        for band in self.bands:
            if band.max_dpd is None or days_past_due <= band.max_dpd:
                return band.name
        raise AssertionError("unreachable: validated tables are open-ended")

    def names(self) -> list[str]:
        return [band.name for band in self.bands]

    def upper_bounds(self) -> list[int]:
        """Inclusive upper bounds of every band but the last (for column engines)."""
        return [band.max_dpd for band in self.bands[:-1]]  # type: ignore[misc]


def check_contiguous(bands: Sequence[Band]) -> None:
    """Raise ValueError naming the first gap, overlap or open end that breaks the table."""
    if not bands:
        raise ValueError("a band table needs at least one band")
    names = [band.name for band in bands]
    duplicates = {name for name in names if names.count(name) > 1}
    if duplicates:
        raise ValueError(f"duplicate band names: {sorted(duplicates)}")
    if bands[0].min_dpd != 0:
        raise ValueError(
            f"band {bands[0].name} starts at {bands[0].min_dpd}; the first must start at 0"
        )
    for before, after in pairwise(bands):
        if before.max_dpd is None:
            raise ValueError(f"band {before.name} is open-ended but {after.name} follows it")
        if after.min_dpd <= before.max_dpd:
            raise ValueError(
                f"bands {before.name} ({before.min_dpd}–{before.max_dpd}) and {after.name} "
                f"({after.min_dpd}–{after.max_dpd}) overlap"
            )
        if after.min_dpd != before.max_dpd + 1:
            raise ValueError(
                f"gap between {before.name} (ends {before.max_dpd}) and {after.name} "
                f"(starts {after.min_dpd})"
            )
    if bands[-1].max_dpd is not None:
        raise ValueError(f"the last band {bands[-1].name} must be open-ended (no max_dpd)")


def table(*spec: tuple[str, int, int | None]) -> BandTable:
    return BandTable(bands=tuple(Band(name=n, min_dpd=lo, max_dpd=hi) for n, lo, hi in spec))


DEFAULT_BUCKETS = table(
    ("M0", 0, 0),
    ("M1", 1, 30),
    ("M2", 31, 60),
    ("M3", 61, 90),
    ("M4", 91, 120),
    ("M5", 121, 150),
    ("M6", 151, 180),
    ("M6+", 181, None),
)

# Five categories (商业银行金融资产风险分类办法, 2023): DPD floors 1 / 91 / 271 / 361.
CLASSIFICATIONS = ("normal", "special_mention", "substandard", "doubtful", "loss")

STANDARD_CLASSIFICATION = table(
    ("normal", 0, 0),
    ("special_mention", 1, 90),
    ("substandard", 91, 270),
    ("doubtful", 271, 360),
    ("loss", 361, None),
)

# Credit-card mapping (信用卡业务监督管理办法 2011, Art. 92): stricter than the 2023 floors.
CARD_CLASSIFICATION = table(
    ("normal", 0, 0),
    ("special_mention", 1, 90),
    ("substandard", 91, 120),
    ("doubtful", 121, 180),
    ("loss", 181, None),
)


def worse_classification(a: str, b: str) -> str:
    """The worse (more severe) of two five-category classes."""
    return a if CLASSIFICATIONS.index(a) >= CLASSIFICATIONS.index(b) else b
