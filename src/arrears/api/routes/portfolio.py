"""Portfolio figures for a closed business date (the `arrears portfolio` document)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from arrears.api.deps import CatalogDep, EngineDep, OptionalDay, TodayDep
from arrears.api.policy import API_PREFIX
from arrears.api.schemas import PortfolioOut
from arrears.reports.summary import build_portfolio, portfolio_json

router = APIRouter(prefix=f"{API_PREFIX}/portfolio", tags=["portfolio"])


@router.get("", response_model=PortfolioOut)
def get_portfolio(
    engine: EngineDep,
    catalog: CatalogDep,
    today: TodayDep,
    as_of: OptionalDay = None,
    currency: Annotated[str | None, Query(pattern=r"^[A-Z]{3}$")] = None,
    include_restructured: bool = True,
) -> dict[str, Any]:
    """Buckets, classes, stages, PAR30/90 and NPL on `as_of` (default today); 404 when the close
    of business has not run for that date."""
    p = build_portfolio(
        engine,
        catalog,
        as_of or today,
        currency=currency,
        include_restructured=include_restructured,
    )
    return portfolio_json(p)
