"""Collection over HTTP: cases, contacts, promises, plans and settlements with their approvals,
disputes, lawsuits, agencies and placements, queues and collector performance.

Each route is a thin call of a service in `arrears.collection` (the services ask the stage
policy, the contact guard and maker-checker); the route adds what only the edge knows: who is
calling (the acting user is the token's), ownership — a collector reaches only the cases
assigned to them — and 404 for unknown ids (the services answer those as refusals, 409)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, status
from sqlalchemy import Engine, select

from arrears.api import collection_schemas as s
from arrears.api import personal, policy
from arrears.api.deps import CatalogDep, CurrentUserDep, EngineDep, IdPath, TodayDep
from arrears.api.errors import Conflict, NotFound
from arrears.api.policy import API_PREFIX
from arrears.api.schemas import Day
from arrears.auth.accounts import CurrentUser
from arrears.collection import (
    approvals,
    arrangements,
    cases,
    legal,
    performance,
    queues,
    work,
    writeoff,
)
from arrears.collection.policy import load_policy
from arrears.store.db import unit_of_work
from arrears.store.tables import (
    Agency,
    ApprovalRow,
    Borrower,
    CollectionCase,
    DisputeRow,
    LegalCaseRow,
    PlacementRow,
)

router = APIRouter(prefix=API_PREFIX, tags=["collection"])

CaseId = IdPath
IntId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Limit = Annotated[int, Query(ge=1, le=500, description="Rows to return (at most 500).")]


# ------------------------------------------------------------------ edge checks


def _case(engine: Engine, user: CurrentUser, case_id: str) -> CollectionCase:
    """The case row if `user` may work it: 404 when unknown, 403 for a collector on a case that
    is not assigned to them."""
    with unit_of_work(engine) as session:
        row = session.get(CollectionCase, case_id)
        if row is None:
            raise NotFound(f"case {case_id!r} not found (案件不存在)")
        session.expunge(row)
    if user.role == policy.COLLECTOR and row.assigned_to != user.username:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            f"case {case_id} is not assigned to you (该案件未分配给您)",
        )
    return row


def _exists(engine: Engine, table: type, key: int | str, what: str) -> Any:
    with unit_of_work(engine) as session:
        row = session.get(table, key)
        if row is None:
            raise NotFound(f"{what} {key} not found")
        session.expunge(row)
        return row


def _own_case_ids(engine: Engine, username: str) -> set[str]:
    with unit_of_work(engine) as session:
        return set(
            session.scalars(
                select(CollectionCase.case_id).where(CollectionCase.assigned_to == username)
            )
        )


def case_view(engine: Engine, user: CurrentUser, case_id: str, today: date) -> dict[str, Any]:
    """`show_case` plus the borrower as `user`'s role may see it (masked for collectors; the read
    is in the access log) and the actions the stage allows. Shared by the API and the pages."""
    data = cases.show_case(engine, case_id, today=today)
    with unit_of_work(engine) as session:
        row = session.get(Borrower, data["borrower_id"])
        if row is not None:
            data["borrower"] = personal.borrower_view(
                session, user, row, f"{API_PREFIX}/cases/{case_id}"
            )
    data["actions"] = list(load_policy().stage(data["stage"]).actions)
    return data


# ------------------------------------------------------------------ cases


@router.get("/cases", response_model=list[s.CaseSummary])
def list_cases(
    user: CurrentUserDep,
    engine: EngineDep,
    stage: s.Stage | None = None,
    case_status: Annotated[
        str | None, Query(alias="status", pattern=r"^(open|paused|closed)$")
    ] = None,
    assigned_to: Annotated[str | None, Query(max_length=64)] = None,
    limit: Limit = 100,
) -> Any:
    """Cases by priority (oldest, then largest, first). A collector sees only their own."""
    if user.role == policy.COLLECTOR:
        if assigned_to not in (None, user.username):
            raise HTTPException(status.HTTP_403_FORBIDDEN, "collectors see their own cases only")
        assigned_to = user.username
    return cases.list_cases(
        engine, stage=stage, status=case_status, assigned_to=assigned_to, limit=limit
    )


@router.post("/cases/next", response_model=s.NextCaseOut)
def next_case(user: CurrentUserDep, engine: EngineDep, today: TodayDep) -> Any:
    """The case the calling collector should work now (their own not yet pulled today, else the
    highest-priority unassigned case they may take), or null."""
    return {"case": queues.next_case(engine, user.username, today)}


@router.post("/cases/assign", response_model=s.AssignOut)
def assign(body: s.AssignIn, engine: EngineDep, today: TodayDep) -> Any:
    """Assign unassigned cases to collectors by capacity, skills and load (optionally first
    taking back cases without right-party contact)."""
    reassigned = queues.reassign_stale(engine, today)["reassigned"] if body.reassign else 0
    given = queues.assign_cases(engine, today)
    return {"assigned": sum(given.values()), "reassigned": reassigned}


@router.get("/cases/{case_id}", response_model=s.CaseOut)
def show_case(case_id: CaseId, user: CurrentUserDep, engine: EngineDep, today: TodayDep) -> Any:
    """One case: figures, loans, contacts, promises, disputes, approvals, arrangements,
    lawsuits, placements, the limitation period; the borrower masked for collectors."""
    _case(engine, user, case_id)
    return case_view(engine, user, case_id, today)


def _change_stage(
    engine: Engine, user: CurrentUser, case_id: str, body: s.StageChangeIn, today: date, up: bool
) -> dict[str, Any]:
    row = _case(engine, user, case_id)
    pol = load_policy()
    if (pol.rank(body.to_stage) > pol.rank(row.stage)) != up:
        raise Conflict(
            f"{body.to_stage} is not {'above' if up else 'below'} the case's stage {row.stage} "
            f"({'须高于' if up else '须低于'}当前阶段)"
        )
    return cases.set_stage(engine, case_id, body.to_stage, body.reason, user.username, today=today)


@router.post("/cases/{case_id}/escalate", response_model=s.CaseSummary)
def escalate(
    case_id: CaseId, body: s.StageChangeIn, user: CurrentUserDep, engine: EngineDep, today: TodayDep
) -> Any:
    """Raise the case to a higher stage by hand (holds over the daily update)."""
    return _change_stage(engine, user, case_id, body, today, up=True)


@router.post("/cases/{case_id}/de-escalate", response_model=s.CaseSummary)
def de_escalate(
    case_id: CaseId, body: s.StageChangeIn, user: CurrentUserDep, engine: EngineDep, today: TodayDep
) -> Any:
    """Lower the case to an earlier stage by hand."""
    return _change_stage(engine, user, case_id, body, today, up=False)


@router.post("/cases/{case_id}/contacts", response_model=s.ContactOut, status_code=201)
def log_contact(case_id: CaseId, body: s.ContactIn, user: CurrentUserDep, engine: EngineDep) -> Any:
    """Log a contact and its outcome. An outbound one asks the contact guard first (and an open
    dispute blocks it): a blocked contact is stored as not sent, with the reasons."""
    _case(engine, user, case_id)
    return work.log_contact(
        engine,
        case_id,
        user.username,
        body.action,
        party=body.party,
        outcome=body.outcome,
        notes=body.notes,
        direction=body.direction,
        loan_id=body.loan_id,
    )


@router.post("/cases/{case_id}/promises", response_model=list[s.PromiseOut], status_code=201)
def record_promise(
    case_id: CaseId, body: s.PromiseIn, user: CurrentUserDep, engine: EngineDep, today: TodayDep
) -> Any:
    """A promise to pay: one or several amounts and dates (increasing, from today)."""
    _case(engine, user, case_id)
    return work.record_promise(
        engine,
        case_id,
        user.username,
        [(line.amount, line.due_on) for line in body.instalments],
        today=today,
    )


@router.get("/promises", response_model=list[s.PromiseOut])
def list_promises(
    user: CurrentUserDep,
    engine: EngineDep,
    state: Annotated[str | None, Query(pattern=r"^(pending|kept|broken|cancelled)$")] = None,
    case_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: Limit = 500,
) -> Any:
    """Promises by due date; a collector sees those of their own cases."""
    rows = work.list_promises(engine, state=state, case_id=case_id, limit=limit)
    if user.role == policy.COLLECTOR:
        mine = _own_case_ids(engine, user.username)
        rows = [r for r in rows if r["case_id"] in mine]
    return rows


@router.post("/cases/{case_id}/plans", response_model=s.ArrangementOut, status_code=201)
def propose_plan(
    case_id: CaseId,
    body: s.PlanIn,
    user: CurrentUserDep,
    engine: EngineDep,
    catalog: CatalogDep,
    today: TodayDep,
) -> Any:
    """Propose a repayment plan (re-age the arrears into monthly instalments); approved at once
    within the maker's limit, else it waits for a checker."""
    _case(engine, user, case_id)
    return arrangements.propose_plan(
        engine,
        case_id,
        user.username,
        count=body.count,
        first_due=body.first_due,
        today=today,
        catalog=catalog,
    )


@router.post("/cases/{case_id}/settlements", response_model=s.ArrangementOut, status_code=201)
def propose_settlement(
    case_id: CaseId,
    body: s.SettlementIn,
    user: CurrentUserDep,
    engine: EngineDep,
    catalog: CatalogDep,
    today: TodayDep,
) -> Any:
    """Propose settling for less than owed; the waiver is what the approval weighs."""
    _case(engine, user, case_id)
    return arrangements.propose_settlement(
        engine,
        case_id,
        user.username,
        amount=body.amount,
        pay_by=body.pay_by,
        today=today,
        catalog=catalog,
    )


@router.get("/approvals", response_model=list[s.ApprovalOut])
def list_approvals(
    engine: EngineDep,
    state: Annotated[str | None, Query(pattern=r"^(pending|approved|rejected)$")] = "pending",
) -> Any:
    """Maker-checker requests (pending by default)."""
    return approvals.list_approvals(engine, state)


@router.post("/approvals/{approval_id}/decision", response_model=s.ApprovalOut)
def decide(
    approval_id: IntId,
    body: s.DecisionIn,
    user: CurrentUserDep,
    engine: EngineDep,
    catalog: CatalogDep,
    today: TodayDep,
) -> Any:
    """Approve or reject a request: refused (409) to its maker and beyond the role's limit."""
    _exists(engine, ApprovalRow, approval_id, "approval")
    approvals.decide(
        engine, approval_id, user.username, body.approve, body.reason, today=today, catalog=catalog
    )
    return next(
        a for a in approvals.list_approvals(engine, None) if a["approval_id"] == approval_id
    )


@router.post("/cases/{case_id}/disputes", response_model=s.DisputeOut, status_code=201)
def open_dispute(
    case_id: CaseId, body: s.DisputeIn, user: CurrentUserDep, engine: EngineDep, today: TodayDep
) -> Any:
    """Record a dispute (of one loan or the whole case): outbound contact on it stops."""
    _case(engine, user, case_id)
    dispute_id = work.open_dispute(
        engine, case_id, user.username, body.reason, today=today, loan_id=body.loan_id
    )
    return _exists(engine, DisputeRow, dispute_id, "dispute")


@router.post("/disputes/{dispute_id}/resolve", response_model=s.DisputeOut)
def resolve_dispute(
    dispute_id: IntId, body: s.ResolveIn, user: CurrentUserDep, engine: EngineDep, today: TodayDep
) -> Any:
    row = _exists(engine, DisputeRow, dispute_id, "dispute")
    _case(engine, user, row.case_id)
    work.resolve_dispute(engine, dispute_id, user.username, body.resolution, today=today)
    return _exists(engine, DisputeRow, dispute_id, "dispute")


# ------------------------------------------------------------------ legal


@router.get("/legal-cases", response_model=list[s.LegalOut])
def list_legal(
    engine: EngineDep,
    state: s.LegalState | None = None,
) -> Any:
    """Lawsuits (the litigation list)."""
    return legal.list_lawsuits(engine, state)


@router.post("/cases/{case_id}/legal-cases", response_model=s.LegalOut, status_code=201)
def open_legal(case_id: CaseId, user: CurrentUserDep, engine: EngineDep, today: TodayDep) -> Any:
    """Start preparing a lawsuit on a case in the legal stage."""
    _case(engine, user, case_id)
    row = legal.open_lawsuit(engine, case_id, user.username, today=today)
    return _lawsuit(engine, row.legal_id)


def _lawsuit(engine: Engine, legal_id: int) -> dict[str, Any]:
    found = [r for r in legal.list_lawsuits(engine) if r["legal_id"] == legal_id]
    if not found:
        raise NotFound(f"lawsuit {legal_id} not found (诉讼不存在)")
    return found[0]


@router.get("/legal-cases/{legal_id}", response_model=s.LegalOut)
def show_legal(legal_id: IntId, engine: EngineDep, today: TodayDep) -> Any:
    """One lawsuit with its case's figures and the limitation period."""
    data = _lawsuit(engine, legal_id)
    data["case"] = cases.case_summary(_exists(engine, CollectionCase, data["case_id"], "case"))
    data["limitation"] = legal.limitation_status(engine, data["case_id"], today)
    return data


@router.post("/legal-cases/{legal_id}/advance", response_model=s.LegalOut)
def advance_legal(
    legal_id: IntId, body: s.AdvanceIn, user: CurrentUserDep, engine: EngineDep, today: TodayDep
) -> Any:
    """Move a lawsuit one step on (never skipped or reversed), with its figures."""
    _exists(engine, LegalCaseRow, legal_id, "lawsuit")
    legal.advance_lawsuit(
        engine,
        legal_id,
        body.to_state,
        user.username,
        on=body.on or today,
        court=body.court,
        fees=body.fees,
        awarded=body.awarded,
        recovered=body.recovered,
    )
    return _lawsuit(engine, legal_id)


# ------------------------------------------------------------------ agencies and placements


@router.get("/agencies", response_model=list[s.AgencyOut])
def list_agencies(engine: EngineDep, today: TodayDep) -> Any:
    """Agencies with their evaluation status and placement results."""
    return writeoff.list_agencies(engine, today)


@router.post("/agencies", response_model=s.AgencyOut, status_code=201)
def add_agency(body: s.AgencyIn, user: CurrentUserDep, engine: EngineDep, today: TodayDep) -> Any:
    writeoff.add_agency(
        engine,
        body.agency_id,
        body.name,
        body.commission_rate,
        user.username,
        evaluated_on=body.evaluated_on,
    )
    return next(
        a for a in writeoff.list_agencies(engine, today) if a["agency_id"] == body.agency_id
    )


@router.post("/agencies/{agency_id}/evaluations", response_model=s.AgencyOut)
def evaluate_agency(
    agency_id: CaseId,
    body: s.EvaluationIn,
    user: CurrentUserDep,
    engine: EngineDep,
    today: TodayDep,
) -> Any:
    """Record the agency's evaluation (placements need one within 12 months)."""
    _exists(engine, Agency, agency_id, "agency")
    writeoff.evaluate_agency(
        engine, agency_id, user.username, on=body.on or today, notes=body.notes
    )
    return next(a for a in writeoff.list_agencies(engine, today) if a["agency_id"] == agency_id)


@router.post("/cases/{case_id}/placements", response_model=s.PlacementOut, status_code=201)
def place_case(
    case_id: CaseId, body: s.PlacementIn, user: CurrentUserDep, engine: EngineDep, today: TodayDep
) -> Any:
    """Place a case with an agency (refused without a recent evaluation or where the stage does
    not allow agencies)."""
    _case(engine, user, case_id)
    return writeoff.place_case(engine, case_id, body.agency_id, user.username, today=today)


@router.post("/placements/{placement_id}/results", response_model=s.PlacementOut)
def agency_result(
    placement_id: IntId, body: s.AgencyResultIn, user: CurrentUserDep, engine: EngineDep
) -> Any:
    _exists(engine, PlacementRow, placement_id, "placement")
    return writeoff.record_agency_result(
        engine, placement_id, body.recovered, user.username, result=body.result
    )


@router.post("/placements/{placement_id}/recall", response_model=s.PlacementOut)
def recall(
    placement_id: IntId, body: s.RecallIn, user: CurrentUserDep, engine: EngineDep, today: TodayDep
) -> Any:
    _exists(engine, PlacementRow, placement_id, "placement")
    return writeoff.recall_case(
        engine, placement_id, user.username, today=today, result=body.result
    )


# ------------------------------------------------------------------ queues and performance


@router.get("/queues", response_model=list[s.QueueOut])
def queue_volumes(engine: EngineDep) -> Any:
    """Working cases per stage and segment, and how many are unassigned."""
    return queues.queue_volumes(engine)


@router.get("/collectors/performance", response_model=list[s.PerformanceOut])
def collector_performance(
    user: CurrentUserDep,
    engine: EngineDep,
    today: TodayDep,
    from_: Annotated[Day | None, Query(alias="from")] = None,
    to: Day | None = None,
) -> Any:
    """Per collector: attempts, right-party contact rate, promise and kept rates, amount
    collected and quality measures (default: the last 30 days). A collector sees their own."""
    end = to or today
    start = from_ or end - timedelta(days=29)
    if start > end:
        raise HTTPException(422, [{"loc": ["query", "from"], "msg": "from is after to"}])
    rows = performance.collector_performance(engine, start, end)
    if user.role == policy.COLLECTOR:
        rows = [r for r in rows if r["collector"] == user.username]
    return rows
