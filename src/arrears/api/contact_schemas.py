"""Request and response bodies of the contact routes (`api/routes/contact.py`): the guard's
decision (the keys of `arrears contact check --json`), messages, the decision log, the effective
policy, templates and opt-outs. Times carry their offset; the guard needs to know whose clock."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from arrears.api.schemas import Id

Channel = Literal["sms", "email", "voice", "robot", "push", "letter", "visit"]
Purpose = Literal[
    "reminder", "collection", "legal_notice", "location", "cease_confirmation", "validation"
]
Language = Literal["zh", "en"]
Audience = Literal["debtor", "contact_person"]
PartyText = Annotated[
    str, StringConstraints(pattern=r"^(debtor|guarantor|third_party|contact:[^\x00-\x1f/]{1,60})$")
]
TemplateName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_\-]{1,64}$")]


def _sane(value: datetime) -> datetime:
    # the guard computes local days and rolling windows around the time: keep it in range
    if not 2000 <= value.year <= 2100:
        raise ValueError("the time must be between the years 2000 and 2100")
    return value


At = Annotated[AwareDatetime, AfterValidator(_sane)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CheckIn(_In):
    borrower_id: Id
    channel: Channel
    at: At = Field(description="When the contact would be made, with its UTC offset.")
    party: PartyText = "debtor"
    purpose: Purpose = "collection"
    loan_id: Id | None = None


class DecisionOut(BaseModel):
    allowed: bool
    reasons: list[str]
    rule_ids: list[str]
    next_allowed_at: str | None = Field(
        description="In the borrower's own clock; null: not by time."
    )
    decision_id: int | None


class LoggedDecision(BaseModel):
    decision_id: int
    borrower_id: str
    party: str
    loan_id: str | None
    channel: str
    purpose: str
    at: str
    allowed: bool
    rule_ids: list[str]
    reasons: list[str]
    next_allowed_at: str | None
    jurisdictions: list[str]
    decided_at: str
    timezone: str = Field(description="The borrower's IANA time zone (the times above are UTC).")


class DecisionPage(BaseModel):
    total: int
    limit: int
    offset: int
    decisions: list[LoggedDecision]


class MessageOut(BaseModel):
    message_id: str
    borrower_id: str
    party: str
    loan_id: str | None
    case_id: str | None
    channel: str
    purpose: str
    template: str | None
    template_version: int | None
    language: str
    subject: str | None
    body: str
    status: str = Field(
        description="pending, sending, dispatching, sent, delivered, failed, blocked, expired"
    )
    not_before: str
    tries: int
    created_at: str
    sent_at: str | None
    delivered_at: str | None
    gateway_id: str | None
    last_error: str | None
    decision: LoggedDecision | None
    timezone: str = Field(description="The borrower's IANA time zone (the times above are UTC).")


class PolicyOut(BaseModel):
    borrower_id: str
    country: str | None
    region: str | None
    timezone: str
    jurisdictions: list[str]
    flags: list[str]
    opt_outs: list[dict[str, Any]]
    policies: list[dict[str, Any]] = Field(description="Each applicable policy file, as loaded.")


class TemplateOut(BaseModel):
    name: str
    language: str
    version: int
    channel: str
    audience: str
    subject: str | None
    body: str
    saved_at: str
    saved_by: str


class TemplateIn(_In):
    name: TemplateName
    language: Language
    channel: Channel
    body: Annotated[str, StringConstraints(min_length=1, max_length=4000)]
    subject: Annotated[str, StringConstraints(max_length=200)] | None = None
    audience: Audience = "debtor"


class TemplateSaved(BaseModel):
    name: str
    language: str
    version: int


class PreviewOut(BaseModel):
    name: str
    language: str
    version: int
    subject: str | None
    body: str


class OptOutIn(_In):
    channel: Channel | Literal["all"]


class OptOutOut(BaseModel):
    borrower_id: str
    channel: str
    at: str
