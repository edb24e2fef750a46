"""Validation of a whole book, vectorised: each rule is a Polars boolean expression over a file,
and only the rows where it fails become `ImportIssue`s. The result is the typed frames to write.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cache
from zoneinfo import available_timezones

import polars as pl
import pycountry

from arrears.catalog import Catalog
from arrears.imports.issues import ROW, Issues
from arrears.imports.parse import (
    AT_MOST_ONE_RE,
    CURRENCIES,
    NON_NEGATIVE_RE,
    amount,
    date_,
    integer,
)
from arrears.imports.read import COLUMNS, BookFile
from arrears.loans.money import MINOR_UNITS
from arrears.loans.product import INTEREST_BASES, REPAYMENT_METHODS
from arrears.loans.schedule import ScheduleError, check_custom_schedule
from arrears.loans.terms import Installment, LoanTerms

DEFAULT_TIMEZONE = "Asia/Shanghai"
DEFAULT_LANGUAGE = "zh"
DEFAULT_COUNTRY = "CN"
DEFAULT_CURRENCY = "CNY"
KINDS = ("individual", "enterprise")
LANGUAGES = ("zh", "en")
MAX_TERM_MONTHS = 600
MISSING = "required value missing"
EMAIL_RE = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
REGION_RE = r"^[A-Z]{2}-[A-Z0-9]{1,3}$"

# Column widths of the tables: a longer value would be cut or refused by the database.
WIDTHS = {
    "borrower_id": 64,
    "name": 200,
    "national_id": 64,
    "phone": 32,
    "email": 254,
    "loan_id": 64,
    "payment_id": 64,
    "annual_rate": 40,
    "penalty_rate": 40,
}


@cache
def _timezones() -> list[str]:
    return sorted(available_timezones())


@cache
def _countries() -> list[str]:
    return sorted(country.alpha_2 for country in pycountry.countries)


@cache
def _regions() -> list[str]:
    return sorted(sub.code for sub in pycountry.subdivisions)


@dataclass
class DbState:
    """What the database already holds that an import must be checked against."""

    borrower_ids: pl.Series
    loans: pl.DataFrame  # loan_id, borrower_id, currency, disbursed_on (Date)
    payment_ids: pl.Series

    @classmethod
    def empty(cls) -> DbState:
        return cls(
            pl.Series("borrower_id", [], pl.String),
            pl.DataFrame(
                schema={
                    "loan_id": pl.String,
                    "borrower_id": pl.String,
                    "currency": pl.String,
                    "disbursed_on": pl.Date,
                }
            ),
            pl.Series("payment_id", [], pl.String),
        )


@dataclass
class ValidBook:
    """The typed rows to write, once every check passed."""

    borrowers: pl.DataFrame
    loans: pl.DataFrame
    payments: pl.DataFrame  # with currency and borrower_id for the events
    schedules: dict[str, tuple[Installment, ...]] = field(default_factory=dict)  # checked rows
    skipped: int = 0


def _required(columns: list[str]) -> list[tuple[str, pl.Expr, str]]:
    return [(c, pl.col(c).is_null(), MISSING) for c in columns]


def _widths(columns: list[str]) -> list[tuple[str, pl.Expr, str]]:
    return [
        (c, pl.col(c).str.len_chars() > WIDTHS[c], f"longer than {WIDTHS[c]} characters")
        for c in columns
        if c in WIDTHS
    ]


def _one_of(
    column: str, allowed: list[str] | tuple[str, ...], what: str
) -> tuple[str, pl.Expr, str]:
    return (
        column,
        ~pl.col(column).is_in(list(allowed)),
        f"{what}: expected one of {', '.join(allowed)}",
    )


def _duplicates(book: BookFile, key: str, issues: Issues) -> None:
    """Every row repeating an id of an earlier row, naming the first one."""
    frame = book.frame.with_columns(pl.col(ROW).min().over(key).alias("__first"))
    issues.check(
        book.label,
        frame,
        [
            (
                key,
                pl.col(key).is_not_null() & (pl.col(ROW) != pl.col("__first")),
                pl.format("duplicate {}: first at row {}", pl.lit(key), pl.col("__first")),
            )
        ],
        columns=book.all_columns(),
    )


def _existing(
    book: BookFile, key: str, existing: pl.Series, issues: Issues, skip_existing: bool, what: str
) -> tuple[pl.DataFrame, int]:
    """Rows whose id is already in the database: an error, or skipped with `skip_existing`."""
    frame = book.frame
    if existing.len() == 0 or frame.height == 0:
        return frame, 0
    in_db = pl.col(key).is_in(existing.implode())
    if skip_existing:
        kept = frame.filter(~in_db.fill_null(False))
        return kept, frame.height - kept.height
    issues.check(
        book.label,
        frame,
        [(key, in_db, f"{what} already in the database (use --skip-existing to skip such rows)")],
        columns=book.all_columns(),
    )
    return frame, 0


def _normalised_decimal(column: str, frame: pl.DataFrame) -> pl.Expr:
    """Rate text → the text `str(Decimal(...))` that ExactDecimal stores (over distinct values)."""
    distinct = frame.get_column(column).drop_nulls().unique().to_list()
    mapping = {}
    for text in distinct:
        try:
            mapping[text] = str(Decimal(text))
        except ArithmeticError:
            continue
    return pl.col(column).replace_strict(mapping, default=None, return_dtype=pl.String)


def validate_borrowers(
    book: BookFile, db: DbState, issues: Issues, skip_existing: bool
) -> tuple[pl.DataFrame, int]:
    cols = book.all_columns()
    _duplicates(book, "borrower_id", issues)
    frame, skipped = _existing(
        book, "borrower_id", db.borrower_ids, issues, skip_existing, "borrower_id"
    )
    country = pl.col("country").fill_null(DEFAULT_COUNTRY)
    checks: list[tuple[str, pl.Expr, str | pl.Expr]] = [
        *_required(list(COLUMNS["borrowers"][0])),
        *_widths(cols),
        _one_of("kind", KINDS, "unknown kind"),
        ("timezone", ~pl.col("timezone").is_in(_timezones()), "unknown IANA time zone"),
        _one_of("language", LANGUAGES, "unknown language"),
        (
            "country",
            ~pl.col("country").is_in(_countries()),
            "not an ISO 3166-1 alpha-2 country code",
        ),
        ("email", ~pl.col("email").str.contains(EMAIL_RE), "not an e-mail address"),
        (
            "region",
            ~pl.col("region").str.contains(REGION_RE) | ~pl.col("region").is_in(_regions()),
            "not an ISO 3166-2 subdivision code (like US-MA)",
        ),
        (
            "region",
            pl.col("region").str.contains(REGION_RE)
            & pl.col("region").is_in(_regions())
            & ~pl.col("region").str.starts_with(country + "-"),
            pl.format("region is not in country {}", country),
        ),
    ]
    issues.check(book.label, frame, checks, columns=cols)
    out = frame.select(
        "borrower_id",
        "kind",
        "name",
        "national_id",
        "phone",
        "email",
        pl.col("timezone").fill_null(DEFAULT_TIMEZONE),
        pl.col("language").fill_null(DEFAULT_LANGUAGE),
        country.alias("country"),
        "region",
    )
    return out, skipped


def validate_loans(
    book: BookFile,
    borrower_ids: pl.Series,
    schedule_loan_ids: pl.Series,
    catalog: Catalog,
    db: DbState,
    issues: Issues,
    skip_existing: bool,
) -> tuple[pl.DataFrame, int]:
    cols = book.all_columns()
    _duplicates(book, "loan_id", issues)
    frame, skipped = _existing(
        book, "loan_id", db.loans.get_column("loan_id"), issues, skip_existing, "loan_id"
    )
    frame = frame.with_columns(pl.col("currency").fill_null(DEFAULT_CURRENCY)).join(
        CURRENCIES, left_on="currency", right_on="__currency", how="left", maintain_order="left"
    )
    principal = amount("principal", pl.col("__exp"))
    frame = frame.with_columns(
        principal.minor.alias("__principal"),
        integer("term_months").alias("__term"),
        date_("disbursed_on").alias("__disbursed"),
        date_("first_due_on").alias("__first_due"),
    )
    products = sorted(catalog.products)
    checks: list[tuple[str, pl.Expr, str | pl.Expr]] = [
        *_required(list(COLUMNS["loans"][0])),
        *_widths(cols),
        (
            "borrower_id",
            ~pl.col("borrower_id").is_in(borrower_ids.implode()),
            "unknown borrower: not in borrowers nor in the database",
        ),
        (
            "product",
            ~pl.col("product").is_in(products),
            pl.format(
                "unknown product {} (known: {})", pl.col("product"), pl.lit(", ".join(products))
            ),
        ),
        (
            "currency",
            pl.col("__exp").is_null(),
            "unknown currency: ISO 4217 code with known minor units expected",
        ),
        ("principal", ~principal.well_formed, "not a decimal amount"),
        ("principal", principal.too_large, "amount too large"),
        (
            "principal",
            principal.well_formed & ~principal.too_large & (principal.decimals > pl.col("__exp")),
            pl.format("more than {} decimals for {}", pl.col("__exp"), pl.col("currency")),
        ),
        ("principal", pl.col("__principal") <= 0, "must be greater than 0"),
        (
            "annual_rate",
            ~pl.col("annual_rate").str.contains(r"^[+-]?(\d+(\.\d*)?|\.\d+)$"),
            "not a decimal rate",
        ),
        (
            "annual_rate",
            pl.col("annual_rate").str.contains(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
            & ~(
                pl.col("annual_rate").str.contains(NON_NEGATIVE_RE)
                & pl.col("annual_rate").str.contains(AT_MOST_ONE_RE)
            ),
            "annual rate must be between 0 and 1 (a decimal fraction: 0.12 for 12%)",
        ),
        (
            "term_months",
            pl.col("term_months").is_not_null() & pl.col("__term").is_null(),
            "not a whole number of months",
        ),
        (
            "term_months",
            (pl.col("__term") < 1) | (pl.col("__term") > MAX_TERM_MONTHS),
            f"term must be 1 … {MAX_TERM_MONTHS} months",
        ),
        _one_of("repayment_method", REPAYMENT_METHODS, "unknown repayment method"),
        (
            "disbursed_on",
            pl.col("disbursed_on").is_not_null() & pl.col("__disbursed").is_null(),
            "not a date (YYYY-MM-DD)",
        ),
        (
            "first_due_on",
            pl.col("first_due_on").is_not_null() & pl.col("__first_due").is_null(),
            "not a date (YYYY-MM-DD)",
        ),
        (
            "first_due_on",
            pl.col("__first_due") <= pl.col("__disbursed"),
            pl.format("first due date is not after disbursement {}", pl.col("disbursed_on")),
        ),
        _one_of("interest_basis", INTEREST_BASES, "unknown interest basis"),
        (
            "penalty_rate",
            ~pl.col("penalty_rate").str.contains(NON_NEGATIVE_RE),
            "penalty rate must be a decimal fraction ≥ 0",
        ),
        (
            "repayment_method",
            (pl.col("repayment_method") == "custom")
            & ~pl.col("loan_id").is_in(schedule_loan_ids.implode()),
            "custom loan has no rows in schedules",
        ),
    ]
    issues.check(book.label, frame, checks, columns=cols)
    out = frame.select(
        "loan_id",
        "borrower_id",
        "product",
        "currency",
        pl.col("__principal").alias("principal"),
        _normalised_decimal("annual_rate", frame).alias("annual_rate"),
        pl.col("__term").alias("term_months"),
        "repayment_method",
        pl.col("__disbursed").alias("disbursed_on"),
        pl.col("__first_due").alias("first_due_on"),
        "interest_basis",
        _normalised_decimal("penalty_rate", frame).alias("penalty_rate"),
        pl.col(ROW),
    )
    return out, skipped


def validate_payments(
    book: BookFile, loan_info: pl.DataFrame, db: DbState, issues: Issues, skip_existing: bool
) -> tuple[pl.DataFrame, int]:
    cols = book.all_columns()
    _duplicates(book, "payment_id", issues)
    frame, skipped = _existing(
        book, "payment_id", db.payment_ids, issues, skip_existing, "payment_id"
    )
    frame = frame.join(loan_info, on="loan_id", how="left", maintain_order="left")
    money = amount("amount", pl.col("__exp"))
    frame = frame.with_columns(money.minor.alias("__amount"), date_("paid_on").alias("__paid"))
    checks: list[tuple[str, pl.Expr, str | pl.Expr]] = [
        *_required(list(COLUMNS["payments"][0])),
        *_widths(cols),
        (
            "loan_id",
            pl.col("loan_id").is_not_null() & pl.col("__known").is_null(),
            "unknown loan: not in loans nor in the database",
        ),
        (
            "paid_on",
            pl.col("__paid").is_null() & pl.col("paid_on").is_not_null(),
            "not a date (YYYY-MM-DD)",
        ),
        (
            "paid_on",
            pl.col("__paid") < pl.col("disbursed_on"),
            pl.format(
                "paid before the loan was disbursed on {}", pl.col("disbursed_on").cast(pl.String)
            ),
        ),
        ("amount", pl.col("amount").is_not_null() & ~money.well_formed, "not a decimal amount"),
        ("amount", money.too_large, "amount too large"),
        (
            "amount",
            money.well_formed & ~money.too_large & (money.decimals > pl.col("__exp")),
            pl.format("more than {} decimals for {}", pl.col("__exp"), pl.col("currency")),
        ),
        ("amount", pl.col("__amount") <= 0, "must be greater than 0"),
    ]
    issues.check(book.label, frame, checks, columns=cols)
    out = frame.select(
        "payment_id",
        "loan_id",
        pl.col("__paid").alias("paid_on"),
        pl.col("__amount").alias("amount"),
        "currency",
        "borrower_id",
    )
    return out, skipped


def validate_schedules(
    book: BookFile,
    loans: pl.DataFrame,
    skipped_loan_ids: pl.Series,
    db: DbState,
    issues: Issues,
    skip_existing: bool,
) -> tuple[dict[str, tuple[Installment, ...]], int]:
    """Row checks, then `check_custom_schedule` per loan whose rows all parsed."""
    cols = book.all_columns()
    frame = book.frame
    if frame.height == 0:
        return {}, 0
    db_only = db.loans.get_column("loan_id")
    skipped = 0
    if skip_existing:
        gone = pl.col("loan_id").is_in(skipped_loan_ids.implode()) | pl.col("loan_id").is_in(
            db_only.implode()
        )
        kept = frame.filter(~gone.fill_null(False))
        skipped, frame = frame.height - kept.height, kept
    info = loans.select(
        "loan_id",
        "currency",
        pl.col("principal").alias("__loan_principal"),
        pl.col("disbursed_on").alias("__disbursed"),
        pl.col(ROW).alias("__loan_row"),
    ).join(CURRENCIES, left_on="currency", right_on="__currency", how="left")
    frame = frame.join(info, on="loan_id", how="left", maintain_order="left")
    first = pl.col(ROW).min().over("loan_id", "seq")
    parts = {c: amount(c, pl.col("__exp")) for c in ("principal", "interest", "fee")}
    frame = frame.with_columns(
        first.alias("__first"),
        integer("seq").alias("__seq"),
        date_("due_on").alias("__due"),
        *[parts[c].minor.alias(f"__{c}") for c in parts],
    )
    checks: list[tuple[str, pl.Expr, str | pl.Expr]] = [
        *_required(list(COLUMNS["schedules"][0])),
        (
            "loan_id",
            pl.col("loan_id").is_not_null()
            & pl.col("__loan_row").is_null()
            & pl.col("loan_id").is_in(db_only.implode()),
            "loan already in the database: its schedule cannot be replaced by an import",
        ),
        (
            "loan_id",
            pl.col("loan_id").is_not_null()
            & pl.col("__loan_row").is_null()
            & ~pl.col("loan_id").is_in(db_only.implode()),
            "unknown loan: not in loans",
        ),
        (
            "seq",
            pl.col("seq").is_not_null() & (pl.col("__seq").is_null() | (pl.col("__seq") < 1)),
            "instalment number must be a whole number ≥ 1",
        ),
        (
            "seq",
            pl.col("seq").is_not_null() & (pl.col(ROW) != pl.col("__first")),
            pl.format(
                "duplicate instalment {} of loan {}: first at row {}",
                pl.col("seq"),
                pl.col("loan_id"),
                pl.col("__first"),
            ),
        ),
        (
            "due_on",
            pl.col("due_on").is_not_null() & pl.col("__due").is_null(),
            "not a date (YYYY-MM-DD)",
        ),
    ]
    for c, part in parts.items():
        checks += [
            (c, pl.col(c).is_not_null() & ~part.well_formed, "not a decimal amount"),
            (c, part.too_large, "amount too large"),
            (
                c,
                part.well_formed & ~part.too_large & (part.decimals > pl.col("__exp")),
                pl.format("more than {} decimals for {}", pl.col("__exp"), pl.col("currency")),
            ),
            (c, pl.col(f"__{c}") < 0, "must not be negative"),
        ]
    issues.check(book.label, frame, checks, columns=cols)
    frame = frame.with_columns(
        pl.when(pl.col("fee").is_null())
        .then(pl.lit(0, pl.Int64))
        .otherwise(pl.col("__fee"))
        .alias("__fee"),
        (pl.col(ROW) == pl.col("__first")).alias("__unique"),
    )
    # Loans whose every row parsed get the schedule rule's own check.
    complete = frame.group_by("loan_id").agg(
        pl.col(ROW).min().alias("__first_row"),
        pl.all_horizontal(
            pl.col("__loan_row").is_not_null(),
            pl.col("__seq").is_not_null(),
            pl.col("__due").is_not_null(),
            pl.col("__principal").is_not_null(),
            pl.col("__interest").is_not_null(),
            pl.col("__fee").is_not_null(),
            pl.col("__unique"),
        )
        .all()
        .alias("__ok"),
    )
    ok_ids = complete.filter(pl.col("__ok")).get_column("loan_id")
    first_rows = dict(complete.select("loan_id", "__first_row").iter_rows())
    rows = (
        frame.filter(pl.col("loan_id").is_in(ok_ids.implode()))
        .sort("loan_id", "__seq")
        .select(
            "loan_id",
            "__seq",
            "__due",
            "__principal",
            "__interest",
            "__fee",
            "__loan_principal",
            "__disbursed",
        )
    )
    schedules: dict[str, tuple[Installment, ...]] = {}
    current: str | None = None
    group: list[Installment] = []
    terms_of: tuple[int, date] | None = None

    def finish() -> None:
        if current is None or terms_of is None:
            return
        principal, disbursed = terms_of
        terms = LoanTerms(principal, Decimal(0), 1, "custom", disbursed)
        try:
            schedules[current] = check_custom_schedule(terms, group)
        except ScheduleError as exc:
            issues.add(book.label, first_rows[current], "loan_id", current, str(exc), order=0)

    for loan_id, seq, due, principal, interest, fee, loan_principal, disbursed in rows.iter_rows():
        if loan_id != current:
            finish()
            current, group, terms_of = loan_id, [], (loan_principal, disbursed)
        group.append(Installment(seq, due, principal, interest, fee))
    finish()
    return schedules, skipped


def validate_book(
    files: dict[str, BookFile],
    catalog: Catalog,
    db: DbState,
    issues: Issues,
    *,
    skip_existing: bool,
) -> ValidBook:
    borrowers, skipped_b = validate_borrowers(files["borrowers"], db, issues, skip_existing)
    known_borrowers = pl.concat(
        [files["borrowers"].frame.get_column("borrower_id").drop_nulls(), db.borrower_ids]
    )
    schedule_ids = files["schedules"].frame.get_column("loan_id").drop_nulls().unique()
    loans, skipped_l = validate_loans(
        files["loans"], known_borrowers, schedule_ids, catalog, db, issues, skip_existing
    )
    skipped_loan_ids = (
        files["loans"]
        .frame.filter(~pl.col("loan_id").is_in(loans.get_column("loan_id").implode()))
        .get_column("loan_id")
        .drop_nulls()
    )
    loan_info = (
        pl.concat(
            [
                loans.select("loan_id", "borrower_id", "currency", "disbursed_on"),
                db.loans.select("loan_id", "borrower_id", "currency", "disbursed_on"),
            ]
        )
        .unique("loan_id", keep="first")
        .join(CURRENCIES, left_on="currency", right_on="__currency", how="left")
        .with_columns(pl.lit(True).alias("__known"))
    )
    payments, skipped_p = validate_payments(files["payments"], loan_info, db, issues, skip_existing)
    schedules, skipped_s = validate_schedules(
        files["schedules"], loans, skipped_loan_ids, db, issues, skip_existing
    )
    return ValidBook(
        borrowers=borrowers,
        loans=loans,
        payments=payments,
        schedules=schedules,
        skipped=skipped_b + skipped_l + skipped_p + skipped_s,
    )


__all__ = ["MINOR_UNITS", "DbState", "ValidBook", "validate_book"]
