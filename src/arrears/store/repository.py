"""Rows to domain values and back, for one loan at a time.

The domain (`arrears.loans`) works on frozen values; this module is the only place that knows
which tables hold them. Functions take the caller's session and never commit, so a unit of work
can combine a payment, its allocations, the new status and the event in one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, ScalarSelect, Select, bindparam, delete, func, insert, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.engine import Connection, Engine, Row
from sqlalchemy.orm import Session

from arrears.catalog import Catalog
from arrears.loans.allocation import AllocationLine
from arrears.loans.product import InterestBasis, RepaymentMethod
from arrears.loans.status import LoanStatus
from arrears.loans.terms import Installment, Loan, LoanTerms, Override, Pause, Payment
from arrears.store import tables as t
from arrears.store.db import single_read


class LoanNotFound(LookupError):
    def __init__(self, loan_id: str) -> None:
        super().__init__(loan_id)
        self.loan_id = loan_id

    def __str__(self) -> str:
        return f"loan {self.loan_id!r} not found"


class PaymentNotFound(LookupError):
    def __init__(self, payment_id: str) -> None:
        super().__init__(payment_id)
        self.payment_id = payment_id

    def __str__(self) -> str:
        return f"payment {self.payment_id!r} not found"


class DuplicatePayment(ValueError):
    """A payment id that is already recorded: payment ids come from the payer's system and must
    be unique, so a second import of the same file is caught rather than counted twice."""

    def __init__(self, payment_id: str, loan_id: str) -> None:
        super().__init__(f"payment {payment_id!r} is already recorded (loan {loan_id!r})")
        self.payment_id = payment_id


@dataclass(frozen=True, slots=True)
class LoanRecord:
    """A domain loan with the facts the status rules do not read but its callers need."""

    loan: Loan
    product: str
    borrower_id: str


def _require_loan(session: Session, loan_id: str) -> t.Loan:
    row = session.get(t.Loan, loan_id)
    if row is None:
        raise LoanNotFound(loan_id)
    return row


# The statements that read one loan, built once: `load_loan` runs on every status request, and
# building statements and ORM entities there cost more than the rules themselves.
_L, _I, _P, _Z, _O = t.Loan, t.Instalment, t.Payment, t.PauseRow, t.OverrideRow
_ID = bindparam("loan_id")
_READ_LOAN = select(
    _L.loan_id,
    _L.borrower_id,
    _L.product,
    _L.principal,
    _L.annual_rate,
    _L.term_months,
    _L.repayment_method,
    _L.disbursed_on,
    _L.currency,
    _L.first_due_on,
    _L.interest_basis,
    _L.penalty_rate,
    _L.restructured_on,
    _L.written_off_on,
).where(_L.loan_id == _ID)
_READ_SCHEDULE = (
    select(_I.seq, _I.due_on, _I.principal, _I.interest, _I.fee)
    .where(_I.loan_id == _ID)
    .order_by(_I.seq)
)
_READ_PAYMENTS = (
    select(_P.payment_id, _P.paid_on, _P.amount, _P.reversed_at)
    .where(_P.loan_id == _ID)
    .order_by(_P.paid_on, _P.payment_id)
)
_READ_PAUSES = (
    select(_Z.start_on, _Z.end_on, _Z.reason).where(_Z.loan_id == _ID).order_by(_Z.start_on, _Z.id)
)
_READ_OVERRIDES = (
    select(_O.classification, _O.reason, _O.author, _O.expires_on, _O.effective_on)
    .where(_O.loan_id == _ID)
    .order_by(_O.id)
)


def read_loan(conn: Connection, loan_id: str) -> LoanRecord:
    """`load_loan` on a plain connection (the read-only path of the service). On PostgreSQL the
    loan and its four parts come back in one statement (`LOAN_PARTS_JSON`)."""
    if conn.dialect.name == "postgresql":
        row = conn.execute(READ_LOAN_ONCE, {"loan_id": loan_id}).first()
        if row is None:
            raise LoanNotFound(loan_id)
        return loan_record_from_json(row)
    params = {"loan_id": loan_id}
    row = conn.execute(_READ_LOAN, params).first()
    if row is None:
        raise LoanNotFound(loan_id)
    schedule = tuple(
        Installment(seq=seq, due_on=due_on, principal=principal, interest=interest, fee=fee)
        for seq, due_on, principal, interest, fee in conn.execute(_READ_SCHEDULE, params)
    )
    payments = tuple(
        Payment(payment_id=pid, paid_on=paid_on, amount=amount, reversed=reversed_at is not None)
        for pid, paid_on, amount, reversed_at in conn.execute(_READ_PAYMENTS, params)
    )
    pauses = tuple(
        Pause(start=start, end=end, reason=reason)
        for start, end, reason in conn.execute(_READ_PAUSES, params)
    )
    overrides = tuple(
        Override(
            classification=classification,
            reason=reason,
            author=author,
            expires_on=expires_on,
            effective_on=effective_on,
        )
        for classification, reason, author, expires_on, effective_on in conn.execute(
            _READ_OVERRIDES, params
        )
    )
    return _loan_record(row, schedule, payments, pauses, overrides)


def read_loan_from(engine: Engine, loan_id: str) -> LoanRecord:
    """`read_loan` in a connection of its own: outside a transaction on PostgreSQL, where it is
    one statement (consistent by itself); in one transaction elsewhere, where it is five."""
    if engine.dialect.name == "postgresql":
        with single_read(engine) as conn:
            return read_loan(conn, loan_id)
    with engine.connect() as conn:
        return read_loan(conn, loan_id)


def _loan_record(
    row: Row[Any],
    schedule: tuple[Installment, ...],
    payments: tuple[Payment, ...],
    pauses: tuple[Pause, ...],
    overrides: tuple[Override, ...],
) -> LoanRecord:
    terms = LoanTerms(
        principal=row.principal,
        annual_rate=row.annual_rate,
        term_months=row.term_months,
        method=cast(RepaymentMethod, row.repayment_method),
        disbursed_on=row.disbursed_on,
        currency=row.currency,
        first_due_on=row.first_due_on,
        interest_basis=cast(InterestBasis | None, row.interest_basis),
        penalty_rate=row.penalty_rate,
    )
    loan = Loan(
        loan_id=row.loan_id,
        terms=terms,
        schedule=schedule,
        payments=payments,
        pauses=pauses,
        overrides=overrides,
        restructured_on=row.restructured_on,
        written_off_on=row.written_off_on,
    )
    return LoanRecord(loan=loan, product=row.product, borrower_id=row.borrower_id)


# ------------------------------------------------------------------ one round trip (PostgreSQL)
# A status request or a loan page on PostgreSQL spent most of its database time on round trips:
# five statements for a loan. Each part is instead aggregated into a JSON array of rows, in order,
# next to the loan's own columns. Dates come back as ISO text; amounts are integers, so JSON
# carries them exactly.


def json_rows(
    columns: Sequence[ColumnElement[Any]],
    where: ColumnElement[bool],
    order_by: Sequence[tuple[ColumnElement[Any], bool]],
    limit: int | None = None,
) -> ScalarSelect[Any]:
    """`(SELECT json_agg(json_build_array(columns…) ORDER BY …) FROM … WHERE …)`: the rows as
    one JSON array, NULL when there are none. `order_by` pairs are (column, descending); with
    `limit`, only the first `limit` rows in that order."""
    if limit is None:
        order = [c.desc() if desc else c for c, desc in order_by]
        return (
            select(func.json_agg(aggregate_order_by(func.json_build_array(*columns), *order)))
            .where(where)
            .scalar_subquery()
        )
    rows = (
        select(*columns)
        .where(where)
        .order_by(*(c.desc() if desc else c for c, desc in order_by))
        .limit(limit)
    )
    return json_array_of(rows, [(c.key, desc) for c, desc in order_by])


def json_array_of(rows: Select[Any], order_by: Sequence[tuple[str, bool]]) -> ScalarSelect[Any]:
    """`(SELECT json_agg(json_build_array(…) ORDER BY …) FROM (rows) AS r)`: any statement's
    rows (which may filter, window and limit) as one JSON array, ordered by the named columns
    of `rows` ((name, descending) pairs). `rows` is correlated to the loan being read."""
    sub = rows.correlate(_L).subquery()  # a FROM subquery is not correlated by itself
    order = [sub.c[name].desc() if desc else sub.c[name] for name, desc in order_by]
    return select(
        func.json_agg(aggregate_order_by(func.json_build_array(*sub.c), *order))
    ).scalar_subquery()


def _day(text: str | None) -> date | None:
    return None if text is None else date.fromisoformat(text)


# The parts' columns, in the order `loan_record_from_json` reads them; the page reads payments
# with two more columns (reference, reversal reason), which the loan ignores.
LOAN_PARTS_JSON = (
    json_rows(
        [_I.seq, _I.due_on, _I.principal, _I.interest, _I.fee],
        _I.loan_id == _L.loan_id,
        [(_I.seq, False)],
    ).label("schedule_json"),
    json_rows(
        [_Z.start_on, _Z.end_on, _Z.reason],
        _Z.loan_id == _L.loan_id,
        [(_Z.start_on, False), (_Z.id, False)],
    ).label("pauses_json"),
    json_rows(
        [_O.classification, _O.reason, _O.author, _O.expires_on, _O.effective_on],
        _O.loan_id == _L.loan_id,
        [(_O.id, False)],
    ).label("overrides_json"),
)
PAYMENTS_JSON = json_rows(
    [_P.payment_id, _P.paid_on, _P.amount, _P.reversed_at, _P.reference, _P.reversal_reason],
    _P.loan_id == _L.loan_id,
    [(_P.paid_on, False), (_P.payment_id, False)],
).label("payments_json")
READ_LOAN_ONCE = _READ_LOAN.add_columns(*LOAN_PARTS_JSON, PAYMENTS_JSON)


def loan_record_from_json(row: Row[Any]) -> LoanRecord:
    """The `LoanRecord` of a row of `READ_LOAN_ONCE` (or a statement that adds columns to it)."""
    schedule = tuple(
        Installment(seq=s, due_on=date.fromisoformat(d), principal=p, interest=i, fee=f)
        for s, d, p, i, f in row.schedule_json or ()
    )
    payments = tuple(
        Payment(
            payment_id=p[0],
            paid_on=date.fromisoformat(p[1]),
            amount=p[2],
            reversed=p[3] is not None,
        )
        for p in row.payments_json or ()
    )
    pauses = tuple(
        Pause(start=date.fromisoformat(a), end=date.fromisoformat(b), reason=r)
        for a, b, r in row.pauses_json or ()
    )
    overrides = tuple(
        Override(
            classification=c,
            reason=r,
            author=a,
            expires_on=_day(x),
            effective_on=_day(e),
        )
        for c, r, a, x, e in row.overrides_json or ()
    )
    return _loan_record(row, schedule, payments, pauses, overrides)


def load_loan(session: Session, loan_id: str) -> LoanRecord:
    """The loan `loan_id` as a domain value: terms, schedule by seq, payments by date then id
    (reversed ones flagged), pauses by start date, overrides in the order they were made.
    Reads inside the session's transaction, after flushing what it holds."""
    session.flush()
    return read_loan(session.connection(), loan_id)


def add_loan(session: Session, record: LoanRecord) -> t.Loan:
    """Store a new loan with its schedule, payments, pauses and overrides: the inverse of
    `load_loan` (the borrower must exist already)."""
    loan, terms = record.loan, record.loan.terms
    for p in loan.payments:
        if p.reversed:
            raise ValueError(
                f"payment {p.payment_id!r} is marked reversed: record it, then reverse it with "
                "mark_payment_reversed so the time and reason are kept"
            )
    row = t.Loan(
        loan_id=loan.loan_id,
        borrower_id=record.borrower_id,
        product=record.product,
        currency=terms.currency,
        principal=terms.principal,
        annual_rate=terms.annual_rate,
        term_months=terms.term_months,
        repayment_method=terms.method,
        disbursed_on=terms.disbursed_on,
        first_due_on=terms.first_due_on,
        interest_basis=terms.interest_basis,
        penalty_rate=terms.penalty_rate,
        restructured_on=loan.restructured_on,
        written_off_on=loan.written_off_on,
    )
    session.add(row)
    session.flush()  # the parent row first, so the children's foreign keys hold
    session.add_all(
        t.Instalment(
            loan_id=loan.loan_id,
            seq=i.seq,
            due_on=i.due_on,
            principal=i.principal,
            interest=i.interest,
            fee=i.fee,
        )
        for i in loan.schedule
    )
    for p in loan.payments:
        add_payment(session, loan.loan_id, p.payment_id, p.paid_on, p.amount)
    for pause in loan.pauses:
        add_pause(session, loan.loan_id, pause)
    for override in loan.overrides:
        add_override(session, loan.loan_id, override)
    session.flush()
    return row


def add_payment(
    session: Session,
    loan_id: str,
    payment_id: str,
    paid_on: date,
    amount: int,
    reference: str | None = None,
) -> t.Payment:
    """Record money received for `loan_id` (`amount` in minor units, positive)."""
    if amount <= 0:
        raise ValueError(f"payment {payment_id!r}: amount must be positive, got {amount}")
    _require_loan(session, loan_id)
    existing = session.get(t.Payment, payment_id)
    if existing is not None:
        raise DuplicatePayment(payment_id, existing.loan_id)
    row = t.Payment(
        payment_id=payment_id, loan_id=loan_id, paid_on=paid_on, amount=amount, reference=reference
    )
    session.add(row)
    session.flush()
    return row


def get_payment(session: Session, payment_id: str) -> t.Payment:
    """The stored payment `payment_id` (with its loan, reference and reversal)."""
    row = session.get(t.Payment, payment_id)
    if row is None:
        raise PaymentNotFound(payment_id)
    return row


def mark_payment_reversed(
    session: Session, payment_id: str, reason: str, at: datetime
) -> t.Payment:
    """Mark a payment reversed (bounced, charged back). The row is kept, so history and the
    event log still explain why the loan's arrears changed."""
    if at.tzinfo is None:
        raise ValueError("reversal time must be timezone-aware")
    row = get_payment(session, payment_id)
    if row.reversed_at is not None:
        raise ValueError(f"payment {payment_id!r} was already reversed at {row.reversed_at}")
    row.reversed_at = at
    row.reversal_reason = reason
    session.flush()
    return row


def replace_allocations(session: Session, loan_id: str, lines: Iterable[AllocationLine]) -> int:
    """Replace the loan's stored allocation with `lines` (allocation is recomputed from all
    payments, so the old rows are wrong as a whole, not line by line). Returns the row count."""
    rows = [
        {
            "loan_id": loan_id,
            "payment_id": line.payment_id,
            "seq": line.seq,
            "component": line.component,
            "amount": line.amount,
            "applied_on": line.applied_on,
        }
        for line in lines
    ]
    session.execute(delete(t.AllocationRow).where(t.AllocationRow.loan_id == loan_id))
    if rows:
        session.execute(insert(t.AllocationRow), rows)
    return len(rows)


def list_allocations(session: Session, loan_id: str) -> list[AllocationLine]:
    """The loan's stored allocation lines, in the order they were written."""
    query = (
        select(t.AllocationRow)
        .where(t.AllocationRow.loan_id == loan_id)
        .order_by(t.AllocationRow.id)
    )
    return [
        AllocationLine(
            payment_id=r.payment_id,
            seq=r.seq,
            component=r.component,
            amount=r.amount,
            applied_on=r.applied_on,
        )
        for r in session.scalars(query)
    ]


# The status fields a snapshot row stores (besides loan, date, rules version, day's penalty).
SNAPSHOT_FIELDS = (
    "status",
    "days_past_due",
    "bucket",
    "classification",
    "ifrs9_stage",
    "outstanding_principal",
    "overdue_principal",
    "overdue_interest",
    "overdue_fee",
    "overdue_penalty",
    "next_due_on",
    "next_due_amount",
)


def save_snapshot(session: Session, status: LoanStatus, rules_version: str) -> t.StatusSnapshot:
    """Store the loan's status as of `status.as_of`, replacing any earlier one for that date
    (a payment posted later in the day recomputes the same date)."""
    row = session.get(t.StatusSnapshot, (status.loan_id, status.as_of))
    if row is None:
        row = t.StatusSnapshot(loan_id=status.loan_id, as_of=status.as_of)
        session.add(row)
    for name in SNAPSHOT_FIELDS:
        setattr(row, name, getattr(status, name))
    row.penalty_accrued = status.penalty_accrued_today
    row.rules_version = rules_version
    session.flush()
    return row


def sync_products(session: Session, catalog: Catalog) -> int:
    """Write the catalog's products to the `products` table (insert or update by code).

    Products no longer in the catalog are kept: loans may still name them, and a report must
    still find their names. Returns the number of products written.
    """
    for code, product in catalog.products.items():
        definition = product.model_dump(mode="json")
        row = session.get(t.Product, code)
        if row is None:
            session.add(
                t.Product(
                    code=code,
                    name_zh=product.name_zh,
                    name_en=product.name_en,
                    definition=definition,
                )
            )
        else:
            row.name_zh, row.name_en, row.definition = product.name_zh, product.name_en, definition
    session.flush()
    return len(catalog.products)


def add_pause(session: Session, loan_id: str, pause: Pause) -> t.PauseRow:
    """Record a hardship pause on `loan_id`."""
    if pause.end < pause.start:
        raise ValueError(f"pause ends ({pause.end}) before it starts ({pause.start})")
    _require_loan(session, loan_id)
    row = t.PauseRow(loan_id=loan_id, start_on=pause.start, end_on=pause.end, reason=pause.reason)
    session.add(row)
    session.flush()
    return row


def add_override(session: Session, loan_id: str, override: Override) -> t.OverrideRow:
    """Record a manual classification override on `loan_id`."""
    _require_loan(session, loan_id)
    row = t.OverrideRow(
        loan_id=loan_id,
        classification=override.classification,
        reason=override.reason,
        author=override.author,
        effective_on=override.effective_on,
        expires_on=override.expires_on,
    )
    session.add(row)
    session.flush()
    return row


def loan_ids(session: Session, limit: int) -> list[str]:
    """The first `limit` loan ids, in id order."""
    return list(session.scalars(select(t.Loan.loan_id).order_by(t.Loan.loan_id).limit(limit)))
