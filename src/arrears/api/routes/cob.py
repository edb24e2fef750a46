"""Close-of-business runs: start one for a date (synchronously, one at a time per process) and
read the history."""

from __future__ import annotations

import threading
from typing import Any

from fastapi import APIRouter
from sqlalchemy import func, select

from arrears.api.deps import CatalogDep, EngineDep, Limit, Offset, SettingsDep, TodayDep
from arrears.api.errors import Conflict, NotFound
from arrears.api.policy import API_PREFIX
from arrears.api.schemas import CobRunIn, CobRunOut, Page
from arrears.cob.runner import close_business
from arrears.store.db import unit_of_work
from arrears.store.tables import CobRun

router = APIRouter(prefix=f"{API_PREFIX}/cob/runs", tags=["close of business"])
_running = threading.Lock()
FIELDS = tuple(CobRunOut.model_fields)


def _out(row: CobRun) -> dict[str, Any]:
    return {name: getattr(row, name) for name in FIELDS}


@router.post("", status_code=201, response_model=CobRunOut)
def start_run(
    body: CobRunIn, engine: EngineDep, catalog: CatalogDep, settings: SettingsDep, today: TodayDep
) -> dict[str, Any]:
    """Close the business day `as_of` (default today) for the whole book and answer the finished
    run. A future date, or a run while another is going in this server, is a 409."""
    as_of = body.as_of or today
    if as_of > today:
        raise Conflict(f"cannot close {as_of}: it is after the business date {today}")
    if not _running.acquire(blocking=False):
        raise Conflict("a close of business is already running; try again when it ends")
    try:
        result = close_business(engine, catalog, as_of, settings.data_dir)
    finally:
        _running.release()
    return get_run(result.run_id, engine)


@router.get("", response_model=Page[CobRunOut])
def list_runs(engine: EngineDep, offset: Offset = 0, limit: Limit = 50) -> dict[str, Any]:
    """Runs, newest first."""
    with unit_of_work(engine) as session:
        total = session.scalar(select(func.count()).select_from(CobRun)) or 0
        rows = session.scalars(
            select(CobRun).order_by(CobRun.run_id.desc()).offset(offset).limit(limit)
        )
        items = [_out(row) for row in rows]
    return {"items": items, "total": total, "offset": offset, "limit": limit}


@router.get("/{run_id}", response_model=CobRunOut)
def get_run(run_id: int, engine: EngineDep) -> dict[str, Any]:
    with unit_of_work(engine) as session:
        row = session.get(CobRun, run_id) if 0 < run_id < 2**31 else None
        if row is None:
            raise NotFound(f"COB run {run_id} not found")
        return _out(row)
