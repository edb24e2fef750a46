"""Tabular input for the models: whatever a caller hands in (Polars, pandas, numpy) becomes one
Polars frame, and a column's kind (numerical or categorical) is decided once, here."""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

NUMERIC = (
    pl.Int8,
    pl.Int16,
    pl.Int32,
    pl.Int64,
    pl.UInt8,
    pl.UInt16,
    pl.UInt32,
    pl.UInt64,
    pl.Float32,
    pl.Float64,
)


def to_polars(X: Any) -> pl.DataFrame:
    """A Polars frame of `X` (a Polars or pandas frame, or a 2-D array named x0, x1 …)."""
    if isinstance(X, pl.DataFrame):
        return X
    if isinstance(X, pl.LazyFrame):
        return X.collect()
    module = type(X).__module__
    if module.startswith("pandas"):
        return pl.from_pandas(X)
    array = np.asarray(X)
    if array.ndim != 2:
        raise ValueError(f"expected a table (2-D), got shape {array.shape}")
    return pl.DataFrame({f"x{i}": array[:, i] for i in range(array.shape[1])})


def to_target(y: Any) -> np.ndarray:
    """The 0/1 target as an int8 array (True/False accepted)."""
    array = y.to_numpy() if isinstance(y, pl.Series) else np.asarray(y)
    if array.dtype == bool:
        array = array.astype(np.int8)
    if not np.isin(array, (0, 1)).all():
        bad = array[~np.isin(array, (0, 1))][0]
        raise ValueError(f"the target must be 0 (good) or 1 (bad); found {bad!r}")
    return array.astype(np.int8)


def column_kind(frame: pl.DataFrame, name: str, categorical: set[str]) -> str:
    """`categorical` for text, booleans and the columns named so; `numerical` otherwise."""
    if name in categorical:
        return "categorical"
    dtype = frame.schema[name]
    if dtype in NUMERIC or dtype == pl.Null:
        return "numerical"
    return "categorical"
