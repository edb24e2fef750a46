"""Third-party data through the API: a borrower's credit profile (internal history and the
newest report of each external source), consents, pulls (of a borrower, or of an applicant who
is not a borrower yet) and the log of pulls (docs/bureau.md)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, model_validator

from arrears.api.deps import (
    CatalogDep,
    CurrentUserDep,
    EngineDep,
    IdPath,
    Limit,
    OptionalDay,
    TodayDep,
    require_borrower_access,
)
from arrears.api.errors import Conflict, NotFound
from arrears.api.personal import mask
from arrears.api.policy import API_PREFIX
from arrears.bureau.sources import PURPOSES, SOURCES

router = APIRouter(prefix=f"{API_PREFIX}/borrowers", tags=["third-party data"])


@router.get("/{borrower_id}/credit-profile")
def get_credit_profile(
    borrower_id: IdPath,
    user: CurrentUserDep,
    engine: EngineDep,
    catalog: CatalogDep,
    today: TodayDep,
    as_of: OptionalDay = None,
) -> dict[str, Any]:
    """The credit profile on `as_of` (default today): `features` (amounts in minor units) and,
    per external source, when its newest report was fetched and whether it is stale. 信用画像。"""
    from arrears.bureau.profile import credit_profile

    require_borrower_access(engine, catalog, user, borrower_id, today)
    return credit_profile(engine, borrower_id, as_of or today)


@router.get("/{borrower_id}/bureau-pulls")
def get_bureau_pulls(
    borrower_id: IdPath,
    user: CurrentUserDep,
    engine: EngineDep,
    catalog: CatalogDep,
    today: TodayDep,
) -> list[dict[str, Any]]:
    """Every pull of the borrower's external data, newest first: who, why, when, outcome.
    查询记录。"""
    from arrears.bureau.service import pull_log

    require_borrower_access(engine, catalog, user, borrower_id, today)
    return pull_log(engine, borrower_id, limit=500)


# ------------------------------------------------------------------ consents and pulls
# A party is a borrower (`borrower_id`) or an applicant not yet a borrower (`national_id` and
# `name`): admission pulls before any loan exists. Consent first, or the pull is a 409.

pulls_router = APIRouter(prefix=f"{API_PREFIX}/bureau", tags=["third-party data"])

_SOURCE_NAMES = tuple(SOURCES)
_PURPOSE_NAMES = tuple(PURPOSES)
SourceName = Literal[_SOURCE_NAMES]  # type: ignore[valid-type]
PurposeName = Literal[_PURPOSE_NAMES]  # type: ignore[valid-type]


class PartyIn(BaseModel):
    """Who the data is about: `borrower_id`, or `national_id` with `name` (an applicant)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    borrower_id: str | None = Field(None, min_length=1, max_length=64, pattern=r"^[^\x00-\x1f/]+$")
    national_id: str | None = Field(None, pattern=r"^[0-9A-Za-z-]{4,64}$")
    name: str | None = Field(None, min_length=1, max_length=200, pattern=r"^[^\x00-\x1f]+$")

    @model_validator(mode="after")
    def _one_party(self) -> PartyIn:
        if (self.borrower_id is None) == (self.national_id is None):
            raise ValueError(
                "give borrower_id, or national_id and name (an applicant) — one of the two / "
                "须提供借款人编号，或申请人证件号码及姓名，二者择一"
            )
        if self.national_id is not None and self.name is None:
            raise ValueError("an applicant needs a name with the national id / 申请人须填写姓名")
        return self

    def party(self):  # -> Party
        from arrears.bureau.party import applicant, borrower

        if self.borrower_id is not None:
            return borrower(self.borrower_id)
        return applicant(self.national_id or "", self.name)


class ConsentIn(PartyIn):
    purpose: PurposeName  # type: ignore[valid-type]
    sources: list[SourceName] | None = Field(None, min_length=1)  # type: ignore[valid-type]
    days: int | None = Field(
        None, ge=1, le=3650, description="Default ARREARS_BUREAU_CONSENT_DAYS."
    )
    evidence: str | None = Field(None, max_length=500, description="The signed form's reference.")


class PullIn(PartyIn):
    source: SourceName  # type: ignore[valid-type]
    purpose: PurposeName  # type: ignore[valid-type]
    force: bool = Field(False, description="Fetch even when a fresh report is cached.")


def _consent_json(row: Any) -> dict[str, Any]:
    return {
        "consent_id": row.id,
        "party": row.party,
        "borrower_id": row.borrower_id,
        "national_id": row.national_id,
        "name": row.name,
        "purpose": row.purpose,
        "sources": row.sources.split(","),
        "granted_by": row.granted_by,
        "granted_at": row.granted_at.isoformat(),
        "expires_at": row.expires_at.isoformat(),
        "revoked_at": None if row.revoked_at is None else row.revoked_at.isoformat(),
    }


def _bureau_sources(request: Request) -> dict[str, Any]:
    """The app's adapters (`app.state.bureau_sources`, made once from the environment: they
    share one connection pool and the process's circuit breakers)."""
    sources = getattr(request.app.state, "bureau_sources", None)
    if sources is None:
        from arrears.bureau.client import http_sources
        from arrears.bureau.settings import BureauSettings

        sources = request.app.state.bureau_sources = http_sources(BureauSettings.from_env())
    return sources


@pulls_router.post("/consents", status_code=201)
def post_consent(body: ConsentIn, user: CurrentUserDep, engine: EngineDep) -> dict[str, Any]:
    """Record a borrower's or an applicant's consent to query external data for a purpose
    (404 unknown borrower). 记录征信查询授权。"""
    from arrears.bureau.service import UnknownBorrower, record_consent
    from arrears.bureau.settings import BureauSettings

    try:
        row = record_consent(
            engine, body.party(), body.purpose, f"api:{user.username}",
            sources=list(body.sources) if body.sources else None,
            days=body.days or BureauSettings.from_env().consent_days, evidence=body.evidence,
        )  # fmt: skip
    except UnknownBorrower as exc:
        raise NotFound(str(exc)) from None
    return _consent_json(row)


@pulls_router.post("/consents/{consent_id}/revoke")
def revoke_consent_route(
    consent_id: Annotated[int, PathParam(ge=1, le=2**31 - 1)],
    user: CurrentUserDep,
    engine: EngineDep,
) -> dict[str, Any]:
    """Revoke a consent: no further pull under it (404 unknown id). 撤销授权。"""
    from arrears.bureau.service import revoke_consent
    from arrears.bureau.sources import BureauError

    try:
        row = revoke_consent(engine, consent_id, f"api:{user.username}")
    except BureauError as exc:
        raise NotFound(str(exc)) from None
    return _consent_json(row)


@pulls_router.post("/pulls")
def post_pull(
    body: PullIn, request: Request, user: CurrentUserDep, engine: EngineDep
) -> dict[str, Any]:
    """Pull one source for the party: from the cache while fresh, else from the source. 409
    when no consent covers the purpose and source (nothing is fetched), 404 unknown borrower
    or no record at the source, 503 source unavailable or circuit open. 查询外部数据。"""
    from arrears.bureau.service import UnknownBorrower, pull_report
    from arrears.bureau.settings import BureauSettings
    from arrears.bureau.sources import ConsentMissing, SourceUnavailable, UnknownSubject

    party = body.party()
    source = _bureau_sources(request)[body.source]
    try:
        result = pull_report(
            engine, source, party, purpose=body.purpose, requested_by=f"api:{user.username}",
            ttl_s=BureauSettings.from_env().ttl_s, force=body.force,
        )  # fmt: skip
    except ConsentMissing as exc:
        raise Conflict(str(exc)) from None
    except (UnknownBorrower, UnknownSubject) as exc:
        raise NotFound(str(exc)) from None
    except SourceUnavailable as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc)) from None
    return result.as_json()


@pulls_router.get("/pulls")
def get_pulls(
    engine: EngineDep,
    borrower_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    national_id: Annotated[str | None, Query(pattern=r"^[0-9A-Za-z-]{4,64}$")] = None,
    limit: Limit = 100,
) -> list[dict[str, Any]]:
    """The pull log, newest first: of one party (`borrower_id`, or an applicant's
    `national_id`), or of everyone. 查询记录。"""
    from arrears.bureau.party import applicant, borrower
    from arrears.bureau.service import pull_log

    if borrower_id is not None and national_id is not None:
        raise RequestValidationError(
            [{"loc": ("query", "national_id"), "msg": "give borrower_id or national_id, not both",
              "type": "value_error"}]
        )  # fmt: skip
    who = (
        borrower(borrower_id)
        if borrower_id is not None
        else applicant(national_id)
        if national_id is not None
        else None
    )
    return [_masked_party(row) for row in pull_log(engine, who, limit=limit)]


def _masked_party(row: dict[str, Any]) -> dict[str, Any]:
    """A pull-log row with an applicant's national id masked (`applicant:**************1234`).
    The log is a list of many people: whoever needs one applicant's rows asks by the national id
    they already hold, and the listing itself discloses no one's id (nothing unmasked is read,
    so nothing goes to the access log)."""
    kind, _, key = str(row["party"]).partition(":")
    if kind != "applicant" or not key:
        return row
    hidden = mask(key) or ""
    # the party appears in the row's other texts too (a refusal names whom it refused)
    return {k: v.replace(key, hidden) if isinstance(v, str) else v for k, v in row.items()}
