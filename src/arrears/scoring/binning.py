"""Optimal binning of one characteristic and its weight of evidence (WoE).

optbinning finds the cut points (numerical) or category groups (categorical), with a monotonic
bad-rate trend where asked; everything after that — which bin a value falls in, the counts, WoE
and IV — is computed here, so fitting and scoring assign bins by one and the same function, and a
fitted binning is plain data (JSON), never a pickle.

Bins of a characteristic, in order: the regular bins, then **Special** (the values listed as
special codes, e.g. -1 for "no bureau file") and **Missing** (empty values; for a categorical
characteristic also categories never seen in training). WoE here is ln(bad share / good share):
positive means riskier than average.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

# A half count added to each side keeps the WoE of a bin with no bads (or no goods) finite.
SMOOTHING = 0.5
TRENDS = ("auto", "auto_asc_desc", "ascending", "descending", "convex", "concave", "peak", "valley")


class BinningError(ValueError):
    """A characteristic that cannot be binned as asked (the message names it)."""


@dataclass
class FeatureBinning:
    """One characteristic's fitted bins. `splits` (numerical) are inner cut points: bin i holds
    splits[i-1] <= x < splits[i]; `groups` (categorical) are the categories of each bin."""

    name: str
    dtype: str  # numerical | categorical
    splits: list[float] = field(default_factory=list)
    groups: list[list[str]] = field(default_factory=list)
    special_codes: list[float] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)  # per bin, incl. special and missing
    bads: list[int] = field(default_factory=list)
    woe: list[float] = field(default_factory=list)
    iv: float = 0.0
    trend: int = 0  # +1 bad rate rises with the value, -1 falls, 0 neither / categorical
    fit_index: np.ndarray | None = field(default=None, repr=False, compare=False)

    @property
    def n_regular(self) -> int:
        return len(self.splits) + 1 if self.dtype == "numerical" else len(self.groups)

    @property
    def special_bin(self) -> int:
        return self.n_regular

    @property
    def missing_bin(self) -> int:
        return self.n_regular + 1

    def labels(self) -> list[str]:
        """A risk manager's label for each bin, e.g. `[3, 5)`, `{gig, unemployed}`."""
        if self.dtype == "numerical":
            edges = [-np.inf, *self.splits, np.inf]
            regular = [f"[{_num(lo)}, {_num(hi)})" for lo, hi in itertools.pairwise(edges)]
        else:
            regular = ["{" + ", ".join(group) + "}" for group in self.groups]
        return [*regular, "Special", "Missing"]

    def bin_index(self, values: Any) -> np.ndarray:
        """Which bin each value falls in (vectorised; the same function at fit and score)."""
        if self.dtype == "numerical":
            x = as_float(values, self.name)
            index = np.searchsorted(np.asarray(self.splits, dtype=np.float64), x, side="right")
            if self.special_codes:
                index[np.isin(x, self.special_codes)] = self.special_bin
            index[np.isnan(x)] = self.missing_bin
            return index.astype(np.int32)
        mapping = {cat: i for i, group in enumerate(self.groups) for cat in group}
        series = as_text(values)
        codes = series.replace_strict(
            list(mapping), list(mapping.values()), default=self.missing_bin, return_dtype=pl.Int32
        )
        return codes.to_numpy().astype(np.int32)

    def woe_of(self, values: Any) -> np.ndarray:
        return np.asarray(self.woe, dtype=np.float64)[self.bin_index(values)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "dtype": self.dtype,
            "splits": self.splits,
            "groups": self.groups,
            "special_codes": self.special_codes,
            "rows": self.rows,
            "bads": self.bads,
            "woe": self.woe,
            "iv": self.iv,
            "trend": self.trend,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureBinning:
        return cls(**data)


def _num(value: float) -> str:
    if np.isinf(value):
        return "-inf" if value < 0 else "inf"
    return f"{value:.6g}"


def as_float(values: Any, name: str) -> np.ndarray:
    """A numeric column as float64 with NaN for empty values."""
    if isinstance(values, np.ndarray) and values.dtype.kind == "f":
        return values.astype(np.float64, copy=False)
    series = values if isinstance(values, pl.Series) else pl.Series(name, values, strict=False)
    if series.dtype == pl.String or series.dtype == pl.Categorical:
        raise BinningError(f"column {name!r} is text, expected numbers")
    # a null becomes NaN on the way to numpy; a NaN stays NaN — both are "missing"
    return np.asarray(series.cast(pl.Float64, strict=False).to_numpy(), dtype=np.float64)


def as_text(values: Any) -> pl.Series:
    series = values if isinstance(values, pl.Series) else pl.Series(values, strict=False)
    return series.cast(pl.String)


def woe_and_iv(rows: np.ndarray, bads: np.ndarray) -> tuple[np.ndarray, float]:
    """WoE per bin = ln((bads_i/B) / (goods_i/G)) with a half count of smoothing, 0 for an empty
    bin (no evidence either way); IV = Σ (bad share − good share) · WoE."""
    rows = np.asarray(rows, dtype=np.float64)
    bads = np.asarray(bads, dtype=np.float64)
    goods = rows - bads
    total_bad, total_good = bads.sum(), goods.sum()
    if total_bad == 0 or total_good == 0:
        raise BinningError("the target needs at least one bad (1) and one good (0)")
    bad_share = (bads + SMOOTHING) / (total_bad + SMOOTHING)
    good_share = (goods + SMOOTHING) / (total_good + SMOOTHING)
    woe = np.where(rows > 0, np.log(bad_share / good_share), 0.0)
    iv = float(np.sum(np.where(rows > 0, (bads / total_bad - goods / total_good) * woe, 0.0)))
    return woe, iv


def fold_woe(index: np.ndarray, y: np.ndarray, n_bins: int) -> tuple[np.ndarray, float]:
    """The WoE of each of `n_bins` bins, and the IV, from these rows alone (`index`: their bins,
    `y`: their targets) — so an inner cross-validation fold gets WoE and IV its held-out rows
    never shaped."""
    rows = np.bincount(index, minlength=n_bins)
    bads = np.bincount(index, weights=y, minlength=n_bins)
    return woe_and_iv(rows, bads)


def fit_binning(
    name: str,
    values: Any,
    y: np.ndarray,
    *,
    dtype: str,
    monotonic_trend: str | None = "auto_asc_desc",
    special_codes: list[float] | None = None,
    max_n_bins: int = 10,
    min_bin_size: float = 0.05,
) -> FeatureBinning:
    """Fit optimal bins of one characteristic against a 0/1 target."""
    from optbinning import OptimalBinning

    if monotonic_trend is not None and monotonic_trend not in TRENDS:
        raise BinningError(f"{name}: monotonic trend {monotonic_trend!r} is not one of {TRENDS}")
    y = np.asarray(y).astype(np.int64)
    specials = list(special_codes or [])
    if dtype == "numerical":
        x = as_float(values, name)
        fit_values: Any = x
        values = x  # bin_index below reuses the array
    elif dtype == "categorical":
        text = as_text(values)
        fit_values = np.asarray(text.fill_null("\x00missing").to_numpy(), dtype=object)
        fit_values[fit_values == "\x00missing"] = np.nan
        specials = []
    else:
        raise BinningError(f"{name}: dtype must be numerical or categorical, not {dtype!r}")
    optimal = OptimalBinning(
        name=name,
        dtype=dtype,
        monotonic_trend=monotonic_trend if dtype == "numerical" else None,
        special_codes=specials or None,
        max_n_bins=max_n_bins,
        min_bin_size=min_bin_size,
    )
    optimal.fit(fit_values, y)
    binning = FeatureBinning(name=name, dtype=dtype, special_codes=[float(s) for s in specials])
    if dtype == "numerical":
        binning.splits = [float(s) for s in np.asarray(optimal.splits, dtype=np.float64)]
    else:
        binning.groups = [sorted(str(c) for c in group) for group in optimal.splits]
    index = binning.bin_index(values)
    binning.fit_index = index  # the training rows' bins, so the caller need not recompute them
    n_bins = binning.n_regular + 2
    rows = np.bincount(index, minlength=n_bins)
    bads = np.bincount(index, weights=y, minlength=n_bins).astype(np.int64)
    woe, iv = woe_and_iv(rows, bads)
    binning.rows = [int(r) for r in rows]
    binning.bads = [int(b) for b in bads]
    binning.woe = [float(w) for w in woe]
    binning.iv = iv
    binning.trend = _trend(binning) if dtype == "numerical" else 0
    return binning


def _trend(binning: FeatureBinning) -> int:
    """+1 when the bad rate rises from the first regular bin to the last, -1 when it falls; 0
    when the bins are not monotonic (then nothing is promised about the direction)."""
    n = binning.n_regular
    rows = np.asarray(binning.rows[:n], dtype=np.float64)
    bads = np.asarray(binning.bads[:n], dtype=np.float64)
    keep = rows > 0
    if keep.sum() < 2:
        return 0
    rate = bads[keep] / rows[keep]
    steps = np.diff(rate)
    if (steps >= 0).all() and rate[-1] > rate[0]:
        return 1
    if (steps <= 0).all() and rate[-1] < rate[0]:
        return -1
    return 0
