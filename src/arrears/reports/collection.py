"""The collections section of the HTML report (分阶段催收): the stage funnel (how many cases ever
reached each stage), how cases closed and the cure rate, promises kept by count and by amount,
and the collector table (never the recovered amount alone). Read from the cases, their events
and the collection services; `None` when no case exists, so a book without collection shows no
section."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import Engine, func, select

from arrears.collection.performance import collector_performance
from arrears.collection.policy import load_policy
from arrears.loans.money import format_amount
from arrears.store.db import unit_of_work
from arrears.store.tables import CollectionCase, Event, PromiseRow

CURED = ("cured", "paid_off", "settled")
PERIOD_DAYS = 30


def _pct(num: int, den: int) -> str:
    return "—" if den == 0 else f"{num / den * 100:.1f}%"


def stage_funnel(engine: Engine, as_of: date) -> list[dict[str, Any]]:
    """Distinct cases that were ever in each stage (opened in it or moved to it) by `as_of`."""
    stages = load_policy().stage_names
    reached: dict[str, set[str]] = {s: set() for s in stages}
    with unit_of_work(engine) as session:
        for type_, payload in session.execute(
            select(Event.type, Event.payload).where(
                Event.type.in_(("case.opened", "case.stage_changed"))
            )
        ):
            if str(payload.get("as_of", "")) > as_of.isoformat():
                continue
            stage = payload.get("stage") if type_ == "case.opened" else payload.get("to_stage")
            if stage in reached:
                reached[stage].add(payload["case_id"])
    most = max([len(v) for v in reached.values()] + [1])
    return [
        {"stage": s, "cases": len(reached[s]), "width": round(len(reached[s]) / most * 100, 1)}
        for s in stages
    ]


def collection_section(engine: Engine, as_of: date) -> dict[str, Any] | None:
    """Everything the report's collections section shows, or None without cases."""
    start = as_of - timedelta(days=PERIOD_DAYS - 1)
    with unit_of_work(engine) as session:
        opened = session.scalar(select(func.count()).where(CollectionCase.opened_on <= as_of))
        if not opened:
            return None
        closed = dict(
            session.execute(
                select(CollectionCase.close_reason, func.count())
                .where(CollectionCase.closed_on <= as_of)
                .group_by(CollectionCase.close_reason)
            ).all()
        )
        working = session.scalar(
            select(func.count()).where(
                CollectionCase.opened_on <= as_of, CollectionCase.status != "closed"
            )
        )
        promises = session.execute(
            select(PromiseRow.state, PromiseRow.currency, func.count(), func.sum(PromiseRow.amount))
            .where(PromiseRow.made_on <= as_of)
            .group_by(PromiseRow.state, PromiseRow.currency)
        ).all()
    by_state: dict[str, int] = {}
    amount: dict[str, int] = {}
    currency = None
    for state, ccy, n, total in promises:
        by_state[state] = by_state.get(state, 0) + n
        amount[state] = amount.get(state, 0) + int(total or 0)
        currency = currency or ccy
    judged = by_state.get("kept", 0) + by_state.get("broken", 0)
    judged_amount = amount.get("kept", 0) + amount.get("broken", 0)
    cured = sum(closed.get(r, 0) for r in CURED)
    pct = lambda v: "—" if v is None else f"{v * 100:.1f}%"  # noqa: E731
    return {
        "funnel": stage_funnel(engine, as_of),
        "opened": opened,
        "working": working or 0,
        "closed": sorted(closed.items(), key=lambda kv: -kv[1]),
        "cure_rate": _pct(cured, opened),
        "cured": cured,
        "promises": by_state,
        "kept_rate": _pct(by_state.get("kept", 0), judged),
        "kept_amount_rate": _pct(amount.get("kept", 0), judged_amount),
        "kept_amount": format_amount(amount.get("kept", 0), currency) if currency else "0",
        "currency": currency or "",
        "period": f"{start.isoformat()} → {as_of.isoformat()}",
        "collectors": [
            r
            | {
                "rpc": pct(r["rpc_rate"]),
                "promise": pct(r["promise_rate"]),
                "kept_pct": pct(r["kept_rate"]),
                "blocked": pct(r["compliance_block_rate"]),
                "disputes": pct(r["dispute_rate"]),
                "collected_text": ", ".join(f"{v} {k}" for k, v in r["collected"].items()) or "0",
            }
            for r in collector_performance(engine, start, as_of)
        ],
    }
