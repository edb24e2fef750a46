"""The personal-data access log, newest first (auditors and admins)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy import func, select

from arrears.api.deps import EngineDep, Limit, Offset
from arrears.api.policy import API_PREFIX
from arrears.api.schemas import AccessLogOut, Page
from arrears.store.db import unit_of_work
from arrears.store.tables import AccessLog

router = APIRouter(prefix=f"{API_PREFIX}/access-log", tags=["access log"])
FIELDS = tuple(AccessLogOut.model_fields)
Filter = Annotated[str | None, Query(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f]+$")]


@router.get("", response_model=Page[AccessLogOut])
def list_access(
    engine: EngineDep,
    username: Filter = None,
    borrower_id: Filter = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> dict[str, Any]:
    query = select(AccessLog)
    if username is not None:
        query = query.where(AccessLog.username == username)
    if borrower_id is not None:
        query = query.where(AccessLog.borrower_id == borrower_id)
    with unit_of_work(engine) as session:
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = session.scalars(query.order_by(AccessLog.id.desc()).offset(offset).limit(limit))
        items = [{name: getattr(row, name) for name in FIELDS} for row in rows]
    return {"items": items, "total": total, "offset": offset, "limit": limit}
