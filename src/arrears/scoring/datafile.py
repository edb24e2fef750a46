"""Reading a model's data file (CSV or Parquet) and checking it, with errors a person can act on:
the file, the row (CSV: the line number, header = line 1), the column and the value."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from arrears.scoring.frames import NUMERIC


class DataFileError(ValueError):
    """A data file that cannot be used as asked (the message names file, row, column, value)."""


def read_table(path: Path) -> pl.DataFrame:
    path = Path(path)
    if not path.exists():
        raise DataFileError(f"{path}: no such file")
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            return pl.read_parquet(path)
        if suffix == ".csv":
            return pl.read_csv(path, infer_schema_length=10000, try_parse_dates=False)
    except (pl.exceptions.PolarsError, OSError) as exc:
        # Polars names the offending value and column; keep its first line
        raise DataFileError(f"{path}: cannot be read: {str(exc).splitlines()[0]}") from exc
    raise DataFileError(f"{path}: expected a .csv or .parquet file, not {suffix or 'no suffix'}")


def row_label(path: Path, index: int) -> str:
    """How a person finds row `index` (0-based) of the file: the CSV line, or the Parquet row."""
    return f"line {index + 2}" if Path(path).suffix.lower() == ".csv" else f"row {index + 1}"


def target_column(frame: pl.DataFrame, column: str, path: Path) -> pl.Series:
    """The target as 0/1 (accepting true/false); the first bad value is named."""
    if column not in frame.columns:
        raise DataFileError(
            f"{path}: no target column {column!r} (columns: {', '.join(frame.columns)})"
        )
    series = frame.get_column(column)
    if series.dtype == pl.Boolean:
        values = series.cast(pl.Int8)
    else:
        text = series.cast(pl.String).str.strip_chars().str.to_lowercase()
        values = text.replace_strict(
            ["0", "1", "true", "false", "0.0", "1.0"],
            [0, 1, 1, 0, 0, 1],
            default=None,
            return_dtype=pl.Int8,
        )
    bad = values.is_null()
    if bad.any():
        index = int(bad.arg_max())  # type: ignore[arg-type]
        raise DataFileError(
            f"{path} {row_label(path, index)}, column {column!r}: {series[index]!r} is not a "
            "target value (0 or 1, true or false)"
        )
    return values


def check_features(frame: pl.DataFrame, features: dict[str, str], path: Path) -> pl.DataFrame:
    """The model's characteristics from `frame`, numerical ones cast to numbers. A missing
    column or a value that is not a number is an error naming it."""
    missing = [name for name in features if name not in frame.columns]
    if missing:
        raise DataFileError(f"{path}: missing column(s) the model needs: {', '.join(missing)}")
    out = []
    for name, kind in features.items():
        series = frame.get_column(name)
        if kind == "numerical" and series.dtype not in NUMERIC and series.dtype != pl.Null:
            text = series.cast(pl.String)
            number = text.str.strip_chars().cast(pl.Float64, strict=False)
            bad = number.is_null() & text.is_not_null() & (text.str.strip_chars() != "")
            if bad.any():
                index = int(bad.arg_max())  # type: ignore[arg-type]
                raise DataFileError(
                    f"{path} {row_label(path, index)}, column {name!r}: {text[index]!r} is not a "
                    "number"
                )
            series = number.alias(name)
        out.append(series)
    return pl.DataFrame(out)
