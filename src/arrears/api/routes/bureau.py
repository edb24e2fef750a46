"""Third-party data through the API: a borrower's credit profile (internal history and the
newest report of each external source) and the log of pulls of their data (docs/bureau.md)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from arrears.api.deps import (
    CatalogDep,
    CurrentUserDep,
    EngineDep,
    IdPath,
    OptionalDay,
    TodayDep,
    require_borrower_access,
)
from arrears.api.policy import API_PREFIX

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
