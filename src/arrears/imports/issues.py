"""What is wrong with an import: one `ImportIssue` per bad value, collected in bulk.

Row numbers are 1-based data-row numbers: the first row after the header is row 1 (so it is line
2 of a CSV file). A file-level problem (missing file, unreadable file, missing or extra column) has
`row=None`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import polars as pl

MAX_ISSUES = 1000
ROW = "__row"


@dataclass(frozen=True, slots=True)
class ImportIssue:
    file: str
    row: int | None
    column: str | None
    value: str | None
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        where = self.file if self.row is None else f"{self.file} row {self.row}"
        if self.column:
            where += f", column {self.column}"
        if self.value is not None:
            where += f" = {self.value!r}"
        return f"{where}: {self.reason}"


class ImportRejected(Exception):
    """The import was refused and nothing was written. `issues` holds the first `MAX_ISSUES`
    problems in file and row order; `total` counts all of them."""

    def __init__(self, issues: list[ImportIssue], total: int) -> None:
        self.issues = issues
        self.total = total
        super().__init__(self.summary())

    def summary(self) -> str:
        return f"import rejected: {self.total} problem{'s' if self.total != 1 else ''}, nothing written"

    def to_dict(self) -> dict[str, Any]:
        return {
            "rejected": True,
            "total": self.total,
            "shown": len(self.issues),
            "truncated": self.total > len(self.issues),
            "issues": [issue.to_dict() for issue in self.issues],
        }

    def report(self) -> str:
        """The text report: a summary line, then one line per kept issue."""
        lines = [self.summary()]
        lines += [f"  {issue}" for issue in self.issues]
        if self.total > len(self.issues):
            lines.append(f"  … and {self.total - len(self.issues)} more")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.report()


FILE_ORDER = {"borrowers": 0, "loans": 1, "payments": 2, "schedules": 3}


class Issues:
    """Collects issues from vectorised checks; keeps at most MAX_ISSUES per check (enough to
    pick the global first MAX_ISSUES afterwards) and counts them all."""

    def __init__(self) -> None:
        self._kept: list[tuple[tuple[int, int, int], ImportIssue]] = []
        self.total = 0

    def __bool__(self) -> bool:
        return self.total > 0

    def add(
        self,
        file: str,
        row: int | None,
        column: str | None,
        value: Any,
        reason: str,
        *,
        order: int = 0,
    ) -> None:
        self.total += 1
        key = (FILE_ORDER.get(file.rsplit(".", 1)[0], 9), row or 0, order)
        text = None if value is None else str(value)
        self._kept.append((key, ImportIssue(file, row, column, text, reason)))
        if len(self._kept) > 4 * MAX_ISSUES:
            self._trim()

    def check(
        self,
        file: str,
        frame: pl.DataFrame,
        checks: list[tuple[str, pl.Expr, str | pl.Expr]],
        *,
        columns: list[str] | None = None,
    ) -> None:
        """Run `(column, bad, reason)` checks over `frame` (which has the `__row` column).

        `bad` is a boolean expression (null counts as passing), `reason` a text or a string
        expression evaluated on the failing rows only.
        """
        if not checks or frame.height == 0:
            return
        masks = frame.select(
            [bad.fill_null(False).alias(f"__bad{i}") for i, (_, bad, _) in enumerate(checks)]
        )
        counts = masks.sum().row(0)
        for i, ((column, _, reason), count) in enumerate(zip(checks, counts, strict=True)):
            if not count:
                continue
            self.total += int(count)
            failing = frame.filter(masks.get_column(f"__bad{i}")).head(MAX_ISSUES)
            reason_expr = pl.lit(reason) if isinstance(reason, str) else reason
            value_expr = pl.col(column) if column in frame.columns else pl.lit(None, pl.String)
            got = failing.select(
                pl.col(ROW), value_expr.cast(pl.String).alias("v"), reason_expr.alias("r")
            )
            order = columns.index(column) if columns and column in columns else i
            for row, value, text in got.iter_rows():
                key = (FILE_ORDER.get(file.rsplit(".", 1)[0], 9), row, order)
                self._kept.append((key, ImportIssue(file, row, column, value, text)))
            if len(self._kept) > 4 * MAX_ISSUES:
                self._trim()

    def _trim(self) -> None:
        self._kept.sort(key=lambda item: item[0])
        del self._kept[MAX_ISSUES:]

    def rejected(self) -> ImportRejected:
        self._trim()
        return ImportRejected([issue for _, issue in self._kept], self.total)
