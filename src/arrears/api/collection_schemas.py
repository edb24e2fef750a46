"""Request and response bodies of the collection routes (`api/routes/collection.py`). Money is
decimal text in the case's currency; the shapes mirror what the services in
`arrears.collection` return, so a route hands their dicts straight back."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from arrears.api.schemas import Day, Id, Money, Text

Stage = Literal["reminder", "early", "mid", "late", "legal"]
Action = Literal["call", "sms", "email", "visit", "letter", "robot_call"]
Party = Literal["debtor", "guarantor", "contact_person"]
Outcome = Literal[
    "right_party_contact",
    "no_answer",
    "wrong_number",
    "promise",
    "refusal",
    "dispute",
    "paid",
    "hardship",
    "deceased",
]
LegalState = Literal["prepare", "filed", "hearing", "judgment", "enforcement", "closed"]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CaseSummary(BaseModel):
    case_id: str
    borrower_id: str
    stage: str
    status: str
    days_past_due: int
    amount_overdue: str
    assigned_to: str | None


class BorrowerMasked(BaseModel):
    borrower_id: str
    name: str
    kind: str
    national_id: str | None
    phone: str | None
    language: str
    region: str | None
    masked: bool


class CaseOut(CaseSummary):
    """One case in full (`collection.cases.show_case`) with the borrower as the caller's role may
    see it and the script hints for the stage."""

    model_config = ConfigDict(extra="allow")
    currency: str
    segment: str
    product: str | None
    outstanding_principal: str | None
    loans: list[str]
    broken_promises: int
    contacts: list[dict[str, Any]]
    promises: list[dict[str, Any]]
    borrower: BorrowerMasked | None = None
    actions: list[str] = Field(description="Contact actions the case's stage allows.")


class StageChangeIn(_In):
    to_stage: Stage
    reason: Text


class AssignIn(_In):
    reassign: bool = Field(False, description="First take back cases without right-party contact.")


class AssignOut(BaseModel):
    assigned: int
    reassigned: int


class NextCaseOut(BaseModel):
    case: CaseSummary | None = Field(description="The case to work now; null when none is left.")


class ContactIn(_In):
    action: Action
    party: Party = "debtor"
    outcome: Outcome | None = None
    notes: str | None = Field(None, max_length=2000)
    direction: Literal["outbound", "inbound"] = "outbound"
    loan_id: Id | None = None


class ContactOut(BaseModel):
    contact_id: int
    case_id: str
    sent: bool = Field(description="False when the contact guard or an open dispute blocked it.")
    blocked_reasons: list[str]
    rule_ids: list[str]


class PromiseLine(_In):
    amount: Money
    due_on: Day


class PromiseIn(_In):
    instalments: list[PromiseLine] = Field(min_length=1, max_length=12)


class PromiseOut(BaseModel):
    promise_id: str
    case_id: str
    amount: str
    due_on: date
    state: str


class PlanIn(_In):
    count: int = Field(ge=1, le=60)
    first_due: Day


class SettlementIn(_In):
    amount: Money
    pay_by: Day


class ArrangementOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    arrangement_id: int
    case_id: str
    kind: str
    state: str
    amount: str
    waived: str
    approval_id: int | None


class ApprovalOut(BaseModel):
    approval_id: int
    kind: str
    case_id: str
    amount: str
    state: str
    maker: str
    checker: str | None
    reason: str | None


class DecisionIn(_In):
    approve: bool
    reason: Text


class DisputeIn(_In):
    reason: Text
    loan_id: Id | None = None


class DisputeOut(BaseModel):
    dispute_id: int
    case_id: str
    loan_id: str | None
    reason: str
    opened_on: date
    resolved_on: date | None


class ResolveIn(_In):
    resolution: Text


class LegalOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    legal_id: int
    case_id: str
    state: str
    court: str | None
    opened_on: date
    claimed: str
    fees_paid: str
    awarded: str | None
    recovered: str


class AdvanceIn(_In):
    to_state: LegalState
    on: Day | None = None
    court: Text | None = None
    fees: Money | None = None
    awarded: Money | None = None
    recovered: Money | None = None


class AgencyIn(_In):
    agency_id: Id
    name: Text
    commission_rate: str = Field(pattern=r"^0(\.[0-9]{1,4})?$", examples=["0.15"])
    evaluated_on: Day | None = None


class AgencyOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    agency_id: str
    name: str
    commission_rate: str
    evaluated_on: date | None
    may_place: bool


class EvaluationIn(_In):
    notes: Text
    on: Day | None = None


class PlacementIn(_In):
    agency_id: Id


class PlacementOut(BaseModel):
    placement_id: int
    agency_id: str
    case_id: str
    placed_on: date
    recalled_on: date | None
    commission_rate: str
    amount_placed: str
    recovered: str
    commission: str
    result: str | None


class AgencyResultIn(_In):
    recovered: Money
    result: Text | None = None


class RecallIn(_In):
    result: Text


class QueueOut(BaseModel):
    stage: str
    segment: str
    cases: int
    unassigned: int


class PerformanceOut(BaseModel):
    collector: str
    attempts: int
    blocked: int
    right_party_contacts: int
    rpc_rate: float | None
    promises: int
    promise_rate: float | None
    promises_due: int
    kept: int
    kept_rate: float | None
    kept_amount_rate: float | None
    collected: dict[str, str] = Field(description="Amount collected per currency.")
    compliance_block_rate: float | None
    dispute_rate: float | None
