"""Finding and reading the four files of a loan book, every column as text."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from arrears.imports.issues import ROW, Issues

# name → (required columns, optional columns), in the order they are documented.
COLUMNS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "borrowers": (
        ("borrower_id", "kind", "name"),
        ("national_id", "phone", "email", "timezone", "language", "country", "region"),
    ),
    "loans": (
        (
            "loan_id",
            "borrower_id",
            "product",
            "principal",
            "annual_rate",
            "term_months",
            "repayment_method",
            "disbursed_on",
        ),
        ("currency", "first_due_on", "interest_basis", "penalty_rate"),
    ),
    "payments": (("payment_id", "loan_id", "paid_on", "amount"), ()),
    "schedules": (("loan_id", "seq", "due_on", "principal", "interest"), ("fee",)),
}
REQUIRED_FILES = ("borrowers", "loans", "payments")
OPTIONAL_FILES = ("schedules",)
EXTENSIONS = (".csv", ".parquet")


@dataclass
class BookFile:
    name: str  # borrowers | loans | payments | schedules
    path: Path | None  # None: an optional file that is absent
    frame: pl.DataFrame  # every documented column as String (null when empty), plus `__row`

    @property
    def label(self) -> str:
        return self.path.name if self.path is not None else f"{self.name}.csv"

    def all_columns(self) -> list[str]:
        required, optional = COLUMNS[self.name]
        return [*required, *optional]


def _empty(name: str) -> pl.DataFrame:
    required, optional = COLUMNS[name]
    schema = {column: pl.String for column in (*required, *optional)}
    return pl.DataFrame(schema=schema).with_row_index(ROW, offset=1)


def _read(path: Path) -> pl.DataFrame:
    if path.suffix == ".csv":
        return pl.read_csv(
            path, infer_schema=False, raise_if_empty=True, low_memory=False, encoding="utf8"
        )
    return pl.read_parquet(path)


def read_book(directory: Path, issues: Issues, *, allow_extra: bool) -> dict[str, BookFile]:
    """The four files of `directory` as text frames. Problems with a whole file (missing,
    ambiguous, unreadable, missing or extra columns) go to `issues` with `row=None`."""
    files: dict[str, BookFile] = {}
    if not directory.is_dir():
        issues.add(str(directory), None, None, None, "not a directory")
        return files
    for name in (*REQUIRED_FILES, *OPTIONAL_FILES):
        found = [
            directory / f"{name}{ext}"
            for ext in EXTENSIONS
            if (directory / f"{name}{ext}").is_file()
        ]
        if len(found) > 1:
            issues.add(
                found[0].name,
                None,
                None,
                None,
                f"both {found[0].name} and {found[1].name} present: keep one",
            )
            continue
        if not found:
            if name in REQUIRED_FILES:
                issues.add(
                    f"{name}.csv",
                    None,
                    None,
                    None,
                    f"required file missing: {name}.csv or {name}.parquet",
                )
            else:
                files[name] = BookFile(name, None, _empty(name))
            continue
        path = found[0]
        try:
            raw = _read(path)
        except Exception as exc:  # polars raises many kinds; the message is what counts
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            issues.add(path.name, None, None, None, f"cannot read file: {first}")
            continue
        required, optional = COLUMNS[name]
        known = {*required, *optional}
        bad = False
        for column in required:
            if column not in raw.columns:
                issues.add(path.name, None, column, None, "required column missing")
                bad = True
        extra = [column for column in raw.columns if column not in known]
        if extra and not allow_extra:
            for column in extra:
                issues.add(
                    path.name, None, column, None, "unknown column (use --allow-extra to ignore it)"
                )
            bad = True
        if bad:
            continue
        present = [column for column in (*required, *optional) if column in raw.columns]
        frame = raw.select(
            [
                pl.col(column).cast(pl.String).str.strip_chars().replace("", None).alias(column)
                if raw.schema[column] == pl.String
                else pl.col(column).cast(pl.String).alias(column)
                for column in present
            ]
            + [
                pl.lit(None, pl.String).alias(column)
                for column in optional
                if column not in raw.columns
            ]
        ).with_row_index(ROW, offset=1)
        files[name] = BookFile(name, path, frame)
    return files
