"""Small builders so each rulebook test states only what matters to its rule."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from arrears.catalog import load_catalog
from arrears.loans.product import Product
from arrears.loans.schedule import build_schedule
from arrears.loans.terms import Installment, Loan, LoanTerms, Pause, Payment

CATALOG = load_catalog()


def product(code: str = "consumer", **changes: object) -> Product:
    base = CATALOG.get(code)
    return base.model_validate({**base.model_dump(), **changes}) if changes else base


def d(text: str) -> date:
    return date.fromisoformat(text)


def terms(
    principal: int = 12000000,
    rate: str = "0.12",
    months: int = 12,
    method: str = "equal_installment",
    disbursed: str = "2026-01-15",
    **more: object,
) -> LoanTerms:
    return LoanTerms(principal, Decimal(rate), months, method, d(disbursed), **more)  # type: ignore[arg-type]


def loan(
    schedule: list[Installment] | tuple[Installment, ...] | None = None,
    payments: list[tuple[str, int]] | None = None,
    t: LoanTerms | None = None,
    pauses: list[Pause] | None = None,
    **more: object,
) -> Loan:
    t = t or terms()
    rows = tuple(schedule) if schedule is not None else build_schedule(t)
    pays = tuple(Payment(f"p{k}", d(day), amount) for k, (day, amount) in enumerate(payments or []))
    return Loan("L1", t, rows, pays, tuple(pauses or ()), **more)  # type: ignore[arg-type]


def simple_schedule(*rows: tuple[str, int, int]) -> list[Installment]:
    """(due date, principal, interest) rows, numbered from 1."""
    return [Installment(k, d(due), p, i) for k, (due, p, i) in enumerate(rows, start=1)]
