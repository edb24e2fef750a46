"""Queues and assignment: who works which case.

- A **queue** is the open cases of one stage and segment; `queue_volumes` counts them.
- A **collector** is a user with a profile: capacity (max open cases), skills (stages, segments
  — individual or enterprise —, languages, products), regions, and for an agency's collectors
  the agency. Empty skill lists mean "any".
- `assign_cases` hands unassigned cases, highest priority first, to the eligible collector with
  the lowest load relative to capacity (workload balance). A case placed with an agency goes only
  to that agency's collectors, and in-house collectors never get placed cases.
- `reassign_stale` takes back cases that sat `reassign_after_days` without right-party contact
  and gives them to someone else.
- `next_case` is what a collector presses: first their own cases not yet pulled today, else the
  highest-priority unassigned case they may work. On PostgreSQL the pull is `SELECT … FOR UPDATE
  SKIP LOCKED`, so concurrent collectors never get the same case and never wait on each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Engine, and_, func, or_, select, update
from sqlalchemy.orm import Session

from arrears.collection.cases import case_summary
from arrears.collection.common import CollectionRefused, NotAllowed, actor
from arrears.collection.policy import SEGMENTS, StagePolicy, load_policy
from arrears.store.db import unit_of_work
from arrears.store.events import record_event
from arrears.store.tables import (
    Agency,
    CollectionCase,
    CollectorProfile,
    PlacementRow,
    User,
)

ADMIN_ROLES = ("admin", "risk")
WORKING = ("open", "paused")


def _csv(values: list[str] | tuple[str, ...] | None) -> str:
    return ",".join(v.strip() for v in values or () if v.strip())


def _list(text: str | None) -> list[str]:
    return [v for v in (text or "").split(",") if v]


@dataclass(frozen=True)
class Collector:
    username: str
    max_open_cases: int
    stages: list[str]
    segments: list[str]
    languages: list[str]
    products: list[str]
    regions: list[str]
    agency_id: str | None

    @classmethod
    def of(cls, row: CollectorProfile) -> Collector:
        return cls(
            row.username,
            row.max_open_cases,
            _list(row.stages),
            _list(row.segments),
            _list(row.languages),
            _list(row.products),
            _list(row.regions),
            row.agency_id,
        )

    def can_take(self, case: CollectionCase, placed_with: str | None) -> bool:
        return (
            placed_with == self.agency_id
            and (not self.stages or case.stage in self.stages)
            and (not self.segments or case.segment in self.segments)
            and (not self.languages or case.language in self.languages)
            and (not self.products or case.product in self.products)
            and (not self.regions or case.region in self.regions)
        )

    def to_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


def set_collector(
    engine: Engine,
    username: str,
    by: str,
    *,
    max_open_cases: int,
    stages: list[str] | None = None,
    segments: list[str] | None = None,
    languages: list[str] | None = None,
    products: list[str] | None = None,
    regions: list[str] | None = None,
    agency_id: str | None = None,
    policy: StagePolicy | None = None,
) -> Collector:
    """Create or replace a collector's profile (by an admin or risk manager)."""
    policy = policy or load_policy()
    if max_open_cases < 0:
        raise CollectionRefused(f"max open cases must be ≥ 0, not {max_open_cases} (容量无效)")
    for stage in stages or ():
        policy.rank(stage)
    for segment in segments or ():
        if segment not in SEGMENTS:
            raise CollectionRefused(
                f"segment {segment!r} is not one of {', '.join(SEGMENTS)} (客群无效)"
            )
    with unit_of_work(engine) as session:
        if actor(session, by).role not in ADMIN_ROLES:
            raise NotAllowed(f"{by} may not manage collectors (无权管理催收员)")
        user = session.get(User, username)
        if user is None:
            raise CollectionRefused(f"user {username!r} not found (用户不存在)")
        if agency_id is not None and session.get(Agency, agency_id) is None:
            raise CollectionRefused(f"agency {agency_id!r} not found (委外机构不存在)")
        row = session.get(CollectorProfile, username) or CollectorProfile(username=username)
        row.max_open_cases = max_open_cases
        row.stages, row.segments = _csv(stages), _csv(segments)
        row.languages, row.products, row.regions = _csv(languages), _csv(products), _csv(regions)
        row.agency_id, row.active = agency_id, True
        session.add(row)
        session.flush()
        return Collector.of(row)


def _collectors(session: Session) -> list[Collector]:
    return [
        Collector.of(r)
        for r in session.scalars(
            select(CollectorProfile)
            .where(CollectorProfile.active.is_(True))
            .order_by(CollectorProfile.username)
        )
    ]


def _loads(session: Session) -> dict[str, int]:
    rows = session.execute(
        select(CollectionCase.assigned_to, func.count())
        .where(CollectionCase.status.in_(WORKING), CollectionCase.assigned_to.is_not(None))
        .group_by(CollectionCase.assigned_to)
    )
    return {name: n for name, n in rows}


def _placements(session: Session) -> dict[str, str]:
    """case_id → agency holding it now."""
    return dict(
        session.execute(
            select(PlacementRow.case_id, PlacementRow.agency_id).where(
                PlacementRow.recalled_on.is_(None)
            )
        ).all()
    )


def _assign(
    session: Session, case: CollectionCase, username: str, today: date, by: str, **extra: Any
) -> None:
    case.assigned_to, case.assigned_on = username, today
    record_event(
        session,
        "case.assigned",
        borrower_id=case.borrower_id,
        payload={"case_id": case.case_id, "to": username, "on": today, "by": by, **extra},
    )


def assign_cases(
    engine: Engine, today: date, *, exclude: dict[str, str] | None = None
) -> dict[str, int]:
    """Give every unassigned working case to the least-loaded eligible collector with capacity;
    returns how many each collector got. `exclude` maps case_id → a collector not to pick."""
    exclude = exclude or {}
    given: dict[str, int] = {}
    with unit_of_work(engine) as session:
        collectors = _collectors(session)
        loads = _loads(session)
        placed = _placements(session)
        cases = session.scalars(
            select(CollectionCase)
            .where(CollectionCase.status.in_(WORKING), CollectionCase.assigned_to.is_(None))
            .order_by(CollectionCase.priority.desc(), CollectionCase.case_id)
        ).all()
        for case in cases:
            eligible = [
                c
                for c in collectors
                if loads.get(c.username, 0) < c.max_open_cases
                and exclude.get(case.case_id) != c.username
                and c.can_take(case, placed.get(case.case_id))
            ]
            if not eligible:
                continue
            pick = min(
                eligible, key=lambda c: (loads.get(c.username, 0) / c.max_open_cases, c.username)
            )
            _assign(session, case, pick.username, today, "assignment")
            loads[pick.username] = loads.get(pick.username, 0) + 1
            given[pick.username] = given.get(pick.username, 0) + 1
    return given


def reassign_stale(
    engine: Engine, today: date, policy: StagePolicy | None = None
) -> dict[str, Any]:
    """Take back cases with no right-party contact for `reassign_after_days` (counted from the
    last right-party contact, else from assignment) and assign them to someone else."""
    policy = policy or load_policy()
    cutoff = today - timedelta(days=policy.reassign_after_days)
    taken: dict[str, str] = {}
    with unit_of_work(engine) as session:
        stale = session.scalars(
            select(CollectionCase).where(
                CollectionCase.status.in_(WORKING),
                CollectionCase.assigned_to.is_not(None),
                func.coalesce(CollectionCase.last_rpc_on, CollectionCase.assigned_on) <= cutoff,
            )
        ).all()
        for case in stale:
            taken[case.case_id] = case.assigned_to  # type: ignore[assignment]
            record_event(
                session,
                "case.unassigned",
                borrower_id=case.borrower_id,
                payload={
                    "case_id": case.case_id,
                    "from": case.assigned_to,
                    "on": today,
                    "reason": f"no right-party contact for {policy.reassign_after_days} days",
                },
            )
            case.assigned_to, case.assigned_on = None, None
    given = assign_cases(engine, today, exclude=taken)
    return {"taken_back": len(taken), "reassigned": sum(given.values())}


def _skill_filter(me: Collector):  # -> list of SQL conditions
    c = CollectionCase
    conditions = []
    for column, values in (
        (c.stage, me.stages),
        (c.segment, me.segments),
        (c.language, me.languages),
        (c.product, me.products),
        (c.region, me.regions),
    ):
        if values:
            conditions.append(column.in_(values))
    placed = select(PlacementRow.case_id).where(PlacementRow.recalled_on.is_(None))
    if me.agency_id is None:
        conditions.append(c.case_id.not_in(placed))
    else:
        conditions.append(c.case_id.in_(placed.where(PlacementRow.agency_id == me.agency_id)))
    return conditions


def next_case(engine: Engine, username: str, today: date) -> dict[str, Any] | None:
    """The case `username` should work now, or None when there is nothing for them."""
    c = CollectionCase
    for _attempt in range(20):
        with unit_of_work(engine) as session:
            profile = session.get(CollectorProfile, username)
            if profile is None or not profile.active:
                raise CollectionRefused(f"{username} has no collector profile (非催收员)")
            me = Collector.of(profile)
            mine = session.scalars(
                select(c)
                .where(
                    c.assigned_to == username,
                    c.status.in_(WORKING),
                    or_(c.last_pulled_on.is_(None), c.last_pulled_on < today),
                )
                .order_by(c.priority.desc(), c.case_id)
                .limit(1)
                .with_for_update(skip_locked=True)
            ).first()
            if mine is not None:
                mine.last_pulled_on = today
                return case_summary(mine)
            held = session.scalar(
                select(func.count()).where(c.assigned_to == username, c.status.in_(WORKING))
            )
            if (held or 0) >= me.max_open_cases:
                return None
            candidate = session.scalars(
                select(c)
                .where(c.status == "open", c.assigned_to.is_(None), *_skill_filter(me))
                .order_by(c.priority.desc(), c.case_id)
                .limit(1)
                .with_for_update(skip_locked=True)
            ).first()
            if candidate is None:
                return None
            # The guarded update is what makes SQLite (no row locks) safe too: if another
            # collector took the case between our read and this write, nothing changes.
            taken = session.execute(
                update(c)
                .where(and_(c.case_id == candidate.case_id, c.assigned_to.is_(None)))
                .values(assigned_to=username, assigned_on=today, last_pulled_on=today)
                .execution_options(synchronize_session=False)
            ).rowcount
            if taken != 1:
                session.rollback()
                continue
            session.refresh(candidate)
            record_event(
                session,
                "case.assigned",
                borrower_id=candidate.borrower_id,
                payload={"case_id": candidate.case_id, "to": username, "on": today, "by": "next"},
            )
            return case_summary(candidate)
    raise CollectionRefused("could not take a case after 20 tries; try again (请重试)")


def queue_volumes(engine: Engine) -> list[dict[str, Any]]:
    """Open cases per stage and segment: total, unassigned, overdue amount (minor units by
    currency)."""
    c = CollectionCase
    with unit_of_work(engine) as session:
        rows = session.execute(
            select(
                c.stage,
                c.segment,
                func.count(),
                func.count().filter(c.assigned_to.is_(None)),
            )
            .where(c.status.in_(WORKING))
            .group_by(c.stage, c.segment)
            .order_by(c.stage, c.segment)
        ).all()
    return [
        {"stage": s, "segment": seg, "cases": n, "unassigned": free} for s, seg, n, free in rows
    ]


def list_collectors(engine: Engine) -> list[dict[str, Any]]:
    with unit_of_work(engine) as session:
        loads = _loads(session)
        return [
            c.to_dict() | {"open_cases": loads.get(c.username, 0)} for c in _collectors(session)
        ]
