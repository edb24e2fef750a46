"""Reads for the pages: loan search, one loan, one borrower. Reads only — every figure comes from
the rules (`loans/`), the snapshots the COB and servicing wrote, or `reports/`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Engine, Select, and_, bindparam, func, or_, select

from arrears.catalog import Catalog
from arrears.loans.allocation import replay
from arrears.loans.money import format_amount
from arrears.loans.status import loan_status
from arrears.store import tables as t
from arrears.store.db import single_read
from arrears.store.repository import (
    READ_LOAN_ONCE,
    LoanNotFound,
    json_array_of,
    json_rows,
    loan_record_from_json,
    read_loan,
)

SEARCH_LIMIT = 50


def money(minor: int | None, currency: str) -> str:
    if minor is None:
        return "—"
    text = format_amount(int(minor), currency)
    whole, _, frac = text.partition(".")
    sign = "-" if whole.startswith("-") else ""
    whole = f"{int(whole.lstrip('-')):,}"
    return f"{sign}{whole}.{frac}" if frac else f"{sign}{whole}"


def latest_close(engine: Engine, until: date) -> date | None:
    """The newest date with a complete close of business on or before `until`."""
    with engine.connect() as conn:
        return conn.scalar(
            select(func.max(t.CobRun.as_of)).where(
                t.CobRun.status == "complete", t.CobRun.as_of <= until
            )
        )


def closed_dates(engine: Engine, until: date) -> list[date]:
    with engine.connect() as conn:
        return list(
            conn.scalars(
                select(t.CobRun.as_of)
                .where(t.CobRun.status == "complete", t.CobRun.as_of <= until)
                .distinct()
                .order_by(t.CobRun.as_of.desc())
            )
        )


def products(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.scalars(select(t.Loan.product).distinct().order_by(t.Loan.product)))


@dataclass
class SearchRow:
    loan_id: str
    borrower_id: str
    borrower_name: str | None
    phone: str | None
    product: str
    currency: str
    principal: str
    as_of: date | None
    status: str | None
    bucket: str | None
    days_past_due: int | None
    outstanding: str | None


def search_loans(
    engine: Engine,
    *,
    q: str = "",
    phone: str = "",
    bucket: str = "",
    product: str = "",
    borrower_id: str | None = None,
    delinquent_only: bool = False,
    limit: int = SEARCH_LIMIT,
) -> list[SearchRow]:
    """Loans whose id or borrower name contains `q`, whose borrower's phone ends with `phone`,
    in `bucket` on their latest snapshot, of `product` (and past due on it, `delinquent_only`:
    what a collector may open); by loan id, at most `limit`."""
    s = t.StatusSnapshot
    latest = (
        select(s.loan_id, func.max(s.as_of).label("as_of")).group_by(s.loan_id).subquery("latest")
    )
    query = (
        select(
            t.Loan.loan_id,
            t.Loan.borrower_id,
            t.Borrower.name,
            t.Borrower.phone,
            t.Loan.product,
            t.Loan.currency,
            t.Loan.principal,
            s.as_of,
            s.status,
            s.bucket,
            s.days_past_due,
            s.outstanding_principal,
        )
        .join(t.Borrower, t.Borrower.borrower_id == t.Loan.borrower_id)
        .outerjoin(latest, latest.c.loan_id == t.Loan.loan_id)
        .outerjoin(s, and_(s.loan_id == t.Loan.loan_id, s.as_of == latest.c.as_of))
        .order_by(t.Loan.loan_id)
        .limit(limit)
    )
    q = q.strip()
    if q:
        like = f"%{q.lower()}%"
        query = query.where(
            or_(func.lower(t.Loan.loan_id).like(like), func.lower(t.Borrower.name).like(like))
        )
    digits = "".join(ch for ch in phone if ch.isdigit())
    if digits:
        query = query.where(func.replace(t.Borrower.phone, " ", "").like(f"%{digits}"))
    if bucket:
        query = query.where(s.bucket == bucket)
    if product:
        query = query.where(t.Loan.product == product)
    if borrower_id is not None:
        query = query.where(t.Loan.borrower_id == borrower_id)
    if delinquent_only:
        query = query.where(s.days_past_due > 0)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return [
        SearchRow(
            loan_id=r[0],
            borrower_id=r[1],
            borrower_name=r[2],
            phone=r[3],
            product=r[4],
            currency=r[5],
            principal=money(r[6], r[5]),
            as_of=r[7],
            status=r[8],
            bucket=r[9],
            days_past_due=r[10],
            outstanding=None if r[11] is None else money(r[11], r[5]),
        )
        for r in rows
    ]


@dataclass
class LoanPage:
    loan_id: str
    borrower_id: str
    borrower_name: str | None
    product: str
    currency: str
    terms: list[tuple[str, str, str]]
    status: dict[str, Any]
    schedule: list[dict[str, Any]]
    payments: list[dict[str, Any]]
    history: list[dict[str, Any]]
    events: list[dict[str, Any]] = field(default_factory=list)

    @property
    def delinquent(self) -> bool:
        """Past due on the page's date (what lets a collector see the loan)."""
        return bool(self.status["days_past_due"] > 0)


def _status_dict(status: Any, currency: str) -> dict[str, Any]:
    return {
        "as_of": status.as_of.isoformat(),
        "status": status.status,
        "days_past_due": status.days_past_due,
        "bucket": status.bucket,
        "classification": status.classification,
        "ifrs9_stage": str(status.ifrs9_stage),
        "outstanding_principal": money(status.outstanding_principal, currency),
        "overdue_principal": money(status.overdue_principal, currency),
        "overdue_interest": money(status.overdue_interest, currency),
        "overdue_fee": money(status.overdue_fee, currency),
        "overdue_penalty": money(status.overdue_penalty, currency),
        "overdue_total": money(
            status.overdue_principal
            + status.overdue_interest
            + status.overdue_fee
            + status.overdue_penalty,
            currency,
        ),
        "overdue_total_minor": status.overdue_principal
        + status.overdue_interest
        + status.overdue_fee
        + status.overdue_penalty,
        "next_due_on": status.next_due_on.isoformat() if status.next_due_on else "—",
        "next_due_amount": money(status.next_due_amount, currency),
        "credit_balance": money(status.credit_balance, currency),
    }


_P, _S, _E = t.Payment, t.StatusSnapshot, t.Event
_LOAN_ID = bindparam("loan_id")
_BORROWER_NAME = select(t.Borrower.name).where(t.Borrower.borrower_id == bindparam("borrower_id"))
_PAGE_PAYMENTS = (
    select(_P.payment_id, _P.paid_on, _P.amount, _P.reversed_at, _P.reference, _P.reversal_reason)
    .where(_P.loan_id == _LOAN_ID)
    .order_by(_P.paid_on, _P.payment_id)
)
# The status history shows changes, not days: a snapshot is listed when its status, bucket,
# class or stage differs from the day before (and the newest one, the status today). Sixty
# identical daily rows told a reader less than the three dates on which the loan moved.
HISTORY_LIMIT = 60
EVENTS_FIRST = 20  # on the page; older ones load on demand (`loan_events`)
EVENTS_MORE = 50
_HISTORY_COLUMNS = (
    _S.as_of,
    _S.status,
    _S.days_past_due,
    _S.bucket,
    _S.classification,
    _S.ifrs9_stage,
    _S.outstanding_principal,
)


def _status_changes(loan_match: Any) -> Select[Any]:
    by_day = {"order_by": _S.as_of}
    marked = (
        select(
            *_HISTORY_COLUMNS,
            func.lag(_S.status).over(**by_day).label("prev_status"),
            func.lag(_S.bucket).over(**by_day).label("prev_bucket"),
            func.lag(_S.classification).over(**by_day).label("prev_class"),
            func.lag(_S.ifrs9_stage).over(**by_day).label("prev_stage"),
            func.row_number().over(order_by=_S.as_of.desc()).label("newest"),
        )
        .where(loan_match)
        .correlate(t.Loan)
        .subquery()
    )
    c = marked.c
    return (
        select(*(c[col.key] for col in _HISTORY_COLUMNS))
        .where(
            or_(
                c.newest == 1,
                c.prev_status.is_distinct_from(c.status),
                c.prev_bucket.is_distinct_from(c.bucket),
                c.prev_class.is_distinct_from(c.classification),
                c.prev_stage.is_distinct_from(c.ifrs9_stage),
            )
        )
        .order_by(c.as_of.desc())
        .limit(HISTORY_LIMIT)
    )


_PAGE_HISTORY = _status_changes(_S.loan_id == _LOAN_ID)
_EVENT_COLUMNS = (_E.seq, _E.type, _E.occurred_at, _E.payload)
_PAGE_EVENTS = (
    select(*_EVENT_COLUMNS)
    .where(_E.loan_id == _LOAN_ID)
    .order_by(_E.seq.desc())
    .limit(EVENTS_FIRST)
)
_OLDER_EVENTS = (
    select(*_EVENT_COLUMNS)
    .where(_E.loan_id == _LOAN_ID, _E.seq < bindparam("before"))
    .order_by(_E.seq.desc())
    .limit(EVENTS_MORE)
)
_PAGE_ONCE = READ_LOAN_ONCE.add_columns(
    select(t.Borrower.name)
    .where(t.Borrower.borrower_id == t.Loan.borrower_id)
    .scalar_subquery()
    .label("borrower_name"),
    json_array_of(_status_changes(_S.loan_id == t.Loan.loan_id), [("as_of", True)]).label(
        "history_json"
    ),
    json_rows(
        list(_EVENT_COLUMNS), _E.loan_id == t.Loan.loan_id, [(_E.seq, True)], limit=EVENTS_FIRST
    ).label("events_json"),
)


def _iso(day: date | str) -> str:
    return day if isinstance(day, str) else day.isoformat()


def _utc(at: datetime | str) -> datetime:
    moment = datetime.fromisoformat(at) if isinstance(at, str) else at
    return moment.astimezone(UTC)


def loan_page(engine: Engine, catalog: Catalog, loan_id: str, as_of: date) -> LoanPage:
    """Everything the loan page shows, on `as_of` (`LoanNotFound` if there is no such loan)."""
    # Columns, not ORM entities, only the rows shown, statements built once: this page is opened
    # all day long. On PostgreSQL it is one statement (one round trip), on SQLite five plus four.
    if engine.dialect.name == "postgresql":
        with single_read(engine) as conn:
            row = conn.execute(_PAGE_ONCE, {"loan_id": loan_id}).first()
        if row is None:
            raise LoanNotFound(loan_id)
        record = loan_record_from_json(row)
        borrower_name = row.borrower_name
        pay_rows = row.payments_json or []
        snaps = row.history_json or []
        events = row.events_json or []
    else:
        params = {"loan_id": loan_id}
        with engine.connect() as conn:
            record = read_loan(conn, loan_id)
            borrower_name = conn.execute(
                _BORROWER_NAME, {"borrower_id": record.borrower_id}
            ).scalar()
            pay_rows = conn.execute(_PAGE_PAYMENTS, params).all()
            snaps = conn.execute(_PAGE_HISTORY, params).all()
            events = conn.execute(_PAGE_EVENTS, params).all()
    terms_ = record.loan.terms
    product = catalog.get(record.product)
    ccy = record.loan.terms.currency
    rep = replay(record.loan, product, as_of)
    status = loan_status(record.loan, product, as_of, repayment=rep)
    schedule = []
    for inst in rep.instalments:
        item = inst.item
        due = item.principal + item.interest + item.fee
        unpaid = inst.unpaid
        if inst.settled_on is not None:
            mark = "paid"
        elif item.due_on < as_of and unpaid > 0:
            mark = "overdue"
        elif unpaid < due:
            mark = "partial"
        else:
            mark = "due" if item.due_on >= as_of else "overdue"
        schedule.append(
            {
                "seq": item.seq,
                "due_on": item.due_on.isoformat(),
                "principal": money(item.principal, ccy),
                "interest": money(item.interest, ccy),
                "fee": money(item.fee, ccy),
                "total": money(due, ccy),
                "unpaid": money(unpaid, ccy),
                "penalty": money(inst.penalty, ccy),
                "settled_on": inst.settled_on.isoformat() if inst.settled_on else "",
                "mark": mark,
            }
        )
    # Rows are positional (the statements' column order): dates are `date`s from the separate
    # statements and ISO text from the JSON one, hence `_iso`.
    payments = [
        {
            "payment_id": payment_id,
            "paid_on": _iso(paid_on),
            "amount": money(amount, ccy),
            "reference": reference or "",
            "reversed": reversed_at is not None,
            "reversal_reason": reversal_reason or "",
        }
        for payment_id, paid_on, amount, reversed_at, reference, reversal_reason in pay_rows
    ]
    history = [
        {
            "as_of": _iso(on),
            "status": status_,
            "days_past_due": dpd,
            "bucket": bucket,
            "classification": classification,
            "ifrs9_stage": str(stage),
            "outstanding": money(outstanding, ccy),
        }
        for on, status_, dpd, bucket, classification, stage, outstanding in snaps
    ]
    terms = [
        ("Product", "产品", record.product),
        ("Currency", "币种", ccy),
        ("Principal", "本金", money(terms_.principal, ccy)),
        ("Annual rate", "年利率", f"{terms_.annual_rate * 100:.2f}%"),
        ("Term (months)", "期限（月）", str(terms_.term_months)),
        ("Repayment method", "还款方式", terms_.method),
        ("Disbursed on", "放款日", terms_.disbursed_on.isoformat()),
        (
            "First due on",
            "首期还款日",
            terms_.first_due_on.isoformat() if terms_.first_due_on else "—",
        ),
    ]
    if record.loan.restructured_on:
        terms.append(("Restructured on", "重组日", record.loan.restructured_on.isoformat()))
    if record.loan.written_off_on:
        terms.append(("Written off on", "核销日", record.loan.written_off_on.isoformat()))
    return LoanPage(
        loan_id=loan_id,
        borrower_id=record.borrower_id,
        borrower_name=borrower_name,
        product=record.product,
        currency=ccy,
        terms=terms,
        status=_status_dict(status, ccy),
        schedule=schedule,
        payments=payments,
        history=history,
        events=_event_rows(events),
    )


def _event_rows(rows: Any) -> list[dict[str, Any]]:
    return [
        {
            "seq": seq,
            "type": type_,
            "occurred_at": _utc(occurred_at).strftime("%Y-%m-%d %H:%M"),
            "payload": ", ".join(f"{k}={v}" for k, v in (payload or {}).items()),
        }
        for seq, type_, occurred_at, payload in rows
    ]


def loan_events(engine: Engine, loan_id: str, before: int) -> list[dict[str, Any]]:
    """The loan's events older than `before` (an event `seq`), newest first, `EVENTS_MORE` at
    most: the page's "older events" button."""
    with single_read(engine) as conn:
        rows = conn.execute(_OLDER_EVENTS, {"loan_id": loan_id, "before": before}).all()
    return _event_rows(rows)


def status_view(view: Any) -> dict[str, Any]:
    """A servicing `LoanView`'s status as the loan page shows it."""
    return _status_dict(view.status, view.currency)


# ------------------------------------------------------------------ credit profile (bureau)


@dataclass
class ProfileRow:
    feature: str
    en: str
    zh: str
    value: str | tuple[str, str]  # text, or an (English, 中文) pair for yes/no
    external: bool = False  # from a third-party source rather than our own history


@dataclass
class CreditProfileView:
    rows: list[ProfileRow]
    sources: list[dict[str, Any]]  # name, en, zh, fetched_on, stale


def credit_profile_view(engine: Engine, borrower_id: str, as_of: date) -> CreditProfileView:
    """The borrower's credit profile (`arrears.bureau.profile`), ready to print: internal
    history first, then what external sources said; amounts in the loans' currency."""
    from arrears.bureau.profile import EXTERNAL_LABELS, LABELS, MONEY_FEATURES, credit_profile
    from arrears.bureau.sources import SOURCES

    profile = credit_profile(engine, borrower_id, as_of)
    features = profile["features"]
    currency = features.get("currency")
    rows = []
    for name, (en, zh) in LABELS.items():
        value = features.get(name)
        text: str | tuple[str, str]
        if value is None:
            text = "—"
        elif isinstance(value, bool):
            text = ("yes", "是") if value else ("no", "否")
        elif name in MONEY_FEATURES:
            cur = currency if currency and currency != "mixed" else "CNY"
            text = f"{money(int(value), cur)} {cur}"
        else:
            text = str(value)
        rows.append(ProfileRow(name, en, zh, text, name in EXTERNAL_LABELS))
    sources = [
        {
            "name": name,
            "en": SOURCES[name][0],
            "zh": SOURCES[name][1],
            "fetched_on": info["fetched_at"][:10],
            "stale": info["stale"],
        }
        for name, info in profile["sources"].items()
    ]
    return CreditProfileView(rows, sources)
