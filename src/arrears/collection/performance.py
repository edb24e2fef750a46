"""Collector performance over a period — never the recovered amount alone (RULES C12: collectors
must not be assessed on a single recovered-amount metric).

Per collector, for contacts made and promises falling due between `start` and `end` (inclusive):

| figure | definition |
| --- | --- |
| `attempts` | outbound contacts actually made (sent) |
| `blocked` | outbound contacts the guard or a dispute stopped |
| `right_party_contacts` | contacts with the debtor whose outcome shows a conversation |
| `rpc_rate` | right-party contacts / attempts (denominator: attempts, not connects) |
| `promises` | promises made (count) |
| `promise_rate` | promises / right-party contacts |
| `promises_due`, `kept`, `kept_rate`, `kept_amount_rate` | promises whose date + grace ended in the period and were judged; kept by count and by amount |
| `collected` | payments on the loans of cases assigned to the collector, paid on or after the assignment day, in the period (minor units per currency) |
| `compliance_block_rate` | blocked / (attempts + blocked): a quality measure |
| `dispute_rate` | disputes opened on their cases in the period / right-party contacts: a quality measure |
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Engine, and_, func, select

from arrears.collection.work import RIGHT_PARTY
from arrears.loans.money import format_amount
from arrears.store.db import unit_of_work
from arrears.store.tables import (
    CaseLoan,
    CollectionCase,
    CollectorProfile,
    ContactRow,
    DisputeRow,
    Payment,
    PromiseRow,
)

MAX_GRACE_DAYS = 31  # the policy's upper bound for promise_grace_days


def _rate(num: int, den: int) -> float | None:
    return None if den == 0 else round(num / den, 4)


def collector_performance(engine: Engine, start: date, end: date) -> list[dict[str, Any]]:
    """The figures of the module doc for every collector with a profile."""
    # contact times are UTC; the period's days are UTC days
    first = datetime.combine(start, time(), UTC)
    after = datetime.combine(end + timedelta(days=1), time(), UTC)
    with unit_of_work(engine) as session:
        names = list(
            session.scalars(select(CollectorProfile.username).order_by(CollectorProfile.username))
        )
        figures: dict[str, dict[str, Any]] = {n: defaultdict(int) for n in names}
        contacts = session.execute(
            select(
                ContactRow.by_user,
                ContactRow.direction,
                ContactRow.sent,
                ContactRow.party,
                ContactRow.outcome,
            ).where(ContactRow.at >= first, ContactRow.at < after)
        ).all()
        for user, direction, sent, party, outcome in contacts:
            if user not in figures:
                continue
            f = figures[user]
            if direction == "outbound":
                f["attempts" if sent else "blocked"] += 1
            if sent and party == "debtor" and outcome in RIGHT_PARTY:
                f["right_party_contacts"] += 1
        for user, state, amount, due_on, grace, made_on in session.execute(
            select(
                PromiseRow.made_by,
                PromiseRow.state,
                PromiseRow.amount,
                PromiseRow.due_on,
                PromiseRow.grace_days,
                PromiseRow.made_on,
            ).where(
                PromiseRow.made_on <= end,
                PromiseRow.due_on >= start - timedelta(days=MAX_GRACE_DAYS),
            )
        ):
            if user not in figures:
                continue
            f = figures[user]
            if start <= made_on <= end:
                f["promises"] += 1
            if state in ("kept", "broken") and start <= due_on + timedelta(days=grace) <= end:
                f["promises_due"] += 1
                f["promised_amount_due"] += amount
                if state == "kept":
                    f["kept"] += 1
                    f["kept_amount"] += amount
        collected = session.execute(
            select(CollectionCase.assigned_to, CollectionCase.currency, func.sum(Payment.amount))
            .join(CaseLoan, CaseLoan.case_id == CollectionCase.case_id)
            .join(
                Payment,
                and_(
                    Payment.loan_id == CaseLoan.loan_id,
                    Payment.reversed_at.is_(None),
                    Payment.paid_on >= CollectionCase.assigned_on,
                    Payment.paid_on.between(start, end),
                ),
            )
            .where(CollectionCase.assigned_to.in_(names))
            .group_by(CollectionCase.assigned_to, CollectionCase.currency)
        ).all()
        by_user: dict[str, dict[str, str]] = defaultdict(dict)
        for user, currency, total in collected:
            by_user[user][currency] = format_amount(int(total), currency)
        disputes = session.execute(
            select(CollectionCase.assigned_to, func.count())
            .join(DisputeRow, DisputeRow.case_id == CollectionCase.case_id)
            .where(DisputeRow.opened_on.between(start, end), CollectionCase.assigned_to.in_(names))
            .group_by(CollectionCase.assigned_to)
        ).all()
        for user, n in disputes:
            figures[user]["disputes"] = n
    out = []
    for name in names:
        f = figures[name]
        out.append(
            {
                "collector": name,
                "attempts": f["attempts"],
                "blocked": f["blocked"],
                "right_party_contacts": f["right_party_contacts"],
                "rpc_rate": _rate(f["right_party_contacts"], f["attempts"]),
                "promises": f["promises"],
                "promise_rate": _rate(f["promises"], f["right_party_contacts"]),
                "promises_due": f["promises_due"],
                "kept": f["kept"],
                "kept_rate": _rate(f["kept"], f["promises_due"]),
                "kept_amount_rate": _rate(f["kept_amount"], f["promised_amount_due"]),
                "collected": by_user.get(name, {}),
                "compliance_block_rate": _rate(f["blocked"], f["attempts"] + f["blocked"]),
                "dispute_rate": _rate(f["disputes"], f["right_party_contacts"]),
            }
        )
    return out
