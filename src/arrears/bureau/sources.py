"""What an external source is: its name, the purposes a pull may serve, the adapter interface
every source implements, and the errors a pull can end in. No I/O here."""

from __future__ import annotations

from typing import Any, Protocol

# source name → (English, 中文). The names are the URL paths of the bureau's API as well.
SOURCES: dict[str, tuple[str, str]] = {
    "credit_report": ("credit bureau report", "征信报告"),
    "enforcement": ("judicial enforcement list", "失信被执行人名单"),
    "business_registry": ("business registry", "工商登记"),
    "tax": ("tax record", "纳税记录"),
}

# The purposes a borrower may consent to (征信业管理条例 Art. 18: a query needs the subject's
# consent for a stated purpose). A pull names its purpose and needs a consent covering it.
PURPOSES: dict[str, tuple[str, str]] = {
    "credit_assessment": ("credit assessment of an application", "贷前审批"),
    "post_loan_monitoring": ("post-loan monitoring", "贷后管理"),
    "collection": ("collection of an overdue debt", "逾期催收"),
}


class BureauError(Exception):
    """A pull that did not return data; the message is English then Chinese."""


class ConsentMissing(BureauError):
    """No recorded, unexpired, unrevoked consent covers this borrower, purpose and source."""


class SourceUnavailable(BureauError):
    """The source failed (timeouts, 5xx, bad answers) after every retry."""


class CircuitOpen(SourceUnavailable):
    """The source failed repeatedly of late: calls are refused without trying until it cools."""


class UnknownSubject(BureauError):
    """The source has no record of the subject (an HTTP 404)."""


class Source(Protocol):
    """An external data source. `fetch` returns the report for one borrower as JSON-ready data
    (and raises `SourceUnavailable`, `CircuitOpen` or `UnknownSubject`); `attempts` is how many
    requests the last fetch made (for the pull log)."""

    name: str
    last_attempts: int

    def fetch(self, borrower_id: str) -> dict[str, Any]: ...


def check_source(name: str) -> str:
    if name not in SOURCES:
        raise ValueError(
            f"unknown source {name!r}; known 已知来源: {', '.join(SOURCES)} / 未知数据来源"
        )
    return name


def check_purpose(name: str) -> str:
    if name not in PURPOSES:
        raise ValueError(
            f"unknown purpose {name!r}; known 已知用途: {', '.join(PURPOSES)} / 未知查询用途"
        )
    return name
