"""Contact over HTTP: ask the guard, read the effective policy, the message logs and the decision
log, manage templates (list, show, save — content rules checked —, preview with a real loan) and
record opt-outs. Each route is a thin call of `arrears.contact` (service, templates, views); the
route adds who is calling, ownership and 404 for unknown ids."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.exceptions import RequestValidationError

from arrears.api import contact_schemas as s
from arrears.api.deps import (
    CatalogDep,
    CurrentUserDep,
    EngineDep,
    IdPath,
    Limit,
    Offset,
    TodayDep,
    require_borrower_access,
    require_loan_access,
)
from arrears.api.errors import NotFound
from arrears.api.policy import API_PREFIX
from arrears.api.routes.collection import _case
from arrears.contact import service, templates, views
from arrears.contact.content import TemplateRejected

router = APIRouter(prefix=API_PREFIX, tags=["contact"])
NamePath = Annotated[str, Path(pattern=r"^[a-z0-9_\-]{1,64}$")]


def _unprocessable(field: str, message: str) -> RequestValidationError:
    return RequestValidationError([{"loc": ["body", field], "msg": message, "type": "value_error"}])


@router.post("/contact/checks", response_model=s.DecisionOut)
def check(
    body: s.CheckIn, user: CurrentUserDep, engine: EngineDep, catalog: CatalogDep, today: TodayDep
) -> Any:
    """Ask the compliance guard whether the party may be contacted on the channel at the time
    (the answer of `arrears contact check --json`). The decision is logged; nothing is sent."""
    require_borrower_access(engine, catalog, user, body.borrower_id, today)
    try:
        decision = service.check_contact(
            engine,
            body.borrower_id,
            body.channel,
            body.at,
            party=body.party,
            purpose=body.purpose,
            loan_id=body.loan_id,
        )
    except service.ContactRefused as exc:
        raise _unprocessable("party", str(exc)) from None
    return decision.to_dict()


@router.get("/borrowers/{borrower_id}/contact-policy", response_model=s.PolicyOut)
def contact_policy(
    borrower_id: IdPath,
    user: CurrentUserDep,
    engine: EngineDep,
    catalog: CatalogDep,
    today: TodayDep,
) -> Any:
    """The rules that apply to the borrower (every applicable jurisdiction; the strictest wins),
    with their flags and opt-outs."""
    require_borrower_access(engine, catalog, user, borrower_id, today)
    view = views.effective_policy(engine, borrower_id)
    if view is None:
        raise NotFound(f"borrower {borrower_id!r} not found")
    return view


@router.get("/borrowers/{borrower_id}/messages", response_model=list[s.MessageOut])
def borrower_messages(
    borrower_id: IdPath,
    user: CurrentUserDep,
    engine: EngineDep,
    catalog: CatalogDep,
    today: TodayDep,
    limit: Limit = 200,
) -> Any:
    """The borrower's messages, newest first: status, the guard decision that queued each, and
    delivery (sent, delivered, gateway id, last error)."""
    require_borrower_access(engine, catalog, user, borrower_id, today)
    return views.borrower_messages(engine, borrower_id, limit)


@router.get("/cases/{case_id}/messages", response_model=list[s.MessageOut])
def case_messages(
    case_id: IdPath, user: CurrentUserDep, engine: EngineDep, limit: Limit = 200
) -> Any:
    """The messages of a case's borrower (a collector: only on cases assigned to them)."""
    _case(engine, user, case_id)
    return views.case_messages(engine, case_id, limit)


@router.get("/contact/decisions", response_model=s.DecisionPage)
def decisions(
    engine: EngineDep,
    borrower_id: Annotated[str | None, Query(max_length=64)] = None,
    allowed: bool | None = None,
    rule_id: Annotated[str | None, Query(max_length=40, pattern=r"^[A-Za-z0-9_\-]+$")] = None,
    channel: s.Channel | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Any:
    """The guard decision log, newest first, paged (auditors and administrators)."""
    return views.decision_log(
        engine,
        borrower_id=borrower_id,
        allowed=allowed,
        rule_id=rule_id,
        channel=channel,
        limit=limit,
        offset=offset,
    )


@router.get("/contact/templates", response_model=list[s.TemplateOut])
def list_templates(engine: EngineDep) -> Any:
    """The newest version of every template."""
    return views.template_list(engine)


@router.get("/contact/templates/{name}/{language}", response_model=list[s.TemplateOut])
def show_template(name: NamePath, language: s.Language, engine: EngineDep) -> Any:
    """Every version of one template, newest first."""
    versions = views.template_versions(engine, name, language)
    if not versions:
        raise NotFound(f"template {name!r} ({language}) not found (模板不存在)")
    return versions


@router.post("/contact/templates", response_model=s.TemplateSaved, status_code=201)
def save_template(body: s.TemplateIn, user: CurrentUserDep, engine: EngineDep) -> Any:
    """Save a new version. The content rules (threats, insults, false legal claims, the debt in
    a message to a contact person) refuse it with 422 naming the rule and the phrase."""
    try:
        version = templates.save_template(
            engine,
            body.name,
            body.language,
            body.channel,
            body.body,
            by=user.username,
            subject=body.subject or None,
            audience=body.audience,
        )
    except TemplateRejected as exc:
        raise _unprocessable(exc.field, str(exc)) from None
    except templates.TemplateProblem as exc:
        field = str(exc).partition(":")[0]
        raise _unprocessable(field if field in ("body", "subject") else "body", str(exc)) from None
    return {"name": body.name, "language": body.language, "version": version}


@router.get("/contact/templates/{name}/{language}/preview", response_model=s.PreviewOut)
def preview_template(
    name: NamePath,
    language: s.Language,
    user: CurrentUserDep,
    engine: EngineDep,
    catalog: CatalogDep,
    today: TodayDep,
    loan_id: Annotated[str, Query(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f/]+$")],
    version: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> Any:
    """The template rendered with a real loan's figures (its newest close); the caller must be
    allowed to see the loan."""
    require_loan_access(engine, catalog, user, loan_id, today)
    try:
        return templates.preview(engine, name, language, loan_id, version)
    except templates.TemplateProblem as exc:
        if "not found" in str(exc):
            raise NotFound(str(exc)) from None
        raise _unprocessable("template", str(exc)) from None


@router.post("/borrowers/{borrower_id}/opt-outs", response_model=s.OptOutOut, status_code=201)
def opt_out(
    borrower_id: IdPath,
    body: s.OptOutIn,
    user: CurrentUserDep,
    engine: EngineDep,
    catalog: CatalogDep,
    today: TodayDep,
) -> Any:
    """Record the borrower's opt-out of a channel (or `all`): it holds from the next send on."""
    require_borrower_access(engine, catalog, user, borrower_id, today)
    return service.opt_out(engine, borrower_id, body.channel, source="api")
