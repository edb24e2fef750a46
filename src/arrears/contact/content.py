"""Content rules for message templates, checked when a template is saved: no threats, no
insults, no false legal claims, and nothing about the debt in a message to a contact person.
A rejection names the rule and the offending phrase. The lists are data a lender extends; the
match is on lower-cased text so "JAIL" and "jail" are one phrase."""

from __future__ import annotations

import re

# rule id → phrases (Chinese and English)
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "C6-THREAT": (
        "坐牢",
        "抓你",
        "上门堵",
        "曝光你",
        "后果自负",
        "让你好看",
        "通知你的家人",
        "打爆",
        "jail",
        "arrest you",
        "we will come to your",
        "you will regret",
        "or else",
        "tell your family",
        "tell your employer",
    ),
    "C6-INSULT": (
        "老赖",
        "骗子",
        "无赖",
        "不要脸",
        "垃圾",
        "deadbeat",
        "loser",
        "scum",
        "liar",
        "idiot",
    ),
    "C6-FALSE-LEGAL": (
        "公安局",
        "警察将",
        "法院已判决",
        "已立案",
        "刑事责任",
        "拘留",
        "通缉",
        "法院传票",
        "police will",
        "arrest warrant",
        "criminal charges",
        "court has ruled",
        "you will be prosecuted",
        "government agency",
        "law enforcement",
    ),
}
# said to a contact person these would disclose the debt (C5 / C4)
DEBT_WORDS = (
    "欠款",
    "逾期",
    "还款",
    "债务",
    "贷款",
    "催收",
    "金额",
    "debt",
    "overdue",
    "owe",
    "loan",
    "repay",
    "arrears",
    "collection",
    "past due",
    "amount",
)
DEBT_VARIABLES = ("amount", "amount_due", "days_past_due", "loan_id", "due_on", "overdue")


class TemplateRejected(ValueError):
    """A template the content rules refuse; names the rule and the phrase."""

    def __init__(self, rule_id: str, phrase: str, field: str) -> None:
        super().__init__(
            f"{field}: {rule_id}: phrase 违规用语 {phrase!r} is not allowed ({_LABELS[rule_id]})"
        )
        self.rule_id, self.phrase, self.field = rule_id, phrase, field


_LABELS = {
    "C6-THREAT": "threat 威胁",
    "C6-INSULT": "insult 侮辱",
    "C6-FALSE-LEGAL": "false legal claim 虚假法律声明",
    "C5-DISCLOSURE": "discloses the debt to a contact person 向联系人透露债务",
}


def check_text(text: str, *, audience: str, field: str = "body") -> None:
    """Raise `TemplateRejected` at the first forbidden phrase of `text`."""
    lowered = text.lower()
    for rule_id, phrases in FORBIDDEN.items():
        for phrase in phrases:
            if phrase in lowered:
                raise TemplateRejected(rule_id, phrase, field)
    if audience == "contact_person":
        for word in DEBT_WORDS:
            if re.search(rf"(?<![a-z]){re.escape(word)}(?![a-z])", lowered):
                raise TemplateRejected("C5-DISCLOSURE", word, field)
        for var in DEBT_VARIABLES:
            if re.search(rf"{{{{[^}}]*\b{var}\b", lowered):
                raise TemplateRejected("C5-DISCLOSURE", "{{ " + var + " }}", field)
