"""The contact section of the HTML report (触达合规): messages by channel with how far each got
(queued → sent → delivered, failed, expired, blocked when it was to leave), delivery rates, and
the compliance guard's blocked decisions by rule. Read from the outbox and the decision log
(`contact.views.message_figures`); `None` when the guard never answered, so a book without
contact shows no section."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from arrears.contact.channels.gateway import HttpGateway
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


def _pct(num: int, den: int) -> str:
    return "—" if den == 0 else f"{num / den * 100:.1f}%"


def contact_section(engine: Engine) -> dict[str, Any] | None:
    """Everything the report's contact section shows, or None when nothing was ever decided."""
    f = message_figures(engine)
    if not f["decisions"] and not f["by_channel"]:
        return None
    channels = []
    totals = {"queued": 0, "sent": 0, "delivered": 0, "failed": 0, "expired": 0, "waiting": 0}
    with_receipts = 0  # sent on a channel that reports delivery
    for channel, counts in sorted(f["by_channel"].items(), key=lambda kv: -sum(kv[1].values())):
        queued = sum(counts.values())
        delivered = counts.get("delivered", 0)
        sent = counts.get("sent", 0) + delivered  # delivered messages were sent first
        row = {
            "channel": channel,
            "name": CHANNEL_NAMES.get(channel, (channel, channel)),
            "queued": queued,
            "sent": sent,
            "delivered": delivered,
            "failed": counts.get("failed", 0),
            "expired": counts.get("expired", 0),
            "blocked": counts.get("blocked", 0),
            "waiting": counts.get("pending", 0)
            + counts.get("sending", 0)
            + counts.get("dispatching", 0),
            "sent_rate": _pct(sent, queued),
            "delivery_rate": _pct(delivered, sent) if channel in RECEIPTS else "—",
            "receipts": channel in RECEIPTS,
        }
        with_receipts += sent if channel in RECEIPTS else 0
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
    return {
        "channels": channels,
        "totals": totals,
        "sent_rate": _pct(totals["sent"], totals["queued"]),
        "delivery_rate": _pct(totals["delivered"], with_receipts),
        "with_receipts": with_receipts,
        "decisions": f["decisions"],
        "blocked": f["blocked"],
        "blocked_share": _pct(f["blocked"], f["decisions"]),
        "rules": rules,
    }
