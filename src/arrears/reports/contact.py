"""The contact section of the HTML report (触达合规), over a stated period: by default the 30
days up to and including the report date, as calendar days in the lender's time zone
(`ARREARS_LENDER_TIMEZONE`, default `REPORT_ZONE`; the heading says which). Messages by channel with how far each got (sent → delivered, failed, expired, blocked when
it was to leave, still waiting), the sent share of the messages that reached an outcome, delivery
rates, the guard's blocked decisions by rule, and the reasons behind the blocked, expired and
failed messages. Read from the outbox and the decision log (`contact.views.message_figures`);
`None` when nothing was decided or queued in the period, so a book without contact shows no
section.

Counting all time would let last month's expired reminders weigh on today's sent share; a
reminder counts on the day it was planned for, another message when it was to leave (or left)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Engine

from arrears.contact.channels.gateway import HttpGateway
from arrears.contact.compliance import _zone
from arrears.contact.localtime import DEFAULT_ZONE
from arrears.contact.policy import CHANNEL_NAMES
from arrears.contact.views import message_figures

# only the gateway's channels come back with delivery receipts; an email or a letter that was
# handed over has no further news, so it has no delivery rate (rather than a false 0%)
RECEIPTS = frozenset(HttpGateway.channels)

# the default policies' rule ids, named for readers (a lender's own ids show as they are)
RULES = {
    "CN-C1": ("outside the contact window (CN)", "不在允许联系时段（中国）"),
    "CN-C2": ("daily effective calls reached (CN)", "当日有效通话已达上限（中国）"),
    "CN-C5": ("contact person not allowed (CN)", "不得联系联系人（中国）"),
    "CN-HOLIDAY": ("public-holiday quiet day", "节假日免打扰"),
    "US-C1": ("outside the contact window (US)", "不在允许联系时段（美国）"),
    "US-C2": ("7 calls in 7 days (US)", "7天内7次通话（美国）"),
    "US-C2-CONVERSATION": ("7 days after a conversation (US)", "通话后7天内（美国）"),
    "US-C7-CEASE": ("written cease request (US)", "书面停止联系（美国）"),
    "US-C4": ("third-party contact only for location (US)", "第三方仅限寻址（美国）"),
    "US-MA-C3": ("2 calls or texts in 7 days (MA)", "7天内2次（马萨诸塞）"),
    "US-MA-C3-VISIT": ("one visit in 30 days (MA)", "30天内1次上门（马萨诸塞）"),
    "ALL-OPT-OUT": ("opted out", "客户已退订"),
    "ALL-DNC": ("do not contact", "禁止联系"),
    "ALL-DECEASED": ("deceased", "已故"),
    "ALL-HARDSHIP": ("hardship", "经济困难"),
    "ALL-DISPUTE": ("open dispute", "存在争议"),
    "ALL-LEGAL-STAGE": ("legal stage: letters only", "诉讼阶段仅可发函"),
    "ALL-CAP-SMS": ("daily SMS cap", "短信每日上限"),
    "ALL-CAP-EMAIL": ("daily email cap", "邮件每日上限"),
    "ALL-CAP-PUSH": ("daily push cap", "推送每日上限"),
    "ALL-THIRD-PARTY": ("unrelated third party", "无关第三方"),
    "NO-ADDRESS": ("no address on file", "无联系地址"),
}


PERIOD_DAYS = 30
REPORT_ZONE = DEFAULT_ZONE  # the lender's calendar for the period's days
OUTCOMES = ("sent", "blocked", "expired", "failed")  # what "reached an outcome" means


def period(as_of: date, days: int = PERIOD_DAYS, zone: str = REPORT_ZONE) -> dict[str, Any]:
    """The `days` calendar days up to and including `as_of` in `zone`, as [since, until)."""
    if days < 1:
        raise ValueError(f"days {days}: the period needs at least one day")
    tz = _zone(zone)
    first = as_of - timedelta(days=days - 1)
    return {
        "days": days,
        "first": first.isoformat(),
        "last": as_of.isoformat(),
        "zone": tz.key,
        "since": datetime.combine(first, time(0), tz),
        "until": datetime.combine(as_of + timedelta(days=1), time(0), tz),
    }


def _pct(num: int, den: int) -> str:
    return "—" if den == 0 else f"{num / den * 100:.1f}%"


def contact_section(
    engine: Engine, as_of: date, *, days: int = PERIOD_DAYS, zone: str = REPORT_ZONE
) -> dict[str, Any] | None:
    """Everything the report's contact section shows for the period ending `as_of`, or None when
    nothing was decided or queued in it."""
    span = period(as_of, days, zone)
    f = message_figures(engine, span["since"], span["until"])
    if not f["decisions"] and not f["by_channel"]:
        return None
    channels = []
    keys = ("queued", "sent", "delivered", "failed", "expired", "blocked", "waiting", "outcome")
    totals = dict.fromkeys(keys, 0)
    with_receipts = 0  # sent on a channel that reports delivery
    for channel, counts in sorted(f["by_channel"].items(), key=lambda kv: -sum(kv[1].values())):
        delivered = counts.get("delivered", 0)
        row = {
            "channel": channel,
            "name": CHANNEL_NAMES.get(channel, (channel, channel)),
            "queued": sum(counts.values()),
            "sent": counts.get("sent", 0) + delivered,  # delivered messages were sent first
            "delivered": delivered,
            "failed": counts.get("failed", 0),
            "expired": counts.get("expired", 0),
            "blocked": counts.get("blocked", 0),
            "waiting": counts.get("pending", 0)
            + counts.get("sending", 0)
            + counts.get("dispatching", 0),
            "receipts": channel in RECEIPTS,
        }
        row["outcome"] = sum(row[k] for k in OUTCOMES)
        row["sent_rate"] = _pct(row["sent"], row["outcome"])
        row["delivery_rate"] = _pct(delivered, row["sent"]) if row["receipts"] else "—"
        with_receipts += row["sent"] if row["receipts"] else 0
        channels.append(row)
        for k in totals:
            totals[k] += row[k]
    peak = max(f["blocked_by_rule"].values(), default=0)
    rules = [
        {
            "rule_id": rule,
            "name": RULES.get(rule, (rule, rule)),
            "count": n,
            "width": round(n / peak * 100, 1) if peak else 0,
        }
        for rule, n in sorted(f["blocked_by_rule"].items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    outcomes = [
        {
            "status": status,
            "count": totals[status],
            "reasons": sorted(
                ({"reason": r, "count": n} for r, n in f["reasons"].get(status, {}).items()),
                key=lambda x: (-x["count"], x["reason"]),
            ),
        }
        for status in ("blocked", "expired", "failed")
    ]
    return {
        "period": {k: v for k, v in span.items() if k not in ("since", "until")},
        "channels": channels,
        "totals": totals,
        "sent_rate": _pct(totals["sent"], totals["outcome"]),
        "delivery_rate": _pct(totals["delivered"], with_receipts),
        "with_receipts": with_receipts,
        "decisions": f["decisions"],
        "blocked": f["blocked"],
        "blocked_share": _pct(f["blocked"], f["decisions"]),
        "rules": rules,
        "outcomes": outcomes,
    }
