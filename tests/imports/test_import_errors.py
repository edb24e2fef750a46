"""Every class of error: the report names file, row, column, value and reason, and nothing is
written (the row count of every table is unchanged)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine

from arrears.imports import MAX_ISSUES, ImportIssue, ImportRejected, import_book

from .conftest import Rows

BASE: Rows = {
    "borrowers": [{"borrower_id": "B0", "kind": "individual", "name": "王五"}],
    "loans": [
        {
            "loan_id": "L0",
            "borrower_id": "B0",
            "product": "consumer",
            "principal": "600",
            "annual_rate": "0.1",
            "term_months": "6",
            "repayment_method": "equal_principal",
            "disbursed_on": "2023-06-01",
        }
    ],
    "payments": [{"payment_id": "P0", "loan_id": "L0", "paid_on": "2023-07-01", "amount": "100"}],
}


def setv(file: str, index: int, column: str, value: str | None) -> Callable[[Rows], None]:
    def edit(rows: Rows) -> None:
        rows[file][index][column] = value  # type: ignore[assignment]

    return edit


def dup(file: str, index: int, **changes: str) -> Callable[[Rows], None]:
    def edit(rows: Rows) -> None:
        rows[file].append({**rows[file][index], **changes})

    return edit


def drop_schedules(rows: Rows) -> None:
    rows["schedules"] = []


# (id, edit, file, row, column, value, reason fragment)
CASES = [
    (
        "borrower-name-missing",
        setv("borrowers", 0, "name", ""),
        "borrowers.csv",
        1,
        "name",
        None,
        "required",
    ),
    (
        "borrower-kind",
        setv("borrowers", 1, "kind", "company"),
        "borrowers.csv",
        2,
        "kind",
        "company",
        "unknown kind",
    ),
    (
        "borrower-timezone",
        setv("borrowers", 0, "timezone", "Mars/Olympus"),
        "borrowers.csv",
        1,
        "timezone",
        "Mars/Olympus",
        "time zone",
    ),
    (
        "borrower-language",
        setv("borrowers", 0, "language", "fr"),
        "borrowers.csv",
        1,
        "language",
        "fr",
        "language",
    ),
    (
        "borrower-country",
        setv("borrowers", 0, "country", "XX"),
        "borrowers.csv",
        1,
        "country",
        "XX",
        "ISO 3166-1",
    ),
    (
        "borrower-region-country",
        setv("borrowers", 0, "region", "US-MA"),
        "borrowers.csv",
        1,
        "region",
        "US-MA",
        "not in country CN",
    ),
    (
        "borrower-region-unknown",
        setv("borrowers", 1, "region", "US-ZZ"),
        "borrowers.csv",
        2,
        "region",
        "US-ZZ",
        "ISO 3166-2",
    ),
    (
        "borrower-duplicate",
        dup("borrowers", 0, name="x"),
        "borrowers.csv",
        3,
        "borrower_id",
        "B1",
        "duplicate borrower_id: first at row 1",
    ),
    (
        "borrower-in-db",
        dup("borrowers", 0, borrower_id="B0"),
        "borrowers.csv",
        3,
        "borrower_id",
        "B0",
        "already in the database",
    ),
    (
        "loan-unknown-borrower",
        setv("loans", 1, "borrower_id", "B7"),
        "loans.csv",
        2,
        "borrower_id",
        "B7",
        "unknown borrower",
    ),
    (
        "loan-unknown-product",
        setv("loans", 0, "product", "payday"),
        "loans.csv",
        1,
        "product",
        "payday",
        "unknown product payday",
    ),
    (
        "loan-currency",
        setv("loans", 0, "currency", "XYZ"),
        "loans.csv",
        1,
        "currency",
        "XYZ",
        "unknown currency",
    ),
    (
        "loan-principal-text",
        setv("loans", 0, "principal", "12,000"),
        "loans.csv",
        1,
        "principal",
        "12,000",
        "not a decimal amount",
    ),
    (
        "loan-principal-cny-decimals",
        setv("loans", 0, "principal", "1.005"),
        "loans.csv",
        1,
        "principal",
        "1.005",
        "more than 2 decimals for CNY",
    ),
    (
        "loan-principal-jpy-decimals",
        setv("loans", 2, "principal", "1.5"),
        "loans.csv",
        3,
        "principal",
        "1.5",
        "more than 0 decimals for JPY",
    ),
    (
        "loan-principal-zero",
        setv("loans", 0, "principal", "0.00"),
        "loans.csv",
        1,
        "principal",
        "0.00",
        "greater than 0",
    ),
    (
        "loan-principal-missing",
        setv("loans", 0, "principal", ""),
        "loans.csv",
        1,
        "principal",
        None,
        "required",
    ),
    (
        "loan-rate-above-one",
        setv("loans", 0, "annual_rate", "12"),
        "loans.csv",
        1,
        "annual_rate",
        "12",
        "between 0 and 1",
    ),
    (
        "loan-rate-negative",
        setv("loans", 0, "annual_rate", "-0.01"),
        "loans.csv",
        1,
        "annual_rate",
        "-0.01",
        "between 0 and 1",
    ),
    (
        "loan-rate-text",
        setv("loans", 0, "annual_rate", "12%"),
        "loans.csv",
        1,
        "annual_rate",
        "12%",
        "not a decimal rate",
    ),
    (
        "loan-term-zero",
        setv("loans", 0, "term_months", "0"),
        "loans.csv",
        1,
        "term_months",
        "0",
        "1 … 600",
    ),
    (
        "loan-term-long",
        setv("loans", 0, "term_months", "601"),
        "loans.csv",
        1,
        "term_months",
        "601",
        "1 … 600",
    ),
    (
        "loan-term-text",
        setv("loans", 0, "term_months", "1.5"),
        "loans.csv",
        1,
        "term_months",
        "1.5",
        "whole number",
    ),
    (
        "loan-method",
        setv("loans", 0, "repayment_method", "balloon"),
        "loans.csv",
        1,
        "repayment_method",
        "balloon",
        "unknown repayment method",
    ),
    (
        "loan-date",
        setv("loans", 0, "disbursed_on", "2024-02-30"),
        "loans.csv",
        1,
        "disbursed_on",
        "2024-02-30",
        "not a date",
    ),
    (
        "loan-date-format",
        setv("loans", 0, "disbursed_on", "15/01/2024"),
        "loans.csv",
        1,
        "disbursed_on",
        "15/01/2024",
        "not a date",
    ),
    (
        "loan-first-due",
        setv("loans", 1, "first_due_on", "2024-03-31"),
        "loans.csv",
        2,
        "first_due_on",
        "2024-03-31",
        "not after disbursement",
    ),
    (
        "loan-basis",
        setv("loans", 1, "interest_basis", "30/360"),
        "loans.csv",
        2,
        "interest_basis",
        "30/360",
        "unknown interest basis",
    ),
    (
        "loan-penalty",
        setv("loans", 1, "penalty_rate", "-0.1"),
        "loans.csv",
        2,
        "penalty_rate",
        "-0.1",
        "≥ 0",
    ),
    (
        "loan-custom-no-rows",
        drop_schedules,
        "loans.csv",
        3,
        "repayment_method",
        "custom",
        "no rows in schedules",
    ),
    (
        "loan-duplicate",
        dup("loans", 3),
        "loans.csv",
        5,
        "loan_id",
        "L4",
        "duplicate loan_id: first at row 4",
    ),
    (
        "loan-in-db",
        dup("loans", 3, loan_id="L0"),
        "loans.csv",
        5,
        "loan_id",
        "L0",
        "already in the database",
    ),
    (
        "payment-unknown-loan",
        setv("payments", 2, "loan_id", "L8"),
        "payments.csv",
        3,
        "loan_id",
        "L8",
        "unknown loan",
    ),
    (
        "payment-before-disbursement",
        setv("payments", 0, "paid_on", "2024-01-14"),
        "payments.csv",
        1,
        "paid_on",
        "2024-01-14",
        "before the loan was disbursed on 2024-01-15",
    ),
    (
        "payment-zero",
        setv("payments", 0, "amount", "0"),
        "payments.csv",
        1,
        "amount",
        "0",
        "greater than 0",
    ),
    (
        "payment-negative",
        setv("payments", 0, "amount", "-5.00"),
        "payments.csv",
        1,
        "amount",
        "-5.00",
        "greater than 0",
    ),
    (
        "payment-decimals",
        setv("payments", 0, "amount", "1.005"),
        "payments.csv",
        1,
        "amount",
        "1.005",
        "more than 2 decimals for CNY",
    ),
    (
        "payment-jpy-decimals",
        setv("payments", 3, "amount", "1.5"),
        "payments.csv",
        4,
        "amount",
        "1.5",
        "more than 0 decimals for JPY",
    ),
    (
        "payment-date",
        setv("payments", 1, "paid_on", "yesterday"),
        "payments.csv",
        2,
        "paid_on",
        "yesterday",
        "not a date",
    ),
    (
        "payment-duplicate",
        dup("payments", 0),
        "payments.csv",
        5,
        "payment_id",
        "P1",
        "duplicate payment_id: first at row 1",
    ),
    (
        "payment-in-db",
        dup("payments", 0, payment_id="P0"),
        "payments.csv",
        5,
        "payment_id",
        "P0",
        "already in the database",
    ),
    (
        "payment-existing-loan-early",
        dup("payments", 0, payment_id="P5", loan_id="L0", paid_on="2023-05-31"),
        "payments.csv",
        5,
        "paid_on",
        "2023-05-31",
        "before the loan was disbursed on 2023-06-01",
    ),
    (
        "schedule-sum",
        setv("schedules", 2, "principal", "39999"),
        "schedules.csv",
        1,
        "loan_id",
        "L3",
        "sums to 119999",
    ),
    (
        "schedule-seq-gap",
        setv("schedules", 2, "seq", "4"),
        "schedules.csv",
        1,
        "loan_id",
        "L3",
        "instalment numbers must be 1…3",
    ),
    (
        "schedule-dates",
        setv("schedules", 1, "due_on", "2024-03-01"),
        "schedules.csv",
        1,
        "loan_id",
        "L3",
        "is not after",
    ),
    (
        "schedule-seq-duplicate",
        setv("schedules", 2, "seq", "2"),
        "schedules.csv",
        3,
        "seq",
        "2",
        "duplicate instalment 2 of loan L3: first at row 2",
    ),
    (
        "schedule-seq-text",
        setv("schedules", 0, "seq", "one"),
        "schedules.csv",
        1,
        "seq",
        "one",
        "whole number",
    ),
    (
        "schedule-unknown-loan",
        dup("schedules", 0, loan_id="L77"),
        "schedules.csv",
        4,
        "loan_id",
        "L77",
        "unknown loan",
    ),
    (
        "schedule-db-loan",
        dup("schedules", 0, loan_id="L0"),
        "schedules.csv",
        4,
        "loan_id",
        "L0",
        "already in the database",
    ),
    (
        "schedule-decimals",
        setv("schedules", 0, "interest", "1800.5"),
        "schedules.csv",
        1,
        "interest",
        "1800.5",
        "more than 0 decimals for JPY",
    ),
    (
        "schedule-negative",
        setv("schedules", 0, "fee", "-1"),
        "schedules.csv",
        1,
        "fee",
        "-1",
        "negative",
    ),
]


def _seed(engine: Engine, catalog, book_dir) -> None:
    import_book(engine, book_dir(BASE, name="base"), catalog)


def _assert_rejected(
    engine: Engine, counts, directory: Path, catalog, expected: tuple, **options: bool
) -> ImportRejected:
    before = counts(engine)
    with pytest.raises(ImportRejected) as caught:
        import_book(engine, directory, catalog, **options)
    assert counts(engine) == before, "a rejected import changed the database"
    file, row, column, value, reason = expected
    matching = [
        issue
        for issue in caught.value.issues
        if (issue.file, issue.row, issue.column, issue.value) == (file, row, column, value)
    ]
    assert matching, f"no issue {expected} in {caught.value.report()}"
    assert any(reason in issue.reason for issue in matching), caught.value.report()
    return caught.value


@pytest.mark.parametrize(
    ("edit", "expected"),
    [pytest.param(edit, rest, id=name) for name, edit, *rest in CASES],
)
def test_error_is_reported_and_nothing_written(
    engine: Engine, catalog, book_dir, counts, good_rows: Rows, edit, expected
) -> None:
    _seed(engine, catalog, book_dir)
    edit(good_rows)
    rejected = _assert_rejected(engine, counts, book_dir(good_rows), catalog, tuple(expected))
    assert rejected.total == len(rejected.issues) >= 1


def test_report_formats(engine: Engine, catalog, book_dir, good_rows: Rows) -> None:
    good_rows["payments"][0]["amount"] = "1.005"
    good_rows["loans"][0]["product"] = "payday"
    with pytest.raises(ImportRejected) as caught:
        import_book(engine, book_dir(good_rows), catalog)
    rejected = caught.value
    assert rejected.total == 2
    # issues come in file order: loans before payments
    assert [i.file for i in rejected.issues] == ["loans.csv", "payments.csv"]
    data = rejected.to_dict()
    assert data["total"] == 2 and data["truncated"] is False and data["rejected"] is True
    assert data["issues"][1] == {
        "file": "payments.csv",
        "row": 1,
        "column": "amount",
        "value": "1.005",
        "reason": "more than 2 decimals for CNY",
    }
    text = rejected.report()
    assert text.splitlines()[0] == "import rejected: 2 problems, nothing written"
    assert "payments.csv row 1, column amount = '1.005': more than 2 decimals for CNY" in text
    assert ImportIssue("x.csv", None, None, None, "r").to_dict()["row"] is None


def test_issue_cap_keeps_first_thousand_and_counts_all(
    engine: Engine, catalog, book_dir, counts, good_rows: Rows
) -> None:
    good_rows["payments"] = [
        {"payment_id": f"Q{i}", "loan_id": "L1", "paid_on": "2024-02-15", "amount": "0.001"}
        for i in range(1500)
    ]
    good_rows["borrowers"][1]["kind"] = "robot"  # one more, in an earlier file
    before = counts(engine)
    with pytest.raises(ImportRejected) as caught:
        import_book(engine, book_dir(good_rows), catalog)
    assert counts(engine) == before
    assert caught.value.total == 1501
    assert len(caught.value.issues) == MAX_ISSUES
    assert caught.value.issues[0].file == "borrowers.csv"
    rows = [i.row for i in caught.value.issues[1:]]
    assert rows == list(range(1, MAX_ISSUES))
    assert caught.value.to_dict()["truncated"] is True


def test_duplicate_payment_across_imports(
    engine: Engine, catalog, book_dir, counts, good_rows: Rows
) -> None:
    import_book(engine, book_dir(good_rows, name="first"), catalog)
    again: Rows = {
        "borrowers": [{"borrower_id": "B5", "kind": "individual", "name": "赵六"}],
        "loans": [],
        "payments": [
            {"payment_id": "P1", "loan_id": "L1", "paid_on": "2024-02-15", "amount": "1066.19"},
            {"payment_id": "P6", "loan_id": "L1", "paid_on": "2024-04-15", "amount": "1066.19"},
        ],
    }
    # loans.csv with a header and no rows
    directory = book_dir(again, name="second")
    (directory / "loans.csv").write_text(
        "loan_id,borrower_id,product,principal,annual_rate,term_months,repayment_method,disbursed_on\n"
    )
    _assert_rejected(
        engine,
        counts,
        directory,
        catalog,
        ("payments.csv", 1, "payment_id", "P1", "already in the database"),
    )
    before = counts(engine)
    result = import_book(engine, directory, catalog, skip_existing=True)
    assert (result.payments, result.skipped, result.borrowers, result.loans) == (1, 1, 1, 0)
    after = counts(engine)
    assert after["payments"] == before["payments"] + 1
    assert after["events"] == before["events"] + 2  # payment.received + book.imported


def test_skip_existing_skips_a_whole_reimport(
    engine: Engine, catalog, book_dir, counts, good_rows: Rows
) -> None:
    directory = book_dir(good_rows)
    import_book(engine, directory, catalog)
    before = counts(engine)
    result = import_book(engine, directory, catalog, skip_existing=True)
    assert result.skipped == 2 + 4 + 4 + 3 and result.loans == result.payments == 0
    after = counts(engine)
    assert after["import_batches"] == before["import_batches"] + 1
    assert {k: v for k, v in after.items() if k not in ("import_batches", "events")} == {
        k: v for k, v in before.items() if k not in ("import_batches", "events")
    }


def test_extra_column(engine: Engine, catalog, book_dir, counts, good_rows: Rows) -> None:
    for row in good_rows["payments"]:
        row["channel"] = "bank"
    directory = book_dir(good_rows)
    _assert_rejected(
        engine,
        counts,
        directory,
        catalog,
        ("payments.csv", None, "channel", None, "unknown column"),
    )
    result = import_book(engine, directory, catalog, allow_extra=True)
    assert result.payments == 4


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_file_level_problems(
    engine: Engine, catalog, book_dir, counts, good_rows: Rows, fmt: str
) -> None:
    ext = f".{fmt}"
    directory = book_dir(good_rows, fmt)
    (directory / f"payments{ext}").unlink()
    _assert_rejected(
        engine,
        counts,
        directory,
        catalog,
        ("payments.csv", None, None, None, "required file missing"),
    )
    directory = book_dir(good_rows, fmt, name="both")
    (directory / "loans.csv" if fmt == "parquet" else directory / "loans.parquet").write_bytes(b"x")
    _assert_rejected(
        engine,
        counts,
        directory,
        catalog,
        ("loans.csv", None, None, None, "both loans.csv and loans.parquet"),
    )
    for row in good_rows["borrowers"]:
        del row["name"]
    directory = book_dir(good_rows, fmt, name="missing-column")
    _assert_rejected(
        engine,
        counts,
        directory,
        catalog,
        (f"borrowers{ext}", None, "name", None, "required column missing"),
    )


def test_unreadable_files(engine: Engine, catalog, book_dir, counts, good_rows: Rows) -> None:
    directory = book_dir(good_rows)
    (directory / "payments.csv").write_text(
        "payment_id,loan_id,paid_on,amount\nP1,L1,2024-02-15,1,2,3\n"
    )
    _assert_rejected(
        engine, counts, directory, catalog, ("payments.csv", None, None, None, "cannot read file")
    )
    (directory / "payments.csv").unlink()
    (directory / "payments.parquet").write_bytes(b"not parquet at all")
    _assert_rejected(
        engine,
        counts,
        directory,
        catalog,
        ("payments.parquet", None, None, None, "cannot read file"),
    )
    (directory / "payments.parquet").unlink()
    (directory / "payments.csv").write_text("")
    _assert_rejected(
        engine, counts, directory, catalog, ("payments.csv", None, None, None, "cannot read file")
    )
    _assert_rejected(
        engine,
        counts,
        directory / "nowhere",
        catalog,
        (str(directory / "nowhere"), None, None, None, "not a directory"),
    )
