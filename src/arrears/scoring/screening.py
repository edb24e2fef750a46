"""Admission's look-ups before the decision: the internal blacklist and the judicial enforcement
list, for borrowers and for applicants who are not borrowers yet.

- **Internal blacklist** (`blacklist`): the application's national id and phone, and — when it
  names a `borrower_id` — the borrower's own national id and phone on file. A national-id hit sets
  `blacklist` (hard rule: decline); a phone-only hit sets `blacklist_phone` (refer).
- **Enforcement list** (失信被执行人): the newest `enforcement` report pulled for the party
  (`borrower:<id>`, or `applicant:<national id>`; see `arrears.bureau.party`) — `listed: true`
  sets `enforcement_listed`. An application is never pulled here: pulling needs the applicant's
  consent and is its own step (`POST /api/v1/parties/pulls`, `arrears bureau pull`).

An application never looks better for being screened: flags are only ever set."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from sqlalchemy import Engine, select

from arrears.bureau.party import applicant, borrower
from arrears.scoring import blacklist
from arrears.scoring.admission import Application
from arrears.store.db import unit_of_work
from arrears.store.tables import Borrower, BureauReport


def _party_key(app: Application) -> str | None:
    if app.borrower_id:
        return borrower(app.borrower_id).key
    if app.national_id:
        return applicant(app.national_id).key
    return None


def screen(engine: Engine, apps: Sequence[Application]) -> list[Application]:
    """`apps` with the blacklist and the enforcement list consulted (one query per table)."""
    borrower_ids = sorted({a.borrower_id for a in apps if a.borrower_id})
    keys = sorted({k for a in apps if (k := _party_key(a))})
    on_file: dict[str, tuple[str | None, str | None]] = {}
    listed: dict[str, bool] = {}
    with unit_of_work(engine) as session:
        for start in range(0, len(borrower_ids), 500):
            chunk = borrower_ids[start : start + 500]
            for bid, nid, phone in session.execute(
                select(Borrower.borrower_id, Borrower.national_id, Borrower.phone).where(
                    Borrower.borrower_id.in_(chunk)
                )
            ):
                on_file[bid] = (nid, phone)
        for start in range(0, len(keys), 500):
            rows = session.execute(
                select(BureauReport.party, BureauReport.data)
                .where(
                    BureauReport.party.in_(keys[start : start + 500]),
                    BureauReport.source == "enforcement",
                )
                .order_by(BureauReport.fetched_at, BureauReport.id)
            )
            for party, data in rows:
                listed[party] = bool((data or {}).get("listed"))  # the newest report wins

    def identities(app: Application) -> tuple[list[str | None], list[str | None]]:
        nid, phone = on_file.get(app.borrower_id or "", (None, None))
        return [app.national_id, nid], [app.phone, phone]

    all_nids = [n for a in apps for n in identities(a)[0]]
    all_phones = [p for a in apps for p in identities(a)[1]]
    hits = blacklist.lookup(engine, all_nids, all_phones)
    out = []
    for app in apps:
        nids, phones = identities(app)
        nid_hit = any(_norm(blacklist.normal_national_id, n) in hits.national_ids for n in nids)
        phone_hit = any(_norm(blacklist.normal_phone, p) in hits.phones for p in phones)
        key = _party_key(app)
        out.append(
            replace(
                app,
                blacklist=app.blacklist or nid_hit,
                blacklist_phone=app.blacklist_phone or (phone_hit and not nid_hit),
                enforcement_listed=app.enforcement_listed or bool(key and listed.get(key)),
            )
        )
    return out


def _norm(normal, value):  # type: ignore[no-untyped-def]
    try:
        return normal(value)
    except blacklist.BlacklistError:
        return None
