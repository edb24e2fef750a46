"""The lender's verbs on third-party data: `record_consent`, `revoke_consent`, `pull_report`,
and the reads `pull_log` and `latest_reports`.

A pull checks consent first — with no recorded, unexpired, unrevoked consent for the purpose
and source it is refused and nothing is fetched, not even from the cache. Then a report younger
than its time-to-live is served from `bureau_reports`; otherwise the source is called *outside*
any transaction (a slow bureau must not hold database locks) and the answer is stored in a
second unit of work. Every attempt, whatever its outcome, leaves a `bureau_pulls` row (who,
why, when, source, outcome); a report whose content differs from the previous one of that
source is a `credit_data.changed` event, in the same transaction as the report.

Every verb is about a **party** (`party.Party`): a borrower (a borrower id, as before) or an
applicant known by national id and name, who can consent and be pulled before any loan exists.
Consents, the cache and the log key on the party."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from arrears.bureau.party import Party, borrower
from arrears.bureau.sources import (
    SOURCES,
    BureauError,
    CircuitOpen,
    ConsentMissing,
    Source,
    UnknownSubject,
    check_purpose,
    check_source,
)
from arrears.store.db import unit_of_work
from arrears.store.events import record_event
from arrears.store.tables import Borrower, BureauConsent, BureauPull, BureauReport

OUTCOMES = ("fetched", "cached", "refused", "failed", "circuit_open", "no_record")
# `refresh_source` also counts "changed": fetched, and different from the previous report.


class UnknownBorrower(BureauError):
    def __init__(self, borrower_id: str) -> None:
        super().__init__(f"borrower {borrower_id!r} not found / 借款人不存在")


PartyLike = str | Party  # a bare string is a borrower id


def as_party(who: PartyLike) -> Party:
    return who if isinstance(who, Party) else borrower(who)


@dataclass(frozen=True)
class PullResult:
    borrower_id: str | None
    source: str
    outcome: str  # fetched | cached
    report_id: int
    fetched_at: datetime
    expires_at: datetime
    data: dict[str, Any]
    changed: bool  # a fetched report that differs from the previous one of its source
    party: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "party": self.party,
            "borrower_id": self.borrower_id,
            "source": self.source,
            "outcome": self.outcome,
            "report_id": self.report_id,
            "fetched_at": self.fetched_at.isoformat(),
            "expires_at": self.expires_at.isoformat(),
            "changed": self.changed,
            "data": self.data,
        }


def digest(data: dict[str, Any]) -> str:
    """The SHA-256 of the report's canonical JSON: equal reports, equal digests."""
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC)


def _require_party(session: Session, party: Party) -> None:
    if party.kind == "borrower" and session.get(Borrower, party.borrower_id) is None:
        raise UnknownBorrower(party.borrower_id or "")


# ------------------------------------------------------------------ consent


def record_consent(
    engine: Engine,
    who: PartyLike,
    purpose: str,
    granted_by: str,
    *,
    sources: list[str] | None = None,
    days: int = 365,
    evidence: str | None = None,
    now: datetime | None = None,
) -> BureauConsent:
    """Record the party's consent to query `sources` (default: all) for `purpose`."""
    party = as_party(who)
    check_purpose(purpose)
    names = [check_source(s) for s in (sources or list(SOURCES))]
    if days < 1:
        raise ValueError("a consent must last at least one day / 授权期限至少一天")
    at = _now(now)
    with unit_of_work(engine) as session:
        _require_party(session, party)
        row = BureauConsent(
            party=party.key,
            borrower_id=party.borrower_id,
            national_id=party.national_id,
            name=party.name,
            purpose=purpose,
            sources=",".join(names),
            granted_by=granted_by,
            granted_at=at,
            expires_at=at + timedelta(days=days),
            evidence=evidence,
        )
        session.add(row)
        session.flush()
        record_event(
            session,
            "credit_data.consent_recorded",
            borrower_id=party.borrower_id,
            payload={
                "consent_id": row.id,
                "party": party.key,
                "purpose": purpose,
                "sources": names,
                "granted_by": granted_by,
                "expires_at": row.expires_at,
            },
        )
    return row


def revoke_consent(
    engine: Engine, consent_id: int, revoked_by: str, *, now: datetime | None = None
) -> BureauConsent:
    at = _now(now)
    with unit_of_work(engine) as session:
        row = session.get(BureauConsent, consent_id)
        if row is None:
            raise BureauError(f"consent {consent_id} not found / 授权记录不存在")
        if row.revoked_at is None:
            row.revoked_at = at
            record_event(
                session,
                "credit_data.consent_revoked",
                borrower_id=row.borrower_id,
                payload={"consent_id": consent_id, "party": row.party, "revoked_by": revoked_by},
            )
    return row


def active_consent(
    session: Session, party: str, purpose: str, source: str, at: datetime
) -> BureauConsent | None:
    """The newest consent of `party` (its key) that covers this pull at time `at`, if any."""
    rows = session.scalars(
        select(BureauConsent)
        .where(
            BureauConsent.party == party,
            BureauConsent.purpose == purpose,
            BureauConsent.revoked_at.is_(None),
            BureauConsent.expires_at > at,
            BureauConsent.granted_at <= at,
        )
        .order_by(BureauConsent.granted_at.desc(), BureauConsent.id.desc())
    )
    return next((r for r in rows if source in r.sources.split(",")), None)


# ------------------------------------------------------------------ pulls


def _log(
    session: Session,
    *,
    party: str,
    borrower_id: str | None,
    source: str,
    purpose: str,
    requested_by: str,
    at: datetime,
    outcome: str,
    attempts: int = 0,
    seconds: float | None = None,
    consent_id: int | None = None,
    report_id: int | None = None,
    error: str | None = None,
) -> None:
    session.add(
        BureauPull(
            party=party,
            borrower_id=borrower_id,
            source=source,
            purpose=purpose,
            requested_by=requested_by,
            requested_at=at,
            outcome=outcome,
            attempts=attempts,
            seconds=seconds,
            consent_id=consent_id,
            report_id=report_id,
            error=error,
        )
    )


def _latest_report(session: Session, party: str, source: str) -> BureauReport | None:
    return session.scalars(
        select(BureauReport)
        .where(BureauReport.party == party, BureauReport.source == source)
        .order_by(BureauReport.fetched_at.desc(), BureauReport.id.desc())
        .limit(1)
    ).first()


def pull_report(
    engine: Engine,
    source: Source,
    who: PartyLike,
    *,
    purpose: str,
    requested_by: str,
    ttl_s: int = 86_400,
    force: bool = False,
    now: datetime | None = None,
) -> PullResult:
    """The party's report from `source`, from the cache when fresh (unless `force`).

    Raises `ConsentMissing` (nothing fetched), `UnknownBorrower`, `UnknownSubject`,
    `SourceUnavailable` or `CircuitOpen`; each is logged as a pull before it is raised."""
    party = as_party(who)
    borrower_id, key = party.borrower_id, party.key
    check_purpose(purpose)
    name = check_source(source.name)
    at = _now(now)
    logged = {
        "party": key,
        "borrower_id": borrower_id,
        "source": name,
        "purpose": purpose,
        "requested_by": requested_by,
    }
    refusal: BureauError | None = None
    with unit_of_work(engine) as session:
        _require_party(session, party)
        consent = active_consent(session, key, purpose, name, at)
        if consent is None:
            en, zh = SOURCES[name]
            refusal = ConsentMissing(
                f"no consent from {key} for {purpose} covering the {en}: not pulled / "
                f"{key} 未授权以该用途查询{zh}，未查询"
            )
            _log(session, **logged, at=at, outcome="refused", error=str(refusal))
        elif not force:
            cached = _latest_report(session, key, name)
            if cached is not None and cached.expires_at > at:
                _log(
                    session,
                    **logged,
                    at=at,
                    outcome="cached",
                    consent_id=consent.id,
                    report_id=cached.id,
                )
                return PullResult(
                    borrower_id,
                    name,
                    "cached",
                    cached.id,
                    cached.fetched_at,
                    cached.expires_at,
                    cached.data,
                    False,
                    key,
                )
        consent_id = consent.id if consent is not None else None
    if refusal is not None:
        raise refusal

    started = time.perf_counter()
    try:
        data = source.fetch(party.subject)
    except BureauError as exc:
        outcome = (
            "circuit_open"
            if isinstance(exc, CircuitOpen)
            else "no_record"
            if isinstance(exc, UnknownSubject)
            else "failed"
        )
        with unit_of_work(engine) as session:
            _log(
                session,
                **logged,
                at=at,
                outcome=outcome,
                attempts=source.last_attempts,
                seconds=round(time.perf_counter() - started, 4),
                consent_id=consent_id,
                error=str(exc),
            )
        raise
    seconds = round(time.perf_counter() - started, 4)
    fetched_at = _now(now)
    new_digest = digest(data)
    with unit_of_work(engine) as session:
        previous = _latest_report(session, key, name)
        report = BureauReport(
            party=key,
            borrower_id=borrower_id,
            source=name,
            fetched_at=fetched_at,
            expires_at=fetched_at + timedelta(seconds=ttl_s),
            digest=new_digest,
            data=data,
        )
        session.add(report)
        session.flush()
        _log(
            session,
            **logged,
            at=at,
            outcome="fetched",
            attempts=source.last_attempts,
            seconds=seconds,
            consent_id=consent_id,
            report_id=report.id,
        )
        changed = previous is None or previous.digest != new_digest
        if changed:
            record_event(
                session,
                "credit_data.changed",
                borrower_id=borrower_id,
                payload={
                    "party": key,
                    "source": name,
                    "report_id": report.id,
                    "digest": new_digest,
                    "previous_digest": previous.digest if previous else None,
                    "fields_changed": sorted(
                        k
                        for k in set(data) | set(previous.data if previous else {})
                        if (previous.data if previous else {}).get(k) != data.get(k)
                    ),
                    "requested_by": requested_by,
                    "purpose": purpose,
                },
            )
    return PullResult(
        borrower_id, name, "fetched", report.id, fetched_at, report.expires_at, data, changed, key
    )


def pull_log(
    engine: Engine, who: PartyLike | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """The party's pulls (everyone's when `who` is None), newest first."""
    query = select(BureauPull)
    if who is not None:
        query = query.where(BureauPull.party == as_party(who).key)
    with unit_of_work(engine) as session:
        rows = session.scalars(
            query.order_by(BureauPull.requested_at.desc(), BureauPull.id.desc()).limit(limit)
        )
        return [
            {
                "id": r.id,
                "party": r.party,
                "borrower_id": r.borrower_id,
                "source": r.source,
                "purpose": r.purpose,
                "requested_by": r.requested_by,
                "requested_at": r.requested_at.isoformat(),
                "outcome": r.outcome,
                "attempts": r.attempts,
                "seconds": r.seconds,
                "report_id": r.report_id,
                "error": r.error,
            }
            for r in rows
        ]


def latest_reports(
    session: Session, borrower_ids: list[str]
) -> dict[tuple[str, str], BureauReport]:
    """The newest report per (borrower, source) for these borrowers (expired ones included:
    the profile marks them stale)."""
    out: dict[tuple[str, str], BureauReport] = {}
    if not borrower_ids:
        return out
    for chunk_start in range(0, len(borrower_ids), 500):
        chunk = borrower_ids[chunk_start : chunk_start + 500]
        rows = session.scalars(
            select(BureauReport)
            .where(BureauReport.borrower_id.in_(chunk))
            .order_by(BureauReport.fetched_at, BureauReport.id)
        )
        for row in rows:
            out[(row.borrower_id, row.source)] = row  # later rows replace earlier ones
    return out


def consented_borrowers(
    engine: Engine, purpose: str, source: str, *, now: datetime | None = None
) -> list[str]:
    """Borrowers with a consent in force covering `purpose` and `source`, by id."""
    at = _now(now)
    with unit_of_work(engine) as session:
        rows = session.execute(
            select(BureauConsent.borrower_id, BureauConsent.sources).where(
                BureauConsent.borrower_id.is_not(None),
                BureauConsent.purpose == purpose,
                BureauConsent.revoked_at.is_(None),
                BureauConsent.expires_at > at,
                BureauConsent.granted_at <= at,
            )
        )
        return sorted({b for b, sources in rows if source in sources.split(",")})


def refresh_source(
    engine: Engine,
    source: Source,
    *,
    purpose: str,
    requested_by: str,
    ttl_s: int = 86_400,
    borrower_ids: list[str] | None = None,
    now: datetime | None = None,
    on_pull: Callable[[str, str], None] | None = None,
) -> dict[str, int]:
    """Pull `source` for every consented borrower (or `borrower_ids`), e.g. the enforcement list
    for the whole book in post-loan monitoring. A failure of one pull does not stop the run;
    once the circuit opens the rest are refused at once (and logged). Returns the count of
    each outcome; `on_pull(borrower_id, outcome)` is called after each pull."""
    check_purpose(purpose)
    ids = (
        borrower_ids
        if borrower_ids is not None
        else consented_borrowers(engine, purpose, source.name, now=now)
    )
    counts: dict[str, int] = {}
    for borrower_id in ids:
        try:
            result = pull_report(
                engine, source, borrower_id, purpose=purpose, requested_by=requested_by,
                ttl_s=ttl_s, now=now,
            )  # fmt: skip
            outcome = "changed" if result.changed else result.outcome
        except ConsentMissing:
            outcome = "refused"
        except CircuitOpen:
            outcome = "circuit_open"
        except UnknownSubject:
            outcome = "no_record"
        except BureauError:
            outcome = "failed"
        counts[outcome] = counts.get(outcome, 0) + 1
        if on_pull is not None:
            on_pull(borrower_id, outcome)
    return counts
