"""Chinese and English for the pages. Every label is written as an (English, 中文) pair where it is
used; codes (statuses, classes, stages, schedule marks) are named here."""

from __future__ import annotations

from arrears.reports.labels import CLASS_NAMES, STAGE_NAMES

LANGS = ("zh", "en")

STATUS_NAMES: dict[str, tuple[str, str]] = {
    "active": ("current", "正常还款"),
    "overdue": ("overdue", "逾期"),
    "paid_off": ("paid off", "已结清"),
    "written_off": ("written off", "已核销"),
    "restructured": ("restructured", "已重组"),
}
MARK_NAMES: dict[str, tuple[str, str]] = {
    "paid": ("paid", "已还"),
    "overdue": ("overdue", "逾期"),
    "partial": ("part paid", "部分还款"),
    "due": ("not yet due", "未到期"),
}
METHOD_NAMES: dict[str, tuple[str, str]] = {
    "equal_installment": ("equal instalments", "等额本息"),
    "equal_principal": ("equal principal", "等额本金"),
    "interest_only": ("interest only, principal at maturity", "先息后本"),
    "bullet": ("bullet (all at maturity)", "到期一次还本付息"),
    "custom": ("custom schedule", "自定义计划"),
}
KIND_NAMES: dict[str, tuple[str, str]] = {
    "individual": ("individual", "个人"),
    "enterprise": ("enterprise", "企业"),
}
ROLE_NAMES: dict[str, tuple[str, str]] = {
    "admin": ("administrator", "管理员"),
    "risk": ("risk manager", "风控"),
    "collector": ("collector", "催收员"),
    "legal": ("legal officer", "法务"),
    "auditor": ("auditor", "审计"),
    "borrower": ("borrower", "借款人"),
}


# Refusals from servicing and money parsing are English sentences; the Chinese page names the
# reason by what it says (the English text is kept on the English page, and as the detail).
REFUSALS_ZH: tuple[tuple[str, str], ...] = (
    ("must be positive", "还款金额必须大于零"),
    ("is in the future", "还款日期晚于业务日期"),
    ("before disbursement", "还款日期早于放款日"),
    ("is paid off", "贷款已结清，无欠款"),
    ("not a decimal amount", "金额格式不正确"),
    ("not a finite amount", "金额格式不正确"),
    ("decimals allowed", "金额小数位数过多"),
    ("an amount is needed", "请填写金额"),
    ("Invalid isoformat", "日期格式不正确"),
    ("is already recorded", "该还款编号已存在"),
)


def refusal(message: str) -> tuple[str, str]:
    """A refusal message as an (English, 中文) pair."""
    for needle, zh in REFUSALS_ZH:
        if needle in message:
            return message, f"{zh}（{message}）"
    return message, message


class Labels:
    """`L("Loans", "贷款")` → the text in the page's language; `L.code(kind, value)` names a
    code."""

    def __init__(self, lang: str) -> None:
        self.lang = lang if lang in LANGS else "zh"

    def __call__(self, en: str, zh: str) -> str:
        return zh if self.lang == "zh" else en

    def pair(self, pair: tuple[str, str] | None) -> str:
        return "" if pair is None else self(*pair)

    def code(self, kind: str, value: object) -> str:
        names = _CODE_NAMES[kind]
        key = str(value)
        if key not in names:
            return key
        return self(*names[key])


_CODE_NAMES: dict[str, dict[str, tuple[str, str]]] = {
    "status": STATUS_NAMES,
    "class": CLASS_NAMES,
    "stage": STAGE_NAMES,
    "mark": MARK_NAMES,
    "role": ROLE_NAMES,
    "method": METHOD_NAMES,
    "kind": KIND_NAMES,
}


# ------------------------------------------------------------------ collection (issue 5)
# Codes of the collection pages, named like the ones above; templates call `C(kind, value)`.
COLLECTION_CODES: dict[str, dict[str, tuple[str, str]]] = {
    "case_stage": {
        "reminder": ("reminder", "提醒"),
        "early": ("early", "早期"),
        "mid": ("mid", "中期"),
        "late": ("late", "后期"),
        "legal": ("legal", "诉讼"),
    },
    "case_status": {
        "open": ("open", "处理中"),
        "paused": ("paused (hardship)", "暂停（困难）"),
        "closed": ("closed", "已结案"),
    },
    "close_reason": {
        "cured": ("cured", "已回正"),
        "settled": ("settled", "已和解"),
        "paid_off": ("paid off", "已结清"),
        "written_off": ("written off", "已核销"),
    },
    "action": {
        "call": ("call", "电话"),
        "sms": ("SMS", "短信"),
        "email": ("email", "邮件"),
        "visit": ("visit", "上门"),
        "letter": ("letter", "信函"),
        "robot_call": ("robot call", "机器人外呼"),
        "legal": ("legal action", "法律行动"),
        "agency": ("agency", "委外"),
    },
    "party": {
        "debtor": ("debtor", "债务人"),
        "guarantor": ("guarantor", "担保人"),
        "contact_person": ("contact person", "联系人"),
    },
    "outcome": {
        "right_party_contact": ("spoke to debtor", "联系到本人"),
        "no_answer": ("no answer", "无人接听"),
        "wrong_number": ("wrong number", "号码错误"),
        "promise": ("promise to pay", "承诺还款"),
        "refusal": ("refuses to pay", "拒绝还款"),
        "dispute": ("disputes the debt", "对债务有异议"),
        "paid": ("says paid", "称已还款"),
        "hardship": ("hardship", "经济困难"),
        "deceased": ("deceased", "已故"),
    },
    "promise_state": {
        "pending": ("pending", "待履约"),
        "kept": ("kept", "已履约"),
        "broken": ("broken", "已违约"),
        "cancelled": ("cancelled", "已取消"),
    },
    "legal_state": {
        "prepare": ("preparing", "准备中"),
        "filed": ("filed", "已立案"),
        "hearing": ("hearing", "开庭"),
        "judgment": ("judgment", "已判决"),
        "enforcement": ("enforcement", "执行中"),
        "closed": ("closed", "已结案"),
    },
    "arrangement": {
        "plan": ("repayment plan", "还款计划"),
        "settlement": ("settlement", "和解"),
        "proposed": ("awaiting approval", "待审批"),
        "approved": ("approved", "已批准"),
        "rejected": ("rejected", "已拒绝"),
        "active": ("active", "执行中"),
        "completed": ("completed", "已完成"),
        "lapsed": ("lapsed", "已失效"),
    },
    "segment": {
        "individual": ("individual", "个人"),
        "enterprise": ("enterprise", "企业"),
    },
}


def collection_code(labels: Labels, kind: str, value: object) -> str:
    """A collection code in the page's language (the code itself when unknown)."""
    pair = COLLECTION_CODES[kind].get(str(value))
    return str(value) if pair is None else labels(*pair)
